"""Drop folders: docking stations that copy a recorder into a folder or network share.

Each immediate subdirectory of a watched folder is one batch (one recorder's contents). A batch
is handed to ingest only when it is complete: no file in it is open for writing by any local
process, no filesystem event arrived for ``settle`` seconds, and two scans a moment apart see
the same names, sizes and modification times (which also covers writers on other hosts of a
network share, whose writes arrive as events or changed sizes).

Batches ingested to the end are remembered by their signature in a small file (``memory``), so
a daemon restart does not dock again the batches still lying in the folder; a batch whose
contents changed since is docked again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from avledger.i18n import _

log = logging.getLogger("avledger.daemon")


def is_batch(entry: Path) -> bool:
    """A real folder: a link in the drop folder is never followed (ingest refuses it too)."""
    return entry.is_dir() and not entry.is_symlink()


def snapshot(batch: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and times below ``batch``; links are neither followed nor stat'ed through."""
    items = []
    for root, _dirs, files in os.walk(batch):
        for name in files:
            p = Path(root) / name
            try:
                st = p.lstat()
            except FileNotFoundError:
                continue
            items.append((str(p.relative_to(batch)), st.st_size, st.st_mtime_ns))
    return tuple(sorted(items))


def signature(snap: tuple[tuple[str, int, int], ...]) -> str:
    return hashlib.sha256(repr(snap).encode()).hexdigest()[:32]


def open_for_writing(batch: Path) -> list[str]:
    """Files under ``batch`` that some local process holds open for writing (via /proc)."""
    prefix = str(batch.resolve()) + os.sep
    found: list[str] = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
                if not target.startswith(prefix):
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}") as fh:
                    flags = int(fh.readline().split()[1], 8)
            except (OSError, ValueError, IndexError):
                continue
            if flags & (os.O_WRONLY | os.O_RDWR):
                found.append(target)
    return found


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, touched: Callable[[Path], None]) -> None:
        self.root = root
        self.touched = touched

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = Path(os.fsdecode(event.src_path))
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return
        if rel.parts:
            self.touched(self.root / rel.parts[0])


class DropFolderWatcher:
    """Watches folders and calls ``ready(batch_dir, signature)`` once per complete batch."""

    def __init__(self, folders: list[Path], ready: Callable[[Path, str], None],
                 settle: float = 5.0, memory: Path | None = None) -> None:
        self.folders = [Path(f) for f in folders]
        self.ready = ready
        self.settle = settle
        self.memory = memory
        self.last_event: dict[Path, float] = {}
        self.done: dict[Path, str] = {}
        self.ingested: dict[str, str] = _load(memory)  # batch path -> signature, kept
        self.lock = threading.Lock()
        self.observer = Observer()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dropfolders", daemon=True)

    def _touched(self, batch: Path) -> None:
        with self.lock:
            self.last_event[batch] = time.monotonic()

    def remember(self, batch: Path, sig: str) -> None:
        """``batch`` with these contents was ingested to the end: never dock it again."""
        if self.memory is None:
            return
        with self.lock:
            self.ingested[str(batch)] = sig
            present = {k: v for k, v in self.ingested.items() if Path(k).is_dir()}
            self.ingested = present
            _save(self.memory, present)

    def start(self) -> None:
        for folder in self.folders:
            folder.mkdir(parents=True, exist_ok=True)
            self.observer.schedule(_Handler(folder, self._touched), str(folder), recursive=True)
            for entry in folder.iterdir():  # batches already there at start
                if is_batch(entry):
                    self._touched(entry)
        self.observer.start()
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self.poll()

    def stop(self) -> None:
        self._stop.set()
        self.observer.stop()
        self.observer.join(timeout=5)
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def poll(self) -> None:
        """Check quiet batches (runs on the watcher's own thread twice a second)."""
        now = time.monotonic()
        with self.lock:
            quiet = [b for b, t in self.last_event.items() if now - t >= self.settle]
        for batch in quiet:
            if not is_batch(batch):
                with self.lock:
                    self.last_event.pop(batch, None)
                continue
            if open_for_writing(batch):
                self._touched(batch)
                continue
            first = snapshot(batch)
            time.sleep(min(self.settle, 1.0))
            if snapshot(batch) != first or not first:
                self._touched(batch)
                continue
            sig = signature(first)
            with self.lock:
                self.last_event.pop(batch, None)
                if self.done.get(batch) == sig:
                    continue
                self.done[batch] = sig
                known = self.ingested.get(str(batch)) == sig
            if known:
                log.info(_("drop folder batch {batch} was ingested before with these "
                           "contents: not docked again").format(batch=batch))
                continue
            self.ready(batch, sig)


def _load(memory: Path | None) -> dict[str, str]:
    if memory is None:
        return {}
    try:
        data = json.loads(memory.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # unreadable memory: dock again rather than miss
        log.warning(_("cannot read {path} ({error}); batches already there will be docked "
                      "again").format(path=memory, error=exc))
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save(memory: Path, ingested: dict[str, str]) -> None:
    tmp = memory.with_name(memory.name + ".tmp")
    try:
        memory.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(ingested, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, memory)
    except OSError as exc:
        log.warning(_("cannot write {path} ({error}); after a restart these batches would be "
                      "docked again").format(path=memory, error=exc))
