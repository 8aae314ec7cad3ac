"""Clock check and clock sync on a recorder's block device: a real FAT image on a loop device,
mounted by fusefat — read-only to read, read-write for the one write of a sync only, and
unmounted after each step (root)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from avledger.core.simulate.recorder import take_up_clock_setting, write_clock_file
from avledger.timestamps import parse_iso
from tests.conftest import require_root_tools
from tests.desk.conftest import catalog_rows, ledger_events, one_error_line, register
from tests.loopfuse import loop_device
from tests.recorder_tools import make_recorder, profile

TOOLS = ("losetup", "fusefat", "fusermount", "mkfs.vfat", "mcopy", "fsck.vfat")


def fat_files(image: Path, where: Path) -> dict[str, bytes]:
    """Every file in a FAT image, read with mtools (no mount)."""
    subprocess.run(["mcopy", "-s", "-n", "-i", str(image), "::/", str(where)], check=True,
                   capture_output=True, env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"})
    return {p.relative_to(where).as_posix(): p.read_bytes() for p in where.rglob("*")
            if p.is_file()}


@contextmanager
def watching_mounts(dev: str) -> Iterator[list[str]]:
    """How avledger mounts ``dev`` (ro / rw, '-' unmounted), in order (polling /proc/mounts;
    a FUSE mount names its helper, not the device, so its mount point tells)."""
    seen: list[str] = []
    stop = threading.Event()
    mine = f"/avledger-{Path(dev).name}-"

    def poll() -> None:
        while not stop.is_set():
            with open("/proc/mounts") as fh:
                modes = [ln.split()[3].split(",")[0] for ln in fh if mine in ln.split()[1]]
            for mode in modes:
                if not seen or seen[-1] != mode:
                    seen.append(mode)
            if not modes and seen and seen[-1] != "-":
                seen.append("-")
            time.sleep(0.002)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


@pytest.fixture
def recorder(desk, docked_home, tmp_path: Path) -> Iterator[tuple[Path, Path, str]]:  # type: ignore[no-untyped-def]
    require_root_tools(*TOOLS)
    root = tmp_path / "BWR-B"
    image = tmp_path / "BWR-B.img"
    make_recorder(root, serial="BWR-B", drift=-40, clips=2, size=64_000, battery=77,
                  image=image)
    register(desk, "BWR-B")
    with loop_device(image, read_only=False) as dev:
        yield root, image, dev


def test_sync_on_a_block_device_mounts_read_write_for_the_write_only(dcli, recorder,  # type: ignore[no-untyped-def]
                                                                     docked_home,
                                                                     tmp_path: Path) -> None:
    root, image, dev = recorder
    refused = dcli("clock", "sync", dev)
    assert refused.returncode == 5
    assert one_error_line(refused).endswith(f"(hint: avledger ingest --device {dev})")
    assert dcli("ingest", "--device", dev).returncode == 0
    before = fat_files(image, tmp_path / "before")

    with watching_mounts(dev) as modes:
        checked = dcli("clock", "check", dev)
    assert checked.returncode == 1 and "s slow — drifted" in checked.stdout
    assert modes == ["ro", "-"]

    with watching_mounts(dev) as modes:
        res = dcli("clock", "sync", dev)
    assert res.returncode == 0, res.stderr
    assert modes == ["ro", "-", "rw", "-"]  # read, then the one read-write mount, then none
    assert f"{dev} was mounted read-write for this one write and unmounted" in res.stdout
    after = fat_files(image, tmp_path / "after")
    assert set(after) - set(before) == {"TIMESET.TXT"}
    assert {k: after[k] for k in before} == before
    assert subprocess.run(["fsck.vfat", "-n", str(image)], capture_output=True).returncode == 0
    synced = ledger_events(dcli, type="clock.synced")[0]["payload"]
    assert synced["read_write_mount"] is True and synced["state"] == "pending"
    assert after["TIMESET.TXT"].decode() == synced["written"]["content"]

    # The recorder takes the new time up when it is next connected (played here by
    # mounting its volume and doing what its firmware does), then the desk reads it.
    mnt = tmp_path / "firmware"
    mnt.mkdir()
    subprocess.run(["fusefat", "-o", "rw+", dev, str(mnt)], check=True, capture_output=True)
    try:
        drift = take_up_clock_setting(mnt, profile(),
                                      as_of=parse_iso(synced["written"]["set_to"]))
        assert drift is not None and abs(drift) < 1
        write_clock_file(mnt, profile(), drift)
    finally:
        subprocess.run(["fusermount", "-u", str(mnt)], check=True)
    time.sleep(0.5)
    settled = dcli("clock", "check", dev, "--json")
    assert settled.returncode == 0, settled.stderr
    assert json.loads(settled.stdout)["settled_sync"]["applied"] is True
    assert catalog_rows(docked_home, "SELECT state FROM clock_syncs") == [{"state": "applied"}]
    with open("/proc/mounts") as fh:
        assert f"/avledger-{Path(dev).name}-" not in fh.read()


def test_checkout_reads_battery_and_free_space_from_the_device(dcli, recorder) -> None:  # type: ignore[no-untyped-def]
    _root, _image, dev = recorder
    assert dcli("ingest", "--device", dev).returncode == 0
    res = dcli("checkout", "BWR-B", "--to", "0003", "--task", "x", "--docked", dev,
               "--no-sync-clock")
    assert res.returncode == 5
    assert "its profile can set it: run 'avledger clock sync'" in one_error_line(res)
    forced = dcli("checkout", "BWR-B", "--to", "0003", "--task", "x", "--docked", dev,
                  "--no-sync-clock", "--force", "--reason", "time noted by hand", "--json")
    assert forced.returncode == 0, forced.stderr
    pre = json.loads(forced.stdout)["precheck"]
    assert pre["battery"] == {"result": "ok", "value": 77.0, "source": "device"}
    assert pre["storage"]["source"] == "device" and 50 < pre["storage"]["value"] <= 100
    assert pre["footage"] == {"result": "ok", "value": 0.0, "source": "device"}
    with open("/proc/mounts") as fh:
        assert f"/avledger-{Path(dev).name}-" not in fh.read()
