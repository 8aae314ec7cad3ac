"""Ask the kernel to start writing a file range to disk now, without waiting for it.

``sync_file_range(SYNC_FILE_RANGE_WRITE)`` (Linux) is not a durability guarantee — the store
still fsyncs before publishing — but it overlaps the disk's work with the copy, instead of
leaving the whole object for one long fsync at the end. Where the call is unavailable,
``posix_fadvise(DONTNEED)`` also starts writeback of dirty pages; otherwise nothing happens.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Callable

from avledger.store.libc import libc_function

SYNC_FILE_RANGE_WRITE = 2


def _sync_file_range() -> Callable[[int, int, int], None] | None:
    fn = libc_function("sync_file_range",
                       [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint])
    if fn is None:
        return None

    def call(fd: int, offset: int, length: int) -> None:
        fn(fd, offset, length, SYNC_FILE_RANGE_WRITE)  # a hint: failures are ignored

    return call


def _fadvise(fd: int, offset: int, length: int) -> None:
    with contextlib.suppress(OSError):
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def _nothing(fd: int, offset: int, length: int) -> None:
    return None


start_writeback: Callable[[int, int, int], None] = (
    _sync_file_range() or (_fadvise if hasattr(os, "posix_fadvise") else _nothing)
)
