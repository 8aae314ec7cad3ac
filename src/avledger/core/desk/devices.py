"""The device registry: every recorder and other device the unit owns, and its status.

Ingest catalogues a serial it has never seen as ``unregistered`` so that no footage is refused;
the desk registers it properly (kind, model, unit). Status moves in_service → lost → in_service
(found) and in_service/lost → retired, which is final. Every change is a ledger event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger.core import query
from avledger.core.app import Avledger
from avledger.errors import NotFoundError, RefusedError
from avledger.i18n import N_, _
from avledger.store import db
from avledger.timestamps import display, iso, utcnow

# Rule B, Art. 2: the devices the rules cover.
KINDS = ("body_recorder", "camera", "audio_recorder", "camcorder", "handheld_terminal",
         "video_surveillance", "storage_device")
# Kinds without a battery of their own: the pre-use battery check does not apply.
MAINS_POWERED = frozenset({"video_surveillance", "storage_device"})
STATUSES = ("in_service", "lost", "retired")

REGISTRARS = ("clerk", "records_manager")
STATUS_KEEPERS = ("records_manager",)


def find(conn: db.Connection, serial: str) -> db.Row | None:
    row: db.Row | None = conn.execute(
        "SELECT * FROM devices WHERE serial = ?", (serial,)).fetchone()
    return row


def get(conn: db.Connection, serial: str) -> db.Row:
    row = find(conn, serial)
    if row is None:
        raise NotFoundError(_("no device with serial {serial!r}").format(serial=serial),
                            hint=_("register it with 'avledger device add {serial}'").format(
                                     serial=serial))
    return row


def open_checkout(conn: db.Connection, device_id: int) -> db.Row | None:
    row: db.Row | None = conn.execute(
        "SELECT * FROM checkouts WHERE device_id = ? AND in_at IS NULL", (device_id,)).fetchone()
    return row


@dataclass(frozen=True)
class Registration:
    device: dict[str, Any]
    was_unregistered: bool


def add(app: Avledger, serial: str, *, kind: str = "body_recorder", model: str | None = None,
        profile: str | None = None, unit: str | None = None, notes: str | None = None,
        now: datetime | None = None) -> Registration:
    """Register a new device, or register one ingest discovered (``unregistered``)."""
    app.actor.require(*REGISTRARS, action=_("register devices"))
    serial = serial.strip()
    if not serial:
        raise RefusedError(_("a device needs a serial number"))
    if kind not in KINDS:
        raise RefusedError(_("unknown device kind {kind!r} (known: {KINDS})").format(
                               kind=kind, KINDS=', '.join(KINDS)))
    moment = iso(now or utcnow())
    unit = unit or str(app.config.get("site.unit"))
    with app.transaction() as conn:
        row = find(conn, serial)
        if row is not None and row["registration"] == "registered":
            raise RefusedError(_("device {serial} is already "
                                 "registered (since {registered_at})").format(
                                   serial=serial,
                                   registered_at=display(row['registered_at'],
                                                         app.config.timezone)),
                               hint=_("see 'avledger device show {serial}'").format(serial=serial))
        if row is None:
            cur = conn.execute(
                "INSERT INTO devices (serial, profile, model, kind, unit, registration, notes,"
                " first_seen_at, registered_at) VALUES (?, ?, ?, ?, ?, 'registered', ?, ?, ?)"
                " RETURNING id",
                (serial, profile, model, kind, unit, notes, moment, moment))
            device_id = int(cur.fetchone()[0])
        else:
            device_id = int(row["id"])
            conn.execute(
                "UPDATE devices SET registration = 'registered', registered_at = ?, kind = ?,"
                " model = COALESCE(?, model), profile = COALESCE(?, profile), unit = ?,"
                " notes = COALESCE(?, notes) WHERE id = ?",
                (moment, kind, model, profile, unit, notes, device_id))
        device = dict(conn.execute("SELECT * FROM devices WHERE id = ?",
                                   (device_id,)).fetchone())
        app.record(conn, "device.registered", f"device:{device_id}", {
            "serial": serial, "kind": kind, "model": device["model"],
            "profile": device["profile"], "unit": unit, "notes": device["notes"],
            "was_unregistered": row is not None,
        })
    return Registration(device, row is not None)


# (from statuses, to status, event type, verb for messages)
_TRANSITIONS = {
    "retire": (("in_service", "lost"), "retired", "device.retired", N_("retire")),
    "lost": (("in_service",), "lost", "device.lost", N_("mark lost")),
    "found": (("lost",), "in_service", "device.found", N_("mark found")),
}
# A device's status in the words of the messages.
_STATUS_WORDS = {"in_service": N_("in service"), "lost": N_("lost"), "retired": N_("retired")}


def plan_status_change(device: db.Row | dict[str, Any], action: str,
                       open_co: db.Row | dict[str, Any] | None) -> str:
    """The new status, or RefusedError saying why ``action`` is not allowed (pure)."""
    allowed, new, _event, verb = _TRANSITIONS[action]
    serial, status = device["serial"], device["status"]
    if status == "retired":
        raise RefusedError(_("device {serial} is retired; a retired device stays retired").format(
                               serial=serial))
    if status not in allowed:
        raise RefusedError(_("cannot {verb} device {serial}: it is {status}").format(
                               verb=_(verb), serial=serial,
                               status=_(_STATUS_WORDS.get(status, status))))
    if action == "retire" and open_co is not None:
        raise RefusedError(_("cannot retire device {serial}: it is checked out to {badge} "
                             "(checkout {id})").format(
                               serial=serial, badge=open_co['badge'], id=open_co['id']),
                           hint=_("check it in first: avledger checkin {serial}").format(
                                    serial=serial))
    return new


def change_status(app: Avledger, serial: str, action: str, reason: str, *,
                  dry_run: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """Retire a device, mark it lost, or found again (records manager only)."""
    event, verb = _TRANSITIONS[action][2:]
    app.actor.require(*STATUS_KEEPERS, action=_("{verb} devices").format(verb=_(verb)))
    if not reason.strip():
        raise RefusedError(_("a reason is required to {verb} a device").format(verb=_(verb)))
    moment = iso(now or utcnow())
    with app.transaction() as conn:
        device = get(conn, serial)
        open_co = open_checkout(conn, device["id"])
        new = plan_status_change(device, action, open_co)
        result = {"serial": serial, "from": device["status"], "to": new, "reason": reason,
                  "open_checkout": open_co["id"] if open_co else None, "dry_run": dry_run}
        if dry_run:
            return result
        conn.execute("UPDATE devices SET status = ?, status_changed_at = ?, status_reason = ?"
                     " WHERE id = ?", (new, moment, reason, device["id"]))
        app.record(conn, event, f"device:{device['id']}", {
            k: v for k, v in result.items() if k != "dry_run"})
    return result


def listing(app: Avledger, *, unregistered: bool = False, status: str | None = None,
            kind: str | None = None) -> list[dict[str, Any]]:
    """Devices with who has them now and when they last docked."""
    where, params = query.where(("d.registration = 'unregistered'", unregistered),
                                ("d.status = ?", status), ("d.kind = ?", kind))
    rows = app.catalog.conn.execute(
        "SELECT d.*, c.id AS checkout_id, c.badge AS out_to, c.out_at AS out_since"
        " FROM devices d LEFT JOIN checkouts c ON c.device_id = d.id AND c.in_at IS NULL"
        f" {where} ORDER BY d.registration DESC, d.serial", params).fetchall()
    return [dict(r) for r in rows]


def details(app: Avledger, serial: str, *, history: int = 10) -> dict[str, Any]:
    """One device: its row, current and recent checkouts, last clock reading, footage."""
    conn = app.catalog.conn
    device = dict(get(conn, serial))
    checkouts = [dict(r) for r in conn.execute(
        "SELECT id, badge, task, task_id, remote, out_at, in_at FROM checkouts"
        " WHERE device_id = ? ORDER BY out_at DESC LIMIT ?", (device["id"], history))]
    clock = conn.execute(
        "SELECT kind, measured_at, device_time, drift_seconds, uncertainty_seconds, status,"
        " source, detail FROM clock_measurements"
        " WHERE device_id = ? ORDER BY measured_at DESC, id DESC LIMIT 1",
        (device["id"],)).fetchone()
    clips = conn.execute(
        "SELECT COUNT(*) AS clips, COALESCE(SUM(duration_seconds), 0) AS seconds FROM clips"
        " WHERE device_id = ? AND status != 'purged'", (device["id"],)).fetchone()
    return {
        "device": device,
        "open_checkout": next((c for c in checkouts if c["in_at"] is None), None),
        "recent_checkouts": checkouts,
        "last_clock": dict(clock) if clock else None,
        "footage": {"clips": clips["clips"], "hours": round(clips["seconds"] / 3600, 2)},
    }
