"""Checkout and check-in at the equipment desk: the usage ledger (台账, rule B, Art. 4).

A checkout hands one device to one person for one task, after the pre-use check (Art. 7,
``desk.evaluate``). At most one checkout per device is open: the partial unique index
``checkouts_one_open`` decides between two desks racing for the same device, and the loser is
told the device is already out. Every checkout and check-in is a ledger event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger.config.loader import Config
from avledger.core import query
from avledger.core.app import Avledger
from avledger.core.desk import devices as registry
from avledger.core.desk import preuse as desk
from avledger.core.desk import roster
from avledger.core.footage import tagging
from avledger.errors import RefusedError
from avledger.i18n import _, translate_stored
from avledger.store import db
from avledger.timestamps import display, iso, parse_iso, utcnow

DESK_ROLES = ("clerk",)
# The latest docking of device ``d`` (its last_docked_at, or the newest docks row).
LAST_DOCK_SQL = ("(SELECT MAX(t) FROM (SELECT d.last_docked_at AS t UNION ALL"
                 " SELECT MAX(k.started_at) FROM docks k WHERE k.device_id = d.id) AS times)")


@dataclass(frozen=True)
class CheckoutRequest:
    serial: str
    badge: str
    task: str
    task_id: str | None = None
    remote: bool = False
    battery_percent: float | None = None
    storage_free_percent: float | None = None
    force_reason: str | None = None
    note: str | None = None
    docked: desk.DockedDevice | None = None
    footage: tagging.Change | None = None  # what its clips will be about, if the task says


def refuse_unusable(device: db.Row | dict[str, Any], tz: str) -> None:
    """Refuse handing out a device that is not registered and in service."""
    serial = device["serial"]
    if device["status"] == "retired":
        raise RefusedError(_("device {serial} is retired and may not be checked out").format(
                               serial=serial))
    if device["status"] == "lost":
        raise RefusedError(_("device {serial} is reported lost and may not be checked out").format(
                               serial=serial),
                           hint=_("if it is back: avledger device found {serial}").format(
                                    serial=serial))
    if device["registration"] != "registered":
        raise RefusedError(_("device {serial} is not registered (first seen at a dock "
                             "{first_seen_at})").format(
                               serial=serial, first_seen_at=display(device['first_seen_at'], tz)),
                           hint=_("register it: avledger device add {serial} --kind …").format(
                                    serial=serial))


def already_out(serial: str, holder: db.Row | dict[str, Any] | None,
                config: Config) -> RefusedError:
    if holder is None:  # the winner's row is not visible to us (cannot normally happen)
        return RefusedError(_("device {serial} is already checked out").format(serial=serial))
    name = roster.name_of(config, holder["badge"])
    who = f"{holder['badge']} ({name})" if name else holder["badge"]
    return RefusedError(_("device {serial} is already checked out to {who} since {out_at} "
                          "(checkout {id})").format(
                            serial=serial, who=who,
                            out_at=display(holder['out_at'], config.timezone), id=holder['id']),
                        hint=_("check it in first: avledger checkin {serial}").format(
                                 serial=serial))


def last_clock(conn: db.Connection, device_id: int) -> desk.ClockReading | None:
    """The latest reading that says something about the clock: a clock file read with no
    docking moment to measure it against (a folder) tells neither drift nor reset-free."""
    row = conn.execute(
        "SELECT id, measured_at, drift_seconds, uncertainty_seconds, status, source"
        " FROM clock_measurements WHERE device_id = ? AND NOT (status = 'unknown'"
        " AND device_time IS NOT NULL AND said_at IS NULL)"
        " ORDER BY measured_at DESC, id DESC LIMIT 1",
        (device_id,)).fetchone()
    if row is None:
        return None
    return desk.ClockReading(parse_iso(row["measured_at"]), row["drift_seconds"], row["status"],
                             row["source"], row["id"], row["uncertainty_seconds"])


def _pre_use(app: Avledger, device: db.Row, req: CheckoutRequest, now: datetime
             ) -> dict[str, Any]:
    """Run the pre-use check (syncing a docked clock if it can); refuse unless forced."""
    if req.docked is not None and req.docked.serial != req.serial:
        raise RefusedError(_("the docked device is {serial}, not {requested}").format(
                               serial=req.docked.serial, requested=req.serial),
                           hint=_("check out the device that is docked, or undock it"))
    policy = desk.DeskPolicy.from_config(app.config)
    state = desk.PreUseState(
        req.serial, has_battery=device["kind"] not in registry.MAINS_POWERED,
        battery_percent=req.battery_percent, storage_free_percent=req.storage_free_percent,
        last_clock=last_clock(app.catalog.conn, device["id"]), docked=req.docked)
    check = desk.evaluate(state, now, policy)
    synced = None
    if check.needs_sync and state.docked is not None and state.docked.sync_clock is not None:
        before = state.docked.clock
        after = state.docked.sync_clock()
        waiting = after.source == "sync-pending"
        synced = {"before": before.as_dict() if before else None,
                  "after": None if waiting else after.as_dict(),
                  "takes_effect": ("when the recorder is next connected" if waiting
                                   else "now")}
        check = desk.evaluate(desk.after_sync(state, after), now, policy)
    result = check.as_dict()
    if synced:
        result["clock_sync"] = synced
    if check.problems:
        if not (req.force_reason and req.force_reason.strip()):
            raise RefusedError(_("pre-use check failed for {serial}: {problems}").format(
                                   serial=req.serial,
                                   problems=_("; ").join(map(translate_stored, check.problems))),
                               hint=_("fix it, or override with --force --reason '…' (logged)"))
        result["forced"] = {"reason": req.force_reason.strip(), "overrode": check.problems}
    return result


def check_out(app: Avledger, req: CheckoutRequest, *, now: datetime | None = None
              ) -> dict[str, Any]:
    """Hand ``req.serial`` to ``req.badge``; the new checkout with its pre-use results."""
    app.actor.require(*DESK_ROLES, action=_("check out devices"))
    moment = now or utcnow()
    task = (req.task or "").strip()
    if not task:
        raise RefusedError(_("a checkout needs a task (what the device is for, rule B Art. 8)"))
    person = roster.require_active(app.config, req.badge)
    conn = app.catalog.conn
    device = registry.get(conn, req.serial)
    refuse_unusable(device, app.config.timezone)
    holder = registry.open_checkout(conn, device["id"])
    if holder is not None:
        raise already_out(req.serial, holder, app.config)
    precheck = _pre_use(app, device, req, moment)
    declared = (req.footage.checked(app.config).declared()
                if req.footage and not req.footage.is_empty() else None)

    with app.transaction() as conn:
        device = registry.get(conn, req.serial)  # again, under the write lock
        refuse_unusable(device, app.config.timezone)
        try:
            cur = conn.execute(
                "INSERT INTO checkouts (device_id, badge, task, task_id, remote, out_at, out_by,"
                " precheck, notes, footage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (device["id"], person["badge"], task, req.task_id, int(req.remote), iso(moment),
                 app.actor.label, _json(precheck), req.note,
                 declared and _json(declared)))
            checkout_row = cur.fetchone()
        except db.IntegrityError as exc:
            if "checkouts.device_id" not in str(exc):
                raise
            raise already_out(req.serial, registry.open_checkout(conn, device["id"]),
                              app.config) from None
        checkout_id = int(checkout_row[0])
        payload = {"serial": req.serial, "device_id": device["id"], "badge": person["badge"],
                   "name": person["name"], "task": task, "task_id": req.task_id,
                   "remote": req.remote, "out_at": iso(moment), "precheck": precheck}
        if declared:
            payload["footage"] = declared
        app.record(conn, "checkout.opened", f"checkout:{checkout_id}", payload)
        if "forced" in precheck:
            app.record(conn, "checkout.forced", f"checkout:{checkout_id}",
                       {"serial": req.serial, "badge": person["badge"], **precheck["forced"]})
    return {"id": checkout_id, **payload}


def _json(data: Any) -> str:
    """Compact, as SQLite's ``json()`` wrote it when the insert used that (any backend now)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def footage_state(conn: db.Connection, checkout: db.Row | dict[str, Any],
                  docked: desk.DockedDevice | None) -> dict[str, Any]:
    """Has this checkout's footage come in? Clips attributed so far, and any dock since."""
    clips = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(duration_seconds), 0) FROM clips WHERE checkout_id = ?",
        (checkout["id"],)).fetchone()
    last_dock = conn.execute(f"SELECT {LAST_DOCK_SQL} FROM devices d WHERE d.id = ?",
                             (checkout["device_id"],)).fetchone()[0]
    docked_since = last_dock is not None and parse_iso(last_dock) >= parse_iso(checkout["out_at"])
    if docked is not None and docked.pending_clips:
        status = "pending"
    elif docked is not None or docked_since:
        status = "ingested"
    else:
        status = "not-docked"
    return {"status": status, "clips": clips[0], "hours": round(clips[1] / 3600, 3),
            "last_dock": last_dock, "pending_clips": docked.pending_clips if docked else None}


