#!/usr/bin/env python3
"""Ingest and start-up against their peers, on the same files in the same run (issue 17's table).

    .venv/bin/python bench/speed_bench.py            # full sizes
    .venv/bin/python bench/speed_bench.py --quick    # small sizes

Rows (ratio = ours ÷ theirs as a rate, higher is better):
  * ``avledger ingest`` of 16 × 64 MiB against ``cp -r`` + ``sync``, and against ``rsync`` +
    ``sync`` + ``b3sum`` (what an administrator would script: a copy and its hashes); once
    with the program itself cold too, once with it in the page cache (as where it has run
    before: the recorder's data is cold either way);
  * 20 clips, 1 GiB, ingested in a process already running (as the dock daemon does) against
    ``cp -r`` + ``sync``;
  * 2,000 clips of 50 KB against ``cp -r`` + ``sync`` (target: at most twice its time);
  * four FUSE-mounted FAT recorders ingested at once (one process each, as the udev service
    starts them; and by one running process with four workers, as the dock daemon does)
    against four ``cp`` from the same mounts at once, + ``sync`` (root only);
  * ``avledger --version``, ``avledger status`` and one TAB of completion against their
    budgets (0.15 s, 0.4 s, 0.2 s); ``python3 -c pass`` is shown beside them.
As root the page cache is dropped before every timed run, so recorders are read from disk.
The sides of a row run alternately (A B B A …), the best of each kept.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "src"), str(ROOT)]

from benchlib import OUT, Result, best_of, parser, report  # noqa: E402
from ingest_bench import AVLEDGER, drop_caches, fresh_home, timed, timed_in_process  # noqa: E402

from avledger.config import loader, profiles  # noqa: E402
from avledger.core.simulate.recorder import simulate  # noqa: E402

MB = 1e6


def recorder(work: Path, name: str, clips: int, size: int, **kw: object) -> Path:
    rec = work / name
    if not rec.exists():
        generic = profiles.get(loader.load(), "generic")
        simulate(rec, generic, clips=clips, size=size, serial=name.upper(), **kw)
    return rec


def data_bytes(rec: Path) -> int:
    return sum(p.stat().st_size for p in rec.rglob("*") if p.is_file())


def cp_sync(src: Path, work: Path) -> float:
    dest = work / "cp-dest"
    shutil.rmtree(dest, ignore_errors=True)
    took = timed(["sh", "-c", f'cp -r "{src}" "{dest}" && sync'])
    shutil.rmtree(dest, ignore_errors=True)
    return took


def rsync_b3sum(src: Path, work: Path) -> float:
    dest = work / "rsync-dest"
    shutil.rmtree(dest, ignore_errors=True)
    took = timed(["sh", "-c", f'rsync -a "{src}/" "{dest}/" && sync && '
                              f'find "{dest}" -type f -exec b3sum {{}} + > /dev/null'])
    shutil.rmtree(dest, ignore_errors=True)
    return took


def ingest_cmd(rec: Path, work: Path, warm: bool = False) -> float:
    """``avledger ingest`` of ``rec``, its data cold. With ``warm`` the program's own files are
    in the page cache first (an ingest of a one-clip recorder into a scratch home, after the
    caches are dropped), as on a machine where avledger has run before; without, the program
    starts from disk too."""
    env = fresh_home(work, "home-cmd")
    warm_up = None
    if warm:
        scratch = fresh_home(work, "home-warm")
        warm_up = ["env", f"AVLEDGER_HOME={scratch['AVLEDGER_HOME']}", AVLEDGER, "ingest",
                   str(recorder(work, "rec-one", 1, 100_000)), "--json"]
    took = timed([AVLEDGER, "ingest", str(rec), "--json"], env, warm=warm_up)
    shutil.rmtree(work / "home-cmd", ignore_errors=True)
    shutil.rmtree(work / "home-warm", ignore_errors=True)
    return took


def ingest_inproc(rec: Path, work: Path) -> float:
    env = fresh_home(work, "home-inproc")
    took = timed_in_process(rec, env)
    shutil.rmtree(work / "home-inproc", ignore_errors=True)
    return took


def throughput_rows(label: str, rec: Path, work: Path, rounds: int, target: float,
                    with_rsync: bool) -> list[Result]:
    size = data_bytes(rec)
    sides = {"cp": lambda: cp_sync(rec, work), "ours": lambda: ingest_cmd(rec, work),
             "ours-warm": lambda: ingest_cmd(rec, work, warm=True)}
    if with_rsync and shutil.which("rsync") and shutil.which("b3sum"):
        sides["rsync"] = lambda: rsync_b3sum(rec, work)
    best = best_of(rounds, sides)
    cp, ours, warm = best["cp"], best["ours"], best["ours-warm"]
    rows = [Result(f"{label}: avledger ingest", "cp -r + sync", size / ours / MB,
                   size / cp / MB, "MB/s", target, f"{ours:.2f} s vs {cp:.2f} s"),
            Result(f"{label}: avledger ingest, program in the page cache", "cp -r + sync",
                   size / warm / MB, size / cp / MB, "MB/s", target,
                   f"{warm:.2f} s vs {cp:.2f} s")]
    if "rsync" in best:
        rows.append(Result(f"{label}: avledger ingest", "rsync + sync + b3sum",
                           size / ours / MB, size / best["rsync"] / MB, "MB/s", target,
                           f"{ours:.2f} s vs {best['rsync']:.2f} s"))
    return rows


# ---- four recorders at once, from FUSE ----------------------------------------------------------


@contextlib.contextmanager
def fuse_mounts(images: list[Path], base: Path) -> Iterator[list[Path]]:
    from tests.loopfuse import fusefat

    with contextlib.ExitStack() as stack:
        mounts = []
        for i, image in enumerate(images):
            target = base / f"mnt{i}"
            stack.enter_context(fusefat(str(image), target))
            mounts.append(target)
        yield mounts


def all_at_once(argvs: list[list[str]], env: dict[str, str] | None = None) -> float:
    drop_caches()
    start = time.perf_counter()
    procs = [subprocess.Popen(a, env=env, stdout=subprocess.DEVNULL) for a in argvs]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit(f"one of {argvs[0][0]} failed")
    subprocess.run(["sync"], check=True)
    return time.perf_counter() - start


DAEMON_FOUR = """
import os, sys, threading, time
from pathlib import Path
from avledger.config import loader
from avledger.core.ingest.unattended import load_ahead, run_docking
config = loader.load()
load_ahead(config)  # as the daemon does when it starts, before any recorder is docked
results = {}
def dock(mount):
    results[mount] = run_docking(config, profile="generic", folder=Path(mount),
                                 stop=lambda: None)
