"""``avledger archive create|verify|list|show`` and ``archive copy set-location``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from avledger.cli.common import (
    DryRunOpt,
    JsonOpt,
    byte_progress,
    console,
    emit,
    err_console,
    new_app,
    session,
    table,
)
from avledger.core.archive import register
from avledger.core.archive.build import create_archive, plan_archive
from avledger.core.archive.selection import select
from avledger.core.units import human_bytes
from avledger.errors import IntegrityError
from avledger.i18n import _
from avledger.timestamps import display, utcnow

app = new_app("Archive discs (Art. 16): two labelled copies on optical media, verified.")
copy_app = new_app("One copy of an archive set (its series of discs).")
app.add_typer(copy_app, name="copy")


@app.command("create")
def create(
    out: Annotated[Path, typer.Option("--out", help="Directory for the images and labels.")],
    case: Annotated[str | None, typer.Option("--case", help="Archive a case's footage.")] = None,
    hold: Annotated[int | None, typer.Option("--hold", help="Archive a hold's footage.")] = None,
    clip: Annotated[list[int] | None, typer.Option(
        "--clip", help="Archive this clip; repeat for several (needs --title).")] = None,
    title: Annotated[str | None, typer.Option(
        "--title", help="Activity or case name and number for the label (default: the case's "
        "name and number, or the hold's note).")] = None,
    copies: Annotated[int | None, typer.Option(
        "--copies", min=1, max=10, help="Copies to make (default archive.copies, 2).")] = None,
    media: Annotated[str | None, typer.Option(
        "--media", help="dvd, dvd-dl, bd25, bd50 or a size such as 700M (default "
        "archive.media).")] = None,
    burn: Annotated[str | None, typer.Option(
        "--burn", help="Also burn every disc in this drive (e.g. /dev/sr0), asking for each "
        "blank disc in turn.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="With --burn: do not wait for "
                                      "Enter between discs (autoloader).")] = False,
    no_verify: Annotated[bool, typer.Option(
        "--no-verify", help="Skip reading every image (and disc) back after writing.")] = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Make an archive set: ISO 9660 + Joliet images, two copies, labels, catalogued.

    Each disc holds the clips, MANIFEST.json (BLAKE3 and SHA-256 of every file), SHA256SUMS
    (for 'sha256sum -c'), B3SUMS, the ledger excerpt with inclusion proofs, and a README. A
    set larger than the media spans several discs; every image is read back and verified.

    Examples:

      avledger archive create --case 平环罚〔2026〕12号 --out /srv/archive

      avledger archive create --hold 4 --media bd25 --out /srv/archive --burn /dev/sr0

      avledger archive create --clip 812 --clip 813 --title "XX厂现场检查 2026-05-04"
      --media 700M --out /srv/archive
    """
    with session() as app_:
        copies = copies or int(app_.config.get("archive.copies"))
        media = media or str(app_.config.get("archive.media"))
        sel = select(app_.catalog.conn, case=case, hold=hold, clips=clip, title=title)
        if dry_run:
            plan = plan_archive(app_, sel, media_name=media, copies=copies)
            data: dict[str, Any] = {"dry_run": True, "title": sel.title, "clips": len(sel.clips),
                                    "media": media, "copies": copies,
                                    "skipped_purged": sel.skipped, **plan.as_dict()}
            emit(data, as_json, lambda: console.print(
                _("would archive {count} clip(s), {size}, “{title}”: {discs} {media} disc(s) per "
                  "copy × {copies} copies = {total} disc(s)").format(
                      count=len(sel.clips), size=human_bytes(sel.bytes), title=sel.title,
                      discs=len(plan.discs), media=media, copies=copies,
                      total=len(plan.discs) * copies)))
            return

        def insert_disc(copy_no: int, disc_no: int, discs: int) -> None:
            prompt = _("Insert a blank disc for copy {copy}, disc {disc} of {discs} into "
                       "{drive}").format(copy=copy_no, disc=disc_no, discs=discs, drive=burn)
            if yes:
                err_console.print(prompt, markup=False)
            else:
                typer.prompt(prompt + _(", then press Enter"), default="", show_default=False,
                             err=True)

        with byte_progress() as progress:
            hashing = progress.add_task(_("reading clips"), total=sel.bytes)
            images = progress.add_task(_("writing images"), total=None)
            result = create_archive(
                app_, sel, media_name=media, copies=copies, out_dir=out, now=utcnow(),
                burn_device=burn, insert_disc=insert_disc, verify=not no_verify,
                progress=lambda stage, n: progress.advance(
                    hashing if stage == "hashing" else images, n))

    def render() -> None:
        console.print(_("archive set {set} “{title}”: {discs} disc(s) per copy × {copies} "
                        "copies").format(set=f"AVL{result.set_id:04d}", title=result.title,
                                         discs=len(result.layout.discs),
                                         copies=result.copies))
        console.print(table(None, [_("copy"), _("disc"), _("volume"), _("image"), _("size"),
                                   _("verified"), _("burned")],
                            [(i.copy_no, f"{i.disc_no}/{i.discs}", i.volume_id, i.image.name,
                              human_bytes(i.size), _("yes") if i.verified else _("no"),
                              i.burned_to or "") for i in result.images]))
        console.print(_("manifest SHA-256 {digest}").format(digest=result.manifest_sha256))
        console.print(_("images and labels in {dir}").format(dir=result.out_dir))
        if result.skipped:
            console.print(_("skipped purged clip(s): {clips}").format(
                clips=" ".join(map(str, result.skipped))))

    emit(result.as_dict(), as_json, render)


