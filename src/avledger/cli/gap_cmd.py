"""``avledger gap add|approve|list`` — recording gaps and their approval (rule B, Art. 12)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import typer

from avledger.cli.common import JsonOpt, console, emit, new_app, session, table
from avledger.cli.inputs import TIME_FORMATS, to_utc
from avledger.core.desk import gaps
from avledger.i18n import _
from avledger.timestamps import display

app = new_app("Gap records: why recording stopped during a checkout, approved by a leader.")

GapReason = Enum("GapReason", {r.replace("-", "_"): r for r in gaps.REASONS},  # type: ignore[misc]
                 type=str)


@app.command("add")
def add(
    checkout: Annotated[int, typer.Option("--checkout", help="The checkout during which "
                                          "recording stopped.")],
    start: Annotated[datetime, typer.Option("--from", formats=TIME_FORMATS, metavar="TIME",
                                            help="When recording stopped (site zone).")],
    end: Annotated[datetime, typer.Option("--to", formats=TIME_FORMATS, metavar="TIME",
                                          help="When it resumed (or the checkout ended).")],
    reason: Annotated[GapReason, typer.Option("--reason", help="Why (rule B, Art. 12).")],
    note: Annotated[str, typer.Option("--note", help="The officer's account of what "
                                      "happened.")],
    as_json: JsonOpt = False,
) -> None:
    """Record that recording stopped, why, and from when to when.

    The officer of the checkout writes it, or a clerk or records manager on their behalf. The
    gap must lie within the checkout. It then waits for a leader's approval.

    Example:

      avledger gap add --checkout 12 --from "2026-11-03 10:05" --to "2026-11-03 10:40" \\
          --reason battery --note "battery failed in the cold; spare fitted at 10:40"
    """
    with session() as app_:
        tz = app_.config.timezone
        start_utc, end_utc = to_utc(start, tz), to_utc(end, tz)
        assert start_utc is not None and end_utc is not None
        result = gaps.add(app_, checkout, start_utc, end_utc, reason.value, note)
    emit(result, as_json, lambda: console.print(
        _("gap {id} recorded for checkout {checkout} ({serial}, {badge}): {reason}, {start} → "
          "{end}; awaiting a leader's approval").format(
              id=result["id"], checkout=checkout, serial=result["serial"],
              badge=result["badge"], reason=reason.value, start=display(result["from"], tz),
              end=display(result["to"], tz))))


@app.command("approve")
def approve(
    gap_id: Annotated[int, typer.Argument(help="Gap record number.")],
    note: Annotated[str | None, typer.Option("--note", help="Approval remarks.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a gap record. Needs role leader; not your own record, not your own checkout.

    Example: avledger gap approve 7 --note "confirmed with the team leader"
    """
    with session() as app_:
        result = gaps.approve(app_, gap_id, note=note)
    emit(result, as_json, lambda: console.print(
        _("gap {id} approved by {who}").format(id=gap_id, who=result["approved_by"])))


@app.command("list")
def list_(
    checkout: Annotated[int | None, typer.Option("--checkout", help="Only this checkout.")]
    = None,
    pending: Annotated[bool, typer.Option("--pending", help="Only those awaiting "
                                          "approval.")] = False,
    badge: Annotated[str | None, typer.Option("--badge", help="Only this officer's.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List gap records, oldest first.

    Examples:

      avledger gap list --pending

      avledger gap list --checkout 12 --json
    """
    with session() as app_:
        rows = gaps.listing(app_, checkout_id=checkout, pending=pending, badge=badge)
        tz = app_.config.timezone

    def render() -> None:
        shown = [(g["id"], g["checkout_id"], g["serial"], f"{g['badge']} {g['name'] or ''}",
                  display(g["from_at"], tz), display(g["to_at"], tz), g["minutes"], g["reason"],
                  g["note"], g["created_by"],
                  f"{g['approved_by']} {display(g['approved_at'], tz)}" if g["approved"]
                  else "[yellow]" + _("pending") + "[/]") for g in rows]
        console.print(table(_("gap records ({count})").format(count=len(shown)),
                            [_("gap"), _("checkout"), _("device"), _("officer"), _("from"),
                             _("to"), _("min"), _("reason"), _("note"), _("written by"),
                             _("approved")], shown)
                      if shown else _("no gap records"))

    emit(rows, as_json, render)
