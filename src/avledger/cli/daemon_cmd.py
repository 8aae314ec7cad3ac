"""``avledger daemon``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avledger.cli.common import STATE, load_config
from avledger.core import identity
from avledger.i18n import _


def daemon(
    concurrency: Annotated[int | None, typer.Option(
        "--concurrency", min=1, max=64,
        help="Recorders ingested at once (default: daemon.concurrency).")] = None,
    drop_folder: Annotated[list[Path] | None, typer.Option(
        "--drop-folder",
        help="Watch this folder too (repeatable; default: daemon.drop_folders).")] = None,
) -> None:
    """Run the dock daemon: ingest every recorder docked, unattended.

    Listens to udev for block devices, recognises recorders by their device profiles, mounts
    them read-only, checks their clock, ingests, unmounts — several at once. Also watches drop
    folders. Logs to stderr (journald under systemd). SIGTERM stops safely; SIGHUP reloads
    the configuration and profiles. Watch it with 'avledger dock status'.

    Example: avledger daemon --concurrency 4 --drop-folder /srv/dock-share
    """
    from avledger.daemon.main import serve, setup_logging

    identity.require_dock_caller(load_config(), _("run the dock daemon"))
    setup_logging(STATE.verbose)
    raise typer.Exit(serve(load_config, concurrency=concurrency, drop_folders=drop_folder or None))
