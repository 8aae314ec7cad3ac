"""The retention sweep (rule B, Art. 15), manual purge, and restoring pending clips.

``plan_sweep`` is read-only: which stored clips have expired (→ pending purge), which pending
clips waited out ``pending_days`` (→ purge), which pending clips are no longer expired (a hold,
a case, a restore: → back to stored), and why everything else is kept. ``apply_sweep`` carries
the plan out in short write transactions that judge every clip again inside the transaction,
so a hold placed or a clip ingested meanwhile is respected; running it twice changes nothing
the second time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from avledger.config.loader import Config
from avledger.core import identity
from avledger.core.app import Avledger
from avledger.core.caseref import cases_for_clip
from avledger.core.clipref import fetch_clips, unique_ids
from avledger.core.retention import store_locks
from avledger.core.retention.facts import (
    ClipRow,
    Context,
    clip_rows,
    count_not_due,
    count_unknown_time,
    expiry_candidates,
)
from avledger.core.retention.holds import holds_for_clip
from avledger.core.retention.pending import mark_pending, return_to_stored
from avledger.core.retention.policy import (
    CLASSIFIED_ATTRIBUTIONS,
    RetentionPolicy,
    Verdict,
    judge,
)
from avledger.core.retention.purge import PurgeOutcome, purge_clip, purge_transaction
from avledger.errors import RefusedError, StoreRefusedError
from avledger.i18n import _
from avledger.timestamps import iso, parse_iso

BATCH = 200
SWEEP_ROLES = ("records_manager",)


@dataclass(slots=True)
class PlanItem:
    clip_id: int
    size: int
    recorded_at: str | None
    expires: str | None  # None with basis 'default': recorded + default_days, worked out late
    basis: str
    pending_since: str | None = None
    purge_due: str | None = None
    default_days: int = 0

    @property
    def expires_at(self) -> str | None:
        if self.expires is None and self.basis == "default" and self.recorded_at:
            return iso(parse_iso(self.recorded_at) + timedelta(days=self.default_days))
        return self.expires

    def as_dict(self) -> dict[str, Any]:
        out = {"clip_id": self.clip_id, "size": self.size, "recorded_at": self.recorded_at,
               "expires_at": self.expires_at, "basis": self.basis,
               "pending_since": self.pending_since, "purge_due": self.purge_due}
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class SweepPlan:
    now: str
    to_pending: list[PlanItem] = field(default_factory=list)
    to_purge: list[PlanItem] = field(default_factory=list)
    to_restore: list[PlanItem] = field(default_factory=list)
    waiting: list[PlanItem] = field(default_factory=list)  # pending, period not over yet
    kept: Counter[str] = field(default_factory=Counter)  # expired by age, kept: why

    def totals(self) -> dict[str, Any]:
        return {
            "to_pending": len(self.to_pending),
            "to_pending_bytes": sum(i.size for i in self.to_pending),
            "to_purge": len(self.to_purge),
            "to_purge_bytes": sum(i.size for i in self.to_purge),
            "to_restore": len(self.to_restore), "waiting": len(self.waiting),
            "kept": dict(sorted(self.kept.items())),
        }

    def as_dict(self) -> dict[str, Any]:
        return {"now": self.now, "totals": self.totals(),
                "to_pending": [i.as_dict() for i in self.to_pending],
                "to_purge": [i.as_dict() for i in self.to_purge],
                "to_restore": [i.as_dict() for i in self.to_restore],
                "waiting": [i.as_dict() for i in self.waiting]}


def _item(row: ClipRow, verdict: Verdict, pending_since: str | None = None,
          purge_due: str | None = None) -> PlanItem:
    return PlanItem(row.facts.clip_id, row.size, row.recorded,
                    iso(verdict.expires_at) if verdict.expires_at else None, verdict.basis,
                    pending_since, purge_due)


def plan_sweep(app: Avledger, now: datetime, policy: RetentionPolicy | None = None) -> SweepPlan:
    """What a sweep at ``now`` would do; changes nothing."""
    app.actor.require(action=_("see the retention plan"))
    policy = policy or RetentionPolicy.from_config(app.config)
    conn = app.catalog.conn
    plan = SweepPlan(iso(now))
    ctx = Context.read(conn)
    special = ctx.special()
    keep_unclassified = policy.keep_unclassified
    classified = CLASSIFIED_ATTRIBUTIONS
    to_judge: list[int] = []
    pending = plan.to_pending
    unknown_candidates = 0
    # Most clips are plain: no hold, case or restore. Such a clip, recorded before the cutoff,
    # has expired (judge() would say 'default'), unless it is unclassified and kept as such.
    for clip_id, start, attribution, size in expiry_candidates(conn, policy, now):
        if clip_id in special or start is None:
            to_judge.append(clip_id)
            unknown_candidates += start is None
        elif keep_unclassified and attribution not in classified:
            plan.kept["unclassified"] += 1
        else:
            pending.append(PlanItem(clip_id, size, start, None, "default",
                                    default_days=policy.default_days))
    for row in clip_rows(conn, ctx, to_judge).values():
        verdict = judge(row.facts, policy)
        if verdict.expired(now):
            pending.append(_item(row, verdict))
        else:
            plan.kept[verdict.keep_reason(now) or "?"] += 1
    unknown = count_unknown_time(conn)
    if policy.unknown_time == "keep":
        plan.kept["unknown-time"] += unknown
    not_due = count_not_due(conn, policy, now)
    if policy.unknown_time == "ingested":
        not_due += unknown - unknown_candidates
    plan.kept["not-due"] += not_due
    waiting = conn.execute("SELECT clip_id, since FROM retention_pending").fetchall()
    rows = clip_rows(conn, ctx, [p[0] for p in waiting])
    for clip_id, since in waiting:
        waiter = rows.get(clip_id)
        if waiter is None or waiter.status != "pending_purge":
            continue
        verdict = judge(waiter.facts, policy)
        due = parse_iso(since) + policy.pending
        item = _item(waiter, verdict, since, iso(due))
        if not verdict.expired(now):
            plan.to_restore.append(item)
        elif due <= now:
            plan.to_purge.append(item)
        else:
            plan.waiting.append(item)
    by_id = attrgetter("clip_id")
    for items in (plan.to_pending, plan.to_purge, plan.to_restore, plan.waiting):
        items.sort(key=by_id)
    return plan


@dataclass
class SweepResult:
    now: str
    pending: list[int] = field(default_factory=list)
    purged: list[PurgeOutcome] = field(default_factory=list)
    restored: list[int] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # changed since the plan
    locks: dict[str, int] | None = None  # what the store's own locks were brought up to

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now, "pending": self.pending, "restored": self.restored,
            "purged": [p.as_dict() for p in self.purged],
            "content_deleted": sum(p.content_deleted for p in self.purged),
            "bytes_freed": sum(p.size for p in self.purged if p.content_deleted),
            "skipped": self.skipped,
        } | ({"store_locks": self.locks} if self.locks is not None else {})


def is_service_process(config: Config) -> bool:
    """True when run by the timer (the service account started by systemd) or by root, not
    by a person: then the sweep acts as ``system``. In development it is always a person."""
    return not config.layout.development and identity.is_dock_process(config)


def apply_sweep(app: Avledger, now: datetime, policy: RetentionPolicy | None = None, *,
                plan: SweepPlan | None = None,
                progress: Callable[[int], None] | None = None) -> SweepResult:
    """Carry out a plan, judging every clip again inside its write transaction."""
    app.actor.require(*SWEEP_ROLES, action=_("apply the retention sweep"))
    policy = policy or RetentionPolicy.from_config(app.config)
    plan = plan or plan_sweep(app, now, policy)
    result = SweepResult(iso(now))
    tick = progress or (lambda n: None)

    def batches(items: list[PlanItem]) -> list[list[int]]:
        ids = [i.clip_id for i in items]
        return [ids[n:n + BATCH] for n in range(0, len(ids), BATCH)]

    for batch in batches(plan.to_restore):
        with app.transaction() as conn:
            rows = clip_rows(conn, Context.read(conn, batch), batch)
            for clip_id in batch:
                verdict = judge(rows[clip_id].facts, policy)
                if verdict.expired(now):
                    result.skipped.append({"clip": clip_id, "why": "expired again"})
                elif return_to_stored(app, conn, clip_id, why=f"no longer expired: "
                                      f"{verdict.keep_reason(now)}"):
                    result.restored.append(clip_id)
        tick(len(batch))
    for batch in batches(plan.to_pending):
        with app.transaction() as conn:
            rows = clip_rows(conn, Context.read(conn, batch), batch)
            for clip_id in batch:
                row = rows[clip_id]
                verdict = judge(row.facts, policy)
                if row.status != "stored" or not verdict.expired(now):
                    result.skipped.append({"clip": clip_id, "why": row.status if row.status
                                           != "stored" else verdict.keep_reason(now)})
                    continue
                assert verdict.expires_at is not None
                if mark_pending(app, conn, clip_id, now=now, expired_at=iso(verdict.expires_at),
                                basis=verdict.basis, pending_days=policy.pending_days):
                    result.pending.append(clip_id)
        tick(len(batch))
    for item in plan.to_purge:
        try:
            with purge_transaction(app) as conn:
                why = _purge_blocker(conn, item.clip_id, policy, now)
                if why:
                    result.skipped.append({"clip": item.clip_id, "why": why})
                else:
                    outcome = purge_clip(app, conn, item.clip_id, now=now, how="sweep",
                                         reason=f"retention expired ({item.basis})")
                    if outcome:
                        result.purged.append(outcome)
        except StoreRefusedError as exc:  # the store's lock outlasts ours: stays pending
            result.skipped.append({"clip": item.clip_id, "why": exc.english})
        tick(1)
    if app.store.locks:
        result.locks = store_locks.sync_all(app, now).as_dict()
    with app.transaction() as conn:
        app.record(conn, "retention.swept", "retention", {
            "as_of": iso(now), "pending": len(result.pending), "purged": len(result.purged),
            "content_deleted": sum(p.content_deleted for p in result.purged),
            "restored": len(result.restored), "skipped": len(result.skipped),
            "kept": dict(sorted(plan.kept.items()))})
    return result


def _purge_blocker(conn: Any, clip_id: int, policy: RetentionPolicy, now: datetime) -> str | None:
    """Inside the purge transaction: why this pending clip may not be purged now, if at all."""
    pending = conn.execute("SELECT since FROM retention_pending WHERE clip_id = ?",
                           (clip_id,)).fetchone()
    row = clip_rows(conn, Context.read(conn, [clip_id]), [clip_id]).get(clip_id)
    if row is None or row.status != "pending_purge" or pending is None:
        return f"no longer pending ({row.status if row else 'gone'})"
    if parse_iso(pending[0]) + policy.pending > now:
        return "pending period not over"
    verdict = judge(row.facts, policy)
    if not verdict.expired(now):
        return f"kept: {verdict.keep_reason(now)}"
    return None


# ---- the records manager's own decisions ----------------------------------------------------


def restore_clips(app: Avledger, clip_ids: list[int], *, note: str, now: datetime,
                  keep_days: int | None = None) -> dict[str, Any]:
    """Take pending clips back to stored and keep them at least ``keep_days`` more."""
    app.actor.require("records_manager", action=_("restore clips from pending purge"))
    if not note.strip():
        raise RefusedError(_("a restore needs a note saying why the footage is kept"))
    policy = RetentionPolicy.from_config(app.config)
    until = now + timedelta(days=keep_days or policy.restore_days)
    ids = unique_ids(clip_ids)
    with app.transaction() as conn:
        rows = fetch_clips(conn, ids)
        not_pending = [f"{i} ({r['status']})" for i, r in rows.items()
                       if r["status"] != "pending_purge"]
        if not_pending:
            raise RefusedError(_("only clips pending purge can be restored; not pending: "
                                 "{not_pending}").format(not_pending=', '.join(not_pending)))
        for clip_id in ids:
            conn.execute("INSERT INTO retention_keep (clip_id, until, note, kept_at,"
                         " kept_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (clip_id) DO UPDATE SET"
                         " until = excluded.until, note = excluded.note,"
                         " kept_at = excluded.kept_at, kept_by = excluded.kept_by",
                         (clip_id, iso(until), note, iso(now), app.actor.label))
            return_to_stored(app, conn, clip_id, why="restored",
                             details={"note": note, "kept_until": iso(until)})
    return {"restored": ids, "kept_until": iso(until)}


def purge_clips(app: Avledger, clip_ids: list[int], *, reason: str, now: datetime,
                dry_run: bool = False) -> dict[str, Any]:
    """The records manager's manual purge: refused for any clip still to be kept.

    Unknown-time and unclassified clips (which the sweep never touches) may be purged here once
    12 months have passed (counted from ingest when the recording time is unknown). Nothing is
    purged unless every named clip may be.
    """
    app.actor.require("records_manager", action=_("purge footage"))
    if not reason.strip():
        raise RefusedError(_("a purge needs a reason"))
    policy = RetentionPolicy.from_config(app.config).for_manual_purge()
    ids = unique_ids(clip_ids)
    conn = app.catalog.conn
    fetch_clips(conn, ids)
    refused = _manual_refusals(conn, ids, policy, now)
    if refused:
        raise RefusedError(_("not purged (nothing was): {reasons}").format(
                               reasons=_("; ").join(refused[:10])
                               + (" …" if len(refused) > 10 else "")),
                           hint=_("release holds or wait until retention runs out"))
    already = [i for i, r in fetch_clips(conn, ids).items() if r["status"] == "purged"]
    todo = [i for i in ids if i not in already]
    outcomes: list[PurgeOutcome] = []
    if not dry_run:
        for clip_id in todo:
            try:
                with purge_transaction(app) as tx:
                    late = _manual_refusals(tx, [clip_id], policy, now)
                    if late:
                        raise RefusedError(_("stopped: {late} (changed meanwhile); {count} "
                                             "clip(s) were purged before it").format(
                                               late=late[0], count=len(outcomes)))
                    outcome = purge_clip(app, tx, clip_id, now=now, reason=reason,
                                         how="manual")
                    if outcome:
                        outcomes.append(outcome)
            except StoreRefusedError as exc:  # rolled back: clip {clip_id} is unchanged
                done = (_("{count} clip(s) were purged before it").format(count=len(outcomes))
                        if outcomes else _("nothing was purged"))
                raise StoreRefusedError(_("clip {clip_id}: {message}; {done}").format(
                                            clip_id=clip_id, message=exc.message, done=done),
                                        hint=_("the store's Object Lock outlasts avledger's "
                                               "retention; purge after it runs out")) from exc
    return {"dry_run": dry_run, "would_purge" if dry_run else "purged":
            todo if dry_run else [o.as_dict() for o in outcomes], "already_purged": already}


def _manual_refusals(conn: Any, ids: list[int], policy: RetentionPolicy,
                     now: datetime) -> list[str]:
    rows = clip_rows(conn, Context.read(conn, ids), ids)
    refused = []
    for clip_id in ids:
        row = rows[clip_id]
        if row.status == "purged":
            continue
        verdict = judge(row.facts, policy)
        if verdict.expires_at is None:
            refused.append(_("clip {clip_id} is kept ({basis})").format(
                clip_id=clip_id, basis=verdict.basis))
        elif not verdict.expired(now):
            refused.append(_("clip {clip_id} is kept until {date} ({basis})").format(
                clip_id=clip_id, date=iso(verdict.expires_at)[:10], basis=verdict.basis))
    return refused


def explain(app: Avledger, clip_id: int, now: datetime) -> dict[str, Any]:
    """Why a clip is kept or when it expires (for 'retention show')."""
    conn = app.catalog.conn
    fetch_clips(conn, [clip_id])
    policy = RetentionPolicy.from_config(app.config)
    row = clip_rows(conn, Context.read(conn, [clip_id]), [clip_id])[clip_id]
    verdict = judge(row.facts, policy)
    pending = conn.execute("SELECT since, expired_at, basis FROM retention_pending"
                           " WHERE clip_id = ?", (clip_id,)).fetchone()
    tomb = conn.execute("SELECT purged_at, purged_by, reason, how, content_deleted FROM"
                        " tombstones WHERE clip_id = ?", (clip_id,)).fetchone()
    return {
        "clip": clip_id, "status": row.status, "recorded_at": row.recorded,
        "expires_at": iso(verdict.expires_at) if verdict.expires_at else None,
        "basis": verdict.basis, "expired": verdict.expired(now),
        "kept_because": verdict.keep_reason(now),
        "pending": dict(pending) if pending else None,
        "purge_due": iso(parse_iso(pending["since"]) + policy.pending) if pending else None,
        "tombstone": dict(tomb) if tomb else None,
        "holds": holds_for_clip(conn, clip_id), "cases": cases_for_clip(conn, clip_id),
    }
