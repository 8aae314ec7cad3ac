"""A recorder presented at the desk: a mounted volume or folder, or a block device.

``opened`` gives the volume's root, profile and identity for one step: a folder (or a volume
someone mounted) as it is; a block device mounted as its profile says, read-only, and
unmounted when the step ends — or read-write, for the clock sync's one write only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from avledger.config.profiles import Profile, Seen
from avledger.core.app import Avledger
from avledger.core.dock import mounting
from avledger.core.dock.recognition import profile_for_device, recognise
from avledger.core.dock.volume import RecorderIdentity, read_identity
from avledger.core.dock.volume_root import VolumeRoot
from avledger.errors import NotFoundError
from avledger.i18n import _


@dataclass(frozen=True)
class Volume:
    root: Path
    profile: Profile
    identity: RecorderIdentity
    source: str  # what was given: a folder, a mount point, or a device node
    device_node: str | None  # set when we mounted a block device
    mount_point: bool  # root is a mounted file system (its free space is the recorder's)
    media: VolumeRoot  # the root's directory descriptor: every file is read through it
    docked_at: datetime | None = None  # when udev saw the block device docked

    @property
    def serial(self) -> str:
        return self.identity.serial


def is_block_device(target: str) -> bool:
    try:
        return stat.S_ISBLK(os.stat(target).st_mode)
    except OSError:
        return target.startswith("/dev/")


@contextmanager
def opened(app: Avledger, target: str, *, profile: str | None = None,
           writable: bool = False) -> Iterator[Volume]:
    """The recorder at ``target``, for one step (see the module docstring)."""
    if is_block_device(target):
        udev = mounting.udev_properties(target)
        label = mounting.fs_label(target, udev)
        mount_as = profile_for_device(app, target, udev, label, profile)
        with mounting.mounted(target, mount_as, writable=writable) as root, \
                VolumeRoot(root) as media:
            prof = recognise(app, Seen(root, udev or None, label), profile, target)
            yield Volume(root, prof, read_identity(media, prof), target, target, True, media,
                         mounting.docked_at(target, udev))
        return
    root = Path(target)
    if not root.is_dir():
        raise NotFoundError(_("{target} is not a folder, a "
                              "mounted volume or a block device").format(
                                target=target))
    prof = recognise(app, Seen(root), profile, target)
    behind = _device_behind(root)
    docked_at = mounting.docked_at(behind, mounting.udev_properties(behind)) if behind else None
    with VolumeRoot(root) as media:
        yield Volume(root, prof, read_identity(media, prof), target, None,
                     os.path.ismount(root), media, docked_at)


def _device_behind(root: Path) -> str | None:
    """The block device mounted at ``root`` (a recorder the desk's desktop mounted), if any:
    its docking moment is udev's. A plain folder has none."""
    if not os.path.ismount(root):
        return None
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    where = str(root.resolve())
    for line in reversed(lines):  # the last mount on a point is the one seen
        fields = line.split()
        if len(fields) > 1 and fields[1] == where and is_block_device(fields[0]):
            return fields[0]
    return None
