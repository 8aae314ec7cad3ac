"""``avledger hold place|release|list|show``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from avledger.cli.common import JsonOpt, console, emit, new_app, session, table
from avledger.cli.options import site_time
from avledger.core.retention import held
from avledger.core.retention import holds as holds_core
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
