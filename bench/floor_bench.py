#!/usr/bin/env python3
"""How fast the store's file operations alone can take 2,000 small clips, in Python, against cp.

Not avledger: a few lines that do only what the store's write path does to the filesystem for
each small clip (DESIGN.md, Storage) — read the clip, BLAKE3 it, create a temp file, write it,
make it read-only, make its two shard folders — on four threads, and per group of 256 one
``syncfs`` before the renames into ``objects/ab/cd/<digest>`` and one after. No catalog, no
ledger, no durations, no start-up. It tells how much of ``avledger ingest``'s time for small
clips (``speed_bench.py``) the storage design itself costs in Python on this machine, and how
much the rest does.

    .venv/bin/python bench/floor_bench.py
    .venv/bin/python bench/floor_bench.py --quick
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import blake3  # noqa: E402
from benchlib import OUT, Result, best_of, drop_caches, parser, report  # noqa: E402
from speed_bench import cp_sync, recorder  # noqa: E402

GROUP = 256  # the ingest's default group (ingest.group_clips)
WORKERS = 4  # the ingest's threads copying small clips ahead (core/ingest/prefetch.py)


def store_operations(src: Path, dest: Path) -> float:
    """Time the store's file operations for every clip under ``src`` into a fresh ``dest``."""
    import time

    shutil.rmtree(dest, ignore_errors=True)
    (dest / "tmp").mkdir(parents=True)
    (dest / "objects").mkdir()
    clips = sorted(str(p) for p in src.rglob("*.MP4"))
    libc = ctypes.CDLL(None, use_errno=True)
    made: set[str] = set()
    names = itertools.count()
    lock = threading.Lock()

    def stage(path: str) -> tuple[str, str]:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            data = os.read(fd, 1 << 20)
        finally:
            os.close(fd)
        digest = blake3.blake3(data).hexdigest()
        with lock:
            temp = f"{dest}/tmp/put-{next(names)}"
        out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(out, data)
            os.fchmod(out, 0o444)
        finally:
            os.close(out)
        first = f"{dest}/objects/{digest[:2]}"
        for folder in (first, f"{first}/{digest[2:4]}"):
            if folder not in made:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(folder)
                made.add(folder)
        return temp, digest

    drop_caches()
    start = time.perf_counter()
    root = os.open(dest, os.O_RDONLY)
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            for i in range(0, len(clips), GROUP):
                staged = list(pool.map(stage, clips[i:i + GROUP]))
                libc.syncfs(root)  # the data, before any name
                for temp, digest in staged:
                    os.rename(temp, f"{dest}/objects/{digest[:2]}/{digest[2:4]}/{digest}")
                libc.syncfs(root)  # the names
    finally:
        os.close(root)
    took = time.perf_counter() - start
    shutil.rmtree(dest, ignore_errors=True)
    return took


def main() -> int:
    ap = parser(__doc__.splitlines()[0])
    ap.set_defaults(rounds=5)
    args = ap.parse_args()
    n = 200 if args.quick else 2000
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="floor-", dir=args.workdir))
    os.environ["AVLEDGER_HOME"] = str(work / "sim-home")
    try:
        tiny = recorder(work, "rec-tiny", n, 50_000, seconds=1, gap=0)
        best = best_of(args.rounds, {"cp": lambda: cp_sync(tiny, work),  # caches dropped
                                     "floor": lambda: store_operations(tiny, work / "store")})
        results = [Result(f"{n} x 50 KB: the store's file operations alone (Python, "
                          f"{WORKERS} threads)", "cp -r + sync", n / best["floor"],
                          n / best["cp"], "clips/s", 0.5,
                          f"{best['floor']:.2f} s vs {best['cp']:.2f} s "
                          f"({best['floor'] / best['cp']:.1f} x its time)")]
        report("floor", results, args.json, [f"page cache dropped before each run: "
                                             f"{drop_caches()}", f"best of {args.rounds}"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
