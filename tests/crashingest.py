"""A child process for the ingest crash tests: ``avledger`` that SIGKILLs itself on cue.

    python -m tests.crashingest POINT K avledger-arguments...

It runs the real command, counting the moments named by POINT in its write path, and kills
itself (SIGKILL, no clean-up of any kind) at the K-th one:

- ``write``: an ``os.write`` or ``os.sendfile`` of object data (a random byte offset into
  the copy);
- ``fsync``: a flush of a file or directory, or a ``syncfs`` of the store's filesystem (the
  group's durability point);
- ``link``: an object being moved into place (published: renamed without overwrite, or
  linked where the filesystem cannot);
- ``commit-before``: a catalog transaction's work done, its commit not yet made;
- ``commit-after``: a catalog transaction just committed.

The kill points are chosen by the parent from a seeded random generator, so a failure is
reproduced by its seed, and no kill depends on how fast anything ran. With POINT ``count``
nothing is killed and the counts are printed to stderr as ``COUNTS {json}``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

POINTS = ("write", "fsync", "link", "commit-before", "commit-after")


def install(point: str, k: int) -> Counter[str]:
    counts: Counter[str] = Counter()

    def hit(name: str) -> None:
        counts[name] += 1
        if name == point and counts[name] == k:
            os.kill(os.getpid(), signal.SIGKILL)

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if name == "link":  # killed before the link: the object is not yet visible
                hit(name)
                return real(*args, **kwargs)
            result = real(*args, **kwargs)
            hit(name)
            return result
        return call

    os.write = counting("write", os.write)
    os.sendfile = counting("write", os.sendfile)
    os.fsync = counting("fsync", os.fsync)
    from avledger.store.placing import Placer

    Placer.place = counting("link", Placer.place)  # type: ignore[method-assign]

    from avledger.store import durability

    durability._syncfs = counting("fsync", durability._syncfs)  # type: ignore[assignment]

    from avledger.store.catalog import Catalog

    real_write = Catalog.write

    @contextmanager
    def write(self: Catalog) -> Iterator[Any]:
        with real_write(self) as conn:
            yield conn
            hit("commit-before")
        hit("commit-after")

    Catalog.write = write  # type: ignore[method-assign]
    return counts


def main() -> None:
    point, k, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    counts = install(point, k)
    from avledger.cli.main import app

    try:
        app(args=args, prog_name="avledger")
    except SystemExit as exc:
        sys.stderr.write("COUNTS " + json.dumps(counts) + "\n")
        raise SystemExit(exc.code) from None


if __name__ == "__main__":
    main()