def check_in(app: Avledger, serial: str, *, note: str | None = None,
             docked: desk.DockedDevice | None = None, now: datetime | None = None,
             about: tagging.Change | None = None) -> dict[str, Any]:
    """Close the open checkout of ``serial``; report whether its footage has come in.

    What its clips are about — ``about``, over what the checkout declared — is set on the
    clips ingested for it by now (each a ``clip.tagged`` event); clips that come in later are
    tagged with 'clips tag'."""
    app.actor.require(*DESK_ROLES, action=_("check in devices"))
    given = about.checked(app.config) if about and not about.is_empty() else None
    moment = now or utcnow()
    tz = app.config.timezone
    with app.transaction() as conn:
        device = registry.get(conn, serial)
        co = registry.open_checkout(conn, device["id"])
        if co is None:
            last = conn.execute("SELECT in_at FROM checkouts WHERE device_id = ?"
                                " ORDER BY in_at DESC LIMIT 1", (device["id"],)).fetchone()
            message = _("device {serial} is not checked out (last checked in {in_at})") \
                if last else _("device {serial} is not checked out")
            raise RefusedError(message.format(serial=serial,
                                              in_at=display(last[0], tz) if last else None))
        if moment < parse_iso(co["out_at"]):
            raise RefusedError(_("check-in time {moment} is before the check-out time {out_at} "
                                 "of checkout {id}").format(
                                   moment=display(moment, tz), out_at=display(co['out_at'], tz),
                                   id=co['id']))
        notes = "; ".join(n for n in (co["notes"], note and f"in: {note.strip()}") if n) or None
        conn.execute("UPDATE checkouts SET in_at = ?, in_by = ?, notes = ? WHERE id = ?",
                     (iso(moment), app.actor.label, notes, co["id"]))
        footage = footage_state(conn, co, docked)
        hours_out = round((moment - parse_iso(co["out_at"])).total_seconds() / 3600, 2)
        payload = {"serial": serial, "device_id": device["id"], "badge": co["badge"],
                   "out_at": co["out_at"], "in_at": iso(moment), "hours_out": hours_out,
                   "note": note, "footage": footage}
        app.record(conn, "checkout.closed", f"checkout:{co['id']}", payload)
        tagged = _tag_footage(app, conn, co, given)
    return {"id": co["id"], "name": roster.name_of(app.config, co["badge"]),
            "remote": bool(co["remote"]), "task": co["task"], **payload, "tagged": tagged}


