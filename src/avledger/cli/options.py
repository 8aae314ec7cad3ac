"""Small CLI helpers shared by the records-office commands: typed times, counted progress."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from avledger.cli.common import err_console


def site_time(value: datetime, tz: str) -> datetime:
    """A time typed on the command line: in the site's zone unless it carries an offset."""
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(tz))


def count_progress() -> Progress:
    """A rich progress bar for counted work (n of m, ETA); silent when not a terminal."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=err_console,
                    disable=not err_console.is_terminal, transient=False)
