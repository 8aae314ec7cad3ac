#!/usr/bin/env python3
"""Ingest with a second store copy (store.copies: 2, sync) against ingest with one copy.

    .venv/bin/python bench/copies_bench.py                     # 16 clips × 32 MiB
    .venv/bin/python bench/copies_bench.py --second /mnt/disk2/bench   # second copy elsewhere

The same recorder folder is ingested into a fresh home each round, once with one copy and once
with two (the second location in the work directory, or ``--second`` on another disk); both
sides end durable. With both copies on one disk the second copy doubles what is written, so
about 0.5 is that disk's ceiling; on two disks the copy from the first store's object (read
back from the page cache, the recorder is not read again) should cost little.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from benchlib import MIB, Result, best_of, drop_caches, parser, report, timed  # noqa: E402

from avledger.config import loader, profiles  # noqa: E402
from avledger.core.simulate.recorder import simulate  # noqa: E402

AVLEDGER = str(Path(sys.executable).parent / "avledger")


def home_with(base: Path, copies: int, second: Path) -> dict[str, str]:
    """A fresh initialised home with ``copies`` copies; its environment."""
    home = base / f"home{copies}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(second, ignore_errors=True)
    env = dict(os.environ, AVLEDGER_HOME=str(home))
    subprocess.run([AVLEDGER, "init"], check=True, env=env, capture_output=True)
    if copies == 2:
        path = home / "avledger.yaml"
        doc = yaml.safe_load(path.read_text())
        doc.setdefault("store", {}).update(copies=2, second={"path": str(second)})
        path.write_text(yaml.safe_dump(doc))
        subprocess.run([AVLEDGER, "init"], check=True, env=env, capture_output=True)
    return env


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--clips", type=int, default=16)
    p.add_argument("--clip-mib", type=int, default=32)
    p.add_argument("--second", type=Path, default=None,
                   help="Where the second copy goes (default: in the work directory).")
    args = p.parse_args()
    if args.quick:
        args.clips, args.clip_mib, args.rounds = 4, 8, 1
    base = args.workdir / "copies"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    second = args.second or base / "second"
    rec = base / "recorder"
    os.environ["AVLEDGER_HOME"] = str(base / "sim-home")
    config = loader.load()
    simulate(rec, profiles.get(config, "generic"), clips=args.clips,
             size=args.clip_mib * MIB)

    def side(copies: int) -> float:
        env = home_with(base, copies, second)
        drop_caches()
        return timed(lambda: subprocess.run([AVLEDGER, "ingest", str(rec)], check=True,
                                            env=env, capture_output=True))

    best = best_of(args.rounds, {"one": lambda: side(1), "two": lambda: side(2)})
    total = args.clips * args.clip_mib * MIB / 1e6
    results = [Result("ingest, two copies (sync)", "ingest, one copy", total / best["two"],
                      total / best["one"], "MB/s", 0.45,
                      note="second copy on " + ("another path" if args.second else
                                                "the same disk"))]
    report("copies", results, args.json,
           [f"{args.clips} clips of {args.clip_mib} MiB, best of {args.rounds}"])
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
