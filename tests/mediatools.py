"""Real media for the redaction tests: clips made by ffmpeg, decoded back to raw frames and
samples for comparison. Skips (with the reason) without ffmpeg, except in CI."""

from __future__ import annotations

import json
import shutil
import subprocess
from array import array
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

WIDTH, HEIGHT, RATE, SECONDS, SAMPLE_RATE = 320, 240, 25, 4, 44100


def need_ffmpeg() -> None:
    missing = [t for t in ("ffmpeg", "ffprobe") if shutil.which(t) is None]
    if missing:
        reason = f"needs {', '.join(missing)} (Debian package 'ffmpeg'; 'make test' as root)"
        if IN_CI:
            pytest.fail(f"CI must run this test, but it {reason}")
        pytest.skip(reason)


def make_clip(path: Path, seconds: int = SECONDS) -> Path:
    """A real H.264 + AAC clip: moving test pattern, a 440 Hz tone."""
    need_ffmpeg()
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size={WIDTH}x{HEIGHT}:rate={RATE}", "-f", "lavfi", "-i",
                    f"sine=frequency=440:sample_rate={SAMPLE_RATE}", "-t", str(seconds),
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
                   check=True)
    return path


def gray_frames(path: Path) -> list[bytes]:
    """Every frame decoded to 8-bit gray, one bytes object per frame."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "gray", "-"], check=True, capture_output=True).stdout
    size = WIDTH * HEIGHT
    assert len(raw) % size == 0
    return [raw[i:i + size] for i in range(0, len(raw), size)]


def samples(path: Path) -> array:  # type: ignore[type-arg]
    """The audio decoded to mono signed 16-bit samples."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
                          "-ar", str(SAMPLE_RATE), "-"], check=True,
                         capture_output=True).stdout
    return array("h", raw)


def framemd5(path: Path) -> list[str]:
    """The decoded video frames' MD5s (what a court compares after re-rendering)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v",
                          "-f", "framemd5", "-"], check=True, capture_output=True,
                         text=True).stdout
    return [line.rsplit(",", 1)[-1].strip() for line in out.splitlines()
            if line and not line.startswith("#")]


def streams(path: Path) -> dict[str, dict[str, Any]]:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                          str(path)], check=True, capture_output=True, text=True).stdout
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


def region_diff(a: bytes, b: bytes, box: tuple[int, int, int, int], *,
                inside: bool) -> float:
    """Mean absolute difference of two gray frames inside (or outside) box (x, y, w, h)."""
    x0, y0, w, h = box
    total = count = 0
    for y in range(HEIGHT):
        row = y * WIDTH
        for x in range(WIDTH):
            within = x0 <= x < x0 + w and y0 <= y < y0 + h
            if within == inside:
                total += abs(a[row + x] - b[row + x])
                count += 1
    return total / count


def rms(values: array, start: float, end: float) -> float:  # type: ignore[type-arg]
    part = values[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]
    return (sum(v * v for v in part) / len(part)) ** 0.5
