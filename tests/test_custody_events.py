"""Which ledger events belong to a clip's history: found by what they name, so event types
that other parts of avledger add later appear without a change, and other footage's events
stay out."""

from __future__ import annotations

import os
from datetime import timedelta

from avledger.core.app import Avledger
from avledger.core.cases import registry as cases
from avledger.core.reports.custody import build
from avledger.timestamps import utcnow
from tests.factories import ClipSpec, insert_clips


def test_events_are_found_by_what_they_name(app: Avledger) -> None:
    now = utcnow()
    a, b = insert_clips(app, [ClipSpec("TC0001", f"DCIM/{n}.MP4", os.urandom(2000),
                                       now - timedelta(days=1), now) for n in "AB"])
    number = "平环强〔2026〕40号"
    cases.add_case(app, number=number, name="某厂 查封现场", enforcement_type="compulsion",
                   handlers=["0001"], confidentiality="none", now=now)
    cases.link_clips(app, number, [a], now=now)
    case_id = app.catalog.conn.execute("SELECT id FROM cases").fetchone()[0]
    with app.transaction() as conn:
        kept = [
            app.record(conn, "clip.tagged", f"clip:{a}", {"step": "查封/扣押现场笔录"}),
            app.record(conn, "widget.made", "widget:1", {"clips": [b, a]}),
            app.record(conn, "memo.added", "memo:1", {"case": case_id}),
            app.record(conn, "memo.named", "memo:2", {"number": number}),
            app.record(conn, "note.pointed", "note:3", {"refs": ["x", f"clip:{a}"]}),
            app.record(conn, "copy.restored", "copy:4", {"digest": _digest(app, a)}),
        ]
        left = [
            app.record(conn, "clip.tagged", f"clip:{b}", {"step": "调查笔录"}),
            app.record(conn, "widget.made", "widget:2", {"clips": [b]}),
            app.record(conn, "note.added", "note:1", {"clip": b}),
            app.record(conn, "memo.listed", "memo:3", {"case": case_id, "clips": [b]}),
            app.record(conn, "clip.restored", f"clip:{b}", {"hold": 99, "case": case_id}),
        ]
    app.checkpoint()
    shown = {e["seq"] for e in build(app, a).evidence["events"]}  # type: ignore[index]
    assert {e.seq for e in kept} <= shown
    assert not {e.seq for e in left} & shown


def _digest(app: Avledger, clip: int) -> str:
    return str(app.catalog.conn.execute("SELECT digest FROM clips WHERE id = ?",
                                        (clip,)).fetchone()[0])


def test_a_decision_under_legal_review_and_a_purge_are_in_the_history(  # type: ignore[no-untyped-def]
        app: Avledger, cli) -> None:
    import json

    from avledger.core.cases import legal_review

    now = utcnow()
    reviewed, old = insert_clips(app, [
        ClipSpec("TC0001", "DCIM/R.MP4", os.urandom(3000), now - timedelta(days=2), now),
        ClipSpec("TC0001", "DCIM/OLD.MP4", os.urandom(3000), now - timedelta(days=800),
                 now - timedelta(days=799))])
    number = "平环罚〔2026〕41号"
    cases.add_case(app, number=number, name="某厂 超标排放", enforcement_type="penalty",
                   handlers=["0001"], confidentiality="none", now=now)
    cases.link_clips(app, number, [reviewed], now=now)
    decided = legal_review.record_decision(app, number, kind="penalty", amount="200000.00",
                                           party="organisation", note="罚款", now=now)
    assert decided["hold"], decided  # a major decision: legal review, and a hold on the footage
    app.close()

    purged = cli("purge", str(old), "--reason", "test recording, no enforcement content",
                 "--yes")
    assert purged.returncode == 0, purged.stderr
    for clip, expected in ((reviewed, {"decision.recorded", "review.opened", "hold.placed"}),
                           (old, {"clip.ingested", "clip.purged"})):
        result = cli("clips", "custody", str(clip), "--format", "json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert expected <= {e["type"] for e in data["evidence"]["events"]}, clip
    retention = next(s for s in data["sections"] if s["key"] == "custody_retention")
    identity = next(s for s in data["sections"] if s["key"] == "custody_identity")
    assert retention["figures"]["purged_at"] and identity["figures"]["clip_status"] == "purged"
    assert identity["figures"]["sha256"] is None  # never burned to disc: not known any more


def test_a_damaged_stored_object_gives_no_sha256(app: Avledger, home, cli) -> None:  # type: ignore[no-untyped-def]
    import json

    now = utcnow()
    clip = insert_clips(app, [ClipSpec("TC0001", "DCIM/D.MP4", os.urandom(5000),
                                       now - timedelta(days=1), now)])[0]
    digest = _digest(app, clip)
    app.close()
    stored = next((home / "data" / "store" / "objects").rglob(digest))
    stored.chmod(0o644)
    data = bytearray(stored.read_bytes())
    data[100] ^= 0x01
    stored.write_bytes(bytes(data))
    result = cli("clips", "custody", str(clip), "--format", "json", "--lang", "en")
    assert result.returncode == 0, result.stderr
    identity = next(s for s in json.loads(result.stdout)["sections"]
                    if s["key"] == "custody_identity")
    assert identity["figures"]["sha256"] is None
    assert "avledger store verify" in identity["notes"][0]
