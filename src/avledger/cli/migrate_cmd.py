"""``avledger migrate --to CONFIG``: move this installation into the shared backends."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avledger.cli.common import DryRunOpt, JsonOpt, byte_progress, console, emit, session, table
from avledger.config import loader
from avledger.core.install.relocate import migrate as move
from avledger.i18n import _


def migrate(
    to: Annotated[Path, typer.Option(
        "--to", exists=True, dir_okay=False, readable=True,
        help="Configuration of the shared backends (store.backend: s3, catalog.backend: "
             "postgres); layered over this installation's configuration like --config.")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Move a single-machine installation (local store, SQLite) into the shared backends.

    Verifies this ledger first, copies every object (hashed on the way) and every catalog
    row (one transaction), then verifies the target's ledger against the same key and reads
    every object back. Only then do both ledgers record the move. Safe to run again after an
    interruption. Needs the records_manager role.

    Examples:

      avledger migrate --to /etc/avledger/shared.yaml --dry-run

      avledger migrate --to /etc/avledger/shared.yaml
    """
    target = loader.load(to)
    with session() as app_, byte_progress("moving") as progress:
        task = progress.add_task(_("copying and reading back"), total=None)
        report = move(app_, target, dry_run=dry_run,
                      on_total=lambda n: progress.update(task, total=n),
                      on_progress=lambda n: progress.advance(task, n))

    def render() -> None:
        rows = [(_("from"), f"{report.source['catalog']} + {report.source['store']}"),
                (_("to"), f"{report.target['catalog']} + {report.target['store']}"),
                (_("objects"), f"{report.objects} ({report.bytes / 1e6:.1f} MB)"),
                (_("ledger"), _("{events} events, head {head}…").format(
                    events=report.events, head=report.head[:16])),
                (_("catalog rows"), sum(report.rows.values()))]
        if not report.dry_run:
            rows += [(_("copied / already there"),
                      f"{report.objects_copied} / {report.objects_present}"),
                     (_("read back intact"), report.verified_objects),
                     (_("object locks brought up to date"), report.locked)]
        console.print(table("avledger migrate" + (_(" (dry run)") if report.dry_run else ""),
                            ["", ""], rows))
        if report.dry_run:
            console.print(_("dry run: nothing was copied or changed"))
        else:
            console.print("[green]" + _("moved and verified") + "[/]"
                          + _(": point every station at {to} (for example as "
                              "/etc/avledger/avledger.yaml); this installation's ledger records "
                              "where it went").format(to=to))

    emit(report.as_dict(), as_json, render)
