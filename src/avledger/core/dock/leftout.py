"""Media files on a recorder volume that the profile's globs leave out.

A glob that says ``*.MP4`` misses a ``.mp4``; a clip outside the date folders is missed by
``DCIM/*/*.MP4``. Such files would be dropped without a word, so ingest and ``profile check``
list every file that looks like media — by its extension (any case) or its first bytes — and
that no glob matched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

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


def media_left_out(root: Path, matched: Iterable[str]) -> list[str]:
    """Media-looking files under ``root`` (relative, '/'-separated) not in ``matched``."""
    taken = set(matched)
    found: list[str] = []
    for top, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(top) / name
            rel = path.relative_to(root).as_posix()
            if rel in taken:
                continue
            if path.suffix.lower() in MEDIA_EXTENSIONS or _has_media_bytes(path):
                found.append(rel)
    return found


def _has_media_bytes(path: Path) -> bool:
    try:
        if path.stat().st_size < MAGIC_MIN_SIZE or not path.is_file():
            return False
        with open(path, "rb") as fh:
            return _looks_like_media(fh.read(12))
    except OSError:
        return False
