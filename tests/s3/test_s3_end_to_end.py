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
