"""Work a sub-command starts from its words as typed, before the command line is parsed.

Python reads avledger, Typer and the other libraries one file at a time: from a cold disk that
is a few tenths of a second during which a recorder's disk would sit idle. A sub-command with
work that can start before its code is loaded (``ingest`` reads the recorder ahead,
``ingest_early``) names it in ``EARLY_WORK``; the entry point (``launch``) starts it before
Typer is imported, and the group's own call (``LazyGroup.resolve_command``, for in-process
runs) finds it started. The words are looked at as typed, not parsed: a wrong guess costs
wasted work, never a wrong result. Only the standard library is imported here.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

VALUED_OPTIONS = ("-c", "--config", "--lang")  # avledger's own options that take a value
ANSWERED_AT_ONCE = ("--help", "-h", "--version")  # the program stops before any sub-command
# Sub-commands with work to start before their code loads: ``module:function(words)``.
EARLY_WORK = {"ingest": "avledger.cli.ingest_early:prepare"}


def top_level_option(argv: Sequence[str], *names: str) -> str | None:
    """The value of one of avledger's own options (given before the sub-command), if any."""
    args = list(argv)
    while args:
        arg = args.pop(0)
        for name in names:
            if arg == name and args:
                return args[0]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.removeprefix(name + "=")
        if arg in VALUED_OPTIONS and args:
            args.pop(0)
        elif arg == "--" or not arg.startswith("-"):
            return None
    return None


def sub_command(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """The sub-command's name and the words after it, as typed; None when there is none or
    the program answers before reaching it (``--help``, ``--version``)."""
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ANSWERED_AT_ONCE or arg == "--":
            return None
        if arg in VALUED_OPTIONS:
            if args:
                args.pop(0)
        elif not arg.startswith("-"):
            return arg, args
    return None


def start_early_work(name: str, words: Sequence[str]) -> None:
    """Start ``name``'s early work, if it has any, with the words typed after it."""
    target = EARLY_WORK.get(name)
    if target is not None:
        module_name, attribute = target.split(":")
        getattr(importlib.import_module(module_name), attribute)(words)
