"""Catalog migrations: numbered, applied by set membership, backed up before, idempotent init."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.errors import StorageError
from avledger.store import catalog as catalog_mod
from avledger.store.catalog import Catalog, Migration

REAL = catalog_mod.bundled_migrations


def _with(monkeypatch: pytest.MonkeyPatch, *extra: Migration) -> None:
    monkeypatch.setattr(catalog_mod, "bundled_migrations",
                        lambda: sorted(REAL() + list(extra), key=lambda m: m.version))


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


LATER = Migration(99, "later", "-- a capability added later\n"
                               "CREATE TABLE later_things (id INTEGER PRIMARY KEY);\n")
LOWER = Migration(9, "lower", "CREATE TABLE lower_things (id INTEGER PRIMARY KEY);\n"
                               "CREATE TRIGGER lower_no_delete BEFORE DELETE ON lower_things\n"
                               "BEGIN SELECT RAISE(ABORT, 'no'); END;\n")


def test_fresh_catalog_has_every_migration_and_wal(home: Path) -> None:
    cat = Catalog(loader.load().catalog_path)
    assert cat.applied() == {m.version for m in REAL()}
    assert cat.pending() == []
    assert cat.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not list(cat.path.parent.glob("*.bak-*"))  # nothing to back up when new
    cat.close()


def test_backup_before_migrating_an_existing_catalog(home: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = loader.load().catalog_path
    _with(monkeypatch, LATER)
    with Avledger.open(loader.load()) as app:  # any command migrates a catalog that is behind
        assert 99 in app.catalog.applied()
    newest = max(m.version for m in REAL())
    backups = list(path.parent.glob(f"{path.name}.bak-v{newest}-*"))
    assert len(backups) == 1
    assert "later_things" in _tables(path)
    assert "later_things" not in _tables(backups[0])  # the state before migrating
    assert "ledger" in _tables(backups[0])


def test_lower_number_added_later_is_still_applied(home: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = loader.load().catalog_path
    _with(monkeypatch, LATER)
    Avledger.open(loader.load()).close()
    _with(monkeypatch, LATER, LOWER)  # 9 arrives after 99 was applied (merged branches)
    cat = Catalog(path)
    assert [m.version for m in cat.pending()] == [9]
    assert [m.version for m in cat.migrate()] == [9]
    assert {"lower_things", "later_things"} <= _tables(path)
    assert cat.pending() == [] and cat.migrate() == []
    cat.close()
    assert len(list(path.parent.glob(f"{path.name}.bak-*"))) == 2


def test_failed_migration_changes_nothing(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = loader.load().catalog_path
    broken = Migration(98, "broken", "CREATE TABLE half_done (id INTEGER);\n"
                                     "INSERT INTO no_such_table VALUES (1);\n")
    _with(monkeypatch, broken)
    with pytest.raises(StorageError, match="migration 0098_broken failed: no such table"):
        Avledger.open(loader.load())
    assert "half_done" not in _tables(path)  # the whole migration rolled back
    cat = Catalog(path)
    assert 98 not in cat.applied()
    cat.close()


def test_reinit_is_idempotent(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cfg = loader.load()
    files = {p: p.read_bytes() for p in (cfg.key_path, cfg.key_path.with_suffix(".pub"),
                                         home / "avledger.yaml")}
    before = json.loads(cli("status", "--json").stdout)
    out = cli("init", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["created"] == []
    assert len(report["kept"]) == 3
    again = cli("init", "--json")
    assert json.loads(again.stdout)["created"] == []
    assert {p: p.read_bytes() for p in files} == files  # key, public key and config untouched
    after = json.loads(cli("status", "--json").stdout)
    assert after["ledger"] == before["ledger"]  # no new events
    assert not list(cfg.catalog_path.parent.glob("*.bak-*"))  # nothing to migrate
    assert cli("ledger", "verify").returncode == 0


def test_init_text_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import run_cli

    monkeypatch.setenv("AVLEDGER_HOME", str(tmp_path / "h"))
    first = run_cli("init")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("created") == 4
    assert "ledger public key: avledger.local/h+" in first.stdout
    second = run_cli("init")
    assert second.stdout.count("kept") == 3 and "created" not in second.stdout
