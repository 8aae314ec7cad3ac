"""The SQLite catalog: connections, write transactions, numbered migrations.

Several processes write at once (the dock daemon, the desk CLI, the cron sweep). Every write
is ``BEGIN IMMEDIATE`` with a busy timeout and a bounded retry, WAL is set once at creation,
``synchronous=FULL``. Migrations are numbered SQL files applied in order, each recorded in
``schema_migrations``; an existing catalog is backed up before it is migrated.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from avledger.errors import BusyError, StorageError
from avledger.i18n import _
from avledger.store import db

REBUILDS_TABLES = "-- migration: rebuilds tables"
BUSY_TIMEOUT_MS = 10_000
RETRY_SECONDS = 120.0
MIGRATIONS = Path(__file__).with_name("migrations")  # installed as files (package-data)
MIGRATION_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered schema change; its SQL is read only when it is applied (every command
    asks which are pending, and reading them all cost a file each at every start)."""

    version: int
    name: str
    source: str | Path  # the SQL itself, or the bundled file that holds it

    @functools.cached_property
    def sql(self) -> str:
        return self.source.read_text("utf-8") if isinstance(self.source, Path) else self.source


def bundled_migrations() -> list[Migration]:
    found: list[Migration] = []
    with os.scandir(MIGRATIONS) as entries:
        for entry in entries:
            m = MIGRATION_NAME.match(entry.name)
            if m:
                found.append(Migration(int(m.group(1)), m.group(2), Path(entry.path)))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StorageError(_("duplicate migration numbers: {versions}").format(versions=versions))
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
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            # Statement journals and sort space in memory: they only undo one statement of an
            # open transaction, so on disk they protect nothing, and a group commit of 256
            # clips wrote ~9,000 pages of them to /var/tmp (strace of 2,000 small clips).
            conn.execute("PRAGMA temp_store = MEMORY")
        except sqlite3.Error as exc:
            raise self._error(exc, _("opening {path}").format(path=self.path)) from exc
        return conn

    @property
    def conn(self) -> db.Connection:
        if self._conn is None:
            if not self.path.exists():
                raise StorageError(
                    _("no catalog at {path}").format(path=self.path),
                    hint=_("run 'avledger init' first")
                )
            conn = self.connect()
            try:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError as exc:
                conn.close()
                raise self._error(exc, _("opening {path}").format(path=self.path)) from exc
            except sqlite3.DatabaseError as exc:
                conn.close()
                raise StorageError(_("catalog {path} is damaged or "
                                     "not a SQLite database ({exc})").format(
                                       path=self.path, exc=exc)) from exc
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def write(self) -> Iterator[db.Connection]:
        """A serialised write transaction (``BEGIN IMMEDIATE``), retried while busy.

        SQLite failures inside it (disk full, I/O error, lock) roll back and surface as
        StorageError/BusyError, never as raw ``sqlite3`` exceptions.
        """
        conn = self.conn
        deadline = time.monotonic() + RETRY_SECONDS
        while True:
            try:
                self._begin(conn)
                break
            except db.OperationalError as exc:
                _rollback(conn)
                if not self._is_busy(exc) or time.monotonic() > deadline:
                    raise self._error(exc, _("starting a write")) from exc
                import random  # loaded only when another process holds the catalog

                time.sleep(random.uniform(0.005, 0.05))
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            _rollback(conn)
            if _is_storage_failure(exc):
                raise self._error(exc, _("writing")) from exc  # type: ignore[arg-type]
            raise

    def _begin(self, conn: db.Connection) -> None:
        """Start a write transaction that excludes every other writer."""
        conn.execute("BEGIN IMMEDIATE")

    def _is_busy(self, exc: db.Error) -> bool:
        return isinstance(exc, db.OperationalError) and _is_busy(exc)

    def _error(self, exc: db.Error, what: str) -> StorageError | BusyError:
        if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
            return BusyError(
                _("catalog stayed locked while {what}; nothing was written").format(what=what),
                hint=_("another avledger process holds a long write; try again"),
            )
        name = getattr(exc, "sqlite_errorname", "") or ""
        if name == "SQLITE_FULL" or (name.startswith("SQLITE_IOERR") and _disk_full(self.path)):
            return StorageError(_("catalog disk is full while {what}; nothing was written").format(
                                    what=what),
                                hint=_("free space on the disk holding {path}").format(
                                         path=self.path))
        return StorageError(_("catalog error while {what} ({exc}); nothing was written").format(
                                what=what, exc=exc))

    # -- schema -----------------------------------------------------------------------------
    def create(self) -> None:
        """Create the file with WAL mode (set once, persistent) and apply migrations."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = conn = self.connect()
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StorageError(_("catalog filesystem does not support WAL (got {mode})").format(
                                   mode=mode))
        self.migrate()

    def exists(self) -> bool:
        """Has 'avledger init' created this catalog?"""
        return self.path.exists()

    def describe(self) -> str:
        """Where the catalog is, for messages (never a password)."""
        return str(self.path)

    def _has_migrations_table(self) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        ).fetchone() is not None

    def _statements(self, mig: Migration) -> list[str]:
        """The statements of one migration as this backend runs them."""
        return _split_sql(mig.sql)

    def _before_migrating(self) -> None:
        """An existing SQLite catalog is copied aside before it is migrated."""
        self.backup(self._backup_name())

    def version(self) -> int:
        conn = self.conn
        if not self._has_migrations_table():
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
            self._before_migrating()
        conn = self.conn
        with self.write():
            conn.execute(self._translate(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            ))
        for mig in todo:
            with self._foreign_keys_off(REBUILDS_TABLES in mig.sql), self.write():
                if mig.version in self.applied():  # another process got there first
                    continue
                try:
                    for statement in self._statements(mig):
                        conn.execute(statement)
                except db.Error as exc:
                    raise StorageError(
                        _("catalog migration {version:04d}_{name} failed: {exc}; the catalog is "
                          "unchanged by it").format(version=mig.version, name=mig.name, exc=exc),
                        hint=_("the catalog was backed up before migrating; report this error"),
                    ) from exc
                if REBUILDS_TABLES in mig.sql:
                    self._check_references(mig)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (mig.version, mig.name, datetime.now(UTC).isoformat(timespec="seconds")),
                )
        return todo

    def _translate(self, sql: str) -> str:
        """A schema statement written for SQLite, as this backend runs it."""
        return sql

    def _check_references(self, mig: Migration) -> None:
        _check_references(self._sqlite(), mig)

    def _sqlite(self) -> sqlite3.Connection:
        self.conn  # noqa: B018 - opens it
        assert self._conn is not None
        return self._conn

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

    def _backup_name(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        base = f"{self.path.name}.bak-v{self.version()}-{stamp}"
        target = self.path.with_name(base)
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{base}-{n}")
        return target

    def backup(self, target: Path) -> Path:
        """A consistent copy of the catalog (SQLite online backup)."""
        try:
            dest = sqlite3.connect(target)
            try:
                self._sqlite().backup(dest)
            finally:
                dest.close()
        except sqlite3.Error as exc:
            raise StorageError(_("cannot back up the catalog to {target}: {exc}").format(
                                   target=target, exc=exc)) from exc
        return target


def index_tables(conn: db.Connection) -> set[str]:
    """SQLite's own full-text indexes (virtual tables and their shadow tables): derived from
    the catalog's rows by triggers, so never copied or compared as data."""
    virtual = [str(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")]
    return {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if any(r[0] == v or str(r[0]).startswith(f"{v}_") for v in virtual)}


def _disk_full(path: Path) -> bool:
    """SQLite reports a full disk as an I/O error when growing its shared-memory file."""
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024


def _is_storage_failure(exc: BaseException) -> bool:
    """Locks, full disks, I/O errors, corruption — not constraint violations or bugs."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


def _rollback(conn: db.Connection) -> None:
    """Roll back if SQLite has not already done so itself (it does after some errors)."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


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


def _check_references(conn: db.Connection, mig: Migration) -> None:
    """After a table rebuild every reference must still point at a row (else roll back)."""
    rebuilt = set(re.findall(r"CREATE TABLE\s+(?:IF NOT EXISTS\s+)?(\w+)", mig.sql, re.I))
    rebuilt |= set(re.findall(r"RENAME TO\s+(\w+)", mig.sql, re.I))
    # Only references into the rebuilt tables: purged clips keep their (removed) object
    # digests on purpose, and must not block an unrelated rebuild.
    broken = [row for row in conn.execute("PRAGMA foreign_key_check").fetchall()
              if str(row[2]) in rebuilt or str(row[0]) in rebuilt]
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise StorageError(_("migration {version:04d}_{name} would leave dangling references in "
                             "{tables}; nothing was changed").format(
                               version=mig.version, name=mig.name, tables=', '.join(tables)))
