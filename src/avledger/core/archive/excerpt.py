"""The ledger excerpt on an archive disc: the footage's own events, provably from the ledger.

A court must not receive other cases' history, so the disc carries only the events about its
clips, cases and holds — each with an RFC 6962 inclusion proof against a signed checkpoint,
which together show the events are unaltered members of the agency's ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from avledger import verifier
from avledger.core.app import Avledger
from avledger.core.witness import client as witness_client
from avledger.i18n import _
from avledger.store import db
from avledger.store.ledger import Event
from avledger.store.proofs import MerkleTree, events_about, latest_signed

DIR = "ledger"


@dataclass
class Excerpt:
    files: dict[str, bytes]  # path on the disc -> content
    events: int
    size: int  # ledger size of the checkpoint the proofs are against


def build_excerpt(app: Avledger, subjects: list[str], *, sign: bool = True,
                  keep: Callable[[Event], bool] | None = None) -> Excerpt:
    """The events about ``subjects`` (those ``keep`` accepts, if given) with proofs against
    the latest signed checkpoint, which is made first (``sign``) so that it covers every
    event so far."""
    if sign:
        app.checkpoint()
    conn = app.catalog.conn
    head = latest_signed(conn)
    assert head is not None  # signed just now, or by the caller
    size = head.size
    note = witness_client.with_cosignatures(app.config, head.note, size)
    events = [e for e in events_about(conn, subjects, size) if keep is None or keep(e)]
    tree = MerkleTree.of_ledger(conn, size)
    lines, proofs = [], []
    for ev in events:
        lines.append(json.dumps(ev.as_dict(), ensure_ascii=False, sort_keys=True))
        proofs.append(json.dumps(tree.inclusion(ev.seq, size)))
    files = {
        f"{DIR}/events.jsonl": ("\n".join(lines) + "\n").encode(),
        f"{DIR}/proofs.jsonl": ("\n".join(proofs) + "\n").encode(),
        f"{DIR}/checkpoint.txt": note.encode(),
        f"{DIR}/consistency.jsonl": _consistency(conn, tree, size),
        f"{DIR}/ledger.pub": (app.public_key() + "\n").encode(),
        f"{DIR}/verify_ledger.py": Path(verifier.__file__).read_bytes(),
    }
    return Excerpt(files, len(events), size)


def _consistency(conn: db.Connection, tree: MerkleTree, size: int) -> bytes:
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
        return [_("{DIR}: cannot read the ledger excerpt: {error}").format(DIR=DIR, error=exc)]
    if expected_key and pub != expected_key.strip():
        problems.append(_("{DIR}/ledger.pub is not this installation's ledger key").format(DIR=DIR))
    for ev in events:
        seq = int(ev.get("seq", 0))
        if verifier.event_problem(ev):
            problems.append(_("{DIR}/events.jsonl: event {seq} does not match its hash").format(
                DIR=DIR, seq=seq))
        elif seq not in proofs or not verifier.proved(ev, proofs[seq], cp):
            problems.append(_("{DIR}/proofs.jsonl: event {seq} is not proved to be in the signed "
                              "ledger of size {size}").format(DIR=DIR, seq=seq, size=cp.size))
    return problems
