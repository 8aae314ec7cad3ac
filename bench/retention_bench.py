"""Retention sweep plan over a large catalog (target: < 2 s for 1,000,000 clips).

Fills a fresh catalog with N synthetic clips (rows only, no bytes: objects rows, clips over
the last 450 days, 5 % linked to cases of every enforcement type, half of them open, 1 %
under a hold), then times ``plan_sweep`` — the dry run that cron's sweep starts with. For
scale it also times a full scan of the clips table (``SELECT COUNT(*) … WHERE size > 0``) on
the same data in the same run.

Usage: python bench/retention_bench.py [--clips N] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_SECONDS = 2.0


from workdir import add_work_options, initialised_home  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=1_000_000, help="catalogued clips")
    add_work_options(parser)
    args = parser.parse_args()

    from tests.factories import insert_synthetic

    from avledger.config import loader
    from avledger.core.app import Avledger
    from avledger.core.retention.sweep import plan_sweep
    from avledger.timestamps import utcnow

    with initialised_home(args, "retention"):
        app = Avledger.open(loader.load())
        now = utcnow()
        t0 = time.perf_counter()
        insert_synthetic(app.catalog.conn, args.clips, now=now)
        insert_s = time.perf_counter() - t0
        print(f"catalogued {args.clips:,} synthetic clips in {insert_s:.1f} s "
              f"({insert_s / args.clips * 1e6:.0f} µs per clip, batched)")

        app.catalog.close()  # a fresh connection, as the cron sweep would have
        conn = app.catalog.conn
        t0 = time.perf_counter()
        conn.execute("SELECT COUNT(*) FROM clips WHERE size > 0").fetchone()
        scan_s = time.perf_counter() - t0

        timings = []
        plan = None
        for _ in range(3):
            t0 = time.perf_counter()
            plan = plan_sweep(app, now)
            timings.append(time.perf_counter() - t0)
        assert plan is not None
        totals = plan.totals()
        first, best = timings[0], min(timings)
        print(f"plan: {totals['to_pending']:,} clips to pending purge "
              f"({totals['to_pending_bytes'] / 1e12:.1f} TB), kept {totals['kept']}")
        print(f"full scan of clips (reference): {scan_s:.3f} s")
        print(f"sweep plan: first {first:.3f} s, best of 3 {best:.3f} s "
              f"= {best / scan_s:.1f} × a full scan; target < {TARGET_SECONDS:.0f} s: "
              f"{'met' if first < TARGET_SECONDS else 'NOT met'} "
              f"({first / TARGET_SECONDS:.2f} of the budget)")
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
