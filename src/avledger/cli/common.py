"""Shared CLI plumbing: global state, the one error edge, output helpers and options.

Commands stay thin: parse options, call one ``core`` function, render with ``emit``.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
    traceback only with ``-v`` — so people never see a stack dump.
    """

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
