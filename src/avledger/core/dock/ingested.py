"""Which clips on a recorder volume the catalog already holds.

A clip is recognised by the device it came from plus its path, size and modification time, so a
re-docked recorder's old clips are skipped at once; the clock sync and the desk ask the same
question before touching a recorder.
"""

from __future__ import annotations

from avledger.core.dock.volume import SourceClip
from avledger.store import db
from avledger.timestamps import iso


def clip_key(c: SourceClip) -> tuple[str, int, str]:
    """How a clip is recognised as already ingested: serial (the device) + path + size + mtime."""
    return (c.rel, c.size, iso(c.mtime))


def known_keys(conn: db.Connection, device_id: int) -> set[tuple[str, int, str]]:
    rows = conn.execute(
        "SELECT source_path, size, source_mtime FROM clips WHERE device_id = ?", (device_id,))
    return {(r[0], int(r[1]), r[2]) for r in rows}


def not_ingested(conn: db.Connection, device_id: int | None,
                 clips: list[SourceClip]) -> list[SourceClip]:
    """The clips an ingest would copy (the rest it skips at once)."""
    known = known_keys(conn, device_id) if device_id else set()
    return [c for c in clips if clip_key(c) not in known]
