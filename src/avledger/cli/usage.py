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

TIME_EXAMPLE = "write it as 2026-11-30 or \"2026-11-30 14:00\""
_CHOICES = re.compile(r"^(?P<value>.+?) is not one of (?P<choices>.+?)\.?$")


def one_line(exc: UsageError) -> str:
    """``--since: 'yesterday' is not a date or time; write it as … (hint: …)``."""
    where = _where(exc)
    text = _plain(exc)
    hint = ""
    if exc.ctx is not None:
        hint = f" (hint: see '{exc.ctx.command_path} -h')"
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
        return _sentence(exc.format_message() if isinstance(exc, MissingParameter)
                         else exc.message)
    first: dict[str, Any] = errors()[0]
    kind, value = str(first.get("type", "")), first.get("input")
    shown = f"'{value}'" if isinstance(value, str) else repr(value)
    ctx = first.get("ctx") or {}
    if kind.startswith(("datetime", "date")):
        out_of_range = "range" in str(first.get("msg", ""))
        return (f"{shown} is not a {'valid ' if out_of_range else ''}date or time; "
                f"{TIME_EXAMPLE}")
    if kind == "value_error":
        said = str(ctx.get("error", first.get("msg", "")))
        match = _CHOICES.match(said)
        if match:
            choices = ", ".join(c.strip().strip("'\"") for c in match["choices"].split(","))
            return f"{match['value']} is not one of: {choices}"
        return _sentence(said)
    if kind in ("int_parsing", "int_from_float"):
        return f"{shown} is not a whole number"
    if kind == "float_parsing":
        return f"{shown} is not a number"
    bounds = {"greater_than_equal": "at least {ge}", "greater_than": "more than {gt}",
              "less_than_equal": "at most {le}", "less_than": "less than {lt}"}
    if kind in bounds:
        return f"{shown} is too {'small' if kind.startswith('greater') else 'large'}: must " \
               f"be {bounds[kind].format(**ctx)}"
    return _sentence(str(first.get("msg", exc.message)))


def _sentence(text: str) -> str:
    """Drop pydantic's prefixes; keep the rest as it is."""
    text = re.sub(r"^Value error, ", "", text.strip())
    return re.sub(r"^Input should be ", "should be ", text)
