"""A year of footage swept weekly on simulated dates.

The expected outcome of every sweep is computed here from the generator's ground truth and
this test's own record of cases and holds — not from the catalog and not with the code under
test — and compared with the plan and with the catalog after the sweep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.cases import registry as cases
from avledger.core.custody.integrity import verify_store
from avledger.core.retention import held, holds
from avledger.core.retention import sweep as retention
from avledger.store import ledger as ledger_store
from tests.factories import Footage, GenClip, generate_year

START = datetime(2024, 1, 1, tzinfo=UTC)
DEFAULT = timedelta(days=365)
PENDING = timedelta(days=7)
CASE_DAYS = {"inspection": 30, "penalty": 400, "compulsion": 400, "licensing": 300}


def at(y: int, m: int, d: int, h: int = 9) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def configure(home: Path, **retention_settings: object) -> Avledger:
    path = home / "avledger.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["retention"] = retention_settings
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return Avledger.open(loader.load())


@dataclass
class Model:
    """What should be true, kept by this test alone."""

    footage: Footage
    case_clips: dict[str, set[int]] = field(default_factory=dict)
    case_type: dict[str, str] = field(default_factory=dict)
    case_closed: dict[str, datetime] = field(default_factory=dict)
    holds: list[tuple[set[int], datetime, datetime | None]] = field(default_factory=list)
    kept_until: dict[int, datetime] = field(default_factory=dict)
    status: dict[int, str] = field(default_factory=dict)
    since: dict[int, datetime] = field(default_factory=dict)
    pending_moves: int = 0

    def held(self, clip: int, when: datetime) -> bool:
        return any(clip in ids and placed <= when and (released is None or released > when)
                   for ids, placed, released in self.holds)

    def expiry(self, c: GenClip, when: datetime) -> datetime | None:
        if self.held(c.id, when) or c.recorded is None or c.attribution != "checkout":
            return None
        expiry = c.recorded + DEFAULT
        for number, members in self.case_clips.items():
            if c.id in members:
                closed = self.case_closed.get(number)
                if closed is None or closed > when:
                    return None
                expiry = max(expiry, closed + timedelta(days=CASE_DAYS[self.case_type[number]]))
        if c.id in self.kept_until:
            expiry = max(expiry, self.kept_until[c.id])
        return expiry

    def expired(self, c: GenClip, when: datetime) -> bool:
        e = self.expiry(c, when)
        return e is not None and e <= when

    def expected(self, when: datetime) -> tuple[set[int], set[int], set[int]]:
        to_pending, to_purge, to_restore = set(), set(), set()
        for c in self.footage.clips.values():
            state = self.status[c.id]
            if state == "stored" and self.expired(c, when):
                to_pending.add(c.id)
            elif state == "pending_purge":
                if not self.expired(c, when):
                    to_restore.add(c.id)
                elif self.since[c.id] + PENDING <= when:
                    to_purge.add(c.id)
        return to_pending, to_purge, to_restore


def pick(rng: random.Random, clips: list[GenClip], n: int, taken: set[int]) -> set[int]:
    free = [c.id for c in clips if c.id not in taken]
    chosen = set(rng.sample(free, n))
    taken |= chosen
    return chosen


def test_a_year_of_footage_swept_weekly(home: Path) -> None:
    app = configure(home, default_days=365, pending_days=7, case_days=CASE_DAYS)
    try:
        run_year(app)
    finally:
        app.close()


def run_year(app: Avledger) -> None:
    footage = generate_year(app, start=START, days=365, per_day=8, seed=11)
    assert len(footage.clips) > 2500
    model = Model(footage, status={c: "stored" for c in footage.clips})
    rng = random.Random(5)
    normal = [c for c in footage.clips.values()
              if c.recorded is not None and c.attribution == "checkout"]
    in_month = lambda *months: [c for c in normal if c.recorded and c.recorded.month in months]  # noqa: E731
    shared_ids = {i for pair in footage.shared_pairs for i in pair}
    taken: set[int] = set(shared_ids)

    # Cases: opened and closed on simulated dates, footage linked.
    plan_cases = [("INS-1", "inspection", (2,), 30, at(2024, 4, 1)),
                  ("PEN-1", "penalty", (1, 2, 3), 30, at(2025, 1, 10)),
                  ("COM-1", "compulsion", (1,), 20, None),
                  ("LIC-1", "licensing", (1,), 25, at(2024, 6, 1))]
    for number, etype, months, n, closed in plan_cases:
        cases.add_case(app, number=number, name=f"{etype} case", enforcement_type=etype,
                       handlers=["0001"], confidentiality="none", now=at(2024, 1, 20))
        members = pick(rng, in_month(*months), n, taken)
        cases.link_clips(app, number, sorted(members), now=at(2024, 2, 29))
        model.case_clips[number], model.case_type[number] = members, etype
        if closed is not None:
            cases.close_case(app, number, note="done", now=closed)
            model.case_closed[number] = closed

    def hold(target: holds.HoldTarget, ids: set[int], when: datetime, reason: str) -> int:
        h = holds.place_hold(app, target, reason=reason, note="test", now=when)
        assert set(held.clips_under_hold(app.catalog.conn, h["id"])) == ids
        model.holds.append((ids, when, None))
        return int(h["id"])

    h1 = pick(rng, in_month(1, 2, 3, 4), 15, taken)
    hold(holds.HoldTarget(clips=tuple(sorted(h1))), h1, at(2024, 5, 1), "complaint")
    hold(holds.HoldTarget(case="INS-1"), model.case_clips["INS-1"], at(2024, 6, 1),
         "major-sensitive")
    lo, hi = at(2024, 3, 10, 0), at(2024, 3, 12, 23)
    on_device = {c.id for c in footage.clips.values() if c.device == "TC0002" and c.recorded
                 and c.recorded <= hi and c.end and c.end >= lo}
    assert on_device
    hold(holds.HoldTarget(device="TC0002", start=lo, end=hi), on_device, at(2024, 6, 2),
         "obstruction")
    h4 = pick(rng, in_month(1), 10, taken)
    h4_id = hold(holds.HoldTarget(clips=tuple(sorted(h4))), h4, at(2024, 7, 1), "other")
    # A clip that shares its object with an older clip, held: the older one is purged, the
    # bytes must stay.
    original, copy = next((o, c) for o, c in footage.shared_pairs
                          if footage.clips[o].recorded and footage.clips[c].recorded
                          and footage.clips[o].attribution == "checkout"
                          and footage.clips[c].recorded - footage.clips[o].recorded  # type: ignore[operator]
                          > timedelta(days=21))
    hold(holds.HoldTarget(clips=(copy,)), {copy}, at(2024, 8, 1), "litigation")

    sweeps = [at(2025, 1, 1) + timedelta(days=7 * k) for k in range(18)]
    sweeps += [at(2026, 1, 8), at(2026, 1, 15), at(2026, 1, 15, 10)]
    purged_history: dict[int, datetime] = {}
    for when in sweeps:
        if when == at(2025, 1, 8):  # released before this sweep: its clips now expire
            holds.release_hold(app, h4_id, note="complaint withdrawn", now=at(2025, 1, 5))
            ids, placed, _ = model.holds[3]
            model.holds[3] = (ids, placed, at(2025, 1, 5))
        if when == at(2025, 2, 5):  # a new hold returns pending clips to stored at once
            pending_now = sorted(c for c, s in model.status.items() if s == "pending_purge")
            grab = set(pending_now[:3])
            placed = holds.place_hold(app, holds.HoldTarget(clips=tuple(sorted(grab))),
                                      reason="complaint", note="late complaint",
                                      now=at(2025, 2, 4))
            assert set(placed["returned_from_pending"]) == grab
            model.holds.append((grab, at(2025, 2, 4), None))
            for c in grab:
                model.status[c] = "stored"
        if when == at(2025, 2, 12):  # the records manager restores two pending clips
            pending_now = sorted(c for c, s in model.status.items() if s == "pending_purge")
            back = pending_now[-2:]
            retention.restore_clips(app, back, note="needed for training", now=at(2025, 2, 11),
                                    keep_days=30)
            for c in back:
                model.status[c] = "stored"
                model.kept_until[c] = at(2025, 2, 11) + timedelta(days=30)

        exp_pending, exp_purge, exp_restore = model.expected(when)
        plan = retention.plan_sweep(app, when)
        assert {i.clip_id for i in plan.to_pending} == exp_pending, when
        assert {i.clip_id for i in plan.to_purge} == exp_purge, when
        assert {i.clip_id for i in plan.to_restore} == exp_restore, when
        result = retention.apply_sweep(app, when, plan=plan)
        assert set(result.pending) == exp_pending and not result.skipped
        assert {p.clip_id for p in result.purged} == exp_purge
        for c in exp_pending:
            model.status[c], model.since[c] = "pending_purge", when
            model.pending_moves += 1
        for c in exp_purge:
            model.status[c] = "purged"
            purged_history[c] = when
        for c in exp_restore:
            model.status[c] = "stored"
        actual = dict(app.catalog.conn.execute("SELECT id, status FROM clips").fetchall())
        assert actual == model.status, when
        # Idempotent: the same sweep again finds nothing to do.
        again = retention.plan_sweep(app, when)
        assert not again.to_pending and not again.to_purge and not again.to_restore

    conn = app.catalog.conn
    status = model.status
    purged = {c for c, s in status.items() if s == "purged"}
    assert len(purged) > 2000
    # Survivors: every hold, every open case, penalty case still within its retention,
    # unknown time and unclassified footage.
    for ids, _, released in model.holds:
        if released is None:
            assert all(status[c] == "stored" for c in ids)
    assert all(status[c] == "stored" for c in model.case_clips["COM-1"])
    assert all(status[c] == "stored" for c in model.case_clips["PEN-1"])
    assert all(status[c] == "purged" for c in h4)  # released hold: normal rules again
    # Licensing case: kept 300 days after closing (2025-03-28), not 12 months from recording.
    lic_purge = {purged_history[c] for c in model.case_clips["LIC-1"]}
    assert min(lic_purge) >= at(2025, 3, 28) + PENDING
    assert all(status[c.id] == "stored" for c in footage.clips.values()
               if c.recorded is None or c.attribution != "checkout")
    assert any(footage.clips[c].late for c in purged)

    # Every move is in the ledger: one event per pending move, per purge, per restore.
    def count(kind: str) -> int:
        return int(conn.execute("SELECT COUNT(*) FROM ledger WHERE type = ?",
                                (kind,)).fetchone()[0])
    assert count("clip.pending_purge") == model.pending_moves
    assert count("clip.purged") == len(purged)
    assert count("retention.swept") == len(sweeps)
    subjects = {r[0] for r in conn.execute("SELECT subject FROM ledger WHERE type = "
                                           "'clip.purged'")}
    assert subjects == {f"clip:{c}" for c in purged}
    assert conn.execute("SELECT COUNT(*) FROM tombstones").fetchone()[0] == len(purged)

    # Shared objects: the original was purged, the held copy keeps the bytes.
    assert status[original] == "purged" and status[copy] == "stored"
    digest = footage.clips[copy].digest
    assert app.store.exists(digest)
    tomb = conn.execute("SELECT content_deleted FROM tombstones WHERE clip_id = ?",
                        (original,)).fetchone()
    assert tomb[0] == 0
    by_digest: dict[str, set[str]] = {}
    for c in footage.clips.values():
        by_digest.setdefault(c.digest, set()).add(status[c.id])
    shared_digests = {footage.clips[o].digest for o, _ in footage.shared_pairs}
    for d in shared_digests:  # the bytes go with the last clip that used them, not before
        assert app.store.exists(d) == (by_digest[d] != {"purged"})
    assert any(by_digest[d] == {"purged"} for d in shared_digests)
    live = {r[0] for r in conn.execute("SELECT digest FROM clips WHERE status != 'purged'")}
    assert all(app.store.exists(d) for d in live)

    report = verify_store(app)
    assert report.problems == 0, report.as_dict()
    assert report.checked == len(live)
    ledger_ok = ledger_store.count(conn)
    assert ledger_ok > len(purged)
    from avledger.core.custody import ledger as ledger_core
    lv = ledger_core.verify(app.catalog, app.public_key(), app.origin, app.checkpoint_file)
    assert lv.ok, lv.problems
