"""Shared CLI plumbing: global state, the one error edge, output helpers and options.

Commands stay thin: parse options, call one ``core`` function, render with ``emit``.
"""

from __future__ import annotations

import json
import math
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup, TyperOption
from typer.exceptions import TyperException

from avledger.cli.usage import one_line
from avledger.config import loader
from avledger.config.loader import Config
from avledger.core.app import Avledger
from avledger.errors import AvledgerError, StorageError
from avledger.timestamps import EARLIEST, LATEST

console = Console()
err_console = Console(stderr=True)

_value_placeholder = TyperOption.display_type_rich


def _no_placeholder_for_flags(option: TyperOption, ctx: Any) -> str | None:
    """Typer (0.29) writes a ``<bool>`` placeholder after every flag in the rich help
    (``--verbose -v <bool>``), which reads as if the flag took a value: flags get none."""
    if option.is_flag or option.count:
        return None
    return _value_placeholder(option, ctx)


TyperOption.display_type_rich = _no_placeholder_for_flags  # type: ignore[method-assign,assignment]


@dataclass
class GlobalState:
    config_path: Path | None = None
    verbose: bool = False


STATE = GlobalState()


class AvledgerGroup(TyperGroup):
    """The one exit path: an AvledgerError becomes one line on stderr and its exit code.

    A usage error (a bad or missing option) is one line in plain words too (``usage.py``).
    Anything else that escapes (a bug, an unforeseen OS error) is still one line — the
    traceback only with ``-v`` — so people never see a stack dump. Before anything runs, every
    number and date option of every command is range-checked (``bound_values``).
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        bound_values(self)
        return super().main(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise  # a bare command group: Typer shows its help
        except UsageError as exc:
            err_console.print(f"avledger: error: {one_line(exc)}", markup=False,
                              highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except (TyperException, typer.Exit, typer.Abort):
            raise  # usage errors, --help, explicit exits: Typer renders these itself
        except AvledgerError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            err_console.print("avledger: interrupted", markup=False)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            silence_stdout()
            raise typer.Exit(1) from None
        except OSError as exc:
            _fail(StorageError.from_os(exc, "running the command"))
        except Exception as exc:
            _fail(AvledgerError(f"internal error: {type(exc).__name__}: {exc}",
                                hint="run again with -v for the traceback and report it"))


# ---- range checks for every number and date option ------------------------------------------

INT_LIMIT = 2**63 - 1  # a catalog INTEGER
FLOAT_LIMIT = 1e9  # seconds (31 years), percentages, budgets: nothing typed means more
FIRST_DAY = (EARLIEST + timedelta(days=1)).replace(tzinfo=None)  # any zone's offset fits
LAST_DAY = (LATEST - timedelta(days=1)).replace(tzinfo=None)


def out_of_range(value: Any) -> str | None:
    """Why a typed value cannot be meant (too large for the catalog, not finite, a date
    outside what this system can hold), or None; lists are checked item by item."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if -INT_LIMIT <= value <= INT_LIMIT else f"{value} is out of range"
    if isinstance(value, float):
        if math.isfinite(value) and abs(value) <= FLOAT_LIMIT:
            return None
        return f"{value} is out of range (at most {FLOAT_LIMIT:g} either way)"
    if isinstance(value, datetime):
        if FIRST_DAY <= value.replace(tzinfo=None) <= LAST_DAY:
            return None
        return (f"{value.isoformat(sep=' ')} is outside {FIRST_DAY:%Y-%m-%d} … "
                f"{LAST_DAY:%Y-%m-%d}")
    if isinstance(value, list | tuple):
        return next((p for p in map(out_of_range, value) if p), None)
    return None


def _bounded(param: Any) -> None:
    original = param.callback
    if getattr(original, "bounded", False):
        return

    def check(ctx: Any, p: Any, value: Any) -> Any:
        problem = out_of_range(value)
        if problem:
            raise typer.BadParameter(problem, ctx=ctx, param=p)
        return original(ctx, p, value) if original else value

    check.bounded = True  # type: ignore[attr-defined]
    param.callback = check


def bound_values(command: Any) -> None:
    """Range-check every parameter of ``command`` and its sub-commands, in one place: a
    number or date that cannot be meant is a usage error, never an internal error later."""
    for param in command.params:
        _bounded(param)
    for sub in getattr(command, "commands", {}).values():
        bound_values(sub)
def silence_stdout() -> None:
    """``avledger … | head``: the reader has all it wanted. Stop quietly, like other Unix
    tools; further output (the final flush at exit included) goes nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _fail(exc: AvledgerError) -> NoReturn:
    if STATE.verbose:
        err_console.print(traceback.format_exc(), markup=False, highlight=False)
    err_console.print(f"avledger: error: {exc.one_line()}", markup=False,
                      highlight=False, soft_wrap=True)
    raise typer.Exit(int(exc.exit_code)) from None


def new_app(help_text: str, **kwargs: Any) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode="rich",
                       pretty_exceptions_enable=False, **kwargs)


# ---- shared options ----------------------------------------------------------------------

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of tables.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run",
                                          help="Show what would happen; change nothing.")]


def load_config() -> Config:
    return loader.load(STATE.config_path)


@contextmanager
def session(*, daemon: bool = False) -> Iterator[Avledger]:
    app = Avledger.open(load_config(), daemon=daemon)
    try:
        yield app
    finally:
        app.close()


# ---- output ---------------------------------------------------------------------------------


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold")
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t


def emit(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    if as_json:
        print_json(data)
    else:
        render()


def byte_progress(description: str = "working") -> Progress:
    """A rich progress bar for byte-counted work (bytes/s and ETA); silent when not a TTY."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(), console=err_console,
        disable=not err_console.is_terminal, transient=False,
    )
