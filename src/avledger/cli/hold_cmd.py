"""``avledger hold place|release|list|show|proposals|confirm|dismiss``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from avledger.cli.common import JsonOpt, console, emit, new_app, session, table
from avledger.cli.options import site_time
from avledger.core.retention import held
from avledger.core.retention import holds as holds_core
from avledger.core.retention import proposals as proposals_core
from avledger.i18n import N_, _
from avledger.timestamps import display, utcnow

app = new_app("Holds (Art. 16): footage that is never purged while the hold lasts.")


@app.command("place")
def place(
    reason: Annotated[str, typer.Option(
        "--reason", help="complaint, obstruction, major-sensitive, litigation or other.")],
    note: Annotated[str, typer.Option("--note", help="Why: who complained, which case, …")],
    clip: Annotated[list[int] | None, typer.Option(
        "--clip", help="A clip number; repeat for several.")] = None,
    case: Annotated[str | None, typer.Option(
        "--case", help="A case number: every clip linked to it, now or later.")] = None,
    device: Annotated[str | None, typer.Option(
        "--device", help="A recorder serial, with --from and --to.")] = None,
    start: Annotated[datetime | None, typer.Option(
        "--from", help="Start of the time range (site zone unless an offset is given).")] = None,
    end: Annotated[datetime | None, typer.Option("--to", help="End of the time range.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Place a hold on clips, a case, or a recorder's footage in a time range.

    Clips pending purge that the hold covers go back to stored at once.

    Examples:

      avledger hold place --clip 812 --clip 813 --reason complaint --note "party objected on site"

      avledger hold place --case 平环罚〔2026〕12号 --reason major-sensitive --note "major case"

      avledger hold place --device TC0003 --from 2026-05-04T08:00 --to 2026-05-04T12:00
      --reason obstruction --note "inspector obstructed at XX plant"
    """
    with session() as app_:
        tz = app_.config.timezone
        target = holds_core.HoldTarget(
            clips=tuple(clip or ()), case=case, device=device,
            start=site_time(start, tz) if start else None,
            end=site_time(end, tz) if end else None)
        hold = holds_core.place_hold(app_, target, reason=reason, note=note, now=utcnow())

    def render() -> None:
        console.print(_("placed hold {id} ({reason}) on {target}: {count} clip(s) covered")
                      .format(id=hold["id"], reason=hold["reason"], target=hold["target"],
                              count=hold["clip_count"]))
        if hold["returned_from_pending"]:
            console.print(_("{count} clip(s) returned from pending purge").format(
                count=len(hold["returned_from_pending"])))

    emit(hold, as_json, render)


@app.command("release")
def release(
    hold_id: Annotated[int, typer.Argument(help="Hold number.")],
    note: Annotated[str, typer.Option("--note", help="Why the hold ends.")],
    as_json: JsonOpt = False,
) -> None:
    """Release a hold (records manager or leader). Nothing is deleted.

    Example: avledger hold release 4 --note "complaint withdrawn in writing"
    """
    with session() as app_:
        hold = holds_core.release_hold(app_, hold_id, note=note, now=utcnow())
    emit(hold, as_json, lambda: console.print(
        _("released hold {id}; its {count} clip(s) follow the retention rules again").format(
            id=hold["id"], count=hold["clip_count"])))


def _rows(holds: list[dict[str, Any]], tz: str) -> list[tuple[Any, ...]]:
    return [(h["id"], h["reason"], h["target"], h["clip_count"], h["note"],
             display(h["placed_at"], tz), h["placed_by"],
             display(h["released_at"], tz) if h["released_at"] else _("active"))
            for h in holds]


