"""The command groups' plumbing: the one error edge, and sub-commands that load when run.

Every TAB of shell completion, every command the desk types and every recorder the udev
service docks starts one ``avledger`` process, so start-up is paid many times a day. The
top-level group therefore knows its sub-commands from a static table (name and one-line
help): listing them (``--help``, completion) imports no command module, and running one
imports that module alone, with the libraries it needs.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import traceback
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal, NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.exceptions import TyperException
from typer.models import CommandInfo

from avledger import i18n
from avledger.cli.usage import one_line
from avledger.cli.words import translate_help
from avledger.errors import AvledgerError, StorageError
from avledger.i18n import _
from avledger.timestamps import EARLIEST, LATEST


class AvledgerGroup(TyperGroup):
    """The one exit path: an AvledgerError becomes one line on stderr and its exit code.

    A usage error (a bad or missing option) is one line in plain words too (``usage.py``).
    Anything else that escapes (a bug, an unforeseen OS error) is still one line — the
    traceback only with ``-v`` — so people never see a stack dump. Before anything runs, every
    number and date option is range-checked (``bound_values``; a lazily loaded command when
    it is loaded). The language is chosen first of all, before any help is translated.
    """

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        choose_language(sys.argv[1:] if args is None else list(args))
        translate_help(self)
        bound_values(self)
        return super().main(args, *rest, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise  # a bare command group: Typer shows its help
        except UsageError as exc:
            _stderr_line(_("avledger: error: {message}").format(message=one_line(exc)))
            raise typer.Exit(exc.exit_code) from None
        except (TyperException, typer.Exit, typer.Abort):
            raise  # --help, explicit exits: Typer renders these itself
        except AvledgerError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            _stderr_line(_("avledger: interrupted"))
            raise typer.Exit(130) from None
        except BrokenPipeError:
            silence_stdout()
            raise typer.Exit(1) from None
        except OSError as exc:
            _fail(StorageError.from_os(exc, "running the command"))
        except Exception as exc:
            _fail(AvledgerError(_("internal error: {kind}: {error}").format(
                kind=type(exc).__name__, error=exc),
                hint=_("run again with -v for the traceback and report it")))


def _stderr_line(text: str) -> None:
    from avledger.cli.common import err_console  # rich loads only when there is an error

    err_console.print(text, markup=False, highlight=False, soft_wrap=True)


def _fail(exc: AvledgerError) -> NoReturn:
    from avledger.cli.common import STATE

    if STATE.verbose:
        _stderr_line(traceback.format_exc())
    _stderr_line(_("avledger: error: {message}").format(message=exc.one_line()))
    raise typer.Exit(int(exc.exit_code)) from None


VALUED_OPTIONS = ("-c", "--config", "--lang")  # avledger's own options that take a value


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


def choose_language(argv: Sequence[str]) -> None:
    """``--lang``, else the caller's locale, else ``site.language`` (read only if needed)."""

    def site_language() -> str:
        from avledger.config.language import site_language

        config = top_level_option(argv, "-c", "--config")
        return site_language(Path(config) if config else None, os.environ)

    i18n.use(i18n.choose(top_level_option(argv, "--lang"), os.environ, site_language))


