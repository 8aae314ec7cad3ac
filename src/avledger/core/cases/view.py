"""One case as the records office reads it: the case, its clips, every hold touching it, and
its decisions with their legal reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from avledger.core.caseref import clips_of_case, get_case
from avledger.core.cases.decisions import decisions_of_case
from avledger.core.retention.holds import holds_for_clip, list_holds
from avledger.store import db
from avledger.timestamps import utcnow


def case_detail(conn: db.Connection, number: str,
                now: datetime | None = None) -> dict[str, Any]:
    """``now`` dates the open reviews' ages (default: the current time)."""
    case = get_case(conn, number)
    clips = [dict(r) for r in conn.execute(
        "SELECT c.id, d.serial, c.corrected_start, c.size, c.status FROM clips c"
        " JOIN devices d ON d.id = c.device_id JOIN clip_cases cc ON cc.clip_id = c.id"
        " WHERE cc.case_id = ? ORDER BY c.corrected_start, c.id", (case.id,))]
    holds = {h["id"]: h for h in list_holds(conn, include_released=True)
             if h["scope"] == "case" and h["case_id"] == case.id}
    for clip_id in clips_of_case(conn, case.id):
        for h in holds_for_clip(conn, clip_id):
            holds.setdefault(h["id"], h)
    return case.as_dict() | {"clips": clips, "holds": [holds[k] for k in sorted(holds)],
                             "decisions": decisions_of_case(conn, case.id, now or utcnow())}
