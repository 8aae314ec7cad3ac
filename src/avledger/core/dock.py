"""What one docking does when nobody is at the keyboard (the dock daemon's work).

The daemon hands in a block device (or a drop-folder batch) and a way to ask whether it
should stop; this module recognises it, ingests it unattended, and reports a summary.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from avledger.config import profiles as profiles_mod
from avledger.config.loader import Config
from avledger.config.profiles import Profile, Seen
from avledger.core.app import Avledger
from avledger.core.ingest import IngestHooks, ingest, ingest_device


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


def run_docking(config: Config, *, profile: str, stop: Callable[[], str | None],
                device: str | None = None, folder: Path | None = None) -> dict[str, Any]:
    """Ingest one docked recorder (block device) or drop-folder batch as ``system``."""
    mount_dir = Path(config.get("daemon.mount_dir"))
    with Avledger.open(config, daemon=True) as app:
        hooks = UnattendedHooks(stop)
        if device is not None:
            report = ingest_device(app, device, profile=profile, hooks=hooks,
                                   mount_dir=mount_dir)
        elif folder is not None:
            report = ingest(app, folder, profile=profile, hooks=hooks)
        else:
            raise ValueError("a docking needs a device or a folder")
    return report.totals() | {"serial": report.serial, "dock_id": report.dock_id,
                              "stopped": report.stopped}
