"""A psycopg 3 connection that behaves like the ``sqlite3`` one the code was written for.

It takes ``?`` placeholders, returns rows readable by position and by name, raises the
:mod:`avledger.store.db` exception classes (a unique violation says ``UNIQUE constraint
failed: table.column`` as SQLite does), rolls back only the failing statement inside a
transaction (a SAVEPOINT per write), and runs a write outside a transaction under the same
catalog-wide lock as ``Catalog.write()``. SQLite's ``INDEXED BY`` hints are dropped (the
PostgreSQL planner chooses), ``LIKE`` is ``ILIKE`` (SQLite's LIKE ignores ASCII case) and
``a IS ?`` is ``a IS NOT DISTINCT FROM ?``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import errors as pgerr
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus

from avledger.store import db

# pg_advisory_xact_lock key every write transaction takes: b"avledger" as a signed int64.
WRITE_LOCK = int.from_bytes(b"avledger", "big")
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|ALTER|DROP)\b", re.I)
_INDEXED_BY = re.compile(r"\s+INDEXED\s+BY\s+\w+", re.I)
_LIKE = re.compile(r"\bLIKE\b")
# SQLite's "a IS ?" compares any two values, NULL included; PostgreSQL spells it so.
_IS_NOT_PARAM = re.compile(r"\bIS\s+NOT\s+(\?|:[A-Za-z_]\w*)", re.I)
_IS_PARAM = re.compile(r"\bIS\s+(\?|:[A-Za-z_]\w*)", re.I)
_INSERT = re.compile(r"^\s*INSERT\b", re.I)
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class PgRow(tuple[Any, ...]):
    """A tuple that also answers ``row["column"]`` and ``keys()``, like ``sqlite3.Row``."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names[key])
            except KeyError:
                lowered = {k.lower(): v for k, v in self._names.items()}
                if key.lower() in lowered:
                    return tuple.__getitem__(self, lowered[key.lower()])
                raise IndexError(f"No item with that key: {key}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: psycopg.Cursor[Any]) -> Any:
    names = {d.name: i for i, d in enumerate(cursor.description or [])}

    def make(values: Sequence[Any]) -> PgRow:
        row = PgRow(values)
        row._names = names
        return row

    return make


class _BoolAsInt(Dumper):
    """SQLite stores Python booleans as 0/1 in INTEGER columns; so does this."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class _NumericLoader(Loader):
    """SUM over BIGINT is NUMERIC in PostgreSQL; SQLite gives int (or float for AVG)."""

    def load(self, data: Any) -> Any:
        value = Decimal(bytes(data).decode())
        if value == value.to_integral_value() and int(value.as_tuple().exponent) >= 0:
            return int(value)
        return float(value)


@lru_cache(maxsize=2048)
def translate(sql: str, with_params: bool, named: bool = False) -> str:
    """``?`` → ``%s`` and ``:name`` → ``%(name)s`` (outside string literals); ``%`` doubled
    when parameters are bound."""
    sql = _INDEXED_BY.sub("", sql)
    out: list[str] = []
    quoted = False
    for part in re.split(r"('(?:[^']|'')*')", sql):
        quoted = part.startswith("'") and part.endswith("'") and len(part) >= 2
        if quoted:
            out.append(part.replace("%", "%%") if with_params else part)
            continue
        part = _LIKE.sub("ILIKE", part)
        part = _IS_NOT_PARAM.sub(r"IS DISTINCT FROM \1", part)
        part = _IS_PARAM.sub(r"IS NOT DISTINCT FROM \1", part)
        if with_params:
            part = part.replace("%", "%%").replace("?", "%s")
            if named:
                part = _NAMED.sub(r"%(\1)s", part)
        out.append(part)
    return "".join(out)


class PgCursor:
    """The ``sqlite3.Cursor`` surface over a psycopg cursor."""

    def __init__(self, owner: PgConnection) -> None:
        self._owner = owner
        self._cur = owner.raw.cursor(row_factory=_row_factory)
        self.row_factory: Any = None
        self._inserted = False

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)

    @property
    def lastrowid(self) -> int | None:
        """The id an INSERT just drew from its table's identity (``lastval()``), as
        ``sqlite3``'s; the code itself uses ``RETURNING id``."""
        if not self._inserted:
            return None
        return self._owner.last_value()

    def execute(self, sql: str, parameters: Any = None, /) -> PgCursor:
        self._owner._run(self._cur, sql, parameters)
        self._inserted = bool(_INSERT.match(sql))
        return self

    def executemany(self, sql: str, seq: Iterable[Any], /) -> PgCursor:
        self._owner._run_many(self._cur, sql, seq)
        return self

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur.description is not None else None

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall()) if self._cur.description is not None else []

    def fetchmany(self, size: int = 100, /) -> list[Any]:
        return list(self._cur.fetchmany(size)) if self._cur.description is not None else []

    def __iter__(self) -> Iterator[Any]:
        if self._cur.description is None:
            return iter(())
        return iter(self._cur)


