"""Verifying a stored draw: recompute it from its recorded inputs and compare everything.

The checks, in order: the ledger event that recorded the draw is intact and linked; the inputs
and seed stored with the draw are those the event recorded; the seed recomputes; the checkpoint
in the inputs carries a valid signature, is in the catalog and predates the draw; the stored
population, roster and conflicts have the recorded digests; the recomputed draw equals the
event's result and the stored inspection rows; and the void state agrees with the ledger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from avledger import verifier
from avledger.core.app import Avledger
from avledger.core.inspect import draw
from avledger.core.inspect.inspections import inspections_of, resolve
from avledger.store import db
from avledger.store import ledger as ledger_store
from avledger.store.ledger import Event


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class DrawVerifyReport:
    draw_id: int
    period: str
    round: int
    status: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def as_dict(self) -> dict[str, Any]:
        return {"draw": self.draw_id, "period": self.period, "round": self.round,
                "status": self.status, "ok": self.ok,
                "checks": [{"check": c.name, "ok": c.ok, "detail": c.detail}
                           for c in self.checks]}


def _event(conn: db.Connection, seq: int | None) -> Event | None:
    if not seq:
        return None
    found = list(ledger_store.iter_events(conn, where="seq = ?", params=(seq,)))
    return found[0] if found else None


def _event_intact(conn: db.Connection, ev: Event) -> str | None:
    """None when the event's hash recomputes and the chain links to it; else what is wrong."""
    if verifier.event_hash(ev.prev_hash, ev.as_dict()) != ev.hash:
        return f"ledger event {ev.seq} does not match its hash (edited)"
    nxt = conn.execute("SELECT prev_hash FROM ledger WHERE seq = ?", (ev.seq + 1,)).fetchone()
    if nxt is not None and nxt[0] != ev.hash:
        return f"the event after {ev.seq} does not link to it (ledger rewritten)"
    if nxt is None and ledger_store.state(conn).head != ev.hash:
        return f"ledger event {ev.seq} is the last row but not the recorded head"
    return None


def _drawn_event(report: DrawVerifyReport, conn: db.Connection,
                 row: db.Row) -> Event | None:
    ev = _event(conn, row["event_seq"])
    subject = f"draw:{row['id']}"
    if ev is None or ev.type != "inspection.drawn" or ev.subject != subject:
        report.add("ledger event", False,
                   f"ledger event {row['event_seq']} is not the 'inspection.drawn' event of "
                   f"{subject}")
        return None
    problem = _event_intact(conn, ev)
    report.add("ledger event", problem is None, problem or f"event {ev.seq} intact and linked")
    return ev if problem is None else None


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None


def _checkpoint(report: DrawVerifyReport, app: Avledger, conn: db.Connection,
                inputs: dict[str, Any], event_seq: int) -> None:
    note = str(inputs.get("checkpoint", ""))
    try:
        cp = verifier.verify_checkpoint(note, app.public_key())
    except ValueError as exc:
        report.add("checkpoint", False, f"the seed's checkpoint does not verify: {exc}")
        return
    stored = conn.execute("SELECT note FROM checkpoints WHERE size = ?", (cp.size,)).fetchone()
    if stored is None or stored[0] != note:
        report.add("checkpoint", False, f"the checkpoint at size {cp.size} is not the one in "
                                        "the catalog")
    elif cp.size >= event_seq:
        report.add("checkpoint", False, f"the checkpoint (size {cp.size}) does not predate the "
                                        f"draw (event {event_seq})")
    else:
        report.add("checkpoint", True, f"signed checkpoint at size {cp.size} ({cp.ts}) "
                                       "predates the draw")


def _stored_result(conn: db.Connection, draw_id: int) -> list[dict[str, Any]]:
    return [{"position": i["position"], "task_id": i["task_id"],
             "enterprise_id": i["enterprise_id"], "enterprise_name": i["enterprise_name"],
             "inspectors": [p["badge"] for p in i["inspectors"]],
             "names": [p["name"] for p in i["inspectors"]]}
            for i in inspections_of(conn, draw_id)]


