"""Recording proposed decisions on cases and closing their legal review (Annex 2).

A handler of the case or a records manager records the decision the case is heading for.
When it needs legal review (``decisions.review_required``), the same transaction opens a
review and places a ``legal-review`` hold on the case's footage, attributed to the person who
recorded it. Someone with the ``legal_reviewer`` role — never a handler of the case nor the
decision's author — closes the review: ``approved`` (the decision may be made) or
``returned`` (sent back; a new decision may be recorded, which is judged, and flagged,
afresh). Either way the hold ends with
the review, and every step is a ledger event in the same transaction as the change.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from avledger.core.app import Avledger
from avledger.core.caseref import Case, get_case
from avledger.core.cases.coverage import add_step
from avledger.core.cases.decisions import (
    Kind,
    Outcome,
    Party,
    ReviewRules,
    decision_by_id,
    list_reviews,
    parse_amount,
    review_required,
    stored_amount,
    yuan_text,
)
from avledger.core.retention.holds import end_review_hold, place_review_hold
from avledger.errors import RefusedError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import iso

DECIDE_ROLES = ("handler", "records_manager")
REVIEW_ROLES = ("legal_reviewer",)


def _badge(app: Avledger, action: str) -> str:
    """Decisions and reviews are personal: they need a badge, not the dock's system actor."""
    if not app.actor.badge:
        raise RefusedError(_("only a person on the roster may {action}").format(action=action))
    return app.actor.badge


def describe(kind: str, amount: Decimal | str | None, party: str | None) -> str:
    """'penalty of 10,000 yuan on a citizen', 'compulsion on an organisation', 'licensing'."""
    text = kind
    if amount is not None:
        text += f" of {yuan_text(amount)} yuan"
    if party is not None:
        text += f" on {Party(party).named}"
    return text


def record_decision(app: Avledger, number: str, *, kind: Kind | str,
                    amount: Decimal | str | None, party: Party | str | None, note: str,
                    now: datetime, step: str | None = None) -> dict[str, Any]:
    """Record a proposed decision; flag it, open its review and hold the footage if needed.

    ``step``: the checklist step the decision calls for (a sealing or seizure decision:
    ``seizure``), which the case must then have a recording of (``case check``)."""
    app.actor.require(*DECIDE_ROLES, action=_("record a decision"))
    badge = _badge(app, "record a decision")
    rules = ReviewRules.from_config(app.config)
    flagged, reason = review_required(kind, amount, party, rules)  # validates all three
    kind, money = Kind(kind), parse_amount(amount)
    party = Party(party) if party is not None else None
    with app.transaction() as conn:
        case = get_case(conn, number)
        if badge not in case.handlers and not app.actor.has("records_manager"):
            raise RefusedError(
                _("{name} ({badge}) does not handle case {number}: decisions on a case are "
                  "recorded only by its handlers or a records manager").format(
                    name=app.actor.name or badge, badge=badge, number=number),
                hint=_("ask a handler of the case, or the records office"))
        if case.status == "closed":
            raise RefusedError(_("case {number} was closed on {closed_at}; decisions are "
                                 "recorded on open cases").format(
                                   number=number, closed_at=case.closed_at))
        cur = conn.execute(
            "INSERT INTO case_decisions (case_id, kind, amount, party, note, review_required,"
            " review_reason, rules, decided_at, decided_by, decided_badge)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (case.id, kind.value, stored_amount(money), party and party.value, note,
             int(flagged), reason, json.dumps(rules.as_dict(), sort_keys=True), iso(now),
             app.actor.label, badge))
        decision_id = int(cur.fetchone()[0])
        app.record(conn, "decision.recorded", f"decision:{decision_id}", {
            "case": case.id, "number": case.number, "kind": kind.value,
            "amount": stored_amount(money), "party": party and party.value, "note": note,
            "legal_review_required": flagged, "reason": reason, "rules": rules.as_dict(),
            "decided_at": iso(now)})
        if step:
            add_step(app, conn, case, step, now=now, note=note, decision_id=decision_id)
        hold = _open_review(app, conn, case, decision_id, describe(kind, money, party),
                            now=now) if flagged else None
        result = decision_by_id(conn, decision_id, now)
    result["hold"] = hold
    return result


