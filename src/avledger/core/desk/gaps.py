"""Gap records (rule B, Art. 12): why recording stopped during a checkout, and who approved it.

Recording may stop for a device fault, a flat battery, full storage, bad weather, obstruction
or force majeure; the officer then writes a work record of the reason, which the unit head
approves. Here: a gap belongs to one checkout and lies within it; it is written by the officer
of that checkout (or a clerk or records manager on their behalf) and approved by a leader who
is neither its author nor the officer — approvals are never self-approvals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from avledger.core import query
from avledger.core.app import Avledger
from avledger.core.desk import roster
from avledger.errors import NotFoundError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import display, iso, parse_iso, utcnow

REASONS = ("device-fault", "battery", "storage", "weather", "obstruction", "force-majeure",
           "other")
SCRIBES = ("clerk", "records_manager")  # may write a gap record for another officer
APPROVERS = ("leader",)


def _checkout(conn: Any, checkout_id: int) -> Any:
    row = conn.execute("SELECT c.*, d.serial FROM checkouts c JOIN devices d"
                       " ON d.id = c.device_id WHERE c.id = ?", (checkout_id,)).fetchone()
    if row is None:
        raise NotFoundError(_("no checkout {checkout_id}").format(checkout_id=checkout_id),
                            hint=_("see 'avledger checkout list --badge BADGE'"))
    return row


def validate_span(checkout: Any, start: datetime, end: datetime, now: datetime, tz: str
                  ) -> None:
    """The gap must be a real interval inside the checkout, and not in the future (pure)."""
    if end <= start:
        raise RefusedError(_("the gap must end after it starts ({start} → {end})").format(
                               start=display(start, tz), end=display(end, tz)))
    out_at = parse_iso(checkout["out_at"])
    in_at = parse_iso(checkout["in_at"]) if checkout["in_at"] else None
    if start < out_at:
        raise RefusedError(_("the gap starts {start}, before "
                             "checkout {id} began ({out_at})").format(
                               start=display(start, tz), id=checkout['id'],
                               out_at=display(out_at, tz)))
    if in_at is not None and end > in_at:
        raise RefusedError(_("the gap ends {end}, after checkout "
                             "{id} was checked in ({in_at})").format(
                               end=display(end, tz), id=checkout['id'], in_at=display(in_at, tz)))
    if end > now:
        raise RefusedError(_("the gap ends {end}, which is in the future").format(
                               end=display(end, tz)))


def add(app: Avledger, checkout_id: int, start: datetime, end: datetime, reason: str,
        note: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Record a gap; the officer of the checkout, a clerk or a records manager may."""
    moment = now or utcnow()
    actor = app.actor
    actor.require(action=_("record gaps"))
    if reason not in REASONS:
        raise RefusedError(_("unknown gap reason {reason!r} (known: {REASONS})").format(
                               reason=reason, REASONS=', '.join(REASONS)))
    if not note.strip():
        raise RefusedError(_("a gap record needs a note saying what happened (rule B, Art. 12)"))
    with app.transaction() as conn:
        co = _checkout(conn, checkout_id)
        if actor.badge != co["badge"] and not (actor.roles & set(SCRIBES)):
            raise RefusedError(_("{name} ({badge}) may not record a gap for checkout "
                                 "{checkout_id} of {holder}: only that officer, a clerk or a "
                                 "records manager may").format(
                                   name=actor.name or actor.login, badge=actor.badge,
                                   checkout_id=checkout_id, holder=co['badge']))
        validate_span(co, start, end, moment, app.config.timezone)
        cur = conn.execute(
            "INSERT INTO gaps (checkout_id, from_at, to_at, reason, note, created_at,"
            " created_by, author_badge) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (checkout_id, iso(start), iso(end), reason, note.strip(), iso(moment),
             actor.label, actor.badge))
        gap_id = int(cur.fetchone()[0])
        payload = {"checkout": checkout_id, "serial": co["serial"], "badge": co["badge"],
                   "from": iso(start), "to": iso(end), "reason": reason, "note": note.strip()}
        app.record(conn, "gap.recorded", f"gap:{gap_id}", payload)
    return {"id": gap_id, **payload, "approved": False}


