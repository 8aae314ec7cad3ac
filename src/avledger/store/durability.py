"""Making a group of files and directories durable at once (group commit).

Two ways, measured by ``bench/ingest_bench.py`` (docs/benchmarks.md):

- ``fsync``: every file's fsync issued at the same time from a few threads, so the
  filesystem's journal commits them together instead of one after the other;
- ``syncfs``: one ``syncfs(2)`` of the store's filesystem (Python has no ``os.syncfs``; it is
  called through libc). It also flushes whatever else is dirty on that filesystem, so it
  suits a filesystem that holds the store alone.

``AVLEDGER_SYNC`` chooses (``fsync``, the default, or ``syncfs``); where syncfs is missing
the fsyncs are used.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from avledger.store.libc import libc_function

FSYNC_THREADS = 16


def _fsync_path(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_all(paths: Sequence[Path], flags: int) -> None:
    if len(paths) == 1:
        _fsync_path(paths[0], flags)
        return
    with ThreadPoolExecutor(max_workers=min(FSYNC_THREADS, len(paths)),
                            thread_name_prefix="avledger-fsync") as pool:
        for done in [pool.submit(_fsync_path, p, flags) for p in paths]:
            done.result()  # the first failure is raised


_SYNCFS: Callable[[int], int] | None = libc_function("syncfs", [ctypes.c_int])


def _syncfs(anywhere: Path) -> None:
    assert _SYNCFS is not None
    fd = os.open(anywhere, os.O_RDONLY)
    try:
        if _SYNCFS(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(anywhere))
    finally:
        os.close(fd)


def method() -> str:
    wanted = os.environ.get("AVLEDGER_SYNC", "fsync")
    return "syncfs" if wanted == "syncfs" and _SYNCFS is not None else "fsync"


def sync_files(paths: Sequence[Path]) -> None:
    """Make the data of ``paths`` (regular files, all on one filesystem) durable."""
    _sync(paths, os.O_RDONLY)


def sync_dirs(dirs: Sequence[Path]) -> None:
    """Make the entries of ``dirs`` (all on one filesystem) durable."""
    _sync(dirs, os.O_RDONLY | os.O_DIRECTORY)


def _sync(paths: Sequence[Path], flags: int) -> None:
    if not paths:
        return
    if method() == "syncfs":
        _syncfs(paths[0])
    else:
        _fsync_all(paths, flags)
