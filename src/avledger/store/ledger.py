"""Ledger persistence: append events inside the caller's write transaction, read them back.

The hash chain and the Merkle frontier are updated in the same transaction as the change the
event records, so a state change without its event (or the reverse) cannot be committed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger import verifier
from avledger.store import db
from avledger.timestamps import iso, utcnow


@dataclass(frozen=True)
class Event:
    seq: int
    ts: str
    actor: str
    type: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "ts": self.ts, "actor": self.actor, "type": self.type,
            "subject": self.subject, "payload": self.payload,
            "prev_hash": self.prev_hash, "hash": self.hash,
        }


@dataclass(frozen=True)
class LedgerState:
    size: int
    head: str
    frontier: verifier.Frontier


# The ledger's state held in memory while a connection appends a batch (``batched``).
_held: dict[int, LedgerState] = {}


def state(conn: db.Connection) -> LedgerState:
    held = _held.get(id(conn))
    if held is not None:
        return held
    row = conn.execute("SELECT size, head, frontier FROM ledger_state WHERE id = 1").fetchone()
    return LedgerState(row[0], row[1], verifier.Frontier.from_json(row[2], row[0]))


@contextlib.contextmanager
def batched(conn: db.Connection) -> Iterator[None]:
    """Events appended in this block read the ledger's state once and write it once.

    A group of clips commits hundreds of events in one transaction; reading and rewriting
    the chain's head and Merkle frontier for each cost more than the events themselves. The
    chain is the same: each event still hashes its predecessor, in order. The state is
    written on leaving the block, also when an exception leaves it (the events already
    inserted stay consistent with it; a rolled-back transaction drops both)."""
    key = id(conn)
    if key in _held:  # already batching on this connection
        yield
        return
    start = _held[key] = state(conn)
    try:
        yield
    finally:
        end = _held.pop(key)
        if end.size != start.size:
            _write_state(conn, end)


def _write_state(conn: db.Connection, st: LedgerState) -> None:
    conn.execute("UPDATE ledger_state SET size = ?, head = ?, frontier = ? WHERE id = 1",
                 (st.size, st.head, st.frontier.to_json()))


def append(
    conn: db.Connection, *, actor: str, type: str, subject: str,
    payload: dict[str, Any] | None = None, ts: datetime | None = None,
) -> Event:
    """Append one event; the caller must hold a write transaction (``Catalog.write``)."""
    if not conn.in_transaction:
        raise RuntimeError("ledger.append needs an open write transaction")
    st = state(conn)
    seq, when = st.size + 1, iso(ts or utcnow())
    # Round-trip through canonical JSON so what is hashed is exactly what is stored.
    payload_text = verifier.canonical(payload or {}).decode()
    stored_payload: dict[str, Any] = json.loads(payload_text)
    body = {"seq": seq, "ts": when, "actor": actor, "type": type, "subject": subject,
            "payload": stored_payload}
    digest = verifier.event_hash(st.head, body)
    conn.execute(
        "INSERT INTO ledger (seq, ts, actor, type, subject, payload, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, when, actor, type, subject, payload_text, st.head, digest),
    )
    st.frontier.push(verifier.leaf_hash(digest))
    now = LedgerState(seq, digest, st.frontier)
    if id(conn) in _held:
        _held[id(conn)] = now  # written once, when the batch ends
    else:
        _write_state(conn, now)
    return Event(seq, when, actor, type, subject, stored_payload, st.head, digest)


ROWS_PER_INSERT = 100  # events in one INSERT statement (8 values each)


def append_many(conn: db.Connection, *, actor: str,
                events: Sequence[tuple[str, str, dict[str, Any]]],
                ts: datetime | None = None) -> None:
    """Append (type, subject, payload) events in order, chained exactly as ``append`` would
    chain them one by one, in a few multi-row INSERTs: a group of clips records hundreds of
    events, and one statement per event cost more than hashing them."""
    if not events:
        return
    if not conn.in_transaction:
        raise RuntimeError("ledger.append_many needs an open write transaction")
    st = state(conn)
    seq, head, rows = st.size, st.head, []
    for type, subject, payload in events:
        seq += 1
        when = iso(ts or utcnow())
        payload_text = verifier.canonical(payload).decode()
        body = {"seq": seq, "ts": when, "actor": actor, "type": type, "subject": subject,
                "payload": json.loads(payload_text)}
        digest = verifier.event_hash(head, body)
        rows.append((seq, when, actor, type, subject, payload_text, head, digest))
        st.frontier.push(verifier.leaf_hash(digest))
        head = digest
    for values, params in db.value_lists(rows, ROWS_PER_INSERT):
        conn.execute("INSERT INTO ledger (seq, ts, actor, type, subject, payload, prev_hash,"
                     " hash) VALUES " + values, params)
    now = LedgerState(seq, head, st.frontier)
    if id(conn) in _held:
        _held[id(conn)] = now  # written once, when the batch ends
    else:
        _write_state(conn, now)


def _row_event(row: db.Row) -> Event:
    try:
        payload = json.loads(row["payload"])
    except (json.JSONDecodeError, TypeError):
        payload = {"_unparseable": str(row["payload"])}
    return Event(row["seq"], row["ts"], row["actor"], row["type"], row["subject"], payload,
                 row["prev_hash"], row["hash"])


def iter_events(
    conn: db.Connection, *, where: str = "", params: tuple[Any, ...] = (),
    order: str = "seq", limit: int | None = None,
) -> Iterator[Event]:
    sql = "SELECT seq, ts, actor, type, subject, payload, prev_hash, hash FROM ledger"
    if where:
        sql += f" WHERE {where}"
    sql += f" ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    for row in conn.execute(sql, params):
        yield _row_event(row)


def count(conn: db.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0])


def checkpoints(conn: db.Connection) -> list[db.Row]:
    return list(conn.execute("SELECT size, root, head, ts, note FROM checkpoints ORDER BY size"))


def latest_checkpoint_size(conn: db.Connection) -> int:
    row = conn.execute("SELECT MAX(size) FROM checkpoints").fetchone()
    return int(row[0] or 0)
