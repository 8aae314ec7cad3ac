"""``avledger store verify`` and ``avledger store restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from avledger.cli.common import (
    DryRunOpt,
    JsonOpt,
    byte_progress,
    console,
    emit,
    new_app,
    session,
    table,
)
from avledger.core.custody.copies import SecondCheck
from avledger.core.custody.integrity import verify_store
from avledger.core.custody.restore import restore_objects
from avledger.errors import IntegrityError
from avledger.i18n import _

app = new_app("The content-addressed evidence store.")


@app.command("verify")
def verify(
    sample: Annotated[int | None, typer.Option(
        "--sample", min=1, help="Check a random sample of this many objects.")] = None,
    budget: Annotated[float | None, typer.Option(
        "--budget", min=0.1, help="Stop after this many seconds (oldest-verified first).")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, max=256, help="Parallel readers (default: all cores).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for --sample.")] = None,
    no_quarantine: Annotated[bool, typer.Option(
        "--no-quarantine", help="Report corrupt objects but leave them in place.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Re-hash stored objects; report missing, corrupt and orphan objects.

    Without --sample or --budget every catalogued object is checked, the store is scanned
    for orphans (objects the catalog does not know) and strays (files that are not objects
    where they belong), and temporary files of interrupted writes older than a day are
    removed. Exits 6 when anything is wrong. Corrupt
    objects are moved to the store's quarantine directory, never repaired in place.

    Examples:

      avledger store verify                 # everything, plus an orphan scan

      avledger store verify --budget 1800   # a nightly scrub, oldest-verified first
    """
    with session() as app_, byte_progress() as progress:
        app_.actor.require(action=_("verify the store"))
        task = progress.add_task(_("verifying"), total=None)
        report = verify_store(
            app_, sample=sample, budget_seconds=budget, workers=workers, seed=seed,
            quarantine=not no_quarantine,
            on_total=lambda n: progress.update(task, total=n),
            on_progress=lambda n: progress.advance(task, n),
        )

    def render() -> None:
        rate = report.bytes / report.seconds / 1e6 if report.seconds else 0.0
        console.print(_("checked {count} objects, {megabytes} MB in {seconds} s ({rate} MB/s), "
                        "mode {mode}").format(count=report.checked,
                                              megabytes=f"{report.bytes / 1e6:.1f}",
                                              seconds=f"{report.seconds:.1f}",
                                              rate=f"{rate:.0f}", mode=report.mode))
        if report.not_reached:
            console.print(_("{count} objects not reached within the budget (the next run "
                            "starts with them)").format(count=report.not_reached))
        if report.recent_unclaimed:
            console.print(_("{count} object(s) written in the last minutes are not catalogued "
                            "yet (an ingest in progress); not counted as orphans").format(
                                count=report.recent_unclaimed))
        if report.temp_swept:
            console.print(_("removed {count} temporary file(s) left by interrupted writes "
                            "(never visible as objects)").format(count=report.temp_swept))
        if report.second is not None:
            _second_lines(report.second)
        if report.quarantined_earlier:
            console.print("[red]" + _("{count} catalogued object(s) were quarantined by earlier "
                                      "runs and await restoration from another copy").format(
                count=report.quarantined_earlier) + "[/] ('avledger store restore PATH')")
        rows = [(_("missing"), d, _("in catalog, not on disk")) for d in report.missing]
        rows += [(_("corrupt"), c["object"], c["detail"]) for c in report.corrupt]
        rows += [(_("unreadable"), c["object"], c["detail"]) for c in report.unreadable]
        rows += [(_("orphan"), d, _("on disk, not in catalog")) for d in report.orphans]
        rows += [(_("stray"), f"objects/{p}", _("not an object, or not where its name says"))
                 for p in report.strays]
        if rows:
            console.print(table(_("problems"), [_("kind"), _("object"), _("detail")], rows))
        if report.quarantined:
            console.print(_("quarantined {count} object(s)").format(
                count=len(report.quarantined)))
        if not report.problems:
            console.print("[green]" + _("store OK") + "[/] " + _(
                "(every problem found was put right from the other copy)")
                if report.mended else "[green]" + _("store OK") + "[/]")

    emit(report.as_dict(), as_json, render)
    if report.problems:
        raise IntegrityError(
            _("store verification found {count} problem(s): {breakdown}").format(
                count=report.problems, breakdown=report.breakdown()),
            hint=_("see the list above; restore quarantined objects from another copy with "
                   "'avledger store restore PATH' (an archive disc, the recorder, another "
                   "store)"))


@app.command("restore")
def restore(
    paths: Annotated[list[Path], typer.Argument(
        help="Files or folders holding copies: an archive disc (image, drive or mounted "
             "folder), a recorder, another store, a single file.", show_default=False)],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Put quarantined or missing objects back in service from another copy of their bytes.

    Every file whose size matches an object without a good copy is hashed; one whose BLAKE3
    digest is that object's name is stored again, verified, and the object is back in
    service (ledger event ``object.restored``). Files that match nothing are left alone.
    Exits 6 while objects remain without a good copy.

    Examples:

      avledger store restore /media/ARCHIVE_0007     # a mounted archive disc

      avledger store restore set7-copy2-disc1.iso    # a disc image, or /dev/sr0

      avledger store restore /media/SIM0001 --dry-run
    """
    with session() as app_:
        report = restore_objects(app_, paths, dry_run=dry_run)

    def render() -> None:
        title = (_("would restore {count} object(s)") if dry_run
                 else _("restored {count} object(s)"))
        rows = [(r["object"], f"{r['size']:,}", r["source"]) for r in report.restored]
        if rows:
            console.print(table(title.format(count=len(rows)),
                                [_("object"), _("bytes"), _("from")], rows))
        elif not report.wanted:
            console.print("[green]" + _("every catalogued object has a good copy; nothing to "
                                        "restore") + "[/]")
        else:
            console.print(_("none of the {wanted} object(s) without a good copy is in the given "
                            "paths ({looked} file(s) of a matching size hashed)").format(
                                wanted=report.wanted, looked=report.looked_at))

    emit(report.as_dict(), as_json, render)
    if report.remaining:
        raise IntegrityError(
            _("{count} catalogued object(s) still without a good copy").format(
                count=len(report.remaining)),
            hint=_("look for another copy: the other archive copy, the recorder, a backup"))


def _second_lines(second: SecondCheck) -> None:
    """What the check of the second copies found and mended."""
    if not second.reachable:
        console.print(_("[red]the second store location {where} is missing[/]: its copies "
                        "were not checked").format(where=second.location))
        return
    console.print(_("second copies at {where}: {checked} checked, {ok} good").format(
        where=second.location, checked=second.checked, ok=second.ok))
    for digest in second.restored_first:
        console.print(_("restored object {digest} from its second copy").format(digest=digest))
    for digest in second.restored_second:
        console.print(_("made the second copy of object {digest} again from the first").format(
            digest=digest))
    if second.caught_up:
        console.print(_("{n} object(s) got their second copy").format(n=second.caught_up))
