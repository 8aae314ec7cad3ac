"""A clip's custody report: everything that happened to one clip, each event proved.

For a court, a review meeting or a complaint: the clip's identity (BLAKE3 and SHA-256, size,
duration), its recording times as the recorder told them and as corrected with the clock
measurement behind them, the officer and the checkout, its cases and holds, its retention
plan, and every ledger event that touched it (``custody_events``) — each with its sequence
number and an RFC 6962 inclusion proof against the signed checkpoint printed at the end. The
JSON edition carries the events and proofs whole (``Report.evidence``), so the standalone
verifier checks it offline (``verify_ledger.py --custody REPORT.json --key …``).

Who may read it: anyone on the roster, for footage of cases without confidentiality; for
footage of a confidential case (personal privacy, commercial or state secret) only the
records office, leaders, auditors and that case's handlers — the report names requesters,
purposes and the case. Making it is not a look-up of the footage (no picture or sound is
shown, so it is no entry in the 查阅登记簿), but the report leaves the building, so making it
is a ledger event (``clip.custody_reported``), made before the report and proved in it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from avledger import verifier
from avledger.core import identity
from avledger.core.app import Avledger
from avledger.core.archive.content import hash_clips
from avledger.core.archive.selection import ArchiveClip
from avledger.core.clips import get_clip
from avledger.core.reports.build import made_by, snapshot
from avledger.core.reports.custody_events import history, related
from avledger.core.reports.model import Column, Figure, Note, Report, Section, Table
from avledger.core.retention.holds import holds_for_clip
from avledger.core.retention.sweep import explain as retention_plan
from avledger.core.witness import client as witness_client
from avledger.errors import AvledgerError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.store.ledger import Event
from avledger.store.proofs import MerkleTree, latest_signed
from avledger.timestamps import display, iso, utcnow

EVENT = "clip.custody_reported"
READ_ANY = ("records_manager", "leader", "auditor")
FORMATS = ("html", "pdf", "md", "json")
DETAIL_CHARS = 400  # a printed payload longer than this is cut (the JSON edition has it all)


def check_may_read(app: Avledger, clip_id: int) -> None:
    """Refuse whoever may not read this clip's custody report (see the module doc)."""
    actor = app.actor
    actor.require(action=_("read a clip's custody report"))
    conn = app.catalog.conn
    secret = conn.execute(
        "SELECT k.id, k.number, k.confidentiality FROM clip_cases cc JOIN cases k"
        " ON k.id = cc.case_id WHERE cc.clip_id = ? AND k.confidentiality != 'none'",
        (clip_id,)).fetchall()
    if not secret or actor.login == identity.SYSTEM_ACTOR or actor.roles & set(READ_ANY):
        return
    for case in secret:
        handlers = {r[0] for r in conn.execute(
            "SELECT badge FROM case_handlers WHERE case_id = ?", (case["id"],))}
        if actor.badge not in handlers:
            raise RefusedError(
                _("{who} may not read the custody report of clip {clip}: it is footage of "
                  "case {case} ({level}), readable only by the records office, leaders, "
                  "auditors and the case's handlers").format(
                    who=actor.name or actor.login, clip=clip_id, case=case["number"],
                    level=case["confidentiality"]),
                hint=_("ask the records office for the report"))


def make_report(app: Avledger, clip_id: int, *, fmt: str, lang: str,
                now: datetime | None = None) -> Report:
    """Check who asks, record that the report is made, sign, and build it."""
    get_clip(app, clip_id)  # a clip that does not exist is 'not found', not 'refused'
    check_may_read(app, clip_id)
    with app.transaction() as conn:
        app.record(conn, EVENT, f"clip:{clip_id}", {"format": fmt, "lang": lang})
    app.checkpoint()
    return build(app, clip_id, now=now)


def build(app: Avledger, clip_id: int, *, now: datetime | None = None) -> Report:
    """The report under the latest signed checkpoint; changes nothing."""
    conn = app.catalog.conn
    moment = now or utcnow()
    tz = app.config.timezone
    with snapshot(conn):  # the checkpoint covers every event shown
        clip = get_clip(app, clip_id)
        head = latest_signed(conn)
        if head is None:
            raise RefusedError(_("the ledger has no signed checkpoint yet"),
                               hint="avledger ledger checkpoint")
        measurements = _measurements(conn, clip)
        events = history(conn, related(conn, clip, [m["id"] for m in measurements]),
                         head.size)
        tree = MerkleTree.of_ledger(conn, head.size)
        proofs = [tree.inclusion(e.seq, head.size) for e in events]
        plan = retention_plan(app, clip_id, moment)
        sections = [_identity(app, conn, clip), _times(clip, measurements, tz),
                    _officer(app, conn, clip, tz), _links(plan, conn, clip_id, tz),
                    _retention(plan, tz), _events(events, proofs, tz)]
        state = ledger_store.state(conn)
    note = witness_client.with_cosignatures(app.config, head.note, head.size)
    meta = {
        "kind": "custody", "clip": clip_id, "timezone": tz, "unit": None,
        "site_unit": str(app.config.get("site.unit")),
        "generated_at": iso(moment), "generated_by": made_by(app.actor),
        "ledger": {"events": state.size, "head": state.head},
        "checkpoint": {"size": head.size, "note": note},
        "key_fingerprint": verifier.grouped(verifier.fingerprint(app.public_key())),
    }
    evidence = {
        "format": verifier.CUSTODY_FORMAT, "clip": clip_id, "blake3": clip["digest"],
        "public_key": app.public_key(), "checkpoint": note,
        "events": [e.as_dict() for e in events], "proofs": proofs,
    }
    report = Report("custody", meta, sections, evidence=evidence)
    report.meta["digest"] = report.digest()
    return report


