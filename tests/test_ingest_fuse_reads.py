"""A recorder on FUSE is read through its FUSE daemon once: every byte fusefat reads costs a trip
through one user-space process, which four recorders docked at once share two cores with. A
second read of a clip (reading ahead through another descriptor, a duration parsed from the
recorder instead of from the copy, a hash read back from the source) would show here as the
daemon reading about twice the clips' bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from avledger.core.ingest.session import ingest
from tests.recorder_tools import make_recorder

BIG = 3 << 20  # copied by the kernel, the next one read ahead where that is done
SMALL = 200_000  # copied ahead on threads


def _bytes_read_by(pid: int) -> int:
    """What the process has read so far, from its descriptors (its image, /dev/fuse)."""
    with open(f"/proc/{pid}/io", encoding="ascii") as fh:
        return int(next(line for line in fh if line.startswith("rchar:")).split()[1])


def test_fusefat_reads_each_clip_once(app: Any, tmp_path: Path) -> None:
    from tests.conftest import require_root_tools
    from tests.loopfuse import fusefat, loop_device

    require_root_tools("losetup", "fusefat", "mkfs.vfat", "mcopy", "fusermount")
    image = tmp_path / "bwr.img"
    tree = tmp_path / "tree"
    make_recorder(tree, clips=4, size=BIG, serial="FUSEIO1", image=image)
    make_recorder(tmp_path / "small", clips=4, size=SMALL, serial="FUSEIO2",
                  image=tmp_path / "small.img")
    for name, clip_bytes in (("bwr.img", 4 * BIG), ("small.img", 4 * SMALL)):
        mnt = tmp_path / f"mnt-{name}"
        with loop_device(tmp_path / name) as dev, fusefat(dev, mnt) as daemon:
            before = _bytes_read_by(daemon.pid)
            report = ingest(app, mnt)
            read = _bytes_read_by(daemon.pid) - before
        assert report.count("new") == 4, report.as_dict()
        # the clips once, plus the file system's own tables, folders and the device files
        assert clip_bytes <= read < clip_bytes + clip_bytes // 4 + (256 << 10), (name, read)
