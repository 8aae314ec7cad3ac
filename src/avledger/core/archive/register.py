"""The catalog of archive discs: where each disc of each copy is kept, when last verified."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from avledger.core.app import Avledger
from avledger.core.archive.verify import DiscReport
from avledger.errors import NotFoundError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso

LOCATE_ROLES = ("records_manager", "clerk")


def get_set(conn: db.Connection, set_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM archive_sets WHERE id = ? AND status = 'complete'",
                       (set_id,)).fetchone()
    if row is None:
        raise NotFoundError(_("no archive set {set_id}").format(set_id=set_id),
                            hint=_("see 'avledger archive list'"))
    item = dict(row)
    item["scope"] = json.loads(item["scope"])
    item["discs_list"] = [dict(r) for r in conn.execute(
        "SELECT * FROM archive_discs WHERE set_id = ? ORDER BY copy_no, disc_no", (set_id,))]
    item["clip_ids"] = [r[0] for r in conn.execute(
        "SELECT clip_id FROM archive_items WHERE set_id = ? ORDER BY disc_no, path", (set_id,))]
    return item


def list_discs(conn: db.Connection, *, now: datetime, verify_days: int,
               due_only: bool = False, set_id: int | None = None) -> list[dict[str, Any]]:
    """Every disc of every copy; 'due' when not verified within ``verify_days``."""
    cutoff = iso(now - timedelta(days=verify_days))
    where = "s.status = 'complete'" + (" AND s.id = ?" if set_id is not None else "")
    rows = conn.execute(
        "SELECT d.*, s.title, s.discs, s.copies, s.media, s.manifest_sha256"
        " FROM archive_discs d JOIN archive_sets s ON s.id = d.set_id"
        f" WHERE {where} ORDER BY d.set_id, d.copy_no, d.disc_no",
        (set_id,) if set_id is not None else ()).fetchall()
    out = []
    for r in rows:
        item = dict(r)
        item["due"] = r["last_verified_at"] is None or r["last_verified_at"] < cutoff
        item["verify_due_at"] = (iso(datetime.fromisoformat(r["last_verified_at"])
                                     + timedelta(days=verify_days))
                                 if r["last_verified_at"] else None)
        if item["due"] or not due_only:
            out.append(item)
    return out


def set_location(app: Avledger, set_id: int, copy_no: int, location: str, *,
                 now: datetime, disc_no: int | None = None) -> list[dict[str, Any]]:
    """Record where a copy (or one of its discs) is kept."""
    app.actor.require(*LOCATE_ROLES, action=_("record where archive discs are kept"))
    if not location.strip():
        raise RefusedError(_("say where the discs are kept (--location)"))
    with app.transaction() as conn:
        get_set(conn, set_id)
        params: list[Any] = [location, iso(now), set_id, copy_no]
        extra = ""
        if disc_no is not None:
            extra, params = " AND disc_no = ?", params + [disc_no]
        cur = conn.execute("UPDATE archive_discs SET location = ?, located_at = ?"
                           f" WHERE set_id = ? AND copy_no = ?{extra}", params)
        if not cur.rowcount:
            raise NotFoundError((_("archive set {set_id} has no copy {copy_no} disc {disc_no}")
                                 if disc_no is not None
                                 else _("archive set {set_id} has no copy {copy_no}")).format(
                                    set_id=set_id, copy_no=copy_no, disc_no=disc_no))
        app.record(conn, "archive.located", f"archive:{set_id}", {
            "copy": copy_no, "disc": disc_no, "location": location})
    return list_discs(app.catalog.conn, now=now, verify_days=0, set_id=set_id)


def lookup(conn: db.Connection, set_id: int, copy_no: int,
           disc_no: int) -> tuple[str, str | None] | None:
    row = conn.execute(
        "SELECT s.manifest_sha256, d.image_sha256 FROM archive_discs d JOIN archive_sets s"
        " ON s.id = d.set_id WHERE d.set_id = ? AND d.copy_no = ? AND d.disc_no = ?"
        " AND s.status = 'complete'", (set_id, copy_no, disc_no)).fetchone()
    return (row[0], row[1]) if row else None


def record_verification(app: Avledger, report: DiscReport, now: datetime) -> None:
    """Remember the result on the disc's row and in the ledger (discs of this catalog only)."""
    if not report.in_catalog:
        return
    with app.transaction() as conn:
        detail = json.dumps(report.problems[:20], ensure_ascii=False)
        conn.execute("UPDATE archive_discs SET last_verified_at = ?, last_verify_ok = ?,"
                     " last_verify_detail = ? WHERE set_id = ? AND copy_no = ? AND disc_no = ?",
                     (iso(now), int(report.ok), detail, report.set_id, report.copy_no,
                      report.disc_no))
        app.record(conn, "archive.verified", f"archive:{report.set_id}", {
            "copy": report.copy_no, "disc": report.disc_no, "source": report.source,
            "ok": report.ok, "files": report.files_checked, "bytes": report.bytes_checked,
            "problems": report.problems[:20]})


def verify_disc(app: Avledger, source: str, *, now: datetime,
                progress: Any = None) -> DiscReport:
    """Re-read a disc or image, check it, and record the result."""
    from avledger.core.archive.verify import read_disc

    app.actor.require(action=_("verify archive discs"))
    conn = app.catalog.conn
    report = read_disc(source, lookup=lambda s, c, d: lookup(conn, s, c, d),
                       public_key=app.public_key(), progress=progress)
    record_verification(app, report, now)
    return report
