"""Retention follows the checklist row of a clip's step (Annex 1): 'with_case_file' keeps it
as long as the case file, a number of days at least that long after recording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.cases import registry
from avledger.core.footage.tagging import Change, tag_clips
from avledger.core.retention.policy import CaseLink, ClipFacts, RetentionPolicy, judge
from avledger.core.retention.sweep import plan_sweep
from tests.factories import ClipSpec, insert_clips

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
POLICY = RetentionPolicy(default_days=365, pending_days=7,
                         case_days={"inspection": 3650, "penalty": 10950,
                                    "compulsion": 10950, "licensing": 10950},
                         step_rules={"seizure": "with_case_file", "patrol": 800})


def facts(**kw: object) -> ClipFacts:
    base: dict[str, object] = {"clip_id": 1, "recorded_at": T0, "ingested_at": T0,
                               "attribution": "checkout"}
    return ClipFacts(**(base | kw))  # type: ignore[arg-type]


def test_a_step_kept_with_the_case_file() -> None:
    unlinked = judge(facts(step="seizure"), POLICY)
    assert unlinked.expires_at is None and unlinked.basis == "step-unlinked"
    closed = CaseLink(7, "compulsion", "closed", T0 + timedelta(days=30))
    linked = judge(facts(step="seizure", cases=(closed,)), POLICY)
    assert linked.expires_at == T0 + timedelta(days=30 + 10950) and linked.basis == "case:7"
    assert judge(facts(step="seizure", cases=(CaseLink(7, "compulsion", "open"),)),
                 POLICY).basis == "open-case"


def test_a_step_kept_a_number_of_days() -> None:
    v = judge(facts(step="patrol"), POLICY)
    assert v.expires_at == T0 + timedelta(days=800) and v.basis == "step:patrol"
    assert v.keep_reason(T0 + timedelta(days=500)) == "step-retention"
    # never shorter than the default, and a step the checklist no longer has changes nothing
    assert judge(facts(step="patrol"), RetentionPolicy(
        default_days=900, pending_days=7, case_days={}, step_rules={"patrol": 800})
    ).expires_at == T0 + timedelta(days=900)
    assert judge(facts(step="gone"), POLICY).basis == "default"


def test_the_sweep_keeps_step_footage_by_its_row(home: Path) -> None:
    config_file = home / "avledger.yaml"
    doc = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    from avledger.config.schema import CHECKLIST_SEED
    patrol = dict(CHECKLIST_SEED[0], code="patrol", step="日常巡查", retention=800)
    doc["footage"] = {"checklist": [*CHECKLIST_SEED, patrol]}
    config_file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    app = Avledger.open(loader.load())
    try:
        now = datetime.now(UTC)
        old = now - timedelta(days=400)
        plain, seized, patrolled, linked = insert_clips(app, [
            ClipSpec("BWR1", f"/DCIM/{i}.MP4", f"clip {i}".encode(), old, old)
            for i in range(4)])
        tag_clips(app, [seized, linked], Change(step="seizure"))
        tag_clips(app, [patrolled], Change(step="patrol"))
        registry.add_case(app, number="平环强〔2025〕1号", name="查封", handlers=[],
                          enforcement_type="compulsion", confidentiality="none", now=old)
        registry.link_clips(app, "平环强〔2025〕1号", [linked], now=old)
        plan = plan_sweep(app, now)
        assert [i.clip_id for i in plan.to_pending] == [plain]
        assert plan.kept["step-unlinked"] == 1 and plan.kept["step-retention"] == 1
        assert plan.kept["open-case"] == 1
    finally:
        app.close()
