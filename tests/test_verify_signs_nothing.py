"""After finding a problem, 'ledger verify' signs no checkpoint: a signature on top of a
rewritten history would lend it the key's authority (issue 16)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from avledger.config import loader
from tests.ledgertools import Attacker, checkpoint_sizes, grow_ledger


def catalog_checkpoints() -> list[int]:
    with sqlite3.connect(loader.load().catalog_path) as conn:
        return [int(r[0]) for r in conn.execute("SELECT size FROM checkpoints ORDER BY size")]


def test_a_truncated_ledger_is_not_signed_over(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    grow_ledger(20, 5)
    attacker = Attacker()
    try:
        attacker.delete(17, 18, 19, 20, 21)
        attacker.drop_catalog_checkpoints_above(16)
        attacker.fix_state()
    finally:
        attacker.close()
    in_file, in_catalog = checkpoint_sizes(), catalog_checkpoints()
    for run in range(2):  # the second run also sees whatever the first recorded
        out = cli("ledger", "verify", "--json")
        assert out.returncode == 6, out.stdout + out.stderr
        if run == 0:
            assert json.loads(out.stdout)["first_bad_seq"] == 17
        assert checkpoint_sizes() == in_file, "verify signed a checkpoint after a problem"
        assert catalog_checkpoints() == in_catalog
