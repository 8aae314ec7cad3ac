"""When a clip's retention runs out: a pure function of the clip's facts, the policy and now.

Rules (rule B, Art. 15 and 16, Annex 1):

- a clip under any active hold never expires;
- a clip linked to an open case never expires;
- otherwise it expires ``default_days`` after it was recorded (corrected start time);
- a clip linked to closed cases is kept until the latest of that and, for each case, the case's
  closing date plus ``case_days[enforcement type]`` — a case never shortens retention;
- a clip restored from pending purge by the records manager is kept at least until then;
- a clip whose recording time is unknown is kept (``unknown_time: keep``), or counted from
  when it was ingested (``unknown_time: ingested``);
- a clip attributed to no checkout (unclassified) is kept when ``keep_unclassified``;
- a clip of a recording step (Annex 1, ``footage.checklist``) follows its row's retention: a
  number of days is kept at least that long after recording; ``with_case_file`` (与文字材料存储
  时间一致) is kept as long as the case file — the case rules above — and, while the clip is
  linked to no case yet, it is kept (``step-unlinked``) until the records office links it or
  changes its step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from avledger.config.loader import Config

CLASSIFIED_ATTRIBUTIONS = ("checkout", "device-info")
NEVER_BASES = ("held", "open-case", "unknown-time", "unclassified", "step-unlinked")
WITH_CASE_FILE = "with_case_file"


@dataclass(frozen=True)
class RetentionPolicy:
    default_days: int
    pending_days: int
    case_days: Mapping[str, int]
    unknown_time: str = "keep"
    keep_unclassified: bool = True
    restore_days: int = 90
    step_rules: Mapping[str, str | int] = field(default_factory=dict)  # checklist code → rule

    @classmethod
    def from_config(cls, config: Config) -> RetentionPolicy:
        return cls(
            default_days=int(config.get("retention.default_days")),
            pending_days=int(config.get("retention.pending_days")),
            case_days={k: int(v) for k, v in config.get("retention.case_days").items()},
            unknown_time=str(config.get("retention.unknown_time")),
            keep_unclassified=bool(config.get("retention.keep_unclassified")),
            restore_days=int(config.get("retention.restore_days")),
            step_rules={row["code"]: row["retention"]
                        for row in config.get("footage.checklist")},
        )

    def for_manual_purge(self) -> RetentionPolicy:
        """The records manager's own judgement replaces the 'keep when unsure' defaults."""
        return replace(self, unknown_time="ingested", keep_unclassified=False)

    @property
    def default(self) -> timedelta:
        return timedelta(days=self.default_days)

    @property
    def pending(self) -> timedelta:
        return timedelta(days=self.pending_days)


@dataclass(frozen=True)
class CaseLink:
    case_id: int
    enforcement_type: str
    status: str  # open | closed
    closed_at: datetime | None = None


@dataclass(frozen=True)
class ClipFacts:
    clip_id: int
    recorded_at: datetime | None  # corrected start; None when unknown
    ingested_at: datetime | None
    attribution: str
    held: bool = False
    cases: tuple[CaseLink, ...] = ()
    kept_until: datetime | None = None  # set by a records manager's restore
    step: str | None = None  # the checklist step the clip records


@dataclass(frozen=True)
class Verdict:
    """``expires_at`` None means never (while ``basis`` lasts: a hold, an open case, …)."""

    expires_at: datetime | None
    # default | ingested | case:<id> | step:<code> | restored | held | open-case | unknown-time
    # | unclassified | step-unlinked
    basis: str

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def keep_reason(self, now: datetime) -> str | None:
        """Why a clip is kept at ``now`` (None when it has expired)."""
        if self.expired(now):
            return None
        if self.expires_at is None:
            return self.basis
        if self.basis.startswith("case:"):
            return "case-retention"
        if self.basis.startswith("step:"):
            return "step-retention"
        return "restored" if self.basis == "restored" else "not-due"


def judge(facts: ClipFacts, policy: RetentionPolicy) -> Verdict:
    if facts.held:
        return Verdict(None, "held")
    if any(c.status == "open" for c in facts.cases):
        return Verdict(None, "open-case")
    if facts.recorded_at is not None:
        expires, basis = facts.recorded_at + policy.default, "default"
    elif policy.unknown_time == "ingested" and facts.ingested_at is not None:
        expires, basis = facts.ingested_at + policy.default, "ingested"
    else:
        return Verdict(None, "unknown-time")
    if policy.keep_unclassified and facts.attribution not in CLASSIFIED_ATTRIBUTIONS:
        return Verdict(None, "unclassified")
    rule = policy.step_rules.get(facts.step) if facts.step else None
    if rule == WITH_CASE_FILE and not facts.cases:
        return Verdict(None, "step-unlinked")
    if isinstance(rule, int) and facts.recorded_at is not None:
        until = facts.recorded_at + timedelta(days=rule)
        if until > expires:
            expires, basis = until, f"step:{facts.step}"
    for case in facts.cases:
        days = policy.case_days.get(case.enforcement_type, policy.default_days)
        if case.closed_at is not None:
            until = case.closed_at + timedelta(days=days)
            if until > expires:
                expires, basis = until, f"case:{case.case_id}"
    if facts.kept_until is not None and facts.kept_until > expires:
        expires, basis = facts.kept_until, "restored"
    return Verdict(expires, basis)
