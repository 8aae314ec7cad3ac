"""Recorder clocks (rule B, Art. 7): drift measured at docking, resets, and clock syncs.

Every docking and desk check is a ``clock_measurements`` row (kind ``check``) with the drift it
found and a status: ok (within ``clock.tolerance_seconds``), drifted, reset (a year before
``clock.reset_before_year``: the clock lost its setting) or unknown (unreadable). A sync is a
row of kind ``sync``. The drift distribution leaves resets out: their "drift" is years. A drift
figure is shown with its uncertainty (``uncertainty_seconds``: the docking event's latency, a
live read's bracket); a clock counts as drifted only when it is out by more than that.
"""

from __future__ import annotations

from avledger.core.reports.calc import bin_labels, local, rate
from avledger.core.reports.context import Context
from avledger.core.reports.model import Chart, Column, Figure, Note, Section, Table

OUTER_EDGES = (1, 10, 30)  # seconds, mirrored; the tolerance is added between them


def drift_edges(tolerance: float) -> list[float]:
    inner = sorted({*OUTER_EDGES, tolerance})
    return [-e for e in reversed(inner)] + inner


def _bins_sql(edges: list[float]) -> str:
    """One SUM per drift bin, for the measurements that have a drift and no reset."""
    bounds = [None, *edges, None]
    sums = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        cond = " AND ".join(c for c in (f"drift_seconds >= {lo!r}" if lo is not None else "",
                                        f"drift_seconds < {hi!r}" if hi is not None else "")
                            if c)
        sums.append(f"SUM(kind = 'check' AND status IN ('ok', 'drifted') AND {cond})")
    return ", ".join(sums)


