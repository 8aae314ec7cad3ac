"""Reading what the retention rules need from the catalog, in bulk and fast.

Holds, case links and restores are few; they are read once into memory. Clips are read by
range (``clips(status, corrected_start)`` index) so that a plan over a million clips only
touches those old enough to have expired.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from avledger.core.clipref import chunks
from avledger.core.clock import iso, parse_iso
from avledger.core.holds import held_clip_ids
from avledger.core.retention_policy import CaseLink, ClipFacts, RetentionPolicy

_COLUMNS = "id, corrected_start, ingested_at, attribution, size, status"


@dataclass
class ClipRow:
    facts: ClipFacts
    size: int
    status: str
    recorded: str | None  # as stored, for display


@dataclass
class Context:
    """The small tables, read once per plan or per transaction."""

    held: set[int]
    cases: dict[int, tuple[CaseLink, ...]]
    kept: dict[int, datetime]

    @classmethod
    def read(cls, conn: sqlite3.Connection) -> Context:
        links: dict[int, list[CaseLink]] = defaultdict(list)
        for clip_id, case_id, etype, status, closed_at in conn.execute(
                "SELECT cc.clip_id, k.id, k.enforcement_type, k.status, k.closed_at"
                " FROM clip_cases cc JOIN cases k ON k.id = cc.case_id"):
            links[clip_id].append(CaseLink(case_id, etype, status,
                                           parse_iso(closed_at) if closed_at else None))
        kept = {r[0]: parse_iso(r[1])
                for r in conn.execute("SELECT clip_id, until FROM retention_keep")}
        return cls(held_clip_ids(conn), {k: tuple(v) for k, v in links.items()}, kept)

    def row(self, raw: tuple[int, str | None, str, str, int, str]) -> ClipRow:
        clip_id, start, ingested, attribution, size, status = raw
        facts = ClipFacts(
            clip_id, parse_iso(start) if start else None, parse_iso(ingested), attribution,
            held=clip_id in self.held, cases=self.cases.get(clip_id, ()),
            kept_until=self.kept.get(clip_id))
        return ClipRow(facts, size, status, start)


def _tuples(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> Iterator[tuple]:  # type: ignore[type-arg]
    cur = conn.cursor()
    cur.row_factory = None
    yield from cur.execute(sql, params)


def expiry_candidates(conn: sqlite3.Connection, ctx: Context, policy: RetentionPolicy,
                      now: datetime) -> Iterator[ClipRow]:
    """Stored clips old enough that they may have expired (no others can have)."""
    cutoff = iso(now - policy.default)
    yield from (ctx.row(r) for r in _tuples(
        conn, f"SELECT {_COLUMNS} FROM clips WHERE status = 'stored'"
              " AND corrected_start < ?", (cutoff,)))
    if policy.unknown_time == "ingested":
        yield from (ctx.row(r) for r in _tuples(
            conn, f"SELECT {_COLUMNS} FROM clips WHERE status = 'stored'"
                  " AND corrected_start IS NULL AND ingested_at < ?", (cutoff,)))


def clip_rows(conn: sqlite3.Connection, ctx: Context, ids: Sequence[int]) -> dict[int, ClipRow]:
    out: dict[int, ClipRow] = {}
    for chunk in chunks(ids, 500):
        marks = ",".join("?" * len(chunk))
        for raw in _tuples(conn, f"SELECT {_COLUMNS} FROM clips WHERE id IN ({marks})", chunk):
            row = ctx.row(raw)
            out[row.facts.clip_id] = row
    return out


def count_not_due(conn: sqlite3.Connection, policy: RetentionPolicy, now: datetime) -> int:
    cutoff = iso(now - policy.default)
    return int(conn.execute("SELECT COUNT(*) FROM clips WHERE status = 'stored'"
                            " AND corrected_start >= ?", (cutoff,)).fetchone()[0])


def count_unknown_time(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM clips WHERE status = 'stored'"
                            " AND corrected_start IS NULL").fetchone()[0])
