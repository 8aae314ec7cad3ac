"""Events appended in a batch (one read and one write of the ledger's state) form the same
chain as events appended one by one, and the state matches the rows even when the batch is
left by an exception the transaction survives."""

from __future__ import annotations

from datetime import UTC, datetime

from avledger.core.app import Avledger
from avledger.store import ledger

WHEN = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def _append(app: Avledger, n: int, *, batch: bool) -> None:
    with app.catalog.write() as conn:
        if batch:
            with ledger.batched(conn):
                for i in range(n):
                    ledger.append(conn, actor="t", type="test.event", subject=f"s:{i}",
                                  payload={"i": i}, ts=WHEN)
        else:
            for i in range(n):
                ledger.append(conn, actor="t", type="test.event", subject=f"s:{i}",
                              payload={"i": i}, ts=WHEN)


def _chain(app: Avledger) -> tuple[list[tuple[str, str]], ledger.LedgerState]:
    conn = app.catalog.conn
    rows = [(e.prev_hash, e.hash) for e in ledger.iter_events(conn)]
    return rows, ledger.state(conn)


def test_a_batch_gives_the_chain_and_state_of_one_by_one_appends(app: Avledger) -> None:
    before = ledger.state(app.catalog.conn).size
    _append(app, 5, batch=False)
    one_by_one, state_after_single = _chain(app)
    _append(app, 5, batch=True)
    rows, st = _chain(app)
    assert st.size == before + 10 == len(rows)
    assert st.head == rows[-1][1]
    for (prev, _h), (_p, earlier) in zip(rows[1:], rows[:-1], strict=True):
        assert prev == earlier  # each event hashes its predecessor, batch or not
    from avledger import verifier
    fresh = verifier.Frontier.from_json("[]", 0)
    for _p, h in rows:
        fresh.push(verifier.leaf_hash(h))
    assert st.frontier.root() == fresh.root()
    assert rows[:len(one_by_one)] == one_by_one and state_after_single.size == before + 5


def test_state_is_written_when_an_exception_leaves_the_batch(app: Avledger) -> None:
    with app.catalog.write() as conn:
        try:
            with ledger.batched(conn):
                ledger.append(conn, actor="t", type="test.event", subject="s:1", ts=WHEN)
                raise ValueError("caught inside the transaction")
        except ValueError:
            pass
    rows, st = _chain(app)
    assert st.size == len(rows) and st.head == rows[-1][1]


class _Undo(Exception):
    pass


def test_many_events_in_one_statement_chain_as_one_by_one(app: Avledger) -> None:
    """``append_many`` (a group's clip.ingested events in a few INSERTs) stores exactly the
    rows, hashes and state that appending the same events one by one would."""
    events = [("test.event", f"s:{i}", {"i": i, "name": f"片段{i}", "none": None})
              for i in range(ledger.ROWS_PER_INSERT + 7)]  # more than one statement
    try:
        with app.catalog.write() as conn:
            for type, subject, payload in events:
                ledger.append(conn, actor="t", type=type, subject=subject, payload=payload,
                              ts=WHEN)
            one_by_one = [e.as_dict() for e in ledger.iter_events(conn)]
            state_one_by_one = ledger.state(conn)
            raise _Undo
    except _Undo:
        pass
    with app.catalog.write() as conn, ledger.batched(conn):
        ledger.append_many(conn, actor="t", events=events, ts=WHEN)
    assert [e.as_dict() for e in ledger.iter_events(app.catalog.conn)] == one_by_one
    st = ledger.state(app.catalog.conn)
    assert (st.size, st.head, st.frontier.root()) == (
        state_one_by_one.size, state_one_by_one.head, state_one_by_one.frontier.root())
