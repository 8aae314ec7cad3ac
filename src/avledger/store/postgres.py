"""The PostgreSQL catalog: the same schema, migrations and ledger guarantees as SQLite.

Several dock stations and desks write to one database at once. Every write transaction
begins by taking one transaction-scoped advisory lock (``pg_advisory_xact_lock``), which is
what SQLite's ``BEGIN IMMEDIATE`` gives: one writer at a time, so each ledger event extends
the head that the previous commit left, from any host. Readers are never blocked. Waiting
for the lock is bounded (``lock_timeout``, retried up to the same deadline as SQLite), and a
catalog that stays locked is the usual ``BusyError``.

The database must use the ``C`` collation: times are ISO-8601 text compared as text, as on
SQLite, and another collation would order them differently; such a database is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from avledger.errors import BusyError, StorageError
from avledger.i18n import _
from avledger.store import db, pgschema
from avledger.store.catalog import BUSY_TIMEOUT_MS, Catalog, Migration
from avledger.store.pgconn import WRITE_LOCK, PgConnection

COLLATIONS = ("C", "POSIX")
LOCK_NOT_AVAILABLE = "55P03"
RETRYABLE = ("40001", "40P01")  # serialization failure, deadlock


@dataclass(frozen=True)
class PgSettings:
    """Where the catalog database is; the password is read from a file, never logged."""

    dsn: str
    password_file: Path | None = None

    def connect_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"autocommit": True, "connect_timeout": 10,
                                "application_name": "avledger"}
        if self.password_file is not None:
            try:
                args["password"] = self.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise StorageError(_("cannot read the catalog password file {password_file}: "
                                     "{strerror}").format(
                                       password_file=self.password_file,
                                                     strerror=exc.strerror)) from exc
        return args

    def describe(self) -> str:
        """The DSN without any password in it."""
        try:
            info = psycopg.conninfo.conninfo_to_dict(self.dsn)
        except psycopg.Error:
            return "postgresql (unparsable dsn)"
        info.pop("password", None)
        where = f"{info.get('host', 'localhost')}:{info.get('port', 5432)}"
        return f"postgresql://{info.get('user', '')}@{where}/{info.get('dbname', '')}"


class PgCatalog(Catalog):
    """The catalog in a PostgreSQL database (created by its owner; see docs/admin.md)."""

    def __init__(self, settings: PgSettings) -> None:
        super().__init__(Path(settings.describe()))
        self.settings = settings
        self._pg: PgConnection | None = None

    # -- connections ----------------------------------------------------------------------
    def connect(self) -> PgConnection:  # type: ignore[override]
        try:
            raw = psycopg.connect(self.settings.dsn, **self.settings.connect_args())
            raw.execute(f"SET lock_timeout = {BUSY_TIMEOUT_MS}")
            raw.execute("SET TIME ZONE 'UTC'")
            collate = raw.execute("SELECT datcollate FROM pg_database"
                                  " WHERE datname = current_database()").fetchone()
        except psycopg.Error as exc:
            raise StorageError(_("cannot open the catalog database {describe}: {exc}").format(
                                   describe=self.describe(), exc=_first_line(exc)),
                               hint=_("check catalog.dsn and that the server is running")) from exc
        if collate is None or str(collate[0]) not in COLLATIONS:
            raw.close()
            raise StorageError(
                _("catalog database {describe} uses collation "
                  "{collation}; avledger needs 'C' (times "
                  "are compared as text)").format(
                    describe=self.describe(),
                             collation=collate[0] if collate else '?'),
                hint=_("CREATE DATABASE … TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE "
                                   "'C' (see docs/admin.md)"))
        return PgConnection(raw)

    @property
    def conn(self) -> db.Connection:
        return self.pg

    @property
    def pg(self) -> PgConnection:
        if self._pg is None:
            self._pg = self.connect()
            self._install_compat()
        return self._pg

    def _install_compat(self) -> None:
        """The SQLite-compatible functions (store/pgschema.py), when missing or outdated."""
        row = self.pg.execute("SELECT obj_description(to_regprocedure(?), 'pg_proc')",
                              (pgschema.COMPAT_MARK,)).fetchone()
        if row[0] == f"avledger compat {pgschema.COMPAT_VERSION}":
            return
        with self.write() as conn:
            for statement in pgschema.compat_statements():
                conn.execute(statement)

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()
            self._pg = None

    def exists(self) -> bool:
        """Has 'avledger init' created the schema? (A server that cannot be reached is an
        error, not an uninitialised catalog.)"""
        return self._has_migrations_table()

    def describe(self) -> str:
        return self.settings.describe()

    def _begin(self, conn: db.Connection) -> None:
        """``BEGIN`` + the catalog-wide advisory lock (``write()`` retries while it waits)."""
        conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))

    def _is_busy(self, exc: db.Error) -> bool:
        state = getattr(exc, "sqlstate", None)
        return state == LOCK_NOT_AVAILABLE or state in RETRYABLE

    def _error(self, exc: db.Error, what: str) -> StorageError | BusyError:
        if self._is_busy(exc):
            return BusyError(
                _("catalog stayed locked while {what}; nothing was written").format(what=what),
                hint=_("another avledger process holds a long write; try again"),
            )
        if getattr(exc, "sqlstate", "") == "53100":
            return StorageError(_("catalog disk is full while {what}; nothing was written").format(
                                    what=what),
                                hint=_("free space on the server of {describe}").format(
                                         describe=self.describe()))
        return StorageError(_("catalog error while {what} ({exc}); nothing was written").format(
                                what=what, exc=_first_line(exc)))

    # -- schema -----------------------------------------------------------------------------
    def create(self) -> None:
        """Apply every migration to the (empty) database its owner created."""
        self.migrate()

    def migrate(self) -> list[Migration]:
        done = super().migrate()
        self.pg.refresh_constraints()
        return done

    def _has_migrations_table(self) -> bool:
        row = self.conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        return bool(row[0])

    def _statements(self, mig: Migration) -> list[str]:
        own = pgschema.override(mig.version, mig.name)
        if own is not None:
            return pgschema.split_plain(own)
        return [pg for statement in super()._statements(mig)
                for pg in pgschema.translate(statement)]

    def _translate(self, sql: str) -> str:
        return pgschema.translate(sql)[0]

    def _before_migrating(self) -> None:
        """No file copy: each PostgreSQL migration is one transaction, undone whole if it fails
        (DDL is transactional); take a ``pg_dump`` first if a copy is wanted."""

    def _check_references(self, mig: Migration) -> None:
        """Foreign keys stay on throughout; the server has checked every statement."""

    @contextmanager
    def _foreign_keys_off(self, off: bool) -> Iterator[None]:
        yield

    def backup(self, target: Path) -> Path:
        raise StorageError(_("the PostgreSQL catalog is not copied by avledger"),
                           hint=_("use pg_dump on {describe}").format(describe=self.describe()))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
