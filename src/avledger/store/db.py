"""What the rest of the code may assume about a catalog connection, whatever the backend.

The catalog is SQLite by default and PostgreSQL when configured. Code outside ``store/``
types its connections as :class:`Connection` and catches the exception aliases below. For
SQLite these *are* ``sqlite3``'s own classes, so the embedded default behaves exactly as
before; the PostgreSQL connection raises the same classes, chained from the driver's error.
Rows allow ``row[0]`` and ``row["name"]`` on both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, TypeVar

IntegrityError = sqlite3.IntegrityError
OperationalError = sqlite3.OperationalError
DatabaseError = sqlite3.DatabaseError
Error = sqlite3.Error


class Row(Protocol):
    """A result row: by position and by column name (``sqlite3.Row`` is one)."""

    def __getitem__(self, key: Any, /) -> Any: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...
    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    row_factory: Any

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = ..., /) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of ``sqlite3.Connection`` the code uses; the PostgreSQL wrapper has it too."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Any, /) -> Cursor: ...
    def cursor(self) -> Cursor: ...
    def close(self) -> None: ...


def is_postgres(conn: Connection) -> bool:
    """The few statements that must differ by backend ask this (e.g. the purge)."""
    return getattr(conn, "dialect", "sqlite") == "postgres"


IN_LIST = 500  # values in one query's IN (...) list: well under SQLite's parameter limit

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = IN_LIST) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size`` (by default, one query's IN list)."""
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def value_lists(rows: Sequence[Sequence[Any]],
                per_statement: int) -> Iterator[tuple[str, list[Any]]]:
    """Multi-row ``VALUES`` for ``rows``, ``per_statement`` rows at a time: each statement's
    placeholders (``(?, ?), (?, ?)``) and its parameters, flat. A group of clips writes hundreds
    of rows; one statement per row cost more than the rows themselves."""
    for start in range(0, len(rows), per_statement):
        part = rows[start:start + per_statement]
        one = "(" + ", ".join(["?"] * len(part[0])) + ")"
        yield ",".join([one] * len(part)), [value for row in part for value in row]
