"""Checkout and check-in with the recorder docked (``--docked``): what is read from it, the
on-the-spot clock sync, and every refusal a docked recorder adds — through the installed
command, with simulated recorders in folders (block devices: test_docked_block.py)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from avledger.core.simulate.recorder import record, redock
from avledger.timestamps import utcnow
from tests.desk.conftest import (
    DOCKED_TOLERANCE,
    catalog_rows,
    ledger_events,
    one_error_line,
    register,
)
from tests.recorder_tools import docked_at, make_recorder, profile

ENTERED = ("--storage-free", "80")  # a folder says nothing about a recorder's free space


def sim(tmp_path: Path, serial: str, drift: float = 0.0, clips: int = 0,
        family: str = "generic", **kw: Any) -> Path:
    root = tmp_path / serial
    make_recorder(root, family, serial=serial, drift=drift, clips=clips, size=40_000, **kw)
    return root


def when_docked(root: Path) -> list[str]:
    """--docked-at for a simulated recorder whose clock file says when it was docked."""
    return ["--docked-at", docked_at(root)] if (root / "CLOCK.TXT").exists() else []


def checkout(dcli: Any, serial: str, root: Path, *extra: str, badge: str = "0003") -> Any:
    return dcli("checkout", serial, "--to", badge, "--task", "site inspection", "--docked",
                str(root), *when_docked(root), *ENTERED, *extra)


def test_forty_seconds_slow_refused_then_accepted_after_clock_sync(desk, docked_home, dcli,  # type: ignore[no-untyped-def]
                                                                   tmp_path: Path) -> None:
    register(desk, "BWR-40")
    rec = sim(tmp_path, "BWR-40", drift=-40)
    refused = checkout(dcli, "BWR-40", rec, "--no-sync-clock")
    assert refused.returncode == 5
    line = one_error_line(refused)
    assert line.startswith("avledger: error: pre-use check failed for BWR-40: clock of BWR-40 "
                           "is ")
    assert line.endswith(f"s slow (tolerance {DOCKED_TOLERANCE} s); its profile can set it: "
                         "run 'avledger clock sync', or check out without --no-sync-clock "
                         "(hint: fix it, or override with --force --reason '…' (logged))")
    assert not (rec / "TIMESET.TXT").exists()  # refused without writing to the recorder

    synced = dcli("clock", "sync", str(rec), *when_docked(rec))
    assert synced.returncode == 0, synced.stderr
    assert "wrote to the recorder: TIMESET.TXT" in synced.stdout
    assert "the one avledger command that writes to a recorder" in synced.stdout
    assert "takes the new time up when it is next connected" in synced.stdout
    assert (rec / "TIMESET.TXT").exists()
    still = checkout(dcli, "BWR-40", rec)  # not reconnected yet: nothing written twice
    assert "the new time written to it takes effect when it is next connected: dock it again " \
           "and retry" in one_error_line(still)

    redock(rec, profile())  # the recorder is connected again and takes the new time up
    assert not (rec / "TIMESET.TXT").exists()
    res = checkout(dcli, "BWR-40", rec, "--json")
    assert res.returncode == 0, res.stderr
    clock = json.loads(res.stdout)["precheck"]["clock"]
    assert (clock["result"], clock["source"]) == ("ok", "device")
    assert abs(clock["value"]) <= DOCKED_TOLERANCE

    # both measurements, in the ledger and the catalog
    events = ledger_events(dcli, "device:*", type="clock.*")
    synced_ev = next(e for e in events if e["type"] == "clock.synced")
    settled = next(e for e in events if e["type"] == "clock.sync_settled")
    before, after = synced_ev["payload"]["before"], settled["payload"]
    assert before["drift_seconds"] <= -40 and before["source"] == "sync-before"
    assert synced_ev["payload"]["written"]["target"] == "TIMESET.TXT"
    assert synced_ev["payload"]["origin"] == "desk" and synced_ev["payload"]["after"] is None
    assert after["applied"] is True and abs(after["after_drift_seconds"]) <= DOCKED_TOLERANCE
    assert after["before_drift_seconds"] == before["drift_seconds"]
    rows = catalog_rows(docked_home, "SELECT * FROM clock_measurements ORDER BY id")
    assert [(r["kind"], r["source"]) for r in rows][-3:] == [
        ("check", "sync-before"), ("check", "desk"), ("sync", "desk")]
    sync_row = catalog_rows(docked_home, "SELECT * FROM clock_syncs")[0]
    assert (sync_row["state"], sync_row["after_id"], sync_row["before_id"]) == (
        "applied", rows[-1]["id"], rows[-3]["id"])
    device = catalog_rows(docked_home, "SELECT last_synced_at FROM devices")[0]
    assert device["last_synced_at"] == rows[-1]["measured_at"]
    assert dcli("ledger", "verify").returncode == 0


def test_on_the_spot_sync_by_file_waits_for_the_next_connection(desk, docked_home, dcli,  # type: ignore[no-untyped-def]
                                                                tmp_path: Path) -> None:
    register(desk, "BWR-41")
    rec = sim(tmp_path, "BWR-41", drift=55)
    first = checkout(dcli, "BWR-41", rec)
    assert first.returncode == 5
    assert "clock of BWR-41 is " in one_error_line(first)
    assert ("s fast (tolerance 10 s); the new time written to it takes effect when it is next "
            "connected: dock it again and retry") in first.stderr
    assert (rec / "TIMESET.TXT").exists()
    synced = ledger_events(dcli, "device:*", type="clock.synced")
    assert len(synced) == 1 and synced[0]["payload"]["origin"] == "checkout"
    redock(rec, profile())
    res = checkout(dcli, "BWR-41", rec, "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["precheck"]["clock"]["result"] == "ok"
    assert [e["payload"]["applied"] for e in
            ledger_events(dcli, "device:*", type="clock.sync_settled")] == [True]


def test_on_the_spot_sync_by_command_takes_effect_at_once(desk, docked_home, dcli,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    register(desk, "LIVE-1")
    rec = sim(tmp_path, "LIVE-1", family="liveclock", battery=88)
    (rec / "RTC_OFFSET").write_text("-40\n")
    res = checkout(dcli, "LIVE-1", rec, "--json")
    assert res.returncode == 0, res.stderr
    pre = json.loads(res.stdout)["precheck"]
    assert pre["battery"] == {"result": "ok", "value": 88.0, "source": "device"}
    assert pre["clock_sync"]["before"]["drift_seconds"] <= -39
    assert pre["clock_sync"]["takes_effect"] == "now"
    assert abs(pre["clock_sync"]["after"]["drift_seconds"]) <= 2
    assert pre["clock"]["result"] == "ok" and abs(pre["clock"]["value"]) <= 2
    assert abs(int((rec / "RTC_OFFSET").read_text())) <= 1  # the recorder's clock was set
    synced = ledger_events(dcli, "device:*", type="clock.synced")[0]["payload"]
    assert synced["state"] == "applied" and synced["after"]["kind"] == "sync"
    assert synced["written"]["method"] == "command" and synced["read_write_mount"] is False
    text = dcli("checkout", "list", "--json")
    assert json.loads(text.stdout)[0]["serial"] == "LIVE-1"


def test_human_output_says_the_clock_was_set(desk, docked_home, dcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register(desk, "LIVE-2")
    rec = sim(tmp_path, "LIVE-2", family="liveclock")
    (rec / "RTC_OFFSET").write_text("25\n")
    res = checkout(dcli, "LIVE-2", rec)
    assert res.returncode == 0, res.stderr
    assert "clock set on the spot (written to the recorder): 2" in res.stdout
    assert "s fast before" in res.stdout


@pytest.mark.parametrize(("case", "message"), [
    ("pending", "pre-use check failed for BWR-P: 2 clip(s) on BWR-P are not yet ingested (let "
                "the dock finish, or run 'avledger ingest') (hint: fix it, or override with "
                "--force --reason '…' (logged))"),
    ("pending-and-drifted", "pre-use check failed for BWR-P: clock of BWR-P is "),
    ("not-syncable", "pre-use check failed for FIX-1: clock of FIX-1 is "),
    ("wrong-device", "the docked device is BWR-P, not FIX-1 (hint: name the device that is "
                     "docked, or dock the right one)"),
    ("unknown", "recorder NEW-9 is not in the catalog (hint: register it with 'avledger device "
                "add NEW-9', or dock it)"),
    ("low-battery", "pre-use check failed for BWR-P: battery 20% is below the minimum of 50% "
                    "(desk.min_battery_percent) (hint: fix it, or override with --force "
                    "--reason '…' (logged))"),
    ("not-a-recorder", "no device profile recognises"),
])
def test_docked_refusals(desk, docked_home, dcli, tmp_path: Path, case: str,  # type: ignore[no-untyped-def]
                         message: str) -> None:
    register(desk, "BWR-P")
    register(desk, "FIX-1")
    code = 5
    if case in ("pending", "pending-and-drifted", "low-battery"):
        rec = sim(tmp_path, "BWR-P", clips=2 if case.startswith("pending") else 0,
                  drift=60 if case == "pending-and-drifted" else 0,
                  battery=20 if case == "low-battery" else 95)
        serial = "BWR-P"
    elif case == "not-syncable":
        rec, serial = sim(tmp_path, "FIX-1", drift=-45, family="fixedclock"), "FIX-1"
        (rec / "FREE.TXT").write_text("71\n")
    elif case == "wrong-device":
        rec, serial = sim(tmp_path, "BWR-P"), "FIX-1"
    elif case == "unknown":
        rec, serial, code = sim(tmp_path, "NEW-9"), "NEW-9", 4
    else:
        rec, serial, code = tmp_path / "empty", "BWR-P", 4
        rec.mkdir()
    res = dcli("checkout", serial, "--to", "0003", "--task", "x", "--docked", str(rec),
               *when_docked(rec), "--battery", "90", *ENTERED)
    assert res.returncode == code, res.stderr
    line = one_error_line(res)
    assert message in line
    if case == "pending-and-drifted":  # not set while clips recorded by this clock wait
        assert "s fast (tolerance 10 s); it is set once its clips are ingested; 2 clip(s) on " \
               "BWR-P are not yet ingested" in line
        assert not (rec / "TIMESET.TXT").exists()
    if case == "not-syncable":
        assert "s slow (tolerance 10 s) and cannot be set here" in line
    assert catalog_rows(docked_home, "SELECT COUNT(*) AS n FROM checkouts")[0]["n"] == 0
    assert not list(rec.glob("TIMESET*"))


def test_docked_values_and_forced_override(desk, docked_home, dcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register(desk, "FIX-2")
    rec = sim(tmp_path, "FIX-2", drift=-45, family="fixedclock", battery=64)
    (rec / "FREE.TXT").write_text("37 %\n")
    res = dcli("checkout", "FIX-2", "--to", "0004", "--task", "night patrol", "--docked",
               str(rec), *when_docked(rec), "--battery", "99", "--storage-free", "99", "--force",
               "--reason", "only recorder left; time noted by hand", "--json")
    assert res.returncode == 0, res.stderr
    pre = json.loads(res.stdout)["precheck"]
    assert pre["battery"] == {"result": "ok", "value": 64.0, "source": "device"}
    assert pre["storage"] == {"result": "ok", "value": 37.0, "source": "device"}
    assert pre["clock"]["result"] == "drifted" and pre["clock"]["value"] <= -45
    assert pre["footage"] == {"result": "ok", "value": 0.0, "source": "device"}
    assert pre["forced"]["overrode"][0].endswith("and cannot be set here")


def test_checkin_with_the_recorder_docked(desk, docked_home, dcli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register(desk, "BWR-C")
    rec = sim(tmp_path, "BWR-C")
    assert checkout(dcli, "BWR-C", rec).returncode == 0
    record(rec, profile(), clips=2, seconds=5, size=30_000, gap=1)
    kept = dcli("checkin", "BWR-C", "--docked", str(rec), "--no-ingest", "--json")
    assert kept.returncode == 0, kept.stderr
    footage = json.loads(kept.stdout)["footage"]
    assert (footage["status"], footage["pending_clips"], footage["clips"]) == ("pending", 2, 0)

    assert checkout(dcli, "BWR-C", rec).returncode == 5  # the two clips are still on it
    ingest = dcli("ingest", str(rec))
    assert ingest.returncode == 0, ingest.stderr
    assert checkout(dcli, "BWR-C", rec).returncode == 0
    time.sleep(3)  # then a clip recorded during this checkout, ending now
    record(rec, profile(), clips=1, seconds=1, size=30_000,
           start=utcnow() - timedelta(seconds=1.5))
    res = dcli("checkin", "BWR-C", "--docked", str(rec), "--ingest", "--json")
    assert res.returncode == 0, res.stderr
    done = json.loads(res.stdout)
    assert done["ingest"]["new"] == 1
    assert (done["footage"]["status"], done["footage"]["pending_clips"]) == ("ingested", 0)
    assert done["footage"]["clips"] == 1  # the clip recorded during this checkout


def test_checkin_offers_to_ingest_at_a_terminal(desk, docked_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.desk.conftest import out
    from tests.desk.test_prompts import run_at_terminal

    register(desk, "BWR-T")
    rec = sim(tmp_path, "BWR-T")
    out(desk, "BWR-T", "0003")
    record(rec, profile(), clips=1, seconds=5, size=30_000)
    res = run_at_terminal(["checkin", "BWR-T", "--docked", str(rec), "--json"], "y\n")
    assert res.returncode == 0, res.stderr
    prompt, _, body = res.stdout.partition("{")
    assert "1 clip(s) on BWR-T are not yet ingested. Ingest them now?" in prompt
    assert json.loads("{" + body)["ingest"]["new"] == 1
