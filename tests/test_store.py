"""The content-addressed store and ``avledger store verify`` (end to end through the CLI)."""

from __future__ import annotations

import io
import json
import os
import stat
import time
from pathlib import Path

import blake3
import pytest

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.custody.integrity import register_object, verify_store
from avledger.errors import StorageError
from avledger.store import ledger as ledger_store
from avledger.store.local import LocalObjectStore
from tests.storetools import age, assert_only_complete_objects, flip_bit, store_objects, truncate

CONTENTS = [os.urandom(200_000 + i * 1000) for i in range(6)]


def _one_error_line(out) -> str:  # type: ignore[no-untyped-def]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("avledger: error:")
    return lines[0]


def _verify_json(cli, *args: str):  # type: ignore[no-untyped-def]
    out = cli("store", "verify", "--json", *args)
    return out, json.loads(out.stdout)


# ---- the object store itself -----------------------------------------------------------


def test_put_is_content_addressed_read_only_and_deduplicated(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s")
    store.create()
    data = b"evidence " * 1000
    first = store.put_stream(io.BytesIO(data), expected_size=len(data))
    assert first.digest == blake3.blake3(data).hexdigest() and first.created
    path = store.path_for(first.digest)
    assert path.relative_to(store.objects).parts == (first.digest[:2], first.digest[2:4],
                                                     first.digest)
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    again = store.put_bytes(data)
    assert again == first.__class__(first.digest, len(data), False)
    assert assert_only_complete_objects(store.root) == [path]
    assert store.temp_files() == []
    with store.open(first.digest) as fh:
        assert fh.read() == data
    empty = store.put_bytes(b"")
    assert store.verify(empty.digest, 0).status == "ok"


def test_link_into_links_on_one_disk_and_copies_across_disks(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s")
    store.create()
    put = store.put_bytes(b"disc content " * 100)
    same_disk = tmp_path / "stage" / "a.mp4"
    same_disk.parent.mkdir()
    store.link_into(put.digest, same_disk)
    assert same_disk.stat().st_ino == store.path_for(put.digest).stat().st_ino
    other = Path("/dev/shm")
    if not other.is_dir() or os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem (/dev/shm) to copy across")
    across = other / f"avledger-link-{os.getpid()}-{put.digest[:8]}"
    try:
        store.link_into(put.digest, across)  # EXDEV: falls back to a read-only copy
        assert across.read_bytes() == b"disc content " * 100
        assert across.stat().st_ino != store.path_for(put.digest).stat().st_ino
        assert stat.S_IMODE(across.stat().st_mode) == 0o444
        with pytest.raises(StorageError, match="store I/O error while linking an object"):
            store.link_into(put.digest, tmp_path / "no-such-dir" / "b.mp4")
    finally:
        across.unlink(missing_ok=True)


def test_progress_and_expected_size(tmp_path: Path) -> None:
    from avledger.store.local import SourceReadError

    store = LocalObjectStore(tmp_path / "s")
    store.create()
    seen: list[int] = []
    data = os.urandom(9 * 1024 * 1024 + 7)
    store.put_stream(io.BytesIO(data), expected_size=len(data), progress=seen.append)
    assert sum(seen) == len(data)
    with pytest.raises(SourceReadError, match="ended early"):
        store.put_stream(io.BytesIO(b"short"), expected_size=10)
    assert store.temp_files() == []
    assert not store.exists(blake3.blake3(b"short").hexdigest())


# ---- store verify: each kind of damage -------------------------------------------------------


def _stored(home: Path, n: int = 6) -> tuple[Avledger, list[str]]:
    app = Avledger.open(loader.load())
    try:
        return app, store_objects(app, CONTENTS[:n])
    finally:
        app.close()


def test_clean_store_verifies(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _, digests = _stored(home)
    out, report = _verify_json(cli)
    assert out.returncode == 0, out.stderr
    assert report["checked"] == len(digests) and report["ok"] == len(digests)
    assert report["problems"] == 0 and report["mode"] == "full"
    plain = cli("store", "verify")
    assert plain.returncode == 0 and "store OK" in plain.stdout


def test_detects_one_flipped_bit(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, digests = _stored(home)
    victim = digests[2]
    flip_bit(app.store.path_for(victim), offset=12345, bit=5)
    out, report = _verify_json(cli)
    assert out.returncode == 6
    assert [c["object"] for c in report["corrupt"]] == [victim]
    assert report["ok"] == len(digests) - 1
    assert "found 1 problem(s): 1 corrupt (hint:" in _one_error_line(out)


def test_detects_truncated_object(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, digests = _stored(home)
    truncate(app.store.path_for(digests[0]), 1000)
    out, report = _verify_json(cli)
    assert out.returncode == 6
    assert report["corrupt"] == [{"object": digests[0],
                                  "detail": f"size 1000, catalog says {len(CONTENTS[0])}"}]


def test_detects_missing_object(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, digests = _stored(home)
    app.store.path_for(digests[4]).unlink()
    out, report = _verify_json(cli)
    assert out.returncode == 6
    assert report["missing"] == [digests[4]] and report["corrupt"] == []
    text = cli("store", "verify")
    assert text.returncode == 6
    assert "missing" in text.stdout and digests[4] in text.stdout


def test_detects_orphan(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, digests = _stored(home)
    orphan = app.store.put_bytes(b"never catalogued").digest
    age(app.store.path_for(orphan), 3600)
    out, report = _verify_json(cli)
    assert out.returncode == 6
    assert report["orphans"] == [orphan] and report["ok"] == len(digests)
    # An orphan is reported, never quarantined or deleted: it may be someone's evidence.
    assert app.store.exists(orphan)


def test_just_written_object_is_not_an_orphan_yet(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, _ = _stored(home)
    app.store.put_bytes(b"an ingest is committing this right now")
    out, report = _verify_json(cli)
    assert out.returncode == 0, out.stderr
    assert report["orphans"] == [] and report["recent_unclaimed"] == 1


def test_all_kinds_at_once(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, digests = _stored(home)
    flip_bit(app.store.path_for(digests[0]))
    truncate(app.store.path_for(digests[1]), 0)
    app.store.path_for(digests[2]).unlink()
    orphan = app.store.put_bytes(b"orphan").digest
    age(app.store.path_for(orphan), 7200)
    out, report = _verify_json(cli)
    assert out.returncode == 6
    assert sorted(c["object"] for c in report["corrupt"]) == sorted(digests[:2])
    assert report["missing"] == [digests[2]] and report["orphans"] == [orphan]
    assert report["problems"] == 4
    assert "found 4 problem(s): 2 corrupt, 1 missing, 1 orphan (hint:" in _one_error_line(out)


# ---- quarantine --------------------------------------------------------------------------


def test_corrupt_object_is_quarantined_not_repaired(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, digests = _stored(home)
    victim = digests[3]
    path = app.store.path_for(victim)
    flip_bit(path, offset=77)
    damaged = path.read_bytes()
    out, report = _verify_json(cli)
    assert out.returncode == 6 and report["quarantined"] == [victim]
    assert not path.exists()
    moved = [p for p in (app.store.root / "quarantine").iterdir() if p.name.startswith(victim)]
    body = [p for p in moved if not p.name.endswith(".reason")]
    reason = [p for p in moved if p.name.endswith(".reason")]
    assert len(body) == 1 and body[0].read_bytes() == damaged  # kept exactly as found
    assert "hashes to" in reason[0].read_text()
    with Avledger.open(loader.load()) as again:
        conn = again.catalog.conn
        row = conn.execute("SELECT quarantined_at FROM objects WHERE digest = ?",
                           (victim,)).fetchone()
        assert row[0] is not None
        events = [e.type for e in ledger_store.iter_events(conn, where="subject = ?",
                                                           params=(f"object:{victim}",))]
        assert events == ["object.quarantined"]
    # The next scrub does not report it as corrupt again, but says it awaits restoration
    # and fails until it is restored.
    out2, report2 = _verify_json(cli)
    assert out2.returncode == 6 and report2["problems"] == 1, out2.stderr
    assert report2["quarantined_earlier"] == 1 and report2["checked"] == len(digests) - 1
    text = cli("store", "verify")
    assert "await restoration" in text.stdout


def test_restoring_quarantined_content_puts_it_back(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, digests = _stored(home)
    flip_bit(app.store.path_for(digests[0]))
    assert cli("store", "verify").returncode == 6
    with Avledger.open(loader.load()) as again:
        res = again.store.put_bytes(CONTENTS[0])
        assert res.created and res.digest == digests[0]
        with again.transaction() as conn:
            assert register_object(again, conn, res.digest, res.size)
    out, report = _verify_json(cli)
    assert out.returncode == 0 and report["quarantined_earlier"] == 0
    assert report["checked"] == len(digests)


def test_no_quarantine_leaves_object_in_place(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, digests = _stored(home)
    flip_bit(app.store.path_for(digests[1]))
    out, report = _verify_json(cli, "--no-quarantine")
    assert out.returncode == 6 and report["quarantined"] == []
    assert app.store.path_for(digests[1]).exists()
    assert not list((app.store.root / "quarantine").iterdir())


def test_every_run_is_a_ledger_event(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _stored(home, 2)
    cli("store", "verify")
    with Avledger.open(loader.load()) as app:
        ev = next(ledger_store.iter_events(app.catalog.conn, where="type = 'store.verified'"))
        assert ev.payload["checked"] == 2 and ev.payload["mode"] == "full"
        assert ev.actor.startswith("0001:")
    assert cli("ledger", "verify").returncode == 0


# ---- sample and budget -------------------------------------------------------------------------


def test_sample_checks_that_many_objects(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, digests = _stored(home)
    out, report = _verify_json(cli, "--sample", "3", "--seed", "7")
    assert out.returncode == 0 and report["mode"] == "sample" and report["checked"] == 3
    again = json.loads(cli("store", "verify", "--json", "--sample", "3", "--seed", "7").stdout)
    assert again["checked"] == 3
    # A sample as large as the store finds the damage; a sample never scans for orphans.
    flip_bit(app.store.path_for(digests[5]))
    orphan = app.store.put_bytes(b"orphan").digest
    age(app.store.path_for(orphan), 3600)
    out, report = _verify_json(cli, "--sample", "100")
    assert out.returncode == 6 and len(report["corrupt"]) == 1 and report["orphans"] == []


def test_budget_checks_oldest_verified_first(home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A scrub that stops in time resumes where it stopped, so nightly runs cover everything."""
    app, digests = _stored(home)
    slow = app.store.verify

    def slow_verify(digest: str, expected_size: int | None = None, **kw):  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        return slow(digest, expected_size, **kw)

    def verified_at(a: Avledger) -> dict[str, str]:
        return {r[0]: r[1] or "" for r in a.catalog.conn.execute(
            "SELECT digest, last_verified_at FROM objects")}

    with Avledger.open(loader.load()) as a:
        monkeypatch.setattr(a.store, "verify", slow_verify)
        covered: set[str] = set()
        for _ in range(4):
            before = verified_at(a)
            report = verify_store(a, budget_seconds=0.5, workers=1)
            after = verified_at(a)
            assert report.mode == "budget" and report.problems == 0
            assert 1 <= report.checked < len(digests)
            assert report.not_reached == len(digests) - report.checked
            checked = {d for d in digests if after[d] != before[d]}
            assert len(checked) == report.checked
            # every object checked had waited at least as long as every object skipped
            # (never-verified ones count as the oldest)
            skipped = set(digests) - checked
            assert max(before[d] for d in checked) <= min(before[d] for d in skipped)
            covered |= checked
        assert covered == set(digests)  # short runs together covered the whole store


def test_budget_zero_checks_nothing(app: Avledger) -> None:
    store_objects(app, CONTENTS[:3])
    report = verify_store(app, budget_seconds=0)
    assert report.checked == 0 and report.not_reached == 3


def test_budget_from_the_cli(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _stored(home)
    out, report = _verify_json(cli, "--budget", "60")
    assert out.returncode == 0 and report["mode"] == "budget"
    assert report["checked"] == len(CONTENTS) and report["not_reached"] == 0


def test_unknown_user_may_not_verify(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("store", "verify", env={"AVLEDGER_ACTOR": "mallory"})
    assert out.returncode == 5
    assert "not on the roster" in _one_error_line(out)


def test_detects_stray_files(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Files that are no object where they belong: a misnamed file, an object in the wrong
    shard directory. Nothing in avledger writes them, so a full verify reports them."""
    import shutil

    app, digests = _stored(home, 2)
    objects = app.store.root / "objects"
    odd = app.store.path_for(digests[0]).parent / "notes.txt"
    odd.write_text("someone was here")
    wrong = objects / "00" / "00"
    wrong.mkdir(parents=True)
    shutil.copy(app.store.path_for(digests[1]), wrong / digests[1])
    age(odd, 3600)
    out, report = _verify_json(cli)
    assert out.returncode == 6
    rel_odd = str(odd.relative_to(objects))
    assert report["strays"] == sorted([rel_odd, f"00/00/{digests[1]}"])
    assert report["orphans"] == [] and report["ok"] == 2
    text = cli("store", "verify")
    assert "stray" in text.stdout and "notes.txt" in text.stdout


def test_full_verify_sweeps_stale_temp_files(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    app, _ = _stored(home, 1)
    stale, fresh = app.store.tmp / "put-1-dead", app.store.tmp / "put-2-busy"
    stale.write_bytes(b"half an object")
    fresh.write_bytes(b"a write in progress")
    age(stale, 2 * 24 * 3600)
    out, report = _verify_json(cli)
    assert out.returncode == 0 and report["temp_swept"] == 1
    assert not stale.exists() and fresh.exists()
