"""A read-only FUSE passthrough that fails reads of chosen files with EIO (tests only).

Run as a process: ``python -m tests.faultfs SOURCE MOUNTPOINT --fail NAME[,NAME] --after N``.
Reads of a failing file succeed for the first N bytes and then return EIO, like a card with
a bad sector in the middle of a clip. Everything else is passed through unchanged.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys

import mfusepy as fuse


class ReadOnlyPassthrough(fuse.Operations):  # type: ignore[misc]
    """SOURCE served read-only at the mount point; subclasses change how reads behave."""

    use_ns = True  # times in nanoseconds, as os.stat gives them

    def __init__(self, root: str) -> None:
        self.root = root

    def _full(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def getattr(self, path: str, fh: int | None = None) -> dict[str, int]:
        try:
            st = os.lstat(self._full(path))
        except OSError as exc:
            raise fuse.FuseOSError(exc.errno) from exc
        keys = ("st_mode", "st_size", "st_nlink", "st_uid", "st_gid")
        out = {k: getattr(st, k) for k in keys}
        out |= {"st_mtime": st.st_mtime_ns, "st_atime": st.st_atime_ns,
                "st_ctime": st.st_ctime_ns}
        out["st_mode"] &= ~0o222  # read-only
        return out

    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *os.listdir(self._full(path))]

    def open(self, path: str, flags: int) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise fuse.FuseOSError(errno.EROFS)
        return os.open(self._full(path), os.O_RDONLY)

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        return os.pread(fh, size, offset)

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        raise fuse.FuseOSError(errno.EROFS)

    def release(self, path: str, fh: int) -> int:
        os.close(fh)
        return 0


class FaultFS(ReadOnlyPassthrough):
    def __init__(self, root: str, failing: set[str], after: int) -> None:
        super().__init__(root)
        self.failing = failing
        self.after = after

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        if os.path.basename(path) in self.failing and offset + size > self.after:
            raise fuse.FuseOSError(errno.EIO)
        return os.pread(fh, size, offset)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("mountpoint")
    ap.add_argument("--fail", default="")
    ap.add_argument("--after", type=int, default=0)
    args = ap.parse_args(argv)
    failing = {n for n in args.fail.split(",") if n}
    fuse.FUSE(FaultFS(args.source, failing, args.after), args.mountpoint, foreground=True,
              ro=True, direct_io=True)


if __name__ == "__main__":
    main(sys.argv[1:])