@app.command("verify")
def verify(
    sources: Annotated[list[str], typer.Argument(help="Image files or drives (/dev/sr0).")],
    as_json: JsonOpt = False,
) -> None:
    """Re-read discs or images and check every file against the manifest.

    Names every bad file; records the result for discs in this catalog. Exits 6 when any
    disc has a problem.

    Example: avledger archive verify /dev/sr0
    """
    reports = []
    with session() as app_, byte_progress() as progress:
        for source in sources:
            task = progress.add_task(_("verifying {name}").format(name=Path(source).name),
                                     total=None)
            reports.append(register.verify_disc(
                app_, source, now=utcnow(), progress=lambda n, t=task: progress.advance(t, n)))

    def render() -> None:
        for r in reports:
            where = (_("set {set} copy {copy} disc {disc}/{discs}").format(
                set=f"AVL{r.set_id:04d}", copy=r.copy_no, disc=r.disc_no, discs=r.discs)
                if r.set_id else _("unknown disc"))
            state = ("[green]" + _("OK") + "[/]" if r.ok
                     else "[red]" + _("{count} problem(s)").format(count=len(r.problems)) + "[/]")
            console.print(_("{source}: {where}: {files} files, {size}, {events} ledger events: "
                            "{state}").format(source=r.source, where=where,
                                              files=r.files_checked,
                                              size=human_bytes(r.bytes_checked),
                                              events=r.ledger_events, state=state)
                          + ("" if r.in_catalog or not r.set_id
                             else _(" (not in this catalog)")))
            if r.problems:
                console.print(table(None, [_("file"), _("problem")],
                                    [(p["path"], p["problem"]) for p in r.problems]))

    emit([r.as_dict() for r in reports], as_json, render)
    bad = [r for r in reports if not r.ok]
    if bad:
        first = bad[0].problems[0]
        raise IntegrityError(_("{count} disc(s) failed verification; first: {source}: {path}: "
                               "{problem}").format(count=len(bad), source=bad[0].source,
                                                   path=first["path"],
                                                   problem=first["problem"]))


@app.command("list")
def list_(
    due_verify: Annotated[bool, typer.Option(
        "--due-verify", help="Only discs not verified within archive.verify_days.")] = False,
    set_id: Annotated[int | None, typer.Option("--set", help="Only this archive set.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List every disc of every copy: where kept, when last verified, whether due.

    Examples:

      avledger archive list

      avledger archive list --due-verify --json
    """
    with session() as app_:
        rows = register.list_discs(app_.catalog.conn, now=utcnow(),
                                   verify_days=int(app_.config.get("archive.verify_days")),
                                   due_only=due_verify, set_id=set_id)
        tz = app_.config.timezone
    emit(rows, as_json, lambda: console.print(table(
        (_("{count} disc(s) due for verification") if due_verify
         else _("{count} disc(s)")).format(count=len(rows)),
        [_("set"), _("title"), _("copy"), _("disc"), _("volume"), _("kept at"),
         _("last verified"), _("result"), _("due")],
        [(f"AVL{r['set_id']:04d}", r["title"], r["copy_no"], f"{r['disc_no']}/{r['discs']}",
          r["volume_id"], r["location"] or "?",
          display(r["last_verified_at"], tz) or _("never"),
          {1: _("ok"), 0: _("FAILED")}.get(r["last_verify_ok"], ""),
          _("due") if r["due"] else "")
         for r in rows])))


@app.command("show")
def show(set_id: Annotated[int, typer.Argument(help="Archive set number (AVL0003 → 3).")],
         as_json: JsonOpt = False) -> None:
    """One archive set: what it holds and every disc of every copy.

    Example: avledger archive show 3
    """
    with session() as app_:
        data = register.get_set(app_.catalog.conn, set_id)
        tz = app_.config.timezone

    def render() -> None:
        console.print(_("{set} “{title}”: {clips} clip(s), {size}, {copies} copies × {discs} "
                        "{media} disc(s); made {time} by {who}").format(
                            set=f"AVL{set_id:04d}", title=data["title"], clips=data["clips"],
                            size=human_bytes(data["bytes"]), copies=data["copies"],
                            discs=data["discs"], media=data["media"],
                            time=display(data["created_at"], tz), who=data["created_by"]))
        console.print(_("manifest SHA-256 {digest}").format(digest=data["manifest_sha256"]))
        console.print(table(None, [_("copy"), _("disc"), _("volume"), _("kept at"),
                                   _("last verified"), _("image")],
                            [(d["copy_no"], f"{d['disc_no']}/{data['discs']}", d["volume_id"],
                              d["location"] or "?", display(d["last_verified_at"], tz),
                              d["image_path"]) for d in data["discs_list"]]))

    emit(data, as_json, render)


@copy_app.command("set-location")
def set_location(
    set_id: Annotated[int, typer.Argument(help="Archive set number.")],
    copy_no: Annotated[int, typer.Argument(help="Copy number (1, 2, …).")],
    location: Annotated[str, typer.Option("--location", help="Where the discs are kept.")],
    disc: Annotated[int | None, typer.Option("--disc", help="Only this disc of the copy.")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Record where a copy's discs are kept (keep the two copies in different places).

    Example: avledger archive copy set-location 3 2 --location "档案室 B 柜 3 层"
    """
    with session() as app_:
        rows = register.set_location(app_, set_id, copy_no, location, now=utcnow(),
                                     disc_no=disc)
    emit(rows, as_json, lambda: console.print(
        (_("{set} copy {copy} disc {disc} is kept at: {location}") if disc
         else _("{set} copy {copy} is kept at: {location}")).format(
             set=f"AVL{set_id:04d}", copy=copy_no, disc=disc, location=location)))
