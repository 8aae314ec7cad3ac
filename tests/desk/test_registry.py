"""Device registry through the CLI: register, list, show, retire, lost, found — and who may."""

from __future__ import annotations

import json
from typing import Any

from avledger.store import ledger as ledger_store
from avledger.timestamps import iso, utcnow
from tests.desk.conftest import one_error_line, out, register


def discovered(app: Any, serial: str) -> int:
    """A device as ingest catalogues a serial it has never seen (unregistered)."""
    with app.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO devices (serial, profile, model, registration, badge_hint,"
            " first_seen_at, last_docked_at) VALUES (?, 'generic', 'DSJ-A8', 'unregistered',"
            " '0003', ?, ?)", (serial, iso(utcnow()), iso(utcnow())))
        app.record(conn, "device.discovered", f"device:{cur.lastrowid}", {"serial": serial})
    return int(cur.lastrowid)


def test_add_list_show(dcli) -> None:  # type: ignore[no-untyped-def]
    added = dcli("device", "add", "SN-1", "--model", "DSJ-A8", "--notes", "asset 117", "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["registration"] == "registered"
    cam = dcli("device", "add", "CAM-9", "--kind", "camera", "--unit", "Team 2")
    assert cam.returncode == 0 and "CAM-9: registered as camera" in cam.stdout
    listed = json.loads(dcli("device", "list", "--json").stdout)
    assert [(d["serial"], d["kind"], d["unit"]) for d in listed] == [
        ("CAM-9", "camera", "Team 2"),
        ("SN-1", "body_recorder", "Municipal Ecology and Environment Bureau (demo)")]
    only_cams = json.loads(dcli("device", "list", "--kind", "camera", "--json").stdout)
    assert [d["serial"] for d in only_cams] == ["CAM-9"]
    shown = json.loads(dcli("device", "show", "SN-1", "--json").stdout)
    assert shown["device"]["notes"] == "asset 117"
    assert shown["open_checkout"] is None and shown["footage"] == {"clips": 0, "hours": 0.0}
    table = dcli("device", "show", "SN-1")
    assert table.returncode == 0 and "DSJ-A8" in table.stdout


def test_add_refusals(dcli) -> None:  # type: ignore[no-untyped-def]
    assert dcli("device", "add", "SN-1").returncode == 0
    again = dcli("device", "add", "SN-1")
    assert again.returncode == 5
    assert "device SN-1 is already registered (since " in one_error_line(again)
    bad_kind = dcli("device", "add", "SN-2", "--kind", "toaster")
    assert bad_kind.returncode == 2 and "toaster" in bad_kind.stderr
    missing = dcli("device", "show", "NOPE")
    assert missing.returncode == 4
    assert one_error_line(missing) == ("avledger: error: no device with serial 'NOPE' (hint: "
                                       "register it with 'avledger device add NOPE')")


def test_unregistered_devices_are_flagged_and_registered(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    discovered(desk, "SN-NEW")
    flagged = json.loads(dcli("device", "list", "--unregistered", "--json").stdout)
    assert [d["serial"] for d in flagged] == ["SN-NEW"]
    assert "UNREGISTERED" in dcli("device", "list").stdout
    refused = dcli("checkout", "SN-NEW", "--to", "0003", "--task", "x", "--battery", "90",
                   "--storage-free", "90")
    assert refused.returncode == 5
    assert "device SN-NEW is not registered (first seen at a dock" in one_error_line(refused)
    reg = dcli("device", "add", "SN-NEW", "--notes", "from the dock", "--json")
    assert reg.returncode == 0, reg.stderr
    data = json.loads(reg.stdout)
    assert data["was_unregistered"] is True
    assert (data["registration"], data["profile"], data["model"], data["badge_hint"]) == (
        "registered", "generic", "DSJ-A8", "0003")
    assert json.loads(dcli("device", "list", "--unregistered", "--json").stdout) == []


def test_retire_lost_found(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    register(desk, "SN-2")
    dry = dcli("device", "retire", "SN-1", "--reason", "cracked", "--dry-run", "--json")
    assert json.loads(dry.stdout)["dry_run"] is True
    assert json.loads(dcli("device", "show", "SN-1", "--json").stdout)["device"]["status"] == \
        "in_service"

    lost = dcli("device", "lost", "SN-1", "--reason", "not returned after flood response")
    assert lost.returncode == 0, lost.stderr
    refused = dcli("checkout", "SN-1", "--to", "0003", "--task", "x", "--battery", "90",
                   "--storage-free", "90")
    assert refused.returncode == 5
    assert one_error_line(refused) == (
        "avledger: error: device SN-1 is reported lost and may not be checked out "
        "(hint: if it is back: avledger device found SN-1)")
    twice = dcli("device", "lost", "SN-1", "--reason", "again")
    assert "cannot mark lost device SN-1: it is lost" in one_error_line(twice)
    assert dcli("device", "found", "SN-1", "--reason", "handed in at reception").returncode == 0
    assert dcli("checkout", "SN-1", "--to", "0003", "--task", "x", "--battery", "90",
                "--storage-free", "90").returncode == 0

    # a device out with an officer cannot be retired until it is checked in
    busy = dcli("device", "retire", "SN-1", "--reason", "old")
    assert busy.returncode == 5
    assert "cannot retire device SN-1: it is checked out to 0003" in one_error_line(busy)

    assert dcli("device", "retire", "SN-2", "--reason", "battery swollen").returncode == 0
    gone = dcli("checkout", "SN-2", "--to", "0003", "--task", "x", "--battery", "90",
                "--storage-free", "90")
    assert one_error_line(gone) == ("avledger: error: device SN-2 is retired and may not be "
                                    "checked out")
    final = dcli("device", "found", "SN-2")
    assert "a retired device stays retired" in one_error_line(final)
    retired = json.loads(dcli("device", "list", "--status", "retired", "--json").stdout)
    assert [(d["serial"], d["status_reason"]) for d in retired] == [("SN-2", "battery swollen")]

    types = [e.type for e in ledger_store.iter_events(desk.catalog.conn, where="subject LIKE ?",
                                                      params=("device:%",), order="seq")]
    assert types == ["device.registered", "device.registered", "device.lost", "device.found",
                     "device.retired"]


def test_registry_roles(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    officer = dcli("device", "add", "SN-9", actor="lina")
    assert officer.returncode == 5
    assert one_error_line(officer) == ("avledger: error: Li Na (0003) may not register "
                                       "devices: needs role clerk or records_manager")
    assert dcli("device", "add", "SN-8", actor="clerk2").returncode == 0
    clerk = dcli("device", "retire", "SN-1", "--reason", "x", actor="clerk2")
    assert one_error_line(clerk) == ("avledger: error: Desk Assistant (0007) may not retire "
                                     "devices: needs role records_manager")
    leader = dcli("device", "lost", "SN-1", "--reason", "x", actor="leader")
    assert "may not mark lost devices: needs role records_manager" in one_error_line(leader)
    stranger = dcli("device", "list", actor="nobody")
    assert stranger.returncode == 5
    assert "user 'nobody' is not on the roster, so may not list devices" in \
        one_error_line(stranger)
    inactive = dcli("device", "list", actor="zhaol")
    assert "user 'zhaol' is not on the roster" in one_error_line(inactive)


def test_device_show_has_current_holder(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    co = out(desk, "SN-1", "0004")
    shown = json.loads(dcli("device", "show", "SN-1", "--json").stdout)
    assert shown["open_checkout"]["id"] == co["id"]
    assert shown["open_checkout"]["badge"] == "0004"
    listed = json.loads(dcli("device", "list", "--json").stdout)
    assert listed[0]["out_to"] == "0004"