def _tag_footage(app: Avledger, conn: db.Connection, co: db.Row,
                 given: tagging.Change | None) -> dict[str, Any] | None:
    """Set what the checkout's clips are about: what was said at check-in over what the
    checkout declared."""
    declared = tagging.Change.from_declared(json.loads(co["footage"] or "null"))
    change = given.over(declared) if given else declared
    if change.is_empty():
        return None
    ids = [int(r[0]) for r in conn.execute(
        "SELECT id FROM clips WHERE checkout_id = ? AND status != 'purged' ORDER BY id",
        (co["id"],))]
    done = tagging.apply(app, conn, ids, change) if ids else {"changed": [], "unchanged": []}
    return {"clips": ids, "changed": [c["clip"] for c in done["changed"]],
            "footage": {k: v for k, v in change.declared().items() if v}
            | ({"note": change.note} if change.note else {})}


def listing(app: Avledger, *, open_only: bool = False, overdue_only: bool = False,
            serial: str | None = None, badge: str | None = None, limit: int | None = None,
            now: datetime | None = None) -> list[dict[str, Any]]:
    """Checkouts newest first, with the person's name, last dock and whether overdue."""
    app.actor.require(action=_("list checkouts"))
    moment = now or utcnow()
    where, params = query.where(("c.in_at IS NULL", open_only or overdue_only),
                                ("d.serial = ?", serial), ("c.badge = ?", badge))
    rows = app.catalog.conn.execute(
        "SELECT c.id, d.serial, d.kind, d.status AS device_status, c.badge, c.task, c.task_id,"
        f" c.remote, c.out_at, c.in_at, c.out_by, c.in_by, c.device_id, {LAST_DOCK_SQL}"
        f" AS last_dock FROM checkouts c JOIN devices d ON d.id = c.device_id {where}"
        " ORDER BY c.out_at DESC, c.id DESC", params).fetchall()
    window = float(app.config.get("window.hours"))
    result = []
    for r in rows:
        row = dict(r)
        row["remote"] = bool(row["remote"])
        row["name"] = roster.name_of(app.config, row["badge"])
        row["overdue"] = row["in_at"] is None and desk.is_overdue(
            parse_iso(row["out_at"]), parse_iso(row["last_dock"]) if row["last_dock"] else None,
            row["remote"], moment, window)
        if overdue_only and not row["overdue"]:
            continue
        result.append(row)
    return result[:limit] if limit else result