class PgConnection:
    """One autocommit psycopg connection; transactions are explicit ``BEGIN``/``COMMIT``."""

    dialect = "postgres"

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        raw.adapters.register_dumper(bool, _BoolAsInt)
        raw.adapters.register_loader("numeric", _NumericLoader)
        self._unique: dict[str, tuple[str, list[str]]] = {}
        self._savepoints = 0
        self.refresh_constraints()

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def cursor(self) -> PgCursor:
        return PgCursor(self)

    def execute(self, sql: str, parameters: Any = None, /) -> PgCursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> PgCursor:
        return self.cursor().executemany(sql, parameters)

    def close(self) -> None:
        self.raw.close()

    def last_value(self) -> int | None:
        box: list[int | None] = [None]

        def run() -> None:
            row = self.raw.execute("SELECT lastval()").fetchone()
            box[0] = int(row[0]) if row else None

        try:
            self._in_savepoint(run) if self.in_transaction else run()
        except psycopg.Error:  # no identity value drawn yet in this session
            return None
        return box[0]

    def refresh_constraints(self) -> None:
        """Unique indexes → (table, columns), so violations read as SQLite's do."""
        try:
            rows = self.raw.execute(
                "SELECT i.relname, t.relname, array_agg(a.attname ORDER BY k.n)"
                " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                " JOIN pg_class t ON t.oid = x.indrelid"
                " JOIN pg_namespace s ON s.oid = t.relnamespace"
                " CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)"
                " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum"
                " WHERE x.indisunique AND s.nspname = current_schema()"
                " GROUP BY i.relname, t.relname").fetchall()
        except psycopg.Error as exc:
            raise _translate_error(exc, {}) from exc
        self._unique = {str(r[0]): (str(r[1]), list(r[2])) for r in rows}

    # -- running statements ---------------------------------------------------------------
    def _run(self, cur: psycopg.Cursor[Any], sql: str, params: Any) -> None:
        if sql.strip().upper() == "BEGIN":
            # A plain BEGIN is a reader's: one snapshot for every statement, as in SQLite.
            # Writers begin READ COMMITTED under the write lock (PgCatalog._begin), so they
            # see every commit made while they waited for it.
            sql = "BEGIN ISOLATION LEVEL REPEATABLE READ"
        text = translate(sql, bool(params), isinstance(params, dict))
        args = _params(params) if params else None
        self._guarded(sql, lambda: cur.execute(text, args))

    def _run_many(self, cur: psycopg.Cursor[Any], sql: str, seq: Iterable[Any]) -> None:
        text = translate(sql, True)
        rows = [_params(p) for p in seq]
        if rows:
            self._guarded(sql, lambda: cur.executemany(text, rows))

    def _guarded(self, sql: str, run: Any) -> None:
        """Run with SQLite's failure scope: a failing statement undoes only itself."""
        try:
            if not _WRITE.match(sql):
                run()
            elif self.in_transaction:
                self._in_savepoint(run)
            else:
                with self.raw.transaction():
                    self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    run()
        except psycopg.Error as exc:
            raise _translate_error(exc, self._unique) from exc

    def _in_savepoint(self, run: Any) -> None:
        self._savepoints += 1
        name = f"s{self._savepoints}"
        self.raw.execute(f"SAVEPOINT {name}")
        try:
            run()
        except BaseException:
            if self.raw.info.transaction_status == TransactionStatus.INERROR:
                self.raw.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self.raw.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            self.raw.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._savepoints -= 1


def _params(params: Any) -> Any:
    if isinstance(params, dict):
        return params
    return tuple(params)


def _translate_error(exc: psycopg.Error,
                     unique: dict[str, tuple[str, list[str]]]) -> db.Error:
    """The ``sqlite3`` exception class (and, for unique keys, message) SQLite would raise."""
    if isinstance(exc, pgerr.UniqueViolation):
        name = exc.diag.constraint_name or ""
        table, columns = unique.get(name, (exc.diag.table_name or "?", [name]))
        return db.IntegrityError(
            "UNIQUE constraint failed: " + ", ".join(f"{table}.{c}" for c in columns))
    if isinstance(exc, pgerr.IntegrityError):
        return db.IntegrityError(exc.diag.message_primary or str(exc))
    if isinstance(exc, psycopg.OperationalError | psycopg.ProgrammingError
                  | pgerr.InternalError):
        err = db.OperationalError(str(exc))
        err.sqlstate = exc.sqlstate  # type: ignore[attr-defined]
        return err
    return db.DatabaseError(str(exc))
