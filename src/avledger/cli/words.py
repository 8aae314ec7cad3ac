"""The command line in the reader's language: help texts, and Click's and Typer's own words.

Help texts are written in English where they are defined (command docstrings, ``help=`` of
options and arguments, the command table of ``cli/main.py``) and translated here, as each
command loads, so a command module's source stays plain. ``avledger.i18n_extract`` finds
the same strings for the catalog. Typer translates its own words ("Options", "Commands",
"Missing command") through the standard library's global gettext domain, which
``avledger.i18n.use`` binds to avledger's catalog; the few words of Typer's bundled Click
that bypass gettext ("Usage:", "Show this message and exit.", its usage errors) are marked
below and translated where they are shown.
"""

from __future__ import annotations

import re
from typing import Any

from typer._click.core import Command
from typer.core import TyperCommand, TyperGroup

from avledger.i18n import N_, _

USAGE_PREFIX = N_("Usage: ")
HELP_OPTION_HELP = N_("Show this message and exit.")
# Typer's completion options, written without gettext: their help is translated with the rest.
COMPLETION_HELP = (
    N_("Install completion for the current shell."),
    N_("Show completion for the current shell, to copy it or customize the installation."),
)

# Typer's bundled Click writes these without gettext: (its English, the message id to show).
CLICK_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), msgid) for pattern, msgid in (
        (r"^Missing argument (?P<name>.+?)\.?$", N_("Missing argument {name}.")),
        (r"^Missing option (?P<name>.+?)\.?$", N_("Missing option {name}.")),
        (r"^Missing parameter (?P<name>.+?)\.?$", N_("Missing parameter {name}.")),
        (r"^No such option: (?P<name>.+)$", N_("No such option: {name}")),
        (r"^Option (?P<name>'.+?') requires an argument\.$",
         N_("Option {name} requires an argument.")),
        (r"^Option (?P<name>'.+?') requires (?P<count>\d+) arguments\.$",
         N_("Option {name} requires {count} arguments.")),
        (r"^Option (?P<name>'.+?') does not take a value\.$",
         N_("Option {name} does not take a value.")),
        (r"^Got unexpected extra arguments? \((?P<args>.*)\)$",
         N_("Got unexpected extra argument(s) ({args})")),
        (r"^Invalid value for (?P<name>.+?): (?P<problem>.*)$",
         N_("Invalid value for {name}: {problem}")),
        (r"^Invalid value: (?P<problem>.*)$", N_("Invalid value: {problem}")),
    ))


def click_error(message: str) -> str:
    """A message of Typer's bundled Click in the reader's language (others pass unchanged)."""
    for pattern, msgid in CLICK_ERRORS:
        match = pattern.match(message)
        if match:
            return _(msgid).format(**match.groupdict())
    return message


def translate_help(command: Any) -> None:
    """Put ``command``'s help, its parameters' help and its loaded sub-commands' in the
    chosen language. The English is kept, so a later choice translates from it again."""
    for obj in (command, *command.params):
        english = obj.__dict__.setdefault("english_help", getattr(obj, "help", None))
        if english:
            obj.help = _(english)
    for sub in getattr(command, "commands", {}).values():
        translate_help(sub)


# ---- Click's words that bypass gettext --------------------------------------------------------

_help_option = Command.get_help_option


def _format_usage(self: Command, ctx: Any, formatter: Any) -> None:
    formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)),
                          prefix=_(USAGE_PREFIX))


def _translated_help_option(self: Command, ctx: Any) -> Any:
    option = _help_option(self, ctx)
    if option is not None:
        option.help = _(HELP_OPTION_HELP)
    return option


Command.format_usage = _format_usage  # type: ignore[method-assign]
Command.get_help_option = _translated_help_option  # type: ignore[method-assign]


# ---- help in Chinese: fold, do not cut ---------------------------------------------------------


def fold_long_words() -> None:
    """Typer draws option help as text that cuts a word too long for its column with '…'.
    Chinese has no spaces, so a whole sentence is one such word: fold it instead. Applied
    when help is first drawn (Typer's rich_utils, and rich, load only then)."""
    from rich.text import Text
    from typer import rich_utils

    original = rich_utils._get_parameter_help
    if getattr(original, "folds", False):
        return

    def folded(**kwargs: Any) -> Any:
        columns = original(**kwargs)
        for item in columns.renderables:
            if isinstance(item, Text):
                item.overflow = "fold"
        return columns

    folded.folds = True  # type: ignore[attr-defined]
    rich_utils._get_parameter_help = folded


def _folding(format_help: Any) -> Any:
    def format_help_folded(self: Any, ctx: Any, formatter: Any) -> None:
        fold_long_words()
        format_help(self, ctx, formatter)

    return format_help_folded


TyperCommand.format_help = _folding(TyperCommand.format_help)  # type: ignore[method-assign]
TyperGroup.format_help = _folding(TyperGroup.format_help)  # type: ignore[method-assign]
