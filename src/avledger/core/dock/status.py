"""What the dock is doing: docked recorders, ingest progress and recent results.

The daemon (and every ingest) keeps one ``docks`` row per docking up to date, so any terminal
can read the state without talking to the daemon.
"""

from __future__ import annotations

import json
from typing import Any

from avledger.core.app import Avledger
from avledger.i18n import N_

ACTIVE_STATES = ("detected", "mounting", "ingesting")
# Stored in English in the docks row; translated when shown (i18n.translate_stored).
INTERRUPTED = N_("the ingesting process ended without finishing (it resumes at the next "
                 "docking)")


def dock_status(app: Avledger, recent: int = 10) -> dict[str, Any]:
    conn = app.catalog.conn
    cols = ("d.id, d.station, d.source, d.state, d.profile, d.started_at, d.updated_at,"
            " d.finished_at,"
            " d.files_total, d.files_done, d.bytes_total, d.bytes_done, d.result,"
            " v.serial, v.registration")
    base = f"SELECT {cols} FROM docks d LEFT JOIN devices v ON v.id = d.device_id"
    marks = ",".join("?" * len(ACTIVE_STATES))
    active = conn.execute(f"{base} WHERE d.state IN ({marks}) ORDER BY d.started_at",
                          ACTIVE_STATES).fetchall()
    done = conn.execute(f"{base} WHERE d.state NOT IN ({marks}) ORDER BY d.id DESC LIMIT ?",
                        (*ACTIVE_STATES, recent)).fetchall()

    def row(r: Any) -> dict[str, Any]:
        d = dict(r)
        try:
            d["result"] = json.loads(d["result"] or "{}")
        except json.JSONDecodeError:
            d["result"] = {}
        if d["result"].get("interrupted"):  # older rows said 'failed', with no error
            d["state"] = "interrupted"
            d["result"].setdefault("error", INTERRUPTED)
        total = d["bytes_total"] or 0
        d["percent"] = round(100.0 * d["bytes_done"] / total, 1) if total else None
        return d

    return {"station": app.config.get("site.station"), "docked": [row(r) for r in active],
            "recent": [row(r) for r in done]}
