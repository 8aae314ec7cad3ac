#!/usr/bin/env python3
"""Run every ``bench/*_bench.py`` and print one table of ratios against the reference tools.

    .venv/bin/python bench/run_all.py            # full sizes (make bench)
    .venv/bin/python bench/run_all.py --quick    # small sizes, to prove the scripts work

Each script is run with ``--json`` (and ``--quick``); its last stdout line is the JSON result
(see benchlib.py). A script that fails is listed with its error; the exit status is 1 then.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_one(script: Path, quick: bool) -> tuple[list[dict[str, object]], str | None]:
    cmd = [sys.executable, str(script), "--json"] + (["--quick"] if quick else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return [], f"exit {proc.returncode}: {last}"
    lines = proc.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(f"  {line}")
    try:
        return list(json.loads(lines[-1])["results"]), None
    except (IndexError, ValueError, KeyError, TypeError):
        return [], "did not print a JSON result line"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="Small sizes.")
    ap.add_argument("only", nargs="*", help="Run only these benches (e.g. store).")
    args = ap.parse_args()
    scripts = sorted(HERE.glob("*_bench.py"))
    if args.only:
        scripts = [s for s in scripts if s.name.removesuffix("_bench.py") in args.only]
    rows: list[tuple[str, str, str, str, str, str]] = []
    failed = False
    for script in scripts:
        name = script.name.removesuffix("_bench.py")
        print(f"== {name}", flush=True)
        results, error = run_one(script, args.quick)
        if error:
            failed = True
            rows.append((name, "ERROR", "", "", "", error))
        for r in results:
            rows.append((name, f"{r['metric']} vs {r['reference']}",
                         f"{r['ours']:.0f} {r['unit']}", f"{r['theirs']:.0f} {r['unit']}",
                         f"{r['ratio']:.3f} (>= {r['target']})",
                         "ok" if r["met"] else "MISSED"))
    if not rows:
        print("no benchmarks found")
        return 1
    header = ("bench", "measurement", "ours", "reference", "ratio", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(6)]
    print()
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
