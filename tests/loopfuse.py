"""Root-only test helpers: loop devices, fusefat and tmpfs mounts, always cleaned up."""

from __future__ import annotations

import contextlib
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


def _in_mounts(target: Path) -> bool:
    """Mounted, per /proc/mounts (os.path.ismount says no for a dead FUSE mount: ENOTCONN)."""
    with open("/proc/mounts") as fh:
        return any(line.split()[1] == str(target) for line in fh if len(line.split()) > 1)


def unmount(target: Path) -> None:
    if _in_mounts(target):
        subprocess.run(["fusermount", "-u", str(target)], capture_output=True)
    if _in_mounts(target):
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
def _fuse_process(argv: list[str], target: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A FUSE server in the foreground; the process is ours to kill (a pulled recorder)."""
    target.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(argv, cwd=Path(__file__).resolve().parent.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: os.path.ismount(target)), f"{argv[0]} did not mount"
        yield proc
    finally:
        unmount(target)
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def fusefat(dev: str, target: Path) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """fusefat, read-only, in the foreground."""
    return _fuse_process(["fusefat", "-f", "-o", "ro", dev, str(target)], target)


def faultfs(source: Path, target: Path, failing: str,
            after: int) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """The EIO-injecting passthrough of tests/faultfs.py, read-only."""
    return _fuse_process([sys.executable, "-m", "tests.faultfs", str(source), str(target),
                          "--fail", failing, "--after", str(after)], target)


def gatefs(source: Path, target: Path, gate: Path,
           hold: str) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """The passthrough of tests/gatefs.py: reads of files named like ``hold`` wait for ``gate``."""
    return _fuse_process([sys.executable, "-m", "tests.gatefs", str(source), str(target),
                          "--gate", str(gate), "--hold", hold], target)


GATED_HELPER = """#!/bin/sh
# A FUSE mount helper for tests: fusefat underneath, tests/gatefs.py on top (clip reads wait
# for the gate file). Called as: HELPER -o OPTIONS DEVICE DIR
dev="$3"; dir="$4"; inner="$dir.inner"
mkdir -p "$inner" && fusefat -o ro "$dev" "$inner" || exit 1
cd {repo} && setsid {python} -m tests.gatefs "$inner" "$dir" --gate {gate} --hold '{hold}' \\
    </dev/null >/dev/null 2>&1 &
i=0
while [ $i -lt 200 ]; do mountpoint -q "$dir" && exit 0; i=$((i + 1)); sleep 0.05; done
exit 1
"""


def gated_helper(path: Path, gate: Path, hold: str) -> Path:
    """Write the gated mount helper (see GATED_HELPER) to ``path``; unmount what it leaves
    with ``unmount_inner``."""
    path.write_text(GATED_HELPER.format(repo=Path(__file__).resolve().parent.parent,
                                        python=sys.executable, gate=gate, hold=hold))
    path.chmod(0o755)
    return path


def unmount_inner(under: Path) -> None:
    """The fusefat mounts a gated helper made beneath the dock's mount points."""
    with open("/proc/mounts") as fh:
        points = [ln.split()[1] for ln in fh if len(ln.split()) > 1]
    for point in points:
        if point.startswith(str(under)):
            unmount(Path(point))


@contextmanager
def tmpfs(target: Path, size: str) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                   check=True, capture_output=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)
