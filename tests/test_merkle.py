"""The RFC 6962 Merkle tree over ledger events: roots, inclusion and consistency proofs.

Checked against a direct, recursive transcription of RFC 6962 section 2.1 (MTH), for many
tree sizes; wrong proofs must be rejected.
"""

from __future__ import annotations

import blake3
from hypothesis import given, settings
from hypothesis import strategies as st

from avledger import verifier


def H(data: bytes) -> bytes:  # noqa: N802 - the RFC's name
    return blake3.blake3(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH(D[n]) over already-hashed leaves, written straight from the definition."""
    n = len(leaves)
    if n == 0:
        return H(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return H(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def leaves_of(n: int) -> list[bytes]:
    return [verifier.leaf_hash(H(i.to_bytes(4, "big")).hex()) for i in range(n)]


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    h = "ab" * 32
    assert verifier.leaf_hash(h) == H(b"\x00" + bytes.fromhex(h))
    left, right = H(b"l"), H(b"r")
    assert verifier.node_hash(left, right) == H(b"\x01" + left + right)


@given(st.integers(min_value=0, max_value=300))
def test_frontier_root_equals_the_tree_root(n: int) -> None:
    leaves = leaves_of(n)
    frontier = verifier.Frontier()
    for i, leaf in enumerate(leaves, 1):
        frontier.push(leaf)
        assert frontier.size == i
    assert frontier.root() == mth(leaves) == verifier.merkle_root(leaves)
    # the frontier survives being stored in the catalog
    again = verifier.Frontier.from_json(frontier.to_json(), frontier.size)
    assert again.root() == frontier.root()
    assert len(frontier.peaks) == bin(n).count("1")  # O(log n) state


@settings(max_examples=200)
@given(st.data())
def test_inclusion_proofs(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=200), label="size")
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    leaves = leaves_of(n)
    root = mth(leaves)
    proof = verifier.inclusion_proof(leaves, i)
    assert verifier.verify_inclusion(leaves[i], i, n, proof, root)
    # a wrong leaf, index, size, root or a damaged proof is rejected
    other = H(b"not in the tree")
    assert not verifier.verify_inclusion(other, i, n, proof, root)
    assert not verifier.verify_inclusion(leaves[i], i, n, proof, other)
    assert not verifier.verify_inclusion(leaves[i], n, n, proof, root)
    if n > 1:
        j = (i + 1) % n
        assert not verifier.verify_inclusion(leaves[i], j, n, proof, root)
        bad = list(proof)
        k = data.draw(st.integers(min_value=0, max_value=len(bad) - 1), label="damaged")
        bad[k] = H(bad[k])
        assert not verifier.verify_inclusion(leaves[i], i, n, bad, root)
        assert not verifier.verify_inclusion(leaves[i], i, n, proof[:-1], root)
        assert not verifier.verify_inclusion(leaves[i], i, n, proof + [other], root)


@settings(max_examples=200)
@given(st.data())
def test_consistency_proofs(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=200), label="new size")
    m = data.draw(st.integers(min_value=1, max_value=n), label="old size")
    leaves = leaves_of(n)
    old_root, new_root = mth(leaves[:m]), mth(leaves)
    proof = verifier.consistency_proof(leaves, m)
    assert verifier.verify_consistency(m, n, old_root, new_root, proof)
    # a rewritten history is not consistent with the old checkpoint
    changed = list(leaves)
    victim = data.draw(st.integers(min_value=0, max_value=m - 1), label="rewritten leaf")
    changed[victim] = H(b"rewritten")
    assert not verifier.verify_consistency(m, n, old_root, mth(changed),
                                           verifier.consistency_proof(changed, m))
    if m < n:
        assert not verifier.verify_consistency(m, n, old_root, H(b"x"), proof)
        assert not verifier.verify_consistency(m, n, H(b"x"), new_root, proof)
        if proof:
            bad = list(proof)
            k = data.draw(st.integers(min_value=0, max_value=len(bad) - 1), label="damaged")
            bad[k] = H(bad[k])
            assert not verifier.verify_consistency(m, n, old_root, new_root, bad)


def test_consistency_edge_cases() -> None:
    leaves = leaves_of(8)
    root = mth(leaves)
    assert verifier.verify_consistency(8, 8, root, root, [])
    assert not verifier.verify_consistency(8, 8, root, root, [root])
    assert not verifier.verify_consistency(0, 8, H(b""), root, [])
    assert not verifier.verify_consistency(9, 8, root, root, [])
    assert verifier.consistency_proof(leaves, 0) == []


def test_ledger_frontier_matches_its_events(app) -> None:  # type: ignore[no-untyped-def]
    """The frontier kept in ledger_state is the Merkle tree of the stored event hashes."""
    from avledger.store import ledger as ledger_store

    for i in range(37):
        with app.transaction() as conn:
            app.record(conn, "test.event", "thing:1", {"i": i})
    conn = app.catalog.conn
    hashes = [e.hash for e in ledger_store.iter_events(conn)]
    st_ = ledger_store.state(conn)
    assert st_.size == len(hashes) == 38
    assert st_.frontier.root() == mth([verifier.leaf_hash(h) for h in hashes])
    # and any event can be proved to belong to it, without the other events
    leaves = [verifier.leaf_hash(h) for h in hashes]
    for i in (0, 17, 37):
        proof = verifier.inclusion_proof(leaves, i)
        assert verifier.verify_inclusion(leaves[i], i, 38, proof, st_.frontier.root())
