"""Clock checks: parsing, classification, interpolation, host state, garbage input."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from avledger.core.app import Avledger
from avledger.core.clock import check as clockcheck
from avledger.core.clock.check import Anchor, Reference, classify, describe, drift_at
from avledger.timestamps import parse_iso
from tests.recorder_tools import make_recorder, profile

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def test_classify() -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    assert classify(now, 2.9, tolerance=3, reset_before_year=2016) == "ok"
    assert classify(now, -3.5, tolerance=3, reset_before_year=2016) == "drifted"
    assert classify(datetime(2000, 1, 1, tzinfo=UTC), -8e8, tolerance=3,
                    reset_before_year=2016) == "reset"
    assert classify(None, None, tolerance=3, reset_before_year=2016) == "unknown"
    assert classify(now, None, tolerance=3, reset_before_year=2016) == "unknown"  # no reference
    assert classify(datetime(2000, 1, 1, tzinfo=UTC), None, tolerance=3,
                    reset_before_year=2016) == "reset"  # a reset needs no reference


def test_drifted_only_beyond_tolerance_plus_uncertainty() -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    assert classify(now, -4.9, tolerance=3, reset_before_year=2016, uncertainty=2) == "ok"
    assert classify(now, -5.1, tolerance=3, reset_before_year=2016, uncertainty=2) == "drifted"
    assert classify(now, 95, tolerance=3, reset_before_year=2016, uncertainty=3) == "drifted"


def test_figures_in_words() -> None:
    assert describe(95.0, 2.0, "drifted", None, None, "Asia/Shanghai") == "+95.0 ± 2.0 s (drifted)"
    assert describe(None, None, "unknown", "2026-11-27T08:00:00+00:00", "not read at dock",
                    "Asia/Shanghai") == "unknown (not read at dock)"
    reset = datetime(2000, 1, 1, 0, 2, 7, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert describe(-849633300.0, 3.0, "reset", reset, None, "Asia/Shanghai") == \
        "reset (recorder clock read 2000-01-01 00:02)"


def test_a_clock_file_without_a_docking_moment_gives_no_drift(app: Avledger,
                                                              tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=0, drift=0)
    m = clockcheck.take(app, 1, rec, profile())
    assert (m.status, m.drift_seconds, m.detail) == ("unknown", None, "not read at dock")
    assert m.device_time is not None  # read, but not measured
    assert sim.docked_at is not None
    later = clockcheck.take(app, 1, rec, profile(), docked=Reference.given(sim.docked_at),
                            now=sim.docked_at + timedelta(minutes=4))
    assert later.drift_seconds == 0.0 and later.status == "ok"  # however long after


def test_drift_interpolates_between_sync_and_measurement() -> None:
    since = Anchor(T0, 0.0)
    now = Anchor(T0 + timedelta(days=10), 100.0)
    halfway = T0 + timedelta(days=5)
    assert abs(drift_at(halfway + timedelta(seconds=50), now, since) - 50.0) < 0.01
    assert drift_at(T0 - timedelta(days=1), now, since) == 0.0  # before the sync: clamp
    assert drift_at(halfway, now, None) == 100.0  # never synced: constant


def test_parse_clock_text_in_device_zone() -> None:
    got = clockcheck.parse_clock_text("\ufeff\n2026-11-27 16:00:00\r\n", "%Y-%m-%d %H:%M:%S",
                                      "Asia/Shanghai")
    assert got == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_measure_records_row_and_event(app: Avledger, tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    sim = make_recorder(rec, clips=0, drift=95)
    assert sim.docked_at is not None
    with app.transaction() as conn:
        dev = conn.execute("INSERT INTO devices (serial, first_seen_at) VALUES ('X', ?)",
                           (T0.isoformat(),)).lastrowid
    m = clockcheck.measure(app, int(dev or 0), rec, profile(), source="desk",
                           docked=Reference.dock_event(sim.docked_at))
    assert m.status == "drifted" and m.drift_seconds == 95.0
    assert m.uncertainty_seconds == 3.0  # dock-event latency 2 s + the file's whole second
    row = app.catalog.conn.execute("SELECT * FROM clock_measurements WHERE id = ?",
                                   (m.id,)).fetchone()
    assert row["source"] == "desk" and row["kind"] == "check"
    assert (row["drift_seconds"], row["uncertainty_seconds"], row["reference"]) == \
        (95.0, 3.0, "dock-event")
    assert parse_iso(row["said_at"]) == sim.docked_at
    assert row["host_sync"]  # how the host state was read is always said
    ev = app.catalog.conn.execute("SELECT payload FROM ledger WHERE type = 'clock.measured'"
                                  ).fetchone()
    assert '"status":"drifted"' in ev[0]


def test_garbage_clock_file_is_unknown_not_a_crash(app: Avledger, tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    make_recorder(rec, clips=0, garbage_clock=True)
    m = clockcheck.take(app, 1, rec, profile())
    assert m.status == "unknown" and m.drift_seconds is None
    assert "does not parse" in m.detail
    (rec / "CLOCK.TXT").unlink()
    m = clockcheck.take(app, 1, rec, profile())
    assert m.status == "unknown" and "unreadable" in m.detail


def test_host_sync_state_says_how() -> None:
    state = clockcheck.host_sync_state()
    assert state.synced in (True, False, None)
    assert state.how


def test_an_ingest_starts_no_program(app: Avledger, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``timedatectl`` for the host clock, no ``ldconfig`` to find libc: a docking costs
    no program start (each is a fork of the whole process, and a D-Bus call for the clock)."""
    import subprocess

    from avledger.core.ingest.session import ingest

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a program was started: {args[:1]}")

    monkeypatch.setattr(subprocess, "Popen", refused)
    monkeypatch.setattr(os, "posix_spawn", refused)
    state = clockcheck.host_sync_state()
    assert state.synced in (True, False) and state.how.startswith("adjtimex")
    rec = tmp_path / "rec"
    make_recorder(rec, clips=2, size=100_000)
    report = ingest(app, rec)
    assert report.totals()["new"] == 2, report.as_dict()


