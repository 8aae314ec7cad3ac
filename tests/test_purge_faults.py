"""Faults during a purge lose nothing that should stay, and a re-run finishes the job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from avledger.core.app import Avledger
from avledger.core.custody.integrity import register_object, verify_store
from avledger.core.retention import sweep as retention
from avledger.errors import StorageError
from avledger.timestamps import utcnow
from tests.factories import ClipSpec, insert_clips


def expired_pending(app: Avledger, n: int = 3) -> list[int]:
    now = utcnow()
    ids = insert_clips(app, [ClipSpec("TC0009", f"DCIM/f{i}.MP4", f"fault-{i}".encode() * 64,
                                      now - timedelta(days=400 + i), now - timedelta(days=399))
                             for i in range(n)])
    retention.apply_sweep(app, now - timedelta(days=8))
    return ids


def state(app: Avledger, clip_id: int) -> tuple[str, int, int, int]:
    conn = app.catalog.conn
    row = conn.execute("SELECT status, digest FROM clips WHERE id = ?", (clip_id,)).fetchone()
    objects = conn.execute("SELECT COUNT(*) FROM objects WHERE digest = ?",
                           (row["digest"],)).fetchone()[0]
    tombs = conn.execute("SELECT COUNT(*) FROM tombstones WHERE clip_id = ?",
                         (clip_id,)).fetchone()[0]
    events = conn.execute("SELECT COUNT(*) FROM ledger WHERE type = 'clip.purged' AND"
                          " subject = ?", (f"clip:{clip_id}",)).fetchone()[0]
    return row["status"], objects, tombs, events


def test_store_delete_failure_rolls_back(app: Avledger, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = expired_pending(app)

    def broken(digest: str) -> bool:
        raise StorageError("store I/O error while deleting an object: Input/output error")

    monkeypatch.setattr(app.store, "delete", broken)
    with pytest.raises(StorageError):
        retention.apply_sweep(app, utcnow())
    assert state(app, ids[0]) == ("pending_purge", 1, 0, 0)
    assert all(app.store.exists(app.catalog.conn.execute(
        "SELECT digest FROM clips WHERE id = ?", (i,)).fetchone()[0]) for i in ids)
    monkeypatch.undo()
    result = retention.apply_sweep(app, utcnow())
    assert sorted(p.clip_id for p in result.purged) == ids
    assert state(app, ids[0]) == ("purged", 0, 1, 1)
    assert verify_store(app).problems == 0


def test_failure_after_the_file_is_gone_converges(app: Avledger,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ids = expired_pending(app, 1)
    real_record = app.record

    def failing_record(conn, type, subject, payload=None, **kw):  # type: ignore[no-untyped-def]
        if type == "clip.purged":
            raise StorageError("catalog commit failed: disk I/O error")
        return real_record(conn, type, subject, payload, **kw)

    monkeypatch.setattr(app, "record", failing_record)
    with pytest.raises(StorageError):
        retention.apply_sweep(app, utcnow())
    # The bytes went (they were to go); the catalog still says pending, nothing half-written.
    assert state(app, ids[0]) == ("pending_purge", 1, 0, 0)
    monkeypatch.undo()
    retention.apply_sweep(app, utcnow())
    assert state(app, ids[0]) == ("purged", 0, 1, 1)
    assert verify_store(app).problems == 0


def test_register_object_refuses_content_purged_meanwhile(app: Avledger) -> None:
    put = app.store.put_bytes(b"about to vanish" * 10)
    app.store.delete(put.digest)
    with pytest.raises(StorageError, match="no longer in the store"), app.transaction() as conn:
        register_object(app, conn, put.digest, put.size)
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM objects").fetchone()[0] == 0
