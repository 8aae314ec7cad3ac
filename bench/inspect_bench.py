#!/usr/bin/env python3
"""Inspection draws and ``inspect status``: time against baselines measured in the same run.

    python bench/inspect_bench.py [--enterprises N] [--clips N]

- the verifiable draw (HMAC-SHA256 stream, rejection sampling, conflicts, two inspectors each)
  against ``random.sample`` of the same enterprises and inspectors (fast, not verifiable);
- recomputing it for verification against the draw itself;
- ``period_status`` over a catalog of N clips against one full scan of the clips table.
Figures are ratios; absolute times depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import sqlite3
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.factories_inspect import generate_quarter  # noqa: E402

from avledger.config import loader  # noqa: E402
from avledger.core.app import Avledger  # noqa: E402
from avledger.core.inspect import draw  # noqa: E402
from avledger.core.inspect import status as inspectstatus  # noqa: E402
from avledger.core.install.setup import initialise  # noqa: E402


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_draw(n: int) -> None:
    rows = [(f"E{i:07d}", f"Enterprise {i}") for i in range(n)]
    roster = draw.canonical_roster([{"badge": f"{i:04d}", "name": f"P{i}"} for i in range(60)])
    conflicts = draw.canonical_conflicts([(f"E{i:07d}", f"{i % 60:04d}")
                                          for i in range(0, n, 7)])
    mat = draw.Material(draw.population_csv(rows), roster, conflicts)
    inputs = draw.make_inputs(period="2026Q4", round_no=1, checkpoint="cp\n1\nAA\n\n— x y\n",
                              rate=Fraction(1, 5), inspectors=2, material=mat)
    ids = [r[0] for r in rows]
    badges = [p["badge"] for p in roster]
    k = math.ceil(n / 5)

    def baseline() -> None:
        rng = random.Random(hashlib.sha256(b"x").digest())
        for _enterprise in rng.sample(ids, k):
            rng.sample(badges, 2)

    ours = timed(lambda: draw.run(inputs, mat))
    base = timed(baseline)
    digests = timed(mat.digests)
    print(f"draw of {k} from {n} enterprises, 2 of 60 inspectors each:")
    print(f"  verifiable draw      {ours * 1000:9.1f} ms")
    print(f"  random.sample        {base * 1000:9.1f} ms   ratio {ours / base:6.1f}x")
    print(f"  input digests only   {digests * 1000:9.1f} ms   ({digests / ours:.0%} of the draw)")


def bench_status(clips: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AVLEDGER_HOME"] = str(Path(tmp) / "home")
        initialise(None)
        app = Avledger.open(loader.load())
        tasks = [f"2026Q4-{i:03d}" for i in range(1, 401)]
        catalog = app.config.catalog_path
        conn = sqlite3.connect(catalog)
        conn.execute("INSERT INTO inspection_draws (id, period, round, drawn_at, drawn_by, inputs,"
                     " seed, population, roster, conflicts, event_seq)"
                     " VALUES (1, '2026Q4', 1, 'x', 'x', '{}', 's', '', '[]', '[]', 1)")
        conn.executemany("INSERT INTO inspections (draw_id, position, task_id, enterprise_id,"
                         " enterprise_name) VALUES (1, ?, ?, ?, 'x')",
                         [(i, t, f"E{i}") for i, t in enumerate(tasks, 1)])
        conn.commit()
        conn.close()
        generate_quarter(catalog, tasks, {t: ["0001"] for t in tasks}, seed=1)
        # pad the clips table with footage of other work up to the requested size
        conn = sqlite3.connect(catalog)
        have = conn.execute("SELECT COUNT(*) FROM clips").fetchone()[0]
        conn.execute("INSERT INTO devices (serial, first_seen_at) VALUES ('PAD', 'x')")
        dev = conn.execute("SELECT id FROM devices WHERE serial = 'PAD'").fetchone()[0]
        conn.execute("INSERT INTO checkouts (device_id, badge, out_at, in_at, out_by)"
                     " VALUES (?, '0001', 'x', 'y', 'x')", (dev,))
        co = conn.execute("SELECT MAX(id) FROM checkouts").fetchone()[0]
        pad = max(0, clips - have)
        conn.executemany("INSERT INTO objects (digest, size, stored_at) VALUES (?, 1, 'x')",
                         ((f"pad{i}",) for i in range(pad)))
        conn.executemany(
            "INSERT INTO clips (device_id, digest, size, source_path, source_mtime, ingested_at,"
            " duration_seconds, on_time, checkout_id) VALUES (?, ?, 1, ?, 'x', 'x', 60, 1, ?)",
            ((dev, f"pad{i}", f"p/{i}", co) for i in range(pad)))
        conn.commit()
        conn.close()
        scan = timed(lambda: app.catalog.conn.execute(
            "SELECT COUNT(*), SUM(duration_seconds), SUM(on_time = 0) FROM clips").fetchone())
        ours = timed(lambda: inspectstatus.period_status(app, "2026Q4"))
        app.close()
    print(f"inspect status, 400 inspections, catalog of {clips} clips:")
    print(f"  period_status        {ours * 1000:9.1f} ms")
    print(f"  full clips scan      {scan * 1000:9.1f} ms   ratio {ours / scan:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--clips", type=int, default=200_000)
    args = parser.parse_args()
    bench_draw(args.enterprises)
    bench_status(args.clips)


if __name__ == "__main__":
    main()
