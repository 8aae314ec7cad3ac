"""A clip's duration from a few box headers: the same number mutagen gives, and a file
written to mislead gets nothing from it (mutagen then judges, as before)."""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mutagen.mp4 import MP4

from avledger.core.dock import media, moviebox
from avledger.core.dock.moviebox import MAX_BOXES, movie_seconds
from avledger.core.simulate.mp4write import box, full_box, header, mdat_header
from tests.mediatools import make_clip

WHEN = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def _clip(seconds: float, *, quicktime: bool = False, payload: int = 1000) -> bytes:
    return header(seconds, WHEN, quicktime=quicktime) + mdat_header(payload) + bytes(payload)


def _mutagen_seconds(data: bytes) -> float:
    return float(MP4(io.BytesIO(data)).info.length)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("quicktime", [False, True])
@pytest.mark.parametrize("seconds", [0.04, 1.0, 59.96, 600.0, 3599.5])
def test_the_simulators_clips_give_what_mutagen_gives(seconds: float, quicktime: bool) -> None:
    data = _clip(seconds, quicktime=quicktime)
    assert movie_seconds(io.BytesIO(data)) == _mutagen_seconds(data) == pytest.approx(seconds)


def test_a_real_clip_gives_what_mutagen_gives(tmp_path: Path) -> None:
    """ffmpeg's clip: a video and a sound track, moov after mdat; the sound track's length
    (4.023 s: the AAC frames run past the 4 s movie) is the one taken, as mutagen does."""
    data = make_clip(tmp_path / "real.mp4").read_bytes()
    seconds = movie_seconds(io.BytesIO(data))
    assert seconds == _mutagen_seconds(data) == pytest.approx(4, abs=0.1)
    assert seconds != 4.0


def _trak(handler: bytes, timescale: int, duration: int) -> bytes:
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, timescale, duration) + bytes(4))
    hdlr = full_box(b"hdlr", 0, 0, bytes(4) + handler + bytes(12))
    return box(b"trak", box(b"mdia", mdhd + hdlr))


def test_the_first_sound_track_is_taken_before_the_movie_header() -> None:
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 10_000) + bytes(80))
    data = box(b"moov", mvhd + _trak(b"vide", 25, 250) + _trak(b"soun", 44100, 441_882)
               + _trak(b"soun", 8000, 1))
    assert movie_seconds(io.BytesIO(data)) == _mutagen_seconds(data) == 441_882 / 44100
    no_sound = box(b"moov", mvhd + _trak(b"vide", 25, 250))
    assert movie_seconds(io.BytesIO(no_sound)) == _mutagen_seconds(no_sound) == 10.0


def _mvhd_v1(timescale: int, duration: int) -> bytes:
    return full_box(b"mvhd", 1, 0, struct.pack(">QQIQ", 0, 0, timescale, duration)
                    + bytes(80))


def test_a_version_1_header_and_a_64_bit_box_size() -> None:
    moov = box(b"moov", _mvhd_v1(90000, 90000 * 7200))
    big_free = struct.pack(">I4sQ", 1, b"free", 16 + 5) + bytes(5)
    data = box(b"ftyp", b"isom" + bytes(4)) + big_free + moov
    assert movie_seconds(io.BytesIO(data)) == 7200.0


def test_a_last_box_of_size_zero_runs_to_the_end() -> None:
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 2500) + bytes(80))
    data = box(b"ftyp", b"isom" + bytes(4)) + struct.pack(">I4s", 0, b"moov") + mvhd
    assert movie_seconds(io.BytesIO(data)) == 2.5


@pytest.mark.parametrize(("why", "data"), [
    ("no moov", box(b"ftyp", b"isom" + bytes(4)) + mdat_header(10) + bytes(10)),
    ("moov without mvhd", box(b"moov", box(b"trak", bytes(20)))),
    ("a box larger than the file", struct.pack(">I4s", 1 << 30, b"moov") + bytes(100)),
    ("a box smaller than its header", struct.pack(">I4s", 4, b"free") + bytes(100)),
    ("mvhd larger than moov", box(b"moov", b"") + _mvhd_v1(1000, 1000)),
    ("a cut-off mvhd", box(b"moov", box(b"mvhd", bytes(10)))),
    ("a track without its handler", box(b"moov", box(b"trak", box(b"mdia", b"")))),
    ("a sound track without its media header", box(b"moov", box(b"trak", box(
        b"mdia", full_box(b"hdlr", 0, 0, bytes(4) + b"soun" + bytes(12)))))),
    ("a box in moov larger than moov", box(b"moov", struct.pack(">I4s", 99, b"trak"))),
    ("an unknown version", box(b"moov", full_box(b"mvhd", 7, 0, bytes(100)))),
    ("a zero timescale", box(b"moov", full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 0, 5)
                                               + bytes(80)))),
    ("more boxes than are looked at", box(b"free", b"") * (MAX_BOXES + 1) + box(
        b"moov", full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 5000) + bytes(80)))),
    ("an empty file", b""),
])
def test_what_it_cannot_read_gives_nothing(why: str, data: bytes) -> None:
    assert movie_seconds(io.BytesIO(data)) is None, why


def test_a_header_it_cannot_read_is_left_to_mutagen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same answers as before for what only mutagen reads: its duration, or its reason."""
    data = _clip(12.0)
    monkeypatch.setattr(media, "movie_seconds", lambda fh: None)
    assert media.container_duration(io.BytesIO(data)) == media.Duration(12.0, "container")
    broken = media.container_duration(io.BytesIO(b"not a movie at all"))
    assert broken.seconds is None and broken.detail.startswith("container unreadable")


def test_an_implausible_header_is_left_to_mutagen() -> None:
    """Longer than a day: not taken from the header; mutagen finds the same and says so."""
    data = box(b"moov", _mvhd_v1(1, 2 * 24 * 3600)) + box(b"ftyp", b"isom" + bytes(4))
    assert movie_seconds(io.BytesIO(data)) == 2 * 24 * 3600
    found = media.container_duration(io.BytesIO(data))
    assert found.seconds is None and found.source == "unknown"


def test_the_header_is_read_from_a_path_too(tmp_path: Path) -> None:
    clip = tmp_path / "a.mp4"
    clip.write_bytes(_clip(3.0))
    assert media.container_duration(clip) == media.Duration(3.0, "container")


def test_only_headers_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 64 MiB mdat before the moov is skipped by its size, not read."""
    data = box(b"ftyp", b"isom" + bytes(4)) + mdat_header(64 << 20) + bytes(64 << 20) + box(
        b"moov", full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 1500) + bytes(80)))
    fh = io.BytesIO(data)
    read: list[int] = []
    real = fh.read
    monkeypatch.setattr(fh, "read", lambda n=-1: read.append(n) or real(n))
    assert movie_seconds(fh) == 1.5
    assert sum(read) < 200 and moviebox.MAX_BOXES > 0


@pytest.mark.parametrize("data", [
    box(b"moov", full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 0, 5) + bytes(80))),
    box(b"moov", box(b"trak", box(b"mdia", b""))),
    box(b"moov", struct.pack(">I4s", 99, b"trak")),
])
def test_a_hostile_header_is_unknown_not_an_error(data: bytes) -> None:
    found = media.container_duration(io.BytesIO(data))
    assert found.seconds is None and found.detail.startswith("container unreadable")
