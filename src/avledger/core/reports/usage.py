"""The usage ledger (台账, rule B, Arts. 4, 5 and 12): checkouts, footage attributed to nobody,
and the gap records officers wrote when recording stopped, with their approval state."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from avledger.core.desk.gaps import REASONS
from avledger.core.reports.calc import rate
from avledger.core.reports.context import NO_CHECKOUT, Context
from avledger.core.reports.model import Chart, Column, Figure, Note, Section, Table
from avledger.core.reports.period import month_case
from avledger.timestamps import iso


def build(ctx: Context) -> Section:
    months = ctx.period.months()
    scope_sql, scope_params = ctx.scope.clip_filter()  # a checkout's officer, or its recorder
    per_month = [[int(n or 0), 0, 0] for n, in ctx.monthly(
        "SELECT COUNT(*) FROM checkouts INDEXED BY reports_checkouts_out", "out_at",
        scope_sql, scope_params)]  # checkouts, clips without checkout, gaps
    checkouts, remote, forced, officers, devices = ctx.conn.execute(
        "SELECT COUNT(*), TOTAL(remote), TOTAL(CASE WHEN json_valid(precheck) THEN"
        " CASE WHEN json_extract(precheck, '$.forced') IS NOT NULL THEN 1 ELSE 0 END ELSE 0 END),"
        " COUNT(DISTINCT badge), COUNT(DISTINCT device_id) FROM checkouts"
        f" WHERE out_at >= ? AND out_at < ?{scope_sql}",
        [ctx.period.start, ctx.period.end, *scope_params]).fetchone()
    no_checkout: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(NO_CHECKOUT, 0))
    for g in ctx.who():
        if g.attribution in NO_CHECKOUT:
            no_checkout[g.device_id][g.attribution] += g.clips
    for month, totals in zip(per_month, ctx.month_totals(), strict=True):
        month[1] = totals.no_checkout
    gaps = _gaps(ctx, per_month)
    attributed = {a: sum(v[a] for v in no_checkout.values()) for a in NO_CHECKOUT}
    all_clips = sum(g.clips for g in ctx.who())
    approved = sum(v[0] for v in gaps.values())
    pending = sum(v[1] for v in gaps.values())
    section = Section("usage", figures=[
        Figure("checkouts", checkouts),
        Figure("remote_checkouts", int(remote)),
        Figure("forced_checkouts", int(forced)),
        Figure("officers_out", officers),
        Figure("devices_used", devices),
        Figure("still_out", _still_out(ctx)),
        Figure("clips_unattributed", attributed["unattributed"]),
        Figure("clips_between_checkouts", attributed["between-checkouts"]),
        Figure("clips_device_info", attributed["device-info"]),
        Figure("clips_without_checkout_rate", rate(sum(attributed.values()), all_clips), "pct"),
        Figure("gaps", approved + pending),
        Figure("gaps_approved", approved),
        Figure("gaps_pending", pending),
    ], notes=[Note("note.attribution")])
    device_rows: list[list[Any]] = [
        [ctx.scope.serial(d), ctx.scope.device_unit(d), v["unattributed"],
         v["between-checkouts"], v["device-info"], sum(v.values())]
        for d, v in no_checkout.items()]
    device_rows.sort(key=lambda r: (-int(r[5]), str(r[0])))
    section.tables = [
        Table("by_month", [Column("month"), Column("checkouts", "int"),
                           Column("clips_without_checkout", "int"), Column("gaps", "int")],
              [[m.label, *v] for m, v in zip(months, per_month, strict=True)]),
        Table("without_checkout_by_device",
              [Column("device"), Column("unit"), Column("unattributed", "int"),
               Column("between_checkouts", "int"), Column("device_info", "int"),
               Column("total", "int")], device_rows),
        Table("gaps_by_reason", [Column("reason", "code"), Column("approved", "int"),
                                 Column("pending", "int"), Column("total", "int"),
                                 Column("minutes", "num")],
              [[r, a, p, a + p, round(m, 1)] for r, (a, p, m) in gaps.items()]),
    ]
    section.charts = [
        Chart("checkouts_per_month", "bar", "by_month", "month", ("checkouts",)),
        Chart("gaps_by_reason", "bar", "gaps_by_reason", "reason", ("approved", "pending")),
        Chart("without_checkout_by_device", "hbar", "without_checkout_by_device", "device",
              ("total",), limit=20),
    ]
    return section


def _gaps(ctx: Context, per_month: list[list[int]]) -> dict[str, list[float]]:
    """reason -> [approved, pending, minutes], every known reason listed (in rule order)."""
    out: dict[str, list[float]] = {r: [0, 0, 0.0] for r in REASONS}
    case, params = month_case("g.from_at", ctx.period.months())
    for month, reason, approved, minutes, badge, device_id in ctx.conn.execute(
            f"SELECT {case}, g.reason, g.approved_at IS NOT NULL,"
            " (julianday(g.to_at) - julianday(g.from_at)) * 1440, c.badge, c.device_id"
            " FROM gaps g JOIN checkouts c ON c.id = g.checkout_id"
            " WHERE g.from_at >= ? AND g.from_at < ?",
            [*params, ctx.period.start, ctx.period.end]):
        if not ctx.scope.has_officer(badge, device_id):
            continue
        acc = out.setdefault(reason, [0, 0, 0.0])
        acc[0 if approved else 1] += 1
        acc[2] += minutes or 0.0
        per_month[month][2] += 1
    return out


def _still_out(ctx: Context) -> int:
    horizon = iso(ctx.horizon)
    return sum(1 for badge, device_id in ctx.conn.execute(
        "SELECT badge, device_id FROM checkouts WHERE out_at < ? AND (in_at IS NULL OR in_at > ?)",
        (horizon, horizon)) if ctx.scope.has_officer(badge, device_id))
