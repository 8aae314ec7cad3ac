"""``avledger ledger verify`` against an attacker who can edit the catalog and the log file.

The ledger: init's event plus 20 more, with signed checkpoints at sizes 1, 6, 11, 16 and 21.
Every tampering must be found, with the first bad sequence number named.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from avledger import verifier
from avledger.config import loader
from avledger.core.app import Avledger
from avledger.store import ledger as ledger_store
from avledger.store.checkpoints import CheckpointFile
from avledger.store.keys import Signer
from tests.ledgertools import Attacker, grow_ledger, last_line_for


@pytest.fixture
def ledger(home: Path) -> Path:
    grow_ledger(20, 5)
    return home


@pytest.fixture
def attacker(ledger: Path) -> Iterator[Attacker]:
    a = Attacker()
    try:
        yield a
    finally:
        a.close()


def verify(cli):  # type: ignore[no-untyped-def]
    """Run ``ledger verify --json``; return (exit code, report, the one stderr line)."""
    out = cli("ledger", "verify", "--json")
    lines = out.stderr.strip().splitlines()
    assert len(lines) <= 1, out.stderr
    return out.returncode, json.loads(out.stdout), (lines[0] if lines else "")


def assert_first_bad(cli, seq: int, *phrases: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    code, report, line = verify(cli)
    assert code == 6, report
    assert report["ok"] is False and report["first_bad_seq"] == seq, report["problems"]
    assert line.startswith(f"avledger: error: custody ledger verification failed (first bad "
                           f"event: seq {seq})"), line
    text = " ".join(report["problems"])
    for phrase in phrases:
        assert phrase in text, report["problems"]
    return report


def test_untouched_ledger_verifies(ledger: Path, cli) -> None:  # type: ignore[no-untyped-def]
    code, report, line = verify(cli)
    assert code == 0 and line == ""
    assert report["events"] == 21 and report["latest_checkpoint"] == 21
    assert report["checkpoints_in_catalog"] == report["checkpoints_in_file"] == 5
    text = cli("ledger", "verify")  # the first verify recorded itself: one more event, signed
    assert "ledger OK" in text.stdout and "checkpoints: 6 in catalog, 6 in file" in text.stdout


def test_triggers_refuse_update_and_delete(ledger: Path) -> None:
    conn = sqlite3.connect(loader.load().catalog_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE ledger SET payload = '{}' WHERE seq = 3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM ledger WHERE seq = 21")
    conn.close()


def test_edited_payload(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    attacker.edit_payload(8, {"i": 6, "note": "nothing happened"})
    assert_first_bad(cli, 8, "seq 8: content does not match its hash (edited)")


def test_edited_and_rehashed_event(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    """A smarter edit recomputes the event's own hash; the next event still names the old one."""
    attacker.edit_payload(8, {"i": 6, "note": "nothing happened"}, rehash=True)
    assert_first_bad(cli, 8, "seq 8: hash was rewritten")


