"""Gap records (rule B, Art. 12): who may write them, what they may cover, who approves."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from avledger.core.desk import checkouts
from avledger.store import ledger as ledger_store
from avledger.timestamps import utcnow
from tests.desk.conftest import one_error_line, out, register

TZ = ZoneInfo("Asia/Shanghai")


def local(dt: Any) -> str:
    return dt.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")


def closed_checkout(desk: Any, badge: str = "0003") -> tuple[int, Any, Any]:
    """A checkout from 8 h ago to 1 h ago."""
    start = utcnow().replace(microsecond=0) - timedelta(hours=8)
    co = out(desk, "SN-1", badge, now=start)
    end = start + timedelta(hours=7)
    checkouts.check_in(desk, "SN-1", now=end)
    return int(co["id"]), start, end


def gap_args(co: int, start: Any, minutes: int = 35, reason: str = "battery") -> list[str]:
    return ["gap", "add", "--checkout", str(co), "--from", local(start),
            "--to", local(start + timedelta(minutes=minutes)), "--reason", reason,
            "--note", "battery failed in the cold; spare fitted", "--json"]


def test_record_approve_list(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    co, start, _ = closed_checkout(desk)
    res = dcli(*gap_args(co, start + timedelta(hours=2)), actor="lina")  # the officer
    assert res.returncode == 0, res.stderr
    gap = json.loads(res.stdout)
    assert (gap["checkout"], gap["badge"], gap["reason"], gap["approved"]) == (
        co, "0003", "battery", False)
    pending = json.loads(dcli("gap", "list", "--pending", "--json").stdout)
    assert [g["id"] for g in pending] == [gap["id"]]
    assert pending[0]["minutes"] == 35.0 and pending[0]["created_by"] == "0003:lina"

    approved = dcli("gap", "approve", str(gap["id"]), "--note", "confirmed", "--json",
                    actor="leader")
    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout)["approved_by"] == "0002:leader"
    assert json.loads(dcli("gap", "list", "--pending", "--json").stdout) == []
    listed = json.loads(dcli("gap", "list", "--checkout", str(co), "--json").stdout)
    assert listed[0]["approved"] is True and listed[0]["approval_note"] == "confirmed"
    assert json.loads(dcli("gap", "list", "--badge", "0004", "--json").stdout) == []
    assert "pending" not in dcli("gap", "list").stdout

    twice = dcli("gap", "approve", str(gap["id"]), actor="leader2")
    assert twice.returncode == 5
    assert one_error_line(twice).startswith(
        f"avledger: error: gap {gap['id']} was already approved by 0002:leader on ")
    types = [e.type for e in ledger_store.iter_events(desk.catalog.conn,
                                                      where="subject LIKE 'gap:%'")]
    assert types == ["gap.recorded", "gap.approved"]


def test_who_may_write_a_gap(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    co, start, _ = closed_checkout(desk)
    other = dcli(*gap_args(co, start + timedelta(hours=1)), actor="wangf")
    assert other.returncode == 5
    assert one_error_line(other) == (
        f"avledger: error: Wang Fang (0004) may not record a gap for checkout {co} of 0003: "
        "only that officer, a clerk or a records manager may")
    assert dcli(*gap_args(co, start + timedelta(hours=1))).returncode == 0  # the clerk
    stranger = dcli(*gap_args(co, start + timedelta(hours=3)), actor="nobody")
    assert "user 'nobody' is not on the roster, so may not record gaps" in \
        one_error_line(stranger)


def test_gap_must_lie_within_the_checkout(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    co, start, end = closed_checkout(desk)
    before = dcli(*gap_args(co, start - timedelta(minutes=10)))
    assert one_error_line(before) == (
        f"avledger: error: the gap starts {local(start - timedelta(minutes=10))}, before "
        f"checkout {co} began ({local(start)})")
    after = dcli(*gap_args(co, end - timedelta(minutes=10)))
    assert one_error_line(after) == (
        f"avledger: error: the gap ends {local(end + timedelta(minutes=25))}, after checkout "
        f"{co} was checked in ({local(end)})")
    backwards = dcli(*gap_args(co, start + timedelta(hours=1), minutes=-5))
    assert "the gap must end after it starts" in one_error_line(backwards)
    missing = dcli(*gap_args(999, start))
    assert missing.returncode == 4
    assert one_error_line(missing).startswith("avledger: error: no checkout 999")
    bad_reason = dcli(*gap_args(co, start + timedelta(hours=1), reason="lunch"))
    assert bad_reason.returncode == 2 and "lunch" in bad_reason.stderr
    blank = dcli("gap", "add", "--checkout", str(co), "--from", local(start),
                 "--to", local(start + timedelta(minutes=5)), "--reason", "other", "--note", " ")
    assert "a gap record needs a note" in one_error_line(blank)


def test_open_checkout_gap_cannot_be_in_the_future(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    start = utcnow().replace(microsecond=0) - timedelta(hours=2)
    co = out(desk, "SN-1", "0003", now=start)["id"]
    ok = dcli(*gap_args(co, start + timedelta(minutes=30), reason="obstruction"))
    assert ok.returncode == 0, ok.stderr
    future = dcli(*gap_args(co, start + timedelta(hours=1, minutes=50)))
    assert "which is in the future" in one_error_line(future)


def test_approval_rules(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    # a checkout of the field leader (0008, handler + leader); the gap written by the officer
    co, start, _ = closed_checkout(desk, badge="0008")
    own = json.loads(dcli(*gap_args(co, start + timedelta(hours=1)), actor="fieldlead").stdout)
    self_approval = dcli("gap", "approve", str(own["id"]), actor="fieldlead")
    assert one_error_line(self_approval) == (
        f"avledger: error: gap {own['id']} was written by you; another leader must approve it")
    # written by the clerk on the leader's behalf: still about the leader's own checkout
    by_clerk = json.loads(dcli(*gap_args(co, start + timedelta(hours=3))).stdout)
    own_checkout = dcli("gap", "approve", str(by_clerk["id"]), actor="fieldlead")
    assert one_error_line(own_checkout) == (
        f"avledger: error: gap {by_clerk['id']} is about your own checkout; another leader "
        "must approve it")
    not_leader = dcli("gap", "approve", str(by_clerk["id"]))
    assert "may not approve gap records: needs role leader" in one_error_line(not_leader)
    missing = dcli("gap", "approve", "999", actor="leader")
    assert missing.returncode == 4
    assert dcli("gap", "approve", str(by_clerk["id"]), actor="leader2").returncode == 0
    assert dcli("gap", "approve", str(own["id"]), actor="leader").returncode == 0