def _compare_rows(report: DrawVerifyReport, again: list[dict[str, Any]],
                  stored: list[dict[str, Any]], roster: list[dict[str, str]]) -> None:
    names = {p["badge"]: p["name"] for p in roster}
    expected = [{**r, "names": [names.get(b, "?") for b in r["inspectors"]]} for r in again]
    if expected == stored:
        report.add("stored inspections", True, f"{len(stored)} inspection rows match")
        return
    if len(expected) != len(stored):
        report.add("stored inspections", False, f"{len(stored)} rows stored, the draw gives "
                                                f"{len(expected)}")
        return
    for want, got in zip(expected, stored, strict=True):
        if want != got:
            diff = sorted(k for k in want if want[k] != got.get(k))
            report.add("stored inspections", False,
                       f"position {want['position']} was edited ({', '.join(diff)}): stored "
                       f"{[got.get(k) for k in diff]}, the draw gives {[want[k] for k in diff]}")
            return


def _void_state(report: DrawVerifyReport, conn: db.Connection, row: db.Row) -> None:
    subject = f"draw:{row['id']}"
    voids = list(ledger_store.iter_events(conn, where="subject = ? AND type = ?",
                                          params=(subject, "inspection.voided")))
    if row["status"] == "active":
        report.add("void state", not voids,
                   "active, and the ledger records no void" if not voids else
                   f"stored as active but the ledger voided it (event {voids[0].seq})")
        return
    ev = voids[0] if voids else None
    good = (ev is not None and ev.seq == row["void_seq"]
            and ev.payload.get("reason") == row["void_reason"]
            and _event_intact(conn, ev) is None)
    report.add("void state", good, f"voided by event {row['void_seq']}: {row['void_reason']}"
               if good else "stored as void but the ledger does not record this void")


def verify(app: Avledger, ref: str) -> DrawVerifyReport:
    conn = app.catalog.conn
    row = resolve(conn, ref)
    report = DrawVerifyReport(row["id"], row["period"], row["round"], row["status"])
    ev = _drawn_event(report, conn, row)
    inputs = _loads(row["inputs"])
    if not isinstance(inputs, dict):
        report.add("recorded inputs", False, "the stored inputs are not readable JSON")
        return report
    if ev is not None:
        same = (ev.payload.get("inputs") == inputs and ev.payload.get("seed") == row["seed"]
                and inputs.get("period") == row["period"]
                and inputs.get("round") == row["round"])
        report.add("recorded inputs", same, "the stored inputs and seed are those the ledger "
                   "recorded" if same else "the stored inputs, seed, period or round differ "
                   "from the ledger event")
    seed = draw.seed_of(inputs)
    report.add("seed", seed == row["seed"], f"SHA-256 of the inputs = {seed[:16]}…"
               if seed == row["seed"] else f"the inputs give seed {seed[:16]}…, stored "
               f"{str(row['seed'])[:16]}…")
    _checkpoint(report, app, conn, inputs, int(row["event_seq"] or 0))
    roster, conflicts = _loads(row["roster"]), _loads(row["conflicts"])
    material = draw.Material(row["population"], roster if isinstance(roster, list) else [],
                             conflicts if isinstance(conflicts, list) else [])
    try:
        again = draw.run(inputs, material)
    except (draw.DrawError, KeyError, ValueError, TypeError) as exc:
        report.add("recompute", False, f"cannot recompute the draw: {exc}")
        _void_state(report, conn, row)
        return report
    report.add("recompute", True, f"population, roster and conflicts match their digests; "
               f"{len(again)} enterprises recomputed")
    if ev is not None:
        same = draw.published(again) == ev.payload.get("result")
        report.add("ledger result", same, "the recomputed draw equals the ledger's" if same
                   else "the recomputed draw differs from the result the ledger recorded")
    _compare_rows(report, again, _stored_result(conn, row["id"]), material.roster)
    _void_state(report, conn, row)
    return report


def verify_all(app: Avledger) -> tuple[list[DrawVerifyReport], list[str]]:
    """Every stored draw, plus draws the ledger records that have no stored row."""
    conn = app.catalog.conn
    ids = [r[0] for r in conn.execute("SELECT id FROM inspection_draws ORDER BY id")]
    reports = [verify(app, str(i)) for i in ids]
    missing = [f"ledger event {ev.seq} records {ev.subject} ({ev.payload.get('period')}), "
               "which is not stored (deleted?)"
               for ev in ledger_store.iter_events(conn, where="type = ?",
                                                  params=("inspection.drawn",))
               if ev.subject.removeprefix("draw:") not in {str(i) for i in ids}]
    return reports, missing
