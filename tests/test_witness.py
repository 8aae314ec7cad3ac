"""Witnesses on 127.0.0.1, each a separate ``avledger witness serve`` process with its own home.

- the rollback of issue 16 is caught against the witness (exit 6, naming it);
- a fork (the same key and origin, a different ledger of the same size) is refused by the
  witness and reported by ``ledger verify``;
- a witness that is down at ingest holds nothing up; the checkpoint reaches it once it is back;
- the witness's own rules: unknown log 404, bad signature 403, stale old size 409 with its
  size, a bad consistency proof 422.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from avledger import verifier
from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.witness import client, protocol
from tests.conftest import AVLEDGER_BIN
from tests.ledgertools import Attacker, checkpoint_sizes, grow_ledger, roll_back
from tests.recorder_tools import make_recorder

READY_WITHIN = 60.0  # seconds a starting witness may take (a deadline, not a measurement)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def witness_process(home: Path, ledger_key: str, port: int = 0) -> Iterator[tuple[str, str]]:
    """A witness in its own home and process; yields (url, its public key)."""
    env = dict(os.environ, AVLEDGER_HOME=str(home))
    home.mkdir(parents=True, exist_ok=True)
    (home / "avledger.yaml").write_text(yaml.safe_dump({"witness": {
        "name": "legal-office.test/witness", "logs": [ledger_key]}}), encoding="utf-8")
    init = subprocess.run([AVLEDGER_BIN, "witness", "init"], env=env, capture_output=True,
                          text=True)
    assert init.returncode == 0, init.stderr
    key = init.stdout.strip().splitlines()[-1]
    port_file = home / "port"
    port_file.unlink(missing_ok=True)
    proc = subprocess.Popen([AVLEDGER_BIN, "witness", "serve", "--listen", f"127.0.0.1:{port}",
                             "--port-file", str(port_file)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + READY_WITHIN
        while not port_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the witness did not start: {proc.stderr.read()}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text().strip()}", key
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def configure_witness(home: Path, url: str, key: str) -> None:
    path = home / "avledger.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    doc.setdefault("custody", {})["witnesses"] = [{"url": url, "key": key}]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def ledger_key() -> str:
    with Avledger.open(loader.load()) as app:
        return app.public_key()


def witnessed_size(url: str, key: str) -> int:
    ref = client.WitnessRef(url, key)
    note = client.latest(ref, str(loader.load().get("ledger.origin")))
    return int(note.split("\n")[1])


def verify(cli) -> tuple[int, dict]:  # type: ignore[no-untyped-def, type-arg]
    out = cli("ledger", "verify", "--json")
    return out.returncode, json.loads(out.stdout)


def test_rollback_is_caught_by_the_witness(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    with witness_process(tmp_path / "witness-home", ledger_key()) as (url, key):
        configure_witness(home, url, key)
        grow_ledger(20, 5)  # every checkpoint is submitted as it is signed
        top = max(checkpoint_sizes())
        assert witnessed_size(url, key) == top
        kept = client.cosigned(loader.load())
        assert kept and verifier.verify_cosignatures(kept[-1]["note"], [key])
        boundary = sorted(checkpoint_sizes())[-3]
        attacker = Attacker()
        try:
            attacker.roll_back_to(boundary)
            attacker.cp_file.with_name("cosignatures.log").unlink()  # and what we kept
        finally:
            attacker.close()
        signed = checkpoint_sizes()
        code, report = verify(cli)
        named = cli("ledger", "verify", "--against", url)
        assert named.returncode == 6 and "ROLLBACK: witness" in named.stdout
        unknown = cli("ledger", "verify", "--against", "http://127.0.0.1:9/")
        assert unknown.returncode == 4 and "not a configured witness" in unknown.stderr
    assert code == 6, report
    (problem,) = [p for p in report["problems"] if "ROLLBACK" in p]
    assert problem.startswith(f"seq {boundary + 1}: ROLLBACK: witness legal-office.test/"
                              f"witness ({url}) holds the checkpoint of size {top}")
    assert report["first_bad_seq"] == boundary + 1
    assert checkpoint_sizes() == signed, "a failed verification signed a checkpoint"


def test_fork_is_refused_by_the_witness_and_reported(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The key holder's own ledger rewritten: cut back, then grown again to the same size with
    other events, all signed with the real key. Locally it is a perfect ledger."""
    with witness_process(tmp_path / "witness-home", ledger_key()) as (url, key):
        configure_witness(home, url, key)
        grow_ledger(10, 5)
        size = max(checkpoint_sizes())
        assert witnessed_size(url, key) == size
        boundary = sorted(checkpoint_sizes())[-2]
        roll_back(boundary)
        with Avledger.open(loader.load()) as app:
            for i in range(size - boundary):
                with app.transaction() as conn:
                    app.record(conn, "test.event", "thing:other", {"i": i, "forged": True})
            cp = app.checkpoint()
            assert cp is not None and cp.size == size
        outcomes = client.submit_all(loader.load(), Avledger.open(loader.load()).catalog.conn)
        assert [o.status for o in outcomes] == ["refused"], outcomes
        assert "409" in outcomes[0].detail
        assert witnessed_size(url, key) == size  # the witness kept the original
        refused = cli("ledger", "witness", "--json")
        assert refused.returncode == 1 and json.loads(refused.stdout)[0]["status"] == "refused"
        code, report = verify(cli)
    assert code == 6, report
    (problem,) = [p for p in report["problems"] if "FORK" in p]
    assert f"FORK: witness legal-office.test/witness ({url}) holds the checkpoint of size " \
           f"{size}" in problem


