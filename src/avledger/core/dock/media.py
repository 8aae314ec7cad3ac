"""Clip duration from the container (MP4/MOV, and audio files, through mutagen), else from
file times. A photo has no duration: it is a moment, and counts in no footage hours.

A video's duration is read from its few header boxes (``moviebox``); mutagen (some twenty
modules) loads only for what they do not answer and for audio files, not with this module: an
ingest with audio files imports it on a thread while its first clip is copied (``preload``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from avledger.core.dock.moviebox import movie_seconds

MAX_PLAUSIBLE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Duration:
    seconds: float | None
    source: str  # container | file-times | unknown | still (a photo)
    detail: str = ""


def container_duration(source: Path | BinaryIO) -> Duration:
    """Duration from the movie header; MOV and MP4 share the ISO base media box format.
    Read from the header boxes alone where they are plain (``moviebox``), else by mutagen."""
    try:
        if isinstance(source, Path):
            with open(source, "rb") as fh:
                seconds = movie_seconds(fh)
        else:
            seconds = movie_seconds(source)
    except OSError:
        seconds = None
    if seconds is not None and 0 < seconds <= MAX_PLAUSIBLE_SECONDS:
        return Duration(seconds, "container")
    import mutagen
    from mutagen.mp4 import MP4

    try:
        if not isinstance(source, Path):
            source.seek(0)
        info = MP4(source).info  # type: ignore[no-untyped-call]
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as exc:
        return Duration(None, "unknown", f"container unreadable: {exc}")
    length = float(getattr(info, "length", 0.0) or 0.0)
    if length <= 0 or length > MAX_PLAUSIBLE_SECONDS:
        return Duration(None, "unknown", f"container gives no usable duration ({length})")
    return Duration(length, "container")


def audio_duration(source: Path | BinaryIO) -> Duration:
    """Duration of an audio recording (WAV, MP3, AAC, M4A, AMR …) from its own header."""
    import mutagen

    try:
        if not isinstance(source, Path):
            source.seek(0)
        found = mutagen.File(source)
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as exc:
        return Duration(None, "unknown", f"audio file unreadable: {exc}")
    length = float(getattr(getattr(found, "info", None), "length", 0.0) or 0.0)
    if length <= 0 or length > MAX_PLAUSIBLE_SECONDS:
        return Duration(None, "unknown", f"audio file gives no usable duration ({length})")
    return Duration(length, "container")


STILL = Duration(None, "still", "a photo has no duration")


def preload() -> None:
    """Import the audio parser now (an ingest with audio files calls this on a thread as
    copying starts, so the import overlaps the first clip's copy instead of following it).
    A failure is left for the duration read itself to meet and report."""
    with contextlib.suppress(ImportError):
        import mutagen.mp4  # noqa: F401


def from_file_times(start: datetime | None, mtime: datetime) -> float | None:
    """A recorder closes the file when recording stops: last modification − start time."""
    if start is None:
        return None
    span = (mtime - start).total_seconds()
    return span if 0 < span <= MAX_PLAUSIBLE_SECONDS else None


def duration(source: Path | BinaryIO, start: datetime | None, mtime: datetime,
             kind: str = "video") -> Duration:
    """Container duration, or the file-times estimate (said so), or unknown; none for a
    photo."""
    if kind == "photo":
        return STILL
    found = audio_duration(source) if kind == "audio" else container_duration(source)
    if found.seconds is not None:
        return found
    span = from_file_times(start, mtime)
    if span is not None:
        return Duration(span, "file-times", f"{found.detail}; estimated from file times")
    return found
