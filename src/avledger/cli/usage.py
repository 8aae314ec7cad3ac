"""Usage errors as one line in plain words, for every command at once.

Typer checks option values through pydantic and reports what pydantic says ("Input should be
a valid datetime or date, input is too short", "Value error, 'toaster' is not one of …"),
in a framed box. People at the desk get one line instead: which option, what was typed, and
what would have been right.
"""

from __future__ import annotations

import re
from typing import Any

from typer._click.exceptions import BadParameter, MissingParameter, UsageError

from avledger.cli.words import click_error
from avledger.i18n import N_, _

TIME_EXAMPLE = N_("write it as 2026-11-30 or \"2026-11-30 14:00\"")
_CHOICES = re.compile(r"^(?P<value>.+?) is not one of (?P<choices>.+?)\.?$")


def one_line(exc: UsageError) -> str:
    """``--since: 'yesterday' is not a date or time; write it as … (hint: …)``."""
    where = _where(exc)
    text = _plain(exc)
    hint = ""
    if exc.ctx is not None:
        hint = _(" (hint: see '{command} -h')").format(command=exc.ctx.command_path)
    return f"{where}{text}{hint}"


def _where(exc: UsageError) -> str:
    if not isinstance(exc, BadParameter) or isinstance(exc, MissingParameter) \
            or exc.param is None:
        return ""
    opts = [o for o in getattr(exc.param, "opts", []) if o.startswith("--")]
    name = opts[0] if opts else str(getattr(exc.param, "name", "") or "").upper()
    return f"{name}: " if name else ""


def _plain(exc: UsageError) -> str:
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if not callable(errors) or not errors():
        return click_error(_sentence(exc.format_message() if isinstance(exc, MissingParameter)
                                     else exc.message))
    first: dict[str, Any] = errors()[0]
    kind, value = str(first.get("type", "")), first.get("input")
    shown = f"'{value}'" if isinstance(value, str) else repr(value)
    ctx = first.get("ctx") or {}
    if kind.startswith(("datetime", "date")):
        out_of_range = "range" in str(first.get("msg", ""))
        problem = (_("{value} is not a valid date or time; {how}") if out_of_range
                   else _("{value} is not a date or time; {how}"))
        return problem.format(value=shown, how=_(TIME_EXAMPLE))
    if kind == "value_error":
        said = str(ctx.get("error", first.get("msg", "")))
        match = _CHOICES.match(said)
        if match:
            choices = ", ".join(c.strip().strip("'\"") for c in match["choices"].split(","))
            return _("{value} is not one of: {choices}").format(value=match["value"],
                                                                choices=choices)
        return _sentence(said)
    if kind in ("int_parsing", "int_from_float"):
        return _("{value} is not a whole number").format(value=shown)
    if kind == "float_parsing":
        return _("{value} is not a number").format(value=shown)
    bounds = {"greater_than_equal": N_("{value} is too small: must be at least {ge}"),
              "greater_than": N_("{value} is too small: must be more than {gt}"),
              "less_than_equal": N_("{value} is too large: must be at most {le}"),
              "less_than": N_("{value} is too large: must be less than {lt}")}
    if kind in bounds:
        return _(bounds[kind]).format(value=shown, **ctx)
    return click_error(_sentence(str(first.get("msg", exc.message))))


def _sentence(text: str) -> str:
    """Drop pydantic's prefixes; keep the rest as it is."""
    text = re.sub(r"^Value error, ", "", text.strip())
    return re.sub(r"^Input should be ", "should be ", text)
