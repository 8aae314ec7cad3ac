"""Re-reading a file from the disk rather than the page cache, for ``ingest --verify``.

Clean cached pages are dropped with ``posix_fadvise(DONTNEED)`` before and while reading
(the stored copy was fsynced, the recorder is read-only, so its pages are clean); a second
read then has to come from the device. FUSE and loop devices keep caches of their own below
us, which no unprivileged call can drop.
"""

from __future__ import annotations

import contextlib
import os
from typing import BinaryIO

import blake3

CHUNK = 4 * 1024 * 1024


def _drop(fd: int | None) -> None:
    # Where unsupported the read still happens, possibly from the cache. A stream without a
    # file descriptor (an object read from S3) has no local cache to drop.
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def hash_uncached(fh: BinaryIO) -> tuple[str, int]:
    """BLAKE3 and size of an open file, read past the page cache."""
    try:
        fd: int | None = fh.fileno()
    except (OSError, ValueError):
        fd = None
    _drop(fd)
    hasher = blake3.blake3()
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while True:
        n = fh.readinto(view)  # type: ignore[attr-defined]
        if not n:
            break
        hasher.update(view[:n])
        size += n
    _drop(fd)
    return hasher.hexdigest(), size