workers = [threading.Thread(target=dock, args=(m,)) for m in sys.argv[1:]]
start = time.perf_counter()
for w in workers:
    w.start()
for w in workers:
    w.join()
os.sync()
took = time.perf_counter() - start
assert all(r.get("new") and not r.get("failed") for r in results.values()), results
print(took)
"""


def daemon_four(mounts: list[Path], env: dict[str, str]) -> float:
    """The four mounts ingested at once by one running process, as the dock daemon's workers
    do (``run_docking``, four threads): only the ingest is timed, the program already loaded
    (and what the daemon loads ahead when it starts), the data cold."""
    drop_caches()
    out = subprocess.run([sys.executable, "-c", DAEMON_FOUR, *map(str, mounts)], env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"daemon ingest failed: {out.stderr.strip()[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def four_recorders(work: Path, rounds: int, mib: int, clip_mib: int) -> list[Result]:
    if os.geteuid() != 0 or not shutil.which("fusefat"):
        return []
    images = []
    for i in range(4):
        image = work / f"fat{i}.img"
        if not image.exists():
            root = work / f"fat{i}"
            generic = profiles.get(loader.load(), "generic")
            simulate(root, generic, clips=max(1, mib // clip_mib), size=clip_mib << 20,
                     serial=f"FUSE{i}", image=image)
            shutil.rmtree(root)
        images.append(image)
    with fuse_mounts(images, work) as mounts:
        size = sum(data_bytes(m) for m in mounts)

        def cps() -> float:
            dests = [work / f"cp4-{i}" for i in range(4)]
            for d in dests:
                shutil.rmtree(d, ignore_errors=True)
            took = all_at_once([["cp", "-r", str(m), str(d)]
                                for m, d in zip(mounts, dests, strict=True)])
            for d in dests:
                shutil.rmtree(d, ignore_errors=True)
            return took

        def ingests() -> float:
            env = fresh_home(work, "home-four")
            took = all_at_once([[AVLEDGER, "ingest", str(m), "--json"] for m in mounts], env)
            shutil.rmtree(work / "home-four", ignore_errors=True)
            return took

        def in_daemon() -> float:
            env = fresh_home(work, "home-four")
            took = daemon_four(mounts, env)
            shutil.rmtree(work / "home-four", ignore_errors=True)
            return took

        best = best_of(rounds, {"cp": cps, "ours": ingests, "daemon": in_daemon})
        cp, ours, daemon = best["cp"], best["ours"], best["daemon"]
    return [Result("4 FUSE recorders at once: 4 x avledger ingest", "4 x cp at once + sync",
                   size / ours / MB, size / cp / MB, "MB/s", 0.9,
                   f"{size / MB:.0f} MB; {ours:.2f} s vs {cp:.2f} s"),
            Result("4 FUSE recorders at once: the running dock daemon (4 workers)",
                   "4 x cp at once + sync", size / daemon / MB, size / cp / MB, "MB/s", 0.9,
                   f"{size / MB:.0f} MB; {daemon:.2f} s vs {cp:.2f} s")]


# ---- start-up -------------------------------------------------------------------------------


def wall(argv: list[str], env: dict[str, str], runs: int) -> float:
    """The median wall time of ``runs`` starts (a shared machine: the median, not the best)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup_rows(work: Path, runs: int) -> list[Result]:
    env = fresh_home(work, "home-startup")
    python = wall([sys.executable, "-c", "pass"], env, runs)
    tab = dict(env, _AVLEDGER_COMPLETE="complete_bash", COMP_WORDS="avledger st",
               COMP_CWORD="1")
    rows = []
    for label, argv, run_env, budget in [
        ("avledger --version", [AVLEDGER, "--version"], env, 0.15),
        ("avledger status", [AVLEDGER, "status"], env, 0.4),
        ("one TAB of completion", [AVLEDGER], tab, 0.2),
    ]:
        took = wall(argv, run_env, runs)
        rows.append(Result(label, f"budget {budget} s", took, budget, "s", 1.0,
                           f"median of {runs}; python3 -c pass {python:.3f} s",
                           lower_is_better=True))
    shutil.rmtree(work / "home-startup", ignore_errors=True)
    return rows


