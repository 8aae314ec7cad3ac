"""``avledger retention sweep|pending|restore|show`` and ``avledger purge``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from avledger.cli.common import (
    DryRunOpt,
    JsonOpt,
    console,
    emit,
    load_config,
    new_app,
    session,
    table,
)
from avledger.cli.options import count_progress
from avledger.core.retention import sweep as retention_core
from avledger.core.retention.sweep import PlanItem, SweepPlan
from avledger.core.units import human_bytes
from avledger.i18n import N_, _
from avledger.timestamps import display, utcnow

app = new_app("Retention (Art. 15): expiry, pending purge, purge, restore.")

ClipsArg = Annotated[list[int], typer.Argument(help="Clip numbers.")]
LimitOpt = Annotated[int, typer.Option("--limit", min=0, help="Rows shown per list in the "
                                       "table (--json always lists all).")]


def _items(title: str, items: list[PlanItem], tz: str, limit: int) -> None:
    if not items or not limit:
        return
    shown = items[:limit]
    more = _(" (first {limit} shown)").format(limit=limit) if len(items) > limit else ""
    console.print(table(f"{_(title)}: {len(items)}{more}",
                        [_("clip"), _("recorded"), _("expired"), _("basis"), _("bytes"),
                         _("pending since"), _("purge due")],
                        [(i.clip_id, display(i.recorded_at, tz), display(i.expires_at, tz),
                          i.basis, human_bytes(i.size), display(i.pending_since, tz),
                          display(i.purge_due, tz)) for i in shown]))


def _render_plan(plan: SweepPlan, tz: str, limit: int, applied: dict[str, Any] | None) -> None:
    totals = plan.totals()
    rows = [(_("→ pending purge"), totals["to_pending"],
             human_bytes(totals["to_pending_bytes"])),
            (_("→ purge (pending period over)"), totals["to_purge"],
             human_bytes(totals["to_purge_bytes"])),
            (_("→ back to stored"), totals["to_restore"], ""),
            (_("pending, still waiting"), totals["waiting"], "")]
    rows += [(_("kept: {reason}").format(reason=reason), n, "")
             for reason, n in totals["kept"].items()]
    console.print(table(_("retention sweep as of {time} ({tz})").format(
        time=display(plan.now, tz), tz=tz), ["", _("clips"), _("bytes")], rows))
    _items(N_("to pending purge"), plan.to_pending, tz, limit)
    _items(N_("to purge"), plan.to_purge, tz, limit)
    _items(N_("back to stored"), plan.to_restore, tz, limit)
    if applied is None:
        console.print(_("dry run: nothing changed (use --apply to carry it out)"))
        return
    console.print(_("applied: {pending} to pending purge, {purged} purged ({deleted} objects "
                    "deleted, {freed} freed), {restored} back to stored").format(
                        pending=len(applied["pending"]), purged=len(applied["purged"]),
                        deleted=applied["content_deleted"],
                        freed=human_bytes(applied["bytes_freed"]),
                        restored=len(applied["restored"])))
    for skip in applied["skipped"]:
        console.print(_("skipped clip {clip}: {why} (changed since the plan)").format(**skip))


@app.command("sweep")
def sweep(
    apply: Annotated[bool, typer.Option(
        "--apply", help="Carry the plan out (default: a dry run that only shows it).")] = False,
    limit: LimitOpt = 20,
    as_json: JsonOpt = False,
) -> None:
    """Plan (and with --apply, carry out) the retention sweep.

    Expired clips go to pending purge; clips pending longer than retention.pending_days are
    purged; clips that are no longer expired (a hold, a case) go back to stored. Held clips,
    clips on open cases, clips with unknown recording time and unclassified clips are kept.
    Safe to run while recorders are being ingested; running it twice does nothing more.

    Examples:

      avledger retention sweep              # dry run: show the plan

      avledger retention sweep --apply      # what the daily timer runs
    """
    config = load_config()
    with session(daemon=retention_core.is_service_process(config)) as app_:
        now = utcnow()
        tz = app_.config.timezone
        plan = retention_core.plan_sweep(app_, now)
        result = None
        if apply:
            work = len(plan.to_pending) + len(plan.to_purge) + len(plan.to_restore)
            with count_progress() as progress:
                task = progress.add_task(_("sweeping"), total=work)
                result = retention_core.apply_sweep(
                    app_, now, plan=plan, progress=lambda n: progress.advance(task, n)).as_dict()
    data = plan.as_dict() | ({"applied": result} if result is not None else {"dry_run": True})
    emit(data, as_json, lambda: _render_plan(plan, tz, limit, result))


@app.command("pending")
def pending(as_json: JsonOpt = False) -> None:
    """List clips pending purge and when each will be purged.

    Example: avledger retention pending
    """
    with session() as app_:
        plan = retention_core.plan_sweep(app_, utcnow())
        tz = app_.config.timezone
    items = sorted(plan.waiting + plan.to_purge, key=lambda i: i.clip_id)
    emit([i.as_dict() for i in items], as_json,
         lambda: _items(N_("pending purge"), items, tz, len(items)) if items
         else console.print(_("no clips are pending purge")))


@app.command("restore")
def restore(
    clips: ClipsArg,
    note: Annotated[str, typer.Option("--note", help="Why the footage is kept.")],
    keep_days: Annotated[int | None, typer.Option(
        "--keep-days", min=1, max=36500, help="Keep at least this many more days (default "
        "retention.restore_days).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Take clips back from pending purge (records manager).

    To keep footage for good, place a hold or link it to a case instead.

    Example: avledger retention restore 812 --note "requested by the legal office"
    """
    with session() as app_:
        result = retention_core.restore_clips(app_, clips, note=note, now=utcnow(),
                                              keep_days=keep_days)
        tz = app_.config.timezone
    emit(result, as_json, lambda: console.print(
        _("restored {count} clip(s); kept at least until {time}").format(
            count=len(result["restored"]), time=display(result["kept_until"], tz))))


