"""Legal review underneath the command: all-or-nothing writes, and the catalog upgrade that
gives holds their 'legal-review' reason without losing a row or a reference."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.cases import legal_review
from avledger.core.cases import registry as cases
from avledger.core.identity import Actor
from avledger.core.install.setup import initialise
from avledger.core.retention import held, holds
from avledger.errors import RefusedError, StorageError
from avledger.store import catalog as catalog_module
from avledger.store.catalog import REBUILDS_TABLES, Catalog, Migration
from avledger.timestamps import iso, utcnow
from tests.test_cases_holds_cli import some_clips

CASE = "平环罚〔2026〕7号"
LAWYER = Actor("lawyer", "0003", "Legal Officer", None, frozenset({"legal_reviewer"}))


def counts(app: Avledger) -> dict[str, int]:
    conn = app.catalog.conn
    return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("case_decisions", "legal_reviews", "holds", "ledger")}


def fail_on(app: Avledger, monkeypatch: pytest.MonkeyPatch, event: str) -> None:
    """The ledger write of ``event`` fails (as a full disk would make it)."""
    real = app.record

    def record(conn: sqlite3.Connection, type: str, *args: Any, **kw: Any) -> Any:
        if type == event:
            raise StorageError("catalog disk is full while writing; nothing was written")
        return real(conn, type, *args, **kw)

    monkeypatch.setattr(app, "record", record)


@pytest.mark.parametrize("event", ["decision.recorded", "hold.placed", "review.opened"])
def test_a_failed_decision_leaves_nothing(app: Avledger, monkeypatch: pytest.MonkeyPatch,
                                          event: str) -> None:
    clips = some_clips(app, 2)
    cases.add_case(app, number=CASE, name="n", enforcement_type="penalty", handlers=["0002"],
                   confidentiality="none", now=utcnow())
    cases.link_clips(app, CASE, clips, now=utcnow())
    before = counts(app)
    fail_on(app, monkeypatch, event)
    with pytest.raises(StorageError):
        legal_review.record_decision(app, CASE, kind="compulsion", amount=None, party=None,
                                     note="seal", now=utcnow())
    assert counts(app) == before
    assert held.held_clip_ids(app.catalog.conn) == set()
    monkeypatch.undo()
    done = legal_review.record_decision(app, CASE, kind="compulsion", amount=None, party=None,
                                        note="seal", now=utcnow())
    assert done["hold"]["clip_count"] == 2


@pytest.mark.parametrize("event", ["review.closed", "hold.released"])
def test_a_failed_review_leaves_it_open_and_the_footage_held(
        app: Avledger, monkeypatch: pytest.MonkeyPatch, event: str) -> None:
    clips = some_clips(app, 2)
    cases.add_case(app, number=CASE, name="n", enforcement_type="penalty", handlers=["0002"],
                   confidentiality="none", now=utcnow())
    cases.link_clips(app, CASE, clips, now=utcnow())
    decided = legal_review.record_decision(app, CASE, kind="penalty", amount="10000",
                                           party="citizen", note="", now=utcnow())
    app.actor = LAWYER
    before = counts(app)
    fail_on(app, monkeypatch, event)
    with pytest.raises(StorageError):
        legal_review.review_decision(app, CASE, outcome="approved", note="ok", now=utcnow())
    assert counts(app) == before
    assert held.held_clip_ids(app.catalog.conn) == set(clips)
    monkeypatch.undo()
    done = legal_review.review_decision(app, CASE, outcome="approved", note="ok",
                                        now=utcnow())
    assert done["id"] == decided["id"] and done["status"] == "approved"
    assert held.held_clip_ids(app.catalog.conn) == set()


def test_review_refuses_a_person_without_a_badge(app: Avledger) -> None:
    cases.add_case(app, number=CASE, name="n", enforcement_type="penalty", handlers=["0002"],
                   confidentiality="none", now=utcnow())
    legal_review.record_decision(app, CASE, kind="compulsion", amount=None, party=None,
                                 note="", now=utcnow())
    app.actor = Actor("system", name="avledger daemon")
    with pytest.raises(RefusedError, match="only a person on the roster"):
        legal_review.review_decision(app, CASE, outcome="approved", note="ok", now=utcnow())


# ---- the catalog upgrade ---------------------------------------------------------------------


def _only(keep: Callable[[Migration], bool]) -> Callable[[], list[Migration]]:
    everything = catalog_module.bundled_migrations
    return lambda: [m for m in everything() if keep(m)]


@pytest.fixture
def old_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home initialised by the release before decisions (migrations up to 0070)."""
    h = tmp_path / "home"
    monkeypatch.setenv("AVLEDGER_HOME", str(h))
    for var in ("AVLEDGER_CONFIG", "AVLEDGER_ACTOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(catalog_module, "bundled_migrations", _only(lambda m: m.version < 71))
    initialise(None)
    return h


def test_upgrade_keeps_every_hold_and_reference(old_home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    app = Avledger.open(loader.load(), migrate=False)
    try:
        assert 71 not in app.catalog.applied()
        clips = some_clips(app, 3)
        cases.add_case(app, number=CASE, name="n", enforcement_type="penalty",
                       handlers=["0001"], confidentiality="none", now=utcnow())
        cases.link_clips(app, CASE, clips[:2], now=utcnow())
        by_clip = holds.place_hold(app, holds.HoldTarget(clips=(clips[2],)), reason="complaint",
                                   note="party objected", now=utcnow())
        by_case = holds.place_hold(app, holds.HoldTarget(case=CASE), reason="major-sensitive",
                                   note="major", now=utcnow())
        holds.release_hold(app, by_case["id"], note="over", now=utcnow())
        with app.transaction() as conn:  # an archive set made for a hold refers to it
            conn.execute(
                "INSERT INTO archive_sets (title, scope, hold_id, media, capacity, copies, discs,"
                " clips, bytes, out_dir, created_at, created_by) VALUES ('t', '{}', ?, 'dvd',"
                " 1, 2, 1, 1, 1, '/tmp/x', ?, 'test')", (by_clip["id"], iso(utcnow())))
        conn = app.catalog.conn
        # The old table refuses the new reason.
        with pytest.raises(sqlite3.IntegrityError), app.transaction() as c:
            c.execute("UPDATE holds SET reason = 'legal-review' WHERE id = ?", (by_case["id"],))
        rows_before = [tuple(r) for r in conn.execute("SELECT * FROM holds ORDER BY id")]
        links_before = [tuple(r) for r in conn.execute("SELECT * FROM hold_clips")]

        monkeypatch.undo()
        done = [m.version for m in app.catalog.migrate()]
        assert done[:2] == [71, 72]  # and any later migrations
        assert [tuple(r) for r in conn.execute("SELECT * FROM holds ORDER BY id")] == rows_before
        assert [tuple(r) for r in conn.execute("SELECT * FROM hold_clips")] == links_before
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("SELECT hold_id FROM archive_sets").fetchone()[0] == by_clip["id"]
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "holds_active" in names and "holds_rebuilt" not in names
        assert [h["id"] for h in holds.holds_for_clip(conn, clips[2])] == [by_clip["id"]]
        # References are enforced again, the old reasons still checked, the new one accepted
        # only for a case.
        with pytest.raises(sqlite3.IntegrityError), app.transaction() as c:
            c.execute("INSERT INTO hold_clips (hold_id, clip_id) VALUES (9999, ?)", (clips[0],))
        with pytest.raises(sqlite3.IntegrityError), app.transaction() as c:
            c.execute("UPDATE holds SET reason = 'whim' WHERE id = ?", (by_case["id"],))
        with pytest.raises(sqlite3.IntegrityError), app.transaction() as c:
            c.execute("UPDATE holds SET reason = 'legal-review' WHERE id = ?", (by_clip["id"],))
        decided = legal_review.record_decision(app, CASE, kind="compulsion", amount=None,
                                               party=None, note="", now=utcnow())
        assert decided["hold"]["reason"] == "legal-review"
        assert decided["hold"]["clip_count"] == 2
    finally:
        app.close()


def test_a_rebuild_that_breaks_references_changes_nothing(
        old_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = Avledger.open(loader.load(), migrate=False)
    try:
        clips = some_clips(app, 1)
        holds.place_hold(app, holds.HoldTarget(clips=(clips[0],)), reason="other", note="x",
                         now=utcnow())
    finally:
        app.close()
    broken = Migration(9999, "broken", f"{REBUILDS_TABLES}\n"
                       "CREATE TABLE holds_new (id INTEGER PRIMARY KEY, reason TEXT);\n"
                       "DROP TABLE holds;\n"
                       "ALTER TABLE holds_new RENAME TO holds;\n")
    monkeypatch.setattr(catalog_module, "bundled_migrations", lambda: [broken])
    cat = Catalog(loader.load().catalog_path)
    try:
        with pytest.raises(StorageError, match="dangling references in hold_clips"):
            cat.migrate()
        conn = cat.conn
        assert 9999 not in cat.applied()
        assert conn.execute("SELECT COUNT(*) FROM holds").fetchone()[0] == 1
        assert "scope" in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'holds'"
                                       ).fetchone()[0]
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        cat.close()


def test_every_hold_reason_has_a_disc_label() -> None:
    """Archive disc labels print the reason in Chinese; a new reason must not print raw."""
    from avledger.core.archive.label import REASONS_ZH

    assert set(REASONS_ZH) == set(holds.REASONS)
