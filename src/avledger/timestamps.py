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
