"""Time helpers: everything stored is UTC ISO-8601 with offset; display in the site zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """Stored form: UTC, microseconds kept, explicit +00:00."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime given where UTC is required")
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"time without offset: {text!r}")
    return dt.astimezone(UTC)


def local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


def display(dt: datetime | str | None, tz: str) -> str:
    if dt is None:
        return ""
    if isinstance(dt, str):
        dt = parse_iso(dt)
    return local(dt, tz).strftime("%Y-%m-%d %H:%M:%S")


# A recorder's clock or a typed date outside these bounds is not a time this system can mean
# (and near datetime's own limits, adding a duration or a zone offset overflows).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def in_range(dt: datetime) -> bool:
    """Is ``dt`` (aware) within [EARLIEST, LATEST)?"""
    return EARLIEST <= dt < LATEST


def zoned_to_utc(naive: datetime, tz: str) -> datetime:
    """A wall-clock time in zone ``tz`` as UTC; ValueError when it is outside the usable range
    (a recorder writing 0001-01-01 or 9999-12-31 is not an internal error)."""
    try:
        moment = naive.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not in_range(moment):
        raise ValueError(f"impossible date {naive.isoformat(sep=' ')} (outside "
                         f"{EARLIEST:%Y-%m-%d} … {LATEST:%Y-%m-%d})")
    return moment
