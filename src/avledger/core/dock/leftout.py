"""Media files on a recorder volume that the profile's globs leave out.

A glob that says ``*.MP4`` misses a ``.mp4``; a clip outside the date folders is missed by
``DCIM/*/*.MP4``. Such files would be dropped without a word, so ingest and ``profile check``
list every file that looks like media — by its extension (any case) or its first bytes — and
that no glob matched.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from avledger.core.dock.volume_root import Entry, RefusedFile, VolumeRoot, reached

MEDIA_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".ts", ".mts", ".m2ts", ".3gp", ".mpg", ".mpeg",
    ".wmv", ".flv", ".h264", ".h265", ".wav", ".mp3", ".aac", ".amr", ".m4a", ".jpg", ".jpeg",
})
MAGIC_MIN_SIZE = 1024  # smaller files are device-info, logs and settings, not footage


def _looks_like_media(head: bytes) -> bool:
    return (head[4:8] == b"ftyp"  # MP4, MOV, 3GP
            or (head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"WAVE"))
            or head[:4] == b"\x1a\x45\xdf\xa3"  # Matroska
            or head[:3] in (b"\xff\xd8\xff", b"ID3")  # JPEG, MP3
            or head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"))  # MPEG-PS


def media_left_out(root: VolumeRoot | Path, matched: Iterable[str]) -> list[str]:
    """Media-looking regular files of the volume (shown relative, '/'-separated) not in
    ``matched``. Read through the volume's directory descriptor like every other file: no
    link is followed and nothing but a regular file of the volume is opened."""
    taken = set(matched)
    found: list[str] = []
    with reached(root) as vol:
        for entry in vol.walk():
            if entry.rel in taken or entry.refused or entry.st is None \
                    or not stat.S_ISREG(entry.st.st_mode):
                continue
            suffix = PurePosixPath(entry.raw).suffix.lower()
            if suffix in MEDIA_EXTENSIONS or _has_media_bytes(vol, entry):
                found.append(entry.rel)
    return found


def _has_media_bytes(vol: VolumeRoot, entry: Entry) -> bool:
    if entry.st is None or entry.st.st_size < MAGIC_MIN_SIZE:
        return False
    try:
        return _looks_like_media(vol.read_small(entry.raw, 12))
    except (OSError, RefusedFile):
        return False
