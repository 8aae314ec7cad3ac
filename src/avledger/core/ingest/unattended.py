"""What one docking does when nobody is at the keyboard (the dock daemon's work).

The daemon hands in a block device (or a drop-folder batch) and a way to ask whether it
should stop; this module recognises it, ingests it unattended, and reports a summary. After a
complete ingest of a docked recorder whose clock is out of tolerance, it sets the clock
(``daemon.clock_sync``) through the same clock sync as the desk, as ``system``. A drop-folder
batch is a copy, not the recorder: nothing is set there.

``daemon.clear_after_ingest`` is refused: deleting clips means writing through a read-write
mount of the recorder's FAT file system, and the FUSE helper this runs on (fusefat) writes
only experimentally; until a writer is trusted with evidence, every clip stays on the
recorder and each docking logs that clearing was not done.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from avledger.config import profiles as profiles_mod
from avledger.config.loader import Config
from avledger.config.profiles import Profile, Seen
from avledger.core.app import Avledger
from avledger.core.clock import check as clockcheck
from avledger.core.clock import setter as clockset
from avledger.core.clock import sync as clocksync
from avledger.core.ingest.session import IngestHooks, IngestReport, ingest, ingest_device
from avledger.errors import AvledgerError
from avledger.i18n import N_, _
from avledger.store import keys

log = logging.getLogger("avledger.dock")


def daemon_profiles(config: Config) -> dict[str, Profile]:
    """Profiles the daemon can recognise from udev alone (udev properties or label)."""
    return {name: p for name, p in profiles_mod.load_all(config).items()
            if p.get("match.udev") or p.get("match.label")}


def match_block_device(known: dict[str, Profile], props: dict[str, str]) -> str | None:
    """The profile name for a block device's udev properties, or None."""
    seen = Seen(None, props, props.get("ID_FS_LABEL") or None)
    matches = profiles_mod.recognise(known, seen)
    return matches[0].profile.name if matches else None


class UnattendedHooks(IngestHooks):
    def __init__(self, stop: Callable[[], str | None],
                 progress: Callable[[int], None] | None = None) -> None:
        self._stop = stop
        self._progress = progress

    def stop_requested(self) -> str | None:
        return self._stop()

    def bytes_copied(self, n: int) -> None:
        if self._progress:
            self._progress(n)


def load_ahead(config: Config) -> None:
    """Load, once when the dock daemon starts, what a docking otherwise loads the first time it
    runs: the signing code (every docking's session signs a checkpoint when it closes), the
    parser of the times in clip names, and the catalog's code (opened and closed once, which
    also migrates it now rather than in the first docking). The first dockings after a start
    — often a whole shift's recorders docked at once — then spend their time copying, not
    reading cryptography's 15 MB from disk beside four recorders. A failure here is left for
    the docking to meet and report."""
    time.strptime("2026", "%Y")  # the first call imports the parser
    keys.preload()
    with contextlib.suppress(AvledgerError, OSError), Avledger.open(config, daemon=True):
        pass


def run_docking(config: Config, *, profile: str, stop: Callable[[], str | None],
                device: str | None = None, folder: Path | None = None,
                docked_at: datetime | None = None) -> dict[str, Any]:
    """Ingest one docked recorder (block device) or drop-folder batch as ``system``.

    ``docked_at``: when the docking's udev event arrived; the recorder's clock file, written
    as it was plugged in, is measured against it however long the docking waited for a
    worker (without it, udev's record of the device). A drop-folder batch has no docking
    moment: its drift is unknown."""
    mount_dir = Path(config.get("daemon.mount_dir"))
    with Avledger.open(config, daemon=True) as app:
        hooks = UnattendedHooks(stop)
        if device is not None:
            report = ingest_device(app, device, profile=profile, hooks=hooks,
                                   mount_dir=mount_dir, docked_at=docked_at)
        elif folder is not None:
            report = ingest(app, folder, profile=profile, hooks=hooks)
        else:
            raise ValueError("a docking needs a device or a folder")
        result = report.totals() | {"serial": report.serial, "dock_id": report.dock_id,
                                    "stopped": report.stopped}
        if device is not None and report.stopped is None and not report.failed \
                and not stop():
            result |= after_ingest(app, device, report, docked_at)
    return result


CLEAR_REFUSED = N_("daemon.clear_after_ingest is on, but avledger does not clear recorders: "
                 "deleting clips needs a trusted read-write FAT writer (fusefat writes only "
                 "experimentally), so every clip stays on the recorder")


def after_ingest(app: Avledger, device: str, report: IngestReport,
                 docked_at: datetime | None = None) -> dict[str, Any]:
    """The steps after a complete unattended ingest: clock sync if needed; never clearing."""
    done: dict[str, Any] = {}
    if app.config.get("daemon.clock_sync"):
        done["clock_sync"] = sync_if_needed(app, device, report, docked_at)
    if app.config.get("daemon.clear_after_ingest"):
        log.warning(f"{device} ({report.serial}): {_(CLEAR_REFUSED)}")
        done["clear_after_ingest"] = "refused"
    return done


def sync_if_needed(app: Avledger, device: str, report: IngestReport,
                   docked_at: datetime | None = None) -> dict[str, Any]:
    """Set the recorder's clock when the dock's measurement found it out of tolerance."""
    status = str(report.clock.get("status"))
    if not clocksync.needs_sync(status):
        return {"state": "not-needed", "clock_status": status}
    if not clockset.can_set(profiles_mod.get(app.config, report.profile)):
        log.info(_("{device} ({serial}): clock {status}, but profile {profile} cannot set it"
                   ).format(device=device, serial=report.serial, status=status,
                            profile=report.profile))
        return {"state": "cannot-set", "clock_status": status}
    try:
        result = clocksync.sync(app, device, profile=report.profile, origin="dock",
                                expect_serial=report.serial, unless_waiting=True,
                                docked=clockcheck.Reference.dock_event(docked_at)
                                if docked_at else None)
    except AvledgerError as exc:
        log.warning(_("{device} ({serial}): clock sync failed: {error}").format(
            device=device, serial=report.serial, error=exc.one_line()))
        return {"state": "failed", "clock_status": status, "error": exc.stored_line()}
    if result.state == "waiting":
        log.info(_("{device} ({serial}): clock {status}; the time written to it earlier is "
                   "still to be taken up").format(device=device, serial=report.serial,
                                                  status=status))
    else:
        log.info(_("{device} ({serial}): clock was {drift} s off; new time written ({state})"
                   ).format(device=device, serial=report.serial,
                            drift=result.before.drift_seconds, state=result.state))
    return clocksync.after_reading(result)
