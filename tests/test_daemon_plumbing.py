"""The daemon's event plumbing against the real udev: loop-attached FAT images."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from avledger.daemon.dropfolder import DropFolderWatcher
from avledger.daemon.scheduler import Job
from avledger.daemon.service import Daemon, DaemonSettings
from tests.conftest import require_root_tools
from tests.udevtools import attach, detach, ensure_udevd, make_fat_image, settle


def _wait(cond, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_udev_event_reaches_runner_once_and_unrelated_is_ignored(tmp_path: Path) -> None:
    require_root_tools("losetup", "mkfs.vfat", "mcopy", "udevadm")
    ensure_udevd()
    recorder = make_fat_image(tmp_path / "rec.img", "BWCPLUMB", {"DCIM/a.txt": b"x"})
    other = make_fat_image(tmp_path / "usb.img", "HOLIDAY")
    seen: list[Job] = []

    def runner(job: Job) -> dict[str, Any]:
        seen.append(job)
        time.sleep(0.5)  # long enough for udev's repeated change events to arrive meanwhile
        return {"new": 0}

    def matcher(props: dict[str, str]) -> str | None:
        return "test" if props.get("ID_FS_LABEL", "").startswith("BWCPLUMB") else None

    daemon = Daemon(DaemonSettings(concurrency=2), matcher, runner)
    stop = threading.Event()
    t = threading.Thread(target=daemon.run, kwargs={"install_signals": False,
                                                     "until": stop.is_set})
    t.start()
    try:
        time.sleep(0.5)
        devs = [attach(recorder), attach(other)]
        settle()
        assert _wait(lambda: len(seen) >= 1)
        time.sleep(1.5)
        assert [j.key for j in seen] == [devs[0]]
        assert seen[0].properties["ID_FS_LABEL"] == "BWCPLUMB"
        assert seen[0].profile == "test"
    finally:
        stop.set()
        t.join(timeout=30)
        for d in devs:
            detach(d)


def test_drop_folder_batch_waits_for_slow_writer(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    ready: list[tuple[Path, str]] = []
    watcher = DropFolderWatcher([drop], lambda b, s: ready.append((b, s)), settle=1.0)
    watcher.start()
    try:
        batch = drop / "recorder-1"
        (batch / "DCIM").mkdir(parents=True)
        with open(batch / "DCIM" / "clip.mp4", "wb") as fh:
            for _ in range(8):  # grows over ~4 s, flushed each time, file kept open
                fh.write(b"\0" * 65536)
                fh.flush()
                time.sleep(0.5)
                assert ready == [], "batch handed over while still being written"
        assert _wait(lambda: len(ready) == 1, timeout=15)
        time.sleep(3)
        assert len(ready) == 1, "batch handed over twice"
        assert ready[0][0] == batch
    finally:
        watcher.stop()
