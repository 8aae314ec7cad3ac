#!/usr/bin/env python3
"""Dock daemon throughput and latency with real parts (root only).

    .venv/bin/python bench/daemon_bench.py                  # 4 recorders x 256 MiB
    .venv/bin/python bench/daemon_bench.py --mib-per-recorder 64

Measured in one run, on the same file system:
  * the store disk's sequential write rate (dd, 4 MiB blocks, fsync at the end);
  * one recorder docked alone: its ingest throughput (attach -> dock finished);
  * four recorders docked at once: aggregate throughput, against one and against the disk
    (target >= 0.9 x the disk's sequential write rate);
  * latency from the udev event to the first byte copied (a temp file appearing in the
    store), target < 1 s.
Recorders are simulator-made FAT images on loop devices, mounted by the daemon with fusefat;
page caches are dropped before each docking so recorders are read from disk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import pyudev  # noqa: E402
from tests.udevtools import attach, detach, ensure_udevd  # noqa: E402

from avledger.config import loader, profiles  # noqa: E402
from avledger.core.simulate.recorder import simulate  # noqa: E402

AVLEDGER = str(Path(sys.executable).parent / "avledger")


def drop_caches() -> None:
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def disk_write_rate(directory: Path, mib: int) -> float:
    target = directory / "dd.bin"
    drop_caches()
    start = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", f"of={target}", "bs=4M", f"count={max(1, mib // 4)}",
                    "conv=fsync"], check=True, capture_output=True)
    seconds = time.perf_counter() - start
    target.unlink()
    return mib * 2**20 / seconds


def make_images(base: Path, count: int, mib: int, clip_mib: int) -> list[Path]:
    env_home = base / "sim-home"
    os.environ["AVLEDGER_HOME"] = str(env_home)
    prof = profiles.get(loader.load(), "generic")
    images = []
    for i in range(count):
        root = base / f"rec{i}"
        image = base / f"rec{i}.img"
        simulate(root, prof, clips=max(1, mib // clip_mib), size=clip_mib << 20,
                 serial=f"BENCH{i}", image=image)
        shutil.rmtree(root)
        images.append(image)
    return images


class Daemon:
    def __init__(self, home: Path) -> None:
        shutil.rmtree(home, ignore_errors=True)
        self.env = dict(os.environ, AVLEDGER_HOME=str(home))
        subprocess.run([AVLEDGER, "init"], check=True, env=self.env, capture_output=True)
        self.home = home
        self.log = open(home / "daemon.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([AVLEDGER, "daemon", "--concurrency", "4"], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 30
        while b"dock daemon ready" not in (home / "daemon.log").read_bytes():
            if time.monotonic() > end:
                raise SystemExit("daemon did not start")
            time.sleep(0.05)

    def docks_done(self) -> int:
        conn = sqlite3.connect(self.home / "data" / "catalog.db", timeout=30)
        try:
            return conn.execute("SELECT COUNT(*) FROM docks WHERE state = 'done'").fetchone()[0]
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)
        self.log.close()


def dock(images: list[Path], home: Path) -> tuple[float, float | None]:
    """Attach ``images`` at once; return (seconds until all docks done, event->first byte)."""
    daemon = Daemon(home)
    tmp = home / "data" / "store" / "tmp"
    event_at: dict[str, float] = {}
    monitor = pyudev.Monitor.from_netlink(pyudev.Context(), source="udev")
    monitor.filter_by("block")
    monitor.start()

    def watch() -> None:
        while len(event_at) < len(images):
            dev = monitor.poll(timeout=0.5)
            if dev is not None and dev.get("ID_FS_LABEL") and dev.device_node not in event_at:
                event_at[dev.device_node] = time.perf_counter()

    first_byte: list[float] = []

    def watch_tmp() -> None:
        end = time.monotonic() + 60
        while not first_byte and time.monotonic() < end:
            if tmp.exists() and any(tmp.iterdir()):
                first_byte.append(time.perf_counter())
            time.sleep(0.001)

    drop_caches()
    threads = [threading.Thread(target=watch, daemon=True),
               threading.Thread(target=watch_tmp, daemon=True)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    devs = [attach(image) for image in images]
    try:
        while daemon.docks_done() < len(images):
            time.sleep(0.05)
        seconds = time.perf_counter() - start
    finally:
        for d in devs:
            detach(d)
        daemon.stop()
    latency = (first_byte[0] - min(event_at.values())) if first_byte and event_at else None
    return seconds, latency


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib-per-recorder", type=int, default=256)
    ap.add_argument("--clip-mib", type=int, default=32)
    ap.add_argument("--dir", type=Path, default=None, help="work directory (default: a temp dir)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("daemon_bench: needs root (loop devices, udev, FUSE); skipped")
        return 0
    ensure_udevd()
    base = Path(tempfile.mkdtemp(prefix="avledger-daemon-bench-", dir=args.dir))
    try:
        images = make_images(base, 4, args.mib_per_recorder, args.clip_mib)
        per = (args.mib_per_recorder // args.clip_mib) * args.clip_mib * 2**20
        disk = disk_write_rate(base, 4 * args.mib_per_recorder)
        one_s, latency = dock(images[:1], base / "home-one")
        four_s, _ = dock(images, base / "home-four")
        one_rate, four_rate = per / one_s, 4 * per / four_s
        mb = 1e6
        print(f"store disk sequential write (dd, fsync): {disk / mb:8.1f} MB/s")
        print(f"one recorder:                            {one_rate / mb:8.1f} MB/s "
              f"({per / mb:.0f} MB in {one_s:.2f} s)")
        print(f"four recorders at once (aggregate):      {four_rate / mb:8.1f} MB/s "
              f"({4 * per / mb:.0f} MB in {four_s:.2f} s)")
        print(f"ratio four/one:                          {four_rate / one_rate:8.2f}")
        print(f"ratio four/disk (target >= 0.90):        {four_rate / disk:8.2f}")
        print("udev event -> first byte copied (target < 1 s): "
              + (f"{latency:.3f} s" if latency is not None else "not measured"))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
