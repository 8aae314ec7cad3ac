"""A second process that keeps cataloguing clips through the core until told to stop.

Usage: python -m tests.ingest_loop STOP_FILE OUT_FILE [REUSE_DIGEST …]

Every round stores and catalogues a few new clips; every other round one of them re-uses the
bytes of a clip the sweep is purging (read before the sweep started), so the purge and the
ingest race on the very same object. Writes one JSON line per committed batch to OUT_FILE.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.timestamps import utcnow
from tests.factories import ClipSpec, insert_clips


def main(stop: Path, out: Path, reuse: list[bytes]) -> None:
    app = Avledger.open(loader.load(), daemon=True)
    n = 0
    try:
        with open(out, "a", encoding="utf-8") as log:
            while not stop.exists():
                now = utcnow()
                specs = [ClipSpec("LIVE01", f"DCIM/live{n}_{k}.MP4", f"live-{n}-{k}".encode() * 40,
                                  now - timedelta(minutes=30), now) for k in range(3)]
                if reuse and n % 2 == 0:
                    specs.append(ClipSpec("LIVE01", f"DCIM/again{n}.MP4", reuse[n % len(reuse)],
                                          now - timedelta(minutes=20), now))
                ids = insert_clips(app, specs)
                log.write(json.dumps({"t": time.time(), "ids": ids}) + "\n")
                log.flush()
                n += 1
    finally:
        app.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), [Path(p).read_bytes() for p in sys.argv[3:]])
