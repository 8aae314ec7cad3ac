"""Whose footage is it? The officer who had the recorder checked out at recording time.

Until a device has checkouts (the desk's usage ledger), the badge number in its device-info
file stands in. Pure: (clip time, the device's checkouts, badge hint) → attribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from avledger.store import db
from avledger.timestamps import parse_iso

# Clips attributed to nobody: no checkout and no badge, or recorded between two checkouts.
UNATTRIBUTED = ("unattributed", "between-checkouts")


@dataclass(frozen=True)
class Checkout:
    id: int
    badge: str
    out_at: datetime
    in_at: datetime | None
    remote: bool

    def covers(self, moment: datetime) -> bool:
        return self.out_at <= moment and (self.in_at is None or moment < self.in_at)


@dataclass(frozen=True)
class Attribution:
    kind: str  # checkout | device-info | between-checkouts | unattributed
    badge: str | None = None
    checkout: Checkout | None = None


def attribute(start: datetime | None, checkouts: list[Checkout],
              badge_hint: str | None) -> Attribution:
    if checkouts:
        if start is None:
            return Attribution("unattributed")
        for co in checkouts:
            if co.covers(start):
                return Attribution("checkout", co.badge, co)
        return Attribution("between-checkouts")
    if badge_hint:
        return Attribution("device-info", badge_hint)
    return Attribution("unattributed")


def device_checkouts(conn: db.Connection, device_id: int) -> list[Checkout]:
    return [
        Checkout(r["id"], r["badge"], parse_iso(r["out_at"]),
                 parse_iso(r["in_at"]) if r["in_at"] else None, bool(r["remote"]))
        for r in conn.execute(
            "SELECT id, badge, out_at, in_at, remote FROM checkouts WHERE device_id = ?"
            " ORDER BY out_at", (device_id,))
    ]
