"""The pre-use check at the equipment desk (rule B, Art. 7), as pure decisions.

Before a device is handed out someone checks that it works, that its battery is charged, that
its storage is free, and that its clock is set to the current date and time. What is known at
the desk is gathered into a ``PreUseState`` — values the clerk entered, the last clock
measurement in the catalog, and, when the device is docked, a ``DockedDevice`` read through its
profile — and ``evaluate`` turns it into results and the problems that refuse a checkout.
Nothing here touches the catalog or the device: callers supply the state and carry out the
decision (including a clock sync, which is the caller's to perform).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from avledger.config.loader import Config
from avledger.i18n import N_
from avledger.timestamps import display, iso

OK, LOW, NOT_CHECKED, NOT_APPLICABLE = "ok", "low", "not-checked", "not-applicable"
DRIFTED, RESET, UNKNOWN = "drifted", "reset", "unknown"


@dataclass(frozen=True)
class ClockReading:
    """One measurement of a device clock against the host clock."""

    measured_at: datetime
    drift_seconds: float | None  # device minus host; None when the clock could not be read
    status: str  # ok | drifted | reset | unknown (as the measuring code saw it)
    source: str  # dock | desk | sync-before | sync-after
    measurement_id: int | None = None  # its clock_measurements row, when recorded
    uncertainty_seconds: float | None = None  # ± on drift_seconds

    def as_dict(self) -> dict[str, Any]:
        return {"measured_at": iso(self.measured_at), "drift_seconds": self.drift_seconds,
                "uncertainty_seconds": self.uncertainty_seconds,
                "status": self.status, "source": self.source,
                "measurement_id": self.measurement_id}


@dataclass(frozen=True)
class DockedDevice:
    """What the desk can read from a device that is docked right now (through its profile).

    ``sync_clock`` sets the device clock and returns the reading taken after setting it (source
    'sync-after'), or, when the recorder takes the new time up only at its next connection,
    the reading before with source 'sync-pending'. It is None when the clock may not be set
    here: the profile cannot set it (``clock_settable`` False) or the clerk said not to.
    """

    serial: str
    volume: Path | None = None
    battery_percent: float | None = None
    storage_free_percent: float | None = None
    clock: ClockReading | None = None
    pending_clips: int = 0
    sync_clock: Callable[[], ClockReading] | None = field(default=None, compare=False)
    clock_settable: bool = False
    clock_setting_waiting: bool = False  # a time written earlier is still to be taken up


@dataclass(frozen=True)
class DeskPolicy:
    min_battery_percent: float
    min_storage_free_percent: float
    clock_tolerance_seconds: float
    timezone: str = "UTC"  # for times in messages

    @classmethod
    def from_config(cls, config: Config) -> DeskPolicy:
        return cls(float(config.get("desk.min_battery_percent")),
                   float(config.get("desk.min_storage_free_percent")),
                   float(config.get("clock.tolerance_seconds")), config.timezone)


@dataclass(frozen=True)
class PreUseState:
    serial: str
    has_battery: bool = True
    battery_percent: float | None = None  # entered at the desk
    storage_free_percent: float | None = None  # entered at the desk
    last_clock: ClockReading | None = None  # latest measurement in the catalog
    docked: DockedDevice | None = None


@dataclass(frozen=True)
class Check:
    result: str
    value: float | None = None
    source: str | None = None  # device | entered | catalog
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in {"result": self.result, "value": self.value,
                                  "source": self.source, "detail": self.detail}.items()
                if v is not None}


@dataclass(frozen=True)
class PreUseCheck:
    checks: dict[str, Check]
    problems: list[str]
    needs_sync: bool  # clock out of tolerance and the docked device can be set

    @property
    def passed(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {name: c.as_dict() for name, c in self.checks.items()}


def _level(name: str, label: str, minimum: float, docked: float | None,
           entered: float | None, option: str) -> tuple[Check, str | None]:
    if docked is not None:
        value, source = docked, "device"
    elif entered is not None:
        value, source = entered, "entered"
    else:
        return (Check(NOT_CHECKED),
                N_("{label} not checked (enter it with {option} PCT, or dock the device)").format(
                    label=label, option=option))
    if not 0 <= value <= 100:
        return Check(NOT_CHECKED, value, source), N_("{label} {percent} is not a percentage"
                                                     ).format(label=label, percent=f"{value:g}%")
    if value < minimum:
        return (Check(LOW, value, source),
                N_("{label} {percent} is below the minimum of {minimum} ({name})").format(
                    label=label, percent=f"{value:g}%", minimum=f"{minimum:g}%", name=name))
    return Check(OK, value, source), None


def clock_status(reading: ClockReading, tolerance: float) -> str:
    """ok | drifted | reset | unknown, judged against today's tolerance: drifted only when the
    drift exceeds it by more than the measurement's uncertainty."""
    if reading.status in (RESET, UNKNOWN) or reading.drift_seconds is None:
        return RESET if reading.status == RESET else UNKNOWN
    margin = reading.uncertainty_seconds or 0.0
    return OK if abs(reading.drift_seconds) - margin <= tolerance else DRIFTED


