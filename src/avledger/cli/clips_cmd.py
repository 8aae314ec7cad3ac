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


def _window(c: dict[str, Any]) -> str:
    if c["on_time"] is None:
        return "?"
    if c["on_time"]:
        return "on time"
    return "LATE (explained)" if c["late_reason"] else "LATE"


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
    kind: Annotated[str | None, typer.Option(
        "--kind", help=_("Only this kind of record: video, photo or audio."))] = None,
    marked: Annotated[bool, typer.Option(
        "--marked", help=_("Only clips the recorder marked important."))] = False,
    as_json: JsonOpt = False,
) -> None:
    """List clips, oldest recording first, with their hand-in status and officer.

    Examples:

      avledger clips list --late

      avledger clips list --device BWR0042 --since 2026-11-01 --until 2026-12-01

      avledger clips list --officer 0001 --json

      avledger clips list --kind photo --marked
    """
    f = clips_core.ClipFilter(device=device, badge=officer, since=_local(since),
                              until=_local(until), late=late, unattributed=unattributed,
                              dock=dock, limit=limit, kind=kind, marked=marked)
    with session() as app_:
        found = clips_core.list_clips(app_, f)
        tz = app_.config.timezone

    def render() -> None:
        rows = [(c["id"], c["serial"], c["source_path"].rsplit("/", 1)[-1], _kind(c),
                 display(c["corrected_start"], tz),
                 "" if c["duration_seconds"] is None else f"{c['duration_seconds']:.0f} s",
                 "" if c["drift_seconds"] is None else f"{c['drift_seconds']:+.1f}",
                 _window(c), c["badge"] or "", c["attribution"], ", ".join(c["flags"]))
                for c in found]
        console.print(table(f"{len(found)} clip(s)", ["id", "device", "file", _("kind"),
                                                      "recorded",
                                                      "length", "drift s", "window", "badge",
                                                      "attribution", "flags"], rows))

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
            ("clip", data["id"]), ("recorder", f"{data['serial']} (device {data['device_id']})"),
            ("file on recorder", data["source_path"]), (_("kind"), _kind(data)),
            ("size", f"{data['size']:,} bytes"),
            ("object (BLAKE3)", data["digest"]),
            ("recorded, device clock", f"{display(data['device_start'], tz)} – "
                                       f"{display(data['device_end'], tz)}"),
            ("recorded, corrected", f"{display(data['corrected_start'], tz)} – "
                                    f"{display(data['corrected_end'], tz)}"),
            ("duration", "" if data["duration_seconds"] is None
             else f"{data['duration_seconds']:.1f} s (from {data['duration_source']})"),
            ("drift at recording", "unknown" if data["drift_seconds"] is None
             else f"{data['drift_seconds']:+.3f} s (device minus true time)"),
            ("clock at dock", _clock_line(m, tz)),
            ("ingested", display(data["ingested_at"], tz)),
            ("deadline", display(data["deadline"], tz)), ("window", _window(data)),
            ("late reason", data["late_reason"] or ""),
            ("officer", f"{data['badge'] or '-'} ({data['attribution']})"),
            ("flags", ", ".join(data["flags"])), ("status", _status_line(data, tz)),
            ("cases", ", ".join(f"{c['number']} ({c['status']})" for c in data["cases"]) or "-"),
            ("holds", ", ".join(f"#{h['id']} {h['reason']}" for h in data["holds"]) or "-"),
        ]
        console.print(table(f"clip {data['id']}", ["", ""], rows))
        if data["redactions"]:
            reds = [(r["redaction"], r["status"], display(r["made_at"], tz), r["made_by"],
                     "; ".join(f"{o['op']} {o['from']:g}-{o['to']:g} s {o['reason_zh']}"
                               for o in r["operations"]), r["reason"], r["blake3"])
                    for r in data["redactions"]]
            console.print(table("redactions (derived copies; held and purged with this clip)",
                                ["id", "status", "made", "by", "operations", "why",
                                 "object (BLAKE3)"], reds))
        ev = [(e["seq"], display(e["ts"], tz), e["actor"], e["type"]) for e in data["events"]]
        console.print(table("ledger events", ["seq", "time", "actor", "type"], ev))

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
        f"clip {result['clip']}: reason recorded (ledger event {result['event']})"))



KIND_NAMES = {"video": N_("video"), "photo": N_("photo"), "audio": N_("audio")}


def _kind(c: dict[str, Any]) -> str:
    """``photo``, or ``video, marked important (flag)`` when the recorder marked it."""
    kind = _(KIND_NAMES.get(c["kind"], c["kind"]))
    if c.get("mark"):
        return _("{kind}, marked important ({how})").format(kind=kind, how=c["mark"])
    return kind


def _status_line(data: dict[str, Any], tz: str) -> str:
    """``stored`` only while the store holds a good copy; otherwise say what is wrong."""
    copy = data.get("stored_copy") or {}
    state = copy.get("state")
    if data["status"] != "stored" or state in (None, "verified", "unverified"):
        return str(data["status"])
    since = (f" since {display(copy['quarantined_at'], tz)}"
             if state == "quarantined" else "")
    return (f"[red]NO GOOD COPY: stored object {state}{since}[/]"
            " — restore it with 'avledger store restore PATH'")


def _clock_line(m: dict[str, Any], tz: str) -> str:
    if not m:
        return "-"
    return (f"{m.get('status', '?')}, drift {m.get('drift_seconds')} s, measured "
            f"{display(m.get('measured_at'), tz)}, host synchronised: "
            f"{yes_no(m.get('host_synced'))} ({m.get('host_sync')})")
