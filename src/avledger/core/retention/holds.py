"""Holds (rule B, Art. 16): footage that must be kept whatever its age.

A hold covers named clips, every clip linked to a case (including clips linked after the hold
was placed), or one recorder's footage in a time range. A clip under any active hold is never
purged; placing a hold returns its clips from pending purge at once. Releasing a hold (records
manager or leader) deletes nothing: the clips simply follow the normal retention rules again.

A ``legal-review`` hold is different: a decision that needs legal review (Annex 2) places it on
its case, and only the end of that review releases it — never ``release_hold`` — so the
footage the reviewer weighs cannot lose its protection while the review is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger.core.app import Avledger
from avledger.core.caseref import get_case
from avledger.core.clipref import fetch_clips, unique_ids
from avledger.core.retention import store_locks
from avledger.core.retention.held import DEVICE_RANGE, clips_under_hold
from avledger.core.retention.pending import return_to_stored
from avledger.errors import NotFoundError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso

LEGAL_REVIEW = "legal-review"
MANUAL_REASONS = ("complaint", "obstruction", "major-sensitive", "litigation", "other")
REASONS = (*MANUAL_REASONS, LEGAL_REVIEW)
PLACE_ROLES = ("handler", "records_manager", "leader")
RELEASE_ROLES = ("records_manager", "leader")

@dataclass(frozen=True)
class HoldTarget:
    """What a new hold covers: exactly one of clips, case number, or device + range."""

    clips: tuple[int, ...] = ()
    case: str | None = None
    device: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def _device_id(conn: db.Connection, device: str) -> int:
    row = conn.execute("SELECT id FROM devices WHERE serial = ?", (device,)).fetchone()
    if row is None and device.isdigit():
        row = conn.execute("SELECT id FROM devices WHERE id = ?", (int(device),)).fetchone()
    if row is None:
        raise NotFoundError(_("no recorder with serial {device!r}").format(device=device),
                            hint=_("see 'avledger devices list'"))
    return int(row[0])


def place_hold(app: Avledger, target: HoldTarget, *, reason: str, note: str,
               now: datetime) -> dict[str, Any]:
    app.actor.require(*PLACE_ROLES, action=_("place a hold"))
    if reason == LEGAL_REVIEW:
        raise RefusedError(_("legal-review holds are placed by 'avledger case decide' when a "
                             "decision needs legal review, not by hand"))
    if reason not in MANUAL_REASONS:
        raise RefusedError(_("unknown hold reason {reason!r} "
                             "(choose from: {MANUAL_REASONS})").format(
                               reason=reason, MANUAL_REASONS=', '.join(MANUAL_REASONS)))
    if not note.strip():
        raise RefusedError(_("a hold needs a note saying why (who complained, which case, …)"))
    given = [bool(target.clips), target.case is not None, target.device is not None]
    if sum(given) != 1:
        raise RefusedError(_("name exactly one of: clips, a case, or a device with a time range"))
    with app.transaction() as conn:
        values: dict[str, Any] = {"case_id": None, "device_id": None, "from_ts": None,
                                  "to_ts": None}
        ids: list[int] = []
        if target.clips:
            scope = "clips"
            ids = unique_ids(target.clips)
            fetch_clips(conn, ids)
        elif target.case is not None:
            scope = "case"
            values["case_id"] = get_case(conn, target.case).id
        else:
            scope = "device"
            if target.start is None or target.end is None:
                raise RefusedError(_("a device hold needs both --from and --to"))
            if target.start > target.end:
                raise RefusedError(_("--from is after --to"))
            values.update(device_id=_device_id(conn, str(target.device)),
                          from_ts=iso(target.start), to_ts=iso(target.end))
        return _insert_hold(app, conn, scope, values, reason=reason, note=note, now=now,
                            clips=ids)


def place_review_hold(app: Avledger, conn: db.Connection, case_id: int, *,
                      decision_id: int, note: str, now: datetime) -> dict[str, Any]:
    """The legal-review hold on a case's footage, inside the decision's own transaction."""
    return _insert_hold(app, conn, "case", {"case_id": case_id, "device_id": None,
                                            "from_ts": None, "to_ts": None},
                        reason=LEGAL_REVIEW, note=note, now=now,
                        extra={"decision": decision_id})


def place_clips_hold(app: Avledger, conn: db.Connection, clip_ids: list[int], *, reason: str,
                     note: str, now: datetime, extra: dict[str, Any] | None = None
                     ) -> dict[str, Any]:
    """A hold on named clips inside the caller's transaction (a confirmed hold proposal);
    the caller has checked the actor's role."""
    return _insert_hold(app, conn, "clips", {"case_id": None, "device_id": None,
                                             "from_ts": None, "to_ts": None},
                        reason=reason, note=note, now=now, clips=unique_ids(clip_ids),
                        extra=extra)


