"""Devices as ingest sees them: a serial number found on a docked volume.

A serial never seen before is catalogued at once as ``unregistered`` (the desk registers it
properly), so that its clips are never refused or lost; that is a ledger event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from avledger.config.profiles import Profile
from avledger.core.app import Avledger
from avledger.core.dock.volume import RecorderIdentity
from avledger.store import db
from avledger.timestamps import iso


@dataclass(frozen=True)
class DeviceRow:
    id: int
    serial: str
    registration: str
    badge_hint: str | None
    new: bool


def find(conn: db.Connection, serial: str) -> db.Row | None:
    row: db.Row | None = conn.execute(
        "SELECT id, serial, registration, badge_hint, profile FROM devices WHERE serial = ?",
        (serial,)).fetchone()
    return row


def ensure(app: Avledger, conn: db.Connection, who: RecorderIdentity, profile: Profile,
           now: datetime) -> DeviceRow:
    """The device row for ``who`` (created as unregistered if new); marks it docked now."""
    row = find(conn, who.serial)
    if row is None:
        cur = conn.execute(
            "INSERT INTO devices (serial, profile, model, unit, registration, badge_hint,"
            " first_seen_at, last_docked_at) VALUES (?, ?, ?, ?, 'unregistered', ?, ?, ?)"
            " RETURNING id",
            (who.serial, profile.name, who.model or profile.data.get("model"), who.unit,
             who.badge, iso(now), iso(now)))
        device_id = int(cur.fetchone()[0])
        app.record(conn, "device.discovered", f"device:{device_id}", {
            "serial": who.serial, "profile": profile.name, "model": who.model,
            "badge_hint": who.badge, "unit": who.unit, "registration": "unregistered",
            **({"firmware": who.firmware} if who.firmware else {}),
        })
        return DeviceRow(device_id, who.serial, "unregistered", who.badge, True)
    if who.badge and who.badge != row["badge_hint"]:
        app.record(conn, "device.badge_hint_changed", f"device:{row['id']}", {
            "serial": who.serial, "from": row["badge_hint"], "to": who.badge})
    conn.execute("UPDATE devices SET last_docked_at = ?, badge_hint = COALESCE(?, badge_hint),"
                 " profile = COALESCE(profile, ?) WHERE id = ?",
                 (iso(now), who.badge, profile.name, row["id"]))
    return DeviceRow(int(row["id"]), who.serial, row["registration"],
                     who.badge or row["badge_hint"], False)
