"""Read a recorder's clips into the page cache while the program is still starting.

An ``avledger ingest`` process spends its first few tenths of a second importing itself and
opening the catalog, with the recorder's disk idle; a docked recorder's footage is never in
the page cache. Reading ahead from the first moment lets the disk work during that start-up,
so the copy that follows finds its first clips in memory.

This is a hint, never a source of truth: nothing read here is kept, parsed or trusted — the
ingest opens and reads every clip again through a ``VolumeRoot`` and hashes what it copies.
What it may touch is bounded all the same, because the folder is written by whoever had
the recorder (docs/security.md, "Reading ahead"):

* only regular files, found without following links (``scandir``'s ``lstat`` view) and opened
  with ``O_NOFOLLOW | O_NONBLOCK | O_NOCTTY`` then checked again with ``fstat``, so a link is
  never followed, a FIFO never waited on and a device node never read;
* a depth, a file count and a byte budget (at most a quarter of the memory available), so a
  hostile tree costs a bounded walk;
* the same account as the ingest itself, which reads these files anyway;
* ``sendfile`` into ``/dev/null``: the kernel reads the pages, no byte reaches Python;
* the reading thread's I/O in the idle class (``ioprio_set``), so the program's own start-up
  reads (its modules, the catalog) and the copy itself go first. Measured on the
  development VM (16 × 64 MiB, page cache dropped, 10 alternating rounds on a busy
  machine, medians): 1.94 s without reading ahead, 1.81 s reading ahead at normal priority
  (the start-up's own reads waited behind it: 0.35-0.41 s became 0.74-0.87 s), 1.50 s in
  the idle class.

Nothing is read ahead on a FUSE file system (see ``on_fuse``). The reading stops at the
budget, at the end of the files, at the first error (a recorder pulled out: the ingest reports
that itself) or when ``stop`` is called — the ingest calls it before it returns, so no file
stays open on a volume about to be unmounted.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from avledger.store.libc import libc_function

CHUNK = 4 * 1024 * 1024  # one sendfile; ``stop`` is seen between chunks
DEFAULT_BUDGET = 1024 * 1024 * 1024  # more than the disk reads during a cold start-up
MAX_DEPTH = 6  # DCIM/100BWR01/… is three deep on every recorder seen
MAX_FILES = 20_000
# smaller files are not read ahead: the session copies them ahead itself, several at once
# (``core/ingest/prefetch.py``), and opening thousands of them here slows the start-up more
# than it saves (2,000 clips of 50 KB, cold, 6 alternating rounds: 1.19-1.33 s, median
# 1.28 s, against 1.13-1.50 s, median 1.37 s, when every file was read ahead)
MIN_SIZE = 1 << 20
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

_current: ReadAhead | None = None


def regular_files(root: Path, *, max_depth: int = MAX_DEPTH, max_files: int = MAX_FILES,
                  min_size: int = 0) -> Iterator[Path]:
    """The regular files under ``root`` of at least ``min_size`` bytes, in name order, folders
    before their later siblings' files as a recorder numbers them; links (to files or
    folders) are not followed."""
    count = 0

    def walk(folder: Path, depth: int) -> Iterator[Path]:
        nonlocal count
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if count >= max_files:
                return
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth < max_depth:
                        yield from walk(Path(entry.path), depth + 1)
                elif entry.is_file(follow_symlinks=False):
                    count += 1
                    if not min_size or entry.stat(follow_symlinks=False).st_size >= min_size:
                        yield Path(entry.path)
            except OSError:
                continue

    yield from walk(root, 1)


def read_into_cache(path: Path, limit: int, stop: threading.Event) -> int:
    """Read up to ``limit`` bytes of one regular file into the page cache; bytes read.

    0 when it is not a regular file once open, cannot be opened, or cannot be sent."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError:
        return 0
    try:
        return warm_open_file(fd, limit, stop) if stat.S_ISREG(os.fstat(fd).st_mode) else 0
    finally:
        os.close(fd)


