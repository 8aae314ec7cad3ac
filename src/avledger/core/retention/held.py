"""Which clips are under a hold: the membership queries every reader of holds shares.

Kept apart from ``holds`` (placing and releasing) so that the retention facts and the store's
Object Lock mirror can read hold membership without importing the module that calls them.
"""

from __future__ import annotations

from avledger.store import db

# A recording overlaps [from, to] when it starts before 'to' and ends after 'from'; without a
# corrected time the device's own time is used, without an end the start.
DEVICE_RANGE = (
    "c.device_id = h.device_id"
    " AND COALESCE(c.corrected_start, c.device_start) <= h.to_ts"
    " AND COALESCE(c.corrected_end, c.corrected_start, c.device_end, c.device_start) >= h.from_ts"
)


def clips_under_hold(conn: db.Connection, hold_id: int) -> list[int]:
    """Every clip the hold covers now (case holds follow the case's current links)."""
    rows = conn.execute(
        "SELECT hc.clip_id FROM hold_clips hc WHERE hc.hold_id = :h"
        " UNION SELECT cc.clip_id FROM holds h JOIN clip_cases cc ON cc.case_id = h.case_id"
        "  WHERE h.id = :h AND h.scope = 'case'"
        f" UNION SELECT c.id FROM holds h JOIN clips c ON {DEVICE_RANGE}"
        "  WHERE h.id = :h AND h.scope = 'device'"
        " ORDER BY 1", {"h": hold_id})
    return [int(r[0]) for r in rows]


def held_clip_ids(conn: db.Connection) -> set[int]:
    """Every clip under at least one active hold (the sweep plan reads this once)."""
    rows = conn.execute(
        "SELECT hc.clip_id FROM holds h JOIN hold_clips hc ON hc.hold_id = h.id"
        "  WHERE h.released_at IS NULL"
        " UNION SELECT cc.clip_id FROM holds h JOIN clip_cases cc ON cc.case_id = h.case_id"
        "  WHERE h.released_at IS NULL AND h.scope = 'case'"
        f" UNION SELECT c.id FROM holds h JOIN clips c ON {DEVICE_RANGE}"
        "  WHERE h.released_at IS NULL AND h.scope = 'device'")
    return {int(r[0]) for r in rows}
