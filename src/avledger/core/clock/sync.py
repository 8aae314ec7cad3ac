"""``clock check`` and ``clock sync``: a recorder's clock read and set through its profile.

A check reads the clock and records the measurement (and settles a pending setting, see
``clocksettle``). A sync measures (before), writes the new time — the only write avledger ever
makes to a recorder; a block device is mounted read-write for that one write and unmounted —
and, when the recorder takes the time at once, measures again (after). A recorder that takes
it from a file when next connected gets its after-measurement then. Clips still on the
recorder must be ingested first: their times are corrected with the clock they were recorded
with. The desk, the checkout (on the spot) and the dock daemon (after an ingest) all sync
through ``sync``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from avledger.core.app import Avledger
from avledger.core.clock import check as clockcheck
from avledger.core.clock import setter as clockset
from avledger.core.clock import settle as clocksettle
from avledger.core.clock.check import Measurement
from avledger.core.clock.setter import Written
from avledger.core.dock import recorder_volume as recordervolume
from avledger.core.dock import recorders
from avledger.core.dock.ingested import not_ingested
from avledger.core.dock.recorder_volume import Volume
from avledger.core.dock.volume import scan
from avledger.errors import AvledgerError, DeviceError, NotFoundError, RefusedError
from avledger.i18n import _
from avledger.store import db

SYNC_ROLES = ("clerk",)


@dataclass
class CheckResult:
    serial: str
    device_id: int
    profile: str
    source: str
    measurement: Measurement
    tolerance: float
    settled: clocksettle.Settled | None = None
    waiting: dict[str, Any] | None = None  # a setting still waiting on the recorder

    def as_dict(self) -> dict[str, Any]:
        return {"serial": self.serial, "device_id": self.device_id, "profile": self.profile,
                "source": self.source, "tolerance_seconds": self.tolerance,
                "measurement": self.measurement.as_dict(),
                "settled_sync": self.settled.as_dict() if self.settled else None,
                "waiting_sync": self.waiting}


@dataclass
class SyncResult:
    serial: str
    device_id: int
    profile: str
    source: str
    origin: str
    before: Measurement
    written: Written
    takes_effect_at_once: bool
    read_write_mount: bool
    dry_run: bool = False
    sync_id: int | None = None
    state: str = "planned"  # planned | waiting | pending | applied | not-applied
    after: Measurement | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"serial": self.serial, "device_id": self.device_id, "profile": self.profile,
                "source": self.source, "origin": self.origin, "dry_run": self.dry_run,
                "sync_id": self.sync_id, "state": self.state,
                "before": self.before.as_dict(), "written": self.written.as_dict(),
                "after": self.after.as_dict() if self.after else None,
                "takes_effect": ("now" if self.takes_effect_at_once
                                 else "when the recorder is next connected"),
                "read_write_mount": self.read_write_mount,
                "writes_to_recorder": self.state not in ("planned", "waiting")}


def known_device(conn: db.Connection, serial: str) -> int:
    row = recorders.find(conn, serial)
    if row is None:
        raise NotFoundError(_("recorder {serial} is not in the catalog").format(serial=serial),
                            hint=_("register it with 'avledger "
                                   "device add {serial}', or dock it").format(
                                     serial=serial))
    return int(row["id"])


def waiting_sync(conn: db.Connection, device_id: int) -> dict[str, Any] | None:
    row = clocksettle.pending(conn, device_id)
    if row is None:
        return None
    return {"sync_id": row["id"], "written_at": row["written_at"], "set_to": row["set_to"],
            "target": row["target"]}


def reference(vol: Volume, docked: clockcheck.Reference | None) -> clockcheck.Reference | None:
    """What a clock file on ``vol`` is measured against: the docking moment given, else the
    one udev saw for a block device; a folder without one has none."""
    if docked is not None:
        return docked
    return clockcheck.Reference.dock_event(vol.docked_at) if vol.docked_at else None


def measure_volume(app: Avledger, vol: Volume, device_id: int, *, source: str,
                   docked: clockcheck.Reference | None = None) -> CheckResult:
    """Read and record the clock of an open recorder volume."""
    m = clockcheck.take(app, device_id, vol.media, vol.profile, source=source,
                        device_node=vol.device_node, docked=reference(vol, docked))
    with app.transaction() as conn:
        stored, settled = clocksettle.record_measurement(
            app, conn, m, waiting=clockset.setting_waiting(vol.media, vol.profile),
            serial=vol.serial)
    return CheckResult(vol.serial, device_id, vol.profile.name, vol.source, stored,
                       float(app.config.get("clock.tolerance_seconds")), settled,
                       waiting_sync(app.catalog.conn, device_id))


def check(app: Avledger, target: str, *, profile: str | None = None,
          docked: clockcheck.Reference | None = None) -> CheckResult:
    """Read the clock of the recorder at ``target`` and record the measurement."""
    app.actor.require(action=_("check recorder clocks"))
    with recordervolume.opened(app, target, profile=profile) as vol:
        device_id = known_device(app.catalog.conn, vol.serial)
        return measure_volume(app, vol, device_id, source="desk", docked=docked)


def _refuse_unsyncable(app: Avledger, vol: Volume, device_id: int, target: str) -> None:
    if not clockset.can_set(vol.profile):
        raise RefusedError(_("the clock of {serial} cannot be set: its profile {name} has no way "
                             "to (clock.set.method is none)").format(
                               serial=vol.serial, name=vol.profile.name))
    todo = not_ingested(app.catalog.conn, device_id, scan(vol.media, vol.profile))
    if todo:
        how = f"--device {target}" if vol.device_node else target
        raise RefusedError(_("{count} clip(s) on {serial} are not yet ingested; ingest them "
                             "before setting its clock (their times are corrected with the clock "
                             "they were recorded with)").format(
                               count=len(todo),
                                     serial=vol.serial),
                           hint=_("avledger ingest {how}").format(
                                                                      how=how))


def sync(app: Avledger, target: str, *, profile: str | None = None, origin: str = "desk",
         expect_serial: str | None = None, dry_run: bool = False,
         unless_waiting: bool = False, docked: clockcheck.Reference | None = None
         ) -> SyncResult:
    """Set the clock of the recorder at ``target`` to the host's time, measured before and
    (when it takes effect at once) after; every step recorded (see the module docstring).
    ``unless_waiting``: leave a setting written earlier that the recorder has yet to take up
    (state 'waiting', nothing written)."""
    app.actor.require(*SYNC_ROLES, action=_("set recorder clocks"))
    with recordervolume.opened(app, target, profile=profile) as vol:
        if expect_serial and vol.serial != expect_serial:
            raise RefusedError(_("the docked device is {serial}, not {expect_serial}").format(
                                   serial=vol.serial, expect_serial=expect_serial))
        device_id = known_device(app.catalog.conn, vol.serial)
        _refuse_unsyncable(app, vol, device_id, target)
        prof = vol.profile
        by_file_on_device = vol.device_node is not None and prof.get("clock.set.method") == "file"
        before = clockcheck.take(app, device_id, vol.media, prof, source="sync-before",
                                 device_node=vol.device_node, docked=reference(vol, docked))
        result = SyncResult(vol.serial, device_id, prof.name, target, origin, before,
                            clockset.plan(prof, vol.root, vol.device_node),
                            clockset.takes_effect_at_once(prof), by_file_on_device, dry_run)
        if unless_waiting and clockset.setting_waiting(vol.media, prof):
            result.state = "waiting"
            return result
        if dry_run:
            return result
        with app.transaction() as conn:
            result.before, _settled = clocksettle.record_measurement(
                app, conn, before, waiting=clockset.setting_waiting(vol.media, prof),
                serial=vol.serial)
        if not by_file_on_device:
            result.written = _write(app, result, lambda: clockset.write(prof, vol.media,
                                                                        vol.device_node))
            if result.takes_effect_at_once:
                result.after = clockcheck.take(app, device_id, vol.media, prof,
                                               source="sync-after",
                                               device_node=vol.device_node)
    if by_file_on_device:
        result.written = _write(app, result, lambda: _write_mounted(app, target, result,
                                                                    profile))
    with app.transaction() as conn:
        rec = clocksettle.record_sync(app, conn, serial=result.serial, device_id=device_id,
                                      before=result.before, written=result.written,
                                      after=result.after, origin=origin,
                                      read_write_mount=result.read_write_mount)
    result.sync_id, result.state, result.after = rec.sync_id, rec.state, rec.after
    return result


def _write_mounted(app: Avledger, target: str, result: SyncResult,
                   profile: str | None) -> Written:
    """The one read-write mount: the same recorder, one file written, unmounted again."""
    with recordervolume.opened(app, target, profile=profile or result.profile,
                               writable=True) as vol:
        if vol.serial != result.serial:
            raise DeviceError(_("{target} is now {serial}, not {expected}; nothing written").format(
                                  target=target, serial=vol.serial, expected=result.serial))
        return clockset.write(vol.profile, vol.media, vol.device_node)


def _write(app: Avledger, result: SyncResult, do: Callable[[], Written]) -> Written:
    """Run the write; a failure is recorded (the recorder may have been touched) and raised."""
    try:
        written: Written = do()
        return written
    except (AvledgerError, OSError) as exc:
        with app.transaction() as conn:
            app.record(conn, "clock.sync_failed", f"device:{result.device_id}", {
                "serial": result.serial, "origin": result.origin,
                "planned": result.written.as_dict(), "before": result.before.id,
                "read_write_mount": result.read_write_mount,
                "error": exc.english if isinstance(exc, AvledgerError) else str(exc)})
        raise


def needs_sync(status: str) -> bool:
    """Is a clock in this state worth setting (the dock daemon's test)?"""
    return status in ("drifted", "reset")


def after_reading(result: SyncResult) -> dict[str, Any]:
    """A short account of a sync, for logs and the dock's result."""
    return {"sync_id": result.sync_id, "state": result.state,
            "before_drift_seconds": result.before.drift_seconds,
            "after_drift_seconds": result.after.drift_seconds if result.after else None}



def history(app: Avledger, serial: str, *, limit: int | None = None) -> dict[str, Any]:
    """A recorder's clock readings and the settings written to it, newest first."""
    app.actor.require(action=_("read clock histories"))
    conn = app.catalog.conn
    device_id = known_device(conn, serial)
    cap = " LIMIT ?" if limit else ""
    args: tuple[Any, ...] = (device_id, limit) if limit else (device_id,)
    readings = [dict(r) for r in conn.execute(
        "SELECT id, measured_at, kind, source, device_time, said_at, drift_seconds,"
        " uncertainty_seconds, reference, status, host_synced, host_sync, detail"
        " FROM clock_measurements WHERE device_id = ?"
        f" ORDER BY measured_at DESC, id DESC{cap}", args)]
    syncs = [dict(r) for r in conn.execute(
        "SELECT s.id, s.written_at, s.set_to, s.method, s.target, s.origin, s.state,"
        " s.settled_at, b.drift_seconds AS before_drift, a.drift_seconds AS after_drift,"
        " b.uncertainty_seconds AS before_uncertainty, a.uncertainty_seconds AS after_uncertainty"
        " FROM clock_syncs s LEFT JOIN clock_measurements b ON b.id = s.before_id"
        " LEFT JOIN clock_measurements a ON a.id = s.after_id WHERE s.device_id = ?"
        f" ORDER BY s.written_at DESC, s.id DESC{cap}", args)]
    last = conn.execute("SELECT last_synced_at FROM devices WHERE id = ?",
                        (device_id,)).fetchone()[0]
    return {"serial": serial, "device_id": device_id, "last_synced_at": last,
            "readings": readings, "syncs": syncs}