def _insert_hold(app: Avledger, conn: db.Connection, scope: str, values: dict[str, Any],
                 *, reason: str, note: str, now: datetime, clips: list[int] | None = None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    cur = conn.execute(
        "INSERT INTO holds (scope, case_id, device_id, from_ts, to_ts, reason, note,"
        " placed_at, placed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (scope, values["case_id"], values["device_id"], values["from_ts"], values["to_ts"],
         reason, note, iso(now), app.actor.label))
    hold_id = int(cur.fetchone()[0])
    if clips:
        conn.executemany("INSERT INTO hold_clips (hold_id, clip_id) VALUES (?, ?)",
                         [(hold_id, c) for c in clips])
    covered = clips_under_hold(conn, hold_id)
    app.record(conn, "hold.placed", f"hold:{hold_id}", {
        "scope": scope, "reason": reason, "note": note, **values, **(extra or {}),
        "clips": covered[:1000], "clip_count": len(covered), "placed_at": iso(now)})
    returned = [c for c in covered
                if return_to_stored(app, conn, c, why="hold", details={"hold": hold_id})]
    _mirror_in_store(app, covered, now)
    hold = get_hold(conn, hold_id)
    hold["returned_from_pending"] = returned
    return hold


def release_hold(app: Avledger, hold_id: int, *, note: str, now: datetime) -> dict[str, Any]:
    """End a hold; nothing is deleted, the clips follow the retention rules again."""
    app.actor.require(action=_("release a hold"))
    with app.transaction() as conn:
        hold = get_hold(conn, hold_id)
        if hold["reason"] == LEGAL_REVIEW and not hold["released_at"]:
            number = hold["case_number"]
            raise RefusedError(
                _("hold {hold_id} keeps the footage of case {number} for its legal review; only "
                  "the review can release it").format(hold_id=hold_id, number=number),
                hint=_("avledger case review {number} --outcome approved|returned --note …").format(
                         number=number))
        app.actor.require(*RELEASE_ROLES, action=_("release a hold"))
        if not note.strip():
            raise RefusedError(_("releasing a hold needs a note saying why"))
        return _end_hold(app, conn, hold, note=note, now=now)


def end_review_hold(app: Avledger, conn: db.Connection, hold_id: int, *, note: str,
                    now: datetime, review_id: int, outcome: str) -> dict[str, Any]:
    """Release a legal-review hold as its review closes (inside the review's transaction)."""
    hold = get_hold(conn, hold_id)
    if hold["reason"] != LEGAL_REVIEW:
        raise RefusedError(_("hold {hold_id} is not a legal-review hold").format(hold_id=hold_id))
    return _end_hold(app, conn, hold, note=note, now=now,
                     extra={"review": review_id, "outcome": outcome})


