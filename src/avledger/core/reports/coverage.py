"""Mandatory recordings (rule B, Art. 6; Annex 1): every case that went through a step the
recording checklist says must be recorded (a sealing or seizure, a hearing, an on-site
investigation record), with whether a clip of that step is linked to it. A missing one is a
finding. The cases are those with such a step recorded before the period ended and still open
when it began; the clips are the ones linked now. Site-wide.
"""

from __future__ import annotations

from avledger.core.cases.coverage import cases_needing_recordings
from avledger.core.reports.calc import local
from avledger.core.reports.context import Context
from avledger.core.reports.model import Column, Figure, Note, Section, Table


def build(ctx: Context) -> Section:
    cases = cases_needing_recordings(ctx.conn, ctx.config, start=ctx.period.start,
                                     end=ctx.period.end)
    rows = [[case.number, case.name, case.enforcement_type, r.step, local(r.since, ctx.tz),
             ", ".join(map(str, r.clips)) or "-", "recorded" if r.covered else "missing"]
            for case, required in cases for r in required]
    missing = [row for row in rows if row[-1] == "missing"]
    section = Section("coverage", scope="site", figures=[
        Figure("cases_needing_recording", len(cases)),
        Figure("recordings_required", len(rows)),
        Figure("recordings_missing", len(missing)),
    ])
    section.tables = [Table("mandatory_recordings", [
        Column("case_number"), Column("name"), Column("enforcement_type", "code"),
        Column("step", "code"), Column("step_recorded", "time"), Column("linked_clips"),
        Column("result", "code")], rows)]
    if missing:
        section.notes.append(Note("note.coverage_missing", {
            "n": len(missing), "cases": "; ".join(f"{r[0]}" for r in missing)}))
    elif rows:
        section.notes.append(Note("note.coverage_ok"))
    return section
