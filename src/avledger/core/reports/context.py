"""What every section reads: the catalog, the period, the scope, and the clips — read twice.

The clips table is the one large table (a million rows is a normal catalog). It is read once
by *who* (recorder, officer, attribution, timeliness, status: everything the sections break
footage down by) and once by *when* (per month), each time straight from a covering index in
index order, so SQLite never sorts a million rows; the sections then sum those groups in
memory. Everything else a report reads is small.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from avledger.config.loader import Config
from avledger.core.reports.period import Period
from avledger.core.reports.scope import Scope
from avledger.store import db

NO_CHECKOUT = ("unattributed", "between-checkouts", "device-info")


# A clip belongs to a period by its recording time (corrected start); a clip whose recording
# time is unknown (clock reset, unparsed name) by the time it was handed in.
def clip_time(alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return f"COALESCE({prefix}corrected_start, {prefix}ingested_at)"


CLIP_TIME = clip_time()


class WhoGroup(NamedTuple):
    """Clips of the period sharing recorder, officer, attribution, timeliness and status."""

    device_id: int
    badge: str | None
    attribution: str
    on_time: int | None  # 1 on time, 0 late, None not judged (recording time unknown)
    status: str
    clips: int
    seconds: float
    no_duration: int
    bytes: int
    explained: int  # late clips with an explanation
    unknown_time: int


class MonthTotals(NamedTuple):
    clips: int
    seconds: float
    judged: int
    late: int
    no_checkout: int


_WHO = (
    "SELECT device_id, badge, attribution, on_time, status, COUNT(*), TOTAL(duration_seconds),"
    " SUM(duration_seconds IS NULL AND kind != 'photo'), TOTAL(size),"
    " SUM(late_reason IS NOT NULL AND trim(late_reason) != ''), SUM(corrected_start IS NULL)"
    f" FROM clips INDEXED BY reports_clips_who WHERE {CLIP_TIME} >= ? AND {CLIP_TIME} < ?"
    " GROUP BY device_id, badge, attribution, on_time, status")
_WHEN = (
    "SELECT COUNT(*), TOTAL(duration_seconds), SUM(on_time IS NOT NULL), SUM(on_time = 0),"
    f" SUM(attribution IN ({', '.join(repr(a) for a in NO_CHECKOUT)}))"
    " FROM clips INDEXED BY reports_clips_when")


@dataclass
class Context:
    conn: db.Connection
    config: Config
    period: Period
    scope: Scope
    now: datetime
    _who: list[WhoGroup] | None = field(default=None, init=False)
    _months: list[MonthTotals] | None = field(default=None, init=False)

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

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        cur.row_factory = None
        return cur.execute(sql, params).fetchall()

    def monthly(self, select: str, time_column: str, where: str = "",
                params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """One row of aggregates per month: ``select`` (SELECT … FROM …, no WHERE) over the
        rows whose ``time_column`` falls in the month, and ``where`` (`` AND …``). A range
        scan per month over an index on ``time_column``: nothing is sorted."""
        sql = f"{select} WHERE {time_column} >= ? AND {time_column} < ?{where}"
        return [self._rows(sql, [m.start, m.end, *(params or [])])[0]
                for m in self.period.months()]

    def who(self) -> list[WhoGroup]:
        """The period's clips in this scope, grouped by who (read once, shared)."""
        if self._who is None:
            rows = self._rows(_WHO, [self.period.start, self.period.end])
            self._who = [WhoGroup._make((*r[:8], int(r[8]), *r[9:])) for r in rows
                         if self.scope.has_clip(r[1], r[0])]
        return self._who

    def month_totals(self) -> list[MonthTotals]:
        """The period's clips in this scope, month by month (site time zone)."""
        if self._months is None:
            scope_sql, scope_params = self.scope.clip_filter()
            totals: list[list[Any]] = [
                [int(r[0]), float(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0)]
                for r in self.monthly(_WHEN, "corrected_start", scope_sql, scope_params)]
            self._add_unknown_times(totals)
            self._months = [MonthTotals(*t) for t in totals]
        return self._months

    def _add_unknown_times(self, totals: list[list[Any]]) -> None:
        """Clips without a recording time count in the month they were handed in."""
        ends = [m.end for m in self.period.months()]
        for ingested, seconds, on_time, attribution, badge, device_id in self._rows(
                "SELECT ingested_at, duration_seconds, on_time, attribution, badge, device_id"
                " FROM clips WHERE corrected_start IS NULL AND ingested_at >= ?"
                " AND ingested_at < ?", [self.period.start, self.period.end]):
            if not self.scope.has_clip(badge, device_id):
                continue
            t = totals[bisect_right(ends, ingested)]
            t[0] += 1
            t[1] += seconds or 0.0
            t[2] += on_time is not None
            t[3] += on_time == 0
            t[4] += attribution in NO_CHECKOUT
