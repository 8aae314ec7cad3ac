"""The ``avledger`` command: global options and the table of sub-commands.

Sub-command modules are imported only when one of them runs (see ``avledger.cli.group``);
this module must stay light, since every TAB of completion and every docked recorder
starts the command afresh.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from avledger import PROCESS_UMASK, __version__
from avledger.cli.group import LazyCommand, LazyGroup, silence_stdout
from avledger.i18n import _

# Order is the order ``avledger --help`` lists them: single commands, then groups.
COMMANDS: tuple[LazyCommand, ...] = (
    LazyCommand("init", "command", "avledger.cli.init_cmd:init",
                'Create the evidence store, catalog, ledger signing key and (in '
                'AVLEDGER_HOME) a config.'),
    LazyCommand("status", "command", "avledger.cli.status_cmd:status",
                'One-screen summary: store, clips, devices, checkouts, ledger and last '
                'verifications.'),
    LazyCommand("migrate", "command", "avledger.cli.migrate_cmd:migrate",
                'Move a single-machine installation (local store, SQLite) into the '
                'shared backends.'),
    LazyCommand("daemon", "command", "avledger.cli.daemon_cmd:daemon",
                'Run the dock daemon: ingest every recorder docked, unattended.'),
    LazyCommand("ingest", "command", "avledger.cli.ingest_cmd:ingest",
                "Copy a docked recorder's clips into the evidence store, with their "
                'custody trail.', prepare="avledger.cli.ingest_early:prepare"),
    LazyCommand("checkin", "command", "avledger.cli.checkout_cmd:checkin",
                'Take DEVICE back: close its checkout and say whether its footage has come in.'),
    LazyCommand("purge", "command", "avledger.cli.retention_cmd:purge",
                'Purge clips now (records manager): the manual clearing of Art. 15.'),
    LazyCommand("redact", "command", "avledger.cli.redact_cmd:redact",
                "Render a redacted copy of a clip for disclosure; the original is never changed."),
    LazyCommand("redact-suggest", "command", "avledger.cli.redact_cmd:suggest",
                "Suggest face boxes to redact, as a draft spec for a person to review "
                "(suggestions only)."),
    LazyCommand("config", "group", "avledger.cli.config_cmd:app",
                'Check and show the configuration.'),
    LazyCommand("store", "group", "avledger.cli.store_cmd:app",
                'The content-addressed evidence store.'),
    LazyCommand("ledger", "group", "avledger.cli.ledger_cmd:app",
                'The tamper-evident custody ledger.'),
    LazyCommand("witness", "group", "avledger.cli.witness_cmd:app",
                "Witness another machine's ledger: keep its latest checkpoint, cosign only one "
                "that extends it (C2SP tlog-witness)."),
    LazyCommand("dock", "group", "avledger.cli.dock_cmd:app",
                'The dock: what is docked and how ingest is going.'),
    LazyCommand("clips", "group", "avledger.cli.main:clips_app",
                'Ingested clips: list, search, show, tag, explain late ones, custody report.'),
    LazyCommand("profile", "group", "avledger.cli.profile_cmd:app",
                'Device profiles: how each recorder family is recognised and read.'),
    LazyCommand("simulate", "group", "avledger.cli.simulate_cmd:app",
                'Simulated recorders for demos and tests.'),
    LazyCommand("inspect", "group", "avledger.cli.inspect_cmd:app",
                "Random inspections of enterprises (Annex 3, 'double random'), verifiable."),
    LazyCommand("device", "group", "avledger.cli.device_cmd:app",
                'The device registry: recorders and other devices, and their status.'),
    LazyCommand("person", "group", "avledger.cli.person_cmd:app",
                "The roster: who may act, who may be handed a device (config 'personnel')."),
    LazyCommand("checkout", "group", "avledger.cli.checkout_cmd:app",
                'The usage ledger (台账): hand a device out, list and export checkouts.'),
    LazyCommand("gap", "group", "avledger.cli.gap_cmd:app",
                'Gap records: why recording stopped during a checkout, approved by a leader.'),
    LazyCommand("clock", "group", "avledger.cli.clock_cmd:app",
                'Recorder clocks (rule B, Art. 7): read them, set them, and their history.'),
    LazyCommand("case", "group", "avledger.cli.case_cmd:app",
                'Cases (行政执法案件): numbers, types, handlers, and their footage.'),
    LazyCommand("hold", "group", "avledger.cli.hold_cmd:app",
                'Holds (Art. 16): footage that is never purged while the hold lasts.'),
    LazyCommand("retention", "group", "avledger.cli.retention_cmd:app",
                'Retention (Art. 15): expiry, pending purge, purge, restore.'),
    LazyCommand("archive", "group", "avledger.cli.archive_cmd:app",
                'Archive discs (Art. 16): two labelled copies on optical media, verified.'),
    LazyCommand("access", "group", "avledger.cli.access_cmd:app",
                'Access register (查阅登记簿, rule A): look-ups and copies under the rules.'),
    LazyCommand("package", "group", "avledger.cli.package_cmd:app",
                "Copy packages made by 'access fulfil' (rule A)."),
    LazyCommand("report", "group", "avledger.cli.report_cmd:app",
                'Reports for supervisors: the annual review (Art. 17) and monthly checks.'),
    LazyCommand("review", "group", "avledger.cli.review_cmd:app",
                'The annual footage review (rule B, Art. 17): a reproducible sample, findings.'),
)


class AvledgerCommands(LazyGroup):
    table = COMMANDS


app = typer.Typer(
    cls=AvledgerCommands,
    name="avledger",
    help=(
        "Evidence system for body-worn recorders: dock ingest, a content-addressed store, and a "
        "tamper-evident custody ledger.\n\n"
        "Examples:\n\n"
        "  avledger init\n\n"
        "  avledger store verify --budget 600\n\n"
        "  avledger ledger verify\n\n"
        "Set AVLEDGER_HOME to keep everything under one directory (development, demos)."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def clips_app() -> typer.Typer:
    """``avledger clips``: the clip commands, with the case commands that act on clips."""
    from avledger.cli import case_cmd, clips_cmd

    if not any(c.name == "link" for c in clips_cmd.app.registered_commands):
        case_cmd.add_clip_commands(clips_cmd.app)
    return clips_cmd.app


def _language(value: str | None) -> str | None:
    """``--lang`` was applied before anything loaded (``choose_language``): check it here."""
    if value is not None and not value.startswith(("zh", "en", "C")):
        raise typer.BadParameter(_("must be zh_CN or en"))
    return value


def _version(value: bool) -> None:
    if value:
        typer.echo(f"avledger {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", envvar="AVLEDGER_CONFIG",
        help="Extra config file, read last. On a real installation only root may give one, "
        "and it may not set the roster, the players or the profiles.",
        show_envvar=True)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    lang: Annotated[str | None, typer.Option(
        "--lang", metavar="zh_CN|en", callback=_language,
        help="Language of this run, before LC_ALL, LC_MESSAGES, LANG and site.language.")]
    = None,
) -> None:
    from avledger.cli.common import STATE

    STATE.config_path = config
    STATE.verbose = verbose


def run() -> None:
    """The program's entry point. The umask is the process's, set here rather than in the
    Typer callback, so that running the app in-process (tests, tools) leaves the caller's."""
    os.umask(PROCESS_UMASK)  # evidence and the access register: never readable by others
    try:
        app(prog_name="avledger")
    finally:
        try:  # output still buffered when the reader of a pipe has gone: exit quietly
            sys.stdout.flush()
        except BrokenPipeError:
            silence_stdout()
            sys.exit(1)


if __name__ == "__main__":
    run()
