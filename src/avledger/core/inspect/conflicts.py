"""Declared conflicts of interest: an inspector who must not be drawn for an enterprise.

Two sources are merged at draw time: the register kept here (``avledger inspect conflict add``,
each declaration and withdrawal a ledger event), and a ``conflicts`` column in the population
file. Anyone on the roster may declare their own conflict; declaring one for someone else, or
withdrawing one, needs the ``leader`` or ``records_manager`` role.
"""

from __future__ import annotations

from typing import Any

from avledger.core.app import Avledger
from avledger.core.identity import find_person
from avledger.errors import InputError, NotFoundError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso, utcnow

MANAGER_ROLES = ("leader", "records_manager")


def _enterprise(enterprise_id: str) -> str:
    eid = enterprise_id.strip()
    if not eid or any(c in eid for c in "\r\n\x00"):
        raise InputError(_("enterprise id {enterprise_id!r} must be one non-empty line").format(
                             enterprise_id=enterprise_id))
    return eid


def _person(app: Avledger, badge: str) -> dict[str, Any]:
    person = find_person(app.config, badge)
    if person is None:
        raise NotFoundError(_("badge {badge} is not on the roster").format(badge=badge),
                            hint=_("see 'personnel' in the config"))
    return person


def add(app: Avledger, badge: str, enterprise_id: str, note: str) -> dict[str, Any]:
    """Declare that ``badge`` must not inspect ``enterprise_id``."""
    person = _person(app, badge)
    if app.actor.badge != str(person["badge"]):
        app.actor.require(*MANAGER_ROLES, action=_("declare a conflict for someone else"))
    else:
        app.actor.require(action=_("declare a conflict"))
    eid = _enterprise(enterprise_id)
    if not note.strip():
        raise InputError(_("say why in --note (the relationship that makes it a conflict)"))
    now = iso(utcnow())
    with app.transaction() as conn:
        if _active(conn, str(person["badge"]), eid) is not None:
            raise RefusedError(_("a conflict between {badge} and {eid} is already declared").format(
                                   badge=badge, eid=eid))
        cur = conn.execute(
            "INSERT INTO inspection_conflicts (badge, enterprise_id, note, added_at, added_by)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id", (str(person["badge"]), eid, note.strip(), now,
                                        app.actor.label))
        cid = int(cur.fetchone()[0])
        app.record(conn, "inspection.conflict.declared", f"conflict:{cid}",
                   {"badge": str(person["badge"]), "enterprise_id": eid, "note": note.strip()})
    return {"id": cid, "badge": str(person["badge"]), "enterprise_id": eid, "note": note.strip(),
            "added_at": now, "added_by": app.actor.label}


def remove(app: Avledger, badge: str, enterprise_id: str, note: str) -> dict[str, Any]:
    """Withdraw a declared conflict (the declaration stays in the ledger)."""
    app.actor.require(*MANAGER_ROLES, action=_("withdraw a declared conflict"))
    eid = _enterprise(enterprise_id)
    if not note.strip():
        raise InputError(_("say why the conflict no longer applies in --note"))
    now = iso(utcnow())
    with app.transaction() as conn:
        row = _active(conn, str(badge), eid)
        if row is None:
            raise NotFoundError(_("no declared conflict between {badge} and {eid}").format(
                                    badge=badge, eid=eid))
        conn.execute("UPDATE inspection_conflicts SET removed_at = ?, removed_by = ?,"
                     " removal_note = ? WHERE id = ?", (now, app.actor.label, note.strip(),
                                                        row["id"]))
        app.record(conn, "inspection.conflict.withdrawn", f"conflict:{row['id']}",
                   {"badge": str(badge), "enterprise_id": eid, "note": note.strip()})
    return {"id": row["id"], "badge": str(badge), "enterprise_id": eid, "removed_at": now}


def _active(conn: db.Connection, badge: str, eid: str) -> db.Row | None:
    row: db.Row | None = conn.execute(
        "SELECT * FROM inspection_conflicts WHERE badge = ? AND enterprise_id = ?"
        " AND removed_at IS NULL", (badge, eid)).fetchone()
    return row


def listing(app: Avledger, *, include_withdrawn: bool = False) -> list[dict[str, Any]]:
    sql = "SELECT * FROM inspection_conflicts"
    if not include_withdrawn:
        sql += " WHERE removed_at IS NULL"
    rows = app.catalog.conn.execute(sql + " ORDER BY enterprise_id, badge, id").fetchall()
    return [dict(r) for r in rows]


def declared_pairs(conn: db.Connection) -> list[tuple[str, str]]:
    """(enterprise id, badge) of every conflict in force, for a draw's snapshot."""
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT enterprise_id, badge FROM inspection_conflicts WHERE removed_at IS NULL")]
