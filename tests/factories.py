"""Footage for tests and benchmarks, written through the real store and catalog.

``insert_clips`` stores real bytes (``store.put_bytes``) and inserts the device, checkout and
clip rows in one write transaction with one ``clip.ingested`` ledger event per clip — what
ingest does, without a recorder. ``generate_year`` builds a year of such footage with the
awkward cases retention must handle (late hand-ins, unknown recording time, unattributed
clips, clips sharing one object) and returns the ground truth so a test can compute the
expected outcome on its own. ``insert_synthetic`` fills a catalog with a million rows fast
(``executemany``, no bytes) for benchmarks.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import blake3

from avledger.core.app import Avledger
from avledger.core.custody.integrity import register_object
from avledger.errors import StorageError
from avledger.timestamps import iso


@dataclass
class ClipSpec:
    device: str
    source_path: str
    content: bytes
    recorded: datetime | None  # corrected start; None = unknown recording time
    ingested: datetime
    duration: float = 60.0
    attribution: str = "checkout"  # checkout | device-info | unattributed | between-checkouts
    badge: str | None = "0001"
    late: bool = False
    flags: tuple[str, ...] = ()


@dataclass
class GenClip:
    """Ground truth about one generated clip."""

    id: int
    device: str
    recorded: datetime | None
    ingested: datetime
    digest: str
    size: int
    attribution: str
    late: bool
    duration: float

    @property
    def end(self) -> datetime | None:
        return self.recorded + timedelta(seconds=self.duration) if self.recorded else None


def _device_id(conn: sqlite3.Connection, serial: str, seen: datetime) -> int:
    row = conn.execute("SELECT id FROM devices WHERE serial = ?", (serial,)).fetchone()
    if row:
        return int(row[0])
    cur = conn.execute(
        "INSERT INTO devices (serial, profile, model, registration, first_seen_at,"
        " registered_at) VALUES (?, 'test', 'TestCam', 'registered', ?, ?)",
        (serial, iso(seen), iso(seen)))
    return int(cur.lastrowid or 0)


def _checkout_id(conn: sqlite3.Connection, device_id: int, spec: ClipSpec) -> int | None:
    """One closed checkout per recorder per recording day (the usage ledger, Art. 4)."""
    if spec.attribution != "checkout" or spec.recorded is None:
        return None
    day = spec.recorded.replace(hour=0, minute=0, second=0, microsecond=0)
    out_at, in_at = iso(day), iso(day + timedelta(days=1, hours=6))
    row = conn.execute("SELECT id FROM checkouts WHERE device_id = ? AND out_at = ?",
                       (device_id, out_at)).fetchone()
    if row:
        return int(row[0])
    cur = conn.execute(
        "INSERT INTO checkouts (device_id, badge, task, out_at, in_at, out_by, in_by)"
        " VALUES (?, ?, 'site inspection', ?, ?, 'test', 'test')",
        (device_id, spec.badge or "0001", out_at, in_at))
    return int(cur.lastrowid or 0)


def insert_clips(app: Avledger, specs: Sequence[ClipSpec], *, attempts: int = 5) -> list[int]:
    """Store the bytes, then catalogue every clip in one transaction; return the clip ids.

    If a concurrent purge removes identical content between the copy and the transaction,
    ``register_object`` refuses and the whole batch is stored and catalogued again.
    """
    for attempt in range(attempts):
        puts = [app.store.put_bytes(s.content) for s in specs]
        try:
            return _catalogue(app, specs, puts)
        except StorageError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _catalogue(app: Avledger, specs: Sequence[ClipSpec], puts: list) -> list[int]:  # type: ignore[type-arg]
    ids: list[int] = []
    with app.transaction() as conn:
        for spec, put in zip(specs, puts, strict=True):
            device_id = _device_id(conn, spec.device, spec.ingested)
            register_object(app, conn, put.digest, put.size)
            start = iso(spec.recorded) if spec.recorded else None
            end = iso(spec.recorded + timedelta(seconds=spec.duration)) if spec.recorded else None
            deadline = (iso(spec.recorded + timedelta(hours=24)) if spec.recorded else None)
            cur = conn.execute(
                "INSERT INTO clips (device_id, digest, size, source_path, source_mtime,"
                " device_start, device_end, duration_seconds, duration_source, drift_seconds,"
                " corrected_start, corrected_end, ingested_at, deadline, on_time, late_reason,"
                " checkout_id, badge, attribution, flags)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'container', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (device_id, put.digest, put.size, spec.source_path,
                 iso(spec.ingested - timedelta(minutes=5)),
                 start or "2000-01-01T00:00:00.000000+00:00", end, spec.duration, start, end,
                 iso(spec.ingested), deadline,
                 None if spec.recorded is None else int(not spec.late),
                 "left on recorder over a weekend" if spec.late else None,
                 _checkout_id(conn, device_id, spec), spec.badge, spec.attribution,
                 "[" + ",".join(f'"{f}"' for f in spec.flags) + "]"))
            clip_id = int(cur.lastrowid or 0)
            ids.append(clip_id)
            app.record(conn, "clip.ingested", f"clip:{clip_id}", {
                "device": spec.device, "digest": put.digest, "size": put.size,
                "source_path": spec.source_path, "corrected_start": start,
                "test_footage": True})
    return ids


# ---- a year of footage ------------------------------------------------------------------------


@dataclass
class Footage:
    start: datetime
    clips: dict[int, GenClip] = field(default_factory=dict)
    shared_pairs: list[tuple[int, int]] = field(default_factory=list)  # (original, copy)

    def ids(self, **where: object) -> set[int]:
        return {c.id for c in self.clips.values()
                if all(getattr(c, k) == v for k, v in where.items())}


def generate_year(app: Avledger, *, start: datetime, days: int = 365, per_day: int = 8,
                  devices: int = 4, seed: int = 7, unknown_rate: float = 0.01,
                  unattributed_rate: float = 0.02, late_rate: float = 0.03,
                  shared_rate: float = 0.01, batch_days: int = 30) -> Footage:
    """``days`` days of footage from ``devices`` recorders, about ``per_day`` clips a day."""
    rng = random.Random(seed)
    footage = Footage(start)
    earlier: list[tuple[bytes, GenClip]] = []
    serials = [f"TC{n:04d}" for n in range(1, devices + 1)]
    pending: list[tuple[ClipSpec, bool]] = []

    def flush() -> None:
        ids = insert_clips(app, [s for s, _ in pending])
        for clip_id, (spec, shared) in zip(ids, pending, strict=True):
            digest = blake3.blake3(spec.content).hexdigest()
            gen = GenClip(clip_id, spec.device, spec.recorded, spec.ingested, digest,
                          len(spec.content), spec.attribution, spec.late, spec.duration)
            footage.clips[clip_id] = gen
            if shared:
                original = next(c for b, c in earlier if b == spec.content)
                footage.shared_pairs.append((original.id, clip_id))
            else:
                earlier.append((spec.content, gen))
        pending.clear()

    for day in range(days):
        for n in range(max(0, int(rng.gauss(per_day, per_day / 4)))):
            device = rng.choice(serials)
            recorded = start + timedelta(days=day, seconds=rng.randrange(7 * 3600, 19 * 3600))
            late = rng.random() < late_rate
            ingested = recorded + timedelta(hours=rng.uniform(30, 70) if late
                                            else rng.uniform(1, 20))
            shared = bool(earlier) and rng.random() < shared_rate
            content = (rng.choice(earlier)[0] if shared
                       else rng.randbytes(rng.randrange(256, 4096)))
            unknown = rng.random() < unknown_rate
            attribution = ("unattributed" if rng.random() < unattributed_rate else "checkout")
            pending.append((ClipSpec(
                device=device, source_path=f"DCIM/{device}/{day:03d}_{n:03d}.MP4",
                content=content, recorded=None if unknown else recorded, ingested=ingested,
                duration=rng.uniform(20, 600), attribution=attribution, late=late,
                badge=None if attribution != "checkout" else "0001",
                flags=("clock-reset",) if unknown else ()), shared))
        if (day + 1) % batch_days == 0:
            flush()
    if pending:
        flush()
    return footage


# ---- a million rows for benchmarks -------------------------------------------------------------


def insert_synthetic(conn: sqlite3.Connection, n: int, *, now: datetime, span_days: int = 450,
                     devices: int = 40, seed: int = 1, linked_rate: float = 0.05,
                     held_rate: float = 0.01, batch: int = 50_000) -> None:
    """``n`` catalogued clips (with object rows, no bytes) recorded over ``span_days`` before
    ``now``; a share of them linked to cases (half open) or under clip holds."""
    rng = random.Random(seed)
    stamp = iso(now)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO devices (serial, first_seen_at) VALUES (?, ?)",
        [(f"SYN{d:05d}", stamp) for d in range(devices)])
    first_device = int(conn.execute("SELECT MIN(id) FROM devices WHERE serial LIKE 'SYN%'")
                       .fetchone()[0])
    for k, etype in enumerate(("inspection", "penalty", "compulsion", "licensing") * 25):
        conn.execute(
            "INSERT INTO cases (number, name, enforcement_type, status, opened_at, opened_by,"
            " closed_at) VALUES (?, ?, ?, ?, ?, 'bench', ?)",
            (f"SYN-{k:03d}", f"synthetic case {k}", etype, "open" if k % 2 else "closed",
             stamp, iso(now - timedelta(days=rng.randrange(1, 4000))) if k % 2 == 0 else None))
    case_ids = [r[0] for r in conn.execute("SELECT id FROM cases WHERE number LIKE 'SYN-%'")]
    hold = conn.execute(
        "INSERT INTO holds (scope, reason, note, placed_at, placed_by) VALUES"
        " ('clips', 'complaint', 'synthetic', ?, 'bench')", (stamp,)).lastrowid
    conn.execute("COMMIT")
    base_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM clips").fetchone()[0])
    for lo in range(0, n, batch):
        hi = min(n, lo + batch)
        objects, clips, links, held = [], [], [], []
        for i in range(lo, hi):
            clip_id = base_id + i + 1
            digest = blake3.blake3(f"synthetic-{seed}-{i}".encode()).hexdigest()
            size = rng.randrange(10_000_000, 900_000_000)
            recorded = now - timedelta(seconds=rng.randrange(0, span_days * 86400))
            start = iso(recorded)
            objects.append((digest, size, stamp))
            clips.append((clip_id, first_device + i % devices, digest, size, f"DCIM/{i}.MP4",
                          stamp, start, start, iso(recorded + timedelta(hours=3)), "checkout"))
            roll = rng.random()
            if roll < linked_rate:
                links.append((clip_id, rng.choice(case_ids), stamp, "bench"))
            elif roll < linked_rate + held_rate:
                held.append((hold, clip_id))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO objects (digest, size, stored_at) VALUES (?, ?, ?)",
                         objects)
        conn.executemany(
            "INSERT INTO clips (id, device_id, digest, size, source_path, source_mtime,"
            " device_start, corrected_start, ingested_at, attribution)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", clips)
        conn.executemany("INSERT INTO clip_cases (clip_id, case_id, linked_at, linked_by)"
                         " VALUES (?, ?, ?, ?)", links)
        conn.executemany("INSERT INTO hold_clips (hold_id, clip_id) VALUES (?, ?)", held)
        conn.execute("COMMIT")
