"""Test data for inspection draws: population files, a bigger roster, and a generated quarter of
checkouts and clips written straight into the catalog with SQL.

``generate_quarter`` returns its own account of the footage per task, built while generating,
so that tests compare ``inspect status`` against numbers it did not compute.
"""

from __future__ import annotations

import csv
import hashlib
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

QUARTER_START = datetime(2026, 10, 1, 0, 30, tzinfo=UTC)


def write_population(path: Path, n: int, *, conflicts: dict[str, list[str]] | None = None,
                     extra_columns: bool = True, shuffle_seed: int | None = None) -> Path:
    """A CSV of ``n`` enterprises E0001…; rows shuffled when ``shuffle_seed`` is given."""
    ids = [f"E{i:04d}" for i in range(1, n + 1)]
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(ids)
    header = ["id", "name"] + (["sector", "address"] if extra_columns else []) + \
        (["conflicts"] if conflicts is not None else [])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for eid in ids:
            row = [eid, f"平顶山 {eid} 有限公司"]
            if extra_columns:
                row += ["chemicals", f"{eid} Industrial Road"]
            if conflicts is not None:
                row.append(";".join(conflicts.get(eid, [])))
            w.writerow(row)
    return path


def add_people(home: Path, people: list[dict[str, Any]]) -> None:
    """Append people to the roster of the development config in ``home``."""
    cfg = home / "avledger.yaml"
    doc = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    doc["personnel"].extend(people)
    cfg.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def handlers(n: int, start: int = 101) -> list[dict[str, Any]]:
    return [{"badge": f"0{start + i}", "name": f"Inspector {start + i}", "os_user": None,
             "roles": ["handler"]} for i in range(n)]


def add_standard_roster(home: Path) -> None:
    """Six more handlers (0101-0106; 0106 logs in as insp106), a clerk-only desk worker (login
    desk) and a second records manager (records2): with 0001, seven people hold 'handler'."""
    add_people(home, handlers(5) + [
        {"badge": "0106", "name": "Inspector 106", "os_user": "insp106", "roles": ["handler"]},
        {"badge": "0201", "name": "Desk Only", "os_user": "desk", "roles": ["clerk"]},
        {"badge": "0202", "name": "Records Two", "os_user": "records2",
         "roles": ["records_manager"]},
    ])


@dataclass
class TaskFootage:
    """What the generator put in for one task id."""

    checkouts: int = 0
    clips: int = 0
    seconds: float = 0.0
    late: int = 0
    badges: set[str] = field(default_factory=set)

    @property
    def state(self) -> str:
        if self.clips == 0:
            return "none"
        return "late" if self.late else "ingested"


@dataclass
class Quarter:
    footage: dict[str, TaskFootage]
    unmatched: list[str]
    clips_total: int


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _device(conn: sqlite3.Connection, serial: str) -> int:
    cur = conn.execute("INSERT INTO devices (serial, profile, registration, first_seen_at)"
                       " VALUES (?, 'generic', 'registered', ?)", (serial, _iso(QUARTER_START)))
    return int(cur.lastrowid or 0)


def _checkout(conn: sqlite3.Connection, device: int, badge: str, task_id: str | None,
              out_at: datetime, back: bool) -> int:
    cur = conn.execute(
        "INSERT INTO checkouts (device_id, badge, task, task_id, out_at, in_at, out_by, in_by)"
        " VALUES (?, ?, 'inspection', ?, ?, ?, '0001:clerk', ?)",
        (device, badge, task_id, _iso(out_at), _iso(out_at + timedelta(hours=6)) if back else None,
         "0001:clerk" if back else None))
    return int(cur.lastrowid or 0)


