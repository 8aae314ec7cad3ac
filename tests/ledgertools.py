"""Helpers for ledger tests: a ledger with several checkpoints, and an attacker with file access.

The attacker drops the append-only triggers first — anyone who can write the catalog file can.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from avledger import verifier
from avledger.config import loader
from avledger.core.app import Avledger


def grow_ledger(events: int = 20, checkpoint_every: int = 5) -> None:
    """Append ``events`` events after init's, signing a checkpoint every few."""
    with Avledger.open(loader.load()) as app:
        for i in range(events):
            with app.transaction() as conn:
                app.record(conn, "test.event", f"thing:{i % 3}", {"i": i, "note": "x" * i})
            if (i + 1) % checkpoint_every == 0:
                app.checkpoint()


class Attacker:
    """Raw write access to the catalog and the checkpoint file."""

    def __init__(self) -> None:
        cfg = loader.load()
        self.catalog = cfg.catalog_path
        self.cp_file = cfg.checkpoint_file
        self.conn = sqlite3.connect(self.catalog, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("DROP TRIGGER IF EXISTS ledger_no_update")
        self.conn.execute("DROP TRIGGER IF EXISTS ledger_no_delete")

    def close(self) -> None:
        self.conn.close()

    def row(self, seq: int) -> sqlite3.Row:
        return self.conn.execute("SELECT * FROM ledger WHERE seq = ?", (seq,)).fetchone()

    def events(self) -> list[dict]:  # type: ignore[type-arg]
        rows = self.conn.execute("SELECT * FROM ledger ORDER BY seq").fetchall()
        return [dict(r) | {"payload": json.loads(r["payload"])} for r in rows]

    def edit_payload(self, seq: int, payload: dict, rehash: bool = False) -> None:  # type: ignore[type-arg]
        text = verifier.canonical(payload).decode()
        self.conn.execute("UPDATE ledger SET payload = ? WHERE seq = ?", (text, seq))
        if rehash:
            ev = next(e for e in self.events() if e["seq"] == seq)
            self.conn.execute("UPDATE ledger SET hash = ? WHERE seq = ?",
                              (verifier.event_hash(ev["prev_hash"], ev), seq))

    def rehash_from(self, seq: int) -> None:
        """Recompute hashes and links from ``seq`` on: a consistent, rewritten chain."""
        evs = self.events()
        prev = verifier.ZERO_HASH
        for ev in evs:
            if ev["seq"] >= seq:
                ev["prev_hash"] = prev
                ev["hash"] = verifier.event_hash(prev, ev)
                self.conn.execute("UPDATE ledger SET prev_hash = ?, hash = ? WHERE seq = ?",
                                  (ev["prev_hash"], ev["hash"], ev["seq"]))
            prev = ev["hash"]
        self.fix_state()

    def delete(self, *seqs: int) -> None:
        for seq in seqs:
            self.conn.execute("DELETE FROM ledger WHERE seq = ?", (seq,))

    def swap(self, a: int, b: int) -> None:
        self.conn.execute("UPDATE ledger SET seq = -1 WHERE seq = ?", (a,))
        self.conn.execute("UPDATE ledger SET seq = ? WHERE seq = ?", (a, b))
        self.conn.execute("UPDATE ledger SET seq = ? WHERE seq = -1", (b,))

    def fix_state(self) -> None:
        """Rewrite ledger_state (size, head, Merkle frontier) to match the rows left."""
        evs = self.events()
        frontier = verifier.Frontier()
        for ev in evs:
            frontier.push(verifier.leaf_hash(ev["hash"]))
        head = evs[-1]["hash"] if evs else verifier.ZERO_HASH
        self.conn.execute("UPDATE ledger_state SET size = ?, head = ?, frontier = ?",
                          (evs[-1]["seq"] if evs else 0, head, frontier.to_json()))

    def drop_catalog_checkpoints_above(self, size: int) -> None:
        self.conn.execute("DELETE FROM checkpoints WHERE size > ?", (size,))

    def roll_back_to(self, size: int) -> None:
        """The rollback of issue 16: cut the ledger to ``size`` (a checkpoint boundary), drop
        the checkpoint rows and checkpoint-file lines above it, and make the state match. Every
        local check passes afterwards; only a checkpoint that left the machine tells."""
        self.conn.execute("DELETE FROM ledger WHERE seq > ?", (size,))
        self.fix_state()
        self.drop_catalog_checkpoints_above(size)
        self.write_file_lines([ln for ln in self.file_lines()
                               if json.loads(ln)["size"] <= size])

    # -- the checkpoint file ----------------------------------------------------------------
    def file_lines(self) -> list[str]:
        return self.cp_file.read_text(encoding="utf-8").splitlines(keepends=True)

    def write_file_lines(self, lines: list[str]) -> None:
        self.cp_file.write_text("".join(lines), encoding="utf-8")


def last_line_for(path: Path, size: int) -> int:
    """Index of the checkpoint-file line for ``size``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, ln in enumerate(lines) if json.loads(ln)["size"] == size)


def checkpoint_sizes() -> list[int]:
    """The sizes of the signed checkpoints in the checkpoint file."""
    path = loader.load().checkpoint_file
    return [json.loads(ln)["size"] for ln in path.read_text(encoding="utf-8").splitlines()]


def roll_back(size: int) -> None:
    """An attacker's rollback to ``size`` (see ``Attacker.roll_back_to``)."""
    attacker = Attacker()
    try:
        attacker.roll_back_to(size)
    finally:
        attacker.close()


def local_checks_pass() -> bool:
    """``ledger verify`` without receipts or witnesses, in-process, so that it records nothing."""
    from avledger.core.custody import ledger as ledger_core

    with Avledger.open(loader.load()) as app:
        report = ledger_core.verify(app.catalog, app.public_key(), app.origin,
                                    app.checkpoint_file)
    return report.ok
