"""Mandatory recordings of a case (rule B, Art. 6; Annex 1).

A case goes through steps that the recording checklist says must be recorded — a sealing or
seizure, a hearing, an on-site investigation record. Such a step is written down when the
decision that calls for it is recorded (``case decide --step``) or on its own (``case step``);
the case's coverage then says, for each such step, which linked clips carry it and whether
one is missing. ``case check`` prints it for one case; the compliance and annual reports list
every case that needed one (``reports.coverage``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger.config.loader import Config
from avledger.core.app import Avledger
from avledger.core.caseref import Case, case_by_id, get_case
from avledger.core.footage.checklist import Step, find_step, steps_by_code
from avledger.errors import RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso

STEP_ROLES = ("handler", "records_manager")


def add_step(app: Avledger, conn: db.Connection, case: Case, step: str, *, now: datetime,
             note: str = "", decision_id: int | None = None) -> int:
    """In the caller's transaction: the case went through ``step`` (a checklist code)."""
    code = find_step(app.config, step).code
    if case.status == "closed":
        raise RefusedError(_("case {number} was closed on {date}; steps are recorded on open "
                             "cases").format(number=case.number, date=case.closed_at))
    cur = conn.execute(
        "INSERT INTO case_steps (case_id, step, decision_id, note, recorded_at, recorded_by)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (case.id, code, decision_id, note.strip(), iso(now), app.actor.label))
    step_id = int(cur.fetchone()[0])
    app.record(conn, "case.step_recorded", case.subject, {
        "number": case.number, "step": code, "decision": decision_id, "note": note.strip(),
        "recorded_at": iso(now)})
    return step_id


def record_step(app: Avledger, number: str, step: str, *, now: datetime,
                note: str = "") -> dict[str, Any]:
    """``case step``: the case went through a step that must be recorded."""
    app.actor.require(*STEP_ROLES, action="record a case step")
    with app.transaction() as conn:
        case = get_case(conn, number)
        add_step(app, conn, case, step, now=now, note=note)
        return case_coverage(conn, app.config, case)


@dataclass(frozen=True)
class Required:
    """One step a case must have a recording of, and the linked clips that carry it."""

    step: str
    row: Step | None  # None: the code is no longer in the checklist
    since: str  # when the step was first recorded on the case
    decisions: tuple[int, ...]
    clips: tuple[int, ...]

    @property
    def covered(self) -> bool:
        return bool(self.clips)

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "step_zh": self.row.step if self.row else None,
                "step_en": self.row.step_en if self.row else None,
                "category": self.row.category if self.row else None,
                "recorded_at": self.since, "decisions": list(self.decisions),
                "clips": list(self.clips), "covered": self.covered}


def required_steps(conn: db.Connection, config: Config, case_id: int) -> list[Required]:
    """The case's mandatory recordings in the order the steps were first recorded."""
    rows = conn.execute("SELECT step, recorded_at, decision_id FROM case_steps"
                        " WHERE case_id = ? ORDER BY recorded_at, id", (case_id,)).fetchall()
    first: dict[str, str] = {}
    decisions: dict[str, list[int]] = {}
    for r in rows:
        first.setdefault(r["step"], r["recorded_at"])
        if r["decision_id"] is not None:
            decisions.setdefault(r["step"], []).append(int(r["decision_id"]))
    steps = steps_by_code(config)
    out = []
    for code, since in first.items():
        clips = tuple(int(r[0]) for r in conn.execute(
            "SELECT c.id FROM clip_cases cc JOIN clips c ON c.id = cc.clip_id"
            " WHERE cc.case_id = ? AND c.step = ? AND c.status != 'purged' ORDER BY c.id",
            (case_id, code)))
        out.append(Required(code, steps.get(code), since, tuple(decisions.get(code, ())),
                            clips))
    return out


def case_coverage(conn: db.Connection, config: Config, case: Case) -> dict[str, Any]:
    """``case check``: each mandatory recording of the case and whether a clip carries it."""
    required = required_steps(conn, config, case.id)
    missing = [r.step for r in required if not r.covered]
    return {"case": case.number, "name": case.name, "enforcement_type": case.enforcement_type,
            "status": case.status, "required": [r.as_dict() for r in required],
            "missing": missing, "complete": not missing}


def cases_needing_recordings(conn: db.Connection, config: Config, *, start: str,
                             end: str) -> list[tuple[Case, list[Required]]]:
    """Cases with a step recorded before ``end`` that were still open at ``start``."""
    ids = [int(r[0]) for r in conn.execute(
        "SELECT k.id FROM cases k WHERE EXISTS (SELECT 1 FROM case_steps s"
        " WHERE s.case_id = k.id AND s.recorded_at < ?)"
        " AND (k.closed_at IS NULL OR k.closed_at >= ?) ORDER BY k.opened_at, k.id",
        (end, start))]
    return [(case_by_id(conn, i), required_steps(conn, config, i)) for i in ids]
