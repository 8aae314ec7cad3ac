"""``avledger device add|list|show|retire|lost|found``."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from avledger.cli.common import DryRunOpt, JsonOpt, console, emit, new_app, session, table
from avledger.core.desk import devices as registry
from avledger.i18n import N_, _
from avledger.timestamps import display

app = new_app("The device registry: recorders and other devices, and their status.")

DeviceKind = Enum("DeviceKind", {k: k for k in registry.KINDS}, type=str)  # type: ignore[misc]
BODY_RECORDER = DeviceKind("body_recorder")
DeviceStatus = Enum("DeviceStatus", {s: s for s in registry.STATUSES}, type=str)  # type: ignore[misc]
# A device's status as the desk reads it (registry.STATUSES).
STATUSES = {"in_service": N_("in service"), "lost": N_("lost"), "retired": N_("retired")}

SerialArg = Annotated[str, typer.Argument(metavar="SERIAL", help="The device's serial number.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the custody ledger).")]


@app.command("add")
def add(
    serial: SerialArg,
    kind: Annotated[DeviceKind, typer.Option("--kind", help="What the device is (rule B, "
                                             "Art. 2).")] = BODY_RECORDER,
    model: Annotated[str | None, typer.Option("--model", help="Make and model.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Device profile that reads "
                                                "it at the dock.")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Owning unit (default: "
                                             "site.unit).")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Free text: asset tag, "
                                              "condition …")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a device, or register one first seen at a dock ('unregistered').

    Needs role clerk or records_manager.

    Examples:

      avledger device add DSJ-A8-0042 --model "DSJ-A8" --notes "asset 2026-117"

      avledger device add CAM-7781 --kind camera --unit "Supervision Detachment"
    """
    with session() as app_:
        reg = registry.add(app_, serial, kind=kind.value, model=model, profile=profile,
                           unit=unit, notes=notes)
    how = (_("{serial}: registered as {kind} (was seen at a dock, unregistered)")
           if reg.was_unregistered else _("{serial}: registered as {kind}"))
    emit(reg.device | {"was_unregistered": reg.was_unregistered}, as_json,
         lambda: console.print(how.format(serial=serial, kind=kind.value)))


