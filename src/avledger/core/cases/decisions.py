"""Which proposed decisions are "major" and go through legal review (Annex 2), and the
register of decisions and reviews as it is read (listings, ``case show``, reports).

Annex 2: a penalty of at least 10,000 yuan on a citizen or at least 100,000 yuan on an
organisation, and every compulsion decision, is reviewed by the legal office before it is made;
the reviewer checks that the facts are clear and the evidence — the footage among it —
sufficient. The thresholds come from the ``decisions`` config section. Only penalties are judged
by amount: licensing and other decisions never need this review, whatever sum they name.
Recording decisions and closing reviews (which writes) lives in ``core.legal_review``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from avledger.config.loader import Config
from avledger.errors import InputError
from avledger.i18n import _
from avledger.store import db
from avledger.timestamps import parse_iso


class Kind(StrEnum):
    penalty = "penalty"
    compulsion = "compulsion"
    licensing = "licensing"
    other = "other"


class Party(StrEnum):
    citizen = "citizen"
    organisation = "organisation"

    @property
    def named(self) -> str:
        """'a citizen', 'an organisation' (how reasons and listings name the party)."""
        return f"{'an' if self is Party.organisation else 'a'} {self.value}"


class Outcome(StrEnum):
    """How a legal review ends: the decision may be made, or goes back to the handler."""

    approved = "approved"
    returned = "returned"


@dataclass(frozen=True)
class ReviewRules:
    """The thresholds in force, read once from the config."""

    citizen_threshold: Decimal
    organisation_threshold: Decimal
    every_compulsion: bool

    @classmethod
    def from_config(cls, config: Config) -> ReviewRules:
        return cls(Decimal(str(config.get("decisions.citizen_threshold_yuan"))),
                   Decimal(str(config.get("decisions.organisation_threshold_yuan"))),
                   bool(config.get("decisions.review_every_compulsion")))

    def threshold(self, party: Party) -> Decimal:
        return self.citizen_threshold if party is Party.citizen else self.organisation_threshold

    def as_dict(self) -> dict[str, Any]:
        """The rules as recorded with each decision, so a flag can be explained years later."""
        return {"citizen_threshold_yuan": str(self.citizen_threshold),
                "organisation_threshold_yuan": str(self.organisation_threshold),
                "review_every_compulsion": self.every_compulsion}


def yuan_text(value: Decimal | str | None) -> str:
    """An amount as people write it: '10,000'; '9,999.50'; '-' for none."""
    return "-" if value is None else _yuan(Decimal(value))


def _yuan(value: Decimal) -> str:
    """10000 → '10,000'; 9999.5 → '9,999.50' (how amounts appear in reasons)."""
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def parse_amount(value: Decimal | int | float | str | None) -> Decimal | None:
    """An amount in yuan: a finite number of at least 0 with at most two decimals (fen)."""
    if value is None:
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise InputError(_("amount {value!r} is "
                           "not a number of yuan").format(value=value)) from None
    if not amount.is_finite() or amount < 0:
        raise InputError(_("amount {value!r} must be a number of yuan of at least 0").format(
                             value=value))
    if amount != amount.quantize(Decimal("0.01")):
        raise InputError(_("amount {value!r} has more than two decimals (fen)").format(value=value))
    return amount


def review_required(kind: Kind | str, amount: Decimal | int | float | str | None,
                    party: Party | str | None, config: Config | ReviewRules
                    ) -> tuple[bool, str]:
    """Whether a proposed decision needs legal review, and the reason in one sentence."""
    rules = config if isinstance(config, ReviewRules) else ReviewRules.from_config(config)
    try:
        kind = Kind(kind)
        party = Party(party) if party is not None else None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    money = parse_amount(amount)
    if kind is Kind.compulsion:
        if rules.every_compulsion:
            return True, "every compulsion decision goes through legal review (Annex 2)"
        return False, "compulsion decisions are not reviewed under this configuration"
    if kind is not Kind.penalty:
        return False, f"{kind.value} decisions do not need legal review (Annex 2 covers " \
                      "penalties and compulsion)"
    if money is None or party is None:
        raise InputError(_("a penalty needs both an amount and a party (citizen or organisation)"))
    limit = rules.threshold(party)
    if money >= limit:
        return True, (f"a penalty of {_yuan(money)} yuan on {party.named} reaches the "
                      f"legal-review threshold of {_yuan(limit)} yuan (Annex 2)")
    return False, (f"a penalty of {_yuan(money)} yuan on {party.named} is below the "
                   f"legal-review threshold of {_yuan(limit)} yuan")


# ---- the register, read --------------------------------------------------------------------

def stored_amount(amount: Decimal | None) -> str | None:
    """How an amount is stored and exported: exact, two decimals ('10000.00')."""
    return None if amount is None else f"{amount:.2f}"


def age_days(since: str, until: datetime) -> int:
    """Whole days from ``since`` (stored time) to ``until``; never negative."""
    return max(0, int((until - parse_iso(since)).total_seconds() // 86400))


_REVIEWS = (
    "SELECT r.id, r.decision_id, d.case_id, k.number AS case_number, k.name AS case_name,"
    " d.kind, d.amount, d.party, r.flagged_at, d.decided_by AS flagged_by, r.hold_id,"
    " r.outcome, r.reviewed_at, r.reviewed_by, r.note"
    " FROM legal_reviews r JOIN case_decisions d ON d.id = r.decision_id"
    " JOIN cases k ON k.id = d.case_id")


def _review(row: db.Row, now: datetime) -> dict[str, Any]:
    item = dict(row)
    item["open"] = row["outcome"] is None
    end = parse_iso(row["reviewed_at"]) if row["reviewed_at"] else now
    item["age_days"] = age_days(row["flagged_at"], end)
    return item


def list_reviews(conn: db.Connection, now: datetime, *, open_only: bool = False,
                 case_id: int | None = None) -> list[dict[str, Any]]:
    """Legal reviews, oldest first. ``age_days``: days open so far, or until it was closed."""
    where = []
    params: list[Any] = []
    if open_only:
        where.append("r.outcome IS NULL")
    if case_id is not None:
        where.append("d.case_id = ?")
        params.append(case_id)
    sql = _REVIEWS + (" WHERE " + " AND ".join(where) if where else "") + \
        " ORDER BY r.flagged_at, r.id"
    return [_review(row, now) for row in conn.execute(sql, params)]


def open_reviews(conn: db.Connection, now: datetime) -> list[dict[str, Any]]:
    """Decisions awaiting legal review at ``now``, oldest first (for listings and reports).

    Each item: ``id`` (review), ``decision_id``, ``case_id``, ``case_number``, ``case_name``,
    ``kind``, ``amount`` (yuan as an exact string such as "10000.00", or None), ``party``
    (citizen | organisation | None), ``flagged_at`` (UTC ISO), ``flagged_by`` (ledger actor),
    ``hold_id`` (the legal-review hold on the case's footage) and ``age_days`` (whole days
    since it was flagged). Also ``open`` (always True here) and the empty review fields
    ``outcome``, ``reviewed_at``, ``reviewed_by``, ``note``.
    """
    return list_reviews(conn, now, open_only=True)


def open_review_ids(conn: db.Connection, case_id: int) -> list[int]:
    """The reviews of one case still open (they block closing the case and unlinking clips)."""
    return [int(r[0]) for r in conn.execute(
        "SELECT r.id FROM legal_reviews r JOIN case_decisions d ON d.id = r.decision_id"
        " WHERE d.case_id = ? AND r.outcome IS NULL ORDER BY r.id", (case_id,))]


def decision_status(review: dict[str, Any] | None) -> str:
    """recorded (no review needed) | under-review | approved | returned."""
    if review is None:
        return "recorded"
    return "under-review" if review["open"] else str(review["outcome"])


def decisions_of_case(conn: db.Connection, case_id: int,
                      now: datetime) -> list[dict[str, Any]]:
    """Every decision recorded on a case, oldest first, each with its review (or None)."""
    reviews = {r["decision_id"]: r for r in list_reviews(conn, now, case_id=case_id)}
    return [_decision(row, reviews.get(row["id"])) for row in conn.execute(
        "SELECT d.*, k.number AS case_number FROM case_decisions d"
        " JOIN cases k ON k.id = d.case_id WHERE d.case_id = ? ORDER BY d.id", (case_id,))]


def decision_by_id(conn: db.Connection, decision_id: int, now: datetime) -> dict[str, Any]:
    row = conn.execute("SELECT d.*, k.number AS case_number FROM case_decisions d"
                       " JOIN cases k ON k.id = d.case_id WHERE d.id = ?",
                       (decision_id,)).fetchone()
    review = next((r for r in list_reviews(conn, now, case_id=row["case_id"])
                   if r["decision_id"] == decision_id), None)
    return _decision(row, review)


def _decision(row: db.Row, review: dict[str, Any] | None) -> dict[str, Any]:
    item = dict(row)
    item["review_required"] = bool(row["review_required"])
    item["rules"] = json.loads(row["rules"])
    item["status"] = decision_status(review)
    item["review"] = review
    return item
