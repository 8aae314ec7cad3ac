"""A WHERE clause from optional listing filters, so each listing states only its filters."""

from __future__ import annotations

from typing import Any


def where(*filters: tuple[str, Any]) -> tuple[str, list[Any]]:
    """``("WHERE a AND b", params)`` from ``(sql, value)`` pairs.

    A pair whose value is None or False is left out; True adds its SQL alone (a flag); any other
    value is bound to the one ``?`` in its SQL.
    """
    clauses: list[str] = []
    params: list[Any] = []
    for sql, value in filters:
        if value is None or value is False:
            continue
        clauses.append(sql)
        if value is not True:
            params.append(value)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params