def test_witness_down_at_ingest(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    witness_home = tmp_path / "witness-home"
    with witness_process(witness_home, ledger_key(), port) as (url, key):
        pass  # made the key; the witness is now down
    configure_witness(home, url, key)
    rec = tmp_path / "rec"
    make_recorder(rec, clips=3, size=200_000, serial="BWR0042", badge="0001")
    out = cli("ingest", str(rec), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["totals"]["new"] == 3
    newest = max(checkpoint_sizes())
    assert client.cosigned(loader.load()) == []  # nothing reached the witness
    with witness_process(witness_home, ledger_key(), port):
        back = cli("ledger", "witness", "--json")
        assert back.returncode == 0, back.stdout + back.stderr
        assert json.loads(back.stdout)[0]["status"] == "cosigned"
        assert witnessed_size(url, key) >= newest
        code, report = verify(cli)
        assert code == 0, report["problems"]


def post(url: str, body: bytes) -> tuple[int, str]:
    req = urllib.request.Request(url + protocol.ADD_CHECKPOINT, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_witness_protocol_answers(home: Path, tmp_path: Path) -> None:
    grow_ledger(8, 4)
    with Avledger.open(loader.load()) as app:
        notes = [str(r["note"]) for r in app.catalog.conn.execute(
            "SELECT note FROM checkpoints ORDER BY size")]
        leaves = [verifier.leaf_hash(r[0]) for r in app.catalog.conn.execute(
            "SELECT hash FROM ledger ORDER BY seq")]
    sizes = [int(n.split("\n")[1]) for n in notes]
    with witness_process(tmp_path / "witness-home", ledger_key()) as (url, key):
        first = protocol.AddCheckpoint(0, [], notes[1])
        code, text = post(url, protocol.encode(first))
        assert code == 200 and text.startswith("\u2014 legal-office.test/witness ")
        assert verifier.verify_cosignatures(notes[1] + text, [key])
        # stale old size: 409 with the size it holds
        code, text = post(url, protocol.encode(protocol.AddCheckpoint(0, [], notes[-1])))
        assert (code, text) == (409, f"{sizes[1]}\n")
        # a proof that does not fit: 422
        bad = [b"\0" * 32] * len(verifier.consistency_proof(leaves[:sizes[-1]], sizes[1]))
        code, _ = post(url, protocol.encode(protocol.AddCheckpoint(sizes[1], bad, notes[-1])))
        assert code == 422
        # the right proof: cosigned
        good = verifier.consistency_proof(leaves[:sizes[-1]], sizes[1])
        code, _ = post(url, protocol.encode(protocol.AddCheckpoint(sizes[1], good, notes[-1])))
        assert code == 200
        # an older checkpoint: the old size is larger than the checkpoint
        code, _ = post(url, protocol.encode(protocol.AddCheckpoint(sizes[-1], [], notes[0])))
        assert code == 400
        # a changed signature: 403; an unknown log: 404
        forged = notes[-1].replace("\u2014 ", "\u2014 x", 1)
        assert post(url, protocol.encode(protocol.AddCheckpoint(sizes[-1], [], forged)))[0] == 403
        other = "someone.else/log" + notes[-1][notes[-1].index("\n"):]
        assert post(url, protocol.encode(protocol.AddCheckpoint(0, [], other)))[0] == 404
        assert post(url, b"garbage")[0] == 400


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)


def test_export_carries_cosignatures_the_verifier_checks(home: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                         cli) -> None:
    with witness_process(tmp_path / "witness-home", ledger_key()) as (url, key):
        configure_witness(home, url, key)
        grow_ledger(6, 3)
        out = cli("ledger", "export", str(tmp_path / "export"))
        assert out.returncode == 0, out.stderr
    export = tmp_path / "export"
    pinned = ["--key", ledger_key()]
    assert verifier.main([str(export), *pinned, "--witness-key", key]) == 0
    # a witness key of the same name that did not cosign: no valid cosignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from avledger.store.keys import Cosigner

    stranger = Cosigner("legal-office.test/witness", Ed25519PrivateKey.generate()).verifier_key
    assert verifier.main([str(export), *pinned, "--witness-key", stranger]) == 1


def test_the_daemon_retries_a_witness_that_came_back(home: Path, tmp_path: Path) -> None:
    """The daemon's housekeeping submits in the background: the run loop calls it, and the
    submission (on its own thread and catalog connection) brings the witness up to date."""
    import threading

    from avledger.daemon.service import Daemon, DaemonSettings

    port = free_port()
    witness_home = tmp_path / "witness-home"
    with witness_process(witness_home, ledger_key(), port) as (url, key):
        pass
    configure_witness(home, url, key)
    grow_ledger(6, 3)  # signed while the witness is down
    assert client.cosigned(loader.load()) == []
    submitted: list[threading.Thread] = []

    def housekeeping() -> None:
        submitted.append(client.submit_in_background(loader.load()))

    daemon = Daemon(DaemonSettings(watch_udev=False), matcher=None,  # type: ignore[arg-type]
                    runner=lambda job: {}, housekeeping=housekeeping,
                    housekeeping_seconds=0.0)
    with witness_process(witness_home, ledger_key(), port):
        daemon.run(install_signals=False, until=lambda: bool(submitted))
        submitted[0].join(timeout=120)
        assert not submitted[0].is_alive()
        assert witnessed_size(url, key) == max(checkpoint_sizes())
        assert [r["size"] for r in client.cosigned(loader.load())] == [max(checkpoint_sizes())]