def silence_stdout() -> None:
    """``avledger … | head``: the reader has all it wanted. Stop quietly, like other Unix
    tools; further output (the final flush at exit included) goes nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


# ---- flags in help ------------------------------------------------------------------------

_value_placeholder = TyperOption.display_type_rich


def _no_placeholder_for_flags(option: TyperOption, ctx: Any) -> str | None:
    """Typer (0.29) writes a ``<bool>`` placeholder after every flag in the rich help
    (``--verbose -v <bool>``), which reads as if the flag took a value: flags get none."""
    if option.is_flag or option.count:
        return None
    return _value_placeholder(option, ctx)


TyperOption.display_type_rich = _no_placeholder_for_flags  # type: ignore[method-assign,assignment]


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
        return (None if -INT_LIMIT <= value <= INT_LIMIT
                else _("{value} is out of range").format(value=value))
    if isinstance(value, float):
        if math.isfinite(value) and abs(value) <= FLOAT_LIMIT:
            return None
        return _("{value} is out of range (at most {limit} either way)").format(
            value=value, limit=f"{FLOAT_LIMIT:g}")
    if isinstance(value, datetime):
        if FIRST_DAY <= value.replace(tzinfo=None) <= LAST_DAY:
            return None
        return _("{value} is outside {first} … {last}").format(
            value=value.isoformat(sep=" "), first=f"{FIRST_DAY:%Y-%m-%d}",
            last=f"{LAST_DAY:%Y-%m-%d}")
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


@dataclass(frozen=True)
class LazyCommand:
    """One sub-command as the top level lists it, and where its code lives.

    ``target`` is ``module:attribute``: a Typer app (or a function returning one) for a
    group, the command function for a single command. ``help`` is the first paragraph
    of the command's own help; tests/test_cli_lazy.py checks the two agree. ``prepare``,
    also ``module:attribute``, is called with the sub-command's words as typed before
    ``target`` is imported, to start work that can overlap the import (``ingest`` reads the
    recorder ahead).
    """

    name: str
    kind: Literal["command", "group"]
    target: str
    help: str
    prepare: str | None = None

    def start_preparing(self, args: Sequence[str]) -> None:
        if self.prepare is not None:
            module_name, attribute = self.prepare.split(":")
            getattr(importlib.import_module(module_name), attribute)(args)

    def stub(self) -> TyperCommand:
        """A stand-in carrying only what listings show (name, one-line help)."""
        return TyperCommand(name=self.name, help=self.help, callback=None)

    def load(self, *, rich_markup_mode: Any) -> Any:
        module_name, attribute = self.target.split(":")
        obj = getattr(importlib.import_module(module_name), attribute)
        if self.kind == "command":
            command = typer.main.get_command_from_info(
                CommandInfo(name=self.name, callback=obj, cls=PlainFlagsCommand),
                pretty_exceptions_short=True, rich_markup_mode=rich_markup_mode)
            translate_help(command)
            return command
        sub_app = obj if isinstance(obj, typer.Typer) else obj()
        group = typer.main.get_group(sub_app)
        group.name = self.name
        translate_help(group)
        return group


class PlainFlagsCommand(TyperCommand):
    """A top-level single command whose flags and paths are converted without pydantic."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        coerce_simple_options_plainly(self.get_params(ctx))
        return super().parse_args(ctx, args)


class LazyGroup(AvledgerGroup):
    """A group whose sub-commands come from ``table`` and are imported when resolved.

    Listings (help, completion of a sub-command's name) see stand-ins; anything else that
    asks for a command by name — running it, completing its options, the reference
    generator — gets the real one, imported then and kept.
    """

    table: ClassVar[Sequence[LazyCommand]] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lazy = {entry.name: entry for entry in self.table}
        for name, entry in self._lazy.items():
            self.commands.setdefault(name, entry.stub())
        self._listing = False

    @contextmanager
    def _listing_only(self) -> Iterator[None]:
        before, self._listing = self._listing, True
        try:
            yield
        finally:
            self._listing = before

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        coerce_simple_options_plainly(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        entry = self._lazy.get(args[0]) if args else None
        if entry is not None and not self._listing and not ctx.resilient_parsing:
            entry.start_preparing(args[1:])
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = self._lazy.get(cmd_name)
        if entry is not None and not self._listing:
            del self._lazy[cmd_name]
            self.commands[cmd_name] = entry.load(rich_markup_mode=self.rich_markup_mode)
            bound_values(self.commands[cmd_name])
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with self._listing_only():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        with self._listing_only():
            return super().shell_complete(ctx, incomplete)


def coerce_simple_options_plainly(params: Iterable[Any]) -> None:
    """Convert flags, paths and plain text without pydantic.

    Typer coerces every option value through a pydantic TypeAdapter, and importing pydantic
    costs more than all the rest of the start-up. Flags, paths and text need none of that, so the
    top level's options and single commands' flags get a plain conversion instead. Typer's
    coercion layer is private: if it changes shape, this quietly does nothing and Typer
    coerces as before.
    """
    try:
        from typer._coercion import PassThroughRuntimeParam
    except ImportError:  # pragma: no cover - another Typer generation
        return

    class PlainRuntimeParam(PassThroughRuntimeParam):
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if self.annotation is Path and isinstance(value, str):
                return Path(value)
            return super()._coerce_value(value, param, ctx)

    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if (descriptor is None or getattr(param, "_runtime_param", "absent") is not None
                or descriptor.annotation not in (bool, Path, str) or param.multiple):
            continue
        param._runtime_param = PlainRuntimeParam(
            parameter_info=descriptor.parameter_info, annotation=descriptor.annotation)