def approval_refusal(gap: Any, approver_badge: str | None, tz: str) -> str | None:
    """Why this approver may not approve this gap, or None (pure; role checked elsewhere)."""
    if gap["approved_at"]:
        return (f"gap {gap['id']} was already approved by {gap['approved_by']} on "
                f"{display(gap['approved_at'], tz)}")
    if approver_badge is not None and approver_badge == gap["author_badge"]:
        return f"gap {gap['id']} was written by you; another leader must approve it"
    if approver_badge is not None and approver_badge == gap["officer_badge"]:
        return f"gap {gap['id']} is about your own checkout; another leader must approve it"
    return None


def approve(app: Avledger, gap_id: int, *, note: str | None = None,
            now: datetime | None = None) -> dict[str, Any]:
    """A leader approves a gap record written by someone else, about someone else."""
    app.actor.require(*APPROVERS, action=_("approve gap records"))
    moment = now or utcnow()
    with app.transaction() as conn:
        gap = conn.execute("SELECT g.*, c.badge AS officer_badge FROM gaps g"
                           " JOIN checkouts c ON c.id = g.checkout_id WHERE g.id = ?",
                           (gap_id,)).fetchone()
        if gap is None:
            raise NotFoundError(_("no gap record {gap_id}").format(gap_id=gap_id),
                                hint=_("see 'avledger gap list'"))
        why = approval_refusal(gap, app.actor.badge, app.config.timezone)
        if why:
            raise RefusedError(why)
        conn.execute("UPDATE gaps SET approved_at = ?, approved_by = ?, approver_badge = ?,"
                     " approval_note = ? WHERE id = ?",
                     (iso(moment), app.actor.label, app.actor.badge, note, gap_id))
        payload = {"checkout": gap["checkout_id"], "badge": gap["officer_badge"],
                   "author": gap["created_by"], "reason": gap["reason"], "note": note}
        app.record(conn, "gap.approved", f"gap:{gap_id}", payload)
    return {"id": gap_id, "approved_at": iso(moment), "approved_by": app.actor.label, **payload}


GAP_COLUMNS = ("g.id, g.checkout_id, d.serial, c.badge, g.from_at, g.to_at, g.reason, g.note,"
               " g.created_at, g.created_by, g.approved_at, g.approved_by, g.approval_note")


def _select(app: Avledger, where: str, params: list[Any]) -> list[dict[str, Any]]:
    rows = app.catalog.conn.execute(
        f"SELECT {GAP_COLUMNS} FROM gaps g JOIN checkouts c ON c.id = g.checkout_id"
        f" JOIN devices d ON d.id = c.device_id {where} ORDER BY g.from_at, g.id", params)
    return [_row(app, r) for r in rows]


def listing(app: Avledger, *, checkout_id: int | None = None, pending: bool = False,
            badge: str | None = None) -> list[dict[str, Any]]:
    app.actor.require(action=_("list gap records"))
    return _select(app, *query.where(("g.checkout_id = ?", checkout_id),
                                     ("g.approved_at IS NULL", pending), ("c.badge = ?", badge)))


def _row(app: Avledger, r: Any) -> dict[str, Any]:
    row = dict(r)
    row["name"] = roster.name_of(app.config, row["badge"])
    row["minutes"] = round((parse_iso(row["to_at"]) - parse_iso(row["from_at"]))
                           .total_seconds() / 60, 1)
    row["approved"] = row["approved_at"] is not None
    return row


def for_checkouts(app: Avledger, checkout_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Gaps grouped by checkout, for the usage ledger."""
    found: dict[int, list[dict[str, Any]]] = {}
    for ids in db.chunks(checkout_ids):
        for gap in _select(app, f"WHERE g.checkout_id IN ({','.join('?' * len(ids))})", ids):
            found.setdefault(gap["checkout_id"], []).append(gap)
    return found
