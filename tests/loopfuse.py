"""Root-only test helpers: loop devices, fusefat and tmpfs mounts, always cleaned up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _wait(cond, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return bool(cond())


def unmount(target: Path) -> None:
    if os.path.ismount(target):
        subprocess.run(["fusermount", "-u", str(target)], capture_output=True)
    if os.path.ismount(target):
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@contextmanager
def loop_device(image: Path, read_only: bool = True) -> Iterator[str]:
    argv = ["losetup", "-f", "--show", *(["-r"] if read_only else []), str(image)]
    dev = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()
    try:
        yield dev
    finally:
        for _ in range(20):
            if subprocess.run(["losetup", "-d", dev], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)


@contextmanager
def fusefat(dev: str, target: Path) -> Iterator[subprocess.Popen[bytes]]:
    """fusefat in the foreground, read-only; the process is ours to kill (a pulled recorder)."""
    target.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(["fusefat", "-f", "-o", "ro", dev, str(target)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: os.path.ismount(target)), "fusefat did not mount"
        yield proc
    finally:
        unmount(target)
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@contextmanager
def faultfs(source: Path, target: Path, failing: str, after: int) -> Iterator[None]:
    """The EIO-injecting passthrough of tests/faultfs.py, read-only."""
    target.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "tests.faultfs", str(source), str(target),
                             "--fail", failing, "--after", str(after)],
                            cwd=Path(__file__).resolve().parent.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait(lambda: os.path.ismount(target)), "faultfs did not mount"
        yield
    finally:
        unmount(target)
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@contextmanager
def tmpfs(target: Path, size: str) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                   check=True, capture_output=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)
