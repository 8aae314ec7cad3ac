"""Which proposed decisions are "major" and go through legal review (Annex 2).

Annex 2: a penalty of at least 10,000 yuan on a citizen or at least 100,000 yuan on an
organisation, and every compulsion decision, is reviewed by the legal office before it is made;
the reviewer checks that the facts are clear and the evidence — the footage among it —
sufficient. The thresholds come from the ``decisions`` config section. Only penalties are judged
by amount: licensing and other decisions never need this review, whatever sum they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from avledger.config.loader import Config
from avledger.errors import InputError


class Kind(StrEnum):
    penalty = "penalty"
    compulsion = "compulsion"
    licensing = "licensing"
    other = "other"


class Party(StrEnum):
    citizen = "citizen"
    organisation = "organisation"


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
        raise InputError(f"amount {value!r} is not a number of yuan") from None
    if not amount.is_finite() or amount < 0:
        raise InputError(f"amount {value!r} must be a number of yuan of at least 0")
    if amount != amount.quantize(Decimal("0.01")):
        raise InputError(f"amount {value!r} has more than two decimals (fen)")
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
        raise InputError("a penalty needs both an amount and a party (citizen or organisation)")
    limit = rules.threshold(party)
    if money >= limit:
        return True, (f"a penalty of {_yuan(money)} yuan on a {party.value} reaches the "
                      f"legal-review threshold of {_yuan(limit)} yuan (Annex 2)")
    return False, (f"a penalty of {_yuan(money)} yuan on a {party.value} is below the "
                   f"legal-review threshold of {_yuan(limit)} yuan")
