"""Clock settings and levels through profiles, without a catalog: templates written and read
back, the simulator taking a setting up, battery/storage files, the read-write mount command,
profile validation of the new sections, and the desk's clock messages for docked recorders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from avledger.config import profiles
from avledger.config.profiles import parse_profile
from avledger.core.clock import setter as clockset
from avledger.core.desk import preuse as desk
from avledger.core.desk.docked import read_level
from avledger.core.dock import mounting
from avledger.core.simulate.recorder import (
    current_drift,
    take_up_clock_setting,
    write_clock_file,
    write_level,
)
from avledger.errors import RefusedError
from tests.recorder_tools import make_recorder, profile
from tests.test_profiles import GOOD

TEMPLATES = ["{time:%Y-%m-%d %H:%M:%S}\n", "SET TIME={time:%Y%m%d%H%M%S};\r\n", "{time}",
             "{time:%d/%m/%Y %H:%M:%S}"]


@given(st.datetimes(min_value=datetime(2016, 1, 1), max_value=datetime(2099, 12, 31),
                    timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0)),
       st.sampled_from(TEMPLATES), st.sampled_from(["Asia/Shanghai", "Asia/Urumqi", "UTC"]))
def test_a_written_setting_reads_back(moment: datetime, template: str, tz: str) -> None:
    text = clockset.render(template, moment, tz)
    assert "{" not in text
    assert clockset.parse(template, text, tz) == moment


def test_render_in_the_recorders_zone_and_garbage_does_not_parse() -> None:
    moment = datetime(2026, 11, 27, 8, 0, 5, tzinfo=UTC)
    assert clockset.render("{time:%Y-%m-%d %H:%M:%S}\n", moment, "Asia/Shanghai") == \
        "2026-11-27 16:00:05\n"
    assert clockset.render("{time}", moment, "Asia/Urumqi") == "2026-11-27T14:00:05+06:00"
    assert clockset.parse("{time:%Y-%m-%d %H:%M:%S}\n", "\xff\xfegarbage", "UTC") is None
    assert clockset.parse("T={time:%H%M%S}", "X=120000", "UTC") is None
    assert clockset.parse("no field", "no field", "UTC") is None
    assert clockset.nearest_second(moment + timedelta(microseconds=500_000)) == \
        moment + timedelta(seconds=1)
    assert clockset.nearest_second(moment + timedelta(microseconds=499_999)) == moment


def test_a_profile_without_a_setter_is_refused(tmp_path: Path) -> None:
    prof = parse_profile(GOOD, tmp_path / "ini.yaml")
    assert not clockset.can_set(prof)
    with pytest.raises(RefusedError, match="cannot set a recorder clock"):
        clockset.plan(prof, tmp_path)


def test_the_simulated_recorder_takes_a_setting_up(home: Path, tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    make_recorder(rec, clips=0, drift=-40.25)
    generic = profile()
    assert current_drift(rec, generic) == -40.25  # read back exactly from its clock file
    written = clockset.write(generic, rec)
    assert (rec / "TIMESET.TXT").read_text() == written.content
    assert clockset.setting_waiting(rec, generic)
    drift = take_up_clock_setting(rec, generic)
    assert drift is not None and abs(drift) <= 0.5 + 0.05  # rounded to the nearest second
    assert not clockset.setting_waiting(rec, generic)
    assert take_up_clock_setting(rec, generic) is None  # nothing left to take up
    (rec / "TIMESET.TXT").write_text("rubbish\n")
    assert take_up_clock_setting(rec, generic) is None and not (rec / "TIMESET.TXT").exists()
    write_clock_file(rec, generic, 7.5)
    assert current_drift(rec, generic) == 7.5


@pytest.mark.parametrize(("spec", "expected"), [
    ({"file": "S.TXT", "format": "keyvalue", "key": "BATTERY"}, 87.5),
    ({"file": "S.INI", "format": "ini", "key": "battery", "section": "power"}, 87.5),
    ({"file": "s.json", "format": "json", "key": "power.battery"}, 87.5),
    ({"file": "S.TXT", "format": "text"}, 87.5),
])
def test_levels_written_and_read(tmp_path: Path, spec: dict[str, str], expected: float) -> None:
    (tmp_path / spec["file"]).write_text(
        {"keyvalue": "SERIAL=X\n", "ini": "[power]\nother = 1\n", "json": '{"sn": "X"}',
         "text": ""}[spec["format"]])
    write_level(tmp_path, spec, expected)
    assert read_level(tmp_path, spec) == expected
    kept = {"keyvalue": "SERIAL=X", "ini": "other = 1", "json": '"sn": "X"', "text": ""}
    assert kept[spec["format"]] in (tmp_path / spec["file"]).read_text()  # merged in


@pytest.mark.parametrize("content", ["BATTERY=150\n", "BATTERY=low\n", "OTHER=3\n", ""])
def test_nonsense_levels_are_not_read(tmp_path: Path, content: str) -> None:
    (tmp_path / "S.TXT").write_text(content)
    assert read_level(tmp_path, {"file": "S.TXT", "format": "keyvalue", "key": "BATTERY"}) \
        is None
    assert read_level(tmp_path, {"file": "MISSING.TXT", "format": "text"}) is None
    assert read_level(tmp_path, {"file": None, "format": "text"}) is None


def test_level_sections_are_validated() -> None:
    bad = GOOD | {"battery": {"file": "B.TXT", "format": "json"},
                  "storage": {"file": "F.TXT", "format": "keyvalue", "key": "FREE",
                              "section": "x"}}
    assert profiles.validate(bad) == [
        "battery.key: is required when format is json",
        "storage.section: only used with format ini"]
    assert profiles.validate(GOOD | {"battery": {"file": "B.TXT", "format": "xml"}}) == [
        "battery.format: must be one of: keyvalue, ini, json, text"]


def test_read_write_mount_commands(home: Path, tmp_path: Path) -> None:
    generic = profile()
    target = tmp_path / "m"
    assert mounting.mount_command("/dev/sdz1", target, generic) == [
        "fusefat", "-o", "ro,nosuid,nodev,noexec", "/dev/sdz1", str(target)]
    assert mounting.mount_command("/dev/sdz1", target, generic, writable=True) == [
        "fusefat", "-f", "-o", "rw+,nosuid,nodev,noexec", "/dev/sdz1", str(target)]
    kernel = profile("fieldcam-json")
    assert mounting.mount_command("/dev/sdz1", target, kernel, writable=True) == [
        "mount", "-t", "vfat", "-o", "rw,nosuid,nodev,noexec,shortname=mixed,utf8", "/dev/sdz1",
        str(target)]
    loose = parse_profile(GOOD | {"mount": {"options": "exec,suid,dev,utf8"}}, tmp_path / "l.yaml")
    assert mounting.mount_command("/dev/sdz1", target, loose)[2] == "ro,nosuid,nodev,noexec,utf8"
    other = parse_profile(GOOD | {"mount": {"helper": "exfat-fuse", "write_option": "rw"}},
                          tmp_path / "x.yaml")
    assert mounting.mount_command("/dev/sdz1", target, other, writable=True)[1:4] == [
        "-f", "-o", "rw,nosuid,nodev,noexec"]


NOW = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
POLICY = desk.DeskPolicy(50, 20, 3)


def docked(**kw: object) -> desk.PreUseState:
    clock = desk.ClockReading(NOW, -40.0, "drifted", "desk")
    return desk.PreUseState("SN", docked=desk.DockedDevice("SN", battery_percent=90,
                                                           storage_free_percent=90,
                                                           clock=clock, **kw))  # type: ignore[arg-type]


def test_desk_clock_messages_for_docked_recorders() -> None:
    def sync() -> desk.ClockReading:
        return desk.ClockReading(NOW, 0.1, "ok", "sync-after")

    assert desk.evaluate(docked(clock_settable=True), NOW, POLICY).problems == [
        "clock of SN is 40 s slow (tolerance 3 s); its profile can set it: run 'avledger "
        "clock sync', or check out without --no-sync-clock"]
    waiting = desk.evaluate(docked(clock_settable=True, sync_clock=sync,
                                   clock_setting_waiting=True), NOW, POLICY)
    assert not waiting.needs_sync and waiting.problems == [
        "clock of SN is 40 s slow (tolerance 3 s); the new time written to it takes effect "
        "when it is next connected: dock it again and retry"]
    clips = desk.evaluate(docked(clock_settable=True, sync_clock=sync, pending_clips=2), NOW,
                          POLICY)
    assert not clips.needs_sync and clips.problems[0] == (
        "clock of SN is 40 s slow (tolerance 3 s); it is set once its clips are ingested")
    pending = desk.after_sync(docked(clock_settable=True, sync_clock=sync),
                              desk.ClockReading(NOW, -40.0, "drifted", "sync-pending"))
    assert desk.evaluate(pending, NOW, POLICY).problems == [
        "clock of SN is 40 s slow (tolerance 3 s); the new time written to it takes effect "
        "when it is next connected: dock it again and retry"]
