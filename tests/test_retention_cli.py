"""The retention commands end to end: dry run, --apply, restore, manual purge, roles."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from avledger.core.app import Avledger
from avledger.core.retention import sweep as retention
from avledger.timestamps import utcnow
from tests.factories import ClipSpec, insert_clips
from tests.test_cases_holds_cli import add_clerk, ok, one_line_error


def footage(app: Avledger) -> dict[str, list[int]]:
    now = utcnow()

    def spec(name: str, days: int, **kw: object) -> ClipSpec:
        base: dict[str, object] = {
            "device": "TC0001", "source_path": f"DCIM/{name}.MP4",
            "content": name.encode() * 100, "recorded": now - timedelta(days=days),
            "ingested": now - timedelta(days=days - 1)}
        base.update(kw)
        return ClipSpec(**base)  # type: ignore[arg-type]

    old = insert_clips(app, [spec(f"old{i}", 400 + i) for i in range(5)])
    young = insert_clips(app, [spec(f"young{i}", 100 + i) for i in range(3)])
    unknown = insert_clips(app, [spec("unknown", 500, recorded=None),
                                 spec("unknown-young", 30, recorded=None)])
    stray = insert_clips(app, [spec("stray", 420, attribution="unattributed", badge=None)])
    shared = insert_clips(app, [spec("copy-of-old0", 20, content=b"old0" * 100)])
    return {"old": old, "young": young, "unknown": unknown, "stray": stray, "shared": shared}


def statuses(app: Avledger) -> dict[int, str]:
    return dict(app.catalog.conn.execute("SELECT id, status FROM clips").fetchall())


def test_sweep_dry_run_apply_restore(cli, app: Avledger, home: Path) -> None:  # type: ignore[no-untyped-def]
    add_clerk(home)
    clips = footage(app)
    events_before = app.catalog.conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    plan = ok(cli("retention", "sweep", "--json"))
    assert plan["dry_run"] is True
    assert [i["clip_id"] for i in plan["to_pending"]] == clips["old"]
    assert plan["totals"]["kept"] == {"not-due": 4, "unclassified": 1, "unknown-time": 2}
    assert set(statuses(app).values()) == {"stored"}
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0] == events_before
    table = cli("retention", "sweep")
    assert "dry run" in table.stdout and "pending purge" in table.stdout
    # A clerk may look but not apply.
    ok(cli("retention", "sweep", env={"AVLEDGER_ACTOR": "clerk1"}))
    one_line_error(cli("retention", "sweep", "--apply", env={"AVLEDGER_ACTOR": "clerk1"}), 5,
                   "records_manager")
    applied = ok(cli("retention", "sweep", "--apply", "--json"))["applied"]
    assert applied["pending"] == clips["old"] and applied["purged"] == []
    assert ok(cli("retention", "sweep", "--apply", "--json"))["applied"]["pending"] == []
    pending = ok(cli("retention", "pending", "--json"))
    assert [p["clip_id"] for p in pending] == clips["old"]
    # Restore one; a clip that is not pending cannot be restored.
    ok(cli("retention", "restore", str(clips["old"][1]), "--note", "training material"))
    one_line_error(cli("retention", "restore", str(clips["young"][0]), "--note", "x"), 5,
                   "not pending")
    explained = ok(cli("retention", "show", str(clips["old"][1]), "--json"))[0]
    assert explained["status"] == "stored" and explained["kept_because"] == "restored"
    # Eight days later (simulated through the core), the pending period is over.
    later = utcnow() + timedelta(days=8)
    result = retention.apply_sweep(app, later)
    purged = sorted(p.clip_id for p in result.purged)
    assert purged == sorted(set(clips["old"]) - {clips["old"][1]})
    old0 = next(p for p in result.purged if p.clip_id == clips["old"][0])
    assert not old0.content_deleted
    assert old0.kept_because == f"shared with clip {clips['shared'][0]}"
    assert statuses(app)[clips["shared"][0]] == "stored"
    ok(cli("store", "verify"))
    ok(cli("ledger", "verify"))


def test_manual_purge(cli, app: Avledger, home: Path) -> None:  # type: ignore[no-untyped-def]
    add_clerk(home)
    clips = footage(app)
    held = clips["old"][0]
    ok(cli("hold", "place", "--clip", str(held), "--reason", "litigation", "--note", "suit"))
    before = statuses(app)
    # Any refusal purges nothing, and says why.
    one_line_error(cli("purge", str(clips["old"][1]), str(held), "--reason", "x", "--yes"), 5,
                   f"clip {held} is kept (held)")
    one_line_error(cli("purge", str(clips["young"][0]), "--reason", "x", "--yes"), 5,
                   "kept until")
    one_line_error(cli("purge", str(clips["unknown"][1]), "--reason", "x", "--yes"), 5,
                   "kept until")
    one_line_error(cli("purge", "424242", "--reason", "x", "--yes"), 4, "424242")
    one_line_error(cli("purge", str(clips["old"][1]), "--reason", "x", "--yes",
                       env={"AVLEDGER_ACTOR": "clerk1"}), 5, "records_manager")
    assert statuses(app) == before
    dry = ok(cli("purge", str(clips["old"][1]), str(clips["unknown"][0]), str(clips["stray"][0]),
                 "--reason", "no enforcement content", "--dry-run", "--json"))
    assert dry["would_purge"] == [clips["old"][1], clips["unknown"][0], clips["stray"][0]]
    assert statuses(app) == before
    done = ok(cli("purge", str(clips["old"][1]), str(clips["unknown"][0]), str(clips["stray"][0]),
                  "--reason", "no enforcement content", "--yes", "--json"))
    assert [p["clip"] for p in done["purged"]] == dry["would_purge"]
    assert all(p["content_deleted"] for p in done["purged"])
    again = ok(cli("purge", str(clips["old"][1]), "--reason", "again", "--yes", "--json"))
    assert again["purged"] == [] and again["already_purged"] == [clips["old"][1]]
    tomb = app.catalog.conn.execute(
        "SELECT digest, size, metadata, purged_by, reason, how FROM tombstones WHERE"
        " clip_id = ?", (clips["stray"][0],)).fetchone()
    meta = json.loads(tomb["metadata"])
    assert meta["clip"]["source_path"] == "DCIM/stray.MP4" and meta["device"]["serial"] == "TC0001"
    assert tomb["purged_by"].startswith("0001:") and tomb["how"] == "manual"
    assert tomb["reason"] == "no enforcement content"
    assert not app.store.exists(tomb["digest"])
    assert app.catalog.conn.execute("SELECT COUNT(*) FROM objects WHERE digest = ?",
                                    (tomb["digest"],)).fetchone()[0] == 0
    shown = ok(cli("retention", "show", str(clips["stray"][0]), "--json"))[0]
    assert shown["status"] == "purged" and shown["tombstone"]["how"] == "manual"
    ok(cli("store", "verify"))
    ok(cli("ledger", "verify"))