COLUMNS = [N_("hold"), N_("reason"), N_("covers"), N_("clips"), N_("note"), N_("placed"),
           N_("by"), N_("released")]


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include released holds.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List active holds (all with --all).

    Example: avledger hold list --json
    """
    with session() as app_:
        holds = holds_core.list_holds(app_.catalog.conn, include_released=all_)
        tz = app_.config.timezone
    emit(holds, as_json, lambda: console.print(
        table(_("{count} hold(s), times in {tz}").format(count=len(holds), tz=tz),
              [_(c) for c in COLUMNS], _rows(holds, tz))))


@app.command("show")
def show(hold_id: Annotated[int, typer.Argument(help="Hold number.")],
         as_json: JsonOpt = False) -> None:
    """One hold and the clips it covers.

    Example: avledger hold show 4
    """
    with session() as app_:
        conn = app_.catalog.conn
        hold = holds_core.get_hold(conn, hold_id)
        hold["clips"] = held.clips_under_hold(conn, hold_id)
        tz = app_.config.timezone

    def render() -> None:
        console.print(table(_("hold {id}").format(id=hold_id), [_(c) for c in COLUMNS],
                            _rows([hold], tz)))
        console.print(_("clips: {clips}").format(
            clips=" ".join(map(str, hold["clips"])) or _("none")))

    emit(hold, as_json, render)


STATE_NAMES = {"open": N_("open"), "confirmed": N_("confirmed"), "dismissed": N_("dismissed")}
PROPOSAL_COLUMNS = [N_("proposal"), N_("clip"), N_("kind"), N_("recorder"), N_("file"),
                    N_("recorded"), N_("marked by"), N_("proposed"), N_("state")]


@app.command("proposals")
def proposals(
    all_: Annotated[bool, typer.Option(
        "--all", help=_("Include confirmed and dismissed proposals."))] = False,
    as_json: JsonOpt = False,
) -> None:
    """Hold proposals: clips the recorder marked important, waiting for a records manager.

    Confirm one with 'avledger hold confirm ID' (a hold is placed) or dismiss it with
    'avledger hold dismiss ID --reason …'.

    Examples:

      avledger hold proposals

      avledger hold proposals --all --json
    """
    with session() as app_:
        found = proposals_core.list_proposals(app_.catalog.conn, include_decided=all_)
        tz = app_.config.timezone
    rows = [(p["id"], p["clip_id"], _(p["kind"]), p["serial"],
             p["source_path"], display(p["corrected_start"], tz), p["mark"],
             display(p["proposed_at"], tz),
             _(STATE_NAMES[p["state"]]) + (f" ({p['decided_by']})" if p["decided_by"] else ""))
            for p in found]
    emit(found, as_json, lambda: console.print(table(
        _("{n} hold proposal(s), times in {tz}").format(n=len(found), tz=tz),
        [_(c) for c in PROPOSAL_COLUMNS], rows)))


@app.command("confirm")
def confirm(
    proposal_id: Annotated[int, typer.Argument(help=_("Proposal number."))],
    note: Annotated[str, typer.Option(
        "--note", help=_("Why it is held (default: marked important on the recorder)."))] = "",
    as_json: JsonOpt = False,
) -> None:
    """Confirm a hold proposal (records manager or leader): a hold is placed on the clip.

    Example: avledger hold confirm 3 --note "officer locked it: party obstructed inspection"
    """
    with session() as app_:
        result = proposals_core.confirm(app_, proposal_id, note=note, now=utcnow())
    emit(result, as_json, lambda: console.print(
        _("proposal {id} confirmed: hold {hold} placed on clip {clip}").format(
            id=result["id"], hold=result["hold_id"], clip=result["clip_id"])))


@app.command("dismiss")
def dismiss(
    proposal_id: Annotated[int, typer.Argument(help=_("Proposal number."))],
    reason: Annotated[str, typer.Option("--reason", help=_("Why no hold is needed."))],
    as_json: JsonOpt = False,
) -> None:
    """Dismiss a hold proposal (records manager or leader); the clip follows the normal
    retention rules.

    Example: avledger hold dismiss 3 --reason "locked by mistake, routine patrol"
    """
    with session() as app_:
        result = proposals_core.dismiss(app_, proposal_id, reason=reason, now=utcnow())
    emit(result, as_json, lambda: console.print(
        _("proposal {id} dismissed: clip {clip} is not held").format(
            id=result["id"], clip=result["clip_id"])))
