"""Random inspection draws (Annex 3): make one, void one, list and show them.

A draw cannot be re-rolled. Its seed comes from inputs fixed before it — the custody ledger's
latest signed checkpoint (one is signed first if events are unsigned), the period and round,
the rate, and the digests of the population, the inspector roster and the declared conflicts —
and the draw is a ledger event carrying those inputs and the result. One live draw per period:
another is refused until the first is voided, with a reason, which is a ledger event too.
``--dry-run`` shows the inputs but never the outcome, so nobody can preview and then wait for a
checkpoint they like.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from avledger import verifier
from avledger.core.app import Avledger
from avledger.core.identity import find_person
from avledger.core.inspect import conflicts as conflict_register
from avledger.core.inspect import draw
from avledger.core.inspect.population import Population, read_population
from avledger.errors import InputError, IntegrityError, NotFoundError, RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso, utcnow

INSPECTOR_ROLE = "handler"
DRAW_ROLES = ("leader", "records_manager")
_PERIOD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


@dataclass(frozen=True)
class DrawRequest:
    population: Path
    period: str
    rate: str | None = None  # default: inspections.rate_percent
    inspectors: int | None = None  # default: inspections.inspectors
    beacon: str | None = None
    encoding: str = "utf-8"


@dataclass(frozen=True)
class Prepared:
    """A checked request: the parsed population, the roster, the effective rate and count."""

    population: Population
    roster: list[dict[str, str]]
    rate: Fraction
    inspectors: int


def eligible_inspectors(app: Avledger) -> list[dict[str, str]]:
    """Everyone on the roster holding the 'handler' role: the people who do inspections."""
    return draw.canonical_roster([p for p in app.config.roster
                                  if INSPECTOR_ROLE in p.get("roles", [])])


def _check_period(period: str) -> str:
    if not _PERIOD.match(period):
        raise InputError(_("period {period!r} must be letters, digits, '.', '_' or '-' (up to "
                           "32), e.g. 2026Q4").format(period=period))
    return period


def _rate(text: str) -> Fraction:
    try:
        return draw.parse_rate(text)
    except draw.DrawError as exc:
        raise InputError(str(exc)) from None


def _csv_conflicts(app: Avledger, pop: Population) -> None:
    for eid, badge in pop.conflicts:
        if find_person(app.config, badge) is None:
            raise InputError(_("{source}: the conflicts of enterprise {eid} name badge {badge}, "
                               "who is not on the roster").format(
                                 source=pop.source, eid=eid, badge=badge))


def _active_draw(conn: db.Connection, period: str) -> db.Row | None:
    row: db.Row | None = conn.execute(
        "SELECT * FROM inspection_draws WHERE period = ? AND status = 'active'",
        (period,)).fetchone()
    return row


def _refuse_second(conn: db.Connection, period: str) -> None:
    row = _active_draw(conn, period)
    if row is not None:
        raise RefusedError(
            _("period {period} already has draw {id} (drawn {drawn_at}); a draw cannot be "
              "re-rolled").format(period=period,
                                         id=row['id'],
                                         drawn_at=row['drawn_at']),
            hint=_("void it first: avledger inspect void {id} --reason '…'").format(
                                            id=row['id']))


def _latest_checkpoint(app: Avledger, conn: db.Connection) -> db.Row:
    row: db.Row | None = conn.execute(
        "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
    if row is None:
        raise RefusedError(_("the custody ledger has no signed checkpoint to seed the draw"),
                           hint=_("run 'avledger ledger checkpoint'"))
    try:
        verifier.verify_checkpoint(row["note"], app.public_key())
    except ValueError as exc:
        raise IntegrityError(_("the latest ledger checkpoint does not verify: {exc}").format(
                                 exc=exc)) from None
    return row


def prepare(app: Avledger, req: DrawRequest) -> Prepared:
    """Check everything a draw needs before anything is signed or written."""
    app.actor.require(*DRAW_ROLES, action=_("draw inspections"))
    _check_period(req.period)
    rate = _rate(req.rate if req.rate is not None
                 else f"{app.config.get('inspections.rate_percent')}%")
    per = req.inspectors if req.inspectors is not None else \
        int(app.config.get("inspections.inspectors"))
    if per < 1:
        raise InputError(_("--inspectors must be at least 1"))
    if req.beacon is not None and not req.beacon.strip():
        raise InputError(_("--beacon, when given, must not be empty"))
    pop = read_population(req.population, encoding=req.encoding)
    _csv_conflicts(app, pop)
    roster = eligible_inspectors(app)
    if len(roster) < per:
        raise RefusedError(_("the roster has {count} people with role '{INSPECTOR_ROLE}', the "
                             "draw needs {per} per enterprise").format(
                               count=len(roster), INSPECTOR_ROLE=INSPECTOR_ROLE, per=per))
    _refuse_second(app.catalog.conn, req.period)
    return Prepared(pop, roster, rate, per)


def _snapshot_conflicts(conn: db.Connection, pop: Population,
                        roster: list[dict[str, str]]) -> list[list[str]]:
    """Conflicts that can matter to this draw: population enterprises × eligible inspectors."""
    ids = {eid for eid, _ in pop.rows}
    badges = {p["badge"] for p in roster}
    pairs = pop.conflicts + conflict_register.declared_pairs(conn)
    return draw.canonical_conflicts([(e, b) for e, b in pairs if e in ids and b in badges])


def plan(app: Avledger, req: DrawRequest) -> dict[str, Any]:
    """What a draw would use (for --dry-run): never the outcome."""
    ready = prepare(app, req)
    pop, rate = ready.population, ready.rate
    conn = app.catalog.conn
    rounds = conn.execute("SELECT COUNT(*) FROM inspection_draws WHERE period = ?",
                          (req.period,)).fetchone()[0]
    return {
        "period": req.period, "round": rounds + 1, "population": len(pop.rows),
        "rate": f"{rate.numerator}/{rate.denominator}", "to_draw": math.ceil(rate * len(pop.rows)),
        "inspectors_per_enterprise": ready.inspectors, "eligible_inspectors": len(ready.roster),
        "conflicts": len(_snapshot_conflicts(conn, pop, ready.roster)),
        "population_sha256": draw.sha256_hex(pop.canonical.encode()),
        "beacon": req.beacon or "",
        "note": "a dry run never shows the outcome: the seed is fixed by the checkpoint signed "
                "when the draw is made",
    }


def make(app: Avledger, req: DrawRequest) -> dict[str, Any]:
    """Draw the inspections for a period; one ledger event, rows in the inspection tables."""
    ready = prepare(app, req)
    pop, roster = ready.population, ready.roster
    app.checkpoint()  # unsigned events get signed, so the seed is fixed by a signature
    names = {p["badge"]: p["name"] for p in roster}
    with app.transaction() as conn:
        _refuse_second(conn, req.period)
        round_no = 1 + conn.execute("SELECT COUNT(*) FROM inspection_draws WHERE period = ?",
                                    (req.period,)).fetchone()[0]
        checkpoint = _latest_checkpoint(app, conn)
        material = draw.Material(pop.canonical, roster, _snapshot_conflicts(conn, pop, roster))
        inputs = draw.make_inputs(period=req.period, round_no=round_no,
                                  checkpoint=checkpoint["note"], rate=ready.rate,
                                  inspectors=ready.inspectors, material=material,
                                  beacon=req.beacon)
        try:
            result = draw.run(inputs, material)
        except draw.NotEnoughInspectors as exc:
            raise RefusedError(str(exc), hint=_("fewer inspectors per enterprise, more handlers "
                                                "on the roster, or review the conflicts")) from None
        seed = draw.seed_of(inputs)
        now = iso(utcnow())
        try:
            cur = conn.execute(
                "INSERT INTO inspection_draws (period, round, drawn_at, drawn_by, inputs, seed,"
                " population, roster, conflicts, source, source_sha256, event_seq)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id",
                (req.period, round_no, now, app.actor.label, draw.canonical(inputs).decode(),
                 seed, material.population, draw.canonical(material.roster).decode(),
                 draw.canonical(material.conflicts).decode(), pop.source, pop.source_sha256))
            draw_id = int(cur.fetchone()[0])
            for r in result:
                icur = conn.execute(
                    "INSERT INTO inspections (draw_id, position, task_id, enterprise_id,"
                    " enterprise_name) VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (draw_id, r["position"], r["task_id"], r["enterprise_id"],
                     r["enterprise_name"]))
                inspection_id = int(icur.fetchone()[0])
                conn.executemany(
                    "INSERT INTO inspection_inspectors (inspection_id, slot, badge, name)"
                    " VALUES (?, ?, ?, ?)",
                    [(inspection_id, slot, b, names[b])
                     for slot, b in enumerate(r["inspectors"], 1)])
        except db.IntegrityError as exc:
            raise RefusedError(_("draw for {period} conflicts with an existing one: {exc}").format(
                                   period=req.period, exc=exc),
                               hint=_("task ids must be unique; choose another period name")
                               ) from None
        event = app.record(conn, "inspection.drawn", f"draw:{draw_id}", {
            "period": req.period, "round": round_no, "inputs": inputs, "seed": seed,
            "result": draw.published(result)})
        conn.execute("UPDATE inspection_draws SET event_seq = ? WHERE id = ?",
                     (event.seq, draw_id))
    return show(app, str(draw_id))


def resolve(conn: db.Connection, ref: str, *, period_only: bool = False) -> db.Row:
    """A draw by number, or the live draw of a period (a number that is no draw's is tried as
    a period, so that a period named '2026' still works)."""
    row: db.Row | None = None
    if ref.isdigit() and not period_only:
        row = conn.execute("SELECT * FROM inspection_draws WHERE id = ?", (int(ref),)).fetchone()
    if row is None:
        row = _active_draw(conn, ref)
    if row is None:
        voided = conn.execute("SELECT id FROM inspection_draws WHERE period = ?",
                              (ref,)).fetchall()
        hint = ("its draws were voided: name one by number (" +
                ", ".join(str(v[0]) for v in voided) + ")") if voided else \
            "see 'avledger inspect list'"
        raise NotFoundError(_("no draw {ref!r}").format(ref=ref), hint=hint)
    return row


def void(app: Avledger, ref: str, reason: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Void a draw (with a reason, in the ledger) so that the period can be drawn again."""
    app.actor.require(*DRAW_ROLES, action=_("void an inspection draw"))
    if not reason.strip():
        raise InputError(_("a void needs a --reason"))
    row = resolve(app.catalog.conn, ref)
    if row["status"] != "active":
        raise RefusedError(_("draw {id} ({period}) is already void").format(
                               id=row['id'], period=row['period']))
    used = app.catalog.conn.execute(
        "SELECT COUNT(*) FROM checkouts c JOIN inspections i ON i.task_id = c.task_id"
        " WHERE i.draw_id = ?", (row["id"],)).fetchone()[0]
    summary = {"draw": row["id"], "period": row["period"], "round": row["round"],
               "reason": reason.strip(), "checkouts_naming_its_tasks": used,
               "dry_run": dry_run}
    if dry_run:
        return summary
    now = iso(utcnow())
    with app.transaction() as conn:
        current = conn.execute("SELECT status FROM inspection_draws WHERE id = ?",
                               (row["id"],)).fetchone()
        if current["status"] != "active":
            raise RefusedError(_("draw {id} was voided meanwhile").format(id=row['id']))
        event = app.record(conn, "inspection.voided", f"draw:{row['id']}", {
            "period": row["period"], "round": row["round"], "seed": row["seed"],
            "reason": reason.strip(), "checkouts_naming_its_tasks": used})
        conn.execute("UPDATE inspection_draws SET status = 'void', voided_at = ?, voided_by = ?,"
                     " void_reason = ?, void_seq = ? WHERE id = ?",
                     (now, app.actor.label, reason.strip(), event.seq, row["id"]))
    summary["voided_at"] = now
    return summary


