"""End to end on an S3-configured home: init, ingest of a simulated recorder, a purge the
store's lock refuses, holds mirrored as S3 legal holds, and 'store verify' on S3."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from avledger.config.loader import Layout
from avledger.core.install.setup import development_config
from avledger.store.s3client import LockState
from tests.conftest import run_cli
from tests.s3 import seaweed


@pytest.fixture
def s3_home(weed: seaweed.Seaweed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("AVLEDGER_HOME", str(home))
    for var in ("AVLEDGER_CONFIG", "AVLEDGER_ACTOR", "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    doc = yaml.safe_load(development_config(Layout.discover(), _login()))
    doc["store"] = {"backend": "s3", "s3": {
        "endpoint_url": weed.endpoint, "bucket": f"avl-e2e-{os.getpid()}-{tmp_path.name[-8:]}"
        .lower().replace("_", "-"),
        "prefix": "site1", "lock_mode": "compliance", "min_retention_days": 5,
        "credentials_file": "s3.credentials"}}
    doc["retention"] = {"keep_unclassified": False}  # the simulated clips have no checkout
    (home / "avledger.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    (home / "s3.credentials").write_text(weed.credentials_file().read_text(), "utf-8")
    return home


def _login() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _ok(*args: str) -> Any:
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    return done


def _lock(s3: Any, home: Path, digest: str) -> LockState:
    cfg = yaml.safe_load((home / "avledger.yaml").read_text())["store"]["s3"]
    key = f"site1/objects/{digest[:2]}/{digest[2:4]}/{digest}"
    head = s3.head_object(Bucket=cfg["bucket"], Key=key)
    return LockState(head["VersionId"], head.get("ObjectLockMode"),
                     head.get("ObjectLockRetainUntilDate"),
                     head.get("ObjectLockLegalHoldStatus") == "ON")


def test_s3_home_ingest_purge_refused_holds_and_verify(s3_home: Path, s3: Any,
                                                       tmp_path: Path) -> None:
    init = _ok("init")
    assert "s3://avl-e2e-" in init.stdout + init.stderr
    rec = tmp_path / "bwr"
    _ok("simulate", "recorder", str(rec), "--clips", "2", "--size", "256k",
        "--start", "2024-06-01 09:00:00")
    _ok("ingest", str(rec))
    clips = json.loads(_ok("clips", "list", "--json").stdout)
    assert len(clips) == 2
    digests = {c["id"]: c["digest"] for c in clips}
    first, second = sorted(digests)
    for digest in digests.values():
        lock = _lock(s3, s3_home, digest)
        assert lock.mode == "COMPLIANCE" and not lock.legal_hold
        assert lock.retain_until is not None
        assert lock.retain_until > datetime.now(UTC) + timedelta(days=4, hours=23)

    # avledger's own retention (365 days after a recording in 2024) has run out; the store's
    # lock (5 days after upload) has not: the store refuses, and nothing changes.
    before = (_ok("clips", "list", "--json").stdout, _ok("ledger", "show", "--json").stdout)
    done = run_cli("purge", str(first), "--reason", "test recording", "--yes")
    assert done.returncode == 5, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"avledger: error: clip {first}: store refuses to delete "
                               f"{digests[first]}: under COMPLIANCE retention until "), lines[0]
    assert "; nothing was purged" in lines[0]
    after = (_ok("clips", "list", "--json").stdout, _ok("ledger", "show", "--json").stdout)
    assert after == before
    assert _ok("store", "verify").returncode == 0

    _ok("hold", "place", "--clip", str(second), "--reason", "complaint", "--note", "objected")
    assert _lock(s3, s3_home, digests[second]).legal_hold
    assert not _lock(s3, s3_home, digests[first]).legal_hold
    hold_id = json.loads(_ok("hold", "list", "--json").stdout)[0]["id"]
    _ok("hold", "release", str(hold_id), "--note", "complaint withdrawn")
    assert not _lock(s3, s3_home, digests[second]).legal_hold

    rec2 = tmp_path / "bwr2"
    _ok("simulate", "recorder", str(rec2), "--clips", "1", "--size", "128k",
        "--serial", "BWR0099")
    verified = json.loads(_ok("ingest", str(rec2), "--verify", "--json").stdout)
    assert [o["verified"] for o in verified["clips"]] == [True], verified
    recent = verified["clips"][0]["digest"]
    lock = _lock(s3, s3_home, recent)  # avledger keeps it 365 days: so does the store
    assert lock.retain_until is not None
    assert lock.retain_until > datetime.now(UTC) + timedelta(days=300), lock

    swept = json.loads(_ok("retention", "sweep", "--apply", "--json").stdout)
    assert swept["applied"]["store_locks"]["objects"] == 3, swept
    assert sorted(swept["applied"]["pending"]) == [first, second]  # expired here; locked there

    # A plain (unversioned) DELETE only hides the locked version behind a delete marker, but
    # the object is gone from the store's view: verify reports it missing.
    cfg = yaml.safe_load((s3_home / "avledger.yaml").read_text())["store"]["s3"]
    key = f"site1/objects/{digests[second][:2]}/{digests[second][2:4]}/{digests[second]}"
    s3.delete_object(Bucket=cfg["bucket"], Key=key)
    bad = run_cli("store", "verify", "--json")
    assert bad.returncode == 6, bad.stdout + bad.stderr
    report = json.loads(bad.stdout)
    assert report["missing"] == [digests[second]], report


def test_sweep_leaves_a_clip_the_store_still_locks_pending(s3_home: Path,
                                                            tmp_path: Path) -> None:
    from avledger.config import loader
    from avledger.core.app import Avledger
    from avledger.core.retention.sweep import apply_sweep
    from avledger.timestamps import utcnow

    _ok("init")
    rec = tmp_path / "bwr"
    _ok("simulate", "recorder", str(rec), "--clips", "1", "--size", "64k",
        "--start", "2024-06-01 09:00:00")
    _ok("ingest", str(rec))
    with Avledger.open(loader.load()) as app:
        now = utcnow()
        assert apply_sweep(app, now).pending == [1]
        later = apply_sweep(app, now + timedelta(days=8))  # pending period over; lock is not
        assert later.purged == []
        assert [s["clip"] for s in later.skipped] == [1]
        assert "store refuses to delete" in later.skipped[0]["why"]
        assert "under COMPLIANCE retention until" in later.skipped[0]["why"]
        status = app.catalog.conn.execute("SELECT status FROM clips WHERE id = 1").fetchone()
        assert status[0] == "pending_purge"


def test_a_group_whose_upload_fails_is_reported_failed_and_copied_on_the_next_run(
        s3_home: Path, tmp_path: Path) -> None:
    import blake3
    from botocore.exceptions import ClientError

    from avledger.config import loader
    from avledger.core.app import Avledger
    from avledger.core.ingest.session import ingest

    doc = yaml.safe_load((s3_home / "avledger.yaml").read_text())
    doc.setdefault("ingest", {})["group_clips"] = 2  # several groups, one published late
    (s3_home / "avledger.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    _ok("init")
    rec = tmp_path / "bwr"
    _ok("simulate", "recorder", str(rec), "--clips", "5", "--size", "64k")
    files = sorted(p for p in rec.rglob("*") if p.suffix.lower() == ".mp4")
    assert len(files) == 5
    bad = files[2]
    bad_digest = blake3.blake3(bad.read_bytes()).hexdigest()
    with Avledger.open(loader.load()) as app:
        real = app.store.client.put_object

        def reject(**kw: Any) -> Any:
            if kw["Key"].endswith(bad_digest):
                raise ClientError({"Error": {"Code": "BadDigest", "Message": "checksum"}},
                                  "PutObject")
            return real(**kw)

        app.store.client.put_object = reject
        first = ingest(app, rec)
        failed = {o.rel for o in first.outcomes if o.status == "failed"}
        new = {o.rel for o in first.outcomes if o.status == "new"}
        assert len(first.outcomes) == 5 and failed | new == {o.rel for o in first.outcomes}
        assert bad.relative_to(rec).as_posix() in failed
        assert 1 <= len(failed) <= 2, failed  # its group, nothing else
        assert all("content checksum does not match" in (o.error or "")
                   for o in first.outcomes if o.status == "failed")
        rows = {r[0] for r in app.catalog.conn.execute("SELECT source_path FROM clips")}
        assert rows == new  # the failed group left no row behind

        app.store.client.put_object = real
        second = ingest(app, rec)
        assert {o.rel for o in second.outcomes if o.status == "new"} == failed
        # the store's locks were brought to avledger's keeping (a year for recent footage)
        # before each run returned, not left at the upload's min_retention_days
        for (digest,) in app.catalog.conn.execute("SELECT digest FROM clips"):
            until = app.store.lock_state(digest).retain_until
            assert until is not None and until > datetime.now(UTC) + timedelta(days=300)
    clips = json.loads(_ok("clips", "list", "--json").stdout)
    assert len(clips) == 5
    _ok("ledger", "verify")
    _ok("store", "verify")
