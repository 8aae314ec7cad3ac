"""The dock daemon's main loop: udev events and drop folders in, dock jobs out.

Plumbing only: which profile matches a device and what a docking does are decided in
``core`` and handed in as ``matcher`` and ``runner``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avledger.core.dock.failed import one_line
from avledger.daemon.dropfolder import DropFolderWatcher
from avledger.daemon.notify import Notifier
from avledger.daemon.scheduler import Job, Runner, Scheduler
from avledger.daemon.udev import BlockEvent, UdevWatcher, existing_devices
from avledger.i18n import N_, _

log = logging.getLogger("avledger.daemon")

Matcher = Callable[[dict[str, str]], str | None]  # udev properties -> profile name


@dataclass
class DaemonSettings:
    concurrency: int = 4
    drop_folders: tuple[Path, ...] = ()
    drop_profile: str = "generic"
    settle_seconds: float = 5.0
    stop_grace_seconds: float = 30.0
    watch_udev: bool = True  # False: a station that only receives drop folders
    drop_memory: Path | None = None  # where ingested drop-folder batches are remembered


SUMMARY_KEYS = ("serial", "new", "skipped", "failed", "late", "restored", "stopped", "error",
                "clock_sync", "clear_after_ingest")
# How each result key and job state reads in the log (the keys themselves stay as they are).
SUMMARY_LABELS = {"serial": N_("serial"), "new": N_("new"), "skipped": N_("skipped"),
                  "failed": N_("failed"), "late": N_("late"), "restored": N_("restored"),
                  "stopped": N_("stopped"), "error": N_("error"), "clock_sync": N_("clock sync"),
                  "clear_after_ingest": N_("clear after ingest")}
STATE_LABELS = {"queued": N_("queued"), "running": N_("running"), "done": N_("done"),
                "cancelled": N_("cancelled"), "failed": N_("failed")}


def _state(state: str) -> str:
    return _(STATE_LABELS[state]) if state in STATE_LABELS else state


def _summary(result: dict[str, Any]) -> str:
    """``serial BWR0042, new 3, skipped 0, …`` — a docking's result, readable in a log."""
    parts = []
    for key in SUMMARY_KEYS:
        value = result.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, dict):
            value = value.get("state", "?")
        parts.append(f"{_(SUMMARY_LABELS[key])} {one_line(str(value))}")
    return _(", ").join(parts) or _("nothing to report")


