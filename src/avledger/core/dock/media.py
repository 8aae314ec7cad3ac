"""Clip duration from the container (MP4/MOV through mutagen), else from file times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import mutagen
from mutagen.mp4 import MP4

MAX_PLAUSIBLE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Duration:
    seconds: float | None
    source: str  # container | file-times | unknown
    detail: str = ""


def container_duration(source: Path | BinaryIO) -> Duration:
    """Duration from the movie header; MOV and MP4 share the ISO base media box format."""
    try:
        info = MP4(source).info  # type: ignore[no-untyped-call]
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as exc:
        return Duration(None, "unknown", f"container unreadable: {exc}")
    length = float(getattr(info, "length", 0.0) or 0.0)
    if length <= 0 or length > MAX_PLAUSIBLE_SECONDS:
        return Duration(None, "unknown", f"container gives no usable duration ({length})")
    return Duration(length, "container")


def from_file_times(start: datetime | None, mtime: datetime) -> float | None:
    """A recorder closes the file when recording stops: last modification − start time."""
    if start is None:
        return None
    span = (mtime - start).total_seconds()
    return span if 0 < span <= MAX_PLAUSIBLE_SECONDS else None


def duration(source: Path | BinaryIO, start: datetime | None, mtime: datetime) -> Duration:
    """Container duration, or the file-times estimate (said so), or unknown."""
    found = container_duration(source)
    if found.seconds is not None:
        return found
    span = from_file_times(start, mtime)
    if span is not None:
        return Duration(span, "file-times", f"{found.detail}; estimated from file times")
    return found
