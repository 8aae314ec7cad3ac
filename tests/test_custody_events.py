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