def warm_open_file(fd: int, limit: int, stop: threading.Event) -> int:
    """Have the kernel read up to ``limit`` bytes of the open file ``fd`` (from its start)
    into the page cache and drop them into ``/dev/null``; bytes read. A read error (a
    recorder pulled out) ends it quietly: the copy reports that itself. The ingest reads the
    next big clip this way while it copies the one before."""
    done = 0
    try:
        sink = _devnull()
        while done < limit and not stop.is_set():
            n = os.sendfile(sink, fd, done, min(CHUNK, limit - done))
            if not n:
                break
            done += n
    except OSError:
        pass
    return done


@functools.cache
def _devnull() -> int:
    """One ``/dev/null`` for every read ahead, open for the life of the process."""
    return os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)


def memory_available() -> int | None:
    """``MemAvailable`` from /proc/meminfo, in bytes (None where there is none)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


IOPRIO_WHO_PROCESS = 1  # a thread, by its id (0: the calling one)
IOPRIO_CLASS_IDLE = 3
IOPRIO_CLASS_SHIFT = 13
SYS_IOPRIO_SET = {"x86_64": 251, "aarch64": 30}


def lower_io_priority() -> bool:
    """Put the calling thread's reads in the idle class: the program's own start-up reads
    (its modules, the catalog) go first, the reading ahead takes what the disk has left."""
    number = SYS_IOPRIO_SET.get(os.uname().machine)
    syscall = libc_function("syscall", [ctypes.c_long, ctypes.c_int, ctypes.c_int,
                                         ctypes.c_int], ctypes.c_long)
    if number is None or syscall is None:
        return False
    done: int = syscall(number, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT)
    return done == 0


class ReadAhead:
    """One reading-ahead thread over one folder."""

    def __init__(self, root: Path, budget: int, min_size: int = MIN_SIZE) -> None:
        self.root = root
        self.budget = budget
        self.min_size = min_size
        self.read = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="avledger-read-ahead",
                                        daemon=True)

    def start(self) -> ReadAhead:
        self._thread.start()
        return self

    def _run(self) -> None:
        lower_io_priority()
        for path in regular_files(self.root, min_size=self.min_size):
            if self._stop.is_set() or self.read >= self.budget:
                return
            self.read += read_into_cache(path, self.budget - self.read, self._stop)

    def wait(self) -> None:
        """Wait until the thread has read its budget or every file (tests)."""
        self._thread.join()

    def stop(self) -> None:
        """Stop reading and wait for the thread (at most one chunk's read)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def budget_for(requested: int = DEFAULT_BUDGET) -> int:
    """``requested``, but never more than a quarter of the memory available."""
    available = memory_available()
    return requested if available is None else min(requested, available // 4)


FUSE_SUPER_MAGIC = 0x65735546


def on_fuse(path: Path) -> bool:
    """Whether ``path`` is on a FUSE file system (``statfs``'s ``f_type``).

    FUSE drops a file's cached pages each time it is opened (unless the file system asks to
    keep them), so what was read ahead is thrown away when the ingest opens the clip, and
    every byte crosses the FUSE daemon twice: measured on a fusefat recorder, 537 MB read by
    the daemon for 269 MB of clips, against 269 MB without reading ahead."""
    statfs = libc_function("statfs", [ctypes.c_char_p, ctypes.c_void_p])
    if statfs is None:
        return False
    buf = (ctypes.c_long * 32)()  # struct statfs, f_type first; 256 bytes is room enough
    if statfs(os.fsencode(path), ctypes.byref(buf)) != 0:
        return False
    return (buf[0] & 0xFFFFFFFF) == FUSE_SUPER_MAGIC


def start(root: Path, budget: int | None = None) -> ReadAhead | None:
    """Start reading ``root`` ahead (one at a time per process); None when it is no folder
    or one on FUSE (``on_fuse``)."""
    global _current
    stop()
    try:
        if not stat.S_ISDIR(os.lstat(root).st_mode) or on_fuse(root):
            return None
    except OSError:
        return None
    _current = ReadAhead(root, budget_for() if budget is None else budget).start()
    return _current


def stop() -> None:
    """Stop this process's reading ahead, if any (the ingest calls it before returning)."""
    global _current
    if _current is not None:
        with contextlib.suppress(RuntimeError):
            _current.stop()
        _current = None
