"""The PostgreSQL schema: the same migrations, versions, tables and columns as SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from avledger.errors import StorageError
from avledger.store import db
from avledger.store.catalog import Catalog, bundled_migrations, index_tables
from avledger.store.postgres import PgCatalog, PgSettings


def _sqlite_schema(path: Path) -> dict[str, list[str]]:
    cat = Catalog(path)
    cat.create()
    conn = cat.conn
    # The full-text index of notes and tags is SQLite's own; PostgreSQL searches the same
    # columns without one (migrations/postgres/0090).
    derived = index_tables(conn)
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        if r[0] not in derived]
    out = {t: sorted(r[1] for r in conn.execute(f"PRAGMA table_info({t})")) for t in tables}
    cat.close()
    return out


def _pg_schema(dsn: str) -> dict[str, list[str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()").fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return {t: sorted(c) for t, c in out.items()}


def test_migrations_apply_and_match_sqlite(pg_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dsn = pg_server.empty_database()
    cat = PgCatalog(PgSettings(dsn))
    assert not cat.exists()
    applied = cat.migrate()
    assert [m.version for m in applied] == [m.version for m in bundled_migrations()]
    assert cat.applied() == {m.version for m in bundled_migrations()}
    assert cat.migrate() == []  # a second run finds nothing to do
    assert cat.exists()
    cat.close()
    assert _pg_schema(dsn) == _sqlite_schema(tmp_path / "catalog.db")


def test_sqlite_and_postgres_record_the_same_versions(pg_dsn: str, tmp_path: Path) -> None:
    lite = Catalog(tmp_path / "c.db")
    lite.create()
    pg = PgCatalog(PgSettings(pg_dsn))
    assert lite.applied() == pg.applied()
    names = {tuple(r) for r in lite.conn.execute("SELECT version, name FROM schema_migrations")}
    assert names == {tuple(r) for r in pg.conn.execute(
        "SELECT version, name FROM schema_migrations")}
    lite.close()
    pg.close()


def test_a_database_with_another_collation_is_refused(pg_server) -> None:  # type: ignore[no-untyped-def]
    try:
        dsn = pg_server.empty_database(collate="C.UTF-8")
    except psycopg.Error:
        pytest.skip("this server has no C.UTF-8 locale to build the wrong database with")
    with pytest.raises(StorageError, match="collation"):
        PgCatalog(PgSettings(dsn)).conn  # noqa: B018


def test_rows_errors_and_placeholders_behave_as_on_sqlite(pg_dsn: str) -> None:
    cat = PgCatalog(PgSettings(pg_dsn))
    conn = cat.conn
    with cat.write() as tx:
        tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("k", "50% ?"))
    row = conn.execute("SELECT key, value FROM meta WHERE key = ? AND value LIKE '50%'",
                       ("k",)).fetchone()
    assert row[1] == row["value"] == "50% ?"
    assert dict(row) == {"key": "k", "value": "50% ?"}
    with pytest.raises(db.IntegrityError, match="UNIQUE constraint failed: meta.key"), \
            cat.write() as tx:
        tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("k", "again"))
    # A failing statement undoes only itself, as in SQLite: the transaction goes on.
    with cat.write() as tx:
        with pytest.raises(sqlite3.IntegrityError):
            tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("k", "again"))
        tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("k2", "v"))
    assert conn.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == 2
    assert conn.execute("SELECT SUM(size), TOTAL(size) FROM objects").fetchone() == (None, 0.0)
    cat.close()


def test_ledger_rows_are_append_only(pg_dsn: str) -> None:
    cat = PgCatalog(PgSettings(pg_dsn))
    with cat.write() as tx:
        from avledger.store import ledger as ledger_store
        ledger_store.append(tx, actor="t", type="test.one", subject="s", payload={})
    for sql in ("UPDATE ledger SET actor = 'x'", "DELETE FROM ledger"):
        with pytest.raises(db.IntegrityError, match="append-only"), cat.write() as tx:
            tx.execute(sql)
    cat.close()


def test_an_unreachable_server_is_named_not_taken_for_a_new_catalog(pg_server) -> None:  # type: ignore[no-untyped-def]
    cat = PgCatalog(PgSettings(f"host=127.0.0.1 port={pg_server.port} dbname=nosuchdb"
                               " user=postgres"))
    with pytest.raises(StorageError, match="cannot open the catalog database"):
        cat.exists()
