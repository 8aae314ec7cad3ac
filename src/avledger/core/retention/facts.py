"""Reading what the retention rules need from the catalog, in bulk and fast.

Holds, case links and restores are few; they are read once into memory. Stored clips old
enough to have expired are read straight from the ``clips_sweep`` index (status, recording
time, attribution, size), so a plan over a million clips touches only those and never the
table itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger.core.retention.held import held_clip_ids
from avledger.core.retention.policy import CaseLink, ClipFacts, RetentionPolicy
from avledger.store import db
from avledger.timestamps import iso, parse_iso

_COLUMNS = "id, corrected_start, ingested_at, attribution, size, status"
Candidate = tuple[int, str | None, str, int]  # id, corrected start, attribution, size


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
    steps: dict[int, str]  # clips of a checklist step (their retention follows its row)

    @classmethod
    def read(cls, conn: db.Connection, ids: Sequence[int] | None = None) -> Context:
        """Everything, or (inside a short write transaction) just what ``ids`` need."""
        case = {r[0]: CaseLink(r[0], r[1], r[2], parse_iso(r[3]) if r[3] else None)
                for r in _tuples(conn, "SELECT id, enforcement_type, status, closed_at"
                                       " FROM cases", ())}
        links: dict[int, tuple[CaseLink, ...]] = {}
        kept: dict[int, datetime] = {}
        for where, params in _restricted(ids):
            for clip_id, case_id in _tuples(
                    conn, f"SELECT clip_id, case_id FROM clip_cases {where}", params):
                links[clip_id] = links.get(clip_id, ()) + (case[case_id],)
            for clip_id, until in _tuples(
                    conn, f"SELECT clip_id, until FROM retention_keep {where}", params):
                kept[clip_id] = parse_iso(until)
        steps: dict[int, str] = {}
        for where, params in _restricted(ids):
            only = where.replace("WHERE clip_id", "AND id")
            steps.update(_tuples(conn, "SELECT id, step FROM clips WHERE step IS NOT NULL"
                                       f" {only}", params))
        return cls(held_clip_ids(conn), links, kept, steps)

    def special(self) -> set[int]:
        """Clips whose expiry is not simply 'recorded + default_days'."""
        return self.held | self.cases.keys() | self.kept.keys() | self.steps.keys()

    def row(self, raw: tuple[int, str | None, str | None, str, int, str]) -> ClipRow:
        clip_id, start, ingested, attribution, size, status = raw
        facts = ClipFacts(
            clip_id, parse_iso(start) if start else None,
            parse_iso(ingested) if ingested else None, attribution,
            held=clip_id in self.held, cases=self.cases.get(clip_id, ()),
            kept_until=self.kept.get(clip_id), step=self.steps.get(clip_id))
        return ClipRow(facts, size, status, start)


def _restricted(ids: Sequence[int] | None) -> Iterator[tuple[str, Sequence[int]]]:
    if ids is None:
        yield "", ()
        return
    for chunk in db.chunks(ids):
        yield f"WHERE clip_id IN ({','.join('?' * len(chunk))})", chunk


def _tuples(conn: db.Connection, sql: str, params: Sequence[Any]) -> Iterator[Any]:
    cur = conn.cursor()
    cur.row_factory = None
    yield from cur.execute(sql, params)


def expiry_candidates(conn: db.Connection, policy: RetentionPolicy,
                      now: datetime) -> Iterator[Candidate]:
    """Stored clips recorded before the default cutoff: only these can have expired (a case
    or a restore only ever lengthens retention)."""
    cutoff = iso(now - policy.default)
    yield from _tuples(conn, "SELECT id, corrected_start, attribution, size FROM clips"
                             " INDEXED BY clips_sweep WHERE status = 'stored'"
                             " AND corrected_start < ?", (cutoff,))
    if policy.unknown_time == "ingested":
        yield from _tuples(conn, "SELECT id, NULL, attribution, size FROM clips"
                                 " WHERE status = 'stored' AND corrected_start IS NULL"
                                 " AND ingested_at < ?", (cutoff,))


def clip_rows(conn: db.Connection, ctx: Context, ids: Sequence[int]) -> dict[int, ClipRow]:
    out: dict[int, ClipRow] = {}
    for chunk in db.chunks(ids):
        marks = ",".join("?" * len(chunk))
        for raw in _tuples(conn, f"SELECT {_COLUMNS} FROM clips WHERE id IN ({marks})", chunk):
            row = ctx.row(raw)
            out[row.facts.clip_id] = row
    return out


def count_not_due(conn: db.Connection, policy: RetentionPolicy, now: datetime) -> int:
    cutoff = iso(now - policy.default)
    return int(conn.execute("SELECT COUNT(*) FROM clips INDEXED BY clips_sweep"
                            " WHERE status = 'stored' AND corrected_start >= ?",
                            (cutoff,)).fetchone()[0])


def count_unknown_time(conn: db.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM clips INDEXED BY clips_sweep"
                            " WHERE status = 'stored' AND corrected_start IS NULL").fetchone()[0])
