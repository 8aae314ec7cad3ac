"""End to end with real parts: systemd-udevd, loop-attached FAT images, FUSE, the daemon.

The installed ``avledger daemon`` runs as a separate process; recorders are simulator-made
FAT images attached with ``losetup``; the daemon must notice the real udev event, mount
read-only (fusefat), ingest, and unmount.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import blake3
import pytest
import yaml

from avledger.timestamps import parse_iso, utcnow
from tests.conftest import AVLEDGER_BIN, require_root_tools, run_cli
from tests.loopfuse import gated_helper, unmount_inner
from tests.recorder_tools import make_recorder
from tests.udevtools import attach, detach, ensure_udevd

REPO = Path(__file__).resolve().parent.parent
TOOLS = ("losetup", "mkfs.vfat", "mcopy", "fusefat", "udevadm")


def _sha(path: Path) -> str:
    return blake3.blake3(path.read_bytes()).hexdigest()


def _rows(catalog: Path, sql: str, *args: Any) -> list[dict[str, Any]]:
    conn = sqlite3.connect(catalog, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def _wait(cond, timeout: float = 120.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def daemon(home: Path, tmp_path: Path,
           request: pytest.FixtureRequest) -> Iterator[subprocess.Popen[bytes]]:
    require_root_tools(*TOOLS)
    ensure_udevd()
    # These tests are about ingest, which never writes to a recorder: the clock sync after an
    # ingest (which may, when a clock file reads slow by the time it is measured) is off,
    # except where a test asks for it with @pytest.mark.clock_sync.
    config_file = home / "avledger.yaml"
    doc = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    doc.setdefault("daemon", {})["clock_sync"] = bool(request.node.get_closest_marker(
        "clock_sync"))
    config_file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")
    log = open(tmp_path / "daemon.log", "wb")  # noqa: SIM115
    workers = request.node.get_closest_marker("daemon_concurrency")
    concurrency = str(workers.args[0]) if workers else "4"
    proc = subprocess.Popen([AVLEDGER_BIN, "daemon", "--concurrency", concurrency], stdout=log,
                            stderr=subprocess.STDOUT, env=dict(os.environ))
    _wait(lambda: b"dock daemon ready" in (tmp_path / "daemon.log").read_bytes(), 30,
          "the daemon to start")
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    log.close()


def _recorder(tmp_path: Path, serial: str, clips: int,
              size: int) -> tuple[Path, Path, dict[str, str]]:
    root = tmp_path / serial
    image = tmp_path / f"{serial}.img"
    make_recorder(root, clips=clips, size=size, serial=serial, badge="0001", image=image)
    digests = {str(p.relative_to(root)): _sha(p) for p in root.rglob("*.MP4")}
    return root, image, digests


def _docks(home: Path, serial: str) -> list[dict[str, Any]]:
    return _rows(home / "data" / "catalog.db",
                 "SELECT d.* FROM docks d JOIN devices v ON v.id = d.device_id"
                 " WHERE v.serial = ? ORDER BY d.id", serial)


def _clips(home: Path, serial: str) -> dict[str, str]:
    rows = _rows(home / "data" / "catalog.db",
                 "SELECT c.source_path, c.digest FROM clips c JOIN devices v"
                 " ON v.id = c.device_id WHERE v.serial = ?", serial)
    return {r["source_path"]: r["digest"] for r in rows}


def _mounted_under(path: Path) -> list[str]:
    with open("/proc/mounts") as fh:
        return [ln for ln in fh if str(path) in ln]


def test_docked_image_is_detected_ingested_and_unmounted(  # type: ignore[no-untyped-def]
        daemon, home: Path, tmp_path: Path) -> None:
    _root, image, digests = _recorder(tmp_path, "E2E001", clips=4, size=2 << 20)
    before = _sha(image)
    dev = attach(image)
    try:
        _wait(lambda: any(d["state"] == "done" for d in _docks(home, "E2E001")),
              what="the dock to finish")
        assert _clips(home, "E2E001") == digests  # every clip, with the right hash
        assert not _mounted_under(home), "the recorder was left mounted"
    finally:
        detach(dev)
    assert _sha(image) == before, "the recorder image changed"
    events = json.loads(run_cli("ledger", "show", "--limit", "100", "--json").stdout)
    story = [e["type"] for e in reversed(events)
             if e["actor"] == "system" and e["type"] != "ledger.created"]  # init is system's too
    assert story[:3] == ["device.discovered", "clock.measured", "dock.started"]
    assert story.count("clip.ingested") == 4 and story[-1] == "dock.finished"
    assert run_cli("ledger", "verify").returncode == 0
    assert run_cli("store", "verify").returncode == 0
    status = json.loads(run_cli("dock", "status", "--json").stdout)
    assert status["docked"] == [] and status["recent"][0]["serial"] == "E2E001"


def test_four_recorders_at_once(daemon, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    recorders = [_recorder(tmp_path, f"BAY{i}", clips=3, size=12 << 20) for i in range(4)]
    devs = [attach(image) for _root, image, _d in recorders]
    try:
        _wait(lambda: all(any(d["state"] == "done" for d in _docks(home, f"BAY{i}"))
                          for i in range(4)), 300, "four docks to finish")
        for i, (_root, _image, digests) in enumerate(recorders):
            assert _clips(home, f"BAY{i}") == digests
        docks = [_docks(home, f"BAY{i}")[-1] for i in range(4)]
        # Concurrent: every docking started before any of them finished.
        assert max(d["started_at"] for d in docks) < min(d["finished_at"] for d in docks)
    finally:
        for dev in devs:
            detach(dev)
    assert run_cli("store", "verify").returncode == 0


def _fusefat_pids(dev: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"fusefat .*{dev} "], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_detached_mid_ingest_leaves_no_partial_and_completes_later(  # type: ignore[no-untyped-def]
        daemon, home: Path, tmp_path: Path) -> None:
    """Pulled out mid-copy, deterministically: the recorder is mounted through a helper whose
    reads of clips 3-6 wait for a gate; with one clip per group commit, clips 1 and 2 are in
    and the copy of clip 3 is waiting when the recorder is pulled (device detached, FUSE
    helpers killed, as an unplug leaves them)."""
    gate = tmp_path / "gate-open"
    prof = yaml.safe_load((REPO / "config" / "profiles" / "generic.yaml").read_text())
    prof |= {"name": "yank", "match": prof["match"] | {"label": "^YANK"},
             "simulate": prof["simulate"] | {"label": "YANK-SIM"},
             "mount": prof["mount"] | {"helper": str(gated_helper(
                 tmp_path / "gated-fusefat", gate, "*_000[3-6].MP4"))}}
    (home / "profiles").mkdir(exist_ok=True)
    (home / "profiles" / "yank.yaml").write_text(yaml.safe_dump(prof), encoding="utf-8")
    config_file = home / "avledger.yaml"
    doc = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    doc["ingest"] = {"group_clips": 1}
    config_file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")
    os.kill(daemon.pid, signal.SIGHUP)  # reload: the daemon learns the profile and setting
    _wait(lambda: b"reloaded" in (tmp_path / "daemon.log").read_bytes(), 30, "the reload")
    root = tmp_path / "YANK01"
    image = tmp_path / "YANK01.img"
    make_recorder(root, "yank", clips=6, size=4 << 20, serial="YANK01", badge="0001",
                  image=image)
    digests = {str(p.relative_to(root)): _sha(p) for p in root.rglob("*.MP4")}
    dev = attach(image)
    try:
        _wait(lambda: len(_clips(home, "YANK01")) == 2 and any(
            d["state"] == "ingesting" for d in _docks(home, "YANK01")),
            what="two clips in and the third waiting")
        # Pull the recorder: the loop device goes away and its FUSE helpers with it.
        detach(dev)
        for pid in _fusefat_pids(dev) + _gatefs_pids(gate):
            os.kill(pid, signal.SIGKILL)
        _wait(lambda: _docks(home, "YANK01")[-1]["state"] in ("removed", "failed", "cancelled"),
              what="the dock to notice the removal")
        partial = _clips(home, "YANK01")
        assert len(partial) == 2 < len(digests)
        assert all(digests[k] == v for k, v in partial.items())
        assert run_cli("store", "verify").returncode == 0  # no partial or corrupt object
        assert not list((home / "data" / "store" / "tmp").iterdir())
        # Dock it again (nothing holds its reads now): the rest is ingested, nothing twice.
        gate.touch()
        dev = attach(image)
        _wait(lambda: _docks(home, "YANK01")[-1]["state"] == "done"
              and len(_docks(home, "YANK01")) >= 2, what="the second docking")
        assert _clips(home, "YANK01") == digests
    finally:
        gate.touch()
        detach(dev)
        unmount_inner(home)
    assert run_cli("ledger", "verify").returncode == 0
    assert run_cli("store", "verify").returncode == 0


def _gatefs_pids(gate: Path) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"tests.gatefs .*--gate {gate} "], capture_output=True,
                         text=True)
    return [int(p) for p in out.stdout.split()]


def test_sigterm_stops_cleanly(daemon) -> None:  # type: ignore[no-untyped-def]
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=60) == 0


@pytest.mark.clock_sync
def test_a_drifted_recorder_gets_its_clock_set_after_ingest(daemon, home: Path,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path) -> None:
    root = tmp_path / "SLOW01"
    image = tmp_path / "SLOW01.img"
    make_recorder(root, clips=2, size=1 << 20, serial="SLOW01", badge="0001", drift=-40,
                  image=image)
    dev = attach(image)
    try:
        _wait(lambda: any(d["state"] == "done" for d in _docks(home, "SLOW01")),
              what="the dock to finish")
        _wait(lambda: bool(_rows(home / "data" / "catalog.db", "SELECT * FROM clock_syncs")),
              what="the clock sync")
        assert not _mounted_under(home), "the recorder was left mounted"
    finally:
        detach(dev)
    sync = _rows(home / "data" / "catalog.db", "SELECT * FROM clock_syncs")[0]
    assert (sync["origin"], sync["state"], sync["target"]) == ("dock", "pending", "TIMESET.TXT")
    listing = subprocess.run(["mdir", "-b", "-i", str(image), "::/"], capture_output=True,
                             text=True, env=dict(os.environ, MTOOLS_SKIP_CHECK="1")).stdout
    assert "TIMESET.TXT" in listing
    events = json.loads(run_cli("ledger", "show", "--type", "clock.synced", "--json").stdout)
    assert [e["actor"] for e in events] == ["system"]
    assert events[0]["payload"]["before"]["drift_seconds"] <= -40
    assert run_cli("ledger", "verify").returncode == 0


def test_a_recorder_that_cannot_be_mounted_is_a_failed_docking(  # type: ignore[no-untyped-def]
        daemon, home: Path, tmp_path: Path) -> None:
    """A recorder whose volume its profile cannot mount (here: the profile says ext4, the
    volume is FAT — mount answers over several lines): a docks row, a ledger event, one
    readable line in dock status, the daemon's log and at the desk."""
    doc = yaml.safe_load((Path(__file__).resolve().parent.parent / "src" / "avledger" / "data"
                          / "profiles" / "generic.yaml").read_text())
    doc |= {"name": "brokenfs", "match": {"label": "^CAM-"},
            "mount": {"method": "kernel", "fstype": "ext4"},
            "simulate": {"clip_path": doc["simulate"]["clip_path"], "label": "CAM-BROKEN"}}
    (home / "profiles").mkdir(exist_ok=True)
    (home / "profiles" / "brokenfs.yaml").write_text(yaml.safe_dump(doc))
    daemon.send_signal(signal.SIGHUP)  # take up the new profile
    _wait(lambda: b"configuration and profiles reloaded" in
          (tmp_path / "daemon.log").read_bytes(), 30, "the daemon to reload")
    image = tmp_path / "broken.img"
    make_recorder(tmp_path / "broken", "brokenfs", clips=1, size=64 << 10, serial="BRK001",
                  image=image)

    def failed() -> list[dict[str, Any]]:
        recent = json.loads(run_cli("dock", "status", "--json").stdout)["recent"]
        return [d for d in recent if d["state"] == "failed" and d["source"] == dev]

    dev = attach(image)
    try:
        _wait(lambda: bool(failed()), 120, "the failed docking to be recorded")
        row = failed()[0]
        error = row["result"]["error"]
        assert error.startswith(f"cannot mount {dev} read-only (mount)") and "\n" not in error
        assert row["profile"] == "brokenfs" and row["result"]["label"] == "CAM-BROKEN"
        table = run_cli("dock", "status").stdout
        assert "failed" in table and "cannot mount" in table
        events = json.loads(run_cli("ledger", "show", "--type", "dock.failed",
                                    "--json").stdout)
        assert [e["payload"]["source"] for e in events] == [dev]
        assert events[0]["actor"] == "system" and "\n" not in events[0]["payload"]["error"]
        log = (tmp_path / "daemon.log").read_text()
        said = [ln for ln in log.splitlines() if "docking failed" in ln]
        assert len(said) == 1 and "cannot mount" in said[0] and "{'" not in said[0]
        # The same at the desk: one line, and one more failed docking on record.
        out = run_cli("ingest", "--device", dev)
        assert out.returncode != 0
        assert out.stderr.count("\n") == 1 and "cannot mount" in out.stderr, out.stderr
        assert len(failed()) == 2
        assert not _mounted_under(home)
    finally:
        detach(dev)


