"""Purging one clip: a tombstone, a ledger event, and the content only when nothing shares it.
Its redactions (derived copies, ``core.redact``) are purged with it, in the same transaction.

Runs inside the caller's write transaction (``purge_transaction``), which holds the catalog's
write lock: the check "does any remaining clip share this object?" and the deletion happen
while no other process can register a clip on the same object. (Ingest re-checks, inside its
own transaction, that the object it registers is still on disk — see
``integrity.register_object``.) A failure after the file is gone rolls the catalog back with
the clip still pending; running the purge again finishes it.

The purged clip row stays (status ``purged``) with its digest as history, but its object row
goes, so ``store verify`` sees neither a missing nor an orphan object. SQLite cannot express
"this reference may dangle once purged", so foreign-key enforcement is switched off for the
purge transaction alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger.core.app import Avledger
from avledger.core.caseref import cases_for_clip
from avledger.errors import StorageError
from avledger.store import db
from avledger.store.factory import open_second_store
from avledger.timestamps import iso

REDACTION_PURGED = "clip.redaction_purged"


@dataclass(frozen=True)
class PurgeOutcome:
    clip_id: int
    digest: str
    size: int
    content_deleted: bool
    kept_because: str | None  # why the bytes stayed (another clip shares them, …)

    def as_dict(self) -> dict[str, Any]:
        return {"clip": self.clip_id, "digest": self.digest, "size": self.size,
                "content_deleted": self.content_deleted, "kept_because": self.kept_because}


@contextmanager
def purge_transaction(app: Avledger) -> Iterator[db.Connection]:
    conn = app.catalog.conn
    if db.is_postgres(conn):  # its schema has no clips → objects reference (store/pgschema.py)
        with app.transaction() as tx:
            yield tx
        return
    conn.execute("PRAGMA foreign_keys = OFF")  # only effective outside a transaction
    try:
        with app.transaction() as tx:
            yield tx
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _referencing_tables(conn: db.Connection) -> list[tuple[str, str]]:
    """(table, column) pairs other than clips that reference objects(digest)."""
    if db.is_postgres(conn):
        return [(str(r[0]), str(r[1])) for r in conn.execute(
            "SELECT k.table_name, k.column_name FROM information_schema.referential_constraints r"
            " JOIN information_schema.key_column_usage k ON k.constraint_name = r.constraint_name"
            " JOIN information_schema.constraint_column_usage u"
            "   ON u.constraint_name = r.unique_constraint_name"
            " WHERE u.table_name = 'objects' AND k.table_name != 'clips'")]
    refs = []
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        if table == "clips":
            continue
        for fk in conn.execute("SELECT * FROM pragma_foreign_key_list(?)", (table,)):
            if fk["table"] == "objects":
                refs.append((table, fk["from"]))
    return refs


def object_still_needed(conn: db.Connection, digest: str) -> str | None:
    """Why the object must stay (a remaining clip or another record uses it), or None."""
    row = conn.execute("SELECT id FROM clips WHERE digest = ? AND status != 'purged' LIMIT 1",
                       (digest,)).fetchone()
    if row:
        return f"shared with clip {row[0]}"
    for table, column in _referencing_tables(conn):
        if conn.execute(f'SELECT 1 FROM "{table}" WHERE "{column}" = ? LIMIT 1',
                        (digest,)).fetchone():
            return f"referenced by {table}"
    return None


def _metadata(conn: db.Connection, clip: db.Row) -> str:
    device = conn.execute("SELECT serial, model, unit FROM devices WHERE id = ?",
                          (clip["device_id"],)).fetchone()
    meta = {"clip": dict(clip), "device": dict(device) if device else None,
            "cases": cases_for_clip(conn, clip["id"])}
    return json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str)


def _purge_redactions(app: Avledger, conn: db.Connection, clip_id: int, *, now: datetime,
                      reason: str) -> list[dict[str, Any]]:
    """Every stored redaction of the clip (``core.redact``) goes with it: its content unless
    another stored clip or redaction has the same bytes."""
    done = []
    for row in conn.execute("SELECT id, digest, size FROM redactions WHERE clip_id = ?"
                            " AND status = 'stored' ORDER BY id", (clip_id,)).fetchall():
        conn.execute("UPDATE redactions SET status = 'purged', purged_at = ? WHERE id = ?",
                     (iso(now), row["id"]))
        shared = conn.execute(
            "SELECT 1 FROM clips WHERE digest = :d AND status != 'purged'"
            " UNION ALL SELECT 1 FROM redactions WHERE digest = :d AND status = 'stored'",
            {"d": row["digest"]}).fetchone()
        if shared is None:
            conn.execute("DELETE FROM objects WHERE digest = ?", (row["digest"],))
            app.store.delete(row["digest"])
            delete_second_copy(app, row["digest"])
        app.record(conn, REDACTION_PURGED, f"clip:{clip_id}", {
            "redaction": row["id"], "digest": row["digest"], "size": row["size"],
            "content_deleted": shared is None, "reason": f"its original was purged: {reason}"})
        done.append({"redaction": row["id"], "content_deleted": shared is None})
    return done


def delete_second_copy(app: Avledger, digest: str) -> bool:
    """A purge removes the second copy too (``store.copies: 2``); False when there is none
    or its location is missing (then that copy outlives the purge on the absent disk)."""
    second = open_second_store(app.config)
    if second is None:
        return False
    try:
        second.check_ready()
    except StorageError:
        return False
    return second.delete(digest)


def purge_clip(app: Avledger, conn: db.Connection, clip_id: int, *, now: datetime,
               reason: str, how: str) -> PurgeOutcome | None:
    """Purge one clip in the caller's purge transaction; None when it was already purged."""
    clip = conn.execute("SELECT * FROM clips WHERE id = ?", (clip_id,)).fetchone()
    if clip is None or clip["status"] == "purged":
        return None
    digest, size = clip["digest"], int(clip["size"])
    conn.execute("UPDATE clips SET status = 'purged' WHERE id = ?", (clip_id,))
    conn.execute("DELETE FROM retention_pending WHERE clip_id = ?", (clip_id,))
    conn.execute("DELETE FROM retention_keep WHERE clip_id = ?", (clip_id,))
    redactions = _purge_redactions(app, conn, clip_id, now=now, reason=reason)
    kept_because = object_still_needed(conn, digest)
    deleted = False
    if kept_because is None:
        conn.execute("DELETE FROM objects WHERE digest = ?", (digest,))
        app.store.delete(digest)  # under the write lock; False when already gone
        delete_second_copy(app, digest)
        deleted = True
    conn.execute(
        "INSERT INTO tombstones (clip_id, digest, size, metadata, purged_at, purged_by, reason,"
        " how, content_deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (clip_id, digest, size, _metadata(conn, clip), iso(now), app.actor.label, reason, how,
         int(deleted)))
    app.record(conn, "clip.purged", f"clip:{clip_id}", {
        "digest": digest, "size": size, "reason": reason, "how": how,
        "content_deleted": deleted, "kept_because": kept_because, "purged_at": iso(now),
        "redactions": [r["redaction"] for r in redactions]})
    return PurgeOutcome(clip_id, digest, size, deleted, kept_because)
