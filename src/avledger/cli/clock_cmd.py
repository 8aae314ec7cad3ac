"""``avledger clock check|sync TARGET`` and ``avledger clock history DEVICE``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from avledger.cli.common import DryRunOpt, JsonOpt, console, emit, new_app, session, table
from avledger.cli.ingest_cmd import DockedAtOpt, clock_line, docked_reference, yes_no
from avledger.core.clock import sync as clocksync
from avledger.errors import ProblemsFound
from avledger.i18n import _
from avledger.timestamps import display

app = new_app("Recorder clocks (rule B, Art. 7): read them, set them, and their history.")

TargetArg = Annotated[str, typer.Argument(
    metavar="DEVICE|PATH", help="A recorder's block device (/dev/sdb1: mounted for the step "
                                "and unmounted), or its mounted volume or folder.")]
ProfileOpt = Annotated[str | None, typer.Option(
    "--profile", "-p", help="Use this device profile instead of recognising the recorder.")]


def drift_words(drift: float | None, uncertainty: float | None = None) -> str:
    if drift is None:
        return _("unknown")
    within = f" ± {uncertainty:.1f}" if uncertainty is not None else ""
    if abs(drift) < 0.05:
        return _("exact") + (_(" ({within} s)").format(within=within.strip()) if within else "")
    seconds = f"{abs(drift):.1f}{within}"
    return (_("{seconds} s fast") if drift > 0 else _("{seconds} s slow")).format(
        seconds=seconds)


def measured_words(m: dict[str, Any], tz: str) -> str:
    """A reading in words: '95.0 ± 2.0 s fast', 'reset (recorder clock read …)', 'unknown
    (not read at dock)'."""
    if m.get("status") == "reset" or m.get("drift_seconds") is None:
        return clock_line(m, tz)
    return drift_words(m["drift_seconds"], m.get("uncertainty_seconds"))


def _settled_line(settled: dict[str, Any], tz: str) -> str:
    when = display(settled["written_at"], tz)
    before = drift_words(settled["before_drift_seconds"])
    after = drift_words(settled["after_drift_seconds"])
    if settled["applied"]:
        return _("the clock setting written {when} has taken effect: {before} before, {after} "
                 "now").format(when=when, before=before, after=after)
    return ("[yellow]" + _("the clock setting written {when} did NOT take effect").format(
        when=when) + "[/]" + _(": {before} before, {after} now").format(before=before,
                                                                       after=after))


@app.command("check")
def check(target: TargetArg, profile: ProfileOpt = None, docked_at: DockedAtOpt = None,
          as_json: JsonOpt = False) -> None:
    """Read a docked recorder's clock through its profile and record the measurement.

    The measurement (device time against host time, with the host's own sync state) is kept
    in the catalog and the custody ledger. It is also the reading that shows whether a clock
    setting written earlier has taken effect. Nothing is written to the recorder.

    Exit codes: 0 the clock is within clock.tolerance_seconds, 1 it is not (or unreadable),
    4 recorder not recognised or not in the catalog, 8 it could not be mounted.

    Examples:

      avledger clock check /media/BWR-SIM

      avledger clock check /dev/sdb1 --json

      avledger clock check ./BWR0042 --docked-at "2026-11-27 16:05:00"
    """
    with session() as app_:
        tz = app_.config.timezone
        result = clocksync.check(app_, target, profile=profile,
                                 docked=docked_reference(docked_at, tz))
    data = result.as_dict()
    m = result.measurement

    def render() -> None:
        console.print(_("recorder {serial} ({profile}) at {target}: clock {clock} — {status} "
                        "(tolerance {tolerance} s)").format(
                            serial=f"[bold]{result.serial}[/]", profile=result.profile,
                            target=target, clock=measured_words(data["measurement"], tz),
                            status=m.status, tolerance=f"{result.tolerance:g}"),
                      highlight=False)
        console.print(_("host clock synchronised: {synced} ({how})").format(
            synced=yes_no(m.host.synced), how=m.host.how), highlight=False)
        if result.settled:
            console.print(_settled_line(result.settled.as_dict(), tz), highlight=False)
        if result.waiting:
            console.print(_("a clock setting written {when} is still waiting on the recorder "
                            "({target}): it takes effect when the recorder is next connected")
                          .format(when=display(result.waiting["written_at"], tz),
                                  target=result.waiting["target"]), highlight=False)

    emit(data, as_json, render)
    if m.status != "ok":
        hint = (None if result.waiting else
                _("give the docking time with --docked-at, or check it docked")
                if m.status == "unknown" and m.reference is None and m.device_time else
                f"avledger clock sync {target}")
        raise ProblemsFound(_("clock of {serial} is {clock} ({status}, tolerance {tolerance} s)")
                            .format(serial=result.serial,
                                    clock=measured_words(data["measurement"], tz),
                                    status=m.status, tolerance=f"{result.tolerance:g}"),
                            hint=hint)


