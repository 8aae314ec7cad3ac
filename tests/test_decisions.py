"""Annex 2: which proposed decisions need legal review — the threshold edges exactly."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from avledger.config import loader, schema
from avledger.core.cases.decisions import ReviewRules, review_required
from avledger.errors import InputError

ANNEX_2 = ReviewRules(Decimal(10000), Decimal(100000), True)


@pytest.mark.parametrize(("amount", "party", "needed"), [
    (9999, "citizen", False),
    ("9999.99", "citizen", False),
    (10000, "citizen", True),
    ("10,000", "citizen", True),
    (Decimal("10000.00"), "citizen", True),
    (250000, "citizen", True),
    (0, "citizen", False),
    (99999, "organisation", False),
    ("99999.99", "organisation", False),
    (100000, "organisation", True),
    (100001, "organisation", True),
    (10000, "organisation", False),  # the citizen threshold does not apply to organisations
    (99999, "citizen", True),
])
def test_penalty_thresholds(amount: object, party: str, needed: bool) -> None:
    flagged, reason = review_required("penalty", amount, party, ANNEX_2)
    assert flagged is needed
    threshold = "10,000" if party == "citizen" else "100,000"
    assert f"threshold of {threshold} yuan" in reason
    assert ("reaches" in reason) is needed


@pytest.mark.parametrize(("amount", "party"), [
    (None, None), (0, "citizen"), (1, "organisation"), (5_000_000, "organisation"),
    (None, "citizen"),
])
def test_every_compulsion_is_reviewed(amount: object, party: str | None) -> None:
    flagged, reason = review_required("compulsion", amount, party, ANNEX_2)
    assert flagged is True
    assert "every compulsion" in reason


@pytest.mark.parametrize("kind", ["licensing", "other"])
@pytest.mark.parametrize(("amount", "party"), [(None, None), (10000, "citizen"),
                                               (5_000_000, "organisation")])
def test_licensing_and_other_are_never_reviewed(kind: str, amount: object,
                                                party: str | None) -> None:
    flagged, reason = review_required(kind, amount, party, ANNEX_2)
    assert flagged is False
    assert f"{kind} decisions do not need legal review" in reason


@pytest.mark.parametrize(("kind", "amount", "party", "message"), [
    ("penalty", None, "citizen", "needs both an amount and a party"),
    ("penalty", 10000, None, "needs both an amount and a party"),
    ("penalty", -1, "citizen", "of at least 0"),
    ("penalty", "10000.005", "citizen", "more than two decimals"),
    ("penalty", "ten thousand", "citizen", "not a number"),
    ("penalty", "NaN", "citizen", "of at least 0"),
    ("fine", 10000, "citizen", "'fine' is not a valid Kind"),
    ("penalty", 10000, "company", "'company' is not a valid Party"),
])
def test_bad_input_is_refused(kind: str, amount: object, party: str | None,
                              message: str) -> None:
    with pytest.raises(InputError, match=message):
        review_required(kind, amount, party, ANNEX_2)


def write_config(home: Path, text: str) -> None:
    cfg = home / "avledger.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_defaults_come_from_the_config(home: Path) -> None:
    config = loader.load()
    assert ReviewRules.from_config(config) == ANNEX_2
    assert review_required("penalty", 10000, "citizen", config)[0] is True
    assert review_required("penalty", 9999, "citizen", config)[0] is False


def test_thresholds_are_configurable(home: Path) -> None:
    write_config(home, "decisions:\n  citizen_threshold_yuan: 5000\n"
                       "  organisation_threshold_yuan: 50000.5\n"
                       "  review_every_compulsion: false\n")
    config = loader.load()
    assert review_required("penalty", 4999, "citizen", config)[0] is False
    assert review_required("penalty", 5000, "citizen", config)[0] is True
    assert review_required("penalty", "50000.49", "organisation", config)[0] is False
    flagged, reason = review_required("penalty", "50000.50", "organisation", config)
    assert flagged is True and "50,000.50 yuan" in reason
    assert review_required("compulsion", None, None, config)[0] is False


def test_config_validation_names_the_path() -> None:
    problems = schema.validate({"decisions": {"citizen_threshold_yuan": -1,
                                              "review_every_compulsion": "yes"},
                                "inspections": {"rate_percent": 0, "inspectors": 0}})
    assert problems == [
        "decisions.citizen_threshold_yuan: must be a number of at least 0",
        "decisions.review_every_compulsion: must be true or false",
        "inspections.rate_percent: must be a percentage above 0 and at most 100",
        "inspections.inspectors: must be a positive integer",
    ]
