"""``avledger clips list | show | explain``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from avledger.cli.common import JsonOpt, console, emit, load_config, new_app, session, table
from avledger.cli.ingest_cmd import yes_no
from avledger.core import clips as clips_core
from avledger.i18n import N_, _
from avledger.timestamps import display

app = new_app("Ingested clips: list, show, explain late ones.")


def _local(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(load_config().timezone))


# Who a clip is attributed to, and how (values of core.clips' 'attribution').
ATTRIBUTIONS = {"checkout": N_("checkout"), "between-checkouts": N_("between checkouts"),
                "device-info": N_("device info"), "unattributed": N_("unattributed")}


def _window(c: dict[str, Any]) -> str:
    if c["on_time"] is None:
        return "?"
    if c["on_time"]:
        return _("on time")
    return _("LATE (explained)") if c["late_reason"] else _("LATE")


@app.command("list")
def list_(
    device: Annotated[str | None, typer.Option(
        "--device", "-d", help="Only this recorder (serial number or device id).")] = None,
    officer: Annotated[str | None, typer.Option(
        "--officer", "--badge", help="Only clips attributed to this badge number.")] = None,
    since: Annotated[datetime | None, typer.Option(
        "--since", help="Recorded at or after (site time unless an offset is given).")] = None,
    until: Annotated[datetime | None, typer.Option(
        "--until", help="Recorded before (site time unless an offset is given).")] = None,
    late: Annotated[bool, typer.Option("--late", help="Only clips handed in late.")] = False,
    unattributed: Annotated[bool, typer.Option(
        "--unattributed", help="Only clips with no officer (incl. between checkouts).")] = False,
    dock: Annotated[int | None, typer.Option("--dock", help="Only clips of this docking.")
                    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many.")
                     ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List clips, oldest recording first, with their hand-in status and officer.

    Examples:

      avledger clips list --late

      avledger clips list --device BWR0042 --since 2026-11-01 --until 2026-12-01

      avledger clips list --officer 0001 --json
    """
    f = clips_core.ClipFilter(device=device, badge=officer, since=_local(since),
                              until=_local(until), late=late, unattributed=unattributed,
                              dock=dock, limit=limit)
    with session() as app_:
        found = clips_core.list_clips(app_, f)
        tz = app_.config.timezone

    def render() -> None:
        rows = [(c["id"], c["serial"], c["source_path"].rsplit("/", 1)[-1],
                 display(c["corrected_start"], tz),
                 "" if c["duration_seconds"] is None
                 else _("{seconds} s").format(seconds=f"{c['duration_seconds']:.0f}"),
                 "" if c["drift_seconds"] is None else f"{c['drift_seconds']:+.1f}",
                 _window(c), c["badge"] or "", _(ATTRIBUTIONS.get(c["attribution"],
                                                                  c["attribution"])),
                 ", ".join(c["flags"]))
                for c in found]
        console.print(table(_("{count} clip(s)").format(count=len(found)),
                            [_("id"), _("device"), _("file"), _("recorded"), _("length"),
                             _("drift s"), _("window"), _("badge"), _("attribution"),
                             _("flags")], rows))

    emit(found, as_json, render)


