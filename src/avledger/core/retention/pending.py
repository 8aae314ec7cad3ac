"""The pending-purge state of a clip: entering it and leaving it, each a ledger event.

Shared by the retention sweep (which moves expired clips in, and returns clips that are no
longer expired), holds (a new hold returns its pending clips at once) and the records
manager's restore.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from avledger.core.app import Avledger
from avledger.store import db
from avledger.timestamps import iso


def mark_pending(app: Avledger, conn: db.Connection, clip_id: int, *, now: datetime,
                 expired_at: str, basis: str, pending_days: int) -> bool:
    """stored → pending_purge (inside the caller's transaction); False if not 'stored'."""
    cur = conn.execute("UPDATE clips SET status = 'pending_purge' WHERE id = ? AND"
                       " status = 'stored'", (clip_id,))
    if not cur.rowcount:
        return False
    conn.execute("INSERT INTO retention_pending (clip_id, since, expired_at, basis,"
                 " marked_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (clip_id) DO UPDATE SET"
                 " since = excluded.since, expired_at = excluded.expired_at,"
                 " basis = excluded.basis, marked_by = excluded.marked_by",
                 (clip_id, iso(now), expired_at, basis, app.actor.label))
    app.record(conn, "clip.pending_purge", f"clip:{clip_id}", {
        "expired_at": expired_at, "basis": basis, "since": iso(now),
        "pending_days": pending_days})
    return True


def return_to_stored(app: Avledger, conn: db.Connection, clip_id: int, *,
                     why: str, details: dict[str, Any] | None = None) -> bool:
    """pending_purge → stored (inside the caller's transaction); False if it was not pending."""
    cur = conn.execute("UPDATE clips SET status = 'stored' WHERE id = ? AND"
                       " status = 'pending_purge'", (clip_id,))
    conn.execute("DELETE FROM retention_pending WHERE clip_id = ?", (clip_id,))
    if not cur.rowcount:
        return False
    app.record(conn, "clip.restored", f"clip:{clip_id}", {"why": why, **(details or {})})
    return True
