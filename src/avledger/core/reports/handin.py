"""The 24-hour window (rule B, Art. 13): footage handed in on time, late, and overdue recorders.

A clip is judged at ingest (``clips.on_time``); a late clip carries an explanation once someone
gives one (``avledger clips explain``). A checkout is *overdue* when its recorder went the whole
window without docking: counted in the period in which the window ran out. Remote checkouts
(out-of-town, continuous work) are never overdue while out: their footage is due within the
window after they come back, which the clip judgement already covers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from avledger.core.desk.preuse import is_overdue
from avledger.core.reports.calc import bin_index, bin_labels, local, rate
from avledger.core.reports.context import CLIP_TIME, Context
from avledger.core.reports.model import Chart, Column, Figure, Note, Section, Table
from avledger.timestamps import iso, parse_iso

LATE_EDGES = (6, 24, 72, 168)  # hours past the deadline
LIST_LIMIT = 30
UNATTRIBUTED = "-"


def build(ctx: Context) -> Section:
    months = ctx.period.months()
    per_officer: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    judged = late = explained = unknown = 0
    for g in ctx.who():
        if g.on_time is None:
            unknown += g.clips
            continue
        judged += g.clips
        acc = per_officer[g.badge or UNATTRIBUTED]
        acc[0] += g.clips
        if g.on_time == 0:
            late += g.clips
            explained += g.explained
            acc[1] += g.clips
            acc[2] += g.explained
    bins, unexplained_rows, unexplained_total = _lateness(ctx)
    overdue_rows = _overdue(ctx)
    out_overdue = _out_overdue_at(ctx)
    section = Section("handin", figures=[
        Figure("judged", judged),
        Figure("on_time", judged - late),
        Figure("late", late),
        Figure("on_time_rate", rate(judged - late, judged), "pct"),
        Figure("late_explained", explained),
        Figure("late_unexplained", late - explained),
        Figure("timing_unknown", unknown),
        Figure("overdue_checkouts", len(overdue_rows)),
        Figure("overdue_at_end", out_overdue),
    ])
    ordered = sorted(per_officer.items(), key=lambda kv: (
        rate(kv[1][0] - kv[1][1], kv[1][0]) or 101.0, -kv[1][1], kv[0]))
    officer_rows: list[list[Any]] = [[b, ctx.scope.name(b) if b != UNATTRIBUTED else "",
                                      j, lt, ex, lt - ex, rate(j - lt, j)]
                                     for b, (j, lt, ex) in ordered]
    edges = list(LATE_EDGES)
    section.tables = [
        Table("by_month", [Column("month"), Column("judged", "int"), Column("late", "int"),
                           Column("on_time_rate", "pct")],
              [[m.label, t.judged, t.late, rate(t.judged - t.late, t.judged)]
               for m, t in zip(months, ctx.month_totals(), strict=True)]),
        Table("by_officer", [Column("badge"), Column("name"), Column("judged", "int"),
                             Column("late", "int"), Column("explained", "int"),
                             Column("unexplained", "int"), Column("on_time_rate", "pct")],
              officer_rows, note=Note("note.unattributed_row")),
        Table("lateness", [Column("hours_late"), Column("late", "int"),
                           Column("explained", "int")],
              [[label, n, e] for label, (n, e) in zip(bin_labels(edges, " h"), bins,
                                                      strict=True)]),
        Table("late_unexplained", [Column("clip", "id"), Column("recorded", "time"),
                                   Column("device"), Column("badge"), Column("name"),
                                   Column("handed_in", "time"), Column("hours_late", "num")],
              unexplained_rows,
              total_rows=unexplained_total if unexplained_total > LIST_LIMIT else None,
              note=Note("note.explain_hint")),
        Table("overdue", [Column("checkout", "id"), Column("device"), Column("badge"),
                          Column("name"), Column("out", "time"), Column("returned", "time"),
                          Column("hours_out", "num")],
              overdue_rows[:LIST_LIMIT],
              total_rows=len(overdue_rows) if len(overdue_rows) > LIST_LIMIT else None,
              note=Note("note.overdue_rule", {"hours": int(ctx.window_hours)})),
    ]
    section.charts = [
        Chart("on_time_per_month", "line", "by_month", "month", ("on_time_rate",),
              percent=True),
        Chart("late_per_month", "bar", "by_month", "month", ("late",)),
        Chart("lateness", "hist", "lateness", "hours_late", ("late",)),
        Chart("lowest_on_time", "hbar", "by_officer", "badge", ("on_time_rate",), limit=15,
              percent=True, labels=("name", "badge")),
    ]
    return section


def _lateness(ctx: Context) -> tuple[list[list[int]], list[list[Any]], int]:
    """Late clips by hours past the deadline; the unexplained ones, latest first (only the
    first LIST_LIMIT are written out)."""
    bins = [[0, 0] for _ in range(len(LATE_EDGES) + 1)]
    unexplained: list[tuple[float, int, int, str | None, str | None, str]] = []
    cur = ctx.conn.execute(
        "SELECT id, device_id, badge, corrected_start, ingested_at,"
        " (julianday(ingested_at) - julianday(deadline)) * 24,"
        " late_reason IS NOT NULL AND trim(late_reason) != ''"
        f" FROM clips INDEXED BY clips_late WHERE on_time = 0 AND {CLIP_TIME} >= ?"
        f" AND {CLIP_TIME} < ?", (ctx.period.start, ctx.period.end))
    for clip_id, device_id, badge, start, ingested, late_h, has_reason in cur:
        if not ctx.scope.has_clip(badge, device_id):
            continue
        late_h = round(late_h or 0.0, 1)
        b = bins[bin_index(late_h, LATE_EDGES)]
        b[0] += 1
        if has_reason:
            b[1] += 1
        else:
            unexplained.append((late_h, clip_id, device_id, badge, start, ingested))
    unexplained.sort(key=lambda r: (-r[0], r[1]))
    rows = [[clip_id, local(start, ctx.tz), ctx.scope.serial(device_id), badge or UNATTRIBUTED,
             ctx.scope.name(badge), local(ingested, ctx.tz), late_h]
            for late_h, clip_id, device_id, badge, start, ingested in unexplained[:LIST_LIMIT]]
    return bins, rows, len(unexplained)


def _overdue(ctx: Context) -> list[list[Any]]:
    """Checkouts whose window ran out in the period before their recorder docked."""
    window = timedelta(hours=ctx.window_hours)
    horizon = ctx.horizon
    earliest = iso(parse_iso(ctx.period.start) - window)
    # A checkout handed back within the window was never overdue: SQL leaves those out
    # before looking up the first docking of the rest.
    rows = ctx.conn.execute(
        "SELECT c.id, c.device_id, c.badge, c.out_at, c.in_at,"
        " (SELECT MIN(k.started_at) FROM docks k WHERE k.device_id = c.device_id"
        "   AND k.started_at > c.out_at) AS first_dock, d.last_docked_at"
        " FROM checkouts c JOIN devices d ON d.id = c.device_id"
        " WHERE c.remote = 0 AND c.out_at >= ? AND c.out_at < ?"
        " AND (c.in_at IS NULL OR julianday(c.in_at) - julianday(c.out_at) > ?)"
        " ORDER BY c.out_at, c.id",
        (earliest, ctx.period.end, ctx.window_hours / 24)).fetchall()
    found: list[list[Any]] = []
    start, end = parse_iso(ctx.period.start), ctx.period.end_moment
    for r in rows:
        if not ctx.scope.has_officer(r["badge"], r["device_id"]):
            continue
        out = parse_iso(r["out_at"])
        ends = [parse_iso(t) for t in (r["first_dock"], r["in_at"]) if t]
        if r["last_docked_at"] and r["last_docked_at"] > r["out_at"]:
            ends.append(parse_iso(r["last_docked_at"]))
        returned = min(ends) if ends else None
        due = out + window
        if not start <= due < end or due >= horizon:
            continue
        if returned is not None and returned <= due:
            continue
        until = returned if returned is not None and returned < horizon else horizon
        found.append([r["id"], ctx.scope.serial(r["device_id"]), r["badge"],
                      ctx.scope.name(r["badge"]), local(r["out_at"], ctx.tz),
                      local(iso(returned), ctx.tz) if returned and returned < horizon else "",
                      round((until - out).total_seconds() / 3600, 1)])
    found.sort(key=lambda r: (-float(r[6]), int(r[0])))
    return found


def _out_overdue_at(ctx: Context) -> int:
    """Recorders out (not remote) at the period's end whose last docking is older than the
    window: what 'avledger checkout list --overdue' would have said at that moment."""
    horizon = iso(ctx.horizon)
    rows = ctx.conn.execute(
        "SELECT c.device_id, c.badge, c.out_at, c.remote,"
        " (SELECT MAX(t) FROM (SELECT d.last_docked_at AS t WHERE d.last_docked_at <= :h"
        "   UNION ALL SELECT MAX(k.started_at) FROM docks k WHERE k.device_id = c.device_id"
        "   AND k.started_at <= :h) AS times) AS last_dock"
        " FROM checkouts c JOIN devices d ON d.id = c.device_id"
        " WHERE c.out_at < :h AND (c.in_at IS NULL OR c.in_at > :h)", {"h": horizon})
    return sum(1 for r in rows if ctx.scope.has_officer(r["badge"], r["device_id"])
               and is_overdue(parse_iso(r["out_at"]),
                              parse_iso(r["last_dock"]) if r["last_dock"] else None,
                              bool(r["remote"]), ctx.horizon, ctx.window_hours))
