"""``avledger ledger export``: a third party verifies it with the shipped routine alone.

The export is copied to a fresh directory, the installation's catalog is deleted, and
``verify_ledger.py`` runs in an isolated interpreter that cannot import avledger.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from avledger import verifier
from avledger.config import loader
from avledger.store.keys import public_key_path
from tests.ledgertools import grow_ledger

SYSTEM_PYTHON = Path("/usr/bin/python3")


def _fallbacks_present() -> bool:
    try:
        verifier._pure_blake3(b"")
    except RuntimeError:
        return False
    return True


needs_fallbacks = pytest.mark.skipif(
    not _fallbacks_present(),
    reason="the standalone verifier's pure-Python BLAKE3/Ed25519 are not in this tree yet")


@pytest.fixture
def exported(home: Path, cli, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """An export, copied away from the installation, whose catalog is then deleted."""
    grow_ledger(12, 4)
    out = cli("ledger", "export", str(tmp_path / "export"), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["events"] == 14  # init + 12 + the export itself
    fresh = tmp_path / "elsewhere" / "ledger-2026"
    shutil.copytree(tmp_path / "export", fresh)
    cfg = loader.load()
    cfg.catalog_path.unlink()
    for side in cfg.catalog_path.parent.glob(cfg.catalog_path.name + "-*"):
        side.unlink()
    return fresh


def published_key() -> str:
    """The installation's public key, as the agency publishes it (not the export's copy)."""
    return public_key_path(loader.load().key_path).read_text(encoding="utf-8").strip()


def run_verifier(export: Path, *, block: tuple[str, ...] = ("avledger",),
                 python: str = sys.executable,
                 trust: tuple[str, ...] | None = None) -> subprocess.CompletedProcess[str]:
    """Run EXPORT/verify_ledger.py isolated (-I), with ``block`` made unimportable; the
    published key is pinned unless ``trust`` says otherwise."""
    pin = ["--key", published_key()] if trust is None else list(trust)
    code = (
        "import runpy, sys\n"
        f"for name in {list(block)!r}: sys.modules[name] = None\n"
        f"sys.argv = ['verify_ledger.py', {str(export)!r}, *{pin!r}]\n"
        f"runpy.run_path({str(export / 'verify_ledger.py')!r}, run_name='__main__')\n"
    )
    return subprocess.run([python, "-I", "-c", code], capture_output=True, text=True,
                          cwd=export.parent, timeout=300)


def test_export_contents(exported: Path) -> None:
    names = sorted(p.name for p in exported.iterdir())
    assert names == ["README.txt", "checkpoints.jsonl", "events.jsonl", "ledger.pub",
                     "verify_ledger.py"]
    events = [json.loads(ln) for ln in (exported / "events.jsonl").read_text().splitlines()]
    assert [e["seq"] for e in events] == list(range(1, 15))
    assert events[-1]["type"] == "ledger.exported"
    assert "python3 verify_ledger.py" in (exported / "README.txt").read_text()


def test_export_verifies_without_avledger_or_catalog(exported: Path) -> None:
    out = run_verifier(exported)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "events: 14" in out.stdout and "latest at size 14" in out.stdout
    assert out.stdout.strip().endswith("OK: chain intact, every checkpoint signed and consistent")


def test_plain_command_line(exported: Path) -> None:
    """Exactly what the README tells a third party to type (with this interpreter)."""
    out = subprocess.run([sys.executable, "-I", "verify_ledger.py", ".", "--fingerprint",
                          verifier.fingerprint(published_key())], cwd=exported,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def _rewrite_line(path: Path, index: int, change) -> None:  # type: ignore[no-untyped-def]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[index] = change(lines[index])
    path.write_text("".join(lines), encoding="utf-8")


def test_tampered_event_line_fails_and_says_where(exported: Path) -> None:
    def edit(line: str) -> str:
        ev = json.loads(line)
        ev["payload"]["i"] = 999
        return json.dumps(ev, sort_keys=True) + "\n"

    _rewrite_line(exported / "events.jsonl", 6, edit)  # seq 7
    out = run_verifier(exported)
    assert out.returncode == 1
    assert "FAILED: seq 7: content does not match its hash (edited)" in out.stdout
    assert out.stdout.splitlines()[4].startswith("FAILED: seq 7"), "first failure first"


def test_deleted_event_line_fails_and_says_where(exported: Path) -> None:
    _rewrite_line(exported / "events.jsonl", 4, lambda _: "")  # seq 5
    out = run_verifier(exported)
    assert out.returncode == 1 and "FAILED: seq 5: event 5 is missing" in out.stdout


def test_truncated_export_fails(exported: Path) -> None:
    path = exported / "events.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-3]))
    out = run_verifier(exported)
    assert out.returncode == 1 and "FAILED: seq 12: ledger truncated" in out.stdout


def test_wrong_public_key_fails(exported: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from avledger.store.keys import Signer

    origin = (exported / "ledger.pub").read_text().split("+")[0]
    (exported / "ledger.pub").write_text(Signer(origin, Ed25519PrivateKey.generate())
                                         .verifier_key + "\n")
    out = run_verifier(exported, trust=())  # checked against the swapped-in key
    assert out.returncode == 1 and "has no valid signature" in out.stdout
    assert "no valid signed checkpoint" in out.stdout
    pinned = run_verifier(exported)  # the real key pinned: the swap itself is named
    assert pinned.returncode == 1
    assert "FAILED: ledger.pub: is not the key you trust" in pinned.stdout


def test_garbage_line_is_reported_not_a_traceback(exported: Path) -> None:
    _rewrite_line(exported / "events.jsonl", 2, lambda _: "{not json\n")
    out = run_verifier(exported)
    assert out.returncode == 1 and "events.jsonl line 3: not JSON" in out.stdout
    assert "Traceback" not in out.stderr


def test_export_refuses_a_non_empty_target_before_recording(home: Path, cli,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "something").write_text("x")
    before = json.loads(cli("status", "--json").stdout)["ledger"]["events"]
    out = cli("ledger", "export", str(target))
    assert out.returncode == 7 and "not an empty directory" in out.stderr
    assert json.loads(cli("status", "--json").stdout)["ledger"]["events"] == before


@needs_fallbacks
def test_verifies_without_blake3_and_cryptography(exported: Path) -> None:
    out = run_verifier(exported, block=("avledger", "blake3", "cryptography"))
    assert out.returncode == 0, out.stdout + out.stderr
    _rewrite_line(exported / "events.jsonl", 3, lambda ln: ln.replace('"i":', '"i": 1, "j":'))
    out = run_verifier(exported, block=("avledger", "blake3", "cryptography"))
    assert out.returncode == 1 and "seq 4" in out.stdout


@needs_fallbacks
@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no /usr/bin/python3")
def test_verifies_with_the_system_python(exported: Path) -> None:
    out = subprocess.run([str(SYSTEM_PYTHON), "-I", "verify_ledger.py", ".", "--key",
                          published_key()], cwd=exported,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr


def test_filtered_export_says_it_is_incomplete(home: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    grow_ledger(6, 3)
    out = cli("ledger", "export", str(tmp_path / "f"), "--subject", "thing:1", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["complete"] is False and result["events"] == 2
    assert "FILTERED" in (tmp_path / "f" / "README.txt").read_text()
    assert run_verifier(tmp_path / "f").returncode == 1  # as the README says


def forge_export(export: Path) -> str:
    """An attacker without the agency's key: edit an event, re-hash the chain, re-sign every
    checkpoint (same origin) with a fresh key and ship that key. Returns the forged key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from avledger.store.keys import Signer

    events = [json.loads(ln) for ln in (export / "events.jsonl").read_text().splitlines()]
    events[3]["payload"]["i"] = 999
    prev, frontier, roots = verifier.ZERO_HASH, verifier.Frontier(), {}
    for ev in events:
        ev["prev_hash"], ev["hash"] = prev, verifier.event_hash(prev, ev)
        prev = ev["hash"]
        frontier.push(verifier.leaf_hash(prev))
        roots[frontier.size] = (frontier.root(), prev)
    origin = verifier.split_note(json.loads(
        (export / "checkpoints.jsonl").read_text().splitlines()[0])["note"])[0].split("\n")[0]
    attacker = Signer(origin, Ed25519PrivateKey.generate())
    lines = []
    for line in (export / "checkpoints.jsonl").read_text().splitlines():
        size = json.loads(line)["size"]
        root, head = roots[size]
        body = verifier.checkpoint_body(origin, size, root, head, "2026-12-01T00:00:00Z")
        lines.append(json.dumps({"size": size, "note": attacker.sign_note(body)}) + "\n")
    (export / "checkpoints.jsonl").write_text("".join(lines))
    (export / "events.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events))
    (export / "ledger.pub").write_text(attacker.verifier_key + "\n")
    return attacker.verifier_key


def test_forged_export_is_not_trusted_without_the_key(exported: Path) -> None:
    """Re-hashed and re-signed with an attacker's key, the export is internally consistent;
    without a trusted key the verifier says so and names the key it saw, and with the real key
    pinned every checkpoint signature fails."""
    real = published_key()
    forged = forge_export(exported)
    alone = run_verifier(exported, trust=())
    assert alone.returncode == 3, alone.stdout
    assert f"fingerprint {verifier.grouped(verifier.fingerprint(forged))}" in alone.stdout
    assert "UNVERIFIED: no trusted key given" in alone.stdout
    pinned = run_verifier(exported)
    assert pinned.returncode == 1
    assert "FAILED: ledger.pub: is not the key you trust" in pinned.stdout
    assert "has no valid signature by" in pinned.stdout
    by_fingerprint = run_verifier(exported, trust=("--fingerprint", verifier.fingerprint(real)))
    assert by_fingerprint.returncode == 1
    assert "is not the one you trust" in by_fingerprint.stdout
