"""Store verification (scrub): re-hash objects, find missing, corrupt and orphan objects.

A full run checks every catalogued object and lists orphans; a scheduled scrub can take a
random sample or run within a time budget, oldest-verified first. Corrupt objects are moved
to quarantine (never repaired in place) and every run is a ledger event. A quarantined object
stays a problem of every later run until ``store restore`` (``restore.py``) brings its bytes
back from another copy.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from avledger.core.app import Avledger
from avledger.core.custody.copies import SecondCheck, verify_second
from avledger.errors import NotFoundError, StorageError
from avledger.i18n import _
from avledger.store import db
from avledger.store.backend import VerifyResult
from avledger.timestamps import iso, utcnow

ORPHAN_GRACE_SECONDS = 600


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
    strays: list[str] = field(default_factory=list)  # files under objects/ that are no object
    quarantined: list[str] = field(default_factory=list)
    not_reached: int = 0
    recent_unclaimed: int = 0  # objects just written whose catalog row is not committed yet
    quarantined_earlier: int = 0  # catalogued objects quarantined earlier, not yet restored
    temp_swept: int = 0  # stale temp files of crashed writers removed
    seconds: float = 0.0
    second: SecondCheck | None = None  # the second copies (store.copies: 2)
    mended: list[str] = field(default_factory=list)  # found bad, restored from the second copy

    @property
    def problems(self) -> int:
        return (len(self.missing) + len(self.corrupt) + len(self.unreadable)
                + len(self.orphans) + len(self.strays) + self.quarantined_earlier
                + (self.second.problems if self.second else 0) - len(self.mended))

    def breakdown(self) -> str:
        """``2 corrupt, 1 missing`` — the kinds of problem found, for a one-line summary."""
        counts = [(len(self.corrupt), "corrupt"), (len(self.missing), "missing"),
                  (len(self.unreadable), "unreadable"), (len(self.orphans), "orphan"),
                  (len(self.strays), "stray"),
                  (self.quarantined_earlier, "quarantined earlier and not restored")]
        return ", ".join(f"{n} {kind}" for n, kind in counts if n)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "checked": self.checked, "bytes": self.bytes, "ok": self.ok,
            "missing": self.missing, "corrupt": self.corrupt, "unreadable": self.unreadable,
            "orphans": self.orphans, "strays": self.strays, "quarantined": self.quarantined,
            "not_reached": self.not_reached, "recent_unclaimed": self.recent_unclaimed,
            "quarantined_earlier": self.quarantined_earlier, "temp_swept": self.temp_swept,
            "seconds": round(self.seconds, 3),
            "problems": self.problems,
            "second": self.second.as_dict() if self.second else None,
            "mended": self.mended,
        }


def _candidates(app: Avledger, sample: int | None, seed: int | None) -> list[tuple[str, int]]:
    rows = app.catalog.conn.execute(
        "SELECT digest, size FROM objects WHERE quarantined_at IS NULL"
        " ORDER BY last_verified_at IS NOT NULL, last_verified_at, stored_at"
    ).fetchall()
    items = [(r["digest"], int(r["size"])) for r in rows]
    if sample is not None and sample < len(items):
        import random  # a sampled verification only

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
    # Several objects at once, one core each, beats one object at a time on all cores
    # (measured in bench/store_bench.py); a lone object gets every core.
    threads = 1 if len(items) > 1 else 0
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
                pending.add(pool.submit(app.store.verify, nxt[0], nxt[1], threads=threads))
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
        _find_orphans(app, report)
        report.strays = app.store.strays()
        report.temp_swept = app.store.sweep_temp()
    earlier = {r[0] for r in app.catalog.conn.execute(
        "SELECT digest FROM objects WHERE quarantined_at IS NOT NULL")}
    report.quarantined_earlier = len(earlier)
    _record(app, report, results, quarantine)
    sizes = dict(items)
    report.second = verify_second(app, [(r.digest, sizes[r.digest]) for r in results],
                                  workers=pool_size)
    if report.second is not None:  # bad first copies put right from the second one
        found = (earlier | set(report.missing) | {c["object"] for c in report.corrupt}
                 | {c["object"] for c in report.unreadable})
        report.mended = [d for d in report.second.restored_first if d in found]
    report.seconds = time.monotonic() - started
    return report


def _find_orphans(app: Avledger, report: StoreVerifyReport) -> None:
    """Objects on disk that the catalog does not know. One written moments ago may belong
    to an ingest whose catalog transaction has not committed yet: it is counted, not
    reported, until it is ORPHAN_GRACE_SECONDS old."""
    known = {r[0] for r in app.catalog.conn.execute("SELECT digest FROM objects")}
    cutoff = time.time() - ORPHAN_GRACE_SECONDS
    for digest in app.store.iterate():
        if digest in known:
            continue
        try:
            young = app.store.stat(digest).mtime > cutoff
        except NotFoundError:  # quarantined or purged meanwhile
            continue
        if young:
            report.recent_unclaimed += 1
        else:
            report.orphans.append(digest)
    report.orphans.sort()


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
        } | {"missing": report.missing[:100],
             "corrupt": [c["object"] for c in report.corrupt][:100],
             "orphans": report.orphans[:100], "strays": report.strays[:100]})


class ObjectVanished(StorageError):
    """Identical content was purged between storing it and cataloguing it: store it again."""


def register_object(app: Avledger, conn: Any, digest: str, size: int) -> bool:
    """Catalogue a stored object (idempotent); True when the catalog had no usable copy.

    Checked inside the caller's write transaction: a purge (which deletes objects under the
    same write lock) may have removed identical content between the copy and this call; then
    the caller must store the content again. Storing content whose earlier copy was
    quarantined puts it back in service: the new copy was hashed while it was written.
    """
    return bool(register_objects(app, conn, [(digest, size)]))


OBJECTS_PER_INSERT = 200


def register_objects(app: Avledger, conn: Any, objects: Sequence[tuple[str, int]]) -> int:
    """``register_object`` for a group of (digest, size), in a few statements; how many
    rows changed. ObjectVanished when any of them is no longer in the store."""
    for digest, _size in objects:
        if not app.store.exists(digest):
            raise ObjectVanished(_("object {digest} is no longer in "
                                   "the store (purged meanwhile)").format(
                                     digest=digest),
                                 hint=_("store the content again and retry"))
    now = iso(utcnow())
    # one row per digest: a group may store the same content twice
    rows = [(digest, size, now) for digest, size in dict(objects).items()]
    changed = 0
    for values, params in db.value_lists(rows, OBJECTS_PER_INSERT):
        cur = conn.execute(
            "INSERT INTO objects (digest, size, stored_at) VALUES " + values +
            " ON CONFLICT (digest) DO UPDATE SET stored_at = excluded.stored_at,"
            " quarantined_at = NULL, verify_status = NULL, last_verified_at = NULL"
            " WHERE objects.quarantined_at IS NOT NULL", params)
        changed += max(cur.rowcount, 0)
    return changed
