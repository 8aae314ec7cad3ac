"""A second copy of every object (store.copies: 2): written at ingest, checked and mended by
``store verify``, and counted by ``status`` when it is missing.

Real files on two store folders (the second standing for another disk); a copy is damaged by
flipping one bit in it, and a disk is "gone" when its folder is deleted.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.clips import show_clip
from avledger.core.custody.integrity import verify_store
from avledger.core.ingest.session import ingest
from avledger.core.install import permissions
from avledger.core.install.setup import initialise
from avledger.core.retention.purge import purge_clip, purge_transaction
from avledger.core.status import summary
from avledger.errors import StorageError
from avledger.store.local import LocalObjectStore
from avledger.timestamps import utcnow
from tests.recorder_tools import make_recorder
from tests.test_cases_holds_cli import ok, one_line_error


def two_copies(home: Path, second: Path, **settings: Any) -> None:
    """Configure a second store location and let 'init' create it."""
    path = home / "avledger.yaml"
    doc = yaml.safe_load(path.read_text())
    doc.setdefault("store", {})
    doc["store"]["copies"] = 2
    doc["store"]["second"] = {"path": str(second), **settings}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    initialise(None)


@pytest.fixture
def opened() -> Iterator[Any]:
    apps: list[Avledger] = []

    def open_app() -> Avledger:
        apps.append(Avledger.open(loader.load()))
        return apps[-1]

    yield open_app
    for a in apps:
        a.close()


def flip_bit(path: Path) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    os.chmod(path, 0o444)


def events(app: Avledger, type_: str) -> list[dict[str, Any]]:
    return [json.loads(r[0]) | {"subject": r[1]} for r in app.catalog.conn.execute(
        "SELECT payload, subject FROM ledger WHERE type = ? ORDER BY seq", (type_,))]


def digests(app: Avledger) -> list[str]:
    return [r[0] for r in app.catalog.conn.execute("SELECT digest FROM objects ORDER BY digest")]


def test_each_clip_is_written_in_both_and_verify_mends_either_copy(
        home: Path, tmp_path: Path, opened, cli) -> None:  # type: ignore[no-untyped-def]
    second_dir = tmp_path / "disk2" / "store"
    two_copies(home, second_dir)
    app = opened()
    rec = tmp_path / "rec"
    make_recorder(rec, clips=3, size=300_000)
    assert ingest(app, rec).totals()["new"] == 3
    first, second = app.store, LocalObjectStore(second_dir)
    objs = digests(app)
    assert len(objs) == 3
    for d in objs:
        assert second.verify(d, 300_000).status == "ok"
    assert app.catalog.conn.execute(
        "SELECT COUNT(*) FROM objects WHERE second_at IS NOT NULL").fetchone()[0] == 3
    assert summary(app)["store"]["copies"]["clips_short"] == 0
    shown = show_clip(app, 1)["stored_copy"]
    assert shown["second_copy_at"] and shown["second_copy_status"] == "ok"

    # one bit flipped in the first copy of one object, and in the second copy of another
    assert isinstance(first, LocalObjectStore)
    flip_bit(first.path_for(objs[0]))
    flip_bit(second.path_for(objs[1]))
    found = cli("store", "verify", "--json")
    assert found.returncode == 0, found.stderr  # everything found was put right
    report_json = json.loads(found.stdout)
    assert [c["object"] for c in report_json["corrupt"]] == [objs[0]]
    assert report_json["mended"] == [objs[0]] and report_json["problems"] == 0
    assert report_json["second"]["restored_second"] == [objs[1]]
    assert cli("ledger", "verify").returncode == 0
    for d in objs:
        assert first.verify(d, 300_000).status == "ok"
        assert second.verify(d, 300_000).status == "ok"
    flip_bit(first.path_for(objs[0]))
    flip_bit(second.path_for(objs[1]))
    report = verify_store(app)
    assert [c["object"] for c in report.corrupt] == [objs[0]]
    assert report.second is not None
    assert report.second.corrupt == [objs[1]]
    assert report.second.restored_first == [objs[0]]
    assert report.second.restored_second == [objs[1]]
    for d in objs:
        assert first.verify(d, 300_000).status == "ok"
        assert second.verify(d, 300_000).status == "ok"
    restored = {e["subject"]: e for e in events(app, "object.restored")}
    assert restored[f"object:{objs[0]}"]["source"].startswith("second copy")
    assert restored[f"object:{objs[1]}"]["copy"] == "second"
    assert summary(app)["store"]["without_good_copy"] == 0
    assert cli("ledger", "verify").returncode == 0
    again = verify_store(app)
    assert again.problems == 0 and again.second is not None and again.second.ok == 3


def test_second_disk_gone_fails_the_ingest_cleanly(home: Path, tmp_path: Path, opened,
                                                   cli) -> None:  # type: ignore[no-untyped-def]
    second_dir = tmp_path / "disk2" / "store"
    two_copies(home, second_dir)
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=100_000)
    before = {p: p.read_bytes() for p in rec.rglob("*") if p.is_file()}
    shutil.rmtree(second_dir)
    one_line_error(cli("ingest", str(rec)), 7, "second store location", "missing")
    app = opened()
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM clips").fetchone()[0] == 0
    assert {p: p.read_bytes() for p in rec.rglob("*") if p.is_file()} == before
    assert not second_dir.exists()  # a missing disk's mount point is not filled by us
    with pytest.raises(StorageError, match="second store location"):
        ingest(app, rec)
    initialise(None)  # the disk is back
    assert ingest(app, rec).totals()["new"] == 2
    assert summary(app)["store"]["copies"]["clips_short"] == 0


def test_second_disk_gone_with_one_copy_allowed_status_counts(
        home: Path, tmp_path: Path, opened, cli) -> None:  # type: ignore[no-untyped-def]
    second_dir = tmp_path / "disk2" / "store"
    two_copies(home, second_dir, on_missing="one_copy")
    app = opened()
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=100_000)
    ingest(app, rec)
    older = digests(app)
    shutil.rmtree(second_dir)
    make_recorder(rec2 := tmp_path / "rec2", clips=3, size=100_000, serial="SIM0002")
    assert ingest(app, rec2).totals()["new"] == 3
    copies = ok(cli("status", "--json"))["store"]["copies"]
    assert copies["wanted"] == 2 and copies["clips_short"] == 3 and copies["second_missing"]
    assert copies["oldest_since"] is not None and copies["oldest_age_hours"] >= 0
    shown = cli("status")
    assert shown.returncode == 0 and "3 clip(s) with fewer than 2 good copies" in shown.stdout
    assert "is missing" in shown.stdout
    report = verify_store(app)
    assert report.second is not None and not report.second.reachable and report.problems
    initialise(None)  # the disk is back, empty: verify copies every object again
    report = verify_store(app)
    assert report.second is not None
    assert sorted(report.second.restored_second) == older  # lost with the disk
    assert report.second.caught_up == 3  # never had a second copy
    assert ok(cli("status", "--json"))["store"]["copies"]["clips_short"] == 0


def test_async_copies_follow_at_the_end_of_the_ingest(home: Path, tmp_path: Path,
                                                      opened) -> None:  # type: ignore[no-untyped-def]
    second_dir = tmp_path / "disk2" / "store"
    two_copies(home, second_dir, mode="async")
    app = opened()
    shutil.rmtree(second_dir)  # async: the ingest goes on without it
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=100_000)
    assert ingest(app, rec).totals()["new"] == 2
    assert summary(app)["store"]["copies"]["clips_short"] == 2
    initialise(None)
    make_recorder(rec2 := tmp_path / "rec2", clips=1, size=100_000, serial="SIM0002")
    ingest(app, rec2)  # its catch-up gives every object its second copy
    assert summary(app)["store"]["copies"]["clips_short"] == 0
    for d in digests(app):
        assert LocalObjectStore(second_dir).verify(d, 100_000).status == "ok"


def test_two_copies_need_a_second_path(home: Path) -> None:
    path = home / "avledger.yaml"
    doc = yaml.safe_load(path.read_text())
    doc.setdefault("store", {})["copies"] = 2
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(Exception, match=r"store.second.path: is required"):
        loader.load()


def test_a_purge_removes_both_copies(home: Path, tmp_path: Path, opened) -> None:  # type: ignore[no-untyped-def]
    second_dir = tmp_path / "disk2" / "store"
    two_copies(home, second_dir)
    app = opened()
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=100_000)
    ingest(app, rec)
    clip_id, digest = app.catalog.conn.execute(
        "SELECT id, digest FROM clips ORDER BY id").fetchone()
    second = LocalObjectStore(second_dir)
    assert second.exists(digest)
    with purge_transaction(app) as conn:
        assert purge_clip(app, conn, clip_id, now=utcnow(), reason="test", how="manual")
    assert not app.store.exists(digest) and not second.exists(digest)
    others = [d for d in digests(app)]
    assert len(others) == 1 and second.exists(others[0])


def test_the_second_copy_is_closed_to_others_like_the_first(home: Path, tmp_path: Path) -> None:
    """On a real installation 'init' gives the second store to the service account and
    'status' warns when it is open to others, as for the first (permissions.rules)."""
    second_dir = tmp_path / "disk2" / "store"
    two_copies(home, second_dir)
    rule = next(r for r in permissions.rules(loader.load()) if r.path == second_dir)
    assert (rule.owner, rule.forbidden, rule.tree) == ("service", 0o027, True)
    for path in (second_dir, *second_dir.rglob("*")):
        assert not stat.S_IMODE(path.stat().st_mode) & 0o007, path
