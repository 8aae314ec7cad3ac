"""``report annual`` over a large catalog (target: < 10 s for 1,000,000 clips).

Fills a fresh catalog with a generated busy year of N clips (``tests/factories_year.py``:
rows only, no bytes; recorders and officers scaled so each recorder does a realistic day's
work; plus a quarter of that from the year before, mostly purged), then times the annual
report: computing every section, and rendering it as HTML (with its charts), JSON and CSV. For
scale it also times one full scan of the clips table (``SELECT COUNT(*) … WHERE size > 0``) on
the same data in the same run.

Usage: python bench/report_bench.py [--clips N] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_SECONDS = 10.0
YEAR = 2025


from workdir import add_work_options, initialised_home  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=1_000_000, help="clips in the year")
    add_work_options(parser)
    args = parser.parse_args()

    os.environ.pop("AVLEDGER_ACTOR", None)
    from tests.factories_year import configure, generate_busy_year, roster

    from avledger.config import loader
    from avledger.core.app import Avledger
    from avledger.core.reports import output
    from avledger.core.reports.build import build_report
    from avledger.core.reports.period import Period

    with initialised_home(args, "report") as work:
        home = work / "home"
        devices = max(40, args.clips // 1300)
        people = roster(devices * 3)
        configure(home, people, site_unit="Municipal Ecology and Environment Bureau")
        t0 = time.perf_counter()
        made = generate_busy_year(home / "data" / "catalog.db", year=YEAR, clips=args.clips,
                                  devices=devices, people=people)
        print(f"generated {made.clips:,} clips ({made.checkouts:,} checkouts, {devices} "
              f"recorders, {len(people)} officers) in {time.perf_counter() - t0:.0f} s")

        app = Avledger.open(loader.load())
        conn = app.catalog.conn
        total = conn.execute("SELECT COUNT(*) FROM clips").fetchone()[0]
        t0 = time.perf_counter()
        conn.execute("SELECT COUNT(*) FROM clips WHERE size > 0").fetchone()
        scan_s = time.perf_counter() - t0

        period = Period.year(YEAR, app.config.timezone)
        out = work / "out"
        timings = []
        for run in range(2):
            app.catalog.close()  # a fresh connection, as a new command would have
            t0 = time.perf_counter()
            report = build_report(app, "annual", period)
            built = time.perf_counter() - t0
            output.render(report, "html", "en", out / "annual.html")
            output.render(report, "json", "en", out / "annual.json")
            output.render(report, "csv", "en", out / "csv")
            timings.append((built, time.perf_counter() - t0))
            if run == 0:
                print(f"report: {report.section('footage').figure('clips'):,} clips in {YEAR}, "
                      f"{report.section('handin').figure('late'):,} late, "
                      f"{report.section('retention').figure('purged'):,} purged; "
                      f"catalog holds {total:,} clips")
        first_build, first_all = timings[0]
        best_all = min(t for _, t in timings)
        print(f"full scan of clips (reference): {scan_s:.3f} s")
        print(f"report annual: sections {first_build:.2f} s, with HTML + JSON + CSV "
              f"{first_all:.2f} s (best of 2: {best_all:.2f} s) = {first_all / scan_s:.1f} × a "
              f"full scan; target < {TARGET_SECONDS:.0f} s: "
              f"{'met' if first_all < TARGET_SECONDS else 'NOT met'} "
              f"({first_all / TARGET_SECONDS:.2f} of the budget)")
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
