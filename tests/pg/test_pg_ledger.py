"""The custody ledger on PostgreSQL: append, verify, checkpoints, Merkle proofs, tampering."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from avledger import verifier
from avledger.config import loader
from avledger.core.app import Avledger
from tests.conftest import run_cli
from tests.ledgertools import grow_ledger


def _dsn() -> str:
    return str(loader.load().get("catalog.dsn"))


def test_ledger_verify_on_postgres(pg_home: Path) -> None:
    grow_ledger(20, 5)
    out = run_cli("ledger", "verify", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True, report
    assert not (pg_home / "data" / "catalog.db").exists()  # nothing went to SQLite
    with psycopg.connect(_dsn()) as conn:
        sizes = [r[0] for r in conn.execute("SELECT size FROM checkpoints ORDER BY size")]
    assert {6, 11, 16, 21} <= set(sizes)


def test_merkle_proofs_against_signed_checkpoints(pg_home: Path) -> None:
    grow_ledger(12, 4)
    with Avledger.open(loader.load()) as app:
        conn = app.catalog.conn
        leaves = [verifier.leaf_hash(r[0])
                  for r in conn.execute("SELECT hash FROM ledger ORDER BY seq")]
        cps = conn.execute("SELECT size, root, note FROM checkpoints ORDER BY size").fetchall()
        key = app.public_key()
    assert len(cps) >= 2
    (m, root_m, note_m), (n, root_n, note_n) = cps[0], cps[-1]
    for note in (note_m, note_n):
        verifier.verify_checkpoint(note, key)  # signature holds
    assert verifier.merkle_root(leaves[:n]).hex() == root_n
    for i in range(n):
        proof = verifier.inclusion_proof(leaves[:n], i)
        assert verifier.verify_inclusion(leaves[i], i, n, proof, bytes.fromhex(root_n))
    proof = verifier.consistency_proof(leaves[:n], m)
    assert verifier.verify_consistency(m, n, bytes.fromhex(root_m), bytes.fromhex(root_n), proof)


def test_an_edited_event_is_found(pg_home: Path) -> None:
    grow_ledger(10, 5)
    with psycopg.connect(_dsn(), autocommit=True) as conn:  # the server's superuser can
        conn.execute("ALTER TABLE ledger DISABLE TRIGGER ledger_no_update")
        conn.execute("UPDATE ledger SET payload = '{\"i\":99}' WHERE seq = 4")
    out = run_cli("ledger", "verify")
    assert out.returncode == 6, out.stdout + out.stderr
    assert "seq 4" in out.stdout + out.stderr