def build(ctx: Context) -> Section:
    months = ctx.period.months()
    tolerance = float(ctx.config.get("clock.tolerance_seconds"))
    edges = drift_edges(tolerance)
    scope_sql, scope_params = ctx.scope.device_filter()
    # Per month: checks, drifted, resets, unreadable, ok, syncs, checks against an unsynced
    # host, then the drift histogram.
    monthly = ctx.monthly(
        "SELECT SUM(kind = 'check'), SUM(kind = 'check' AND status = 'drifted'),"
        " SUM(kind = 'check' AND status = 'reset'), SUM(kind = 'check' AND status = 'unknown'),"
        " SUM(kind = 'check' AND status = 'ok'), SUM(kind = 'sync'),"
        f" SUM(kind = 'check' AND host_synced = 0), {_bins_sql(edges)}"
        " FROM clock_measurements INDEXED BY reports_clock_time", "measured_at", scope_sql,
        scope_params)
    monthly = [tuple(int(v or 0) for v in row) for row in monthly]
    per_month = [[m[0], m[1] + m[2], m[2], m[5]] for m in monthly]
    hist = [sum(m[7 + i] for m in monthly) for i in range(len(edges) + 1)]
    status_count = {k: sum(m[i] for m in monthly) for k, i in
                    (("drifted", 1), ("reset", 2), ("unknown", 3), ("ok", 4))}
    host_unsynced = sum(m[6] for m in monthly)
    per_device: dict[int, dict[str, float]] = {}
    for device_id, checks, drifted, resets, largest, syncs in ctx.conn.execute(
            "SELECT device_id, SUM(kind = 'check'), SUM(kind = 'check' AND status = 'drifted'),"
            " SUM(kind = 'check' AND status = 'reset'), MAX(CASE WHEN kind = 'check' AND"
            " status IN ('ok', 'drifted') THEN abs(drift_seconds) END), SUM(kind = 'sync')"
            " FROM clock_measurements INDEXED BY reports_clock_time"
            f" WHERE measured_at >= ? AND measured_at < ?{scope_sql} GROUP BY device_id",
            [ctx.period.start, ctx.period.end, *scope_params]):
        per_device[device_id] = {"checks": checks, "drifted": drifted, "resets": resets,
                                 "max": largest or 0.0, "syncs": syncs}
    checks = sum(status_count.values())
    flagged = [(d, v) for d, v in per_device.items() if v["drifted"] or v["resets"]]
    flagged.sort(key=lambda kv: (-(kv[1]["drifted"] + kv[1]["resets"]), ctx.scope.serial(kv[0])))
    last_sync = _last_syncs(ctx)
    section = Section("clocks", figures=[
        Figure("measurements", checks),
        Figure("devices_measured", sum(1 for v in per_device.values() if v["checks"])),
        Figure("within_tolerance", status_count["ok"]),
        Figure("within_tolerance_rate", rate(status_count["ok"], checks), "pct"),
        Figure("drifted", status_count["drifted"]),
        Figure("resets", status_count["reset"]),
        Figure("unreadable", status_count["unknown"]),
        Figure("devices_out_of_tolerance", len(flagged)),
        Figure("syncs", sum(m[3] for m in per_month)),
        Figure("host_unsynced", host_unsynced),
    ], notes=[Note("note.tolerance", {"seconds": f"{tolerance:g}"})])
    section.tables = [
        Table("drift_distribution", [Column("drift_seconds"), Column("measurements", "int")],
              [[label, n] for label, n in zip(bin_labels(edges, " s"), hist, strict=True)]),
        Table("by_month", [Column("month"), Column("measurements", "int"),
                           Column("out_of_tolerance", "int"), Column("resets", "int"),
                           Column("syncs", "int")],
              [[m.label, *v] for m, v in zip(months, per_month, strict=True)]),
        Table("out_of_tolerance", [Column("device"), Column("unit"),
                                   Column("measurements", "int"), Column("drifted", "int"),
                                   Column("resets", "int"), Column("max_drift_s", "num"),
                                   Column("uncertainty_s", "num"),
                                   Column("syncs", "int"), Column("last_sync", "time")],
              [[ctx.scope.serial(d), ctx.scope.device_unit(d), int(v["checks"]),
                int(v["drifted"]), int(v["resets"]), round(v["max"], 1),
                _uncertainty_of_largest(ctx, d), int(v["syncs"]),
                local(last_sync.get(d), ctx.tz)] for d, v in flagged]),
    ]
    section.charts = [
        Chart("drift_distribution", "hist", "drift_distribution", "drift_seconds",
              ("measurements",)),
        Chart("clock_events_per_month", "bar", "by_month", "month",
              ("out_of_tolerance", "resets", "syncs")),
    ]
    return section


def _uncertainty_of_largest(ctx: Context, device_id: int) -> float | None:
    """± of the device's largest drift in the period (None for readings older than it)."""
    row = ctx.conn.execute(
        "SELECT uncertainty_seconds FROM clock_measurements WHERE device_id = ?"
        " AND kind = 'check' AND status IN ('ok', 'drifted') AND drift_seconds IS NOT NULL"
        " AND measured_at >= ? AND measured_at < ? ORDER BY abs(drift_seconds) DESC, id"
        " LIMIT 1", (device_id, ctx.period.start, ctx.period.end)).fetchone()
    return None if row is None or row[0] is None else round(float(row[0]), 1)


def _last_syncs(ctx: Context) -> dict[int, str]:
    """Each recorder's last sync before the period ended (a sync row or last_synced_at)."""
    end = ctx.period.end
    found: dict[int, str] = {}
    for device_id, at in ctx.conn.execute(
            "SELECT device_id, MAX(measured_at) FROM clock_measurements"
            " WHERE kind = 'sync' AND measured_at < ? GROUP BY device_id", (end,)):
        found[device_id] = at
    for device_id, at in ctx.conn.execute(
            "SELECT id, last_synced_at FROM devices WHERE last_synced_at < ?", (end,)):
        if at > found.get(device_id, ""):
            found[device_id] = at
    return found