class Daemon:
    def __init__(self, settings: DaemonSettings, matcher: Matcher, runner: Runner,
                 reload: Callable[[], tuple[DaemonSettings, Matcher]] | None = None,
                 notifier: Notifier | None = None,
                 housekeeping: Callable[[], None] | None = None,
                 housekeeping_seconds: float = 60.0) -> None:
        self.settings = settings
        self.housekeeping = housekeeping  # e.g. retry witnesses; must not block
        self.housekeeping_seconds = housekeeping_seconds
        self.matcher = matcher
        self.reload_fn = reload
        self.notifier = notifier or Notifier()
        self.events: queue.Queue[BlockEvent] = queue.Queue()
        self.scheduler = Scheduler(settings.concurrency, runner, on_done=self._done)
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.watcher: UdevWatcher | None = None
        self.drops: DropFolderWatcher | None = None
        self.completed = 0

    # -- events -------------------------------------------------------------------------
    def handle(self, ev: BlockEvent) -> None:
        if ev.gone:
            job = self.scheduler.gone(ev.devnode)
            if job is not None:
                log.warning(_("{devnode} removed while {state}; abandoning safely").format(
                    devnode=ev.devnode, state=_state(job.state)))
            return
        if not ev.has_filesystem:
            return
        profile = self.matcher(ev.properties)
        if profile is None:
            log.debug(_("{devnode} ({label}) matches no profile; ignored").format(
                devnode=ev.devnode, label=ev.properties.get("ID_FS_LABEL", "?")))
            return
        job = Job(ev.devnode, "device", profile, ev.fs_uuid, dict(ev.properties),
                  docked_at=ev.received_at)
        if self.scheduler.offer(job):
            log.info(_("{devnode} docked ({profile}, label {label}): ingest queued").format(
                devnode=ev.devnode, profile=profile, label=ev.properties.get("ID_FS_LABEL", "?")))

    def _drop_ready(self, batch: Path, sig: str) -> None:
        job = Job(str(batch), "folder", self.settings.drop_profile, sig, path=batch)
        if self.scheduler.offer(job):
            log.info(_("drop folder batch {batch} complete: ingest queued").format(batch=batch))

    def _done(self, job: Job) -> None:
        self.completed += 1
        if (job.kind == "folder" and job.state == "done" and job.path is not None
                and not job.result.get("error") and self.drops is not None):
            self.drops.remember(job.path, job.medium)
        if job.state == "failed":
            log.error(_("{key}: docking failed: {error}").format(
                key=job.key, error=one_line(str(job.result.get("error") or _("unknown error")))))
            return
        log.info(_("{key} {state}: {summary}").format(
            key=job.key, state=_state(job.state), summary=_summary(job.result)))

    # -- lifecycle ------------------------------------------------------------------------
    def _signals(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())

    def _reload(self) -> None:
        self.reload_requested.clear()
        if self.reload_fn is None:
            return
        self.notifier.reloading()
        try:
            self.settings, self.matcher = self.reload_fn()
            log.info(_("configuration and profiles reloaded"))
        except Exception as exc:  # keep running on the old config
            log.error(_("reload failed, keeping the previous configuration: {error}").format(
                error=exc))
        self.notifier.ready(self.status_text())

    def status_text(self) -> str:
        active = self.scheduler.active()
        running = sum(1 for j in active if j.state == "running")
        return _("{running} ingesting, {queued} queued, {done} done").format(
            running=running, queued=len(active) - running, done=self.completed)

    def start(self) -> None:
        if self.settings.watch_udev:
            self.watcher = UdevWatcher(self.events)
            self.watcher.start()  # listen first, then scan, so nothing falls between
            for ev in existing_devices():
                self.handle(ev)
        if self.settings.drop_folders:
            self.drops = DropFolderWatcher(list(self.settings.drop_folders), self._drop_ready,
                                           self.settings.settle_seconds,
                                           self.settings.drop_memory)
            self.drops.start()

    def run(self, *, install_signals: bool = True, until: Callable[[], bool] | None = None) -> int:
        if install_signals:
            self._signals()
        self.start()
        self.notifier.ready(self.status_text())
        log.info(_("dock daemon ready (concurrency {concurrency}, udev {udev}, "
                   "drop folders: {folders})").format(
            concurrency=self.settings.concurrency,
            udev=_("on") if self.settings.watch_udev else _("off"),
            folders=", ".join(map(str, self.settings.drop_folders)) or _("none")))
        last_tick = last_housekeeping = 0.0
        while not self.stopping.is_set() and not (until and until()):
            with contextlib.suppress(queue.Empty):
                self.handle(self.events.get(timeout=0.2))
            if self.reload_requested.is_set():
                self._reload()
            now = time.monotonic()
            if self.housekeeping and now - last_housekeeping >= self.housekeeping_seconds:
                last_housekeeping = now
                self.housekeeping()
            if now - last_tick >= 1.0:
                last_tick = now
                self.notifier.status(self.status_text())
                self.notifier.watchdog()
        self.shutdown()
        return 0

    def shutdown(self) -> None:
        self.notifier.stopping()
        log.info(_("stopping: {status}").format(status=self.status_text()))
        if self.watcher:
            self.watcher.stop()
        if self.drops:
            self.drops.stop()
        self.scheduler.shutdown(cancel=True, wait=True)

    def snapshot(self) -> dict[str, Any]:
        return {"active": [{"key": j.key, "state": j.state, "profile": j.profile}
                           for j in self.scheduler.active()], "completed": self.completed}
