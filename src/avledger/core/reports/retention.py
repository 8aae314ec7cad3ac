"""Retention, holds and archive discs (rule B, Arts. 15-16).

Purges, holds placed and released, and archive sets made are counted in the period. Pending
purge, active holds and the verification state of the archive discs are the state *now*, when
the report is made: the catalog keeps the present state of these, and their history is in the
custody ledger. Clips linked to cases are those of the period's footage. Site-wide.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from avledger.core.cases.registry import ENFORCEMENT_TYPES
from avledger.core.reports.calc import local
from avledger.core.reports.context import Context, clip_time
from avledger.core.reports.model import Chart, Column, Figure, Note, Section, Table
from avledger.core.retention.held import clips_under_hold, held_clip_ids
from avledger.core.retention.holds import REASONS
from avledger.timestamps import iso

DISC_STATES = ("verified-ok", "verify-failed", "never-verified", "verify-due")


def build(ctx: Context) -> Section:
    conn = ctx.conn
    start, end = ctx.period.start, ctx.period.end
    months = ctx.period.months()
    per_month = [(int(n), int(size)) for n, size in ctx.monthly(
        "SELECT COUNT(*), TOTAL(size) FROM tombstones INDEXED BY reports_tombstones_time",
        "purged_at")]
    manual, freed = conn.execute(
        "SELECT TOTAL(CASE WHEN how = 'manual' THEN 1 ELSE 0 END),"
        " TOTAL(CASE WHEN content_deleted != 0 THEN size END)"
        " FROM tombstones INDEXED BY reports_tombstones_time WHERE purged_at >= ?"
        " AND purged_at < ?", (start, end)).fetchone()
    purged = sum(n for n, _ in per_month)
    pending = conn.execute("SELECT COUNT(*), TOTAL(c.size) FROM retention_pending p"
                           " JOIN clips c ON c.id = p.clip_id"
                           " WHERE c.status = 'pending_purge'").fetchone()
    holds = _holds(ctx)
    links = _case_links(ctx)
    sets, discs = _archive(ctx)
    section = Section("retention", scope="site", figures=[
        Figure("purged", purged),
        Figure("purged_by_sweep", purged - int(manual)),
        Figure("purged_manually", int(manual)),
        Figure("bytes_freed", int(freed), "bytes"),
        Figure("pending_now", int(pending[0])),
        Figure("pending_bytes_now", int(pending[1]), "bytes"),
        Figure("holds_placed", sum(h[0] for h in holds.values())),
        Figure("holds_released", sum(h[1] for h in holds.values())),
        Figure("holds_active_now", sum(h[2] for h in holds.values())),
        Figure("clips_held_now", len(held_clip_ids(conn))),
        Figure("clips_case_linked", sum(v[1] for v in links.values())),
        Figure("archive_sets", len(sets)),
        Figure("archive_discs", sum(int(r[4]) * int(r[5]) for r in sets)),
        Figure("discs_verify_failed", discs["verify-failed"]),
    ], notes=[Note("note.retention_now")])
    section.tables = [
        Table("purged_by_month", [Column("month"), Column("purged", "int"),
                                  Column("bytes", "bytes")],
              [[m.label, c, b] for m, (c, b) in zip(months, per_month, strict=True)]),
        Table("holds_by_reason", [Column("reason", "code"), Column("placed", "int"),
                                  Column("released", "int"), Column("active_now", "int"),
                                  Column("clips_held_now", "int")],
              [[r, *v] for r, v in holds.items()]),
        Table("case_links", [Column("enforcement_type", "code"), Column("cases", "int"),
                             Column("clips", "int")],
              [[t, *v] for t, v in links.items()]),
        Table("archive_sets", [Column("set", "id"), Column("title"), Column("made", "time"),
                               Column("clips", "int"), Column("copies", "int"),
                               Column("discs_per_copy", "int"), Column("verified_ok", "int"),
                               Column("verify_failed", "int"),
                               Column("never_verified", "int")], sets),
        Table("disc_state", [Column("state", "code"), Column("discs", "int")],
              [[s, discs[s]] for s in DISC_STATES]),
    ]
    section.charts = [
        Chart("purged_per_month", "bar", "purged_by_month", "month", ("purged",)),
        Chart("holds_by_reason", "bar", "holds_by_reason", "reason",
              ("placed", "active_now")),
        Chart("disc_state", "bar", "disc_state", "state", ("discs",)),
    ]
    return section


def _holds(ctx: Context) -> dict[str, list[int]]:
    """reason -> [placed in period, released in period, active now, clips held now]."""
    out = {r: [0, 0, 0, 0] for r in REASONS}
    start, end = ctx.period.start, ctx.period.end
    for hold_id, reason, placed, released in ctx.conn.execute(
            "SELECT id, reason, placed_at, released_at FROM holds"):
        acc = out.setdefault(reason, [0, 0, 0, 0])
        acc[0] += start <= placed < end
        acc[1] += released is not None and start <= released < end
        if released is None:
            acc[2] += 1
            acc[3] += len(clips_under_hold(ctx.conn, hold_id))
    return out


def _case_links(ctx: Context) -> dict[str, list[int]]:
    """enforcement type -> [cases, clips] for the period's footage linked to cases."""
    out = {t: [0, 0] for t in ENFORCEMENT_TYPES}
    for etype, cases, clips in ctx.conn.execute(
            "SELECT k.enforcement_type, COUNT(DISTINCT k.id), COUNT(DISTINCT cc.clip_id)"
            " FROM clip_cases cc JOIN cases k ON k.id = cc.case_id"
            " JOIN clips c ON c.id = cc.clip_id"
            f" WHERE {clip_time('c')} >= ? AND {clip_time('c')} < ?"
            " GROUP BY k.enforcement_type", (ctx.period.start, ctx.period.end)):
        out[etype] = [cases, clips]
    return out


def _archive(ctx: Context) -> tuple[list[list[Any]], dict[str, int]]:
    """Sets made in the period (with their discs' state), and every disc's state now."""
    verify_days = int(ctx.config.get("archive.verify_days"))
    due_before = iso(ctx.now - timedelta(days=verify_days))
    states = dict.fromkeys(DISC_STATES, 0)
    per_set: dict[int, list[int]] = {}
    for set_id, verified_at, ok in ctx.conn.execute(
            "SELECT d.set_id, d.last_verified_at, d.last_verify_ok FROM archive_discs d"
            " JOIN archive_sets s ON s.id = d.set_id WHERE s.status = 'complete'"):
        state = _disc_state(verified_at, ok, due_before)
        states[state] += 1
        acc = per_set.setdefault(set_id, [0, 0, 0])
        if state in ("verified-ok", "verify-due") and ok:
            acc[0] += 1
        elif state == "verify-failed":
            acc[1] += 1
        elif verified_at is None:
            acc[2] += 1
    sets = [[r[0], r[1], r[2], r[3], r[4], r[5], *per_set.get(r[0], [0, 0, 0])]
            for r in ctx.conn.execute(
                "SELECT id, title, created_at, clips, copies, discs FROM archive_sets"
                " WHERE status = 'complete' AND created_at >= ? AND created_at < ?"
                " ORDER BY id", (ctx.period.start, ctx.period.end))]
    for row in sets:
        row[2] = local(str(row[2]), ctx.tz)
    return sets, states


def _disc_state(verified_at: str | None, ok: int | None, due_before: str) -> str:
    if verified_at is None:
        return "never-verified"
    if not ok:
        return "verify-failed"
    return "verify-due" if verified_at < due_before else "verified-ok"
