"""A docking that failed before ingest could begin is still a docking.

When a docked recorder cannot be mounted, recognised or read, nothing reaches the catalog
through the ingest session; without this, the failure would live only in the daemon's log. It
gets a ``docks`` row (state ``failed``, the reason in its result, shown by ``dock status``) and a
``dock.failed`` ledger event, with the reason as one readable line.
"""

from __future__ import annotations

import json
from typing import Any

from avledger.core.app import Avledger
from avledger.timestamps import iso, utcnow


def one_line(text: str) -> str:
    """Tool output (mount's, a helper's) often spans lines: one line for tables and logs."""
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def record_failed_docking(app: Avledger, source: str, error: str, *,
                          profile: str | None = None, label: str | None = None,
                          serial: str | None = None) -> int:
    """Record the failed docking of ``source`` (a device node); its ``docks`` id."""
    now = iso(utcnow())
    reason = one_line(error)
    result: dict[str, Any] = {"error": reason}
    if label:
        result["label"] = label
    with app.transaction() as conn:
        device = conn.execute("SELECT id FROM devices WHERE serial = ?",
                              (serial,)).fetchone() if serial else None
        cur = conn.execute(
            "INSERT INTO docks (device_id, station, source, started_at, updated_at,"
            " finished_at, state, result, profile) VALUES (?, ?, ?, ?, ?, ?, 'failed', ?, ?)"
            " RETURNING id",
            (device["id"] if device else None, app.config.get("site.station"), source, now,
             now, now, json.dumps(result, ensure_ascii=False), profile))
        dock_id = int(cur.fetchone()[0])
        app.record(conn, "dock.failed", f"dock:{dock_id}", {
            "source": source, "station": app.config.get("site.station"), "profile": profile,
            "label": label, "error": reason})
    return dock_id
