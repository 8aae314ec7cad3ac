"""RFC 6962 proofs over the persisted ledger: that an event belongs to the ledger a signed
checkpoint covers, and that one checkpoint's ledger extends another's.

Everything that hands events to a third party — an archive disc's or a copy package's ledger
excerpt, a clip's custody report — proves them here, once, against the latest checkpoint;
the standalone ``verifier`` checks them with the same definitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from avledger import verifier
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.store.ledger import Event


class MerkleTree:
    """Merkle subtree roots, memoised, so many proofs over one tree cost O(n) in total."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.root = lru_cache(maxsize=None)(self._root)

    @classmethod
    def of_ledger(cls, conn: db.Connection, size: int) -> MerkleTree:
        """The tree of the first ``size`` events."""
        return cls([verifier.leaf_hash(r[0]) for r in conn.execute(
            "SELECT hash FROM ledger WHERE seq <= ? ORDER BY seq", (size,))])

    def _root(self, lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return self.leaves[lo]
        k = split(hi - lo)
        return verifier.node_hash(self.root(lo, lo + k), self.root(lo + k, hi))

    def consistency(self, m: int, n: int) -> list[bytes]:
        """RFC 6962 PROOF(m, D[0:n]) from the memoised subtree roots."""

        def sub(m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
            if m == hi - lo:
                return [] if complete else [self.root(lo, hi)]
            k = split(hi - lo)
            if m <= k:
                return sub(m, lo, lo + k, complete) + [self.root(lo + k, hi)]
            return sub(m - k, lo + k, hi, False) + [self.root(lo, lo + k)]

        return sub(m, 0, n, True) if 0 < m <= n else []

    def path(self, index: int, lo: int, hi: int) -> list[bytes]:
        """RFC 6962 PATH(index, D[lo:hi])."""
        if hi - lo <= 1:
            return []
        k = split(hi - lo)
        if index < lo + k:
            return self.path(index, lo, lo + k) + [self.root(lo + k, hi)]
        return self.path(index, lo + k, hi) + [self.root(lo, lo + k)]

    def inclusion(self, seq: int, size: int) -> dict[str, Any]:
        """The proof record of event ``seq`` in the ledger of ``size`` events, as the verifier
        reads it (``proofs.jsonl`` lines, a custody report's proofs)."""
        return {"seq": seq, "index": seq - 1, "size": size,
                "proof": [p.hex() for p in self.path(seq - 1, 0, size)]}


def split(n: int) -> int:
    """The largest power of two smaller than n (RFC 6962)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@dataclass(frozen=True)
class SignedHead:
    """The latest signed checkpoint: the ledger size it covers and its signed note."""

    size: int
    note: str


def latest_signed(conn: db.Connection) -> SignedHead | None:
    row = conn.execute("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
    return SignedHead(int(row["size"]), str(row["note"])) if row else None


def events_about(conn: db.Connection, subjects: Sequence[str],
                 upto: int | None = None) -> list[Event]:
    """The ledger events whose subject is one of ``subjects`` (up to seq ``upto``), in order."""
    events: list[Event] = []
    limit = ledger_store.state(conn).size if upto is None else upto
    for part in db.chunks(subjects):
        marks = ",".join("?" * len(part))
        events += list(ledger_store.iter_events(
            conn, where=f"subject IN ({marks}) AND seq <= ?", params=(*part, limit)))
    events.sort(key=lambda e: e.seq)
    return events
