"""Where a run's time goes: ``AVLEDGER_PHASES=1`` prints each phase's time to stderr at exit.

Ingest has to keep pace with ``cp``; finding which step costs the difference takes a
measurement of the real command, not a guess. ``mark(name)`` charges the time since the
previous mark (or since the process started) to ``name``; marks of one name add up. Without
the variable a mark costs one attribute read.
"""

from __future__ import annotations

import atexit
import os
import sys
import time

ENABLED = bool(os.environ.get("AVLEDGER_PHASES"))

_spent: dict[str, float] = {}
_last = 0.0


def _process_start() -> float:
    """The process's start on the CLOCK_BOOTTIME scale (so start-up imports count too)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.clock_gettime(time.CLOCK_BOOTTIME)


def mark(name: str) -> None:
    """Charge the time since the previous mark to ``name``."""
    if not ENABLED:
        return
    global _last
    now = time.clock_gettime(time.CLOCK_BOOTTIME)
    _spent[name] = _spent.get(name, 0.0) + now - _last
    _last = now


def _report() -> None:
    total = sum(_spent.values())
    for name, seconds in _spent.items():
        print(f"phase {name:<28} {seconds:8.3f} s", file=sys.stderr)
    print(f"phase {'(total)':<28} {total:8.3f} s", file=sys.stderr)


if ENABLED:
    _last = _process_start()
    atexit.register(_report)
