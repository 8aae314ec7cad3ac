"""Cases (行政执法案件) and the footage linked to them.

A case has a number, a name, an enforcement type (rule A, Art. 2: inspection, penalty,
compulsion, licensing), its handlers (案件承办人, by badge) and a confidentiality level (rule A,
Art. 10; rule B, Art. 14). Footage linked to a case is kept as long as the case file (rule B,
Annex 1): an open case never lets its footage expire. While a decision on the case awaits legal
review (Annex 2, ``core.legal_review``) the case cannot be closed nor footage unlinked from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from avledger.core.app import Avledger
from avledger.core.caseref import Case, case_by_id, case_from_row, get_case
from avledger.core.cases.decisions import open_review_ids
from avledger.core.clipref import fetch_clips, unique_ids
from avledger.core.identity import find_person
from avledger.errors import NotFoundError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso

ENFORCEMENT_TYPES = ("inspection", "penalty", "compulsion", "licensing")
CONFIDENTIALITY = ("none", "personal-privacy", "commercial-secret", "state-secret")
CASE_ROLES = ("handler", "records_manager", "leader")


def list_cases(conn: db.Connection, status: str | None = None) -> list[dict[str, Any]]:
    where = "WHERE k.status = ?" if status else ""
    params = (status,) if status else ()
    rows = conn.execute(
        "SELECT k.*, (SELECT COUNT(*) FROM clip_cases cc WHERE cc.case_id = k.id) AS clips"
        f" FROM cases k {where} ORDER BY k.opened_at, k.id", params).fetchall()
    out = []
    for row in rows:
        item = case_from_row(conn, row).as_dict()
        item["clips"] = row["clips"]
        out.append(item)
    return out


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise RefusedError(_("unknown {what} {value!r} (choose from: {choices})").format(
                               what=what, value=value, choices=', '.join(choices)))


def add_case(app: Avledger, *, number: str, name: str, enforcement_type: str,
             handlers: list[str], confidentiality: str, now: datetime) -> Case:
    """Open a case; every handler must be a badge on the roster."""
    app.actor.require(*CASE_ROLES, action=_("open a case"))
    _check_choice(enforcement_type, ENFORCEMENT_TYPES, _("enforcement type"))
    _check_choice(confidentiality, CONFIDENTIALITY, _("confidentiality level"))
    if not number.strip() or not name.strip():
        raise RefusedError(_("a case needs a number and a name"))
    unknown = [b for b in handlers if find_person(app.config, b) is None]
    if unknown:
        raise NotFoundError(_("handler badge(s) not on the roster: {unknown}").format(
                                unknown=', '.join(unknown)),
                            hint=_("handlers are badge numbers from 'personnel' in the config"))
    with app.transaction() as conn:
        if conn.execute("SELECT 1 FROM cases WHERE number = ?", (number,)).fetchone():
            raise RefusedError(_("case {number!r} already exists").format(number=number))
        cur = conn.execute(
            "INSERT INTO cases (number, name, enforcement_type, confidentiality, opened_at,"
            " opened_by) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (number, name, enforcement_type, confidentiality, iso(now), app.actor.label))
        case_id = int(cur.fetchone()[0])
        conn.executemany("INSERT INTO case_handlers (case_id, badge) VALUES (?, ?)",
                         [(case_id, b) for b in dict.fromkeys(handlers)])
        app.record(conn, "case.opened", f"case:{case_id}", {
            "number": number, "name": name, "enforcement_type": enforcement_type,
            "confidentiality": confidentiality, "handlers": list(dict.fromkeys(handlers)),
            "opened_at": iso(now)})
        return case_by_id(conn, case_id)


def close_case(app: Avledger, number: str, *, note: str, now: datetime) -> Case:
    """Close a case: its footage's retention now counts from today (see retention.case_days)."""
    app.actor.require(*CASE_ROLES, action=_("close a case"))
    with app.transaction() as conn:
        case = get_case(conn, number)
        if case.status == "closed":
            raise RefusedError(_("case {number!r} was already closed on {closed_at}").format(
                                   number=number, closed_at=case.closed_at))
        _refuse_during_review(conn, case, _("it may not be closed"))
        conn.execute("UPDATE cases SET status = 'closed', closed_at = ?, closed_by = ?,"
                     " close_note = ? WHERE id = ?",
                     (iso(now), app.actor.label, note, case.id))
        app.record(conn, "case.closed", case.subject, {"number": number, "note": note,
                                                       "closed_at": iso(now)})
        return case_by_id(conn, case.id)


def _refuse_during_review(conn: db.Connection, case: Case, what: str) -> None:
    """While a decision awaits legal review, the case and the footage under review stay put."""
    if open_review_ids(conn, case.id):
        raise RefusedError(_("case {number} has a decision awaiting legal review; {what} until "
                             "the review ends").format(number=case.number, what=what),
                           hint=_("avledger case reviews --open"))


def link_clips(app: Avledger, number: str, clip_ids: list[int], *, now: datetime,
               unlink: bool = False) -> dict[str, Any]:
    """Link (or unlink) clips to a case; one ledger event per clip actually changed."""
    verb = "unlink" if unlink else "link"  # also the event type: clip.linked, clip.unlinked
    app.actor.require("handler", "records_manager",
                      action=_("unlink clips and cases") if unlink else _("link clips and cases"))
    ids = unique_ids(clip_ids)
    changed: list[int] = []
    unchanged: list[int] = []
    with app.transaction() as conn:
        case = get_case(conn, number)
        if unlink:
            _refuse_during_review(conn, case, _("no clip may be unlinked from it"))
        clips = fetch_clips(conn, ids)
        purged = [i for i, row in clips.items() if row["status"] == "purged"]
        if purged and not unlink:
            raise RefusedError(_("clip(s) {clips} were purged; "
                                 "only their tombstone remains").format(
                                   clips=', '.join(map(str, purged))))
        for clip_id in ids:
            if unlink:
                cur = conn.execute("DELETE FROM clip_cases WHERE clip_id = ? AND case_id = ?",
                                   (clip_id, case.id))
            else:
                cur = conn.execute(
                    "INSERT INTO clip_cases (clip_id, case_id, linked_at, linked_by)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (clip_id, case.id, iso(now), app.actor.label))
            if cur.rowcount:
                changed.append(clip_id)
                app.record(conn, f"clip.{verb}ed", f"clip:{clip_id}",
                           {"case": case.id, "number": case.number})
            else:
                unchanged.append(clip_id)
    return {"case": case.number, "action": verb, "changed": changed, "unchanged": unchanged}
