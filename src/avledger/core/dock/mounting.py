"""Mounting a recorder per its profile, and finding out what a block device is.

Read-only: the kernel with ``mount -t FSTYPE -o ro``, or a FUSE helper
(``fusefat -o ro DEVICE DIR``) that needs no kernel module; always also ``nosuid,nodev,noexec``
(a recorder's volume is not trusted: nothing on it runs, no device node on it opens).
Used by ``ingest --device``, the desk and the dock daemon. The one exception is the clock
sync's single write (``writable=True``): mounted read-write for that step only, and the
medium is flushed and the helper gone before it returns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from avledger.config.profiles import Profile
from avledger.core.dock.failed import one_line
from avledger.errors import DeviceError
from avledger.i18n import _

MOUNT_TIMEOUT = 30
# Never relaxed by a profile's options: whatever the recorder holds, nothing on it runs, no
# set-user-ID bit counts, no device node on it opens.
HARDENING = ("nosuid", "nodev", "noexec")
LOOSENING = {"suid", "dev", "exec"}
UNMOUNT_TRIES = 10


def _run(argv: list[str], timeout: float = MOUNT_TIMEOUT) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise DeviceError(_("{argv} is not installed").format(argv=argv[0])) from exc
    except subprocess.TimeoutExpired as exc:
        raise DeviceError(_("{argv} did not finish within {timeout:.0f} s").format(
                              argv=argv[0], timeout=timeout)) from exc


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


UDEV_DB = Path("/run/udev/data")


def docked_at(device: str, udev: dict[str, str]) -> datetime | None:
    """When the recorder behind ``device`` was docked, as udev saw it (UTC), or None.

    udev's ``USEC_INITIALIZED`` is the moment it first set the device up, on the monotonic
    clock. A loop device is set up once (at boot) and a backing file attached later arrives as
    a change event: for it, the time udev last wrote the device's database entry."""
    if udev.get("DEVNAME", device).startswith("/dev/loop"):
        major, minor = udev.get("MAJOR"), udev.get("MINOR")
        if major and minor:
            try:
                stamp = (UDEV_DB / f"b{major}:{minor}").stat().st_mtime
            except OSError:
                return None
            return datetime.fromtimestamp(stamp, UTC)
        return None
    usec = udev.get("USEC_INITIALIZED", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    age = time.monotonic() - int(usec) / 1e6
    return datetime.fromtimestamp(time.time() - age, UTC) if age >= 0 else None


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


# FUSE helpers whose read-write option is not plain 'rw'.
HELPER_WRITE_OPTIONS = {"fusefat": "rw+"}


def write_option(profile: Profile) -> str:
    spec = profile.get("mount")
    if spec.get("write_option"):
        return str(spec["write_option"])
    return HELPER_WRITE_OPTIONS.get(spec["helper"], "rw") if spec["method"] == "fuse" else "rw"


def mount_command(device: str, target: Path, profile: Profile, *,
                  writable: bool = False) -> list[str]:
    spec = profile.get("mount")
    mode = write_option(profile) if writable else "ro"
    extra = [o for o in (spec.get("options") or "").split(",")
             if o and o not in ("rw", "ro", mode, *HARDENING) and o not in LOOSENING]
    options = ",".join([mode, *HARDENING, *extra])
    if spec["method"] == "fuse":
        # read-write: in the foreground, so that its exit says the medium has been written
        return [spec["helper"], *(["-f"] if writable else []), "-o", options, device,
                str(target)]
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
        raise DeviceError(_("cannot unmount {target}: {error}").format(
                              target=target, error=last or done.stderr.strip()))


@contextmanager
def mounted(device: str, profile: Profile, where: Path | None = None, *,
            writable: bool = False) -> Iterator[Path]:
    """Mount ``device`` as ``profile`` says — read-only unless ``writable`` (the clock sync's
    one write) — and unmount (and remove the dir) after."""
    if not Path(device).exists():
        raise DeviceError(_("{device} does not exist").format(device=device),
                          hint=_("was the recorder unplugged?"))
    base = where or Path(os.environ.get("RUNTIME_DIRECTORY") or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix=f"avledger-{Path(device).name}-", dir=base))
    argv = mount_command(device, target, profile, writable=writable)
    how = _("read-write") if writable else _("read-only")
    helper: subprocess.Popen[bytes] | None = None
    if writable and profile.get("mount.method") == "fuse":
        helper, problem = _start_helper(argv, target)
    else:
        done = _run(argv)
        problem = (None if done.returncode == 0 and _wait_mounted(target)
                   else one_line(done.stderr)[:300] or _("not mounted"))
    if problem is not None:
        target.rmdir()
        raise DeviceError(_("cannot mount {device} {how} ({argv}): {problem}").format(
                              device=device, how=how, argv=argv[0], problem=problem))
    try:
        yield target
    finally:
        try:
            unmount(target, profile.get("mount.method"))
            if helper is not None:
                _wait_exit(helper, argv[0])
            if writable:
                flush(device)
        finally:
            with suppress(OSError):
                target.rmdir()


def _start_helper(argv: list[str], target: Path) -> tuple[subprocess.Popen[bytes], str | None]:
    """A FUSE helper in the foreground; (process, None) once mounted, else why not."""
    try:
        helper = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    except FileNotFoundError as exc:
        raise DeviceError(_("{argv} is not installed").format(argv=argv[0])) from exc
    deadline = time.monotonic() + MOUNT_TIMEOUT
    while time.monotonic() < deadline:
        if os.path.ismount(target):
            return helper, None
        if helper.poll() is not None:
            return helper, f"{argv[0]} exited {helper.returncode}"
        time.sleep(0.05)
    helper.kill()
    helper.wait()
    return helper, f"not mounted within {MOUNT_TIMEOUT} s"


def _wait_exit(helper: subprocess.Popen[bytes], name: str) -> None:
    try:
        helper.wait(timeout=MOUNT_TIMEOUT)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()
        raise DeviceError(_("{name} did not finish writing within {MOUNT_TIMEOUT} s").format(
                              name=name, MOUNT_TIMEOUT=MOUNT_TIMEOUT)) from None


def flush(device: str) -> None:
    """Push what was written through to the medium (the block device's buffers)."""
    try:
        fd = os.open(device, os.O_RDONLY)
    except OSError as exc:
        raise DeviceError(_("cannot open {device} to flush it: {error}").format(
                              device=device, error=exc.strerror or exc)) from exc
    try:
        os.fsync(fd)
    except OSError as exc:
        raise DeviceError(_("flushing {device} failed: {error}").format(
                              device=device, error=exc.strerror or exc)) from exc
    finally:
        os.close(fd)


def _wait_mounted(target: Path, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.ismount(target):
            return True
        time.sleep(0.05)
    return os.path.ismount(target)