def _summary(row: db.Row, conn: db.Connection) -> dict[str, Any]:
    try:
        inputs = json.loads(row["inputs"])
    except json.JSONDecodeError:
        inputs = {}
    drawn = conn.execute("SELECT COUNT(*) FROM inspections WHERE draw_id = ?",
                         (row["id"],)).fetchone()[0]
    return {
        "id": row["id"], "period": row["period"], "round": row["round"],
        "status": row["status"], "drawn_at": row["drawn_at"], "drawn_by": row["drawn_by"],
        "population": inputs.get("population_size"), "rate": inputs.get("rate"),
        "drawn": drawn, "inspectors_per_enterprise": inputs.get("inspectors_per_enterprise"),
        "seed": row["seed"], "beacon": inputs.get("beacon", ""),
        "event_seq": row["event_seq"], "voided_at": row["voided_at"],
        "voided_by": row["voided_by"], "void_reason": row["void_reason"],
    }


def listing(app: Avledger, period: str | None = None) -> list[dict[str, Any]]:
    conn = app.catalog.conn
    sql, params = "SELECT * FROM inspection_draws", []
    if period:
        sql, params = sql + " WHERE period = ?", [period]
    return [_summary(r, conn) for r in conn.execute(sql + " ORDER BY id", params)]


def inspections_of(conn: db.Connection, draw_id: int) -> list[dict[str, Any]]:
    out = []
    for r in conn.execute("SELECT * FROM inspections WHERE draw_id = ? ORDER BY position",
                          (draw_id,)):
        people = conn.execute("SELECT badge, name FROM inspection_inspectors"
                              " WHERE inspection_id = ? ORDER BY slot", (r["id"],)).fetchall()
        out.append({"position": r["position"], "task_id": r["task_id"],
                    "enterprise_id": r["enterprise_id"],
                    "enterprise_name": r["enterprise_name"],
                    "inspectors": [{"badge": p["badge"], "name": p["name"]} for p in people]})
    return out


def show(app: Avledger, ref: str) -> dict[str, Any]:
    conn = app.catalog.conn
    row = resolve(conn, ref)
    data = _summary(row, conn)
    try:
        data["inputs"] = json.loads(row["inputs"])
    except json.JSONDecodeError:
        data["inputs"] = None
    data["inspections"] = inspections_of(conn, row["id"])
    return data
