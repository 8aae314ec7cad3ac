"""Writing a minimal, valid ISO base media file (MP4 or QuickTime MOV) for the simulator.

ftyp, moov (mvhd + one video trak with tkhd/mdia/mdhd/hdlr/minf/stbl) and mdat: enough for
any reader (mutagen, ffprobe) to find the duration. Only the simulator writes boxes; reading
durations goes through ``core/dock/moviebox.py`` (the movie header alone) and mutagen.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

MP4_EPOCH = datetime(1904, 1, 1, tzinfo=UTC)
TIMESCALE = 1000
IDENTITY_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags) + payload)


def _mp4_time(dt: datetime) -> int:
    return int((dt - MP4_EPOCH).total_seconds()) & 0xFFFFFFFF


def header(seconds: float, created: datetime, *, quicktime: bool = False,
           width: int = 1920, height: int = 1080) -> bytes:
    """ftyp + moov for a clip of ``seconds``; the caller appends the mdat box."""
    t = _mp4_time(created)
    dur = int(round(seconds * TIMESCALE))
    if quicktime:
        ftyp = box(b"ftyp", b"qt  " + struct.pack(">I", 0x200) + b"qt  ")
    else:
        ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", t, t, TIMESCALE, dur)
                    + struct.pack(">IH", 0x10000, 0x100) + bytes(10) + IDENTITY_MATRIX
                    + bytes(24) + struct.pack(">I", 2))
    tkhd = full_box(b"tkhd", 0, 3, struct.pack(">IIIII", t, t, 1, 0, dur) + bytes(8)
                    + struct.pack(">hhhH", 0, 0, 0, 0) + IDENTITY_MATRIX
                    + struct.pack(">II", width << 16, height << 16))
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", t, t, TIMESCALE, dur, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, bytes(4) + b"vide" + bytes(12) + b"VideoHandler\0")
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1)
                                 + full_box(b"url ", 0, 1, b"")))
    stbl = box(b"stbl", full_box(b"stsd", 0, 0, struct.pack(">I", 0))
               + full_box(b"stts", 0, 0, struct.pack(">I", 0))
               + full_box(b"stsc", 0, 0, struct.pack(">I", 0))
               + full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0))
               + full_box(b"stco", 0, 0, struct.pack(">I", 0)))
    minf = box(b"minf", vmhd + dinf + stbl)
    trak = box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + minf))
    return ftyp + box(b"moov", mvhd + trak)


def mdat_header(payload_size: int) -> bytes:
    if payload_size + 8 <= 0xFFFFFFFF:
        return struct.pack(">I4s", payload_size + 8, b"mdat")
    return struct.pack(">I4sQ", 1, b"mdat", payload_size + 16)
