"""ISO 9660 images with Rock Ridge and Joliet, through xorriso (Debian package ``xorriso``).

Writing: the staged tree of one disc goes into an image file, or straight onto a blank disc
in a drive (``-outdev /dev/srN``). Reading: list the files (``-find``) and extract some of
them (``-osirrox on -extract``) — from an image file or a disc alike.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from avledger.errors import AvledgerError, DeviceError, IntegrityError, StorageError
from avledger.i18n import _

XORRISO = "xorriso"
# Stop on real failures; report them as a non-zero exit; keep the chatter down.
_QUIET = ["-abort_on", "FAILURE", "-return_with", "SORRY", "32", "-report_about", "SORRY"]
_VOLID = re.compile(r"^[A-Z0-9_]{1,32}$")


def xorriso() -> str:
    found = shutil.which(XORRISO)
    if not found:
        raise StorageError(_("xorriso is not installed"), hint=_("apt-get install xorriso"))
    return found


def _tree_options(volume_id: str, stage: Path) -> list[str]:
    if not _VOLID.match(volume_id):
        raise ValueError(f"bad volume id {volume_id!r}")
    return ["-volid", volume_id, "-joliet", "on", "-rockridge", "on",
            "-compliance", "iso_9660_level=3:joliet_long_names", "-padding", "0",
            "-map", str(stage), "/"]


def image_command(stage: Path, image: Path, volume_id: str) -> list[str]:
    """Build an image file from a staged directory."""
    return [xorriso(), *_QUIET, "-outdev", f"stdio:{image}", *_tree_options(volume_id, stage),
            "-commit"]


def burn_command(stage: Path, device: str, volume_id: str) -> list[str]:
    """Write the staged directory onto a blank disc in ``device`` as one closed session (the
    disc stays in the drive so that it can be read back before it is ejected)."""
    return [xorriso(), *_QUIET, "-outdev", device, "-blank", "as_needed",
            *_tree_options(volume_id, stage), "-close", "on", "-commit"]


def eject_command(device: str) -> list[str]:
    return [xorriso(), *_QUIET, "-outdev", device, "-eject", "all"]


def _run(cmd: Sequence[str], what: str, error: type[AvledgerError] = StorageError) -> str:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if "FAILURE" in ln or "SORRY" in ln]
        detail = (lines or proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise error(_("xorriso could not {what}: {detail}").format(what=what,
                                                                  detail=detail.strip()))
    return proc.stdout


def build_image(stage: Path, image: Path, volume_id: str) -> None:
    if image.exists():
        raise StorageError(_("{image} already exists; refusing "
                             "to overwrite an archive image").format(
                               image=image))
    partial = image.with_name(image.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _run(image_command(stage, partial, volume_id), _("write {name}").format(name=image.name))
        os.replace(partial, image)
    finally:
        partial.unlink(missing_ok=True)


def burn(stage: Path, device: str, volume_id: str) -> None:
    if not device.startswith("stdio:") and not Path(device).exists():
        raise DeviceError(_("no drive at {device}").format(device=device))
    _run(burn_command(stage, device, volume_id), _("burn to {device}").format(device=device),
         DeviceError)


def eject(device: str) -> None:
    if not device.startswith("stdio:"):
        _run(eject_command(device), _("eject the disc in {device}").format(device=device),
             DeviceError)


def _indev(source: str) -> str:
    """Optical drives (/dev/sr0, /dev/cdrom → sr0) by name; files and other block devices
    through xorriso's stdio pseudo-drive."""
    if source.startswith("stdio:"):
        return source
    return source if Path(source).resolve().name.startswith("sr") else f"stdio:{source}"


def list_files(source: str) -> list[str]:
    """Every regular file on the disc or image, as relative paths."""
    out = _run([xorriso(), *_QUIET, "-indev", _indev(source), "-find", "/", "-type", "f"],
               _("read {source}").format(source=source), IntegrityError)
    files = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("'") and line.endswith("'"):
            files.append(line[1:-1].replace("'\"'\"'", "'").lstrip("/"))
    return files


def extract(source: str, paths: Sequence[str], dest: Path) -> None:
    """Copy ``paths`` (relative) from the disc or image into ``dest``."""
    if not paths:
        return
    cmd = [xorriso(), *_QUIET, "-osirrox", "on", "-indev", _indev(source)]
    for rel in paths:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        cmd += ["-extract", f"/{rel}", str(dest / rel)]
    _run(cmd, _("read files from {source}").format(source=source), IntegrityError)
