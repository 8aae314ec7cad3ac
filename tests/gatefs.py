"""A read-only FUSE passthrough whose reads of some files wait for a gate (tests only).

Run as a process: ``python -m tests.gatefs SOURCE MOUNTPOINT --gate FILE --hold GLOB``.
A read of a file whose name matches GLOB waits until FILE exists: a recorder volume served
through it keeps the dock worker copying its clips busy for as long as the test wants,
without a sleep. Other files (the device and clock files) are read at once.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
import time

import mfusepy as fuse

from tests.faultfs import ReadOnlyPassthrough


class GateFS(ReadOnlyPassthrough):
    def __init__(self, root: str, gate: str, hold: str) -> None:
        super().__init__(root)
        self.gate, self.hold = gate, hold

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        if fnmatch.fnmatch(os.path.basename(path), self.hold):
            while not os.path.exists(self.gate):
                time.sleep(0.05)
        return os.pread(fh, size, offset)


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
