"""``avledger ingest PATH | --device /dev/sdX1``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from avledger.cli import common
from avledger.cli.common import (
    DryRunOpt,
    JsonOpt,
    byte_progress,
    emit,
    session,
    stderr_is_terminal,
    table,
)
from avledger.cli.inputs import to_utc
from avledger.core import identity
from avledger.core.clock import check as clockcheck
from avledger.core.dock import readahead
from avledger.core.dock.volume import SourceClip
from avledger.core.ingest.session import (
    ClipOutcome,
    IngestHooks,
    IngestReport,
    IngestSession,
    ingest_device,
)
from avledger.errors import DeviceError, ProblemsFound
from avledger.i18n import N_, _, translate_stored
from avledger.phases import mark
from avledger.timestamps import display

if TYPE_CHECKING:  # rich's progress bars load only when there is a terminal to draw them on
    from rich.progress import Progress, TaskID

DockedAtOpt = Annotated[str | None, typer.Option(
    "--docked-at", metavar="TIME",
    help="When the recorder was docked (site time, or ISO 8601 with an offset): its clock "
         "file is measured against this moment. Without it a folder's drift is unknown (not "
         "read at dock); a --device's docking moment comes from udev.")]


def escape(text: str) -> str:
    """Text shown as it is, never read as rich markup (rich loads only when output is drawn)."""
    from rich.markup import escape as escaped

    return escaped(text)


def docked_reference(text: str | None, tz: str) -> clockcheck.Reference | None:
    """The ``--docked-at`` moment as a measurement reference (a naive time is site time)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(_("{text} is not a time; write it like 2026-11-27 16:05:00 "
                                   "(site time) or 2026-11-27T08:05:00+00:00").format(
                                       text=repr(text)),
                                 param_hint="--docked-at") from None
    return clockcheck.Reference.given(to_utc(moment, tz) or moment)


def clock_line(clock: dict[str, Any], tz: str) -> str:
    """The dock's clock measurement in words (figure ± uncertainty, reset, or unknown)."""
    words = clockcheck.describe(clock.get("drift_seconds"), clock.get("uncertainty_seconds"),
                                str(clock.get("status")), clock.get("device_time"),
                                clock.get("detail"), tz)
    return escape(words)  # the detail may quote the recorder's clock file: never markup


