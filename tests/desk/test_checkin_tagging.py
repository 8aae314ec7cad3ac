"""What a checkout's clips are about: declared at checkout when the task is a checklist step,
set at check-in on the clips ingested for it (each a 'clip.tagged' ledger event)."""

from __future__ import annotations

import json
from typing import Any

from avledger.core.app import Avledger
from avledger.store import ledger as ledger_store
from avledger.timestamps import iso, utcnow
from tests.desk.conftest import register

OK_LEVELS = ("--battery", "90", "--storage-free", "80")


def _clip(desk: Avledger, device_id: int, checkout_id: int, name: str) -> int:
    """A clip the dock ingested for the checkout (as the dock writes its row)."""
    with desk.transaction() as conn:
        conn.execute("INSERT INTO objects (digest, size, stored_at) VALUES (?, 10, ?)"
                     " ON CONFLICT DO NOTHING", (name, iso(utcnow())))
        cur = conn.execute(
            "INSERT INTO clips (device_id, digest, size, source_path, source_mtime,"
            " duration_seconds, ingested_at, checkout_id, badge, attribution)"
            " VALUES (?, ?, 10, ?, ?, 60, ?, ?, '0003', 'checkout') RETURNING id",
            (device_id, name, f"DCIM/{name}.MP4", iso(utcnow()), iso(utcnow()), checkout_id))
        return int(cur.fetchone()[0])


def test_the_checkout_declares_and_the_checkin_tags(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    device = register(desk, "SN-1")
    bad = dcli("checkout", "SN-1", "--to", "0003", "--task", "查封", "--step", "sealing",
               *OK_LEVELS)
    assert bad.returncode == 2 and "unknown recording step 'sealing'" in bad.stderr
    assert json.loads(dcli("checkout", "list", "--json").stdout) == []  # nothing written
    res = dcli("checkout", "SN-1", "--to", "0003", "--task", "查封XX化工排污口",
               "--step", "seizure", "--tag", "投诉", *OK_LEVELS, "--json")
    assert res.returncode == 0, res.stderr
    co = json.loads(res.stdout)
    assert co["footage"] == {"category": "行政强制", "matter": "查封、扣押", "step": "seizure",
                             "tags": ["投诉"]}
    a, b = (_clip(desk, device["id"], co["id"], n) for n in ("a1", "b2"))

    back = dcli("checkin", "SN-1", "--tag", "夜查", "--clip-note", "查封排污口现场", "--json")
    assert back.returncode == 0, back.stderr
    tagged = json.loads(back.stdout)["tagged"]
    assert tagged["clips"] == [a, b] and tagged["changed"] == [a, b]
    assert tagged["footage"]["step"] == "seizure"

    listed: list[dict[str, Any]] = json.loads(
        dcli("clips", "list", "--step", "seizure", "--json").stdout)
    assert [(c["id"], c["category"], c["tags"], c["note"]) for c in listed] == [
        (a, "行政强制", ["夜查", "投诉"], "查封排污口现场"),
        (b, "行政强制", ["夜查", "投诉"], "查封排污口现场")]
    kinds = [e.type for e in ledger_store.iter_events(
        desk.catalog.conn, where="subject = ?", params=(f"clip:{a}",))]
    assert kinds == ["clip.tagged"]
    assert "ledger OK" in dcli("ledger", "verify").stdout


def test_a_plain_checkout_tags_nothing(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    device = register(desk, "SN-1")
    co = json.loads(dcli("checkout", "SN-1", "--to", "0003", "--task", "site inspection",
                         *OK_LEVELS, "--json").stdout)
    _clip(desk, device["id"], co["id"], "c3")
    back = json.loads(dcli("checkin", "SN-1", "--json").stdout)
    assert back["tagged"] is None
