"""A quarantined object stays visible until it is restored (``store restore``, re-ingest)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.store import ledger as ledger_store
from tests.recorder_tools import make_recorder
from tests.storetools import flip_bit


def _ingested(home: Path, tmp_path: Path, cli) -> tuple[Path, dict]:  # type: ignore[no-untyped-def]
    rec = tmp_path / "rec"
    make_recorder(rec, clips=3, size=60_000, serial="BWR0077")
    out = cli("ingest", str(rec), "--json")
    assert out.returncode == 0, out.stderr
    clip = json.loads(cli("clips", "list", "--json").stdout)[1]
    return rec, clip


def _quarantine(home: Path, cli, digest: str) -> None:  # type: ignore[no-untyped-def]
    with Avledger.open(loader.load()) as app:
        flip_bit(app.store.path_for(digest), offset=99)
    out = cli("store", "verify", "--json")
    assert out.returncode == 6 and json.loads(out.stdout)["quarantined"] == [digest]


def _events(digest: str) -> list[str]:
    with Avledger.open(loader.load()) as app:
        return [e.type for e in ledger_store.iter_events(
            app.catalog.conn, where="subject = ?", params=(f"object:{digest}",))]


def test_quarantined_object_is_reported_until_restored_from_a_copy(  # type: ignore[no-untyped-def]
        home: Path, tmp_path: Path, cli) -> None:
    rec, clip = _ingested(home, tmp_path, cli)
    digest = clip["digest"]
    _quarantine(home, cli, digest)

    # Every later run says so, with exit 6; clips show and status too.
    for _ in range(2):
        out = cli("store", "verify", "--json")
        assert out.returncode == 6, out.stdout
        assert json.loads(out.stdout)["quarantined_earlier"] == 1
        assert "quarantined earlier and not restored" in out.stderr
    shown = cli("clips", "show", str(clip["id"]))
    assert "NO GOOD COPY" in shown.stdout and "quarantined" in shown.stdout
    data = json.loads(cli("clips", "show", str(clip["id"]), "--json").stdout)
    assert data["stored_copy"]["state"] == "quarantined"
    status = json.loads(cli("status", "--json").stdout)
    assert status["store"]["without_good_copy"] == 1
    assert status["store"]["clips_without_good_copy"] == 1
    assert "without a good copy" in cli("status").stdout

    # A folder holding other files and one copy of the bytes (renamed): a dry run changes
    # nothing, the real run restores it with a ledger event.
    copies = tmp_path / "copies"
    (copies / "deep").mkdir(parents=True)
    (copies / "unrelated.bin").write_bytes(b"x" * clip["size"])
    shutil.copy(rec / clip["source_path"], copies / "deep" / "renamed.mp4")
    dry = cli("store", "restore", str(copies), "--dry-run", "--json")
    assert dry.returncode == 0 and [r["object"] for r in json.loads(dry.stdout)["restored"]] == [
        digest]
    assert cli("store", "verify").returncode == 6
    out = cli("store", "restore", str(copies))
    assert out.returncode == 0, out.stderr
    assert "restored 1 object(s)" in out.stdout
    assert _events(digest) == ["object.quarantined", "object.restored"]
    out = cli("store", "verify", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["checked"] == 3
    assert json.loads(cli("clips", "show", str(clip["id"]), "--json").stdout)[
        "stored_copy"]["state"] == "verified"
    assert json.loads(cli("status", "--json").stdout)["store"]["without_good_copy"] == 0
    again = cli("store", "restore", str(copies))
    assert again.returncode == 0 and "nothing to restore" in again.stdout


def test_restore_refuses_bytes_that_are_not_the_object(  # type: ignore[no-untyped-def]
        home: Path, tmp_path: Path, cli) -> None:
    rec, clip = _ingested(home, tmp_path, cli)
    _quarantine(home, cli, clip["digest"])
    wrong = tmp_path / "wrong.mp4"
    data = bytearray((rec / clip["source_path"]).read_bytes())
    data[5] ^= 1
    wrong.write_bytes(bytes(data))
    out = cli("store", "restore", str(wrong))
    assert out.returncode == 6
    assert "1 catalogued object(s) still without a good copy" in out.stderr
    assert cli("store", "verify").returncode == 6


def test_reingesting_the_recorder_restores_the_object(  # type: ignore[no-untyped-def]
        home: Path, tmp_path: Path, cli) -> None:
    rec, clip = _ingested(home, tmp_path, cli)
    _quarantine(home, cli, clip["digest"])
    out = cli("ingest", str(rec), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["totals"]["restored"] == 1 and report["totals"]["new"] == 0
    assert cli("store", "verify").returncode == 0
    assert _events(clip["digest"]) == ["object.quarantined", "object.restored"]


def test_restore_from_an_archive_disc_image(  # type: ignore[no-untyped-def]
        home: Path, tmp_path: Path, cli) -> None:
    """The disc image is read through its manifest: only the wanted clip is extracted."""
    from tests.test_archive import made_set, ok_json

    with Avledger.open(loader.load()) as app:
        made = made_set(cli, app, tmp_path)
        image = made["images"][0]
        clip_id = image["clips"][0]
        digest = app.catalog.conn.execute("SELECT digest FROM clips WHERE id = ?",
                                          (clip_id,)).fetchone()[0]
    _quarantine(home, cli, digest)
    other_disc = made["images"][1]["image"]  # holds other clips only
    assert cli("store", "restore", other_disc).returncode == 6
    done = ok_json(cli("store", "restore", image["image"], "--json"))
    assert [r["object"] for r in done["restored"]] == [digest]
    assert done["restored"][0]["source"].startswith(image["image"] + ":clips/")
    assert cli("store", "verify").returncode == 0
    assert _events(digest) == ["object.quarantined", "object.restored"]
