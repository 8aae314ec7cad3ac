"""Footage: how much was recorded, when, by whom and on which recorder (rule B, Arts. 4-5)."""

from __future__ import annotations

from collections import defaultdict

from avledger.core.reports.calc import hours
from avledger.core.reports.context import Context
from avledger.core.reports.model import Chart, Column, Figure, Note, Section, Table

UNATTRIBUTED = "-"  # the badge column of footage attributed to nobody


def build(ctx: Context) -> Section:
    months = ctx.period.months()
    per_unit: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    per_officer: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    per_device: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0])
    totals = {"clips": 0, "seconds": 0.0, "bytes": 0, "unknown": 0, "no_duration": 0,
              "purged": 0}
    for g in ctx.who():
        for acc in (per_unit[ctx.scope.clip_unit(g.badge, g.device_id)],
                    per_officer[g.badge or UNATTRIBUTED]):
            acc[0] += g.clips
            acc[1] += g.seconds
        dev = per_device[g.device_id]
        dev[0] += g.clips
        dev[1] += g.seconds
        dev[2] += g.bytes
        totals["clips"] += g.clips
        totals["seconds"] += g.seconds
        totals["bytes"] += g.bytes
        totals["unknown"] += g.unknown_time
        totals["no_duration"] += g.no_duration
        totals["purged"] += g.clips if g.status == "purged" else 0
    officers = [b for b in per_officer if b != UNATTRIBUTED]
    section = Section("footage", figures=[
        Figure("clips", totals["clips"]),
        Figure("hours", hours(totals["seconds"]), "hours"),
        Figure("bytes", totals["bytes"], "bytes"),
        Figure("officers", len(officers)),
        Figure("devices", len(per_device)),
        Figure("time_unknown", totals["unknown"]),
        Figure("length_unknown", totals["no_duration"]),
        Figure("purged_since", totals["purged"]),
    ])
    section.tables = [
        Table("by_month", [Column("month"), Column("clips", "int"), Column("hours", "hours")],
              [[m.label, t.clips, hours(t.seconds)] for m, t in zip(
                  months, ctx.month_totals(), strict=True)]),
        Table("by_unit", [Column("unit"), Column("clips", "int"), Column("hours", "hours")],
              [[u, int(c), hours(s)] for u, (c, s) in sorted(
                  per_unit.items(), key=lambda kv: (-kv[1][1], kv[0]))]),
        Table("by_officer", [Column("badge"), Column("name"), Column("unit"),
                             Column("clips", "int"), Column("hours", "hours")],
              [[b, ctx.scope.name(b) if b != UNATTRIBUTED else "",
                ctx.scope.officer_unit(b) or "" if b != UNATTRIBUTED else "",
                int(c), hours(s)]
               for b, (c, s) in sorted(per_officer.items(), key=lambda kv: (-kv[1][1], kv[0]))],
              note=Note("note.unattributed_row")),
        Table("by_device", [Column("device"), Column("unit"), Column("clips", "int"),
                            Column("hours", "hours"), Column("bytes", "bytes")],
              [[ctx.scope.serial(d), ctx.scope.device_unit(d), int(c), hours(s), int(n)]
               for d, (c, s, n) in sorted(per_device.items(),
                                          key=lambda kv: ctx.scope.serial(kv[0]))]),
    ]
    section.charts = [
        Chart("clips_per_month", "bar", "by_month", "month", ("clips",)),
        Chart("hours_per_month", "line", "by_month", "month", ("hours",)),
        Chart("hours_per_unit", "hbar", "by_unit", "unit", ("hours",)),
        Chart("hours_per_officer", "hbar", "by_officer", "badge", ("hours",), limit=20,
              labels=("name", "badge")),
        Chart("hours_per_device", "hbar", "by_device", "device", ("hours",)),
    ]
    if totals["unknown"]:
        section.notes.append(Note("note.time_unknown", {"n": totals["unknown"]}))
    return section
