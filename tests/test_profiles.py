"""Device profiles: shipped ones load, bad ones are reported with file and key, matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from avledger.config import loader, profiles
from avledger.config.profiles import Seen
from avledger.core.dock.volume import parse_identity, parse_keyvalue, parse_start

GOOD = {
    "match": {"marker": "INFO.INI"},
    "identity": {"file": "INFO.INI", "format": "ini", "section": "Device",
                 "fields": {"serial": "Serial", "badge": "Officer"}},
    "clips": {"globs": ["VIDEO/*.MP4"], "name_pattern": r"^V(?P<start>\d{14})\.MP4$",
              "time_format": "%Y%m%d%H%M%S", "timezone": "Asia/Shanghai"},
    "simulate": {"clip_path": "VIDEO/V{start:%Y%m%d%H%M%S}.MP4"},
}


def write_profile(home: Path, name: str, doc: object) -> Path:
    d = home / "profiles"
    d.mkdir(exist_ok=True)
    path = d / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
    return path


def test_shipped_profiles_load(home: Path) -> None:
    found = profiles.load_all(loader.load())
    assert {"generic", "fieldcam-json"} <= set(found)
    generic = found["generic"]
    assert generic.get("clock.read.method") == "file"
    assert generic.get("mount.method") == "fuse"
    assert found["fieldcam-json"].timezone == "Asia/Urumqi"


def test_every_problem_reported_with_file_and_key(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    bad = write_profile(home, "broken", {
        "match": {}, "identity": {"file": "/abs", "format": "xml", "fields": {"badge": "B"}},
        "clips": {"globs": ["X/*"], "name_pattern": "(", "time_format": "%Y"},
        "clock": {"read": {"method": "file"}}, "colour": "red"})
    out = cli("profile", "list")
    assert out.returncode == 3, out.stdout
    err = out.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("avledger: error:")
    for needle in (f"{bad}: identity.file", "identity.format: must be one of",
                   "identity.fields: must name at least the 'serial'",
                   "clips.name_pattern: invalid regular expression", "colour: unknown key"):
        assert needle in err, needle


def test_cross_field_rules() -> None:
    problems = profiles.validate(GOOD | {"match": {}, "clock": {"read": {"method": "file"}}})
    assert "match: give at least one of udev, label, marker" in problems
    assert "clock.read.path: is required when method is file" in problems
    assert profiles.validate(GOOD) == []


def test_how_the_clock_is_told() -> None:
    clock = GOOD.get("clock", {})
    told = GOOD | {"clock": clock | {"read": {"method": "file", "path": "CLOCK.TXT",
                                              "format": "%Y", "written_at": "sometimes"}}}
    assert profiles.validate(told) == [
        "clock.read.written_at: must be one of: connect, live, none"]
    for how in ("connect", "live", "none"):
        told["clock"]["read"]["written_at"] = how
        assert profiles.validate(told) == []


def test_yaml_syntax_error_names_line(home: Path) -> None:
    write_profile(home, "syntax", "match: [unclosed\n")
    with pytest.raises(Exception) as info:
        profiles.load_all(loader.load())
    assert "line 2" in str(info.value) or "line 1" in str(info.value)


def test_user_profile_overrides_and_adds(home: Path) -> None:
    write_profile(home, "ini-cam", GOOD)
    found = profiles.load_all(loader.load())
    assert found["ini-cam"].get("identity.format") == "ini"
    assert found["ini-cam"].get("clock.read.method") == "none"  # default filled in


def test_matching_rules(tmp_path: Path) -> None:
    prof = profiles.parse_profile(GOOD | {"match": {"marker": "INFO.INI", "label": "^CAM",
                                                    "udev": {"ID_VENDOR_ID": "1234"}}},
                                  tmp_path / "p.yaml")
    (tmp_path / "INFO.INI").write_text("[Device]\nSerial=1\n")
    m = profiles.match(prof, Seen(tmp_path))
    assert m is not None and m.passed == ("marker",) and set(m.skipped) == {"udev", "label"}
    assert profiles.match(prof, Seen(tmp_path, {"ID_VENDOR_ID": "9999"})) is None
    assert profiles.match(prof, Seen(tmp_path, None, "OTHER")) is None
    full = profiles.match(prof, Seen(tmp_path, {"ID_VENDOR_ID": "1234"}, "CAM01"))
    assert full is not None and len(full.passed) == 3
    assert profiles.match(prof, Seen(tmp_path / "nothing")) is None


def test_identity_formats() -> None:
    fields = {"serial": "SN", "badge": "ID"}
    assert parse_identity("SN = A1\n# c\nID: 7\n", "keyvalue", fields).badge == "7"
    ini = parse_identity("[Device]\nSN=B2\nID=8\n", "ini", fields, "Device")
    assert (ini.serial, ini.badge) == ("B2", "8")
    js = parse_identity(json.dumps({"d": {"sn": "C3"}}), "json", {"serial": "d.sn"})
    assert js.serial == "C3" and js.badge is None
    for text, fmt in (("nothing here", "keyvalue"), ("{bad json", "json"), ("[X]\nA=1", "ini")):
        with pytest.raises(ValueError):
            parse_identity(text, fmt, fields, "Device" if fmt == "ini" else None)


@given(st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
                       st.from_regex(r"[A-Za-z0-9 ._-]{0,20}", fullmatch=True), max_size=8))
def test_keyvalue_round_trip(values: dict[str, str]) -> None:
    text = "".join(f"{k}={v}\n" for k, v in values.items())
    assert parse_keyvalue(text) == {k: v.strip() for k, v in values.items()}


@given(st.text(max_size=60))
def test_identity_parsers_never_crash(text: str) -> None:
    for fmt in ("keyvalue", "ini", "json"):
        try:
            ident = parse_identity(text, fmt, {"serial": "SERIAL"}, None)
        except ValueError:
            continue
        assert ident.serial and ident.serial.strip() == ident.serial


@given(st.text(max_size=40))
def test_filename_parser_never_crashes(name: str) -> None:
    prof = profiles.parse_profile(GOOD, Path("p.yaml"))
    result = parse_start(name, prof)
    assert result is None or result.tzinfo is not None


@given(st.datetimes(min_value=__import__("datetime").datetime(2000, 1, 1),
                    max_value=__import__("datetime").datetime(2099, 12, 31)))
def test_filename_times_round_trip(moment) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    prof = profiles.parse_profile(GOOD, Path("p.yaml"))
    name = f"V{moment:%Y%m%d%H%M%S}.MP4"
    got = parse_start(name, prof)
    assert got is not None
    assert got == moment.replace(microsecond=0, tzinfo=ZoneInfo("Asia/Shanghai"))
