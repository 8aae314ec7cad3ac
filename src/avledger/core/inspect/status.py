"""Which drawn inspections have footage: the link from a draw to the evidence store.

A checkout names the inspection it is for (``avledger checkout … --task-id 2026Q4-007``); the
clips ingested from that checkout are the inspection's footage. Per inspection the state is
``late`` when any of those clips missed the hand-in window (``clips.on_time = 0``),
``ingested`` when there are clips and none is late, and ``none`` when there are no clips yet
(the ``checkouts`` count tells whether a recorder was at least taken out for it). Every clip row
counts, whatever its retention state: the question is whether the inspection was recorded.
Checkouts naming a task id of this period that no live draw has (a typo, or a task of a voided
draw) are listed, since their footage is attached to nothing.
"""

from __future__ import annotations

from typing import Any

from avledger.core.app import Avledger
from avledger.core.inspect.inspections import inspections_of, resolve

_FOOTAGE = """
SELECT i.task_id,
       COUNT(DISTINCT c.id)                          AS checkouts,
       COUNT(DISTINCT CASE WHEN c.in_at IS NULL THEN c.id END) AS still_out,
       COUNT(cl.id)                                  AS clips,
       COALESCE(SUM(cl.duration_seconds), 0)         AS seconds,
       COALESCE(SUM(cl.on_time = 0), 0)              AS late,
       COALESCE(SUM(cl.id IS NOT NULL AND cl.on_time IS NULL), 0) AS timing_unknown,
       COALESCE(SUM(cl.id IS NOT NULL AND cl.duration_seconds IS NULL), 0) AS length_unknown,
       COALESCE(SUM(cl.size), 0)                     AS bytes,
       GROUP_CONCAT(DISTINCT c.badge)                AS badges
FROM inspections i
LEFT JOIN checkouts c ON c.task_id = i.task_id
LEFT JOIN clips cl ON cl.checkout_id = c.id
WHERE i.draw_id = ?
GROUP BY i.id
"""


def state_of(clips: int, late: int) -> str:
    if clips == 0:
        return "none"
    return "late" if late else "ingested"


def period_status(app: Avledger, period: str) -> dict[str, Any]:
    """Footage per inspection of the period's live draw, with totals."""
    conn = app.catalog.conn
    draw_row = resolve(conn, period, period_only=True)
    footage = {r["task_id"]: dict(r) for r in conn.execute(_FOOTAGE, (draw_row["id"],))}
    rows = []
    for insp in inspections_of(conn, draw_row["id"]):
        f = footage[insp["task_id"]]
        badges = sorted(f["badges"].split(",")) if f["badges"] else []
        drawn = {p["badge"] for p in insp["inspectors"]}
        rows.append({
            "task_id": insp["task_id"], "enterprise_id": insp["enterprise_id"],
            "enterprise_name": insp["enterprise_name"],
            "inspectors": [p["badge"] for p in insp["inspectors"]],
            "state": state_of(f["clips"], f["late"]),
            "checkouts": f["checkouts"], "still_out": f["still_out"], "clips": f["clips"],
            "late_clips": f["late"], "timing_unknown": f["timing_unknown"],
            "seconds": round(float(f["seconds"]), 3), "hours": round(f["seconds"] / 3600, 2),
            "length_unknown": f["length_unknown"], "bytes": f["bytes"],
            "recorded_by": badges, "not_drawn": sorted(set(badges) - drawn),
        })
    totals = {s: sum(1 for r in rows if r["state"] == s) for s in ("ingested", "late", "none")}
    prefix = str(draw_row["period"])
    unmatched = [dict(r) for r in conn.execute(
        "SELECT c.id AS checkout, c.task_id, c.badge, c.out_at, i.draw_id AS void_draw"
        " FROM checkouts c LEFT JOIN inspections i ON i.task_id = c.task_id"
        " WHERE (substr(c.task_id, 1, ?) = ? OR substr(c.task_id, 1, ?) = ?)"
        " AND c.task_id NOT IN (SELECT l.task_id FROM inspections l JOIN inspection_draws d"
        "   ON d.id = l.draw_id WHERE d.status = 'active')"
        " ORDER BY c.out_at",
        (len(prefix) + 1, f"{prefix}-", len(prefix) + 1, f"{prefix}r"))]
    return {"draw": draw_row["id"], "period": draw_row["period"], "round": draw_row["round"],
            "inspections": rows, "totals": {**totals, "all": len(rows),
                                            "clips": sum(r["clips"] for r in rows),
                                            "hours": round(sum(r["seconds"] for r in rows)
                                                           / 3600, 2)},
            "unmatched_task_ids": unmatched}