def test_deleted_middle_row(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    attacker.delete(10)
    assert_first_bad(cli, 10, "seq 10: event 10 is missing (deleted?)")


def test_deleted_middle_row_with_state_fixed(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    attacker.delete(10)
    attacker.fix_state()
    assert_first_bad(cli, 10, "event 10 is missing")


def test_reordered_pair(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    attacker.swap(12, 13)
    report = assert_first_bad(cli, 12, "seq 12: prev_hash does not link")
    assert any(p.startswith("seq 13:") for p in report["problems"])


def test_truncated_tail_is_caught_by_the_checkpoint_file(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    """Deleting the last events (and the catalog's checkpoints over them, and fixing the
    ledger state) leaves a valid chain; only the checkpoint file outside the catalog knows."""
    attacker.delete(17, 18, 19, 20, 21)
    attacker.drop_catalog_checkpoints_above(16)
    attacker.fix_state()
    # The catalog alone now tells a consistent story ...
    with Avledger.open(loader.load()) as app:
        chain = verifier.verify_chain(e.as_dict() for e in
                                      ledger_store.iter_events(app.catalog.conn))
        assert chain.problems == [] and chain.last_seq == 16
    # ... but the checkpoint file does not.
    report = assert_first_bad(cli, 17, "ledger truncated", "ends at seq 16",
                              "events 17..21 are gone")
    assert any("only in the checkpoint file" in n for n in report["notes"])


def test_truncated_tail_without_fixing_state(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    attacker.delete(20, 21)
    assert_first_bad(cli, 20, "ledger truncated", "ledger state records 21 events")


def test_rewritten_history_names_the_range(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    """Edit seq 8 and re-hash everything after it: the chain is consistent again, but the
    Merkle roots signed at 11, 16 and 21 are not; the last good checkpoint is at 6."""
    attacker.edit_payload(8, {"i": 6, "note": "rewritten"})
    attacker.rehash_from(8)
    assert_first_bad(cli, 7, "history rewritten: events 7..11")


def test_deleted_checkpoint_file_line(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    lines = attacker.file_lines()
    del lines[last_line_for(attacker.cp_file, 11)]
    attacker.write_file_lines(lines)
    code, report, line = verify(cli)
    assert code == 6 and "custody ledger verification failed" in line
    assert ("checkpoint at size 11 is in the catalog but missing from the checkpoint file"
            in report["problems"])


def test_edited_checkpoint_file_line(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    lines = attacker.file_lines()
    i = last_line_for(attacker.cp_file, 16)
    rec = json.loads(lines[i])
    body = rec["note"].split("\n")
    body[1] = "15"  # claim a different size under the same signature
    rec["note"] = "\n".join(body)
    lines[i] = json.dumps(rec) + "\n"
    attacker.write_file_lines(lines)
    code, report, _ = verify(cli)
    assert code == 6
    assert any("checkpoint file: checkpoint at size 15 has no valid signature" in p
               for p in report["problems"]), report["problems"]


def test_garbled_checkpoint_file_line(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    lines = attacker.file_lines()
    lines[2] = lines[2][:40] + "\n"
    attacker.write_file_lines(lines)
    code, report, _ = verify(cli)
    assert code == 6 and "checkpoint file: line 3 is not a checkpoint" in report["problems"]


def _forged_note(origin: str, size: int, root: bytes, head: str) -> str:
    forger = Signer(origin, Ed25519PrivateKey.generate())
    return forger.sign_note(verifier.checkpoint_body(origin, size, root, head, "2030-01-01"))


def test_forged_checkpoint(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    """Truncate, then cover it with a checkpoint signed by another key: the signature fails,
    and the file's real checkpoints still show the truncation."""
    attacker.delete(19, 20, 21)
    attacker.drop_catalog_checkpoints_above(16)
    attacker.fix_state()
    evs = attacker.events()
    root = verifier.merkle_root([verifier.leaf_hash(e["hash"]) for e in evs])
    origin = loader.load().get("ledger.origin")
    note = _forged_note(origin, 18, root, evs[-1]["hash"])
    attacker.conn.execute("INSERT INTO checkpoints (size, root, head, ts, note) VALUES "
                          "(18, ?, ?, '2030-01-01', ?)", (root.hex(), evs[-1]["hash"], note))
    with open(attacker.cp_file, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"size": 18, "note": note}) + "\n")
    report = assert_first_bad(cli, 19, "ledger truncated")
    assert sum("checkpoint at size 18 has no valid signature" in p
               for p in report["problems"]) == 2  # in the catalog and in the file


def test_swapped_public_key_is_noticed(ledger: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Replacing ledger.pub with a forger's key does not make forged checkpoints pass:
    the ledger's first event names the key it was created with."""
    cfg = loader.load()
    forger = Signer(cfg.get("ledger.origin"), Ed25519PrivateKey.generate())
    cfg.key_path.with_suffix(".pub").write_text(forger.verifier_key + "\n")
    code, report, _ = verify(cli)
    assert code == 6
    assert any("not the one this ledger was created with" in p for p in report["problems"])


def test_text_output_names_the_first_bad_seq(attacker: Attacker, cli) -> None:  # type: ignore[no-untyped-def]
    attacker.edit_payload(5, {"changed": True})
    out = cli("ledger", "verify")
    assert out.returncode == 6
    assert "FAILED seq 5: content does not match its hash (edited)" in out.stdout
    assert out.stderr.count("\n") == 1 and "first bad event: seq 5" in out.stderr


# ---- checkpoints -------------------------------------------------------------------------


def test_checkpoint_only_when_something_new(ledger: Path, cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("ledger", "checkpoint", "--json")
    assert out.returncode == 0 and json.loads(out.stdout) is None  # already covered
    with Avledger.open(loader.load()) as app:
        with app.transaction() as conn:
            app.record(conn, "test.event", "thing:x", {})
        cp = app.checkpoint()
        assert cp is not None and cp.size == 22
        assert app.checkpoint() is None


def test_interrupted_checkpoint_is_a_note_not_tampering(ledger: Path, monkeypatch, cli) -> None:  # type: ignore[no-untyped-def]
    """A crash after the file line is written but before the catalog commits leaves a signed
    checkpoint in the file only: consistent with the ledger, so it is reported as a note."""
    with Avledger.open(loader.load()) as app:
        with app.transaction() as conn:
            app.record(conn, "test.event", "thing:x", {})
        real_append = CheckpointFile.append

        def append_then_crash(self, size, note):  # type: ignore[no-untyped-def]
            real_append(self, size, note)
            raise KeyboardInterrupt  # the process dies before COMMIT

        with monkeypatch.context() as mp, pytest.raises(KeyboardInterrupt):
            mp.setattr(CheckpointFile, "append", append_then_crash)
            app.checkpoint()
        app._wrote = False
    code, report, _ = verify(cli)
    assert code == 0, report["problems"]
    assert any("size 22 is only in the checkpoint file" in n for n in report["notes"])


def test_failed_checkpoint_append_leaves_no_half_line(ledger: Path, monkeypatch, cli) -> None:  # type: ignore[no-untyped-def]
    import errno
    import os

    from avledger.errors import StorageError

    cfg = loader.load()
    before = cfg.checkpoint_file.read_bytes()
    real_write = os.write

    def half_then_full(fd, data):  # type: ignore[no-untyped-def]
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    with Avledger.open(cfg) as app:
        with app.transaction() as conn:
            app.record(conn, "test.event", "thing:x", {})
        with monkeypatch.context() as mp, pytest.raises(
                StorageError, match="disk is full while appending to the checkpoint"):
            mp.setattr(os, "write", half_then_full)
            app.checkpoint()
        assert cfg.checkpoint_file.read_bytes() == before  # cut back, no half line
        cp = app.checkpoint()  # and the next attempt works
        assert cp is not None and cp.size == 22
    assert verify(cli)[0] == 0


def test_origin_cannot_change_after_init(ledger: Path, cli) -> None:  # type: ignore[no-untyped-def]
    cfg_file = ledger / "avledger.yaml"
    text = cfg_file.read_text()
    cfg_file.write_text(text.replace("origin: avledger.local/home", "origin: other.example/x"))
    out = cli("ledger", "verify")
    assert out.returncode == 3
    assert "ledger.origin" in out.stderr and "cannot change" in out.stderr


# ---- a damaged ledger is only reported ---------------------------------------------------


def _written(home: Path) -> tuple[int, int, int, bytes]:
    """Everything a verify could write to the ledger: events, catalog checkpoints, and the
    checkpoint file's bytes (its line count too, for a readable failure)."""
    cfg = loader.load()
    conn = sqlite3.connect(cfg.catalog_path)
    try:
        events, cps = (conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                       for t in ("ledger", "checkpoints"))
    finally:
        conn.close()
    data = cfg.checkpoint_file.read_bytes()
    return events, cps, data.count(b"\n"), data


def _runs(home: Path) -> list[tuple[int, int]]:
    conn = sqlite3.connect(loader.load().catalog_path)
    try:
        return conn.execute("SELECT checked, problems FROM verify_runs").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("damage", ["truncated", "edited"])
def test_verify_of_a_damaged_ledger_writes_nothing(attacker: Attacker, ledger: Path, cli,  # type: ignore[no-untyped-def]
                                                    damage: str) -> None:
    if damage == "truncated":
        attacker.delete(20, 21)
    else:
        attacker.edit_payload(8, {"i": 6, "note": "nothing happened"})
    attacker.close()
    before = _written(ledger)
    for args in (("ledger", "verify", "--json"), ("ledger", "verify")):
        out = cli(*args)
        assert out.returncode == 6, out.stderr
    assert json.loads(cli("ledger", "verify", "--json").stdout)["event_recorded"] is False
    assert "nothing was written to this ledger" in cli("ledger", "verify").stdout
    assert _written(ledger) == before
    # The failed runs are noted outside the ledger, for status and the reports.
    runs = _runs(ledger)
    assert len(runs) == 4 and all(problems > 0 for _, problems in runs)


def test_verify_of_a_sound_ledger_is_recorded(ledger: Path, cli) -> None:  # type: ignore[no-untyped-def]
    before = _written(ledger)
    report = json.loads(cli("ledger", "verify", "--json").stdout)
    assert report["ok"] is True and report["event_recorded"] is True
    after = _written(ledger)
    assert after[:3] == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert _runs(ledger) == [(before[0], 0)]
