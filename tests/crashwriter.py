"""A child process for the crash tests: writes one large object from a slow source.

    python -m tests.crashwriter STORE_ROOT MIB

Prints ``ready`` before writing, ``bytes N`` as it goes, ``done DIGEST`` at the end, so
that the parent can SIGKILL it at a chosen point.
"""

from __future__ import annotations

import io
import random
import sys
import time
from pathlib import Path

import blake3

from avledger.store.local import LocalObjectStore

MIB = 1024 * 1024
_BASE = random.Random(20261127).randbytes(MIB)


def block(i: int) -> bytes:
    """Deterministic, non-repeating content: block i of the test object."""
    return i.to_bytes(8, "big") + _BASE[8:]


def expected_digest(mib: int) -> str:
    h = blake3.blake3()
    for i in range(mib):
        h.update(block(i))
    return h.hexdigest()


class PacedSource(io.RawIOBase):
    """Hands out one MiB per read, a little slowly, like a recorder on USB 2."""

    def __init__(self, mib: int, pause: float) -> None:
        self.mib = mib
        self.pause = pause
        self.i = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def, override]
        if self.i >= self.mib:
            return 0
        time.sleep(self.pause)
        if len(buf) < MIB:
            raise RuntimeError("reader's buffer is smaller than a block")
        buf[:MIB] = block(self.i)
        self.i += 1
        return MIB


def main() -> None:
    root, mib = Path(sys.argv[1]), int(sys.argv[2])
    pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.005
    store = LocalObjectStore(root)
    store.create()
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        print(f"bytes {done}", flush=True)

    print("ready", flush=True)
    res = store.put_stream(PacedSource(mib, pause), expected_size=mib * MIB, progress=progress)
    print(f"done {res.digest}", flush=True)


if __name__ == "__main__":
    main()