# ---- sections -------------------------------------------------------------------------------


def _sha256(app: Avledger, conn: db.Connection, clip: dict[str, Any]) -> tuple[str | None, str]:
    """The clip's SHA-256 and where it comes from: hashed now from the stored object (which
    also re-checks its BLAKE3), else as recorded when it was burned to disc."""
    stored = conn.execute("SELECT quarantined_at FROM objects WHERE digest = ?",
                          (clip["digest"],)).fetchone()
    if clip["status"] != "purged" and stored is not None and not stored[0]:
        one = ArchiveClip(int(clip["id"]), clip["digest"], int(clip["size"]), clip["serial"],
                          clip["source_path"], clip["corrected_start"], clip["ingested_at"],
                          (), ())
        try:
            return hash_clips(app.store, [one])[one.id].sha256, "hashed-now"
        except (AvledgerError, OSError):
            return None, "unreadable"  # said as such: store verify will quarantine it
    row = conn.execute("SELECT sha256 FROM archive_items WHERE clip_id = ? LIMIT 1",
                       (clip["id"],)).fetchone()
    return (str(row[0]), "archive-manifest") if row else (None, "unknown")


def _identity(app: Avledger, conn: db.Connection, clip: dict[str, Any]) -> Section:
    sha, source = _sha256(app, conn, clip)
    obj = conn.execute("SELECT verify_status, last_verified_at, quarantined_at FROM objects"
                       " WHERE digest = ?", (clip["digest"],)).fetchone()
    tz = app.config.timezone
    figures = [
        Figure("clip", clip["id"], "id"), Figure("clip_status", clip["status"], "code"),
        Figure("blake3", clip["digest"], "mono"), Figure("sha256", sha, "mono"),
        Figure("size", clip["size"], "bytes"),
        Figure("duration_s", clip["duration_seconds"], "num"),
        Figure("recorder", clip["serial"], "text"),
        Figure("source_path", clip["source_path"], "text"),
        Figure("last_verified", display(obj["last_verified_at"], tz) if obj else None, "time"),
        Figure("verify_status", (obj["verify_status"] or "never-verified") if obj else None,
               "code"),
    ]
    return Section("custody_identity", figures=figures,
                   notes=[Note(f"note.sha256_{source}")])


def _measurements(conn: db.Connection, clip: dict[str, Any]) -> list[dict[str, Any]]:
    """The docking's clock measurement behind the corrected times, and the last clock sync
    before it that the drift was interpolated from."""
    if not clip.get("clock_measurement_id"):
        return []
    dock = conn.execute("SELECT * FROM clock_measurements WHERE id = ?",
                        (clip["clock_measurement_id"],)).fetchone()
    if dock is None:
        return []
    sync = conn.execute(
        "SELECT * FROM clock_measurements WHERE device_id = ? AND kind = 'sync'"
        " AND measured_at <= ? ORDER BY measured_at DESC LIMIT 1",
        (dock["device_id"], dock["measured_at"])).fetchone()
    return [dict(m) for m in (sync, dock) if m is not None]


def _seconds(value: float | None) -> str | None:
    return None if value is None else f"{value:+.3f} s"


def _times(clip: dict[str, Any], measurements: list[dict[str, Any]], tz: str) -> Section:
    figures = [
        Figure("device_start", display(clip["device_start"], tz), "time"),
        Figure("device_end", display(clip["device_end"], tz), "time"),
        Figure("corrected_start", display(clip["corrected_start"], tz), "time"),
        Figure("corrected_end", display(clip["corrected_end"], tz), "time"),
        Figure("drift_at_recording", _seconds(clip["drift_seconds"]), "text"),
        Figure("ingested", display(clip["ingested_at"], tz), "time"),
        Figure("deadline", display(clip["deadline"], tz), "time"),
        Figure("window", None if clip["on_time"] is None else
               ("on-time" if clip["on_time"] else "late"), "code"),
    ]
    rows = [[m["id"], m["kind"], m["source"], display(m["measured_at"], tz),
             display(m["device_time"], tz), display(m.get("said_at"), tz),
             _seconds(m["drift_seconds"]),
             None if m.get("uncertainty_seconds") is None else f"±{m['uncertainty_seconds']} s",
             m.get("reference"), m["status"],
             None if m["host_synced"] is None else ("yes" if m["host_synced"] else "no")]
            for m in measurements]
    table = Table("clock", [Column("measurement", "id"), Column("clock_kind", "code"),
                            Column("source", "code"), Column("measured", "time"),
                            Column("device_time", "time"), Column("said_at", "time"),
                            Column("drift", "text"), Column("uncertainty", "text"),
                            Column("reference", "code"), Column("status", "code"),
                            Column("host_synced", "code")], rows)
    notes = [Note("note.custody_flags", {"flags": ", ".join(clip["flags"])})] \
        if clip["flags"] else []
    return Section("custody_times", figures=figures, tables=[table], notes=notes)


