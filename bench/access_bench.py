"""Copy packages against the standard tools on the same data, in the same run.

Stores N clips of S bytes, registers a judicial copy request for them, and times
``make_package`` — one read of each stored object that copies it while computing SHA-256 and
BLAKE3, then the excerpt, the seal, and a full re-verification of the package — against
``cp`` of the same objects followed by ``sha256sum`` and ``sync`` (what a clerk would do by
hand, without any verification). Then times the standalone ``verify_ledger.py --package``
under the system Python against ``sha256sum -c SHA256SUMS`` on the package. Ratios above 1
mean slower than the tools.

Usage: python bench/access_bench.py [--clips N] [--size BYTES] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(argv: list[str], cwd: Path | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t0


from workdir import add_work_options, initialised_home  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=20, help="clips in the package")
    parser.add_argument("--size", type=int, default=50_000_000, help="bytes per clip")
    add_work_options(parser)
    args = parser.parse_args()

    from tests.factories import ClipSpec, insert_clips

    from avledger.config import loader
    from avledger.core.access.package import make_package
    from avledger.core.access.requests import NewRequest, file_request
    from avledger.core.app import Avledger
    from avledger.core.cases import registry as cases
    from avledger.timestamps import utcnow

    with initialised_home(args, "access") as work:
        app = Avledger.open(loader.load())
        now = utcnow()
        ids = insert_clips(app, [ClipSpec("TC0001", f"DCIM/100MEDIA/V{i:04d}.MP4",
                                          os.urandom(args.size), now - timedelta(hours=i + 1),
                                          now) for i in range(args.clips)])
        cases.add_case(app, number="BENCH-1", name="bench", enforcement_type="penalty",
                       handlers=["0001"], confidentiality="none", now=now)
        cases.link_clips(app, "BENCH-1", ids, now=now)
        req = file_request(app, NewRequest("judicial", "copy", "bench", ("unit_letter",
                                                                        "id_card"),
                                           requester="bench", kind="court", case="BENCH-1"),
                           now=now)
        total = args.clips * args.size
        print(f"{args.clips} clips × {args.size / 1e6:.1f} MB = {total / 1e6:.0f} MB")

        digests = [r[0] for r in app.catalog.conn.execute("SELECT digest FROM clips")]
        objects = [str(app.store.path_for(d)) for d in digests]  # bench only: the tools' input
        subprocess.run(["sync"], check=True)
        ref_dir = work / "by-hand"
        ref_dir.mkdir()
        t0 = time.perf_counter()
        subprocess.run(["cp", *objects, str(ref_dir)], check=True)
        subprocess.run(["sha256sum", *[str(p) for p in ref_dir.iterdir()]], check=True,
                       capture_output=True)
        subprocess.run(["sync"], check=True)
        by_hand = time.perf_counter() - t0

        t0 = time.perf_counter()
        made = make_package(app, int(req["id"]), work / "packages", now=utcnow())
        subprocess.run(["sync"], check=True)
        package_s = time.perf_counter() - t0
        app.close()
        print(f"cp + sha256sum + sync: {by_hand:.2f} s ({total / by_hand / 1e6:.0f} MB/s)")
        print(f"access fulfil (copy package, verified): {package_s:.2f} s "
              f"({total / package_s / 1e6:.0f} MB/s) = {package_s / by_hand:.2f} × by hand")

        folder = made.directory
        sums_s = timed(["sha256sum", "-c", "SHA256SUMS"], cwd=folder)
        verify_s = timed(["/usr/bin/python3", "-I", "verify_ledger.py", "--package", "."],
                         cwd=folder)
        print(f"sha256sum -c SHA256SUMS: {sums_s:.2f} s")
        print(f"verify_ledger.py --package (system Python, isolated): {verify_s:.2f} s "
              f"= {verify_s / sums_s:.2f} × sha256sum -c")
    return 0


if __name__ == "__main__":
    sys.exit(main())
