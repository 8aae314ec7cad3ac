"""The ledger excerpt on an archive disc: the footage's own events, provably from the ledger.

A court must not receive other cases' history, so the disc carries only the events about its
clips, cases and holds — each with an RFC 6962 inclusion proof against a signed checkpoint,
which together show the events are unaltered members of the agency's ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from avledger import verifier
from avledger.core.app import Avledger
from avledger.core.clipref import chunks
from avledger.core.witness import client as witness_client
from avledger.i18n import _
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.store.ledger import Event

DIR = "ledger"


class _Tree:
    """Merkle subtree roots, memoised, so many proofs over one tree cost O(n) in total."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.root = lru_cache(maxsize=None)(self._root)

    def _root(self, lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return self.leaves[lo]
        k = _split(hi - lo)
        return verifier.node_hash(self.root(lo, lo + k), self.root(lo + k, hi))

    def consistency(self, m: int, n: int) -> list[bytes]:
        """RFC 6962 PROOF(m, D[0:n]) from the memoised subtree roots."""

        def sub(m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
            if m == hi - lo:
                return [] if complete else [self.root(lo, hi)]
            k = _split(hi - lo)
            if m <= k:
                return sub(m, lo, lo + k, complete) + [self.root(lo + k, hi)]
            return sub(m - k, lo + k, hi, False) + [self.root(lo, lo + k)]

        return sub(m, 0, n, True) if 0 < m <= n else []

    def path(self, index: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo <= 1:
            return []
        k = _split(hi - lo)
        if index < lo + k:
            return self.path(index, lo, lo + k) + [self.root(lo + k, hi)]
        return self.path(index, lo + k, hi) + [self.root(lo, lo + k)]


def _split(n: int) -> int:
    """The largest power of two smaller than n (RFC 6962)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@dataclass
class Excerpt:
    files: dict[str, bytes]  # path on the disc -> content
    events: int
    size: int  # ledger size of the checkpoint the proofs are against


def events_about(conn: db.Connection, subjects: list[str],
                 upto: int | None = None) -> list[Event]:
    """The ledger events whose subject is one of ``subjects`` (up to seq ``upto``), in order."""
    events: list[Event] = []
    limit = ledger_store.state(conn).size if upto is None else upto
    for part in chunks(subjects, 500):  # type: ignore[arg-type]
        marks = ",".join("?" * len(part))
        events += list(ledger_store.iter_events(
            conn, where=f"subject IN ({marks}) AND seq <= ?", params=(*part, limit)))
    events.sort(key=lambda e: e.seq)
    return events


def build_excerpt(app: Avledger, subjects: list[str], *, sign: bool = True,
                  keep: Callable[[Event], bool] | None = None) -> Excerpt:
    """The events about ``subjects`` (those ``keep`` accepts, if given) with proofs against
    the latest signed checkpoint, which is made first (``sign``) so that it covers every
    event so far."""
    if sign:
        app.checkpoint()
    conn = app.catalog.conn
    row = conn.execute("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
    size = int(row["size"])
    note = witness_client.with_cosignatures(app.config, str(row["note"]), size)
    events = [e for e in events_about(conn, subjects, size) if keep is None or keep(e)]
    leaves = [verifier.leaf_hash(r[0]) for r in conn.execute(
        "SELECT hash FROM ledger WHERE seq <= ? ORDER BY seq", (size,))]
    tree = _Tree(leaves)
    lines, proofs = [], []
    for ev in events:
        lines.append(json.dumps(ev.as_dict(), ensure_ascii=False, sort_keys=True))
        proofs.append(json.dumps({"seq": ev.seq, "index": ev.seq - 1, "size": size,
                                  "proof": [p.hex() for p in tree.path(ev.seq - 1, 0, size)]}))
    files = {
        f"{DIR}/events.jsonl": ("\n".join(lines) + "\n").encode(),
        f"{DIR}/proofs.jsonl": ("\n".join(proofs) + "\n").encode(),
        f"{DIR}/checkpoint.txt": note.encode(),
        f"{DIR}/consistency.jsonl": _consistency(conn, tree, size),
        f"{DIR}/ledger.pub": (app.public_key() + "\n").encode(),
        f"{DIR}/verify_ledger.py": Path(verifier.__file__).read_bytes(),
    }
    return Excerpt(files, len(events), size)


def _consistency(conn: db.Connection, tree: _Tree, size: int) -> bytes:
    """RFC 6962 proofs that this checkpoint extends the earlier receipts: the checkpoints of
    the copy packages handed out before, and the checkpoint just before this one. Whoever
    holds one of those can check offline that this excerpt's ledger grew from theirs."""
    rows = conn.execute(
        "SELECT size, note FROM checkpoints WHERE size < ? AND (size IN (SELECT checkpoint_size"
        " FROM access_packages) OR size = (SELECT MAX(size) FROM checkpoints WHERE size < ?))"
        " ORDER BY size", (size, size)).fetchall()
    lines = [json.dumps({"old": str(r["note"]), "proof": [
        p.hex() for p in tree.consistency(int(r["size"]), size)]}) for r in rows]
    return "".join(line + "\n" for line in lines).encode()


def check_excerpt(folder: Path, expected_key: str | None) -> list[str]:
    """Problems with an excerpt read back from a disc (empty when it proves out)."""
    problems: list[str] = []
    base = folder / DIR
    try:
        pub = (base / "ledger.pub").read_text(encoding="utf-8").strip()
        cp = verifier.verify_checkpoint((base / "checkpoint.txt").read_text(encoding="utf-8"),
                                        pub)
        events = list(verifier.read_jsonl(base / "events.jsonl"))
        proofs = {int(p["seq"]): p for p in verifier.read_jsonl(base / "proofs.jsonl")}
    except (OSError, ValueError, KeyError) as exc:
        return [f"{DIR}: cannot read the ledger excerpt: {exc}"]
    if expected_key and pub != expected_key.strip():
        problems.append(_("{DIR}/ledger.pub is not this installation's ledger key").format(DIR=DIR))
    for ev in events:
        seq = int(ev.get("seq", 0))
        body: dict[str, Any] = {k: ev.get(k) for k in verifier.EVENT_FIELDS}
        if verifier.event_hash(str(ev.get("prev_hash")), body) != ev.get("hash"):
            problems.append(_("{DIR}/events.jsonl: event {seq} does not match its hash").format(
                                DIR=DIR, seq=seq))
            continue
        proof = proofs.get(seq)
        if proof is None or not verifier.verify_inclusion(
                verifier.leaf_hash(str(ev["hash"])), seq - 1, cp.size,
                [bytes.fromhex(p) for p in proof["proof"]], cp.root):
            problems.append(_("{DIR}/proofs.jsonl: event {seq} is not proved to be in the signed "
                              "ledger of size {size}").format(DIR=DIR, seq=seq, size=cp.size))
    return problems