def _officer(app: Avledger, conn: db.Connection, clip: dict[str, Any], tz: str) -> Section:
    person = identity.find_person(app.config, clip["badge"]) if clip["badge"] else None
    figures = [Figure("badge", clip["badge"], "text"),
               Figure("officer", (person or {}).get("name"), "text"),
               Figure("officer_unit", (person or {}).get("unit"), "text"),
               Figure("attribution", clip["attribution"], "code")]
    rows = []
    if clip.get("checkout_id"):
        co = conn.execute("SELECT * FROM checkouts WHERE id = ?",
                          (clip["checkout_id"],)).fetchone()
        if co is not None:
            rows.append([co["id"], clip["serial"], co["badge"], co["task"],
                         display(co["out_at"], tz), co["out_by"], display(co["in_at"], tz),
                         co["in_by"], "yes" if co["remote"] else "no"])
    table = Table("checkout", [Column("checkout", "id"), Column("device"), Column("badge"),
                               Column("task"), Column("out", "time"), Column("out_by"),
                               Column("returned", "time"), Column("in_by"),
                               Column("remote", "code")], rows)
    return Section("custody_officer", figures=figures, tables=[table])


def _links(plan: dict[str, Any], conn: db.Connection, clip_id: int, tz: str) -> Section:
    cases = [[c["number"], c["name"], c["enforcement_type"], c["status"],
              display(c["closed_at"], tz)] for c in plan["cases"]]
    holds = [[h["id"], h["scope"], h["reason"], h["note"], display(h["placed_at"], tz),
              h["placed_by"], display(h["released_at"], tz)]
             for h in holds_for_clip(conn, clip_id, include_released=True)]
    discs = [[r["set_id"], r["copy_no"], r["disc_no"], r["volume_id"], r["location"],
              display(r["last_verified_at"], tz),
              None if r["last_verify_ok"] is None else
              ("verified-ok" if r["last_verify_ok"] else "verify-failed")]
             for r in conn.execute(
                 "SELECT d.* FROM archive_discs d JOIN archive_items i ON i.set_id = d.set_id"
                 " AND i.disc_no = d.disc_no WHERE i.clip_id = ? ORDER BY d.set_id, d.copy_no",
                 (clip_id,))]
    return Section("custody_links", tables=[
        Table("cases", [Column("case"), Column("case_name"), Column("enforcement_type", "code"),
                        Column("state", "code"), Column("closed", "time")], cases),
        Table("holds", [Column("hold", "id"), Column("scope", "code"),
                        Column("reason", "code"), Column("note"), Column("placed_at", "time"),
                        Column("actor"), Column("released_at", "time")], holds),
        Table("discs", [Column("set", "id"), Column("copy", "id"), Column("disc", "id"),
                        Column("volume"), Column("location"),
                        Column("last_verified", "time"), Column("result", "code")], discs)])


def _retention(plan: dict[str, Any], tz: str) -> Section:
    tomb = plan.get("tombstone") or {}
    figures = [
        Figure("expires", display(plan["expires_at"], tz) if plan["expires_at"] else None,
               "time"),
        Figure("basis", plan["basis"].split(":")[0], "code"),
        Figure("kept_because", plan["kept_because"], "code"),
        Figure("purge_due", display(plan["purge_due"], tz) if plan["purge_due"] else None,
               "time"),
        Figure("purged_at", display(tomb.get("purged_at"), tz) if tomb else None, "time"),
    ]
    key = ("note.custody_purged" if tomb else "note.custody_kept" if plan["expires_at"] is None
           else "note.custody_expires")
    return Section("custody_retention", figures=figures, notes=[Note(key, {
        "basis": plan["basis"], "when": display(plan["expires_at"], tz)})])


def _details(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS] + " …"


def _events(events: list[Event], proofs: list[dict[str, Any]], tz: str) -> Section:
    rows = [[e.seq, display(e.ts, tz), e.actor, e.type, e.type, e.subject,
             _details(e.payload)] for e in events]
    proof_rows = [[e.seq, e.hash, " ".join(p["proof"])] for e, p in zip(events, proofs,
                                                                         strict=True)]
    size = int(proofs[0]["size"]) if proofs else 0
    return Section(
        "custody_events", figures=[Figure("events", len(events), "int"),
                                   Figure("proved_against", size, "int")],
        tables=[Table("events", [Column("seq", "id"), Column("time", "time"),
                                 Column("actor"), Column("event", "mono"),
                                 Column("what", "code"), Column("subject", "mono"),
                                 Column("details")], rows),
                Table("proofs", [Column("seq", "id"), Column("event_hash", "mono"),
                                 Column("proof", "mono")], proof_rows,
                      note=Note("note.custody_proofs", {"size": size}))])
