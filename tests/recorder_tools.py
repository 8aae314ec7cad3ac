"""Helpers for ingest tests: simulated recorders and catalog snapshots."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from avledger.config import loader, profiles
from avledger.core.simulate.recorder import SimReport, simulate, write_clock_file

# Columns that differ between two runs by nature (ids, when, which dock/measurement) or by
# the clock measurement itself (taken at a different moment each run).
VOLATILE = {"id", "ingested_at", "dock_id", "clock_measurement_id", "drift_seconds",
            "corrected_start", "corrected_end", "deadline", "device_id", "checkout_id"}


def profile(name: str = "generic") -> profiles.Profile:
    return profiles.get(loader.load(), name)


def make_recorder(root: Path, name: str = "generic", **kw: Any) -> SimReport:
    return simulate(root, profile(name), **kw)


def dock(root: Path, drift: float, name: str = "generic") -> str:
    """What the recorder does when plugged in: write its clock file afresh. The moment of
    docking, as ``--docked-at`` takes it."""
    moment = write_clock_file(root, profile(name), drift)
    assert moment is not None
    return moment.isoformat()


def docked_at(root: Path, name: str = "generic") -> str:
    """When the simulated recorder in ``root`` was last docked (the simulator stamps its clock
    file with that moment), as ``--docked-at`` takes it."""
    path = root / profile(name).get("clock.read.path")
    return datetime.fromtimestamp(path.stat().st_mtime_ns / 1e9, UTC).isoformat()


def clip_rows(catalog: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(catalog)
    conn.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in conn.execute("SELECT * FROM clips ORDER BY source_path")]
    finally:
        conn.close()
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


def catalog_objects(catalog: Path) -> set[str]:
    conn = sqlite3.connect(catalog)
    try:
        return {r[0] for r in conn.execute("SELECT digest FROM objects")}
    finally:
        conn.close()


def store_objects(store: Path) -> set[str]:
    return {p.name for p in (store / "objects").glob("*/*/*") if p.is_file()}


def dock_states_and_events(catalog: Path) -> tuple[list[str], int]:
    """The docks' states in order, and how many ``clip.ingested`` events the ledger holds."""
    conn = sqlite3.connect(catalog)
    try:
        states = [r[0] for r in conn.execute("SELECT state FROM docks ORDER BY id")]
        events = conn.execute("SELECT COUNT(*) FROM ledger WHERE type = 'clip.ingested'"
                              ).fetchone()[0]
    finally:
        conn.close()
    return states, int(events)
