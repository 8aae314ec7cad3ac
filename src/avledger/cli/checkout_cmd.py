"""``avledger checkout DEVICE …``, ``checkout list|show|export`` and ``avledger checkin``."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from avledger.cli import footage_opts
from avledger.cli.clock_cmd import drift_words
from avledger.cli.common import JsonOpt, console, emit, new_app, session, table
from avledger.cli.footage_opts import CategoryOpt, MatterOpt, StepOpt, TagOpt
from avledger.cli.ingest_cmd import DockedAtOpt, docked_reference, progress_hooks
from avledger.cli.inputs import TIME_FORMATS, ask, interactive, to_utc
from avledger.core.desk import checkouts, usage
from avledger.core.desk import docked as docked_mod
from avledger.errors import NotFoundError
from avledger.i18n import N_, _
from avledger.timestamps import display

# The pre-use check's parts and results, as the desk reads them (keys of core.desk's check).
PRECHECK_PARTS = {"battery": N_("battery"), "storage": N_("storage"), "clock": N_("clock"),
                  "footage": N_("footage")}
PRECHECK_RESULTS = {"ok": N_("ok"), "low": N_("low"), "not-checked": N_("not checked"),
                    "not-applicable": N_("not applicable"), "drifted": N_("drifted"),
                    "reset": N_("reset"), "unknown": N_("unknown")}


class CheckoutGroup(TyperGroup):
    """``checkout DEVICE …`` is short for ``checkout out DEVICE …``."""

    default_command = "out"

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = [self.default_command, *args]
        return super().resolve_command(ctx, args)


app = new_app(
    "The usage ledger (台账): hand a device out, list and export checkouts.\n\n"
    "  avledger checkout DEVICE --to BADGE --task TEXT …   (same as 'checkout out DEVICE …')",
    cls=CheckoutGroup)

DeviceArg = Annotated[str, typer.Argument(metavar="DEVICE", help="Serial number of the "
                                          "device.")]
DockedOpt = Annotated[str | None, typer.Option(
    "--docked", metavar="DEVNODE|PATH",
    help="The device is docked here (its block device, or its mounted volume or folder): "
         "battery, free storage, clock and footage are read from it.")]


def _precheck_line(pre: dict[str, Any]) -> str:
    parts = []
    for name in ("battery", "storage", "clock", "footage"):
        check = pre.get(name)
        if not check:
            continue
        value = check.get("value")
        shown = (f" {value:g}%" if name in ("battery", "storage") and value is not None else
                 f" {value:+g} s" if name == "clock" and value is not None else "")
        result = str(check["result"])
        parts.append(f"{_(PRECHECK_PARTS[name])}{shown} {_(PRECHECK_RESULTS.get(result, result))}")
    return ", ".join(parts)


@app.command("out")
def out(
    ctx: typer.Context,
    device: DeviceArg,
    to: Annotated[str | None, typer.Option("--to", help="Badge number of the officer who "
                                           "takes it.")] = None,
    task: Annotated[str | None, typer.Option("--task", help="What it is for (rule B, Art. 8)."
                                             )] = None,
    task_id: Annotated[str | None, typer.Option("--task-id", help="Case or task number.")]
    = None,
    remote: Annotated[bool, typer.Option("--remote", help="Out-of-town or continuous work: "
                                         "footage is due within the window after return.")]
    = False,
    battery: Annotated[float | None, typer.Option("--battery", min=0, max=100,
                                                  help="Battery level seen at the desk, %.")]
    = None,
    storage_free: Annotated[float | None, typer.Option("--storage-free", min=0, max=100,
                                                       help="Free storage seen at the desk, "
                                                       "%.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Hand it out although the pre-use "
                                        "check failed (needs --reason; logged).")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why --force is needed.")]
    = None,
    note: Annotated[str | None, typer.Option("--note", help="Remarks for the ledger.")] = None,
    docked: DockedOpt = None,
    docked_at: DockedAtOpt = None,
    sync_clock: Annotated[bool, typer.Option(
        "--sync-clock/--no-sync-clock",
        help="With --docked: set the recorder's clock on the spot when it is out of tolerance "
             "and its profile can (writes to the recorder; logged).")] = True,
    category: CategoryOpt = None,
    matter: MatterOpt = None,
    step: StepOpt = None,
    tag: TagOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hand DEVICE to an officer after the pre-use check (battery, storage, clock; Art. 7).

    Refused, with the reason, when the device is already out, retired, lost or unregistered,
    when the officer is unknown or inactive, or when the pre-use check fails (battery or free
    storage below the minimum or not entered, clock out of tolerance, footage not ingested) —
    the last only can be overridden with --force --reason, which is logged. At a terminal,
    missing values are asked for. Needs role clerk.

    With --docked, the docked recorder is read through its profile: battery, free storage,
    its clock (measured and recorded; set on the spot when out of tolerance and its profile
    can, unless --no-sync-clock), and clips on it not yet ingested (which refuse the
    checkout).

    Examples:

      avledger checkout DSJ-A8-0042 --to 0003 --task "site inspection, Xinhua Paper" \\
          --battery 95 --storage-free 80

      avledger checkout DSJ-A8-0042 --to 0003 --task "site inspection" --docked /dev/sdb1

      avledger checkout DSJ-A8-0042 --to 0003 --task "flood response" --remote \\
          --battery 40 --storage-free 90 --force --reason "only charged unit left"

    When the task is a step of the recording checklist (--step seizure, --category, --matter,
    --tag), the checkout's clips are tagged with it at check-in.
    """
    to = ask(ctx, to, _("Officer's badge number"), "--to")
    task = ask(ctx, task, _("Task (what the device is for)"), "--task")
    if force and not reason:
        reason = ask(ctx, reason, _("Reason for overriding the pre-use check"), "--reason")
    if reason and not force:
        ctx.fail(_("--reason goes with --force."))
    with session() as app_:
        app_.actor.require(*checkouts.DESK_ROLES, action=_("check out devices"))
        seen = (docked_mod.inspect(app_, docked, expect_serial=device, allow_sync=sync_clock,
                                   docked_at=docked_reference(docked_at,
                                                              app_.config.timezone))
                if docked else None)
        if interactive():
            if seen is None or seen.battery_percent is None:
                battery = ask(ctx, battery, _("Battery level, %"), "--battery", type_=float)
            if seen is None or seen.storage_free_percent is None:
                storage_free = ask(ctx, storage_free, _("Free storage, %"), "--storage-free",
                                   type_=float)
        request = checkouts.CheckoutRequest(device, to, task, task_id=task_id, remote=remote,
                                            battery_percent=battery,
                                            storage_free_percent=storage_free,
                                            force_reason=reason if force else None,
                                            note=note, docked=seen,
                                            footage=footage_opts.change(category, matter,
                                                                        step, tag))
        result = checkouts.check_out(app_, request)

    def render() -> None:
        console.print(_("checked out {device} to {badge} {name} (checkout {id})").format(
            device=device, badge=result["badge"], name=result["name"], id=result["id"])
            + (_(" — remote") if remote else ""))
        console.print(_("pre-use check: {line}").format(line=_precheck_line(result["precheck"])))
        synced = result["precheck"].get("clock_sync")
        if synced:
            before = (synced["before"] or {}).get("drift_seconds")
            after = (synced["after"] or {}).get("drift_seconds")
            console.print(_("clock set on the spot (written to the recorder): {before} before, "
                            "{after} after").format(before=drift_words(before),
                                                    after=drift_words(after)),
                          highlight=False)
        forced = result["precheck"].get("forced")
        if forced:
            console.print("[yellow]" + _("forced") + "[/] "
                          + _("({reason}): {overrode}").format(
                              reason=forced["reason"], overrode="; ".join(forced["overrode"])))

    emit(result, as_json, render)


