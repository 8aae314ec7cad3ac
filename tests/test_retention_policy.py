"""The retention rules as a pure function: (clip facts, policy) -> expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from avledger.core.retention.policy import CaseLink, ClipFacts, RetentionPolicy, judge

POLICY = RetentionPolicy(default_days=365, pending_days=7,
                         case_days={"inspection": 30, "penalty": 3650, "compulsion": 3650,
                                    "licensing": 400})
T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def facts(**kw: object) -> ClipFacts:
    base: dict[str, object] = {"clip_id": 1, "recorded_at": T0,
                               "ingested_at": T0 + timedelta(hours=3), "attribution": "checkout"}
    base.update(kw)
    return ClipFacts(**base)  # type: ignore[arg-type]


def test_default_is_twelve_months_from_recording() -> None:
    v = judge(facts(), POLICY)
    assert v.expires_at == T0 + timedelta(days=365) and v.basis == "default"
    assert not v.expired(T0 + timedelta(days=364, hours=23))
    assert v.expired(T0 + timedelta(days=365))
    assert v.keep_reason(T0 + timedelta(days=10)) == "not-due"


def test_hold_and_open_case_never_expire() -> None:
    assert judge(facts(held=True), POLICY).expires_at is None
    v = judge(facts(cases=(CaseLink(3, "inspection", "open"),)), POLICY)
    assert v.expires_at is None and v.basis == "open-case"
    assert v.keep_reason(T0 + timedelta(days=99999)) == "open-case"


def test_closed_case_extends_but_never_shortens() -> None:
    closed = T0 + timedelta(days=100)
    long = judge(facts(cases=(CaseLink(4, "licensing", "closed", closed),)), POLICY)
    assert long.expires_at == closed + timedelta(days=400) and long.basis == "case:4"
    assert long.keep_reason(T0 + timedelta(days=370)) == "case-retention"
    short = judge(facts(cases=(CaseLink(5, "inspection", "closed", closed),)), POLICY)
    assert short.expires_at == T0 + timedelta(days=365) and short.basis == "default"


def test_unknown_time_and_unclassified_are_kept_by_default() -> None:
    assert judge(facts(recorded_at=None), POLICY).basis == "unknown-time"
    assert judge(facts(attribution="unattributed"), POLICY).basis == "unclassified"
    assert judge(facts(attribution="between-checkouts"), POLICY).basis == "unclassified"
    assert judge(facts(attribution="device-info"), POLICY).basis == "default"
    lenient = POLICY.for_manual_purge()
    v = judge(facts(recorded_at=None), lenient)
    assert v.basis == "ingested" and v.expires_at == T0 + timedelta(hours=3, days=365)
    assert judge(facts(attribution="unattributed"), lenient).basis == "default"


def test_restore_keeps_until_given_date() -> None:
    until = T0 + timedelta(days=500)
    v = judge(facts(kept_until=until), POLICY)
    assert v.expires_at == until and v.keep_reason(T0 + timedelta(days=400)) == "restored"


cases = st.lists(st.builds(
    CaseLink, st.integers(1, 9), st.sampled_from(["inspection", "penalty", "compulsion",
                                                  "licensing"]),
    st.sampled_from(["open", "closed"]),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1),
                 timezones=st.just(UTC))), max_size=3)


@given(cases=cases, held=st.booleans(), offset=st.integers(0, 20000))
def test_properties(cases: list[CaseLink], held: bool, offset: int) -> None:
    cases = [c if c.status == "closed" else CaseLink(c.case_id, c.enforcement_type, "open")
             for c in cases]
    v = judge(facts(cases=tuple(cases), held=held), POLICY)
    now = T0 + timedelta(days=offset)
    if held or any(c.status == "open" for c in cases):
        assert v.expires_at is None and not v.expired(now)
    else:
        assert v.expires_at is not None
        assert v.expires_at >= T0 + timedelta(days=365)  # a case never shortens retention
        for c in cases:
            assert c.closed_at is not None
            assert v.expires_at >= c.closed_at + timedelta(days=POLICY.case_days[
                c.enforcement_type])
