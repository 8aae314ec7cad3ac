"""Hold proposals: a recorder marked a clip important, a records manager decides.

Many recorders let the officer lock a clip as important (a marker in the file name, a flag
file or a sidecar beside it; see the profile's ``marks``). Ingest keeps that mark on the clip
and *proposes* a hold (``hold.proposed``); nothing is held until a records manager or leader
confirms it, which places an ordinary hold on the clip (``hold.proposal_confirmed`` and
``hold.placed``), or dismisses it with a reason (``hold.proposal_dismissed``). A recorder
cannot keep footage from purge by itself: it can only ask.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from avledger.core.app import Avledger
from avledger.core.retention.holds import RELEASE_ROLES, place_clips_hold
from avledger.errors import NotFoundError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso

DECIDE_ROLES = RELEASE_ROLES  # records manager or leader, as for releasing a hold
MARK_HOLD_REASON = "other"
STATES = ("open", "confirmed", "dismissed")


def propose(app: Avledger, conn: db.Connection, clip_id: int, *, mark: str,
            now: datetime) -> int:
    """Propose a hold on a clip the recorder marked, inside the ingest's transaction."""
    cur = conn.execute(
        "INSERT INTO hold_proposals (clip_id, mark, proposed_at) VALUES (?, ?, ?)"
        " ON CONFLICT (clip_id) DO NOTHING RETURNING id", (clip_id, mark, iso(now)))
    row = cur.fetchone()
    if row is None:
        return 0
    proposal_id = int(row[0])
    app.record(conn, "hold.proposed", f"clip:{clip_id}",
               {"proposal": proposal_id, "mark": mark, "proposed_at": iso(now)})
    return proposal_id


_SELECT = (
    "SELECT p.id, p.clip_id, p.mark, p.proposed_at, p.state, p.decided_at, p.decided_by,"
    " p.note, p.hold_id, c.kind, c.source_path, c.corrected_start, c.badge, d.serial"
    " FROM hold_proposals p JOIN clips c ON c.id = p.clip_id"
    " JOIN devices d ON d.id = c.device_id")


def list_proposals(conn: db.Connection, *, include_decided: bool = False
                   ) -> list[dict[str, Any]]:
    """Open proposals, oldest first (with ``include_decided``, every one)."""
    where = "" if include_decided else " WHERE p.state = 'open'"
    return [dict(r) for r in conn.execute(f"{_SELECT}{where} ORDER BY p.id")]


def get_proposal(conn: db.Connection, proposal_id: int) -> dict[str, Any]:
    row = conn.execute(f"{_SELECT} WHERE p.id = ?", (proposal_id,)).fetchone()
    if row is None:
        raise NotFoundError(_("no hold proposal {id}").format(id=proposal_id),
                            hint=_("see 'avledger hold proposals'"))
    return dict(row)


def _open(conn: db.Connection, proposal_id: int) -> dict[str, Any]:
    found = get_proposal(conn, proposal_id)
    if found["state"] != "open":
        raise RefusedError(_("hold proposal {id} was already {state} on {date} by {who}").format(
            id=proposal_id, state=found["state"], date=found["decided_at"],
            who=found["decided_by"]))
    return found


def confirm(app: Avledger, proposal_id: int, *, note: str, now: datetime) -> dict[str, Any]:
    """Place the proposed hold on the clip (records manager or leader)."""
    app.actor.require(*DECIDE_ROLES, action="confirm a hold proposal")
    with app.transaction() as conn:
        found = _open(conn, proposal_id)
        why = note.strip() or f"marked important on the recorder ({found['mark']})"
        hold = place_clips_hold(app, conn, [found["clip_id"]], reason=MARK_HOLD_REASON,
                                note=why, now=now, extra={"proposal": proposal_id})
        _decide(app, conn, found, "confirmed", why, now, hold_id=hold["id"])
        return get_proposal(conn, proposal_id) | {"hold": hold}


def dismiss(app: Avledger, proposal_id: int, *, reason: str, now: datetime) -> dict[str, Any]:
    """Decline the proposed hold, saying why (records manager or leader); nothing is held."""
    app.actor.require(*DECIDE_ROLES, action="dismiss a hold proposal")
    if not reason.strip():
        raise RefusedError(_("dismissing a hold proposal needs a reason"))
    with app.transaction() as conn:
        found = _open(conn, proposal_id)
        _decide(app, conn, found, "dismissed", reason.strip(), now)
        return get_proposal(conn, proposal_id)


def _decide(app: Avledger, conn: db.Connection, found: dict[str, Any], state: str, note: str,
            now: datetime, hold_id: int | None = None) -> None:
    conn.execute("UPDATE hold_proposals SET state = ?, decided_at = ?, decided_by = ?,"
                 " note = ?, hold_id = ? WHERE id = ?",
                 (state, iso(now), app.actor.label, note, hold_id, found["id"]))
    app.record(conn, f"hold.proposal_{state}", f"clip:{found['clip_id']}", {
        "proposal": found["id"], "mark": found["mark"], "note": note, "hold": hold_id,
        "decided_at": iso(now)})
