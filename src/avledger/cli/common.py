"""Shared CLI plumbing: global state, output helpers and options (the error edge is in group.py).

Commands stay thin: parse options, call one ``core`` function, render with ``emit``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # loaded when a command needs them, not when the module is imported
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from avledger.config.loader import Config
    from avledger.core.app import Avledger

    console: Console  # made on first use (``__getattr__`` below)
    err_console: Console

_consoles: dict[str, Console] = {}


def __getattr__(name: str) -> Any:
    """``console`` and ``err_console`` are made on first use: a command whose output is JSON,
    or goes to a pipe with no terminal to draw on, never loads rich's console (an ingest
    started by udev, a script; tests/test_cli_lazy.py checks it)."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not _consoles:
        from rich.console import Console

        _consoles.update(console=Console(), err_console=Console(stderr=True))
        globals().update(_consoles)
    return _consoles[name]


def stderr_is_terminal() -> bool:
    """Whether progress can be drawn on stderr — asked without loading rich when plainly not
    (no terminal and none forced by the variables rich honours)."""
    forced = bool(os.environ.get("FORCE_COLOR")) or os.environ.get("TTY_COMPATIBLE") == "1"
    try:
        plain = not forced and not sys.stderr.isatty()
    except ValueError:  # stderr closed
        plain = True
    return False if plain else bool(__getattr__("err_console").is_terminal)


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


SHORT_HEADER_CELLS = 10  # a heading of up to five Chinese characters
SHORT_CELLS = 20  # serial numbers, badges, states, counts: never wrapped
FOLD_FLOOR = 10  # a long column is never narrower than a date, unless its words are Chinese


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """A table that stays aligned in any language, at any terminal width.

    Rich measures a Chinese character as two cells, so borders line up; the widths are
    worked out here so that nothing is cut. A column whose values are all single short words
    (serials, badges, states, numbers) is never wrapped; any other column folds, between
    words, or between characters for Chinese text, so a date and its time may go on two lines
    but no word is cut. When even that cannot fit (many columns, a narrow terminal) each row
    is shown as its own block of name and value. Dates are ISO 8601 (2026-12-03 14:05:00) in
    every language: what the desk types back into --since, and what sorts.
    """
    from rich.markup import render
    from rich.table import Table

    cells = [["" if v is None else str(v) for v in row] for row in rows]
    plain = [[render(v).plain for v in row] for row in cells]
    if plain:  # a named column empty in every row says nothing: its room goes to the others
        keep = [i for i, name in enumerate(columns)
                if not name or any(i < len(row) and row[i].strip() for row in plain)]
        columns = [columns[i] for i in keep]
        cells = [[row[i] for i in keep if i < len(row)] for row in cells]
        plain = [[row[i] for i in keep if i < len(row)] for row in plain]
    values = [[row[i] for row in plain if i < len(row)] for i in range(len(columns))]
    widths = column_widths(columns, values, __getattr__("console").width)
    t = Table(title=title, title_justify="left", header_style="bold")
    if widths is None:  # one block per row
        t.show_header = False
        t.add_column(no_wrap=True)
        t.add_column(overflow="fold")
        for row in cells:
            for name, value in zip(columns, row, strict=False):
                t.add_row(name, value)
            t.add_section()
        return t
    for col, width, shown in zip(columns, widths, values, strict=True):
        fits = width >= max([_cells(col), *map(_cells, shown)])  # a narrower header folds
        t.add_column(col, width=width, overflow="fold", no_wrap=_short(shown) and fits)
    for row in cells:
        t.add_row(*row)
    return t


def column_widths(columns: Sequence[str], values: Sequence[Sequence[str]],
                  width: int) -> list[int] | None:
    """Each column's width so the table fits ``width`` cells, or None when it cannot."""
    room = width - (3 * len(columns) + 1)  # a border and a space either side per column
    longest = [max(map(_cells, shown), default=0) for shown in values]
    natural = [max(n, _cells(c)) for n, c in zip(longest, columns, strict=True)]
    if sum(natural) <= room:
        return natural
    floor = [max(n if _short(shown) else max(4, min(FOLD_FLOOR, _word(shown))), _header(c))
             for n, shown, c in zip(longest, values, columns, strict=True)]
    if sum(floor) > room:
        return None
    widths = list(natural)
    while sum(widths) > room:  # narrow the column with the most to spare, a cell at a time
        spare = max(range(len(widths)), key=lambda i: widths[i] - floor[i])
        widths[spare] -= 1
    return widths


def _cells(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.splitlines()), default=0)


def _header(name: str) -> int:
    """The narrowest a column may be for its heading: a short heading (编号, 执法证号) stays on
    one line; only a long one may fold between words (or Chinese characters)."""
    return _cells(name) if _cells(name) <= SHORT_HEADER_CELLS else _word([name])


def _short(shown: Sequence[str]) -> bool:
    return bool(shown) and all(" " not in v and "\n" not in v and _cells(v) <= SHORT_CELLS
                               for v in shown)


def _word(texts: Sequence[str]) -> int:
    """The widest word that must not be broken (Chinese may break between any characters)."""
    import unicodedata

    def unbreakable(word: str) -> int:
        wide = any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in word)
        return 2 if wide else _cells(word)

    return max((unbreakable(w) for text in texts for w in text.split()), default=1)


def emit(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    if as_json:
        print_json(data)
    else:
        render()


def byte_progress(description: str = "working", *, label_width: int = 0) -> Progress:
    """A rich progress bar for byte-counted work (bytes/s and ETA); silent when not a TTY.
    ``label_width`` right-aligns the task labels in a column that wide (one bar per clip)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn(f"[bold]{{task.description:>{label_width}}}" if label_width
                   else "[bold]{task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(), console=__getattr__("err_console"),
        disable=not stderr_is_terminal(), transient=False,
    )