def _clip(conn: sqlite3.Connection, device: int, checkout: int | None, badge: str | None,
          start: datetime, seconds: float | None, on_time: int | None, n: int) -> None:
    digest = hashlib.blake2b(f"clip-{n}".encode(), digest_size=32).hexdigest()
    size = 1_000_000 + n
    conn.execute("INSERT INTO objects (digest, size, stored_at) VALUES (?, ?, ?)",
                 (digest, size, _iso(start)))
    end = start + timedelta(seconds=seconds or 0)
    conn.execute(
        "INSERT INTO clips (device_id, digest, size, source_path, source_mtime, device_start,"
        " device_end, duration_seconds, duration_source, corrected_start, corrected_end,"
        " ingested_at, deadline, on_time, checkout_id, badge, attribution)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (device, digest, size, f"DCIM/{n:06d}.MP4", _iso(end), _iso(start), _iso(end), seconds,
         "container" if seconds is not None else "unknown", _iso(start), _iso(end),
         _iso(end + timedelta(hours=30 if on_time == 0 else 2)),
         _iso(end + timedelta(hours=24)), on_time, checkout, badge,
         "checkout" if checkout else "unattributed"))


def generate_quarter(catalog: Path, task_ids: list[str], inspectors: dict[str, list[str]], *,
                     seed: int = 7, other_tasks: list[str] = ()) -> Quarter:
    """Checkouts and clips for a quarter: per task none, still out, on time, late, unknown
    timing, several checkouts; plus unrelated checkouts, unattributed clips and ``other_tasks``
    (task ids that name no drawn inspection)."""
    rng = random.Random(seed)
    conn = sqlite3.connect(catalog)
    conn.execute("PRAGMA foreign_keys = ON")
    footage = {t: TaskFootage() for t in task_ids}
    devices = [_device(conn, f"SN-{i:04d}") for i in range(1, 9)]
    clip_no = 0
    when = QUARTER_START
    kinds = ["none", "out", "on_time", "late", "mixed", "unknown_timing", "two_checkouts"]
    for i, task in enumerate(task_ids):
        kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(kinds)
        if kind == "none":
            continue
        crews = 2 if kind == "two_checkouts" else 1
        for crew in range(crews):
            when += timedelta(hours=rng.randint(3, 30))
            badge = inspectors[task][crew % len(inspectors[task])] if rng.random() < 0.85 \
                else "0001"
            back = kind != "out"
            # a recorder still out is one no other crew can have: give it its own device
            device = devices[(i + crew) % len(devices)] if back else _device(conn, f"SN-OUT-{i}")
            co = _checkout(conn, device, badge, task, when, back)
            f = footage[task]
            f.checkouts += 1
            f.badges.add(badge)
            if kind == "out":
                continue
            for _ in range(rng.randint(1, 4)):
                clip_no += 1
                seconds = None if rng.random() < 0.1 else round(rng.uniform(30, 1800), 3)
                on_time: int | None = 1
                if kind == "late" or (kind == "mixed" and rng.random() < 0.5):
                    on_time = 0
                elif kind == "unknown_timing":
                    on_time = None
                _clip(conn, device, co, badge, when + timedelta(minutes=clip_no), seconds,
                      on_time, clip_no)
                f.clips += 1
                f.seconds += seconds or 0.0
                f.late += on_time == 0
            if kind == "mixed" and f.late == 0:  # make 'mixed' mean it
                clip_no += 1
                _clip(conn, device, co, badge, when, 60.0, 0, clip_no)
                f.clips += 1
                f.seconds += 60.0
                f.late += 1
    # footage that belongs to no inspection: other tasks, no task, and unattributed clips
    for j, task in enumerate([*other_tasks, None, "routine patrol"]):
        when += timedelta(hours=7)
        co = _checkout(conn, devices[j % len(devices)], "0001", task, when, True)
        clip_no += 1
        _clip(conn, devices[j % len(devices)], co, "0001", when, 600.0, 0, clip_no)
    clip_no += 1
    _clip(conn, devices[0], None, None, when + timedelta(hours=1), 300.0, 0, clip_no)
    conn.commit()
    conn.close()
    return Quarter(footage, list(other_tasks), clip_no)