def byte_compiled() -> bool:
    """Byte-compile the package first, as an installed one is (the Debian package compiles it
    on install): with ``PYTHONDONTWRITEBYTECODE`` set in a development shell, every timed start
    would otherwise compile every module it imports again (~0.1 s of each start)."""
    import compileall

    return bool(compileall.compile_dir(ROOT / "src" / "avledger", quiet=1))


def main() -> int:
    ap = parser(__doc__.splitlines()[0])
    ap.set_defaults(rounds=5)  # the VM's disk varies by a third from run to run
    args = ap.parse_args()
    quick = args.quick
    OUT.mkdir(parents=True, exist_ok=True)
    compiled = byte_compiled()
    work = Path(tempfile.mkdtemp(prefix="speed-", dir=args.workdir))
    os.environ["AVLEDGER_HOME"] = str(work / "sim-home")
    notes = [f"page cache dropped before each run: {drop_caches()}",
             f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start",
             f"package byte-compiled before the timed runs: {compiled}"]
    results: list[Result] = []
    try:
        big = recorder(work, "rec-big", 4 if quick else 16, (8 if quick else 64) << 20)
        results += throughput_rows("16 x 64 MiB" if not quick else "4 x 8 MiB", big, work,
                                   args.rounds, 0.95, with_rsync=True)
        daemon = recorder(work, "rec-daemon", 20, (2 if quick else 51) << 20)
        best = best_of(args.rounds, {"cp": lambda: cp_sync(daemon, work),
                                     "ours": lambda: ingest_inproc(daemon, work)})
        cp, ours = best["cp"], best["ours"]
        size = data_bytes(daemon)
        results.append(Result("20 clips in a running process (as the daemon)", "cp -r + sync",
                              size / ours / MB, size / cp / MB, "MB/s", 0.97,
                              f"{ours:.2f} s vs {cp:.2f} s"))
        tiny_n = 200 if quick else 2000
        tiny = recorder(work, "rec-tiny", tiny_n, 50_000, seconds=1, gap=0)
        best = best_of(args.rounds, {"cp": lambda: cp_sync(tiny, work),
                                     "ours": lambda: ingest_cmd(tiny, work)})
        cp, ours = best["cp"], best["ours"]
        results.append(Result(f"{tiny_n} x 50 KB: avledger ingest", "cp -r + sync",
                              tiny_n / ours, tiny_n / cp, "clips/s", 0.5,
                              f"{ours:.2f} s vs {cp:.2f} s ({ours / cp:.1f} x its time)"))
        results += four_recorders(work, args.rounds, 16 if quick else 256, 8 if quick else 32)
        results += startup_rows(work, 5 if quick else 20)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report("speed", results, args.json, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