@app.command("sync")
def sync(target: TargetArg, profile: ProfileOpt = None, docked_at: DockedAtOpt = None,
         dry_run: DryRunOpt = False, as_json: JsonOpt = False) -> None:
    """Set a docked recorder's clock to this computer's time, through its profile.

    THE ONE AVLEDGER COMMAND THAT WRITES TO A RECORDER. It measures the clock (before), writes
    the new time as the profile says — a file (e.g. TIMESET.TXT) or a command — and measures
    again (after) when the recorder takes the time at once. A recorder that takes the file up
    when it is next connected gets its after-measurement then (its next dock, clock check or
    docked checkout). A block device is mounted read-write for that one write only, then
    unmounted. Refused while clips on the recorder are not yet ingested. Every step is in the
    custody ledger (clock.measured, clock.synced, clock.sync_settled). Needs role clerk.

    Examples:

      avledger clock sync /media/BWR-SIM

      avledger clock sync /dev/sdb1 --dry-run
    """
    with session() as app_:
        tz = app_.config.timezone
        result = clocksync.sync(app_, target, profile=profile, dry_run=dry_run,
                                docked=docked_reference(docked_at, tz))
    data = result.as_dict()
    w = result.written

    def render() -> None:
        console.print(_("recorder {serial} ({profile}) at {target}: clock before {clock} "
                        "({status})").format(serial=f"[bold]{result.serial}[/]",
                                             profile=result.profile, target=target,
                                             clock=measured_words(data["before"], tz),
                                             status=result.before.status), highlight=False)
        what = (f"{w.target} = {w.content.strip()!r}" if w.method == "file"
                else _("ran {command}").format(command=w.content))
        if result.dry_run:
            console.print(_("dry run: would write to the recorder: {what}; nothing written")
                          .format(what=what), highlight=False)
            return
        console.print("[bold]" + _("wrote to the recorder") + "[/]"
                      + _(": {what} — clock sync is the one avledger command that writes to a "
                          "recorder").format(what=what)
                      + (_("; {target} was mounted read-write for this one write and "
                           "unmounted").format(target=target)
                         if result.read_write_mount else ""), highlight=False)
        if result.after is not None:
            console.print(_("after: {clock} ({status}) — {state}").format(
                clock=measured_words(data["after"], tz), status=result.after.status,
                state=result.state), highlight=False)
        else:
            console.print(_("after: the recorder takes the new time up when it is next "
                            "connected — undock it and dock it again; its next dock, clock "
                            "check or docked checkout records the after-measurement"),
                          highlight=False)

    emit(data, as_json, render)
    if result.state == "not-applied":
        raise ProblemsFound(_("the clock of {serial} is still {drift} after the sync").format(
            serial=result.serial,
            drift=drift_words(result.after.drift_seconds if result.after else None)))


@app.command("history")
def history(
    device: Annotated[str, typer.Argument(metavar="DEVICE", help="Serial number.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many "
                                              "readings and settings, newest first.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """A recorder's clock readings and the clock settings written to it, newest first.

    Example: avledger clock history BWR0042 --limit 5
    """
    with session() as app_:
        data = clocksync.history(app_, device, limit=limit)
        tz = app_.config.timezone

    def render() -> None:
        console.print(table(
            _("clock readings of {device} (times in {tz})").format(device=device, tz=tz),
            [_("id"), _("measured"), _("kind"), _("source"), _("drift"), _("status"),
             _("host synced")],
            [(r["id"], display(r["measured_at"], tz), r["kind"], r["source"],
              measured_words(r, tz), r["status"], yes_no(r["host_synced"]))
             for r in data["readings"]]))
        if data["syncs"]:
            console.print(table(
                _("clock settings written"), [_("id"), _("written"), _("by"), _("to"),
                                              _("state"), _("before"), _("after")],
                [(s["id"], display(s["written_at"], tz), s["origin"], s["target"], s["state"],
                  drift_words(s["before_drift"], s["before_uncertainty"]),
                  drift_words(s["after_drift"], s["after_uncertainty"]))
                 for s in data["syncs"]]))

    emit(data, as_json, render)
