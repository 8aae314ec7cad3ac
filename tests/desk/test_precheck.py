"""The pre-use check and the other pure desk decisions, without a catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from avledger.core import query
from avledger.core.desk import devices as registry
from avledger.core.desk import gaps
from avledger.core.desk import preuse as desk
from avledger.core.desk.preuse import ClockReading, DeskPolicy, DockedDevice, PreUseState
from avledger.errors import RefusedError

NOW = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
POLICY = DeskPolicy(min_battery_percent=50, min_storage_free_percent=20,
                    clock_tolerance_seconds=3)


def reading(drift: float | None, status: str = "ok", source: str = "dock",
            at: datetime = NOW) -> ClockReading:
    return ClockReading(at, drift, status, source)


def test_entered_values_pass() -> None:
    check = desk.evaluate(PreUseState("SN", battery_percent=90, storage_free_percent=60),
                          NOW, POLICY)
    assert check.passed and not check.needs_sync
    assert check.checks["battery"].as_dict() == {"result": "ok", "value": 90, "source": "entered"}
    assert check.checks["clock"].result == "not-checked"
    assert check.checks["footage"].result == "not-checked"


@pytest.mark.parametrize(("battery", "storage", "expected"), [
    (None, 60, "battery not checked (enter it with --battery PCT, or dock the device)"),
    (90, None, "free storage not checked (enter it with --storage-free PCT, or dock the device)"),
    (49, 60, "battery 49% is below the minimum of 50% (desk.min_battery_percent)"),
    (90, 10, "free storage 10% is below the minimum of 20% (desk.min_storage_free_percent)"),
    (150, 60, "battery 150% is not a percentage"),
])
def test_levels_refuse(battery: float | None, storage: float | None, expected: str) -> None:
    check = desk.evaluate(PreUseState("SN", battery_percent=battery,
                                      storage_free_percent=storage), NOW, POLICY)
    assert check.problems == [expected]


def test_mains_powered_devices_skip_the_battery() -> None:
    check = desk.evaluate(PreUseState("NVR", has_battery=False, storage_free_percent=60),
                          NOW, POLICY)
    assert check.passed
    assert check.checks["battery"].result == "not-applicable"


def test_docked_values_win_over_entered_ones() -> None:
    docked = DockedDevice("SN", battery_percent=30, storage_free_percent=90,
                          clock=reading(0.4, source="desk"))
    check = desk.evaluate(PreUseState("SN", battery_percent=95, storage_free_percent=95,
                                      docked=docked), NOW, POLICY)
    assert check.checks["battery"].source == "device"
    assert check.problems == ["battery 30% is below the minimum of 50% "
                              "(desk.min_battery_percent)"]
    assert check.checks["clock"].result == "ok"
    assert check.checks["footage"].result == "ok"


def test_pending_clips_on_a_docked_device_refuse() -> None:
    docked = DockedDevice("SN", battery_percent=90, storage_free_percent=90, pending_clips=3)
    check = desk.evaluate(PreUseState("SN", docked=docked), NOW, POLICY)
    assert check.problems == ["3 clip(s) on SN are not yet ingested (let the dock finish, or "
                              "run 'avledger ingest')"]


def test_drifted_docked_clock_needs_sync_when_settable() -> None:
    docked = DockedDevice("SN", battery_percent=90, storage_free_percent=90,
                          clock=reading(-40.0, "drifted", "desk"),
                          sync_clock=lambda: reading(0.1, "ok", "sync-after"))
    state = PreUseState("SN", docked=docked)
    check = desk.evaluate(state, NOW, POLICY)
    assert check.needs_sync and check.passed  # the sync is the caller's to do
    assert check.checks["clock"].result == "drifted"
    after = desk.evaluate(desk.after_sync(state, reading(0.1, "ok", "sync-after")), NOW, POLICY)
    assert after.passed and not after.needs_sync
    assert after.checks["clock"].result == "ok"
    failed = desk.evaluate(desk.after_sync(state, reading(-39.0, "drifted", "sync-after")),
                           NOW, POLICY)
    assert failed.problems == ["clock of SN is 39 s slow (tolerance 3 s) even after a sync"]


def test_drifted_docked_clock_that_cannot_be_set_refuses() -> None:
    docked = DockedDevice("SN", battery_percent=90, storage_free_percent=90,
                          clock=reading(-40.0, "drifted", "desk"))
    check = desk.evaluate(PreUseState("SN", docked=docked), NOW, POLICY)
    assert not check.needs_sync
    assert check.problems == ["clock of SN is 40 s slow (tolerance 3 s) and cannot be set here"]


def test_reset_and_unreadable_docked_clocks() -> None:
    reset = DockedDevice("SN", 90, 90, 90, clock=reading(None, "reset", "desk"))
    assert desk.evaluate(PreUseState("SN", docked=reset), NOW, POLICY).problems == [
        "clock of SN was reset (date before the reset year) (tolerance 3 s) and cannot be set "
        "here"]
    unreadable = DockedDevice("SN", None, 90, 90, clock=reading(None, "unknown", "desk"))
    assert desk.evaluate(PreUseState("SN", docked=unreadable), NOW, POLICY).problems == [
        "the clock of SN could not be read"]


def test_last_measurement_in_the_catalog_decides_when_not_docked() -> None:
    state = PreUseState("SN", battery_percent=90, storage_free_percent=90,
                        last_clock=reading(12.5, "drifted", "dock", NOW - timedelta(hours=2)))
    check = desk.evaluate(state, NOW, POLICY)
    assert check.problems == [
        "clock of SN is 12.5 s fast (tolerance 3 s) at the last measurement "
        "(2026-11-02 23:00:00) and has not been synced since"]
    fine = PreUseState("SN", battery_percent=90, storage_free_percent=90,
                       last_clock=reading(-1.0, "ok", "sync-after", NOW - timedelta(minutes=30)))
    check = desk.evaluate(fine, NOW, POLICY)
    assert check.passed
    assert check.checks["clock"].as_dict() == {
        "result": "ok", "value": -1.0, "source": "catalog",
        "detail": "last measured 30 min ago (sync-after)"}


def test_tolerance_is_todays_not_the_stored_status() -> None:
    # A measurement stored as 'ok' under a looser tolerance is judged by today's tolerance.
    assert desk.clock_status(reading(5.0, "ok"), 3) == "drifted"
    assert desk.clock_status(reading(-2.9, "drifted"), 3) == "ok"



def test_a_drift_within_its_uncertainty_of_the_tolerance_passes() -> None:
    measured = ClockReading(NOW, -4.5, "ok", "dock", 1, uncertainty_seconds=2.0)
    assert desk.clock_status(measured, 3) == "ok"  # could be 2.5 s slow: not held against it
    assert desk.clock_status(ClockReading(NOW, -5.5, "drifted", "dock", 1, 2.0), 3) == "drifted"


def test_overdue() -> None:
    out_at = NOW
    hours = lambda h: NOW + timedelta(hours=h)  # noqa: E731
    assert not desk.is_overdue(out_at, None, False, hours(24), 24)
    assert desk.is_overdue(out_at, None, False, hours(24.01), 24)
    assert not desk.is_overdue(out_at, hours(10), False, hours(30), 24)  # docked while out
    assert desk.is_overdue(out_at, hours(10), False, hours(34.5), 24)
    assert desk.is_overdue(out_at, hours(-5), False, hours(25), 24)  # dock before checkout
    assert not desk.is_overdue(out_at, None, True, hours(200), 24)  # remote


def test_status_transitions() -> None:
    dev = lambda status: {"serial": "SN", "status": status}  # noqa: E731
    assert registry.plan_status_change(dev("in_service"), "lost", None) == "lost"
    assert registry.plan_status_change(dev("lost"), "found", None) == "in_service"
    assert registry.plan_status_change(dev("lost"), "retire", None) == "retired"
    with pytest.raises(RefusedError, match="cannot mark found device SN: it is in service"):
        registry.plan_status_change(dev("in_service"), "found", None)
    with pytest.raises(RefusedError, match="retired device stays retired"):
        registry.plan_status_change(dev("retired"), "found", None)
    with pytest.raises(RefusedError, match="checked out to 0003 \\(checkout 9\\)"):
        registry.plan_status_change(dev("in_service"), "retire", {"badge": "0003", "id": 9})


def test_gap_approval_rules() -> None:
    gap = {"id": 4, "approved_at": None, "approved_by": None, "author_badge": "0001",
           "officer_badge": "0003"}
    assert gaps.approval_refusal(gap, "0002", "UTC") is None
    assert gaps.approval_refusal(gap, "0001", "UTC") == (
        "gap 4 was written by you; another leader must approve it")
    assert gaps.approval_refusal(gap, "0003", "UTC") == (
        "gap 4 is about your own checkout; another leader must approve it")
    done = gap | {"approved_at": "2026-11-03T02:00:00+00:00", "approved_by": "0002:leader"}
    assert gaps.approval_refusal(done, "0006", "Asia/Shanghai") == (
        "gap 4 was already approved by 0002:leader on 2026-11-03 10:00:00")


def test_gap_span_rules() -> None:
    co = {"id": 5, "out_at": "2026-11-03T00:00:00+00:00", "in_at": "2026-11-03T08:00:00+00:00"}
    t = lambda h: datetime(2026, 11, 3, tzinfo=UTC) + timedelta(hours=h)  # noqa: E731
    gaps.validate_span(co, t(1), t(2), t(9), "UTC")
    for start, end, message in [
        (t(2), t(2), "the gap must end after it starts"),
        (t(-1), t(2), "before checkout 5 began (2026-11-03 00:00:00)"),
        (t(7), t(9), "after checkout 5 was checked in (2026-11-03 08:00:00)"),
    ]:
        with pytest.raises(RefusedError, match=message.replace("(", "\\(").replace(")", "\\)")):
            gaps.validate_span(co, start, end, t(20), "UTC")
    open_co = co | {"in_at": None}
    with pytest.raises(RefusedError, match="in the future"):
        gaps.validate_span(open_co, t(1), t(12), t(10), "UTC")


def test_where_builder() -> None:
    assert query.where() == ("", [])
    assert query.where(("a = ?", None), ("b IS NULL", False)) == ("", [])
    assert query.where(("a = ?", 0), ("b IS NULL", True), ("c = ?", "x")) == (
        "WHERE a = ? AND b IS NULL AND c = ?", [0, "x"])
