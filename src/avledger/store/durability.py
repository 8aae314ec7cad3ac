"""Making a group of files and directories durable at once (group commit).

Two ways, measured by ``bench/speed_bench.py`` (docs/benchmarks.md):

- ``fsync``: every file's fsync issued at the same time from a few threads, so the
  filesystem's journal commits them together instead of one after the other;
- ``syncfs``: one ``syncfs(2)`` of the store's filesystem (Python has no ``os.syncfs``; it is
  called through libc). It also flushes whatever else is dirty on that filesystem.

``AVLEDGER_SYNC`` chooses: ``auto`` (the default) uses syncfs for a group of more than
``SYNCFS_FROM`` paths and fsyncs for fewer; ``fsync`` and ``syncfs`` force one way. Where
syncfs is missing the fsyncs are used. Measured on the development VM, 2,000 clips of 50 KB
(2,000 files and about as many new shard folders to flush): 0.5 s in syncfs against 1.0-1.6 s
in fsyncs from 16 threads; a group of a few big files gains nothing from syncfs and would wait
for other writers' dirty data on the same filesystem.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from avledger.store.libc import libc_function

FSYNC_THREADS = 16
SYNCFS_FROM = 64  # paths in one flush from which one syncfs replaces the fsyncs (auto)


def _fsync_path(path: str | Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_all(paths: Sequence[str | Path], flags: int) -> None:
    if len(paths) == 1:
        _fsync_path(paths[0], flags)
        return
    threads = min(FSYNC_THREADS, len(paths))

    def share(i: int) -> None:  # one thread's share: every threads-th path
        for path in paths[i::threads]:
            _fsync_path(path, flags)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="avledger-fsync") as pool:
        for done in [pool.submit(share, i) for i in range(threads)]:
            done.result()  # the first failure is raised


_SYNCFS: Callable[[int], int] | None = libc_function("syncfs", [ctypes.c_int])


def _syncfs(anywhere: str | Path) -> None:
    assert _SYNCFS is not None
    fd = os.open(anywhere, os.O_RDONLY)
    try:
        if _SYNCFS(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(anywhere))
    finally:
        os.close(fd)


def method(paths: int) -> str:
    """``fsync`` or ``syncfs`` for a flush of ``paths`` paths (see the module's note)."""
    wanted = os.environ.get("AVLEDGER_SYNC", "auto")
    if _SYNCFS is None or wanted == "fsync":
        return "fsync"
    return "syncfs" if wanted == "syncfs" or paths >= SYNCFS_FROM else "fsync"


def sync_files(paths: Sequence[str | Path]) -> None:
    """Make the data of ``paths`` (regular files, all on one filesystem) durable."""
    _sync(paths, os.O_RDONLY)


def sync_dirs(dirs: Sequence[str | Path]) -> None:
    """Make the entries of ``dirs`` (all on one filesystem) durable."""
    _sync(dirs, os.O_RDONLY | os.O_DIRECTORY)


def _sync(paths: Sequence[str | Path], flags: int) -> None:
    if not paths:
        return
    if method(len(paths)) == "syncfs":
        _syncfs(paths[0])
    else:
        _fsync_all(paths, flags)