def test_clock_read_by_command(app: Avledger, tmp_path: Path) -> None:
    from avledger.config.profiles import parse_profile
    from tests.test_profiles import GOOD

    live = ["sh", "-c", "TZ=Asia/Urumqi date -d '+95 seconds' '+%Y-%m-%d %H:%M:%S'; "
                        "test -d '{root}'"]
    prof = parse_profile(GOOD | {"clips": GOOD["clips"] | {"timezone": "Asia/Urumqi"},
                                 "clock": {"read": {"method": "command", "command": live,
                                                    "format": "%Y-%m-%d %H:%M:%S"}}},
                         tmp_path / "cmd.yaml")
    m = clockcheck.take(app, 1, tmp_path, prof)
    assert m.status == "drifted" and m.drift_seconds is not None
    assert 94 - 0.1 <= m.drift_seconds <= 95.1  # whole seconds, read at once
    failing = parse_profile(GOOD | {"clock": {"read": {"method": "command", "command": ["false"],
                                                       "format": "%Y"}}}, tmp_path / "f.yaml")
    m = clockcheck.take(app, 1, tmp_path, failing)
    assert m.status == "unknown" and "exited 1" in m.detail


def test_a_live_clock_file_is_measured_against_the_read(app: Avledger, tmp_path: Path) -> None:
    from avledger.config.profiles import Profile

    rec = tmp_path / "rec"
    make_recorder(rec, clips=0, drift=0)
    generic = profile()
    live = Profile(generic.name, generic.path, generic.data | {"clock": generic.data["clock"] | {
        "read": generic.get("clock.read") | {"written_at": "live"}}})
    m = clockcheck.take(app, 1, rec, live)  # no docking moment needed: the read is one
    assert m.reference == "read" and m.uncertainty_seconds is not None
    assert m.said_at is not None and m.said_at <= m.measured_at
    never = Profile(generic.name, generic.path, generic.data | {"clock": generic.data["clock"] | {
        "read": generic.get("clock.read") | {"written_at": "none"}}})
    assert clockcheck.take(app, 1, rec, never).drift_seconds is None
