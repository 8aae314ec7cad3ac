"""Checkout and check-in: every refusal with its message, the pre-use check, overrides,
the docked-device seam, overdue listing, and the ledger events."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from avledger.core.desk import checkouts
from avledger.core.desk.checkouts import CheckoutRequest
from avledger.core.desk.preuse import ClockReading, DockedDevice
from avledger.errors import RefusedError
from avledger.store import ledger as ledger_store
from avledger.timestamps import iso, utcnow
from tests.desk.conftest import one_error_line, out, register

OK_LEVELS = ("--battery", "90", "--storage-free", "80")


def events(app: Any, subject_prefix: str) -> list[Any]:
    return list(ledger_store.iter_events(app.catalog.conn, where="subject LIKE ?",
                                         params=(subject_prefix + "%",), order="seq"))


def test_checkout_and_checkin_through_the_cli(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    res = dcli("checkout", "SN-1", "--to", "0003", "--task", "inspection, Xinhua Paper",
               "--task-id", "2026-117", *OK_LEVELS, "--note", "spare battery given", "--json")
    assert res.returncode == 0, res.stderr
    co = json.loads(res.stdout)
    assert (co["badge"], co["name"], co["task_id"], co["remote"]) == (
        "0003", "Li Na", "2026-117", False)
    assert co["precheck"]["battery"] == {"result": "ok", "source": "entered", "value": 90.0}
    # 'checkout out DEVICE' is the same command
    res2 = dcli("checkout", "out", "SN-1", "--to", "0004", "--task", "x", *OK_LEVELS)
    assert res2.returncode == 5
    back = dcli("checkin", "SN-1", "--note", "lens scratched")
    assert back.returncode == 0, back.stderr
    assert "checked in SN-1 from 0003 Li Na" in back.stdout
    assert "footage not yet ingested: SN-1 has not been docked since it went out" in back.stdout
    row = desk.catalog.conn.execute("SELECT * FROM checkouts").fetchone()
    assert row["in_at"] is not None and row["in_by"] == "0001:" + desk.actor.login
    assert row["notes"] == "spare battery given; in: lens scratched"
    evs = events(desk, "checkout:")
    assert [e.type for e in evs] == ["checkout.opened", "checkout.closed"]
    assert evs[0].payload["precheck"]["storage"]["value"] == 80.0
    assert evs[1].payload["footage"]["status"] == "not-docked"
    assert dcli("ledger", "verify").returncode == 0


@pytest.mark.parametrize(("args", "actor", "code", "message"), [
    (("NOPE", "--to", "0003", "--task", "x", *OK_LEVELS), None, 4,
     "no device with serial 'NOPE' (hint: register it with 'avledger device add NOPE')"),
    (("SN-1", "--to", "9999", "--task", "x", *OK_LEVELS), None, 4,
     "no person with badge '9999' on the roster (hint: see 'avledger person list'; the roster "
     "is 'personnel' in the config)"),
    (("SN-1", "--to", "0005", "--task", "x", *OK_LEVELS), None, 5,
     "Zhao Lei (0005) is inactive on the roster and may not be handed a device"),
    (("SN-1", "--to", "0003", "--task", "  ", *OK_LEVELS), None, 5,
     "a checkout needs a task (what the device is for, rule B Art. 8)"),
    (("SN-1", "--to", "0003", "--task", "x", *OK_LEVELS), "lina", 5,
     "Li Na (0003) may not check out devices: needs role clerk"),
    (("SN-1", "--to", "0003", "--task", "x", *OK_LEVELS), "nobody", 5,
     "user 'nobody' is not on the roster, so may not check out devices (hint: ask the records "
     "office to add you to 'personnel' in the config)"),
    (("SN-1", "--to", "0003", "--task", "x", "--battery", "20", "--storage-free", "5"), None, 5,
     "pre-use check failed for SN-1: battery 20% is below the minimum of 50% "
     "(desk.min_battery_percent); free storage 5% is below the minimum of 20% "
     "(desk.min_storage_free_percent) (hint: fix it, or override with --force --reason '…' "
     "(logged))"),
    (("SN-1", "--to", "0003", "--task", "x"), None, 5,
     "pre-use check failed for SN-1: battery not checked (enter it with --battery PCT, or dock "
     "the device); free storage not checked (enter it with --storage-free PCT, or dock the "
     "device) (hint: fix it, or override with --force --reason '…' (logged))"),
])
def test_checkout_refusals(desk, dcli, args, actor, code, message) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    res = dcli("checkout", *args, actor=actor)
    assert res.returncode == code, res.stderr
    assert one_error_line(res) == f"avledger: error: {message}"
    assert desk.catalog.conn.execute("SELECT COUNT(*) FROM checkouts").fetchone()[0] == 0
    assert events(desk, "checkout:") == []


def test_already_out_names_the_holder(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    first = out(desk, "SN-1", "0003")
    res = dcli("checkout", "SN-1", "--to", "0004", "--task", "x", *OK_LEVELS)
    assert res.returncode == 5
    line = one_error_line(res)
    assert line.startswith("avledger: error: device SN-1 is already checked out to 0003 "
                           "(Li Na) since ")
    assert line.endswith(f"(checkout {first['id']}) (hint: check it in first: avledger "
                         "checkin SN-1)")


def test_checkin_refusals(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    never = dcli("checkin", "SN-1")
    assert never.returncode == 5
    assert one_error_line(never) == "avledger: error: device SN-1 is not checked out"
    out(desk, "SN-1", "0003")
    officer = dcli("checkin", "SN-1", actor="lina")
    assert "Li Na (0003) may not check in devices: needs role clerk" in one_error_line(officer)
    assert dcli("checkin", "SN-1").returncode == 0
    again = dcli("checkin", "SN-1")
    assert one_error_line(again).startswith(
        "avledger: error: device SN-1 is not checked out (last checked in ")
    out(desk, "SN-1", "0003")
    with pytest.raises(RefusedError, match="is before the check-out time"):
        checkouts.check_in(desk, "SN-1", now=utcnow() - timedelta(hours=1))


def test_force_overrides_the_pre_use_check_and_is_logged(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    no_reason = dcli("checkout", "SN-1", "--to", "0003", "--task", "x", "--battery", "20",
                     "--storage-free", "90", "--force")
    assert no_reason.returncode == 2
    assert "Missing option '--reason'" in no_reason.stderr
    stray = dcli("checkout", "SN-1", "--to", "0003", "--task", "x", *OK_LEVELS,
                 "--reason", "why not")
    assert stray.returncode == 2 and "--reason goes with --force" in stray.stderr
    res = dcli("checkout", "SN-1", "--to", "0003", "--task", "flood response", "--remote",
               "--battery", "20", "--storage-free", "90", "--force", "--reason",
               "only charged unit left", "--json")
    assert res.returncode == 0, res.stderr
    co = json.loads(res.stdout)
    assert co["precheck"]["battery"]["result"] == "low"
    assert co["precheck"]["forced"] == {
        "reason": "only charged unit left",
        "overrode": ["battery 20% is below the minimum of 50% (desk.min_battery_percent)"]}
    evs = events(desk, "checkout:")
    assert [e.type for e in evs] == ["checkout.opened", "checkout.forced"]
    assert evs[1].payload["reason"] == "only charged unit left"
    # force never overrides state: the device is out
    again = dcli("checkout", "SN-1", "--to", "0004", "--task", "x", *OK_LEVELS, "--force",
                 "--reason", "urgent")
    assert "is already checked out to 0003" in one_error_line(again)


def test_non_interactive_missing_options_are_usage_errors(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    for args, option in [(("--task", "x"), "--to"), (("--to", "0003"), "--task")]:
        res = dcli("checkout", "SN-1", *args, *OK_LEVELS, input="")
        assert res.returncode == 2
        assert f"Missing option '{option}' (stdin is not a terminal" in res.stderr


def test_clock_from_the_catalog_refuses_until_synced(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    device = register(desk, "SN-1")
    measured = utcnow() - timedelta(hours=3)

    def measurement(when: Any, drift: float, status: str, source: str) -> None:
        with desk.transaction() as conn:
            conn.execute("INSERT INTO clock_measurements (device_id, kind, measured_at,"
                         " drift_seconds, status, source) VALUES (?, ?, ?, ?, ?, ?)",
                         (device["id"], "sync" if source.startswith("sync") else "check",
                          iso(when), drift, status, source))

    measurement(measured, -40.0, "drifted", "dock")
    res = dcli("checkout", "SN-1", "--to", "0003", "--task", "x", *OK_LEVELS)
    assert res.returncode == 5
    assert "clock of SN-1 is 40 s slow (tolerance 3 s) at the last measurement (" in \
        one_error_line(res)
    assert "and has not been synced since" in res.stderr
    measurement(measured + timedelta(minutes=1), -40.0, "drifted", "sync-before")
    measurement(measured + timedelta(minutes=1, seconds=2), 0.2, "ok", "sync-after")
    res = dcli("checkout", "SN-1", "--to", "0003", "--task", "x", *OK_LEVELS, "--json")
    assert res.returncode == 0, res.stderr
    clock = json.loads(res.stdout)["precheck"]["clock"]
    assert (clock["result"], clock["value"], clock["source"]) == ("ok", 0.2, "catalog")


def test_docked_device_seam(desk) -> None:  # type: ignore[no-untyped-def]
    """The checks a docked device adds, with the DockedDevice the dock code will supply."""
    register(desk, "SN-1")
    now = utcnow()
    register(desk, "SN-2")
    with pytest.raises(RefusedError, match="the docked device is SN-2, not SN-1"):
        checkouts.check_out(desk, CheckoutRequest("SN-1", "0003", "x",
                                                  docked=DockedDevice("SN-2")))
    pending = DockedDevice("SN-1", battery_percent=90, storage_free_percent=70, pending_clips=2)
    with pytest.raises(RefusedError, match=r"2 clip\(s\) on SN-1 are not yet ingested"):
        checkouts.check_out(desk, CheckoutRequest("SN-1", "0003", "x", docked=pending))

    stuck = DockedDevice("SN-1", battery_percent=90, storage_free_percent=70,
                         clock=ClockReading(now, -40.0, "drifted", "desk"))
    with pytest.raises(RefusedError, match="is 40 s slow \\(tolerance 3 s\\) and cannot be set"):
        checkouts.check_out(desk, CheckoutRequest("SN-1", "0003", "x", docked=stuck))

    synced: list[str] = []

    def sync() -> ClockReading:
        synced.append("SN-1")
        return ClockReading(now, 0.3, "ok", "sync-after", measurement_id=None)

    settable = DockedDevice("SN-1", battery_percent=88, storage_free_percent=70,
                            clock=ClockReading(now, -40.0, "drifted", "desk"), sync_clock=sync)
    co = checkouts.check_out(desk, CheckoutRequest("SN-1", "0003", "x", docked=settable,
                                                   battery_percent=10))
    assert synced == ["SN-1"]
    pre = co["precheck"]
    assert pre["battery"] == {"result": "ok", "value": 88, "source": "device"}
    assert pre["clock"]["result"] == "ok" and pre["clock"]["value"] == 0.3
    assert pre["clock_sync"]["before"]["drift_seconds"] == -40.0
    assert pre["clock_sync"]["after"]["drift_seconds"] == 0.3
    assert pre["footage"] == {"result": "ok", "value": 0.0, "source": "device"}
    result = checkouts.check_in(desk, "SN-1", docked=DockedDevice("SN-1", pending_clips=4))
    assert result["footage"]["status"] == "pending" and result["footage"]["pending_clips"] == 4


def test_checkin_reports_footage_from_a_dock(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    device = register(desk, "SN-1")
    co = out(desk, "SN-1", "0003", now=utcnow() - timedelta(hours=5))
    with desk.transaction() as conn:
        conn.execute("INSERT INTO docks (device_id, station, source, started_at, updated_at,"
                     " finished_at, state) VALUES (?, 'dock-1', '/dev/sdz1', ?, ?, ?, 'done')",
                     (device["id"], iso(utcnow() - timedelta(hours=1)),
                      iso(utcnow()), iso(utcnow())))
        conn.execute("INSERT INTO objects (digest, size, stored_at) VALUES ('ab', 10, ?)",
                     (iso(utcnow()),))
        conn.execute("INSERT INTO clips (device_id, digest, size, source_path, source_mtime,"
                     " duration_seconds, ingested_at, checkout_id, badge, attribution)"
                     " VALUES (?, 'ab', 10, 'DCIM/1.MP4', ?, 5400, ?, ?, '0003', 'checkout')",
                     (device["id"], iso(utcnow()), iso(utcnow()), co["id"]))
    res = dcli("checkin", "SN-1", "--json")
    assert res.returncode == 0, res.stderr
    footage = json.loads(res.stdout)["footage"]
    assert (footage["status"], footage["clips"], footage["hours"]) == ("ingested", 1, 1.5)
    assert "1 clips, 1.5 h" in dcli("checkout", "show", str(co["id"])).stdout
    assert json.loads(dcli("checkout", "show", str(co["id"]), "--json").stdout)["clips"] == 1


def test_overdue_listing(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    for serial in ("SN-1", "SN-2", "SN-3", "SN-4"):
        register(desk, serial)
    long_ago = utcnow() - timedelta(hours=30)
    out(desk, "SN-1", "0003", now=long_ago)                      # out 30 h, never docked
    out(desk, "SN-2", "0004", now=long_ago, remote=True)         # remote: not overdue
    out(desk, "SN-3", "0003", now=long_ago)                      # docked 2 h ago
    out(desk, "SN-4", "0004", now=utcnow() - timedelta(hours=2))  # fresh
    with desk.transaction() as conn:
        conn.execute("UPDATE devices SET last_docked_at = ? WHERE serial = 'SN-3'",
                     (iso(utcnow() - timedelta(hours=2)),))
    overdue = json.loads(dcli("checkout", "list", "--overdue", "--json").stdout)
    assert [r["serial"] for r in overdue] == ["SN-1"]
    assert overdue[0]["overdue"] is True and overdue[0]["name"] == "Li Na"
    listed = dcli("checkout", "list", "--open")
    assert "OVERDUE" in listed.stdout
    every = json.loads(dcli("checkout", "list", "--open", "--json").stdout)
    assert sorted(r["serial"] for r in every) == ["SN-1", "SN-2", "SN-3", "SN-4"]
    mine = json.loads(dcli("checkout", "list", "--badge", "0004", "--json").stdout)
    assert sorted(r["serial"] for r in mine) == ["SN-2", "SN-4"]
    one = json.loads(dcli("checkout", "list", "--device", "SN-3", "--json").stdout)
    assert [r["serial"] for r in one] == ["SN-3"]
    # in the future, with the window from the config
    later = checkouts.listing(desk, overdue_only=True, now=utcnow() + timedelta(hours=23))
    assert sorted(r["serial"] for r in later) == ["SN-1", "SN-3", "SN-4"]


def test_mains_powered_kinds_need_no_battery(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "DISK-1", kind="storage_device")
    res = dcli("checkout", "DISK-1", "--to", "0003", "--task", "evidence transfer",
               "--storage-free", "90", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["precheck"]["battery"] == {"result": "not-applicable"}