@app.command("list")
def list_(
    unregistered: Annotated[bool, typer.Option("--unregistered", help="Only devices seen at a "
                                               "dock but not yet registered.")] = False,
    status: Annotated[DeviceStatus | None, typer.Option("--status", help="Only this "
                                                        "status.")] = None,
    kind: Annotated[DeviceKind | None, typer.Option("--kind", help="Only this kind.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List devices: registration, status, who has them now, last dock.

    Devices seen at a dock but never registered are flagged UNREGISTERED.

    Examples:

      avledger device list

      avledger device list --unregistered --json
    """
    with session() as app_:
        app_.actor.require(action=_("list devices"))
        devices = registry.listing(app_, unregistered=unregistered,
                                   status=status.value if status else None,
                                   kind=kind.value if kind else None)
        tz = app_.config.timezone

    def render() -> None:
        rows = [(d["serial"], d["kind"], d["model"], d["unit"],
                 "[bold red]" + _("UNREGISTERED") + "[/]" if d["registration"] != "registered"
                 else _("yes"),
                 _(STATUSES.get(d["status"], d["status"])),
                 _("{badge} since {time}").format(badge=d["out_to"],
                                                  time=display(d["out_since"], tz))
                 if d["out_to"] else "",
                 display(d["last_docked_at"], tz)) for d in devices]
        console.print(table(_("devices ({count})").format(count=len(rows)),
                            [_("serial"), _("kind"), _("model"), _("unit"), _("registered"),
                             _("status"), _("checked out"), _("last docked")], rows)
                      if rows else _("no devices"))

    emit(devices, as_json, render)


@app.command("show")
def show(serial: SerialArg, as_json: JsonOpt = False) -> None:
    """One device: its record, who has it, recent checkouts, last clock reading, footage.

    Example: avledger device show DSJ-A8-0042
    """
    with session() as app_:
        app_.actor.require(action=_("look at devices"))
        data = registry.details(app_, serial)
        tz = app_.config.timezone

    def render() -> None:
        d = data["device"]
        status = _(STATUSES.get(d["status"], d["status"]))
        lines = [(_("serial"), d["serial"]), (_("kind"), d["kind"]), (_("model"), d["model"]),
                 (_("device profile"), d["profile"]), (_("unit"), d["unit"]),
                 (_("registration"), d["registration"]),
                 (_("status"), _("{status} since {time}: {reason}").format(
                     status=status, time=display(d["status_changed_at"], tz),
                     reason=d["status_reason"]) if d["status_changed_at"] else status),
                 (_("notes"), d["notes"]), (_("first seen"), display(d["first_seen_at"], tz)),
                 (_("registered"), display(d["registered_at"], tz)),
                 (_("last docked"), display(d["last_docked_at"], tz)),
                 (_("last clock sync"), display(d["last_synced_at"], tz))]
        clock = data["last_clock"]
        if clock:
            lines.append((_("last clock reading"), _("{status}, drift {drift} s ({source}, "
                                                     "{time})").format(
                status=clock["status"], drift=clock["drift_seconds"], source=clock["source"],
                time=display(clock["measured_at"], tz))))
        lines.append((_("footage"), _("{clips} clips, {hours} h").format(**data["footage"])))
        console.print(table(None, ["", ""], lines))
        rows = [(c["id"], c["badge"], c["task"], display(c["out_at"], tz),
                 display(c["in_at"], tz) or "[bold]" + _("out") + "[/]")
                for c in data["recent_checkouts"]]
        if rows:
            console.print(table(_("recent checkouts"), [_("checkout"), _("badge"), _("task"),
                                                        _("checked out"), _("checked in")],
                                rows))

    emit(data, as_json, render)


def _status_change(serial: str, action: str, reason: str, dry_run: bool, as_json: bool) -> None:
    with session() as app_:
        result: dict[str, Any] = registry.change_status(app_, serial, action, reason,
                                                        dry_run=dry_run)
    said = (_("would change {serial}: {old} → {new} ({reason})") if dry_run
            else _("changed {serial}: {old} → {new} ({reason})"))
    emit(result, as_json, lambda: console.print(said.format(
        serial=serial, old=_(STATUSES.get(result["from"], result["from"])),
        new=_(STATUSES.get(result["to"], result["to"])), reason=reason)))


@app.command("retire")
def retire(serial: SerialArg, reason: ReasonOpt, dry_run: DryRunOpt = False,
           as_json: JsonOpt = False) -> None:
    """Take a device out of service for good (it can no longer be checked out).

    A checked-out device must be checked in first. Needs role records_manager.

    Example: avledger device retire DSJ-A8-0042 --reason "battery swollen, written off"
    """
    _status_change(serial, "retire", reason, dry_run, as_json)


@app.command("lost")
def lost(serial: SerialArg, reason: ReasonOpt, dry_run: DryRunOpt = False,
         as_json: JsonOpt = False) -> None:
    """Report a device lost; it cannot be checked out until found.

    An open checkout stays open: the officer still answers for the device until it is checked
    in. Needs role records_manager.

    Example: avledger device lost DSJ-A8-0042 --reason "not returned after flood response"
    """
    _status_change(serial, "lost", reason, dry_run, as_json)


@app.command("found")
def found(
    serial: SerialArg,
    reason: Annotated[str, typer.Option("--reason", help="Where or how it turned up.")] = "found",
    dry_run: DryRunOpt = False, as_json: JsonOpt = False,
) -> None:
    """A lost device is back in service. Needs role records_manager.

    Example: avledger device found DSJ-A8-0042 --reason "handed in at reception"
    """
    _status_change(serial, "found", reason, dry_run, as_json)
