"""Mounting a recorder read-only, per its profile, and finding out what a block device is.

Always read-only: the kernel with ``mount -t FSTYPE -o ro``, or a FUSE helper
(``fusefat -o ro DEVICE DIR``) that needs no kernel module. Used by ``ingest --device`` and
by the dock daemon.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from avledger.config.profiles import Profile
from avledger.errors import DeviceError

MOUNT_TIMEOUT = 30
UNMOUNT_TRIES = 10


def _run(argv: list[str], timeout: float = MOUNT_TIMEOUT) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise DeviceError(f"{argv[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise DeviceError(f"{argv[0]} did not finish within {timeout:.0f} s") from exc


def udev_properties(device: str) -> dict[str, str]:
    """The device's udev properties (empty when udev knows nothing about it)."""
    if shutil.which("udevadm") is None:
        return {}
    try:
        done = subprocess.run(["udevadm", "info", "--query=property", f"--name={device}"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if done.returncode != 0:
        return {}
    props = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key] = value
    return props


def fs_label(device: str, udev: dict[str, str] | None = None) -> str | None:
    """The file-system label, from udev or else read by blkid (which only reads)."""
    if udev and udev.get("ID_FS_LABEL"):
        return udev["ID_FS_LABEL"]
    if shutil.which("blkid") is None:
        return None
    try:
        done = subprocess.run(["blkid", "-p", "-o", "value", "-s", "LABEL", device],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    label = done.stdout.strip()
    return label or None


def mount_command(device: str, target: Path, profile: Profile) -> list[str]:
    spec = profile.get("mount")
    extra = [o for o in (spec.get("options") or "").split(",") if o and o not in ("rw", "ro")]
    options = ",".join(["ro", *extra])
    if spec["method"] == "fuse":
        return [spec["helper"], "-o", options, device, str(target)]
    return ["mount", "-t", spec["fstype"], "-o", options, device, str(target)]


def unmount(target: Path, method: str) -> None:
    if method == "fuse":
        tool = shutil.which("fusermount3") or shutil.which("fusermount")
        argv = [tool, "-u", str(target)] if tool else ["umount", str(target)]
    else:
        argv = ["umount", str(target)]
    last = ""
    for attempt in range(UNMOUNT_TRIES):
        done = _run(argv)
        if done.returncode == 0 or not os.path.ismount(target):
            return
        last = done.stderr.strip()
        time.sleep(0.2 * (attempt + 1))
    # A helper that died (recorder pulled) leaves a dead mount: detach it lazily.
    done = _run(["umount", "-l", str(target)])
    if done.returncode != 0 and os.path.ismount(target):
        raise DeviceError(f"cannot unmount {target}: {last or done.stderr.strip()}")


@contextmanager
def mounted(device: str, profile: Profile, where: Path | None = None) -> Iterator[Path]:
    """Mount ``device`` read-only as ``profile`` says; unmount (and remove the dir) after."""
    if not Path(device).exists():
        raise DeviceError(f"{device} does not exist", hint="was the recorder unplugged?")
    base = where or Path(os.environ.get("RUNTIME_DIRECTORY") or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix=f"avledger-{Path(device).name}-", dir=base))
    argv = mount_command(device, target, profile)
    done = _run(argv)
    if done.returncode != 0 or not _wait_mounted(target):
        target.rmdir()
        raise DeviceError(f"cannot mount {device} read-only ({' '.join(argv[:1])}): "
                          f"{done.stderr.strip()[:300] or 'not mounted'}")
    try:
        yield target
    finally:
        try:
            unmount(target, profile.get("mount.method"))
        finally:
            with suppress(OSError):
                target.rmdir()


def _wait_mounted(target: Path, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.ismount(target):
            return True
        time.sleep(0.05)
    return os.path.ismount(target)