@app.command("show")
def show(clips: ClipsArg, as_json: JsonOpt = False) -> None:
    """Explain each clip's retention: expiry, why it is kept, holds, cases, tombstone.

    Example: avledger retention show 812
    """
    with session() as app_:
        now = utcnow()
        data = [retention_core.explain(app_, c, now) for c in clips]
        tz = app_.config.timezone

    def render() -> None:
        rows = []
        for d in data:
            why = d["kept_because"] or (_("expired") if d["expired"] else "")
            extra = []
            if d["holds"]:
                extra.append(_("holds {list}").format(list=", ".join(
                    f"{h['id']} ({h['reason']})" for h in d["holds"])))
            if d["cases"]:
                extra.append(_("cases {list}").format(list=", ".join(
                    f"{c['number']} ({c['status']})" for c in d["cases"])))
            if d["purge_due"]:
                extra.append(_("purge due {time}").format(time=display(d["purge_due"], tz)))
            if d["tombstone"]:
                t = d["tombstone"]
                extra.append(_("purged {time} by {who}: {reason}").format(
                    time=display(t["purged_at"], tz), who=t["purged_by"], reason=t["reason"]))
            rows.append((d["clip"], d["status"], display(d["recorded_at"], tz),
                         display(d["expires_at"], tz) or _("never"), d["basis"], why,
                         "; ".join(extra)))
        console.print(table(_("retention, times in {tz}").format(tz=tz),
                            [_("clip"), _("status"), _("recorded"), _("expires"), _("basis"),
                             _("now"), _("details")], rows))

    emit(data, as_json, render)


def purge(
    clips: ClipsArg,
    reason: Annotated[str, typer.Option("--reason", help="Why this footage has no value to "
                                        "keep (recorded in the tombstone and the ledger).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Purge clips now (records manager): the manual clearing of Art. 15.

    Refused — and nothing is purged — if any named clip is held, linked to an open case, or
    still within its retention. Clips the sweep keeps because their recording time is unknown
    or they are unclassified may be purged here after 12 months (counted from ingest when the
    time is unknown). The content is deleted only when no remaining clip shares it; a
    tombstone (hash, size, metadata, who, when, why) and a ledger event always remain.

    Example: avledger purge 77 78 --reason "test recording, no enforcement content"
    """
    with session() as app_:
        now = utcnow()
        check = retention_core.purge_clips(app_, clips, reason=reason, now=now, dry_run=True)
        if dry_run:
            emit(check, as_json, lambda: console.print(
                _("would purge {count} clip(s): {clips}").format(
                    count=len(check["would_purge"]),
                    clips=" ".join(map(str, check["would_purge"])) or _("none"))))
            return
        if check["would_purge"] and not yes and not typer.confirm(
                _("Purge {count} clip(s) for good?").format(count=len(check["would_purge"])),
                err=True):
            raise typer.Exit(1)
        result = retention_core.purge_clips(app_, clips, reason=reason, now=now)
    emit(result, as_json, lambda: console.print(
        _("purged {count} clip(s) ({deleted} objects deleted); {already} were already purged")
        .format(count=len(result["purged"]),
                deleted=sum(p["content_deleted"] for p in result["purged"]),
                already=len(result["already_purged"]))))
