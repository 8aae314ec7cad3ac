"""Recorder clocks (rule B, Art. 7): drift measured at docking, resets, and clock syncs.

Every docking and desk check is a ``clock_measurements`` row (kind ``check``) with the drift it
found and a status: ok (within ``clock.tolerance_seconds``), drifted, reset (a year before
``clock.reset_before_year``: the clock lost its setting) or unknown (unreadable). A sync is a
row of kind ``sync``. The drift distribution leaves resets out: their "drift" is years.
"""

from __future__ import annotations

from collections import defaultdict

from avledger.core.reports.calc import bin_index, bin_labels, local, rate
from avledger.core.reports.context import Context
from avledger.core.reports.model import Chart, Column, Figure, Note, Section, Table
from avledger.core.reports.period import month_case

OUTER_EDGES = (1, 10, 30)  # seconds, mirrored; the tolerance is added between them


def drift_edges(tolerance: float) -> list[float]:
    inner = sorted({*OUTER_EDGES, tolerance})
    return [-e for e in reversed(inner)] + inner


def build(ctx: Context) -> Section:
    months = ctx.period.months()
    case, params = month_case("measured_at", months)
    tolerance = float(ctx.config.get("clock.tolerance_seconds"))
    edges = drift_edges(tolerance)
    hist = [0] * (len(edges) + 1)
    per_month = [[0, 0, 0, 0] for _ in months]  # measurements, out of tolerance, resets, syncs
    per_device: dict[int, dict[str, float]] = defaultdict(
        lambda: {"checks": 0, "drifted": 0, "resets": 0, "max": 0.0, "syncs": 0})
    status_count: dict[str, int] = defaultdict(int)
    host_unsynced = 0
    rows = ctx.conn.execute(
        f"SELECT {case}, device_id, kind, status, drift_seconds, host_synced"
        " FROM clock_measurements WHERE measured_at >= ? AND measured_at < ?",
        [*params, ctx.period.start, ctx.period.end])
    for month, device_id, kind, status, drift, host_synced in rows:
        if not ctx.scope.has_device(device_id):
            continue
        dev = per_device[device_id]
        if kind == "sync":
            per_month[month][3] += 1
            dev["syncs"] += 1
            continue
        per_month[month][0] += 1
        dev["checks"] += 1
        status_count[status] += 1
        host_unsynced += host_synced == 0
        if status in ("drifted", "reset"):
            per_month[month][1] += 1
            dev["drifted" if status == "drifted" else "resets"] += 1
        if status == "reset":
            per_month[month][2] += 1
        elif drift is not None and status in ("ok", "drifted"):
            hist[bin_index(drift, edges)] += 1
            dev["max"] = max(dev["max"], abs(drift))
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
                                   Column("syncs", "int"), Column("last_sync", "time")],
              [[ctx.scope.serial(d), ctx.scope.device_unit(d), int(v["checks"]),
                int(v["drifted"]), int(v["resets"]), round(v["max"], 1), int(v["syncs"]),
                local(last_sync.get(d), ctx.tz)] for d, v in flagged]),
    ]
    section.charts = [
        Chart("drift_distribution", "hist", "drift_distribution", "drift_seconds",
              ("measurements",)),
        Chart("clock_events_per_month", "bar", "by_month", "month",
              ("out_of_tolerance", "resets", "syncs")),
    ]
    return section


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
