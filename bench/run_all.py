#!/usr/bin/env python3
"""Run every ``bench/*_bench.py`` and print one table of ratios against the reference tools.

    .venv/bin/python bench/run_all.py            # full sizes (make bench)
    .venv/bin/python bench/run_all.py --quick    # small sizes, to prove the scripts work

A script that offers ``--json`` (see benchlib.py) is run with it, and with ``--quick`` when
asked and offered; its last stdout line is the JSON result that fills the table. A script
without ``--json`` is run as it is and its own report is shown (with ``--quick``, it is
skipped unless it offers ``--quick``). A script that fails is listed with its error; the exit
status is 1 then.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchlib import amount  # noqa: E402


def options(script: Path) -> str:
    """The script's --help text (to see which of --json/--quick it offers)."""
    proc = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                          text=True)
    return proc.stdout if proc.returncode == 0 else ""


def run_one(script: Path, quick: bool) -> tuple[list[dict[str, object]], str | None]:
    offered = options(script)
    as_json = "--json" in offered
    if quick and "--quick" not in offered:
        return [], "skipped: no --quick option (run without --quick)"
    cmd = [sys.executable, str(script)] + (["--json"] if as_json else []) + \
        (["--quick"] if quick else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return [], f"failed, exit {proc.returncode}: {last}"
    lines = proc.stdout.strip().splitlines()
    for line in lines[:-1] if as_json else lines:
        print(f"  {line}")
    if not as_json:
        return [], "no --json: see its report above"
    try:
        return list(json.loads(lines[-1])["results"]), None
    except (IndexError, ValueError, KeyError, TypeError):
        return [], "failed: did not print a JSON result line"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="Small sizes.")
    ap.add_argument("only", nargs="*", help="Run only these benches (e.g. store).")
    args = ap.parse_args()
    scripts = sorted(HERE.glob("*_bench.py"))
    if args.only:
        scripts = [s for s in scripts if s.name.removesuffix("_bench.py") in args.only]
    rows: list[tuple[str, ...]] = []
    failed = False
    for script in scripts:
        name = script.name.removesuffix("_bench.py")
        print(f"== {name}", flush=True)
        results, remark = run_one(script, args.quick)
        if remark:
            failed = failed or remark.startswith("failed")
            rows.append((name, remark, "", "", "", ""))
        for r in results:
            rows.append((name, f"{r['metric']} vs {r['reference']}",
                         amount(float(r["ours"]), str(r["unit"])),
                         amount(float(r["theirs"]), str(r["unit"])),
                         f"{r['ratio']:.3f} (>= {r['target']})",
                         ("ok" if r["met"] else "MISSED") + (f"  {r['note']}" if r.get("note")
                                                             else "")))
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