def _end_hold(app: Avledger, conn: db.Connection, hold: dict[str, Any], *, note: str,
              now: datetime, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    hold_id = hold["id"]
    if hold["released_at"]:
        raise RefusedError(_("hold {hold_id} was already released on {released_at}").format(
                               hold_id=hold_id, released_at=hold['released_at']))
    conn.execute("UPDATE holds SET released_at = ?, released_by = ?, release_note = ?"
                 " WHERE id = ?", (iso(now), app.actor.label, note, hold_id))
    app.record(conn, "hold.released", f"hold:{hold_id}", {
        "note": note, "released_at": iso(now), "clip_count": hold["clip_count"],
        **(extra or {})})
    _mirror_in_store(app, clips_under_hold(conn, hold_id), now)
    return get_hold(conn, hold_id)


def _mirror_in_store(app: Avledger, clip_ids: list[int], now: datetime) -> None:
    """Set or clear the store's own legal hold on these clips' objects, inside the hold's
    transaction: when the store cannot be told, the hold change is not made either."""
    store_locks.sync_clips(app, clip_ids, now)


def _describe(conn: db.Connection, row: db.Row) -> dict[str, Any]:
    item = dict(row)
    if row["scope"] == "case":
        k = conn.execute("SELECT number, name FROM cases WHERE id = ?",
                         (row["case_id"],)).fetchone()
        item["case_number"] = k["number"]
        item["target"] = f"case {k['number']} ({k['name']})"
    elif row["scope"] == "device":
        serial = conn.execute("SELECT serial FROM devices WHERE id = ?",
                              (row["device_id"],)).fetchone()[0]
        item["device_serial"] = serial
        item["target"] = (f"recorder {serial} {row['from_ts'][:16].replace('T', ' ')} – "
                          f"{row['to_ts'][:16].replace('T', ' ')} UTC")
    else:
        n = conn.execute("SELECT COUNT(*) FROM hold_clips WHERE hold_id = ?",
                         (row["id"],)).fetchone()[0]
        item["target"] = f"{n} named clip(s)"
    item["active"] = row["released_at"] is None
    item["clip_count"] = len(clips_under_hold(conn, row["id"]))
    return item


def get_hold(conn: db.Connection, hold_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM holds WHERE id = ?", (hold_id,)).fetchone()
    if row is None:
        raise NotFoundError(_("no hold {hold_id}").format(hold_id=hold_id),
                            hint=_("see 'avledger hold list'"))
    return _describe(conn, row)


def list_holds(conn: db.Connection, *, include_released: bool = False) -> list[dict[str, Any]]:
    where = "" if include_released else "WHERE released_at IS NULL"
    rows = conn.execute(f"SELECT * FROM holds {where} ORDER BY id").fetchall()
    return [_describe(conn, r) for r in rows]


def holds_for_clip(conn: db.Connection, clip_id: int, *,
                   include_released: bool = False) -> list[dict[str, Any]]:
    """The holds covering one clip, for 'clips show' and the retention explanation.

    Each item: id, scope, reason, note, placed_at, placed_by, released_at, active, target.
    """
    active = "" if include_released else " AND h.released_at IS NULL"
    rows = conn.execute(
        "SELECT h.* FROM holds h WHERE (("
        "   h.scope = 'clips' AND EXISTS (SELECT 1 FROM hold_clips hc"
        "     WHERE hc.hold_id = h.id AND hc.clip_id = :c))"
        " OR (h.scope = 'case' AND EXISTS (SELECT 1 FROM clip_cases cc"
        "     WHERE cc.case_id = h.case_id AND cc.clip_id = :c))"
        " OR (h.scope = 'device' AND EXISTS (SELECT 1 FROM clips c"
        f"     WHERE c.id = :c AND {DEVICE_RANGE})))" + active + " ORDER BY h.id",
        {"c": clip_id}).fetchall()
    out = []
    for row in rows:
        item = _describe(conn, row)
        out.append({k: item[k] for k in ("id", "scope", "reason", "note", "placed_at",
                                         "placed_by", "released_at", "active", "target")})
    return out
