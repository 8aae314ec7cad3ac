"""Real-hardware helpers for tests: start systemd-udevd, attach FAT images to loop devices."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

UDEVD = next((p for p in ("/lib/systemd/systemd-udevd", "/usr/lib/systemd/systemd-udevd")
              if Path(p).exists()), "systemd-udevd")


def ensure_udevd() -> None:
    """Start systemd-udevd if it is not answering (CI machines do not run it)."""
    if subprocess.run(["udevadm", "control", "--ping"], capture_output=True).returncode == 0:
        return
    subprocess.run([UDEVD, "--daemon"], check=True, capture_output=True)
    for _ in range(50):
        if subprocess.run(["udevadm", "control", "--ping"], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("systemd-udevd did not start")


def make_fat_image(path: Path, label: str, files: dict[str, bytes] | None = None,
                   size_mib: int = 64) -> Path:
    """A FAT image with ``files`` (relative path -> bytes) put in with mtools, no mount."""
    with open(path, "wb") as fh:
        fh.truncate(size_mib * 1024 * 1024)
    subprocess.run(["mkfs.vfat", "-n", label, str(path)], check=True, capture_output=True)
    staging = path.with_suffix(".d")
    for rel, data in (files or {}).items():
        src = staging / rel
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(data)
        parts = Path(rel).parts
        for i in range(1, len(parts)):
            subprocess.run(["mmd", "-D", "s", "-i", str(path), "::/" + "/".join(parts[:i])],
                           capture_output=True)
        subprocess.run(["mcopy", "-o", "-i", str(path), str(src), "::/" + rel],
                       check=True, capture_output=True)
    shutil.rmtree(staging, ignore_errors=True)
    return path


@contextmanager
def loop_device(image: Path) -> Iterator[str]:
    dev = subprocess.run(["losetup", "-f", "--show", str(image)], check=True,
                         capture_output=True, text=True).stdout.strip()
    try:
        yield dev
    finally:
        detach(dev)


def attach(image: Path) -> str:
    return subprocess.run(["losetup", "-f", "--show", str(image)], check=True,
                          capture_output=True, text=True).stdout.strip()


def detach(dev: str) -> None:
    subprocess.run(["losetup", "-d", dev], capture_output=True)


def settle() -> None:
    subprocess.run(["udevadm", "settle", "--timeout=10"], capture_output=True)
