"""What every section reads: the catalog, the period, the scope, and one pass over the clips.

The clips table is the one large table (a million rows is a normal catalog), so it is read
once per report, grouped by everything the sections break footage down by; each section then
sums those groups in memory. Everything else a report reads is small.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from avledger.config.loader import Config
from avledger.core.reports.period import Period, month_case
from avledger.core.reports.scope import Scope


# A clip belongs to a period by its recording time (corrected start); a clip whose recording
# time is unknown (clock reset, unparsed name) by the time it was handed in.
def clip_time(alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return f"COALESCE({prefix}corrected_start, {prefix}ingested_at)"


CLIP_TIME = clip_time()


class ClipGroup(NamedTuple):
    month: int
    device_id: int
    badge: str | None
    attribution: str
    on_time: int | None
    explained: int
    status: str
    unknown_time: int
    clips: int
    seconds: float
    no_duration: int
    bytes: int


@dataclass
class Context:
    conn: sqlite3.Connection
    config: Config
    period: Period
    scope: Scope
    now: datetime
    _groups: list[ClipGroup] | None = field(default=None, init=False)

    @property
    def tz(self) -> str:
        return self.config.timezone

    @property
    def window_hours(self) -> float:
        return float(self.config.get("window.hours"))

    @property
    def horizon(self) -> datetime:
        """The period's end, or now if the period has not ended yet."""
        return min(self.period.end_moment, self.now)

    def clip_groups(self) -> list[ClipGroup]:
        """Clips of the period in this scope, grouped (read once, shared by the sections)."""
        if self._groups is None:
            months = self.period.months()
            case, params = month_case(CLIP_TIME, months)
            cur = self.conn.cursor()
            cur.row_factory = None
            rows = cur.execute(
                f"SELECT {case} AS m, device_id, badge, attribution, on_time,"
                " (late_reason IS NOT NULL AND trim(late_reason) != '') AS explained, status,"
                " corrected_start IS NULL AS unknown_time, COUNT(*),"
                " TOTAL(duration_seconds), SUM(duration_seconds IS NULL), TOTAL(size)"
                f" FROM clips WHERE {CLIP_TIME} >= ? AND {CLIP_TIME} < ?"
                " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
                [*params, self.period.start, self.period.end]).fetchall()
            self._groups = [ClipGroup._make((*r[:11], int(r[11]))) for r in rows
                            if self.scope.has_clip(r[2], r[1])]
        return self._groups
