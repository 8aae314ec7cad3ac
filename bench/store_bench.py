#!/usr/bin/env python3
"""Store throughput against the tools a person would compare it with, on the same data.

write:  ``put_file`` of N clip-sized files (hash while copying, fsync, publish) against
        ``cp`` of the same files followed by ``sync`` of the copies.
verify: ``avledger store verify`` (the installed command) against ``b3sum`` of the same
        object files, with the page cache dropped before each run (root) and warm. Two
        figures: the command's own timing of the verification (what grows with the store),
        and the whole command, which adds a fixed ~0.5 s of Python start-up, catalog and
        ledger work — large next to b3sum on 1 GiB, negligible on a real store.

Targets (DESIGN.md): write >= 0.95 x cp+sync, verify >= 0.9 x b3sum.

    .venv/bin/python bench/store_bench.py                 # 8 x 128 MiB
    .venv/bin/python bench/store_bench.py --total-mib 256 --rounds 1
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    MIB,
    Result,
    best_of,
    drop_caches,
    is_root,
    make_files,
    need_tool,
    parser,
    report,
    run,
    timed,
)

from avledger.config import loader  # noqa: E402
from avledger.core.app import Avledger  # noqa: E402
from avledger.core.custody.integrity import register_object  # noqa: E402
from avledger.core.install.setup import initialise  # noqa: E402
from avledger.store.local import LocalObjectStore  # noqa: E402

AVLEDGER = str(Path(sys.executable).parent / "avledger")


def bench_write(src: list[Path], work: Path, rounds: int) -> dict[str, float]:
    def cp_sync() -> float:
        dst = work / "cp"
        shutil.rmtree(dst, ignore_errors=True)
        dst.mkdir()
        drop_caches()
        copies = [str(dst / f.name) for f in src]

        def go() -> None:
            run(["cp", *map(str, src), str(dst)])
            run(["sync", *copies])

        return timed(go)

    def store_put() -> float:
        root = work / "store-w"
        shutil.rmtree(root, ignore_errors=True)
        store = LocalObjectStore(root)
        store.create()
        drop_caches()

        def go() -> None:
            for f in src:
                store.put_file(f)

        return timed(go)

    try:
        return best_of(rounds, {"cp + sync": cp_sync, "store": store_put})
    finally:
        shutil.rmtree(work / "cp", ignore_errors=True)
        shutil.rmtree(work / "store-w", ignore_errors=True)


def prepare_home(src: list[Path], home: Path) -> list[str]:
    """An initialised installation whose store and catalog hold the source files."""
    shutil.rmtree(home, ignore_errors=True)
    os.environ["AVLEDGER_HOME"] = str(home)
    os.environ.pop("AVLEDGER_CONFIG", None)
    initialise(None)
    paths = []
    with Avledger.open(loader.load()) as app:
        for f in src:
            res = app.store.put_file(f)
            with app.transaction() as conn:
                register_object(app, conn, res.digest, res.size)
            paths.append(str(app.store.path_for(res.digest)))
    return paths


def bench_verify(objects: list[str], rounds: int, cold: bool) -> tuple[dict[str, float], float]:
    engine: list[float] = []

    def b3sum() -> float:
        if cold:
            drop_caches()
        return timed(lambda: run(["b3sum", "--no-names", *objects]))

    def store_verify() -> float:
        if cold:
            drop_caches()
        holder: dict[str, str] = {}

        def go() -> None:
            holder["out"] = run([AVLEDGER, "store", "verify", "--json"]).stdout

        t = timed(go)
        rep = json.loads(holder["out"])
        assert rep["problems"] == 0 and rep["checked"] == len(objects), rep
        engine.append(rep["seconds"])
        return t

    if not cold:  # warm both the same way first
        b3sum()
        store_verify()
    best = best_of(rounds, {"b3sum": b3sum, "store verify": store_verify})
    return best, min(engine)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--total-mib", type=int, default=1024, help="Total size of the files.")
    p.add_argument("--files", type=int, default=8, help="How many files (clips).")
    args = p.parse_args()
    if args.quick:
        args.total_mib, args.rounds = min(args.total_mib, 128), min(args.rounds, 2)
    need_tool("b3sum")
    size = args.total_mib * MIB // args.files
    total_mb = size * args.files / 1e6
    work = args.workdir / "store_bench"
    src = make_files(work / "src", args.files, size)
    notes = [f"{args.files} files x {size // MIB} MiB = {total_mb:.0f} MB in {work}, "
             f"best of {args.rounds} rounds, {os.cpu_count()} cores"]
    notes.append("page cache dropped before every run" if is_root()
                 else "not root: page cache NOT dropped (both sides read warm sources)")

    w = bench_write(src, work, args.rounds)
    results = [Result("store write", "cp + sync", total_mb / w["store"],
                      total_mb / w["cp + sync"], "MB/s", 0.95)]

    objects = prepare_home(src, work / "home")
    modes = [True, False] if is_root() else [False]
    for cold in modes:
        v, own = bench_verify(objects, args.rounds, cold)
        label = "cold cache" if cold else "warm cache"
        b3 = total_mb / v["b3sum"]
        results.append(Result(f"store verify, its own timing ({label})", "b3sum",
                              total_mb / own, b3, "MB/s", 0.9))
        results.append(Result(f"store verify, whole command ({label})", "b3sum",
                              total_mb / v["store verify"], b3, "MB/s", 0.9,
                              note=f"incl. {v['store verify'] - own:.2f} s interpreter "
                                   "start-up, catalog and ledger"))
    report("store", results, args.json, notes)
    shutil.rmtree(work / "home", ignore_errors=True)


if __name__ == "__main__":
    main()
