"""``avledger clips list | show | tag | explain | custody``."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from avledger.cli import footage_opts
from avledger.cli.common import (
    JsonOpt,
    console,
    emit,
    err_console,
    load_config,
    new_app,
    session,
    table,
)
from avledger.cli.footage_opts import CategoryOpt, MatterOpt, StepOpt, TagOpt
from avledger.cli.ingest_cmd import yes_no
from avledger.core import clips as clips_core
from avledger.core.footage import tagging
from avledger.errors import InputError
from avledger.i18n import N_, _
from avledger.timestamps import display

app = new_app("Ingested clips: list, search, show, tag, explain late ones, custody report.")


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
    case: Annotated[str | None, typer.Option(
        "--case", help=_("Only clips linked to this case (case number)."))] = None,
    category: Annotated[str | None, typer.Option(
        "--category", help=_("Only this enforcement category: 行政检查, 行政处罚, 行政强制 "
                             "(or inspection, penalty, compulsion)."))] = None,
    step: Annotated[str | None, typer.Option(
        "--step", help=_("Only this recording step (a code of footage.checklist, e.g. "
                         "seizure, hearing)."))] = None,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", help=_("Only clips carrying this tag; repeat to require several."))] = None,
    text: Annotated[str | None, typer.Option(
        "--text", help=_("Only clips whose note or tags contain every one of these words "
                         "(Chinese substrings too)."))] = None,
    kind: Annotated[str | None, typer.Option(
        "--kind", help=_("Only this kind of record: video, photo or audio."))] = None,
    marked: Annotated[bool, typer.Option(
        "--marked", help=_("Only clips the recorder marked important."))] = False,
    as_json: JsonOpt = False,
) -> None:
    """List clips, oldest recording first, with their hand-in status and officer.

    Filters combine: a clip is listed when it meets all of them.

    Examples:

      avledger clips list --late

      avledger clips list --device BWR0042 --since 2026-11-01 --until 2026-12-01

      avledger clips list --officer 0001 --json

      avledger clips list --case 平环强〔2026〕3号 --step seizure

      avledger clips list --category 行政处罚 --tag 投诉 --text 排污口

      avledger clips list --kind photo --marked
    """
    f = clips_core.ClipFilter(device=device, badge=officer, since=_local(since),
                              until=_local(until), late=late, unattributed=unattributed,
                              dock=dock, limit=limit, case=case, category=category, step=step,
                              tags=tuple(tag or ()), text=text, kind=kind, marked=marked)
    with session() as app_:
        found = clips_core.list_clips(app_, f)
        tz = app_.config.timezone

    def render() -> None:
        rows = [(c["id"], c["serial"], c["source_path"].rsplit("/", 1)[-1], _kind(c),
                 display(c["corrected_start"], tz),
                 "" if c["duration_seconds"] is None
                 else _("{seconds} s").format(seconds=f"{c['duration_seconds']:.0f}"),
                 "" if c["drift_seconds"] is None else f"{c['drift_seconds']:+.1f}",
                 _window(c), c["badge"] or "", _(ATTRIBUTIONS.get(c["attribution"],
                                                                  c["attribution"])),
                 ", ".join(c["flags"]), c["step"] or "", " ".join(c["tags"]))
                for c in found]
        console.print(table(_("{count} clip(s)").format(count=len(found)),
                            [_("id"), _("device"), _("file"), _("kind"), _("recorded"),
                             _("length"), _("drift s"), _("window"), _("badge"),
                             _("attribution"), _("flags"), _("step"), _("tags")], rows))

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
            (_("file on recorder"), data["source_path"]), (_("kind"), _kind(data)),
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
            (_("category / matter"), " / ".join(x for x in (data["category"], data["matter"])
                                                if x) or "-"),
            (_("recording step"), data["step"] or "-"), (_("tags"), " ".join(data["tags"]) or "-"),
            (_("note"), data["note"] or "-"),
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


@app.command("tag")
def tag(
    clips: Annotated[list[int], typer.Argument(help=_("Clip ids (see 'clips list')."))],
    category: CategoryOpt = None,
    matter: MatterOpt = None,
    step: StepOpt = None,
    add: TagOpt = None,
    remove: Annotated[list[str] | None, typer.Option(
        "--untag", help=_("Remove this tag; repeat for several."))] = None,
    note: Annotated[str | None, typer.Option(
        "--note", help=_("Replace the clip's note (free text; '' clears it)."))] = None,
    as_json: JsonOpt = False,
) -> None:
    """Say what clips are about: category, matter, recording step, tags, note.

    An empty value ('') clears a field.

    Each change is a ledger event (clip.tagged) with the values before and after; the
    earlier values stay on record.

    Examples:

      avledger clips tag 101 102 --step seizure --note "查封排污口现场"

      avledger clips tag 103 --tag 投诉 --tag 夜查

      avledger clips tag 103 --untag 夜查 --json
    """
    change = replace(footage_opts.change(category, matter, step, add, note),
                     remove_tags=list(remove or []))
    with session() as app_:
        result = tagging.tag_clips(app_, clips, change)

    def render() -> None:
        for c in result["changed"]:
            new = c["new"]
            console.print(_("clip {clip}: {what} (ledger event {event})").format(
                clip=c["clip"], event=c["event"], what="; ".join(
                    f"{k} {v if not isinstance(v, list) else ' '.join(v)}"
                    for k, v in new.items() if v)))
        if result["unchanged"]:
            console.print(_("unchanged: {ids}").format(
                ids=", ".join(map(str, result["unchanged"]))))

    emit(result, as_json, render)


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


class CustodyFormat(StrEnum):
    html = "html"
    pdf = "pdf"
    md = "md"
    json = "json"


class CustodyLang(StrEnum):
    zh = "zh"
    en = "en"


@app.command("custody", help=_(
    "The clip's chain of custody (保管链报告): identity, times and the clock measurement "
    "behind them, officer and checkout, cases, holds, discs, retention, and every ledger "
    "event that touched it, each with an inclusion proof against the signed checkpoint at "
    "the end.\n\n"
    "Making it is recorded in the ledger (clip.custody_reported). Footage of a confidential "
    "case: only the records office, leaders, auditors and the case's handlers.\n\n"
    "Examples:\n\n"
    "  avledger clips custody 42 --format pdf --lang zh --output 保管链-42.pdf\n\n"
    "  avledger clips custody 42 --format json --output custody-42.json\n\n"
    "  python3 verify_ledger.py --custody custody-42.json --key agency.pub"))
def custody(
    clip: Annotated[int, typer.Argument(help=_("Clip id (see 'clips list')."))],
    fmt: Annotated[CustodyFormat, typer.Option(
        "--format", "-f", help=_("html (one self-contained page), pdf (printed by headless "
                                 "chromium), md, or json (with every event and proof whole, "
                                 "for the standalone verifier)."))] = CustodyFormat.html,
    lang: Annotated[CustodyLang | None, typer.Option(
        "--lang", help=_("Chinese (zh) or English (en); default reports.lang."))] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help=_("File to write; html, md and json go to standard output "
                                 "without it."))] = None,
) -> None:
    from avledger.core.reports import chromium
    from avledger.core.reports import output as report_output
    from avledger.core.reports.custody import make_report

    with session() as app_:
        language = lang.value if lang else str(app_.config.get("reports.lang"))
        command = str(app_.config.get("reports.chromium"))
        if fmt is CustodyFormat.pdf:
            if output is None:
                raise InputError(_("--format pdf writes a file: give --output FILE.pdf"))
            chromium.find(command)  # say so before the work, not after
        if output is not None:
            _check_target(output)  # before the report is recorded as made
        report = make_report(app_, clip, fmt=fmt.value, lang=language)
        written = report_output.render(report, fmt.value, language, output,
                                       chromium_command=command)
    if written.stdout is not None:
        typer.echo(written.stdout, nl=False)
    else:
        err_console.print(_("custody report of clip {clip} ({fmt}, {lang}) written to {out}")
                          .format(clip=clip, fmt=fmt.value, lang=language, out=output),
                          markup=False, highlight=False)


def _check_target(output: Path) -> None:
    """A file that can be written: its folder exists (or is made) and is writable."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(_("cannot create the folder of {out}: {why}").format(
            out=output, why=exc.strerror or exc)) from None
    if output.is_dir() or not os.access(output.parent, os.W_OK):
        raise InputError(_("cannot write {out}: give a file in a folder you may write to")
                         .format(out=output))