class ProgressHooks(IngestHooks):
    """Shows per-file and overall progress (bytes/s, ETA); decides nothing."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.overall: TaskID | None = None
        self.current: TaskID | None = None

    def planned(self, total_files: int, total_bytes: int) -> None:
        self.overall = self.progress.add_task(_("{count} clips").format(count=total_files),
                                              total=total_bytes)

    def clip_started(self, clip: SourceClip) -> None:
        if self.current is not None:
            self.progress.remove_task(self.current)
        self.current = self.progress.add_task(Path(clip.rel).name, total=clip.size)

    def bytes_copied(self, n: int) -> None:
        if self.current is not None:
            self.progress.advance(self.current, n)
        if self.overall is not None:
            self.progress.advance(self.overall, n)

    def clip_finished(self, outcome: ClipOutcome) -> None:
        if outcome.status == "failed" and not self.progress.disable:
            error = translate_stored(outcome.error or "")
            self.progress.console.print(
                "[red]" + _("failed") + f"[/] {escape(error)}", highlight=False)
        if self.current is not None:
            self.progress.remove_task(self.current)
            self.current = None
        if outcome.status == "skipped" and self.overall is not None:
            self.progress.advance(self.overall, outcome.size)


def ingest_progress() -> Progress:
    return byte_progress(label_width=28)


@contextlib.contextmanager
def progress_hooks() -> Iterator[IngestHooks]:
    """Progress bars on a terminal; without one (udev unit, a pipe, ``--json`` into a file)
    the plain hooks: nothing would be drawn, so the progress machinery is not even loaded."""
    if not stderr_is_terminal():
        yield IngestHooks()
        return
    with ingest_progress() as progress:
        yield ProgressHooks(progress)


def render(report: IngestReport, tz: str) -> None:
    t = report.totals()
    clock = report.clock
    common.console.print(
        _("recorder {serial} ({profile}{new}) from {source}; badge in device file: {badge}")
        .format(serial=f"[bold]{escape(report.serial)}[/]", profile=report.profile,
                new=_(", new, unregistered") if report.device_new else "",
                source=escape(report.source), badge=escape(report.badge_hint or "-")),
        highlight=False)
    common.console.print(
        _("clock: drift {drift}; host clock synchronised: {synced}").format(
            drift=clock_line(clock, tz), synced=yes_no(clock.get("host_synced"))),
        highlight=False)
    listed = [o for o in report.outcomes if o.status != "skipped" or o.reason != "already ingested"]
    if listed:
        rows = [(escape(o.rel), _(OUTCOMES.get(o.status, o.status)), f"{o.size / 1e6:.1f} MB",
                 display(o.corrected_start, tz),
                 "" if o.drift_seconds is None else f"{o.drift_seconds:+.1f}",
                 {True: _("on time"), False: _("LATE"), None: "?"}[o.on_time]
                 if o.status in ("new", "planned") else "",
                 o.badge or "", o.attribution or "",
                 escape(", ".join(o.flags) or translate_stored(o.error or o.reason or "")))
                for o in listed]
        common.console.print(table(None, [_("clip"), _("result"), _("size"),
                                   _("recorded, corrected"), _("drift s"), _("window"),
                                   _("badge"), _("attribution"), _("notes")], rows))
    rate = t["bytes_copied"] / t["seconds"] / 1e6 if t["seconds"] else 0.0
    summary = [(_("new"), t["new"]), (_("skipped (already ingested)"), t["skipped"]),
               (_("late"), t["late"]), (_("failed"), t["failed"]),
               (_("refused (not regular files of the recorder)"), t["refused"]),
               *([(_("restored to the store"), t["restored"])] if t["restored"] else []),
               *([(_("marked important on the recorder (hold proposed)"), t["marked"])]
                 if t["marked"] else []),
               (_("unattributed"), t["unattributed"]),
               (_("drift"), clock_line(clock, tz)),
               (_("copied"), _("{megabytes} MB in {seconds} s ({rate} MB/s)").format(
                   megabytes=f"{t['bytes_copied'] / 1e6:.1f}", seconds=f"{t['seconds']:.1f}",
                   rate=f"{rate:.0f}"))]
    if report.dry_run:
        summary.insert(0, (_("would ingest (dry run)"), t["planned"]))
    if report.stopped:
        summary.append((_("stopped"), translate_stored(report.stopped)))
    common.console.print(table(_("summary"), ["", ""], summary))
    if report.left_out:
        common.console.print(left_out_text(report.left_out, report.profile), highlight=False)


def left_out_text(paths: list[str], profile: str) -> str:
    """Media files no glob of the profile matched: named, never dropped without a word."""
    more = _(" … and {count} more").format(count=len(paths) - 20) if len(paths) > 20 else ""
    return ("[yellow]" + _("{count} media file(s) not matched by profile {profile}'s "
                           "clips.globs, not ingested:").format(count=len(paths), profile=profile)
            + "[/] " + ", ".join(paths[:20]) + more
            + _(" — check the profile with 'avledger profile check'"))


# What became of each file (IngestReport outcome statuses).
OUTCOMES = {"new": N_("new"), "skipped": N_("skipped"), "failed": N_("failed"),
            "refused": N_("refused"), "planned": N_("planned"), "restored": N_("restored")}


def yes_no(value: object) -> str:
    """A tri-state flag (1/0/None or True/False/None) for people."""
    if value is None:
        return _("unknown")
    return _("yes") if value else _("NO")


def ingest(
    path: Annotated[Path | None, typer.Argument(
        help="A mounted recorder volume or a folder laid out like one.")] = None,
    device: Annotated[str | None, typer.Option(
        "--device", help="A recorder's block device: mounted read-only, ingested, unmounted.")
    ] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Use this device profile instead of recognising it.")] = None,
    verify: Annotated[bool, typer.Option(
        "--verify", help="Re-read source and stored copy past the page cache and compare.")
    ] = False,
    unattended: Annotated[bool, typer.Option(
        "--unattended", help="Act as the dock ('system'), as the udev-started unit does; "
                             "root or the avledger service user only.")] = False,
    docked_at: DockedAtOpt = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Copy a docked recorder's clips into the evidence store, with their custody trail.

    Recognises the recorder by its profile, checks its clock, skips clips already ingested,
    copies the rest (hashing while copying), and records each clip in the catalog and the
    ledger. Never writes to the recorder. Safe to re-run: an interrupted ingest resumes.

    The clock file a recorder writes when plugged in is measured against the moment of
    docking (udev's, for --device); a folder has no such moment, so its drift is unknown and
    its clips keep their recorder times, unless --docked-at says when it was docked.

    Exit codes: 0 all ingested, 1 some clips failed or files refused (links, FIFOs, device
    nodes are never read), 3 profile/config invalid,
    4 nothing recognised, 7 store full or unusable, 8 recorder removed or unmountable.

    Examples:

      avledger ingest /media/BWR-SIM

      avledger ingest --device /dev/sdb1 --verify

      avledger ingest ./recorder --profile generic --dry-run --json

      avledger ingest ./copy-of-BWR0042 --docked-at "2026-11-27 16:05:00"
    """
    mark("start-up (imports)")
    try:
        if (path is None) == (device is None):
            raise typer.BadParameter(_("give either PATH or --device (one of them)"))
        with session(daemon=unattended) as app_:
            if unattended:
                identity.require_dock_caller(app_.config,
                                             _("ingest as the dock (--unattended)"))
            app_.actor.require(action=_("ingest footage"))
            tz = app_.config.timezone
            mark("config + catalog open")
            docked = docked_reference(docked_at, tz)
            with progress_hooks() as hooks:
                if device is not None:
                    report = ingest_device(app_, device, profile=profile, hooks=hooks,
                                           verify=verify, dry_run=dry_run,
                                           docked_at=docked.at if docked else None)
                else:
                    assert path is not None
                    report = IngestSession(app_, path, profile=profile, hooks=hooks,
                                           verify=verify, dry_run=dry_run,
                                           docked=docked).run()
    finally:
        readahead.stop()  # started before this module loaded (ingest_early.py), if at all
    mark("session close")
    emit(report.as_dict(), as_json, lambda: render(report, tz))
    mark("output")
    if report.stopped and "removed" in report.stopped:
        raise DeviceError(_("{stopped}; {failed} clip(s) not ingested").format(
            stopped=report.stopped, failed=report.failed),
            hint=_("dock it again: the ingest resumes where it stopped"))
    refused = report.count("refused")
    if report.failed or refused:
        what = _("; ").join(part for part in (
            _("{count} clip(s) failed").format(count=report.failed) if report.failed else "",
            _("{count} file(s) refused (links, FIFOs, device nodes: not read)").format(
                count=refused) if refused else "") if part)
        raise ProblemsFound(_("{what}; the others were ingested").format(what=what),
                            hint=_("see the list above; re-run to retry them"))
