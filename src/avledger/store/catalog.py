"""The SQLite catalog: connections, write transactions, numbered migrations.

Several processes write at once (the dock daemon, the desk CLI, the cron sweep). Every write
is ``BEGIN IMMEDIATE`` with a busy timeout and a bounded retry, WAL is set once at creation,
``synchronous=FULL``. Migrations are numbered SQL files applied in order, each recorded in
``schema_migrations``; an existing catalog is backed up before it is migrated.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from avledger.errors import BusyError, StorageError

BUSY_TIMEOUT_MS = 10_000
RETRY_SECONDS = 120.0
# A migration that rebuilds a table (SQLite's way to change a constraint: create the new table,
# copy, drop the old one, rename) says so on a line of its own. It runs with foreign keys off,
# as SQLite requires for that, and must leave no dangling reference behind.
REBUILDS_TABLES = "-- migration: rebuilds tables"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    found: list[Migration] = []
    pkg = resources.files("avledger.store") / "migrations"
    for entry in pkg.iterdir():
        m = re.match(r"^(\d{4})_(\w+)\.sql$", entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StorageError(f"duplicate migration numbers: {versions}")
    return found


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Catalog:
    """One catalog file; open a fresh connection per thread/process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None

    # -- connections ----------------------------------------------------------------------
    def connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        except sqlite3.OperationalError as exc:
            raise StorageError(f"cannot open catalog {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            if not self.path.exists():
                raise StorageError(
                    f"no catalog at {self.path}", hint="run 'avledger init' first"
                )
            self._conn = self.connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A serialised write transaction (``BEGIN IMMEDIATE``), retried while busy."""
        conn = self.conn
        deadline = time.monotonic() + RETRY_SECONDS
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise BusyError(
                        f"catalog stayed locked for {RETRY_SECONDS:.0f} s",
                        hint="another avledger process holds a long write; try again",
                    ) from exc
                time.sleep(random.uniform(0.005, 0.05))
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                conn.execute("ROLLBACK")
                if _is_busy(exc):
                    raise BusyError("catalog was locked at commit; nothing was written") from exc
                raise StorageError(f"catalog commit failed: {exc}") from exc

    # -- schema -----------------------------------------------------------------------------
    def create(self) -> None:
        """Create the file with WAL mode (set once, persistent) and apply migrations."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = conn = self.connect()
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StorageError(f"catalog filesystem does not support WAL (got {mode})")
        self.migrate()

    def version(self) -> int:
        conn = self.conn
        has = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        ).fetchone()
        if not has:
            return 0
        row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def applied(self) -> set[int]:
        if self.version() == 0:
            return set()
        return {int(r[0]) for r in self.conn.execute("SELECT version FROM schema_migrations")}

    def pending(self) -> list[Migration]:
        done = self.applied()
        return [m for m in bundled_migrations() if m.version not in done]

    def migrate(self) -> list[Migration]:
        """Apply pending migrations, each in its own transaction; back up first if not new."""
        todo = self.pending()
        if not todo:
            return []
        if self.version() > 0:
            self.backup(self.path.with_name(
                f"{self.path.name}.bak-v{self.version()}-"
                f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
            ))
        conn = self.conn
        with self.write():
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        for mig in todo:
            with self._foreign_keys_off(REBUILDS_TABLES in mig.sql), self.write():
                if mig.version in self.applied():  # another process got there first
                    continue
                for statement in _split_sql(mig.sql):
                    conn.execute(statement)
                if REBUILDS_TABLES in mig.sql:
                    _check_references(conn, mig)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (mig.version, mig.name, datetime.now(UTC).isoformat(timespec="seconds")),
                )
        return todo

    @contextmanager
    def _foreign_keys_off(self, off: bool) -> Iterator[None]:
        """Foreign keys off around one migration (only outside a transaction is this possible)."""
        if not off:
            yield
            return
        self.conn.execute("PRAGMA foreign_keys = OFF")
        try:
            yield
        finally:
            self.conn.execute("PRAGMA foreign_keys = ON")

    def backup(self, target: Path) -> Path:
        dest = sqlite3.connect(target)
        try:
            self.conn.backup(dest)
        finally:
            dest.close()
        return target


def _check_references(conn: sqlite3.Connection, mig: Migration) -> None:
    """After a table rebuild every reference must still point at a row (else roll back)."""
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise StorageError(f"migration {mig.version:04d}_{mig.name} would leave dangling "
                           f"references in {', '.join(tables)}; nothing was changed")


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (``sqlite3.complete_statement`` keeps triggers whole)."""
    statements: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if not buf and line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements
