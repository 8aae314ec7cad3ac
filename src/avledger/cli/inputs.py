"""Values from the person at the desk: prompts at a terminal, options everywhere else.

At a desk terminal a missing option is asked for; in a script (stdin not a terminal) it is a
usage error naming the option, so nothing ever waits for input that cannot come. Times typed
without an offset are in the site's zone.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import typer

from avledger.i18n import _
from avledger.timestamps import parse_iso

TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z"]


def interactive() -> bool:
    return sys.stdin.isatty()


def ask(ctx: typer.Context, value: Any, label: str, option: str, *, type_: Any = str) -> Any:
    """``value`` if given; else a prompt at a terminal; else a usage error naming ``option``."""
    if value is not None:
        return value
    if interactive():
        return typer.prompt(label, type=type_)
    ctx.fail(_("Missing option '{option}' (stdin is not a terminal, so it was not asked).")
             .format(option=option))


def to_utc(value: datetime | None, tz: str) -> datetime | None:
    """A typed time as UTC; one without an offset is taken in the site's zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return parse_iso(value.isoformat())