def checkin(
    device: DeviceArg,
    note: Annotated[str | None, typer.Option("--note", help="Condition on return, remarks.")]
    = None,
    docked: DockedOpt = None,
    docked_at: DockedAtOpt = None,
    ingest_now: Annotated[bool | None, typer.Option(
        "--ingest/--no-ingest",
        help="With --docked: ingest clips not yet ingested before checking in (default: ask "
             "at a terminal, else do not).")] = None,
    category: CategoryOpt = None,
    matter: MatterOpt = None,
    step: StepOpt = None,
    tag: TagOpt = None,
    clip_note: Annotated[str | None, typer.Option(
        "--clip-note", help=_("A note set on every clip of this checkout."))] = None,
    as_json: JsonOpt = False,
) -> None:
    """Take DEVICE back: close its checkout and say whether its footage has come in.

    Footage comes in when the device is docked; a device not docked since it went out is
    reported, so that it is docked now (within the hand-in window). With --docked, the clips
    on the docked recorder are compared with the catalog; those not yet ingested are ingested
    first when asked to (--ingest, or yes at the prompt). Needs role clerk.

    Examples:

      avledger checkin DSJ-A8-0042 --note "lens scratched"

      avledger checkin DSJ-A8-0042 --docked /dev/sdb1 --ingest

      avledger checkin DSJ-A8-0042 --step seizure --tag 投诉 --clip-note "查封排污口"

    The clips ingested for the checkout by then are tagged with --category, --matter,
    --step, --tag and --clip-note, over what the checkout declared (each a ledger event).
    """
    report = None
    with session() as app_:
        app_.actor.require(*checkouts.DESK_ROLES, action=_("check in devices"))
        seen = (docked_mod.inspect(app_, docked, expect_serial=device, clock=False)
                if docked else None)
        if docked and seen is not None and seen.pending_clips:
            if ingest_now is None and interactive():
                ingest_now = typer.confirm(_("{count} clip(s) on {device} are not yet ingested. "
                                             "Ingest them now?").format(
                                                 count=seen.pending_clips, device=device),
                                           default=True)
            if ingest_now:
                with progress_hooks() as hooks:
                    report, seen = docked_mod.ingest_pending(
                        app_, docked, device, hooks,
                        docked_at=docked_reference(docked_at, app_.config.timezone))
        result = checkouts.check_in(app_, device, note=note, docked=seen,
                                    about=footage_opts.change(category, matter, step, tag,
                                                              clip_note))
        tz = app_.config.timezone
        window = int(app_.config.get("window.hours"))
    if report is not None:
        result["ingest"] = report.totals()

    def render() -> None:
        if report is not None:
            t = report.totals()
            console.print(_("ingested from {docked}: {new} new, {skipped} already in, {failed} "
                            "failed, {late} late").format(docked=docked, **t))
        console.print(_("checked in {device} from {badge} {name} after {hours} h (checkout "
                        "{id})").format(device=device, badge=result["badge"],
                                        name=result["name"] or "", hours=result["hours_out"],
                                        id=result["id"]))
        f = result["footage"]
        if f["status"] == "not-docked":
            deadline = datetime.fromisoformat(result["in_at"]) + timedelta(hours=window)
            due = (_(" — remote work: due by {deadline}").format(
                deadline=display(deadline, tz)) if result["remote"] else "")
            console.print("[yellow]" + _("footage not yet ingested") + "[/]"
                          + _(": {device} has not been docked since it went out; dock it "
                              "now").format(device=device) + due)
        elif f["status"] == "pending":
            console.print("[yellow]" + _("{count} clip(s) still to ingest").format(
                count=f["pending_clips"]) + "[/]"
                + _(" from {device}: leave it docked").format(device=device))
        else:
            console.print(_("footage: {clips} clip(s), {hours} h ingested for this checkout "
                            "(last dock {last_dock})").format(
                                clips=f["clips"], hours=f["hours"],
                                last_dock=display(f["last_dock"], tz)))
        tagged = result["tagged"]
        if tagged:
            console.print(_("tagged {n} of {total} clip(s): {what}").format(
                n=len(tagged["changed"]), total=len(tagged["clips"]),
                what="; ".join(f"{k} {' '.join(v) if isinstance(v, list) else v}"
                               for k, v in tagged["footage"].items())))

    emit(result, as_json, render)


