"""Shared plumbing for the benchmarks: timing, page-cache control, results and their output.

Every ``bench/*_bench.py`` compares avledger with a reference tool on the same data in the same
run and reports ratios (ours / reference, higher is better). Contract with ``run_all.py``:
``--quick`` runs small sizes; ``--json`` makes the last line of stdout
``{"bench": NAME, "results": [Result...]}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
MIB = 1024 * 1024


@dataclass
class Result:
    metric: str  # what was measured, e.g. "store write"
    reference: str  # what it was measured against, e.g. "cp + sync"
    ours: float  # MB/s (or another unit, see ``unit``), higher is better
    theirs: float
    unit: str
    target: float  # minimum acceptable ratio
    note: str = ""
    lower_is_better: bool = False  # times (seconds): the ratio is theirs/ours

    @property
    def ratio(self) -> float:
        if self.lower_is_better:
            return self.theirs / self.ours if self.ours else 0.0
        return self.ours / self.theirs if self.theirs else 0.0

    @property
    def met(self) -> bool:
        return self.ratio >= self.target

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"ratio": round(self.ratio, 3), "met": self.met}


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="Small sizes: prove the script works.")
    p.add_argument("--json", action="store_true", help="Print the results as JSON (last line).")
    p.add_argument("--rounds", type=int, default=3,
                   help="Timed rounds of each side, alternating; the best is kept.")
    p.add_argument("--workdir", type=Path, default=OUT,
                   help="Where test data goes (the filesystem being measured).")
    return p


def is_root() -> bool:
    return os.geteuid() == 0


def drop_caches() -> bool:
    """Flush dirty data and empty the page cache (root only); True when done."""
    os.sync()
    if not is_root():
        return False
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(rounds: int, sides: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Run each side ``rounds`` times, alternating (A B B A ...) so drift hurts both alike;
    each callable returns its own elapsed seconds; the fastest run of each side is kept."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(sides[name]())
    return {name: min(ts) for name, ts in times.items()}


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload, no-any-return]


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        sys.exit(f"{name} is not installed (Debian package '{name}'; 'make test' as root "
                 "installs it)")
    return path


def make_files(directory: Path, count: int, size: int) -> list[Path]:
    """``count`` files of ``size`` random bytes each, written and flushed."""
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    block = 4 * MIB
    for i in range(count):
        path = directory / f"clip{i:03d}.mp4"
        if not path.exists() or path.stat().st_size != size:
            with open(path, "wb") as fh:
                left = size
                while left:
                    n = min(block, left)
                    fh.write(os.urandom(n))
                    left -= n
                fh.flush()
                os.fsync(fh.fileno())
        files.append(path)
    return files


def amount(value: float, unit: str) -> str:
    return f"{value:.3f} {unit}" if value < 10 else f"{value:.0f} {unit}"


def report(bench: str, results: list[Result], as_json: bool, notes: list[str]) -> None:
    for note in notes:
        print(f"# {note}")
    width = max(len(r.metric) + len(r.reference) + 4 for r in results)
    print(f"{'measurement':<{width}} {'ours':>12} {'reference':>12} {'ratio':>6} {'target':>6}")
    for r in results:
        label = f"{r.metric} vs {r.reference}"
        ours, theirs = amount(r.ours, r.unit), amount(r.theirs, r.unit)
        print(f"{label:<{width}} {ours:>12} {theirs:>12} {r.ratio:>6.3f} {r.target:>6.2f}  "
              f"{'ok' if r.met else 'MISSED'}{'  ' + r.note if r.note else ''}")
    if as_json:
        print(json.dumps({"bench": bench, "results": [r.as_dict() for r in results]}))
