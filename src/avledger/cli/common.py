"""Shared CLI plumbing: global state, output helpers and options (the error edge is in group.py).

Commands stay thin: parse options, call one ``core`` function, render with ``emit``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:  # loaded when a command needs them, not when the module is imported
    from rich.progress import Progress
    from rich.table import Table

    from avledger.config.loader import Config
    from avledger.core.app import Avledger

console = Console()
err_console = Console(stderr=True)



@dataclass
class GlobalState:
    config_path: Path | None = None
    verbose: bool = False


STATE = GlobalState()


def new_app(help_text: str, **kwargs: Any) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode="rich",
                       pretty_exceptions_enable=False, **kwargs)


# ---- shared options ----------------------------------------------------------------------

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of tables.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run",
                                          help="Show what would happen; change nothing.")]


def load_config() -> Config:
    from avledger.config import loader

    return loader.load(STATE.config_path)


@contextmanager
def session(*, daemon: bool = False) -> Iterator[Avledger]:
    from avledger.core.app import Avledger

    app = Avledger.open(load_config(), daemon=daemon)
    try:
        yield app
    finally:
        app.close()


# ---- output ---------------------------------------------------------------------------------


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    from rich.table import Table

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
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(), console=err_console,
        disable=not err_console.is_terminal, transient=False,
    )
