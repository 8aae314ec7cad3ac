"""A clip's duration read from a few box headers (ISO/IEC 14496-12, shared by MP4 and MOV),
giving the number mutagen gives, without parsing the rest of the file.

mutagen (``MP4Info``) takes the first sound track's media header (``mdhd``), else the movie
header (``mvhd``); to do so it parses every box and the tracks' codec descriptions: about
0.4 ms of processor per clip, the largest single cost of ingesting thousands of short clips
(2,000 × 50 KB on the development VM). Here only the boxes on that path are read, at most
``MAX_BOXES`` on one level, every size checked against its container, so a file written to
mislead can neither make the walk loop nor read outside the file. Anything this does not
understand gives None, and ``media.container_duration`` asks mutagen, as before. (A file
whose other boxes are broken, which mutagen would refuse, still gives its header here.)
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

MAX_BOXES = 4096  # boxes looked at on one level before giving up

Span = tuple[int, int]  # a box's payload: (start, end) in the file


class _Unreadable(Exception):
    """A box whose size does not fit, or too many boxes: mutagen judges the file."""


def movie_seconds(fh: BinaryIO) -> float | None:
    """The first sound track's duration, else the movie's; None when the boxes on the way
    are missing or malformed, or the duration cannot be computed."""
    try:
        end = fh.seek(0, os.SEEK_END)
        moov = _first(fh, (0, end), b"moov")
        if moov is None:
            return None
        for kind, trak in _children(fh, moov):
            if kind != b"trak":
                continue
            mdia = _first(fh, trak, b"mdia")
            hdlr = _first(fh, mdia, b"hdlr") if mdia else None
            if mdia is None or hdlr is None:
                return None
            if _read(fh, hdlr, 12)[8:12] == b"soun":
                return _seconds(fh, _first(fh, mdia, b"mdhd"))
        return _seconds(fh, _first(fh, moov, b"mvhd"))
    except _Unreadable:
        return None


def _seconds(fh: BinaryIO, header: Span | None) -> float | None:
    """duration / timescale of an ``mvhd`` or ``mdhd`` (the same first fields)."""
    if header is None:
        return None
    body = _read(fh, header, 32)
    if body[:1] == b"\0" and len(body) >= 20:
        timescale, duration = struct.unpack_from(">II", body, 12)
    elif body[:1] == b"\1" and len(body) >= 32:
        timescale, duration = struct.unpack_from(">IQ", body, 20)
    else:
        return None
    return duration / timescale if timescale else None


def _read(fh: BinaryIO, span: Span, most: int) -> bytes:
    fh.seek(span[0])
    return fh.read(min(span[1] - span[0], most))


def _first(fh: BinaryIO, within: Span, kind: bytes) -> Span | None:
    return next((span for found, span in _children(fh, within) if found == kind), None)


def _children(fh: BinaryIO, within: Span) -> Iterator[tuple[bytes, Span]]:
    """(type, payload) of each box in ``within``, in order."""
    pos, end = within
    for _box in range(MAX_BOXES):
        if pos + 8 > end:
            return
        fh.seek(pos)
        head = fh.read(16)
        if len(head) < 8:
            raise _Unreadable
        size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if size == 1:  # a 64-bit size follows the type
            if len(head) < 16:
                raise _Unreadable
            (size,) = struct.unpack_from(">Q", head, 8)
            header = 16
        elif size == 0:  # the box runs to the end of its container
            size = end - pos
        if size < header or pos + size > end:
            raise _Unreadable
        yield kind, (pos + header, pos + size)
        pos += size
    raise _Unreadable
