"""The ``avledger`` command: global options and the sub-command groups."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from avledger import __version__
from avledger.cli import (
    access_cmd,
    archive_cmd,
    case_cmd,
    checkout_cmd,
    clips_cmd,
    clock_cmd,
    config_cmd,
    daemon_cmd,
    device_cmd,
    dock_cmd,
    gap_cmd,
    hold_cmd,
    ingest_cmd,
    init_cmd,
    inspect_cmd,
    ledger_cmd,
    migrate_cmd,
    package_cmd,
    person_cmd,
    profile_cmd,
    redact_cmd,
    report_cmd,
    retention_cmd,
    review_cmd,
    simulate_cmd,
    status_cmd,
    store_cmd,
    witness_cmd,
)
from avledger.cli.common import STATE, AvledgerGroup, silence_stdout
from avledger.core.install.permissions import PROCESS_UMASK

app = typer.Typer(
    cls=AvledgerGroup,
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
) -> None:
    os.umask(PROCESS_UMASK)  # evidence and the access register: never readable by others
    STATE.config_path = config
    STATE.verbose = verbose


app.command("init")(init_cmd.init)
app.command("status")(status_cmd.status)
app.command("migrate")(migrate_cmd.migrate)
app.add_typer(config_cmd.app, name="config")
app.add_typer(store_cmd.app, name="store")
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(witness_cmd.app, name="witness")
app.add_typer(dock_cmd.app, name="dock")
app.command("daemon")(daemon_cmd.daemon)
app.command("ingest")(ingest_cmd.ingest)
app.add_typer(clips_cmd.app, name="clips")
case_cmd.add_clip_commands(clips_cmd.app)
app.add_typer(profile_cmd.app, name="profile")
app.add_typer(simulate_cmd.app, name="simulate")
app.add_typer(inspect_cmd.app, name="inspect")
app.add_typer(device_cmd.app, name="device")
app.add_typer(person_cmd.app, name="person")
app.add_typer(checkout_cmd.app, name="checkout")
app.command("checkin")(checkout_cmd.checkin)
app.add_typer(gap_cmd.app, name="gap")
app.add_typer(clock_cmd.app, name="clock")
app.add_typer(case_cmd.app, name="case")
app.add_typer(hold_cmd.app, name="hold")
app.add_typer(retention_cmd.app, name="retention")
app.command("purge")(retention_cmd.purge)
app.add_typer(archive_cmd.app, name="archive")
app.add_typer(access_cmd.app, name="access")
app.command("redact")(redact_cmd.redact)
app.command("redact-suggest")(redact_cmd.suggest)
app.add_typer(package_cmd.app, name="package")
app.add_typer(report_cmd.app, name="report")
app.add_typer(review_cmd.app, name="review")


def run() -> None:
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
