"""Report periods: dates in the site's time zone, turned into UTC bounds the catalog compares.

Every stored time is a UTC ISO string in one fixed format (``clock.iso``), so a period is two
such strings and a clip belongs to it when ``start <= time < end``. Months are cut at local
midnight on the first, so a clip recorded at 07:30 on 1 March in Shanghai counts in March even
though it is still February in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from avledger.errors import RefusedError
from avledger.i18n import _
from avledger.timestamps import iso


@dataclass(frozen=True)
class Month:
    label: str  # 2026-03
    start: str  # UTC ISO
    end: str


@dataclass(frozen=True)
class Period:
    first: date  # first day, local
    last: date  # last day, local (inclusive)
    tz: str

    @classmethod
    def year(cls, year: int, tz: str) -> Period:
        if not 1970 <= year <= 9998:
            raise RefusedError(_("year {year} is out of range").format(year=year))
        return cls(date(year, 1, 1), date(year, 12, 31), tz)

    @classmethod
    def span(cls, first: date, last: date, tz: str) -> Period:
        if last < first:
            raise RefusedError(_("the period ends ({last}) before it starts ({first})").format(
                                   last=last, first=first))
        return cls(first, last, tz)

    @classmethod
    def previous_month(cls, today: date, tz: str) -> Period:
        last = today.replace(day=1) - timedelta(days=1)
        return cls(last.replace(day=1), last, tz)

    def _utc(self, day: date) -> str:
        return iso(datetime.combine(day, time(0), tzinfo=ZoneInfo(self.tz)))

    @property
    def start(self) -> str:
        return self._utc(self.first)

    @property
    def end(self) -> str:
        return self._utc(self.last + timedelta(days=1))

    @property
    def end_moment(self) -> datetime:
        return datetime.fromisoformat(self.end)

    @property
    def label(self) -> str:
        if self.first.month == 1 and self.first.day == 1 and self.last == date(
                self.first.year, 12, 31):
            return str(self.first.year)
        return f"{self.first.isoformat()} – {self.last.isoformat()}"

    def months(self) -> list[Month]:
        """Calendar months overlapping the period, each clipped to it."""
        out: list[Month] = []
        cursor = self.first
        while cursor <= self.last:
            following = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
            stop = min(following, self.last + timedelta(days=1))
            out.append(Month(cursor.strftime("%Y-%m"), self._utc(cursor), self._utc(stop)))
            cursor = stop
        return out

    def as_dict(self) -> dict[str, str]:
        return {"first_day": self.first.isoformat(), "last_day": self.last.isoformat(),
                "timezone": self.tz, "start_utc": self.start, "end_utc": self.end}


def month_case(column: str, months: list[Month]) -> tuple[str, list[str]]:
    """SQL that maps a UTC ISO time column to its month index (0-based), and its parameters.

    Rows outside the period get NULL; the caller filters on the period bounds anyway.
    """
    parts = [f"WHEN {column} < ? THEN {i}" for i in range(len(months))]
    params = [m.end for m in months]
    return "CASE " + " ".join(parts) + " END", params
