"""``avledger migrate --to CONFIG``: move this installation into the shared backends."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avledger.cli.common import DryRunOpt, JsonOpt, byte_progress, console, emit, session, table
from avledger.config import loader
from avledger.core.install.relocate import migrate as move


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
        task = progress.add_task("copying and reading back", total=None)
        report = move(app_, target, dry_run=dry_run,
                      on_total=lambda n: progress.update(task, total=n),
                      on_progress=lambda n: progress.advance(task, n))

    def render() -> None:
        rows = [("from", f"{report.source['catalog']} + {report.source['store']}"),
                ("to", f"{report.target['catalog']} + {report.target['store']}"),
                ("objects", f"{report.objects} ({report.bytes / 1e6:.1f} MB)"),
                ("ledger", f"{report.events} events, head {report.head[:16]}…"),
                ("catalog rows", sum(report.rows.values()))]
        if not report.dry_run:
            rows += [("copied / already there",
                      f"{report.objects_copied} / {report.objects_present}"),
                     ("read back intact", report.verified_objects),
                     ("object locks brought up to date", report.locked)]
        console.print(table("avledger migrate" + (" (dry run)" if report.dry_run else ""),
                            ["", ""], rows))
        if report.dry_run:
            console.print("dry run: nothing was copied or changed")
        else:
            console.print("[green]moved and verified[/]: point every station at "
                          f"{to} (for example as /etc/avledger/avledger.yaml); this "
                          "installation's ledger records where it went")

    emit(report.as_dict(), as_json, render)
