"""Real docking: FAT images on loop devices through FUSE, and the faults a dock meets."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from avledger.core.install.setup import initialise
from tests.conftest import AVLEDGER_BIN, require_root_tools, run_cli
from tests.loopfuse import faultfs, fusefat, gatefs, loop_device, tmpfs
from tests.recorder_tools import catalog_objects, make_recorder, store_objects

pytestmark = pytest.mark.root


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def catalog_count(home: Path, sql: str) -> int:
    conn = sqlite3.connect(home / "data" / "catalog.db")
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def assert_store_clean(home: Path) -> None:
    """No partial object, no orphan: the store holds exactly the catalogued objects."""
    store = home / "data" / "store"
    assert os.listdir(store / "tmp") == []
    assert store_objects(store) == catalog_objects(home / "data" / "catalog.db")
    verify = run_cli("store", "verify", env={"AVLEDGER_HOME": str(home)})
    assert verify.returncode == 0, verify.stdout + verify.stderr
    ledger = run_cli("ledger", "verify", env={"AVLEDGER_HOME": str(home)})
    assert ledger.returncode == 0, ledger.stdout + ledger.stderr


def test_fat_image_through_fusefat_ingests_and_is_unchanged(home: Path, tmp_path: Path,
                                                            cli) -> None:  # type: ignore[no-untyped-def]
    require_root_tools("losetup", "fusefat", "mkfs.vfat", "mcopy", "fusermount")
    image = tmp_path / "bwr.img"
    sim = make_recorder(tmp_path / "tree", clips=5, size=2 << 20, serial="FAT001", drift=95,
                        image=image)
    before = sha256(image)
    mnt = tmp_path / "mnt"
    with loop_device(image) as dev, fusefat(dev, mnt):
        out = cli("ingest", str(mnt), "--json", "--verify")
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["totals"]["new"] == 5 and report["serial"] == "FAT001"
        assert all(c["verified"] for c in report["clips"])
        again = json.loads(cli("ingest", str(mnt), "--json").stdout)
        assert again["totals"]["new"] == 0 and again["totals"]["skipped"] == 5
    assert sha256(image) == before  # the recorder's bytes are untouched
    import blake3

    stored = store_objects(home / "data" / "store")
    for c in sim.clips:
        assert blake3.blake3((tmp_path / "tree" / c.rel).read_bytes()).hexdigest() in stored
    assert_store_clean(home)


def test_ingest_device_mounts_read_only_and_unmounts(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    require_root_tools("losetup", "fusefat", "mkfs.vfat", "mcopy", "fusermount", "blkid")
    image = tmp_path / "bwr.img"
    make_recorder(tmp_path / "tree", clips=3, size=1 << 20, serial="DEV001", image=image)
    before = sha256(image)
    with loop_device(image, read_only=False) as dev:  # writable device: we must not write
        out = cli("ingest", "--device", dev, "--json")
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["source"] == dev and report["totals"]["new"] == 3
        mounts = Path("/proc/mounts").read_text()
        assert dev not in mounts and "avledger-" not in mounts  # unmounted again
    assert sha256(image) == before
    missing = cli("ingest", "--device", "/dev/nonexistent-recorder")
    assert missing.returncode == 8 and "does not exist" in missing.stderr


def test_unreadable_clip_fails_alone(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    require_root_tools("fusermount")
    tree = tmp_path / "tree"
    sim = make_recorder(tree, clips=4, size=3 << 20, serial="EIO001")
    bad = Path(sim.clips[1].rel).name
    mnt = tmp_path / "mnt"
    with faultfs(tree, mnt, bad, after=1 << 20):
        out = cli("ingest", str(mnt), "--json")
    assert out.returncode == 1, out.stderr
    assert "1 clip(s) failed" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    report = json.loads(out.stdout)
    status = {Path(c["rel"]).name: c for c in report["clips"]}
    assert status[bad]["status"] == "failed"
    assert "Input/output error" in status[bad]["error"] and bad in status[bad]["error"]
    assert sorted(c["status"] for c in report["clips"]) == ["failed", "new", "new", "new"]
    assert catalog_count(home, "SELECT COUNT(*) FROM clips") == 3
    assert_store_clean(home)
    # the card is read again later (e.g. in a card reader): only the missing clip is copied
    out = cli("ingest", str(tree), "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["totals"]["new"] == 1


def test_full_store_disk_stops_cleanly(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    require_root_tools("mount", "umount")
    with tmpfs(tmp_path / "small", "10m") as small:
        config = home / "avledger.yaml"
        doc = yaml.safe_load(config.read_text())
        doc["store"] = {"path": str(small / "store")}
        config.write_text(yaml.safe_dump(doc))
        initialise(None)
        tree = tmp_path / "tree"
        make_recorder(tree, clips=5, size=3 << 20, serial="FULL01")
        out = cli("ingest", str(tree), "--json")
        assert out.returncode == 7, out.stdout + out.stderr
        assert "store disk is full" in out.stderr and len(out.stderr.strip().splitlines()) == 1
        stored = store_objects(small / "store")
        assert os.listdir(small / "store" / "tmp") == []  # nothing half-written
        assert stored == catalog_objects(home / "data" / "catalog.db")
        assert 0 < len(stored) < 5
        assert catalog_count(home, "SELECT COUNT(*) FROM clips") == len(stored)
        assert catalog_count(home, "SELECT COUNT(*) FROM docks WHERE state = 'failed'") == 1
        ledger = cli("ledger", "verify")
        assert ledger.returncode == 0, ledger.stdout
        verify = cli("store", "verify")
        assert verify.returncode == 0, verify.stdout


def test_recorder_removed_mid_copy_leaves_no_partial_object(home: Path, tmp_path: Path) -> None:
    """Pulled out mid-copy, deterministically: reads of clips 3-6 wait on a gate, so with one
    clip per group commit clips 1 and 2 are in and clip 3 is being copied when fusefat dies."""
    require_root_tools("losetup", "fusefat", "mkfs.vfat", "mcopy", "fusermount")
    image = tmp_path / "bwr.img"
    make_recorder(tmp_path / "tree", clips=6, size=12 << 20, serial="GONE01", image=image)
    config = home / "avledger.yaml"
    doc = yaml.safe_load(config.read_text())
    doc["ingest"] = {"group_clips": 1}
    config.write_text(yaml.safe_dump(doc))
    inner, mnt, gate = tmp_path / "inner", tmp_path / "mnt", tmp_path / "gate-open"
    env = dict(os.environ, AVLEDGER_HOME=str(home))
    with loop_device(image) as dev, fusefat(dev, inner) as helper, \
            gatefs(inner, mnt, gate, "*_000[3-6].MP4"):
        proc = subprocess.Popen([AVLEDGER_BIN, "ingest", str(mnt), "--json"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            while catalog_count(home, "SELECT COUNT(*) FROM clips") < 2:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.05)
            helper.kill()  # the recorder is pulled out while clip 3 is being copied
            helper.wait()
        finally:
            gate.touch()  # clip 3's read goes on, into the dead volume
        stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 8, stderr
    assert "recorder was removed" in stderr
    report = json.loads(stdout)
    assert report["stopped"] == "the recorder was removed"
    assert report["totals"]["failed"] >= 1 and report["totals"]["new"] == 2
    assert catalog_count(home, "SELECT COUNT(*) FROM docks WHERE state = 'removed'") == 1
    assert_store_clean(home)
