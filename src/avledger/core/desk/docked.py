"""What the desk reads from a docked recorder: the ``desk.DockedDevice`` its decisions take.

Battery from the profile's ``battery`` file; free storage from its ``storage`` file, else from
the mounted volume itself (a plain folder says nothing about the recorder's free space); the
clock, measured and recorded as ``clock check`` does; and how many clips on it are not yet
ingested — ingest's own plan, so that the desk and the dock never disagree. When the profile
can set the clock (and the clerk allows it), ``sync_clock`` is the clock sync, for the
checkout to run on the spot.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from avledger.core.app import Avledger
from avledger.core.clock import setter as clockset
from avledger.core.clock import sync as clocksync
from avledger.core.clock.check import NOT_READ_AT_DOCK, Reference
from avledger.core.clock.sync import SyncResult
from avledger.core.desk.preuse import ClockReading, DockedDevice
from avledger.core.dock import recorder_volume as recordervolume
from avledger.core.dock.ingested import not_ingested
from avledger.core.dock.recorder_volume import Volume
from avledger.core.dock.volume import parse_field, scan
from avledger.core.dock.volume_root import RefusedFile, VolumeRoot, reached
from avledger.core.ingest import session as ingest
from avledger.errors import RefusedError
from avledger.i18n import _

MAX_LEVEL_BYTES = 64 * 1024


def read_level(root: VolumeRoot | Path, spec: dict[str, Any]) -> float | None:
    """A percentage the recorder reports in a file; None when absent, unreadable, nonsense,
    or not a regular file of the volume (a link or FIFO is not read)."""
    if not spec.get("file"):
        return None
    try:
        with reached(root) as vol:
            text = vol.read_small(spec["file"], MAX_LEVEL_BYTES).decode("utf-8",
                                                                        errors="replace")
        value = parse_field(text, spec["format"], spec.get("key"), spec.get("section"))
        level = float(str(value).strip().rstrip("%")) if value is not None else None
    except (OSError, ValueError, RefusedFile):
        return None
    return level if level is not None and 0 <= level <= 100 else None


def free_storage(vol: Volume) -> float | None:
    spec = vol.profile.get("storage")
    if spec.get("file"):
        return read_level(vol.media, spec)
    if not vol.mount_point:
        return None
    try:
        st = os.statvfs(vol.root)
    except OSError:
        return None
    return round(100 * st.f_bavail / st.f_blocks, 1) if st.f_blocks else None


def reading_of(result: SyncResult) -> ClockReading:
    """What the pre-use check learns from a sync: the reading after, or the one before while
    the recorder has yet to take the new time up."""
    m = result.after or result.before
    return ClockReading(m.measured_at, m.drift_seconds, m.status,
                        "sync-after" if result.after else "sync-pending", m.id,
                        m.uncertainty_seconds)


def inspect(app: Avledger, target: str, *, profile: str | None = None,
            expect_serial: str | None = None, clock: bool = True,
            allow_sync: bool = True, docked_at: Reference | None = None) -> DockedDevice:
    """Read the docked recorder at ``target`` (a folder, mount point or block device);
    ``docked_at``: when it was docked, for a folder (a block device's comes from udev)."""
    app.actor.require(action=_("read docked recorders"))
    with recordervolume.opened(app, target, profile=profile) as vol:
        if expect_serial and vol.serial != expect_serial:
            raise RefusedError(_("the docked device is {serial}, not {expect_serial}").format(
                                   serial=vol.serial, expect_serial=expect_serial),
                               hint=_("name the device that is docked, or dock the right one"))
        device_id = clocksync.known_device(app.catalog.conn, vol.serial)
        pending = not_ingested(app.catalog.conn, device_id, scan(vol.media, vol.profile))
        reading = None
        if clock:
            m = clocksync.measure_volume(app, vol, device_id, source="desk",
                                         docked=docked_at).measurement
            if not (m.status == "unknown" and m.detail == NOT_READ_AT_DOCK):
                reading = ClockReading(m.measured_at, m.drift_seconds, m.status, "desk", m.id,
                                       m.uncertainty_seconds)
            # else: a folder's clock file with no docking moment: the catalog's last reading
        waiting = clockset.setting_waiting(vol.media, vol.profile)
        settable = clockset.can_set(vol.profile)
        prof_name, serial = vol.profile.name, vol.serial
        docked = DockedDevice(
            serial, volume=None if vol.device_node else vol.root,
            battery_percent=read_level(vol.media, vol.profile.get("battery")),
            storage_free_percent=free_storage(vol), clock=reading, pending_clips=len(pending),
            clock_settable=settable, clock_setting_waiting=waiting)

    def sync_clock() -> ClockReading:
        return reading_of(clocksync.sync(app, target, profile=prof_name, origin="checkout",
                                         expect_serial=serial, docked=docked_at))

    if settable and allow_sync:
        return replace(docked, sync_clock=sync_clock)
    return docked


def ingest_pending(app: Avledger, target: str, serial: str,
                   hooks: ingest.IngestHooks | None = None,
                   docked_at: Reference | None = None
                   ) -> tuple[ingest.IngestReport, DockedDevice]:
    """Ingest what the docked recorder holds that the catalog has not, for a check-in; the
    report and the recorder as read afterwards."""
    report = ingest.ingest_target(app, target, hooks=hooks, docked=docked_at)
    return report, inspect(app, target, expect_serial=serial, clock=False)
