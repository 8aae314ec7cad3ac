"""A clip's custody report on a long ledger.

Fills a fresh ledger with N events (real, hash-chained appends: most of them about other
records, every hundredth naming one of a thousand clips, so the payload pre-filter has work
to do), with one clip's own history scattered through it (its hand-in, a case link, a hold,
an access request), then times ``clips custody`` for that clip: finding its events, the
Merkle tree of the whole ledger and the proofs, and the JSON edition.

Usage: python bench/custody_bench.py [--events N] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workdir import add_work_options, initialised_home  # noqa: E402

BATCH = 20_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="ledger events")
    add_work_options(parser)
    args = parser.parse_args()
    os.environ.pop("AVLEDGER_ACTOR", None)

    from tests.factories import ClipSpec, insert_clips

    from avledger.config import loader
    from avledger.core.app import Avledger
    from avledger.core.reports import output
    from avledger.core.reports.custody import make_report
    from avledger.timestamps import utcnow

    with initialised_home(args, "custody"):
        app = Avledger.open(loader.load())
        now = utcnow()
        clip = insert_clips(app, [ClipSpec("TC0001", "DCIM/BENCH.MP4", os.urandom(1 << 20),
                                           now, now)])[0]
        own = [("clip.reviewed", f"clip:{clip}", {"note": "scattered"}),
               ("hold.placed", "hold:1", {"clips": [clip], "reason": "complaint"}),
               ("access.requested", "access:1", {"clips": [clip, 5], "case": None})]
        t0 = time.perf_counter()
        written = 0
        while written < args.events:
            with app.transaction() as conn:
                for n in range(written, min(args.events, written + BATCH)):
                    if n % (args.events // len(own) + 1) == 7:
                        app.record(conn, *own[n % len(own)])
                    elif n % 100 == 0:
                        app.record(conn, "bench.other", f"other:{n}",
                                   {"clips": [2 + n % 1000], "n": n})
                    else:
                        app.record(conn, "bench.filler", f"filler:{n}", {"n": n})
            written = min(args.events, written + BATCH)
        app.checkpoint()
        size = app.catalog.conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
        print(f"ledger of {size:,} events written in {time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        report = make_report(app, clip, fmt="json", lang="zh")
        built = time.perf_counter() - t0
        text = output.render(report, "json", "zh", None).stdout or ""
        total = time.perf_counter() - t0
        events = len(report.evidence["events"]) if report.evidence else 0
        print(f"custody report of clip {clip}: {events} events proved against size "
              f"{report.meta['checkpoint']['size']:,}: built in {built:.2f} s, with the JSON "
              f"edition ({len(text):,} characters) {total:.2f} s")
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
