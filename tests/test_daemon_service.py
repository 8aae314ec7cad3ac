"""The daemon as a service: sd_notify, SIGHUP reload, drop folders through real ingest."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import yaml

from tests.conftest import AVLEDGER_BIN, run_cli
from tests.recorder_tools import make_recorder
from tests.test_daemon_e2e import _clips, _docks, _wait


def _start(tmp_path: Path, *args: str,
           env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "daemon.log"
    proc = subprocess.Popen([AVLEDGER_BIN, "daemon", *args], stdout=open(log, "wb"),  # noqa: SIM115
                            stderr=subprocess.STDOUT, env=dict(os.environ) | (env or {}))
    _wait(lambda: b"dock daemon ready" in log.read_bytes(), 30, "the daemon to start")
    return proc, log


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=60)


def test_sd_notify_ready_status_watchdog_stopping(home: Path, tmp_path: Path) -> None:
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(10)
    proc, _log = _start(tmp_path, env={"NOTIFY_SOCKET": str(sock_path),
                                       "WATCHDOG_USEC": "2000000"})
    seen: list[str] = []
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end and not ("WATCHDOG=1" in seen and
                                              any(m.startswith("STATUS=") for m in seen)):
            seen += sock.recv(4096).decode().splitlines()
    finally:
        assert _stop(proc) == 0
    while True:
        try:
            sock.settimeout(1)
            seen += sock.recv(4096).decode().splitlines()
        except OSError:
            break
    sock.close()
    assert "READY=1" in seen
    assert "WATCHDOG=1" in seen
    assert any(m.startswith("STATUS=") and "ingesting" in m for m in seen)
    assert "STOPPING=1" in seen


def test_drop_folder_slow_writer_ingested_once_after_complete(home: Path, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    source = tmp_path / "recorder"
    make_recorder(source, clips=3, size=256 << 10, serial="DROP01")
    cfg = tmp_path / "extra.yaml"
    cfg.write_text(yaml.safe_dump({"daemon": {"settle_seconds": 1}}))
    proc, log = _start(tmp_path, "--drop-folder", str(drop), env={"AVLEDGER_CONFIG": str(cfg)})
    try:
        batch = drop / "station-copy-1"
        # The docking station copies everything but the last clip at once…
        clips = sorted(source.rglob("*.MP4"))
        shutil.copytree(source, batch, ignore=lambda d, names: [
            n for n in names if (Path(d) / n) == clips[-1]])
        target = batch / clips[-1].relative_to(source)
        data = clips[-1].read_bytes()
        # …and the last one slowly, over about 4 seconds, keeping it open.
        with open(target, "wb") as fh:
            step = len(data) // 8 + 1
            for i in range(0, len(data), step):
                fh.write(data[i:i + step])
                fh.flush()
                time.sleep(0.5)
                assert _docks(home, "DROP01") == [], "ingested while still being written"
        _wait(lambda: any(d["state"] == "done" for d in _docks(home, "DROP01")), 60,
              "the drop-folder batch to be ingested")
        time.sleep(3)  # give it the chance to (wrongly) ingest again
        docks = _docks(home, "DROP01")
        assert len(docks) == 1, "batch ingested more than once"
        assert len(_clips(home, "DROP01")) == 3
    finally:
        assert _stop(proc) == 0
    assert b"drop folder batch" in log.read_bytes()


def test_drop_folder_batch_ingested_before_a_restart_is_not_docked_again(
        home: Path, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    make_recorder(drop / "copy-1", clips=2, size=64 << 10, serial="DROP02")
    cfg = tmp_path / "extra.yaml"
    cfg.write_text(yaml.safe_dump({"daemon": {"settle_seconds": 1}}))
    env = {"AVLEDGER_CONFIG": str(cfg)}
    proc, _log = _start(tmp_path, "--drop-folder", str(drop), env=env)
    try:
        _wait(lambda: any(d["state"] == "done" for d in _docks(home, "DROP02")), 60,
              "the drop-folder batch to be ingested")
    finally:
        assert _stop(proc) == 0
    # Restarted with the batch still there, plus a new one: only the new one is docked.
    make_recorder(drop / "copy-2", clips=1, size=64 << 10, serial="DROP03")
    proc, log = _start(tmp_path, "--drop-folder", str(drop), env=env)
    try:
        _wait(lambda: b"ingested before with these contents: not docked again"
              in log.read_bytes(), 60, "the daemon to recognise the ingested batch")
        _wait(lambda: any(d["state"] == "done" for d in _docks(home, "DROP03")), 60,
              "the new batch to be ingested")
    finally:
        assert _stop(proc) == 0
    assert len(_docks(home, "DROP02")) == 1, "an ingested batch was docked again"
    assert log.read_bytes().count(b"not docked again") == 1


def test_sighup_reloads_configuration(home: Path, tmp_path: Path) -> None:
    proc, log = _start(tmp_path)
    try:
        config = home / "avledger.yaml"
        doc = yaml.safe_load(config.read_text())
        doc["daemon"] = {"concurrency": 2}
        config.write_text(yaml.safe_dump(doc))
        proc.send_signal(signal.SIGHUP)
        _wait(lambda: b"configuration and profiles reloaded" in log.read_bytes(), 20, "reload")
        config.write_text("daemon: [not, a, mapping\n")  # broken: keep the old one, say why
        proc.send_signal(signal.SIGHUP)
        _wait(lambda: b"reload failed, keeping the previous configuration" in log.read_bytes(),
              20, "a refused reload")
        assert proc.poll() is None
    finally:
        assert _stop(proc) == 0
    assert run_cli("ledger", "verify").returncode == 3  # the broken config is still there
