"""Mirroring avledger's retention decisions into a store that enforces them (S3 Object Lock).

avledger decides (``retention_policy.judge``); the store enforces: each object's retain-until
is extended to the latest expiry of the clips that share it, footage kept without an end date
(a hold, an open case, unknown time) is locked ``min_retention_days`` ahead of every sweep,
and an object carries a legal hold exactly while a clip on it is under an avledger hold. A
clip's redactions (``core.redact``) are locked and held exactly as the clip itself.
Retention is only ever extended — a lock cannot be shortened, and need not be: purging early
is what it exists to prevent. For a store without locks (the local one) all of this is skipped.

Called after ingest, inside the transaction that places or releases a hold (so a failure to
set the lock leaves the hold unplaced), and by the sweep over every stored clip.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from avledger.core.app import Avledger
from avledger.core.retention.facts import Context, clip_rows
from avledger.core.retention.policy import RetentionPolicy, judge
from avledger.store import db
from avledger.store.backend import ObjectStore

LOCK_THREADS = 8  # objects whose locks are brought in line at once


@dataclass
class LockSync:
    objects: int = 0
    retention_extended: int = 0
    holds_set: int = 0
    holds_cleared: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"objects": self.objects, "retention_extended": self.retention_extended,
                "legal_holds_set": self.holds_set, "legal_holds_cleared": self.holds_cleared}


def _horizon(app: Avledger) -> timedelta:
    return timedelta(days=int(app.config.get("store.s3.min_retention_days")))


def sync_clips(app: Avledger, clip_ids: Iterable[int], now: datetime) -> LockSync:
    """Bring the store's locks on these clips' objects in line with avledger's decision."""
    return apply_locks(app.store, wanted_locks(app, clip_ids, now))


def wanted_locks(app: Avledger, clip_ids: Iterable[int], now: datetime) -> list[Wanted]:
    """What each object of these clips should carry (read from the catalog, on the
    catalog's thread); ``apply_locks`` then sets it, on any thread."""
    if not app.store.locks:
        return []
    conn = app.catalog.conn
    digests: set[str] = set()
    wanted_ids = sorted(set(clip_ids))
    for ids in db.chunks(wanted_ids):
        marks = ",".join("?" * len(ids))
        digests |= {r[0] for r in conn.execute(
            f"SELECT DISTINCT digest FROM clips WHERE id IN ({marks})", ids)}
    for ids in db.chunks(wanted_ids):  # a redaction is kept as its original
        marks = ",".join("?" * len(ids))
        digests |= {r[0] for r in conn.execute(
            f"SELECT digest FROM redactions WHERE status = 'stored' AND clip_id IN ({marks})",
            ids)}
    wanted: list[Wanted] = []
    for chunk in db.chunks(sorted(digests)):
        marks = ",".join("?" * len(chunk))
        sharing: dict[str, list[int]] = {}
        for clip_id, digest in conn.execute(
                f"SELECT id, digest FROM clips WHERE status != 'purged' AND digest IN ({marks})"
                f" UNION SELECT clip_id, digest FROM redactions WHERE status = 'stored'"
                f" AND digest IN ({marks})", chunk + chunk):
            sharing.setdefault(digest, []).append(int(clip_id))
        wanted += _wanted(app, sharing, now)
    return wanted


def sync_all(app: Avledger, now: datetime) -> LockSync:
    """Every stored object (the daily sweep): catches up on clips that came under a hold
    through a later case link or ingest, and rolls the horizon of open-ended keeping."""
    if not app.store.locks:
        return LockSync()
    ids = [int(r[0]) for r in app.catalog.conn.execute(
        "SELECT id FROM clips WHERE status != 'purged'")]
    return sync_clips(app, ids, now)


@dataclass(frozen=True)
class Wanted:
    """The lock one object should carry: retained until ``until``, held or not."""

    digest: str
    until: datetime
    held: bool


def _wanted(app: Avledger, sharing: dict[str, list[int]], now: datetime) -> list[Wanted]:
    conn = app.catalog.conn
    policy = RetentionPolicy.from_config(app.config)
    ids = [i for clips in sharing.values() for i in clips]
    rows = clip_rows(conn, Context.read(conn, ids), ids)
    floor = now + _horizon(app)
    wanted: list[Wanted] = []
    for digest, clips in sorted(sharing.items()):
        until = floor
        held = False
        for clip_id in clips:
            row = rows[clip_id]
            held = held or row.facts.held
            verdict = judge(row.facts, policy)
            if verdict.expires_at is not None and verdict.expires_at > until:
                until = verdict.expires_at
        wanted.append(Wanted(digest, until, held))
    return wanted


def apply_locks(store: ObjectStore, wanted: list[Wanted]) -> LockSync:
    """Set the wanted locks; a few round trips per object, each waiting on the store, so
    several objects at once."""
    result = LockSync()
    if not wanted:
        return result
    with ThreadPoolExecutor(max_workers=min(LOCK_THREADS, len(wanted)),
                            thread_name_prefix="avledger-lock") as pool:
        changes = list(pool.map(lambda w: store.apply_lock(w.digest, w.until, w.held), wanted))
    for want, (extended, hold_changed) in zip(wanted, changes, strict=True):
        result.objects += 1
        result.retention_extended += extended
        if hold_changed:
            if want.held:
                result.holds_set += 1
            else:
                result.holds_cleared += 1
    return result