@app.command("show")
def show(
    clip: Annotated[int, typer.Argument(help="Clip id (see 'clips list').")],
    as_json: JsonOpt = False,
) -> None:
    """Everything about one clip: times (device and corrected), drift and the clock
    measurement behind it, deadline, attribution, stored object, cases, holds, redactions,
    and its ledger events.

    Example: avledger clips show 42
    """
    with session() as app_:
        data = clips_core.show_clip(app_, clip)
        tz = app_.config.timezone

    def render() -> None:
        m = data["clock_measurement"] or {}
        rows = [
            (_("clip"), data["id"]),
            (_("recorder"), _("{serial} (device {device})").format(serial=data["serial"],
                                                                  device=data["device_id"])),
            (_("file on recorder"), data["source_path"]),
            (_("size"), _("{size} bytes").format(size=f"{data['size']:,}")),
            (_("object (BLAKE3)"), data["digest"]),
            (_("recorded, device clock"), f"{display(data['device_start'], tz)} – "
                                          f"{display(data['device_end'], tz)}"),
            (_("recorded, corrected"), f"{display(data['corrected_start'], tz)} – "
                                       f"{display(data['corrected_end'], tz)}"),
            (_("duration"), "" if data["duration_seconds"] is None
             else _("{seconds} s (from {source})").format(
                 seconds=f"{data['duration_seconds']:.1f}", source=data["duration_source"])),
            (_("drift at recording"), _("unknown") if data["drift_seconds"] is None
             else _("{seconds} s (device minus true time)").format(
                 seconds=f"{data['drift_seconds']:+.3f}")),
            (_("clock at dock"), _clock_line(m, tz)),
            (_("ingested"), display(data["ingested_at"], tz)),
            (_("deadline"), display(data["deadline"], tz)), (_("window"), _window(data)),
            (_("late reason"), data["late_reason"] or ""),
            (_("officer"), f"{data['badge'] or '-'} "
                           f"({_(ATTRIBUTIONS.get(data['attribution'], data['attribution']))})"),
            (_("flags"), ", ".join(data["flags"])), (_("status"), _status_line(data, tz)),
            (_("cases"), ", ".join(f"{c['number']} ({c['status']})" for c in data["cases"])
             or "-"),
            (_("holds"), ", ".join(f"#{h['id']} {h['reason']}" for h in data["holds"]) or "-"),
        ]
        console.print(table(_("clip {id}").format(id=data["id"]), ["", ""], rows))
        if data["redactions"]:
            reds = [(r["redaction"], r["status"], display(r["made_at"], tz), r["made_by"],
                     "; ".join(f"{o['op']} {o['from']:g}-{o['to']:g} s {o['reason_zh']}"
                               for o in r["operations"]), r["reason"], r["blake3"])
                    for r in data["redactions"]]
            console.print(table(_("redactions (derived copies; held and purged with this "
                                  "clip)"),
                                [_("id"), _("status"), _("made"), _("by"), _("operations"),
                                 _("why"), _("object (BLAKE3)")], reds))
        ev = [(e["seq"], display(e["ts"], tz), e["actor"], e["type"]) for e in data["events"]]
        console.print(table(_("ledger events"), [_("seq"), _("time"), _("actor"), _("type")],
                            ev))

    emit(data, as_json, render)


@app.command("explain")
def explain(
    clip: Annotated[int, typer.Argument(help="Id of a late clip.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it was handed in late.")],
    as_json: JsonOpt = False,
) -> None:
    """Record why a late clip was handed in after its deadline (a ledger event).

    Example: avledger clips explain 42 --reason "out-of-town inspection, no dock until Monday"
    """
    with session() as app_:
        result = clips_core.explain(app_, clip, reason)
    emit(result, as_json, lambda: console.print(
        _("clip {clip}: reason recorded (ledger event {event})").format(**result)))



def _status_line(data: dict[str, Any], tz: str) -> str:
    """``stored`` only while the store holds a good copy; otherwise say what is wrong."""
    copy = data.get("stored_copy") or {}
    state = copy.get("state")
    if data["status"] != "stored" or state in (None, "verified", "unverified"):
        return str(data["status"])
    since = (_(" since {time}").format(time=display(copy["quarantined_at"], tz))
             if state == "quarantined" else "")
    return ("[red]" + _("NO GOOD COPY: stored object {state}").format(state=state) + since
            + "[/]" + _(" — restore it with 'avledger store restore PATH'"))


def _clock_line(m: dict[str, Any], tz: str) -> str:
    if not m:
        return "-"
    return _("{status}, drift {drift} s, measured {measured}, host synchronised: {synced} "
             "({sync})").format(status=m.get("status", "?"), drift=m.get("drift_seconds"),
                                measured=display(m.get("measured_at"), tz),
                                synced=yes_no(m.get("host_synced")), sync=m.get("host_sync"))