def _open_review(app: Avledger, conn: db.Connection, case: Case, decision_id: int,
                 what: str, *, now: datetime) -> dict[str, Any]:
    hold = place_review_hold(app, conn, case.id, decision_id=decision_id, now=now,
                             note=f"legal review of decision {decision_id} ({what}) on case "
                                  f"{case.number}")
    cur = conn.execute("INSERT INTO legal_reviews (decision_id, hold_id, flagged_at)"
                       " VALUES (?, ?, ?) RETURNING id", (decision_id, hold["id"], iso(now)))
    review_id = int(cur.fetchone()[0])
    app.record(conn, "review.opened", f"review:{review_id}", {
        "decision": decision_id, "case": case.id, "number": case.number,
        "hold": hold["id"], "flagged_at": iso(now)})
    return hold


def review_decision(app: Avledger, number: str, *, outcome: Outcome | str, note: str,
                    now: datetime, decision_id: int | None = None) -> dict[str, Any]:
    """Close the open legal review of a case's decision and release its hold."""
    app.actor.require(*REVIEW_ROLES, action=_("review decisions"))
    badge = _badge(app, "review decisions")
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise RefusedError(_("unknown outcome {outcome!r} "
                             "(choose from: approved, returned)").format(
                               outcome=outcome)
                           ) from None
    if not note.strip():
        raise RefusedError(_("a legal review needs a note: what was checked, or why the decision "
                             "goes back"))
    with app.transaction() as conn:
        case = get_case(conn, number)
        review = _the_open_review(conn, case, decision_id, now)
        decision = decision_by_id(conn, review["decision_id"], now)
        if badge in case.handlers:
            raise RefusedError(_("{name} ({badge}) handles case {number} and may not review its "
                                 "decisions").format(
                                   name=app.actor.name or badge, badge=badge, number=number))
        if badge == decision["decided_badge"]:
            raise RefusedError(_("{name} ({badge}) recorded decision "
                                 "{id} and may not review it").format(
                                   name=app.actor.name or badge, badge=badge, id=decision['id']))
        conn.execute("UPDATE legal_reviews SET outcome = ?, reviewed_at = ?, reviewed_by = ?,"
                     " reviewer_badge = ?, note = ? WHERE id = ? AND outcome IS NULL",
                     (outcome.value, iso(now), app.actor.label, badge, note, review["id"]))
        app.record(conn, "review.closed", f"review:{review['id']}", {
            "decision": decision["id"], "case": case.id, "number": case.number,
            "outcome": outcome.value, "note": note, "reviewed_at": iso(now),
            "hold": review["hold_id"]})
        hold = end_review_hold(app, conn, review["hold_id"], now=now, review_id=review["id"],
                               outcome=outcome.value,
                               note=f"legal review {review['id']} {outcome.value}: {note}")
        result = decision_by_id(conn, decision["id"], now)
    result["hold"] = hold
    return result


def _the_open_review(conn: db.Connection, case: Case, decision_id: int | None,
                     now: datetime) -> dict[str, Any]:
    """The one open review meant: the only one of the case, or the one of ``decision_id``."""
    reviews = list_reviews(conn, now, open_only=True, case_id=case.id)
    if decision_id is not None:
        chosen = [r for r in reviews if r["decision_id"] == decision_id]
        if not chosen:
            raise RefusedError(_("decision {decision_id} of case {number} is not awaiting legal "
                                 "review").format(decision_id=decision_id,
                                                              number=case.number),
                               hint=_("avledger case show {number}").format(
                                                        number=case.number))
        return chosen[0]
    if not reviews:
        raise RefusedError(_("case {number} has no decision awaiting legal review").format(
                               number=case.number),
                           hint=_("avledger case reviews --open"))
    if len(reviews) > 1:
        ids = ", ".join(str(r["decision_id"]) for r in reviews)
        raise RefusedError(_("case {number} has {count} decisions awaiting legal review ({ids}); "
                             "name one with --decision").format(
                               number=case.number, count=len(reviews), ids=ids))
    return reviews[0]
