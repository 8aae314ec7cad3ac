"""Optical media capacities and how a set of files is spread over discs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from avledger.errors import RefusedError
from avledger.i18n import _

SECTOR = 2048
# Recordable capacities in 2048-byte sectors (single-session, as burned).
NAMED = {
    "dvd": 2_295_104 * SECTOR,      # DVD±R 4.7 GB
    "dvd-dl": 4_171_712 * SECTOR,   # DVD±R DL 8.5 GB
    "bd25": 12_219_392 * SECTOR,    # BD-R 25 GB
    "bd50": 24_438_784 * SECTOR,    # BD-R DL 50 GB
}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMG]?)$")
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}

# What an image costs beyond the file data: system area, volume descriptors, path tables and
# the Rock Ridge and Joliet directory trees (measured with xorriso 1.5: ~75 sectors for 20
# files), with a generous margin.
FIXED_OVERHEAD = 256 * 1024
PER_FILE_OVERHEAD = 2 * SECTOR


def capacity(media: str) -> int:
    """Bytes per disc for a media name (dvd, dvd-dl, bd25, bd50) or a size (700M, 4.3G)."""
    if media in NAMED:
        return NAMED[media]
    m = _SIZE.match(media.strip().upper())
    if not m:
        raise RefusedError(_("unknown media {media!r}").format(media=media),
                           hint=_("use dvd, dvd-dl, bd25, bd50 or a size such as 700M"))
    size = int(float(m.group(1)) * _UNITS[m.group(2)])
    if size < 1024 * 1024:
        raise RefusedError(_("media of {size} bytes is too small for an archive disc").format(
                               size=size))
    return size


def on_disc(size: int) -> int:
    """Space a file takes in an image: whole sectors plus its directory entries."""
    return -(-size // SECTOR) * SECTOR + PER_FILE_OVERHEAD


@dataclass(frozen=True)
class Piece:
    key: int
    size: int


def span(pieces: Sequence[Piece], room: int) -> list[list[int]]:
    """Keys per disc, in the given order, filling each disc before starting the next.

    ``room`` is what one disc holds for these pieces (capacity minus the files every disc
    carries). Order is kept (recording time), so a disc holds a continuous stretch of footage.
    """
    discs: list[list[int]] = [[]]
    free = room
    for piece in pieces:
        need = on_disc(piece.size)
        if need > room:
            raise RefusedError(
                _("clip {key} ({size} bytes) does not fit on one disc ({room} bytes free per "
                  "disc)").format(key=piece.key,
                                      size=piece.size,
                                      room=room),
                hint=_("choose larger media (--media bd25)"))
        if need > free and discs[-1]:
            discs.append([])
            free = room
        discs[-1].append(piece.key)
        free -= need
    return discs