def _stamp_clock(image: Path, drift: float) -> datetime:
    """The recorder is plugged in: it writes its clock (true time + ``drift``, whole seconds
    of its zone) to CLOCK.TXT in the image. The true moment it did, returned."""
    moment = utcnow()
    text = (moment + timedelta(seconds=drift)).astimezone(ZoneInfo("Asia/Shanghai"))
    staged = image.with_suffix(".clock")
    staged.write_text(text.strftime("%Y-%m-%d %H:%M:%S") + "\n", encoding="utf-8")
    subprocess.run(["mcopy", "-o", "-i", str(image), str(staged), "::/CLOCK.TXT"], check=True,
                   capture_output=True, env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    return moment


def _measurement(home: Path, serial: str) -> dict[str, Any]:
    return _rows(home / "data" / "catalog.db",
                 "SELECT m.* FROM clock_measurements m JOIN devices v ON v.id = m.device_id"
                 " WHERE v.serial = ? AND m.source = 'dock' ORDER BY m.id DESC LIMIT 1",
                 serial)[0]


def _clip_times(home: Path, serial: str) -> list[dict[str, Any]]:
    return _rows(home / "data" / "catalog.db",
                 "SELECT c.source_path, c.device_start, c.corrected_start, c.drift_seconds"
                 " FROM clips c JOIN devices v ON v.id = c.device_id WHERE v.serial = ?"
                 " ORDER BY c.source_path", serial)


@pytest.mark.slow
@pytest.mark.daemon_concurrency(3)
def test_a_recorder_queued_behind_three_busy_ones_is_measured_against_its_docking(  # type: ignore[no-untyped-def]
        daemon, home: Path, tmp_path: Path) -> None:
    """Two recorders, one exact and one 95 s fast, dock while three others hold all three
    workers for over 30 s: their clock files are measured against the docking, not the read."""
    gate = tmp_path / "gate-open"
    # The busy recorders mount through a helper whose clip reads wait for the gate.
    busy = yaml.safe_load((REPO / "config" / "profiles" / "generic.yaml").read_text())
    busy |= {"name": "busy", "match": busy["match"] | {"label": "^BUSY"},
             "simulate": busy["simulate"] | {"label": "BUSY-SIM"},
             "mount": busy["mount"] | {"helper": str(gated_helper(tmp_path / "gated-fusefat",
                                                                   gate, "*.MP4"))}}
    (home / "profiles").mkdir(exist_ok=True)
    (home / "profiles" / "busy.yaml").write_text(yaml.safe_dump(busy), encoding="utf-8")
    os.kill(daemon.pid, signal.SIGHUP)  # reload: the daemon learns the profile
    _wait(lambda: b"reloaded" in (tmp_path / "daemon.log").read_bytes(), 30, "the reload")
    busy_images = []
    for i in range(3):
        image = tmp_path / f"BUSY{i}.img"
        make_recorder(tmp_path / f"BUSY{i}", "busy", clips=2, size=1 << 20,
                      serial=f"BUSY{i}", badge="0001", image=image)
        busy_images.append(image)
    targets = {}
    for serial, drift in (("EXACT1", 0.0), ("FAST95", 95.0)):
        image = tmp_path / f"{serial}.img"
        sim = make_recorder(tmp_path / serial, clips=2, size=1 << 20, serial=serial,
                            badge="0001", drift=drift, image=image)
        targets[serial] = (sim, image, drift)
    devs: list[str] = []
    docked: dict[str, datetime] = {}
    try:
        devs += [attach(image) for image in busy_images]
        _wait(lambda: all(any(d["state"] == "ingesting" for d in _docks(home, f"BUSY{i}"))
                          for i in range(3)), what="three docks holding the workers")
        for serial, (_sim, image, drift) in targets.items():
            docked[serial] = _stamp_clock(image, drift)
            devs.append(attach(image))
        # The two wait in the queue; the workers stay held for over 30 s.
        until = max(docked.values()) + timedelta(seconds=31)
        while utcnow() < until:
            time.sleep(0.5)
        assert all(_docks(home, serial) == [] for serial in targets)  # not started yet
        gate.touch()
        _wait(lambda: all(any(d["state"] == "done" for d in _docks(home, s))
                          for s in [*targets, "BUSY0", "BUSY1", "BUSY2"]), 300,
              "every dock to finish")
    finally:
        gate.touch()
        unmount_inner(home)
        for dev in devs:
            detach(dev)
    for serial, (sim, _image, drift) in targets.items():
        started = parse_iso(_docks(home, serial)[-1]["started_at"])
        assert started - docked[serial] > timedelta(seconds=30)  # waited in the queue
        m = _measurement(home, serial)
        assert m["reference"] == "dock-event" and m["uncertainty_seconds"] == 3.0
        assert abs(m["drift_seconds"] - drift) <= m["uncertainty_seconds"], m
        assert m["status"] == ("ok" if drift == 0 else "drifted")
        clips = _clip_times(home, serial)
        assert len(clips) == 2
        for row, simclip in zip(clips, sim.clips, strict=True):
            shift = parse_iso(row["device_start"]) - parse_iso(row["corrected_start"])
            if drift == 0:
                assert shift == timedelta(0) and row["drift_seconds"] == 0.0  # not shifted
            else:
                assert shift == timedelta(seconds=m["drift_seconds"])  # corrected by ~95 s
                true_error = parse_iso(row["corrected_start"]) - simclip.true_start
                assert abs(true_error.total_seconds()) <= m["uncertainty_seconds"]
    assert run_cli("ledger", "verify").returncode == 0
