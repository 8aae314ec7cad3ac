"""Store verification (scrub): re-hash objects, find missing, corrupt and orphan objects.

A full run checks every catalogued object and lists orphans; a scheduled scrub can take a
random sample or run within a time budget, oldest-verified first. Corrupt objects are moved
to quarantine (never repaired in place) and every run is a ledger event.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from avledger.core.app import Avledger
from avledger.core.clock import iso, utcnow
from avledger.errors import StorageError
from avledger.store.backend import VerifyResult


@dataclass
class StoreVerifyReport:
    mode: str
    checked: int = 0
    bytes: int = 0
    ok: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[dict[str, str]] = field(default_factory=list)
    unreadable: list[dict[str, str]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    not_reached: int = 0
    seconds: float = 0.0

    @property
    def problems(self) -> int:
        return len(self.missing) + len(self.corrupt) + len(self.unreadable) + len(self.orphans)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "checked": self.checked, "bytes": self.bytes, "ok": self.ok,
            "missing": self.missing, "corrupt": self.corrupt, "unreadable": self.unreadable,
            "orphans": self.orphans, "quarantined": self.quarantined,
            "not_reached": self.not_reached, "seconds": round(self.seconds, 3),
            "problems": self.problems,
        }


def _candidates(app: Avledger, sample: int | None, seed: int | None) -> list[tuple[str, int]]:
    rows = app.catalog.conn.execute(
        "SELECT digest, size FROM objects WHERE quarantined_at IS NULL"
        " ORDER BY last_verified_at IS NOT NULL, last_verified_at, stored_at"
    ).fetchall()
    items = [(r["digest"], int(r["size"])) for r in rows]
    if sample is not None and sample < len(items):
        items = random.Random(seed).sample(items, sample)
    return items


def verify_store(
    app: Avledger, *, sample: int | None = None, budget_seconds: float | None = None,
    workers: int | None = None, quarantine: bool = True, seed: int | None = None,
    on_total: Callable[[int], None] | None = None, on_progress: Callable[[int], None] | None = None,
) -> StoreVerifyReport:
    full = sample is None and budget_seconds is None
    mode = "full" if full else ("sample" if sample is not None else "budget")
    report = StoreVerifyReport(mode)
    items = _candidates(app, sample, seed)
    if on_total:
        on_total(sum(size for _, size in items))
    started = time.monotonic()
    deadline = started + budget_seconds if budget_seconds is not None else None
    results: list[VerifyResult] = []
    pool_size = workers or max(2, os.cpu_count() or 2)
    pending: set[Future[VerifyResult]] = set()
    queue = iter(items)
    with ThreadPoolExecutor(max_workers=pool_size) as pool:
        exhausted = False
        while True:
            while not exhausted and len(pending) < pool_size * 2:
                if deadline is not None and time.monotonic() >= deadline:
                    exhausted = True
                    break
                nxt = next(queue, None)
                if nxt is None:
                    exhausted = True
                    break
                pending.add(pool.submit(app.store.verify, nxt[0], nxt[1]))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                res = fut.result()
                results.append(res)
                if on_progress:
                    on_progress(res.size)
    report.not_reached = len(items) - len(results)
    report.checked = len(results)
    for res in results:
        report.bytes += res.size
        if res.status == "ok":
            report.ok += 1
        elif res.status == "missing":
            report.missing.append(res.digest)
        elif res.status == "corrupt":
            report.corrupt.append({"object": res.digest, "detail": res.detail})
        else:
            report.unreadable.append({"object": res.digest, "detail": res.detail})
    if full:
        known = {r[0] for r in app.catalog.conn.execute("SELECT digest FROM objects")}
        report.orphans = sorted(d for d in app.store.iterate() if d not in known)
    report.seconds = time.monotonic() - started
    _record(app, report, results, quarantine)
    return report


def _record(app: Avledger, report: StoreVerifyReport, results: list[VerifyResult],
            quarantine: bool) -> None:
    now = iso(utcnow())
    with app.transaction() as conn:
        conn.executemany(
            "UPDATE objects SET last_verified_at = ?, verify_status = ? WHERE digest = ?",
            [(now, r.status, r.digest) for r in results],
        )
        if quarantine:
            for bad in report.corrupt:
                where = app.store.quarantine(bad["object"], bad["detail"])
                if where:
                    conn.execute("UPDATE objects SET quarantined_at = ? WHERE digest = ?",
                                 (now, bad["object"]))
                    report.quarantined.append(bad["object"])
                    app.record(conn, "object.quarantined", f"object:{bad['object']}",
                               {"detail": bad["detail"], "moved_to": os.path.basename(where)})
        summary = report.as_dict()
        conn.execute(
            "INSERT INTO verify_runs (kind, started_at, finished_at, actor, checked, problems,"
            " summary) VALUES ('store', ?, ?, ?, ?, ?, ?)",
            (now, iso(utcnow()), app.actor.label, report.checked, report.problems,
             json.dumps(summary)),
        )
        app.record(conn, "store.verified", "store", {
            k: summary[k] for k in ("mode", "checked", "bytes", "ok", "not_reached", "problems")
        } | {"missing": report.missing[:100], "corrupt": [c["object"] for c in report.corrupt][:100],
             "orphans": report.orphans[:100]})


class ObjectVanished(StorageError):
    """Identical content was purged between storing it and cataloguing it: store it again."""


def register_object(app: Avledger, conn: Any, digest: str, size: int) -> bool:
    """Catalogue a stored object (idempotent); True when it is new to the catalog.

    Checked inside the caller's write transaction: a purge (which deletes objects under the
    same write lock) may have removed identical content between the copy and this call; then
    the caller must store the content again.
    """
    if not app.store.exists(digest):
        raise ObjectVanished(f"object {digest} is no longer in the store (purged meanwhile)",
                             hint="store the content again and retry")
    cur = conn.execute(
        "INSERT OR IGNORE INTO objects (digest, size, stored_at) VALUES (?, ?, ?)",
        (digest, size, iso(utcnow())),
    )
    return bool(cur.rowcount)
