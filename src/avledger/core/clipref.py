"""Looking up clips named on a command line: every id must exist, or nothing happens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from avledger.errors import NotFoundError
from avledger.i18n import _
from avledger.store import db

CLIP_COLUMNS = ("id, device_id, digest, size, source_path, corrected_start, corrected_end,"
                " device_start, ingested_at, attribution, badge, status")


def unique_ids(ids: Iterable[int]) -> list[int]:
    """The ids in their first-seen order, each once."""
    return list(dict.fromkeys(int(i) for i in ids))


def fetch_clips(conn: db.Connection, ids: Sequence[int]) -> dict[int, db.Row]:
    """Rows of the named clips; NotFoundError naming every id that does not exist."""
    wanted = unique_ids(ids)
    rows: dict[int, db.Row] = {}
    for chunk in db.chunks(wanted):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT {CLIP_COLUMNS} FROM clips WHERE id IN ({marks})",
                                chunk):
            rows[int(row["id"])] = row
    missing = [i for i in wanted if i not in rows]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise NotFoundError(_("no such clip(s): {shown}").format(shown=shown),
                            hint=_("clip numbers are shown by 'avledger clips list'"))
    return {i: rows[i] for i in wanted}

