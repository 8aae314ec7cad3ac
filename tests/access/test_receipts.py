"""A copy package is a receipt: the ledger must extend its checkpoint for ever.

The rollback of issue 16 — the ledger cut back to an earlier checkpoint boundary, the
checkpoint rows and checkpoint-file lines above it deleted — passes every local check; the
package handed out earlier catches it, naming the package's checkpoint size and the first
differing seq, and the failed verification signs nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from avledger import verifier
from tests.access.conftest import OPEN, Office
from tests.access.test_package import make_package, standalone
from tests.ledgertools import checkpoint_sizes, local_checks_pass, roll_back


def verify(office: Office, *against: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    args = [a for target in against for a in ("--against", target)]
    out = office.run("ledger", "verify", *args, "--json")
    return out.returncode, json.loads(out.stdout)


def test_rollback_below_a_package_is_detected(office: Office, tmp_path: Path) -> None:
    made = make_package(office, tmp_path / "out")
    package = made["directory"]
    size = made["checkpoint_size"]
    office.ask("judicial", "copy", "--kind", "court", "--requester", "李法官", "--unit",
               "新华区人民法院", "--case", OPEN, "--documents", "unit_letter,id_card",
               purpose="trial")  # later work, signed later
    boundary = max(s for s in checkpoint_sizes() if s < size)
    roll_back(boundary)
    assert local_checks_pass(), "the local checks alone are fooled"
    signed = checkpoint_sizes()
    code, report = verify(office, package)
    assert code == 6, report
    rollback = [p for p in report["problems"] if "ROLLBACK" in p]
    assert len(rollback) == 1, report["problems"]
    assert f"checkpoint of size {size}" in rollback[0]
    assert f"ledger now ends at seq {boundary}" in rollback[0]
    assert report["first_bad_seq"] == boundary + 1
    assert rollback[0].startswith(f"seq {boundary + 1}: ROLLBACK: {package} holds")
    assert checkpoint_sizes() == signed, "a failed verification signed a checkpoint"


def test_intact_ledger_extends_the_package(office: Office, tmp_path: Path) -> None:
    made = make_package(office, tmp_path / "out")
    office.ok("access", "list")
    code, report = verify(office, made["directory"])
    assert code == 0, report["problems"]
    assert any("checked against 1 receipt" in n for n in report["notes"])


def test_package_carries_consistency_from_earlier_receipts(office: Office,
                                                            tmp_path: Path) -> None:
    """A later package proves, offline, that it extends an earlier one."""
    first = make_package(office, tmp_path / "a")
    second = make_package(office, tmp_path / "b")
    old = Path(first["directory"]) / "ledger" / "checkpoint.txt"
    new = Path(second["directory"]) / "ledger" / "checkpoint.txt"
    proofs = Path(second["directory"]) / "ledger" / "consistency.jsonl"
    key = office.run("ledger", "public-key").stdout.strip()
    assert verifier.main(["--consistency", str(old), str(new), str(proofs), "--key", key]) == 0
    # The older checkpoint does not extend the newer one: a rollback, named as such.
    assert verifier.main(["--consistency", str(new), str(old), str(proofs), "--key", key]) == 1


def forge_package(folder: Path) -> str:
    """An attacker without the agency's key re-signs the package's checkpoints (same origin,
    same content) with a fresh key, ships that key and fixes the checksums. Returns it."""
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from avledger.store.keys import Signer

    def resign(note: str) -> str:
        body, _ = verifier.split_note(note)
        return attacker.sign_note(body)

    ledger = folder / "ledger"
    note = (ledger / "checkpoint.txt").read_text(encoding="utf-8")
    attacker = Signer(note.split("\n", 1)[0], Ed25519PrivateKey.generate())
    (ledger / "checkpoint.txt").write_text(resign(note), encoding="utf-8")
    lines = [json.loads(ln) for ln in (ledger / "consistency.jsonl").read_text().splitlines()]
    (ledger / "consistency.jsonl").write_text("".join(
        json.dumps(rec | {"old": resign(rec["old"])}) + "\n" for rec in lines))
    (ledger / "ledger.pub").write_text(attacker.verifier_key + "\n")
    sums = []
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        name = line.split("  ", 1)[1]
        sums.append(f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}\n")
    (folder / "SHA256SUMS").write_text("".join(sums))
    (folder / "B3SUMS").unlink()
    return attacker.verifier_key


def test_forged_package_with_an_attacker_key(office: Office, tmp_path: Path) -> None:
    made = make_package(office, tmp_path / "out")
    real = office.run("ledger", "public-key").stdout.strip()
    court = tmp_path / "court" / made["package"]
    shutil.copytree(made["directory"], court)
    forged = forge_package(court)
    alone = standalone(court, "--no-key")
    assert alone.returncode == 3, alone.stdout
    assert f"fingerprint {verifier.grouped(verifier.fingerprint(forged))}" in alone.stdout
    assert alone.stdout.splitlines()[-1].startswith("UNVERIFIED: no trusted key given")
    pinned = standalone(court, "--key", real)
    assert pinned.returncode == 1
    assert "FAILED: ledger/ledger.pub: is not the key you trust" in pinned.stdout
    assert "FAILED: ledger/checkpoint.txt: checkpoint at size" in pinned.stdout
    assert "has no valid signature by" in pinned.stdout
    by_print = standalone(court, "--fingerprint", verifier.fingerprint(real))
    assert by_print.returncode == 1 and "is not the one you trust" in by_print.stdout
