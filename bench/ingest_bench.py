#!/usr/bin/env python3
"""Ingest throughput against ``cp -r`` + ``sync`` of the same files, in the same run.

    .venv/bin/python bench/ingest_bench.py                 # 2 GiB in 20 clips, 1,000 tiny clips
    .venv/bin/python bench/ingest_bench.py --total-mib 256 --tiny 200

Both sides start as a fresh process, read the same recorder folder and write to the same
file system, and both end durable (cp is followed by sync; ingest fsyncs every clip and
commits it). As root the page cache is dropped before each run, so the recorder is read from
disk by both. Prints the ratio ingest throughput / cp throughput (target >= 0.95) and the
per-clip overhead of ingest for tiny clips. Each run is also timed inside a process that
has already started (as the dock daemon is): Python's start-up and the catalog's opening are
fixed costs that a command pays once and the daemon never.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from avledger.config import loader, profiles  # noqa: E402
from avledger.core.simulate.recorder import simulate  # noqa: E402

AVLEDGER = str(Path(sys.executable).parent / "avledger")


def drop_caches() -> bool:
    os.sync()
    if os.geteuid() != 0:
        return False
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def timed(argv: list[str], env: dict[str, str] | None = None,
          warm: list[str] | None = None) -> float:
    """Time ``argv`` with the data cold; ``warm`` first loads the program itself (a dock
    daemon has Python and avledger in memory; cp is one small binary)."""
    drop_caches()
    if warm:
        subprocess.run(warm, check=True, env=env, stdout=subprocess.DEVNULL)
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def fresh_home(base: Path, name: str) -> dict[str, str]:
    home = base / name
    shutil.rmtree(home, ignore_errors=True)
    env = dict(os.environ, AVLEDGER_HOME=str(home))
    subprocess.run([AVLEDGER, "init"], check=True, env=env, stdout=subprocess.DEVNULL)
    return env


IN_PROCESS = """
import sys, time
from pathlib import Path
from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.ingest.session import ingest
with Avledger.open(loader.load()) as app:
    start = time.perf_counter()
    report = ingest(app, Path(sys.argv[1]))
    took = time.perf_counter() - start
assert not report.failed, report.as_dict()
print(took)
"""


def timed_in_process(rec: Path, env: dict[str, str]) -> float:
    """Only the ingest itself, in a process that has already imported avledger and opened
    its catalog: what a running dock daemon spends on a docking (data still cold)."""
    drop_caches()
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, str(rec)], env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"in-process ingest failed: {out.stderr.strip()[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def race(work: Path, rec: Path, label: str, files: int, total: int, repeat: int) -> tuple[
        float, float]:
    best_cp = best_ingest = best_inproc = float("inf")
    for i in range(repeat):
        dest = work / f"cp-{label}-{i}"
        shutil.rmtree(dest, ignore_errors=True)
        best_cp = min(best_cp, timed(["sh", "-c", f'cp -r "{rec}" "{dest}" && sync']))
        shutil.rmtree(dest, ignore_errors=True)
        env = fresh_home(work, f"home-{label}-{i}")
        best_ingest = min(best_ingest, timed([AVLEDGER, "ingest", str(rec), "--json"], env,
                                             warm=[AVLEDGER, "status", "--json"]))
        shutil.rmtree(work / f"home-{label}-{i}", ignore_errors=True)
        env = fresh_home(work, f"home-{label}-{i}")
        best_inproc = min(best_inproc, timed_in_process(rec, env))
        shutil.rmtree(work / f"home-{label}-{i}", ignore_errors=True)
    mib = total / (1 << 20)
    print(f"[{label}] {files} clips, {mib:.0f} MiB; best of {repeat}")
    print(f"  cp -r + sync          : {best_cp:8.2f} s  {mib / best_cp:8.1f} MiB/s")
    print(f"  avledger ingest (cmd) : {best_ingest:8.2f} s  {mib / best_ingest:8.1f} MiB/s"
          "  (includes starting Python and opening the catalog)")
    print(f"  ingest in a running process: {best_inproc:8.2f} s  {mib / best_inproc:8.1f} MiB/s"
          "  (as the dock daemon runs it)")
    print(f"  ratios to cp: command {best_cp / best_ingest:.3f}, in-process "
          f"{best_cp / best_inproc:.3f}")
    return best_cp, best_ingest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total-mib", type=int, default=2048, help="size of the big run")
    ap.add_argument("--clips", type=int, default=20, help="clips in the big run")
    ap.add_argument("--tiny", type=int, default=1000, help="tiny clips for the overhead run")
    ap.add_argument("--tiny-size", type=int, default=4096, help="bytes per tiny clip")
    ap.add_argument("--repeat", type=int, default=1, help="runs per side; the best counts")
    ap.add_argument("--dir", type=Path, default=None, help="work directory (default: a temp "
                    "dir under bench/out)")
    args = ap.parse_args()
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    work = args.dir or Path(tempfile.mkdtemp(prefix="ingest-", dir=ROOT / "bench" / "out"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["AVLEDGER_HOME"] = str(work / "sim-home")
    generic = profiles.get(loader.load(), "generic")
    print(f"work dir {work}; page cache dropped between runs: {drop_caches()}")
    try:
        size = args.total_mib * (1 << 20) // args.clips
        big = work / "recorder-big"
        simulate(big, generic, clips=args.clips, size=size, serial="BENCH-BIG")
        race(work, big, "big", args.clips, size * args.clips, args.repeat)
        print("  (target: ingest throughput >= 0.95 x cp + sync)")

        tiny = work / "recorder-tiny"
        simulate(tiny, generic, clips=args.tiny, size=args.tiny_size, serial="BENCH-TINY",
                 seconds=1, gap=0)
        cp_t, ing_t = race(work, tiny, "tiny", args.tiny, args.tiny * args.tiny_size,
                           args.repeat)
        print(f"  per-clip: cp {cp_t / args.tiny * 1e3:.2f} ms, avledger "
              f"{ing_t / args.tiny * 1e3:.2f} ms (fsync + one committed transaction and "
              f"ledger event per clip); overhead {(ing_t - cp_t) / args.tiny * 1e3:.2f} ms")
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
