"""A read-only FUSE passthrough whose reads of some files wait for a gate (tests only).

Run as a process: ``python -m tests.gatefs SOURCE MOUNTPOINT --gate FILE --hold GLOB``.
A read of a file whose name matches GLOB waits until FILE exists: a recorder volume served
through it keeps the dock worker copying its clips busy for as long as the test wants,
without a sleep. Other files (the device and clock files) are read at once.
"""

from __future__ import annotations

import argparse
import errno
import fnmatch
import os
import sys
import time

import mfusepy as fuse


class GateFS(fuse.Operations):  # type: ignore[misc]
    use_ns = True

    def __init__(self, root: str, gate: str, hold: str) -> None:
        self.root, self.gate, self.hold = root, gate, hold

    def _full(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def getattr(self, path: str, fh: int | None = None) -> dict[str, int]:
        try:
            st = os.lstat(self._full(path))
        except OSError as exc:
            raise fuse.FuseOSError(exc.errno) from exc
        out = {k: getattr(st, k) for k in ("st_mode", "st_size", "st_nlink", "st_uid",
                                             "st_gid")}
        out |= {"st_mtime": st.st_mtime_ns, "st_atime": st.st_atime_ns,
                "st_ctime": st.st_ctime_ns}
        return out

    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *os.listdir(self._full(path))]

    def open(self, path: str, flags: int) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise fuse.FuseOSError(errno.EROFS)
        return os.open(self._full(path), os.O_RDONLY)

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        if fnmatch.fnmatch(os.path.basename(path), self.hold):
            while not os.path.exists(self.gate):
                time.sleep(0.05)
        return os.pread(fh, size, offset)

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        raise fuse.FuseOSError(errno.EROFS)

    def release(self, path: str, fh: int) -> int:
        os.close(fh)
        return 0


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("mountpoint")
    ap.add_argument("--gate", required=True)
    ap.add_argument("--hold", required=True, help="glob of the file names whose reads wait")
    args = ap.parse_args(argv)
    fuse.FUSE(GateFS(args.source, args.gate, args.hold), args.mountpoint, foreground=True,
              ro=True, direct_io=True)


if __name__ == "__main__":
    main(sys.argv[1:])
