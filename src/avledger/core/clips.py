"""Looking up ingested clips, and explaining late ones.

A late clip (handed in after its 24-hour deadline) keeps the fact that it was late; someone
records why with ``explain``, which is a ledger event like every other change.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger.core.app import Avledger
from avledger.core.caseref import get_case
from avledger.core.footage.checklist import check_category, find_step
from avledger.core.ingest.attribution import UNATTRIBUTED
from avledger.errors import NotFoundError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.timestamps import iso

# ``clips list --unattributed``, ``status`` and the ingest report count the same clips.
UNATTRIBUTED_SQL = f"attribution IN {UNATTRIBUTED!r}"

CLIP_COLUMNS = (
    "c.id, c.device_id, d.serial, c.digest, c.size, c.source_path, c.source_mtime,"
    " c.device_start, c.device_end, c.duration_seconds, c.duration_source, c.drift_seconds,"
    " c.corrected_start, c.corrected_end, c.ingested_at, c.deadline, c.on_time, c.late_reason,"
    " c.checkout_id, c.badge, c.attribution, c.flags, c.dock_id, c.status,"
    " c.clock_measurement_id, c.category, c.matter, c.step, c.note, c.kind, c.mark"
)
KINDS = ("video", "photo", "audio")


@dataclass(frozen=True)
class ClipFilter:
    device: str | None = None  # serial or device id
    badge: str | None = None
    since: datetime | None = None  # corrected start >= since
    until: datetime | None = None  # corrected start < until
    late: bool = False
    unattributed: bool = False
    dock: int | None = None
    limit: int | None = None
    case: str | None = None  # case number: clips linked to it
    category: str | None = None  # 行政检查 / 行政处罚 / 行政强制 (or inspection, …)
    step: str | None = None  # checklist code
    tags: tuple[str, ...] = ()  # every one of these tags
    text: str | None = None  # words found in the note or the tags (all of them)
    kind: str | None = None  # video | photo | audio
    marked: bool = False  # only clips the recorder marked important


def _row(r: Any) -> dict[str, Any]:
    d = dict(r)
    d["flags"] = json.loads(d["flags"] or "[]")
    d["on_time"] = None if d["on_time"] is None else bool(d["on_time"])
    return d


def list_clips(app: Avledger, f: ClipFilter) -> list[dict[str, Any]]:
    conn = app.catalog.conn
    clauses: list[str] = ["c.status != 'purged'"]
    params: list[Any] = []
    if f.device:
        clauses.append("(d.serial = ? OR CAST(d.id AS TEXT) = ?)")
        params += [f.device, f.device]
    if f.badge:
        clauses.append("c.badge = ?")
        params.append(f.badge)
    if f.since:
        clauses.append("c.corrected_start >= ?")
        params.append(iso(f.since))
    if f.until:
        clauses.append("c.corrected_start < ?")
        params.append(iso(f.until))
    if f.late:
        clauses.append("c.on_time = 0")
    if f.unattributed:
        clauses.append(f"c.{UNATTRIBUTED_SQL}")
    if f.dock is not None:
        clauses.append("c.dock_id = ?")
        params.append(f.dock)
    if f.case:
        case = get_case(conn, f.case)
        clauses.append("c.id IN (SELECT clip_id FROM clip_cases WHERE case_id = ?)")
        params.append(case.id)
    if f.category:
        clauses.append("c.category = ?")
        params.append(check_category(f.category))
    if f.step:
        clauses.append("c.step = ?")
        params.append(find_step(app.config, f.step).code)
    for tag in dict.fromkeys(f.tags):
        clauses.append("c.id IN (SELECT clip_id FROM clip_tags WHERE tag = ?)")
        params.append(tag)
    for term in (f.text or "").split():
        sql, values = _text_clause(conn, term)
        clauses.append(sql)
        params += values
    if f.kind is not None:
        if f.kind not in KINDS:
            raise RefusedError(_("unknown kind {kind!r} (choose from: {choices})").format(
                kind=f.kind, choices=", ".join(KINDS)))
        clauses.append("c.kind = ?")
        params.append(f.kind)
    if f.marked:
        clauses.append("c.mark IS NOT NULL")
    sql = (f"SELECT {CLIP_COLUMNS} FROM clips c JOIN devices d ON d.id = c.device_id"
           f" WHERE {' AND '.join(clauses)}"
           " ORDER BY c.corrected_start IS NULL, c.corrected_start, c.id")
    if f.limit:
        sql += f" LIMIT {int(f.limit)}"
    found = [_row(r) for r in conn.execute(sql, params)]
    tags = _tags_of(conn, [c["id"] for c in found])
    for clip in found:
        clip["tags"] = tags.get(clip["id"], [])
    return found


def _text_clause(conn: db.Connection, term: str) -> tuple[str, list[Any]]:
    """One word of ``--text``, found anywhere in a clip's note or in one of its tags.

    SQLite: the FTS5 table ``clip_text`` with the trigram tokenizer, which indexes every
    three-character substring and so finds Chinese words inside text without spaces; a word
    shorter than three characters (扣押, 听证) has no trigram, and is matched with LIKE over the
    same columns. PostgreSQL: its text search cannot split Chinese — the 'simple' parser keeps
    a run of CJK characters as one token, so 扣押 would not match 查封扣押现场 — and pg_trgm
    needs an extension installed by a superuser and ignores non-alphanumeric characters in the
    C locale; a case-insensitive substring match (ILIKE) over the note and the tags finds the
    same clips as SQLite does, at the cost of reading those columns.
    """
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"
    like = "ILIKE" if db.is_postgres(conn) else "LIKE"
    substring = (f"(c.note {like} ? ESCAPE '\\' OR c.id IN (SELECT clip_id FROM clip_tags"
                 f" WHERE tag {like} ? ESCAPE '\\'))")
    if db.is_postgres(conn) or len(term) < 3:
        return substring, [pattern, pattern]
    phrase = '"' + term.replace('"', '""') + '"'
    return "c.id IN (SELECT rowid FROM clip_text WHERE clip_text MATCH ?)", [phrase]


def _tags_of(conn: db.Connection, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for chunk in db.chunks(ids):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT clip_id, tag FROM clip_tags WHERE clip_id IN ({marks})"
                                " ORDER BY clip_id, tag", chunk):
            out.setdefault(int(row[0]), []).append(row[1])
    return out


def get_clip(app: Avledger, clip_id: int) -> dict[str, Any]:
    row = app.catalog.conn.execute(
        f"SELECT {CLIP_COLUMNS} FROM clips c JOIN devices d ON d.id = c.device_id"
        " WHERE c.id = ?", (clip_id,)).fetchone()
    if row is None:
        raise NotFoundError(_("no clip {clip_id}").format(clip_id=clip_id),
                            hint=_("see 'avledger clips list'"))
    return _row(row) | {"tags": _tags_of(app.catalog.conn, [clip_id]).get(clip_id, [])}


def show_clip(app: Avledger, clip_id: int) -> dict[str, Any]:
    """The clip, the clock measurement that corrected its times, its holds and cases, its
    redactions (which share its holds and its fate), and its ledger events."""
    clip = get_clip(app, clip_id)
    conn = app.catalog.conn
    measurement = None
    if clip.get("clock_measurement_id"):
        m = conn.execute("SELECT * FROM clock_measurements WHERE id = ?",
                         (clip["clock_measurement_id"],)).fetchone()
        measurement = dict(m) if m else None
    events = [e.as_dict() for e in ledger_store.iter_events(
        conn, where="subject = ?", params=(f"clip:{clip_id}",))]
    from avledger.core.caseref import cases_for_clip
    from avledger.core.custody.restore import copy_state
    from avledger.core.redact.derived import redactions_of
    from avledger.core.retention.holds import holds_for_clip

    obj = conn.execute("SELECT quarantined_at, verify_status, last_verified_at, second_at,"
                       " second_status FROM objects WHERE digest = ?",
                       (clip["digest"],)).fetchone()
    stored_copy = None if obj is None else {
        "state": copy_state(obj), "quarantined_at": obj["quarantined_at"],
        "last_verified_at": obj["last_verified_at"],
        "second_copy_at": obj["second_at"], "second_copy_status": obj["second_status"]}
    return clip | {"clock_measurement": measurement, "events": events,
                   "stored_copy": stored_copy,
                   "holds": holds_for_clip(conn, clip_id), "cases": cases_for_clip(conn, clip_id),
                   "redactions": [r.as_dict() for r in redactions_of(conn, clip_id)]}


def explain(app: Avledger, clip_id: int, reason: str) -> dict[str, Any]:
    """Record why a late clip was late (who said it and when are in the ledger event)."""
    app.actor.require(action=_("explain a late clip"))
    reason = reason.strip()
    if not reason:
        raise RefusedError(_("the reason must not be empty"))
    with app.transaction() as conn:
        row = conn.execute("SELECT on_time, late_reason FROM clips WHERE id = ?",
                           (clip_id,)).fetchone()
        if row is None:
            raise NotFoundError(_("no clip {clip_id}").format(clip_id=clip_id),
                                hint=_("see 'avledger clips list --late'"))
        if row["on_time"] != 0:
            raise RefusedError(_("clip {clip_id} was not late; there is nothing to explain").format(
                                   clip_id=clip_id))
        conn.execute("UPDATE clips SET late_reason = ? WHERE id = ?", (reason, clip_id))
        event = app.record(conn, "clip.late_explained", f"clip:{clip_id}",
                           {"reason": reason, "previous": row["late_reason"]})
    return {"clip": clip_id, "reason": reason, "event": event.seq}
