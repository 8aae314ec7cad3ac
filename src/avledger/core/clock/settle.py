"""Clock settings written to recorders, and the reading that shows whether each took effect.

A recorder set by a command has its new time at once, and the sync reads it back straight
away. One set by a file takes the time up when it is next connected: until then the setting
is *pending*. The first clock reading after the recorder has taken the file up (the file is
gone from its volume) settles it: within tolerance it was *applied* — that reading is stored
as a 'sync' measurement, the anchor ``clockcheck.last_sync`` interpolates drift from, and
``devices.last_synced_at`` is set — otherwise *not applied*. Each outcome is a ledger event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger.core.app import Avledger
from avledger.core.clock import check as clockcheck
from avledger.core.clock.check import Measurement
from avledger.core.clock.setter import Written
from avledger.store import db
from avledger.timestamps import iso, utcnow

SYNC_KIND, CHECK_KIND = "sync", "check"


@dataclass(frozen=True)
class Settled:
    """A pending clock setting, settled by a reading."""

    sync_id: int
    applied: bool
    written_at: str
    before_drift: float | None
    after_drift: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"sync_id": self.sync_id, "applied": self.applied, "written_at": self.written_at,
                "before_drift_seconds": self.before_drift,
                "after_drift_seconds": self.after_drift}


def pending(conn: db.Connection, device_id: int) -> db.Row | None:
    """The device's clock setting still waiting to be taken up, if any."""
    row: db.Row | None = conn.execute(
        "SELECT s.*, b.drift_seconds AS before_drift FROM clock_syncs s"
        " LEFT JOIN clock_measurements b ON b.id = s.before_id"
        " WHERE s.device_id = ? AND s.state = 'pending' ORDER BY s.id DESC LIMIT 1",
        (device_id,)).fetchone()
    return row


def _mark_applied(conn: db.Connection, device_id: int, when: datetime) -> None:
    conn.execute("UPDATE devices SET last_synced_at = ? WHERE id = ?", (iso(when), device_id))


def record_measurement(app: Avledger, conn: db.Connection, m: Measurement, *,
                       waiting: bool, serial: str | None = None
                       ) -> tuple[Measurement, Settled | None]:
    """Record a reading (in the caller's transaction); it settles a pending setting when the
    recorder has taken it up (``waiting`` False) and the clock could be read."""
    open_sync = pending(conn, m.device_id)
    settles = open_sync is not None and not waiting and m.drift_seconds is not None
    applied = settles and m.status == "ok"
    stored = clockcheck.record(app, conn, m, serial=serial,
                               kind=SYNC_KIND if applied else CHECK_KIND)
    if not settles or open_sync is None:
        return stored, None
    conn.execute("UPDATE clock_syncs SET state = ?, after_id = ?, settled_at = ? WHERE id = ?",
                 ("applied" if applied else "not-applied", stored.id, iso(stored.measured_at),
                  open_sync["id"]))
    if applied:
        _mark_applied(conn, m.device_id, stored.measured_at)
    settled = Settled(int(open_sync["id"]), applied, open_sync["written_at"],
                      open_sync["before_drift"], stored.drift_seconds)
    app.record(conn, "clock.sync_settled", f"device:{m.device_id}",
               settled.as_dict() | {"serial": serial, "after_measurement": stored.id,
                                    "status": stored.status})
    return stored, settled


@dataclass(frozen=True)
class SyncRecord:
    sync_id: int
    state: str  # pending | applied | not-applied
    after: Measurement | None  # as stored
    event: dict[str, Any]  # the clock.synced payload


def record_sync(app: Avledger, conn: db.Connection, *, serial: str, device_id: int,
                before: Measurement, written: Written, after: Measurement | None,
                origin: str, read_write_mount: bool) -> SyncRecord:
    """Record a clock setting written to a recorder, with the reading after it when there is
    one (a command), as one ``clock.synced`` event; an older pending setting is superseded."""
    now = iso(utcnow())
    conn.execute("UPDATE clock_syncs SET state = 'superseded', settled_at = ?"
                 " WHERE device_id = ? AND state = 'pending'", (now, device_id))
    stored_after = None
    state, kind = "pending", CHECK_KIND
    if after is not None:
        state = "applied" if after.status == "ok" else "not-applied"
        kind = SYNC_KIND if state == "applied" else CHECK_KIND
        stored_after = clockcheck.record(app, conn, after, serial=serial, kind=kind)
        if state == "applied":
            _mark_applied(conn, device_id, stored_after.measured_at)
    cur = conn.execute(
        "INSERT INTO clock_syncs (device_id, written_at, set_to, method, target, origin,"
        " before_id, after_id, state, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING id",
        (device_id, now, iso(written.set_to), written.method, written.target, origin,
         before.id, stored_after.id if stored_after else None, state,
         now if stored_after else None))
    sync_id = int(cur.fetchone()[0])
    payload = {
        "sync_id": sync_id, "serial": serial, "origin": origin, "written": written.as_dict(),
        "before": before.as_dict(),
        "after": stored_after.as_dict() | {"kind": kind} if stored_after else None,
        "state": state, "read_write_mount": read_write_mount,
        "takes_effect": "now" if after is not None else "when the recorder is next connected",
    }
    app.record(conn, "clock.synced", f"device:{device_id}", payload)
    return SyncRecord(sync_id, state, stored_after, payload)
