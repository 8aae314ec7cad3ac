"""Writing a profile for a new recorder model: checks that tell the truth, and nothing
dropped without a word."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import yaml

from avledger.config import profiles
from tests.recorder_tools import make_recorder

GENERIC = Path(profiles.__file__).resolve().parent.parent / "data" / "profiles" / "generic.yaml"


def _new_model(home: Path, name: str, **changes: dict) -> Path:  # type: ignore[type-arg]
    """A profile for a new model, written as an administrator would: from the generic one."""
    doc = yaml.safe_load(GENERIC.read_text())
    doc["name"] = name
    doc["match"] = {"marker": f"{name.upper()}.TXT"}
    for section, values in changes.items():
        doc.setdefault(section, {}).update(values)
    (home / "profiles").mkdir(exist_ok=True)
    path = home / "profiles" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


def test_config_check_and_profile_check_report_an_invalid_profile(  # type: ignore[no-untyped-def]
        home: Path, cli) -> None:
    assert cli("config", "check").returncode == 0
    path = _new_model(home, "newcam", clips={"time_format": "YYYYMMDD", "globs": []})
    out = cli("config", "check")
    assert out.returncode == 3, out.stdout
    assert "newcam.yaml" in out.stderr and "clips.time_format" in out.stderr
    assert "config OK" not in out.stdout
    assert f"avledger profile check {path}" in cli("profile", "list").stderr
    one = cli("profile", "check", str(path))
    assert one.returncode == 3
    assert "clips.globs" in one.stderr and "clips.time_format" in one.stderr
    path.unlink()
    good = _new_model(home, "goodcam")
    ok = cli("profile", "check", str(good), "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["name"] == "goodcam"
    listed = cli("config", "check", "--json")
    assert listed.returncode == 0 and "goodcam" in json.loads(listed.stdout)["profiles"]


def test_clock_zone_and_firmware_of_a_new_model(  # type: ignore[no-untyped-def]
        home: Path, tmp_path: Path, cli) -> None:
    _new_model(home, "utccam", clock={"read": {"method": "file", "path": "CLOCK.TXT",
                                               "format": "%Y-%m-%d %H:%M:%S",
                                               "timezone": "UTC"}},
               identity={"file": "DEVICE.TXT", "format": "keyvalue",
                         "fields": {"serial": "SERIAL", "firmware": "FW"}})
    rec = tmp_path / "rec"
    make_recorder(rec, clips=1, size=20_000, serial="UTC0001")
    (rec / "UTCCAM.TXT").write_text("")
    with open(rec / "DEVICE.TXT", "a") as fh:
        fh.write("FW=2.4.1\n")
    # The recorder tells its time in UTC, its clip names in Shanghai time.
    docked = datetime.now(UTC).replace(microsecond=0)
    (rec / "CLOCK.TXT").write_text(docked.strftime("%Y-%m-%d %H:%M:%S\n"))
    checked = json.loads(cli("profile", "check", str(rec), "--profile", "utccam",
                             "--json").stdout)
    assert checked["identity"]["firmware"] == "2.4.1"
    # a folder has no docking moment of its own: say when it was docked
    out = cli("ingest", str(rec), "--profile", "utccam", "--docked-at", docked.isoformat(),
              "--json")
    assert out.returncode == 0, out.stderr
    drift = json.loads(out.stdout)["clock"]["drift_seconds"]
    assert abs(drift) < 600, f"clock file read in the clips' zone: drift {drift} s"


def test_media_files_no_glob_matches_are_listed(  # type: ignore[no-untyped-def]
        home: Path, tmp_path: Path, cli) -> None:
    _new_model(home, "upper", clips={"globs": ["DCIM/*/*.MP4"]})
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=20_000, serial="UP0001")
    (rec / "UPPER.TXT").write_text("")
    folder = next(p for p in (rec / "DCIM").iterdir() if p.is_dir())
    (folder / "20261127_083015_0009.mp4").write_bytes(b"\0" * 4000)  # lower-case extension
    (rec / "20261127_090000_0010.MP4").write_bytes(b"\0" * 4000)  # outside the date folders
    (folder / "RECOVER01").write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 4000)  # MP4 by its bytes
    (rec / "LOG.TXT").write_text("not media\n" * 200)
    expected = ["20261127_090000_0010.MP4", f"DCIM/{folder.name}/20261127_083015_0009.mp4",
                f"DCIM/{folder.name}/RECOVER01"]
    checked = json.loads(cli("profile", "check", str(rec), "--profile", "upper",
                             "--json").stdout)
    assert checked["left_out"] == expected and len(checked["clips"]) == 2
    out = cli("ingest", str(rec), "--profile", "upper", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["left_out"] == expected
    text = cli("ingest", str(rec), "--profile", "upper")
    assert "3 media file(s) not matched by profile upper's clips.globs" in text.stdout
