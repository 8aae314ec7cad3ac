"""Which dockings run, on a bounded worker pool, once each.

udev sends several add/change events for one attach (and more while it is read); a recorder
is handled once per medium (device node + filesystem UUID) until that medium goes away. A
removal cancels the running job, which stops after abandoning the current file safely (the
object store never shows partial objects), and lets the next attach be handled afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass
class Job:
    key: str  # device node, or drop-folder batch directory
    kind: str  # "device" | "folder"
    profile: str
    medium: str = ""  # filesystem UUID (devices) or batch signature (folders)
    properties: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    docked_at: datetime | None = None  # when the docking's udev event arrived
    cancel: threading.Event = field(default_factory=threading.Event)
    state: str = "queued"  # queued | running | done | failed | cancelled
    result: dict[str, Any] = field(default_factory=dict)


Runner = Callable[[Job], dict[str, Any]]


class Scheduler:
    def __init__(self, concurrency: int, runner: Runner,
                 on_done: Callable[[Job], None] | None = None) -> None:
        self.runner = runner
        self.on_done = on_done
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dock")
        self.jobs: dict[str, Job] = {}
        self.handled: dict[str, str] = {}  # key -> medium already handled while attached
        self.lock = threading.Lock()
        self.finished: list[Job] = []

    def offer(self, job: Job) -> bool:
        """Queue ``job`` unless the same medium is already queued or running."""
        with self.lock:
            current = self.jobs.get(job.key)
            if current is not None and current.state in ("queued", "running"):
                return False
            if job.medium and self.handled.get(job.key) == job.medium:
                return False
            self.jobs[job.key] = job
            self.handled[job.key] = job.medium
        fut: Future[dict[str, Any]] = self.pool.submit(self._run, job)
        fut.add_done_callback(lambda _f: None)
        return True

    def _run(self, job: Job) -> dict[str, Any]:
        if job.cancel.is_set():
            job.state = "cancelled"
            return {}
        job.state = "running"
        try:
            job.result = self.runner(job)
            job.state = "cancelled" if job.cancel.is_set() else "done"
        except BaseException as exc:  # a worker must never take the daemon down
            job.state = "failed"
            job.result = {"error": str(exc) or type(exc).__name__}
        finally:
            with self.lock:
                if self.jobs.get(job.key) is job:
                    del self.jobs[job.key]
                self.finished.append(job)
            if self.on_done:
                self.on_done(job)
        return job.result

    def gone(self, key: str) -> Job | None:
        """The medium behind ``key`` disappeared: cancel its job."""
        with self.lock:
            job = self.jobs.get(key)
            self.handled.pop(key, None)
        if job is not None:
            job.cancel.set()
        return job

    def active(self) -> list[Job]:
        with self.lock:
            return list(self.jobs.values())

    def idle(self) -> bool:
        return not self.active()

    def shutdown(self, *, cancel: bool = True, wait: bool = True) -> None:
        if cancel:
            for job in self.active():
                job.cancel.set()
        self.pool.shutdown(wait=wait, cancel_futures=cancel)
