"""``avledger clock check|sync|history`` on simulated recorders in folders: what is measured,
what is written to the recorder (and only that), what is recorded, and every refusal."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from avledger.core.clock import check as clockcheck
from avledger.core.clock import setter as clockset
from avledger.core.simulate.recorder import redock, write_clock_file
from avledger.timestamps import parse_iso, utcnow
from tests.desk.conftest import DOCKED_TOLERANCE, catalog_rows, ledger_events, one_error_line
from tests.desk.conftest import register as register_device
from tests.recorder_tools import docked_at, make_recorder, profile


def sim(tmp_path: Path, serial: str, drift: float, family: str = "generic", **kw: Any) -> Path:
    root = tmp_path / serial
    make_recorder(root, family, serial=serial, drift=drift, clips=0, size=30_000, **kw)
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def test_check_records_a_measurement_and_says_whether_it_is_off(desk, docked_home, dcli,  # type: ignore[no-untyped-def]
                                                                tmp_path: Path) -> None:
    register_device(desk, "BWR-1")
    rec = sim(tmp_path, "BWR-1", drift=-40)
    before = tree(rec)
    off = dcli("clock", "check", str(rec), "--docked-at", docked_at(rec))
    assert off.returncode == 1
    assert "recorder BWR-1 (generic) at" in off.stdout and "s slow — drifted" in off.stdout
    assert one_error_line(off).endswith(
        f"(drifted, tolerance {DOCKED_TOLERANCE} s) (hint: avledger clock sync {rec})")
    write_clock_file(rec, profile(), 0.0)
    ok = dcli("clock", "check", str(rec), "--docked-at", docked_at(rec), "--json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["measurement"]["status"] == "ok" and data["measurement"]["source"] == "desk"
    assert data["settled_sync"] is None and data["waiting_sync"] is None
    rows = catalog_rows(docked_home, "SELECT kind, source, status FROM clock_measurements")
    assert rows == [{"kind": "check", "source": "desk", "status": "drifted"},
                    {"kind": "check", "source": "desk", "status": "ok"}]
    assert [e["payload"]["serial"] for e in ledger_events(dcli, type="clock.measured")] == [
        "BWR-1", "BWR-1"]
    assert {k: v for k, v in tree(rec).items() if k != "CLOCK.TXT"} == \
        {k: v for k, v in before.items() if k != "CLOCK.TXT"}  # nothing written by a check


def test_sync_writes_only_the_setting_and_the_next_reading_settles_it(desk, docked_home, dcli,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path) -> None:
    register_device(desk, "BWR-2")
    rec = sim(tmp_path, "BWR-2", drift=-40)
    before = tree(rec)
    started = utcnow()
    res = dcli("clock", "sync", str(rec), "--docked-at", docked_at(rec), "--json")
    finished = utcnow()
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["state"] == "pending" and data["writes_to_recorder"] is True
    assert data["before"]["drift_seconds"] <= -40 and data["after"] is None
    assert data["takes_effect"] == "when the recorder is next connected"
    after_tree = tree(rec)
    assert set(after_tree) - set(before) == {"TIMESET.TXT"}
    assert {k: after_tree[k] for k in before} == before  # nothing else touched
    text = (rec / "TIMESET.TXT").read_text()
    set_to = clockset.parse("{time:%Y-%m-%d %H:%M:%S}\n", text, "Asia/Shanghai")
    # the time written is the time of the command's run, to the second the file can say
    assert set_to is not None
    assert started.replace(microsecond=0) <= set_to <= finished + timedelta(seconds=1)
    assert parse_iso(data["written"]["set_to"]) == set_to

    waiting = dcli("clock", "check", str(rec), "--docked-at", docked_at(rec))  # not redocked
    assert waiting.returncode == 1
    assert "is still waiting on the recorder (TIMESET.TXT)" in waiting.stdout
    assert "(hint:" not in waiting.stderr
    assert catalog_rows(docked_home, "SELECT state FROM clock_syncs") == [{"state": "pending"}]

    redock(rec, profile())
    settled = dcli("clock", "check", str(rec), "--docked-at", docked_at(rec))
    assert settled.returncode == 0, settled.stderr
    assert "has taken effect: " in settled.stdout and "s slow before" in settled.stdout
    sync = catalog_rows(docked_home, "SELECT * FROM clock_syncs")[0]
    after = catalog_rows(docked_home, "SELECT * FROM clock_measurements WHERE id = ?",
                         sync["after_id"])[0]
    assert (sync["state"], sync["origin"], sync["method"]) == ("applied", "desk", "file")
    assert (after["kind"], after["status"]) == ("sync", "ok")
    assert catalog_rows(docked_home, "SELECT last_synced_at FROM devices")[0][
        "last_synced_at"] == after["measured_at"]
    types = [e["type"] for e in ledger_events(dcli, "device:*")]
    assert types[-5:] == ["clock.measured", "clock.synced", "clock.measured", "clock.measured",
                          "clock.sync_settled"]


def test_a_settled_sync_is_the_anchor_drift_is_interpolated_from(desk, docked_home, dcli,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path) -> None:
    register_device(desk, "BWR-3")
    rec = sim(tmp_path, "BWR-3", drift=30)
    assert dcli("clock", "sync", str(rec), "--docked-at", docked_at(rec)).returncode == 0
    redock(rec, profile())
    assert dcli("clock", "check", str(rec), "--docked-at", docked_at(rec)).returncode == 0
    device_id = catalog_rows(docked_home, "SELECT id FROM devices")[0]["id"]
    anchor = clockcheck.last_sync(desk.catalog.conn, device_id, utcnow())
    sync_row = catalog_rows(docked_home, "SELECT * FROM clock_measurements WHERE kind = 'sync'")
    assert anchor is not None and len(sync_row) == 1
    assert anchor.at == parse_iso(sync_row[0]["measured_at"])
    assert anchor.drift == sync_row[0]["drift_seconds"]
    assert clockcheck.last_sync(desk.catalog.conn, device_id,
                                anchor.at - timedelta(seconds=1)) is None


def test_a_setting_the_recorder_ignored_is_settled_as_not_applied(desk, docked_home, dcli,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    register_device(desk, "BWR-4")
    rec = sim(tmp_path, "BWR-4", drift=-40)
    assert dcli("clock", "sync", str(rec), "--docked-at", docked_at(rec)).returncode == 0
    (rec / "TIMESET.TXT").unlink()  # the recorder dropped the file without reading it
    redock(rec, profile(), drift=-40)
    res = dcli("clock", "check", str(rec), "--docked-at", docked_at(rec))
    assert res.returncode == 1
    assert "did NOT take effect: " in res.stdout
    settled = ledger_events(dcli, type="clock.sync_settled")[0]["payload"]
    assert settled["applied"] is False and settled["after_drift_seconds"] <= -40
    assert catalog_rows(docked_home, "SELECT state FROM clock_syncs") == [
        {"state": "not-applied"}]
    assert catalog_rows(docked_home, "SELECT last_synced_at FROM devices") == [
        {"last_synced_at": None}]
    assert catalog_rows(docked_home, "SELECT kind FROM clock_measurements ORDER BY id")[-1] == {
        "kind": "check"}  # not an anchor for drift interpolation


def test_sync_by_command_measures_after_at_once(desk, docked_home, dcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register_device(desk, "LIVE-3")
    rec = sim(tmp_path, "LIVE-3", drift=0, family="liveclock")
    (rec / "RTC_OFFSET").write_text("95\n")
    res = dcli("clock", "sync", str(rec))
    assert res.returncode == 0, res.stderr
    assert "wrote to the recorder: ran sh -c echo" in res.stdout
    assert "after: " in res.stdout and "(ok) — applied" in res.stdout
    synced = ledger_events(dcli, type="clock.synced")[0]["payload"]
    assert synced["before"]["drift_seconds"] >= 94 and abs(synced["after"]["drift_seconds"]) <= 2
    assert synced["takes_effect"] == "now" and synced["state"] == "applied"


def test_dry_run_writes_nothing_anywhere(desk, docked_home, dcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register_device(desk, "BWR-5")
    rec = sim(tmp_path, "BWR-5", drift=-40)
    before = tree(rec)
    events = len(ledger_events(dcli))
    res = dcli("clock", "sync", str(rec), "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "dry run: would write to the recorder: TIMESET.TXT = '" in res.stdout
    assert tree(rec) == before
    assert len(ledger_events(dcli)) == events
    assert catalog_rows(docked_home, "SELECT COUNT(*) AS n FROM clock_measurements") == [
        {"n": 0}]


@pytest.mark.parametrize(("case", "code", "message"), [
    ("clips", 5, "2 clip(s) on BWR-6 are not yet ingested; ingest them before setting its "
                 "clock (their times are corrected with the clock they were recorded with) "
                 "(hint: avledger ingest {rec})"),
    ("cannot-set", 5, "the clock of FIX-6 cannot be set: its profile fixedclock has no way to "
                      "(clock.set.method is none)"),
    ("officer", 5, "Li Na (0003) may not set recorder clocks: needs role clerk"),
    ("unknown", 4, "recorder NEW-6 is not in the catalog (hint: register it with 'avledger "
                   "device add NEW-6', or dock it)"),
    ("missing", 4, "{rec} is not a folder, a mounted volume or a block device"),
])
def test_sync_refusals(desk, docked_home, dcli, tmp_path: Path, case: str, code: int,  # type: ignore[no-untyped-def]
                       message: str) -> None:
    for serial in ("BWR-6", "FIX-6"):
        register_device(desk, serial)
    actor = None
    if case == "clips":
        rec = tmp_path / "BWR-6"
        make_recorder(rec, serial="BWR-6", drift=-40, clips=2, size=30_000)
    elif case == "cannot-set":
        rec = sim(tmp_path, "FIX-6", drift=-40, family="fixedclock")
    elif case == "unknown":
        rec = sim(tmp_path, "NEW-6", drift=-40)
    elif case == "missing":
        rec = tmp_path / "nothing-here"
    else:
        rec, actor = sim(tmp_path, "BWR-6", drift=-40), "lina"
    before = tree(rec) if rec.exists() else {}
    res = dcli("clock", "sync", str(rec), actor=actor)
    assert res.returncode == code, res.stderr
    assert one_error_line(res) == "avledger: error: " + message.format(rec=rec)
    assert (tree(rec) if rec.exists() else {}) == before
    assert ledger_events(dcli, type="clock.synced") == []


def test_history_lists_readings_and_settings(desk, docked_home, dcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register_device(desk, "BWR-7")
    rec = sim(tmp_path, "BWR-7", drift=-40)
    dcli("clock", "check", str(rec), "--docked-at", docked_at(rec))
    dcli("clock", "sync", str(rec), "--docked-at", docked_at(rec))
    redock(rec, profile())
    dcli("clock", "check", str(rec), "--docked-at", docked_at(rec))
    res = dcli("clock", "history", "BWR-7", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert [(r["kind"], r["source"]) for r in data["readings"]] == [
        ("sync", "desk"), ("check", "sync-before"), ("check", "desk")]
    assert [(s["state"], s["origin"], s["target"]) for s in data["syncs"]] == [
        ("applied", "desk", "TIMESET.TXT")]
    assert data["last_synced_at"] == data["readings"][0]["measured_at"]
    text = dcli("clock", "history", "BWR-7")
    assert "clock readings of BWR-7" in text.stdout and "clock settings written" in text.stdout
    assert dcli("clock", "history", "NOPE").returncode == 4


def test_a_failed_write_is_one_line_and_recorded(desk, docked_home, dcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from tests.desk.conftest import TEST_PROFILES

    busy = dict(TEST_PROFILES["liveclock"], match={"marker": "BUSY.TXT"},
                identity={"file": "BUSY.TXT", "format": "keyvalue",
                          "fields": {"serial": "SERIAL"}})
    busy["clock"] = dict(busy["clock"], set={"method": "command", "command": [
        "sh", "-c", "echo recorder busy >&2; exit 3"]})
    busy.pop("battery")
    (docked_home / "profiles" / "busyclock.yaml").write_text(yaml.safe_dump(busy))
    register_device(desk, "BUSY-1")
    rec = sim(tmp_path, "BUSY-1", drift=0, family="busyclock")
    (rec / "RTC_OFFSET").write_text("-30\n")
    res = dcli("clock", "sync", str(rec))
    assert res.returncode == 8
    assert one_error_line(res) == ("avledger: error: clock-setting command exited 3: "
                                   "recorder busy")
    failed = ledger_events(dcli, type="clock.sync_failed")
    assert len(failed) == 1 and failed[0]["payload"]["error"] == (
        "clock-setting command exited 3: recorder busy")
    assert failed[0]["payload"]["planned"]["method"] == "command"
    assert catalog_rows(docked_home, "SELECT COUNT(*) AS n FROM clock_syncs") == [{"n": 0}]
    assert ledger_events(dcli, type="clock.synced") == []
    assert dcli("ledger", "verify").returncode == 0


def test_sync_onto_a_linked_setting_file_leaves_its_target_untouched(desk, docked_home, dcli,  # type: ignore[no-untyped-def]
                                                                     tmp_path: Path) -> None:
    register_device(desk, "BWR-L")
    rec = sim(tmp_path, "BWR-L", drift=-40)
    target = tmp_path / "host-file"
    target.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    (rec / "TIMESET.TXT").symlink_to(target)
    res = dcli("clock", "sync", str(rec))
    assert res.returncode == 8
    assert "TIMESET.TXT on the recorder is a symbolic link: nothing written, the clock was not " \
        "set" in one_error_line(res)
    assert target.read_bytes() == b"root:x:0:0:root:/root:/bin/bash\n"
    assert (rec / "TIMESET.TXT").is_symlink()
    failed = ledger_events(dcli, type="clock.sync_failed")
    assert len(failed) == 1 and "symbolic link" in json.dumps(failed[0]["payload"])