def _clock(state: PreUseState, now: datetime, policy: DeskPolicy) -> tuple[Check, str | None,
                                                                              bool]:
    docked = state.docked
    reading = docked.clock if docked is not None and docked.clock is not None else None
    source = "device"
    if reading is None:
        reading, source = state.last_clock, "catalog"
    if reading is None:
        return Check(NOT_CHECKED,
                     detail=N_("no clock measurement yet (checked at the next dock)")), \
            None, False
    status = clock_status(reading, policy.clock_tolerance_seconds)
    when = (N_("last measured {ago} ({source})").format(ago=_ago(now, reading.measured_at),
                                                        source=reading.source)
            if source == "catalog" else N_("measured now"))
    if status == OK:
        return Check(OK, reading.drift_seconds, source, when), None, False
    if status == UNKNOWN:
        if source == "device":
            return Check(UNKNOWN, None, source, N_("the device clock could not be read")), \
                N_("the clock of {serial} could not be read").format(serial=state.serial), False
        return Check(NOT_CHECKED, None, source, N_("last reading unknown ({when})").format(
            when=when)), None, False
    settable = docked is not None and source == "device" and (
        docked.sync_clock is not None or docked.clock_settable)
    waiting = source == "device" and docked is not None and (
        reading.source == "sync-pending" or docked.clock_setting_waiting)
    syncable = (docked is not None and docked.sync_clock is not None and source == "device"
                and reading.source != "sync-after" and not waiting)
    waits_for_clips = syncable and docked is not None and docked.pending_clips > 0
    what = (N_("was reset (date before the reset year)") if status == RESET
            else N_("is {drift}").format(drift=_drift_words(reading.drift_seconds or 0.0)))
    tail = (N_(" and will be synced") if syncable and not waits_for_clips else
            N_("; it is set once its clips are ingested") if waits_for_clips else
            N_(" even after a sync") if source == "device" and reading.source == "sync-after"
            else N_("; the new time written to it takes effect when it is next connected: dock "
                    "it again and retry") if waiting else
            N_("; its profile can set it: run 'avledger clock sync', or check out without "
               "--no-sync-clock") if settable else
            N_(" and cannot be set here") if source == "device" else
            N_(" at the last measurement ({time}) and has not been synced since").format(
                time=display(reading.measured_at, policy.timezone)))
    # Kept in English with the checkout (the ledger says what was overridden); shown
    # translated (i18n.translate_stored).
    problem = N_("clock of {serial} {what} (tolerance {tolerance} s){tail}").format(
        serial=state.serial, what=what, tolerance=f"{policy.clock_tolerance_seconds:g}",
        tail=tail)
    return Check(status, reading.drift_seconds, source, when), problem, \
        syncable and not waits_for_clips


def _ago(now: datetime, then: datetime) -> str:
    hours = max(0.0, (now - then).total_seconds() / 3600)
    return N_("{minutes} min ago").format(minutes=f"{hours * 60:.0f}") if hours < 1 else \
        N_("{hours} h ago").format(hours=f"{hours:.1f}")


def _drift_words(drift: float) -> str:
    return (N_("{seconds} s fast") if drift > 0 else N_("{seconds} s slow")).format(
        seconds=f"{abs(drift):g}")


def evaluate(state: PreUseState, now: datetime, policy: DeskPolicy) -> PreUseCheck:
    """Results of every pre-use check, and the problems that stop a checkout."""
    checks: dict[str, Check] = {}
    problems: list[str] = []
    docked = state.docked
    if state.has_battery:
        checks["battery"], p = _level("desk.min_battery_percent", N_("battery"),
                                      policy.min_battery_percent,
                                      docked.battery_percent if docked else None,
                                      state.battery_percent, "--battery")
        problems += [p] if p else []
    else:
        checks["battery"] = Check(NOT_APPLICABLE)
    checks["storage"], p = _level("desk.min_storage_free_percent", N_("free storage"),
                                  policy.min_storage_free_percent,
                                  docked.storage_free_percent if docked else None,
                                  state.storage_free_percent, "--storage-free")
    problems += [p] if p else []
    checks["clock"], p, needs_sync = _clock(state, now, policy)
    if p and not needs_sync:
        problems.append(p)
    if docked is not None:
        pending = docked.pending_clips
        checks["footage"] = Check(OK if pending == 0 else "pending", float(pending), "device")
        if pending:
            problems.append(N_("{pending} clip(s) on {serial} are not yet ingested (let the "
                               "dock finish, or run 'avledger ingest')").format(
                                pending=pending, serial=state.serial))
    else:
        checks["footage"] = Check(NOT_CHECKED, detail=N_("not docked"))
    return PreUseCheck(checks, problems, needs_sync)


def after_sync(state: PreUseState, reading: ClockReading) -> PreUseState:
    """The state once the docked device's clock has been set (``reading`` taken after)."""
    assert state.docked is not None
    return replace(state, docked=replace(state.docked, clock=reading, sync_clock=None))


def is_overdue(out_at: datetime, last_dock_at: datetime | None, remote: bool, now: datetime,
               window_hours: float) -> bool:
    """Out longer than the hand-in window without docking (rule B, Art. 13).

    A remote (out-of-town, continuous) checkout is never overdue while out: its footage is due
    within the window after it comes back.
    """
    if remote:
        return False
    since = out_at if last_dock_at is None or last_dock_at < out_at else last_dock_at
    return (now - since).total_seconds() > window_hours * 3600