@app.command("list")
def list_(
    open_: Annotated[bool, typer.Option("--open", help="Only devices still out.")] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only devices out longer than the "
                                          "hand-in window without a dock.")] = False,
    device: Annotated[str | None, typer.Option("--device", help="Only this device.")] = None,
    badge: Annotated[str | None, typer.Option("--badge", help="Only this officer.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many, "
                                              "newest first.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List checkouts, newest first; flag the overdue ones.

    Overdue: still out, not remote, and neither checked out nor docked within the last
    window.hours (default 24).

    Examples:

      avledger checkout list --open

      avledger checkout list --overdue --json
    """
    with session() as app_:
        rows = checkouts.listing(app_, open_only=open_, overdue_only=overdue, serial=device,
                                 badge=badge, limit=limit)
        tz = app_.config.timezone

    def render() -> None:
        shown = [(r["id"], r["serial"], r["badge"], r["name"], r["task"],
                  display(r["out_at"], tz), display(r["in_at"], tz),
                  _("yes") if r["remote"] else "",
                  "[bold red]" + _("OVERDUE") + "[/]" if r["overdue"]
                  else _("out") if r["in_at"] is None else _("in")) for r in rows]
        console.print(table(_("checkouts ({count}, times in {tz})").format(count=len(shown),
                                                                          tz=tz),
                            [_("id"), _("device"), _("badge"), _("name"), _("task"),
                             _("checked out"), _("checked in"), _("remote"), _("state")], shown)
                      if shown else _("no checkouts"))

    emit(rows, as_json, render)


@app.command("show")
def show(checkout_id: Annotated[int, typer.Argument(help="Checkout number.")],
         as_json: JsonOpt = False) -> None:
    """One checkout as in the usage ledger: pre-use check, footage, gaps.

    Example: avledger checkout show 12
    """
    with session() as app_:
        found = usage.rows(app_, checkout_id=checkout_id)
    if not found:
        raise NotFoundError(_("no checkout {id}").format(id=checkout_id))
    row = found[0]

    def render() -> None:
        by = _("{time} by {who}")
        lines = [(_("device"), f"{row['device']} ({row['kind']})"),
                 (_("officer"), f"{row['badge']} {row['name'] or ''}"),
                 (_("task"), f"{row['task']}" + (f" [{row['task_id']}]" if row["task_id"]
                                                 else "")),
                 (_("checked out"), by.format(time=row["out"], who=row["out_by"])),
                 (_("checked in"), by.format(time=row["in"], who=row["in_by"]) if row["in"]
                  else _("still out")),
                 (_("remote"), _("yes") if row["remote"] else _("no")),
                 (_("pre-use check"), _precheck_line(row["precheck"])),
                 (_("forced"), (row["precheck"].get("forced") or {}).get("reason", "")),
                 (_("footage"), _("{clips} clips, {hours} h").format(clips=row["clips"],
                                                                    hours=row["hours"]))]
        lines += [(_("gap {id}").format(id=g["id"]),
                   _("{reason} {minutes} min ({state}): {note}").format(
                       reason=g["reason"], minutes=g["minutes"], note=g["note"],
                       state=_("approved") if g["approved"] else _("pending approval")))
                  for g in row["gaps"]]
        console.print(table(_("checkout {id}").format(id=checkout_id), ["", ""], lines))

    emit(row, as_json, render)


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"


@app.command("export")
def export(
    format_: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")]
    = ExportFormat.csv,
    start: Annotated[datetime | None, typer.Option("--from", formats=TIME_FORMATS, metavar="TIME",
                                                   help="Checkouts that began at or after "
                                                   "this time (site zone).")] = None,
    end: Annotated[datetime | None, typer.Option("--to", formats=TIME_FORMATS, metavar="TIME",
                                                 help="… and before this time (exclusive).")]
    = None,
    month: Annotated[str | None, typer.Option("--month", help="A calendar month, YYYY-MM "
                                              "(instead of --from/--to).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here instead of to "
                                                  "standard output.")] = None,
    bom: Annotated[bool, typer.Option("--bom", help="Start the CSV with a UTF-8 byte order "
                                      "mark (for spreadsheet programs).")] = False,
) -> None:
    """Export the usage ledger (台账): one line per checkout, as CSV or JSON.

    Columns: checkout, device, kind, badge, name, unit, out, in, out_by, in_by, task, task_id,
    remote, battery, storage_free, clock, clock_drift_s, forced_reason, clips, hours, gaps,
    gaps_approved, gap_details. Times are in the site zone with their offset.

    Examples:

      avledger checkout export --month 2026-11 --out ledger-2026-11.csv --bom

      avledger checkout export --format json --from 2026-11-01 --to 2026-11-08
    """
    with session() as app_:
        tz = app_.config.timezone
        if month:
            start, end = _month(month)
        data = usage.rows(app_, start=to_utc(start, tz), end=to_utc(end, tz))
    text = usage.to_csv(data, tz) if format_ is ExportFormat.csv else usage.to_json(data)
    if bom and format_ is ExportFormat.csv:
        text = "\ufeff" + text
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        console.print(_("wrote {count} checkouts to {file}").format(count=len(data),
                                                                   file=out_file))


def _month(text: str) -> tuple[datetime, datetime]:
    try:
        first = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise typer.BadParameter(_("must be YYYY-MM, e.g. 2026-11"),
                                 param_hint="--month") from None
    following = first.replace(year=first.year + (first.month == 12),
                              month=first.month % 12 + 1)
    return first, following
