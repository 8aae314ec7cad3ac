"""The review sample (rule B, Arts. 9-11 and 17): the year's latest sample, its seed, and what
reviewers found. Every sample drawn for the year is listed, so a redraw is visible."""

from __future__ import annotations

from collections import Counter, defaultdict

from avledger.core.reports import review_sample as review
from avledger.core.reports.calc import hours, local, rate
from avledger.core.reports.context import Context
from avledger.core.reports.model import Chart, Column, Figure, Note, Section, Table

NOT_REVIEWED = "not-reviewed"


def build(ctx: Context) -> Section:
    year = ctx.period.first.year
    unit = ctx.scope.unit
    samples = review.samples_of(ctx.conn, year, unit)
    section = Section("review", notes=[])
    if not samples:
        section.notes.append(Note("note.no_sample", {"year": year}))
        section.figures = [Figure("samples_drawn", 0)]
        return section
    latest = samples[-1]
    items = review.sample_items(ctx.conn, latest["id"])
    counts = Counter(i["finding"] or NOT_REVIEWED for i in items)
    reviewed = len(items) - counts[NOT_REVIEWED]
    problems = reviewed - counts["ok"]
    per_officer: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for i in items:
        acc = per_officer[i["badge"] or "-"]
        acc[0] += 1
        acc[1] += i["finding"] is not None
        acc[2] += i["finding"] not in (None, "ok")
    section.figures = [
        Figure("sample_seed", latest["seed"], "mono"),
        Figure("sample_rate", round(float(_fraction(latest["rate"])) * 100, 1), "pct"),
        Figure("population", latest["population_size"]),
        Figure("sampled", len(items)),
        Figure("reviewed", reviewed),
        Figure("review_problems", problems),
        Figure("not_reviewed", counts[NOT_REVIEWED]),
        Figure("samples_drawn", len(samples)),
    ]
    problem_rows = [[i["clip"], local(i["corrected_start"] or i["ingested_at"], ctx.tz),
                     i["device"], i["badge"] or "-", ctx.scope.name(i["badge"]), i["finding"],
                     i["note"], i["recorded_by"]]
                    for i in items if i["finding"] not in (None, "ok")]
    officer_rows = [[b, ctx.scope.name(b) if b != "-" else "", *v]
                    for b, v in sorted(per_officer.items(), key=lambda kv: (-kv[1][2], kv[0]))]
    section.tables = [
        Table("findings", [Column("finding", "code"), Column("clips", "int")],
              [[f, counts[f]] for f in (*review.FINDINGS, NOT_REVIEWED)]),
        Table("problems", [Column("clip", "id"), Column("recorded", "time"),
                           Column("device"), Column("badge"), Column("name"),
                           Column("finding", "code"), Column("note"), Column("reviewer")],
              problem_rows),
        Table("by_officer", [Column("badge"), Column("name"), Column("sampled", "int"),
                             Column("reviewed", "int"), Column("problems", "int")],
              officer_rows),
        Table("samples", [Column("sample", "id"), Column("drawn", "time"), Column("drawn_by"),
                          Column("seed", "mono"), Column("rate_percent", "pct"),
                          Column("population", "int"), Column("sampled", "int"),
                          Column("population_sha256", "mono")],
              [[s["id"], local(s["drawn_at"], ctx.tz), s["drawn_by"], s["seed"],
                round(float(_fraction(s["rate"])) * 100, 1), s["population_size"],
                _count(ctx, s["id"]), s["population_sha256"][:16]] for s in samples]),
    ]
    section.charts = [Chart("findings", "bar", "findings", "finding", ("clips",))]
    sampled_hours = hours(sum(i["duration_seconds"] or 0 for i in items))
    section.notes.append(Note("note.sample", {
        "scheme": latest["scheme"], "seed": latest["seed"], "hours": sampled_hours,
        "done": rate(reviewed, len(items)) or 0}))
    return section


def _fraction(text: str) -> float:
    num, _, den = str(text).partition("/")
    return int(num) / int(den or 1)


def _count(ctx: Context, sample_id: int) -> int:
    return int(ctx.conn.execute("SELECT COUNT(*) FROM review_items WHERE sample_id = ?",
                                (sample_id,)).fetchone()[0])
