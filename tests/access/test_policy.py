"""The pure policy: the shipped defaults reproduce rule A, Arts. 4-8 and 10; a site changes
them in the config without code; every refusal names its article; properties that must hold
for any request."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from avledger.config import schema
from avledger.config.loader import check_file
from avledger.core.access.policy import (
    GRANTED,
    NEEDS_APPROVAL,
    REFUSED,
    CaseFacts,
    Facts,
    Policy,
    Request,
    decide,
)

DEFAULTS: dict[str, Any] = schema.defaults()["access"]
POLICY = Policy.from_dict(DEFAULTS)
NEEDED = {"case_handler": (), "internal_staff": (), "judicial": ("unit_letter", "id_card"),
          "party": ("unit_letter", "id_card"),
          "party_lawyer": ("unit_letter", "id_card", "power_of_attorney", "authorisation",
                           "lawyer_licence"),
          "external_agency": ("unit_letter",)}
KIND = {"judicial": "court"}


def facts(level: str = "none", handlers: tuple[str, ...] = ("0003",)) -> Facts:
    return Facts({1: ("K1",), 2: ("K1",)}, {"K1": CaseFacts("K1", frozenset(handlers), level)})


def ask(category: str, action: str, *, docs: tuple[str, ...] | None = None,
        case: str | None = "K1", clips: tuple[int, ...] = (1, 2), badge: str = "0003",
        policy: Policy = POLICY, level: str = "none") -> Any:
    request = Request(category, action, frozenset(NEEDED[category] if docs is None else docs),
                      clips, case, badge, KIND.get(category))
    return decide(request, facts(level), policy)


# The regulation, article by article: (category, action) -> (outcome, article)
RULE_A = {
    ("case_handler", "view"): (GRANTED, "Art. 4"),
    ("case_handler", "copy"): (NEEDS_APPROVAL, "Art. 4"),
    ("internal_staff", "view"): (NEEDS_APPROVAL, "Art. 5"),
    ("internal_staff", "copy"): (REFUSED, "Art. 5"),
    ("judicial", "view"): (GRANTED, "Art. 6"),
    ("judicial", "copy"): (GRANTED, "Art. 6"),
    ("party", "view"): (NEEDS_APPROVAL, "Art. 7"),
    ("party", "copy"): (REFUSED, "Art. 7"),
    ("party_lawyer", "view"): (NEEDS_APPROVAL, "Art. 7"),
    ("party_lawyer", "copy"): (REFUSED, "Art. 7"),
    ("external_agency", "view"): (NEEDS_APPROVAL, "Art. 8"),
    ("external_agency", "copy"): (NEEDS_APPROVAL, "Art. 8"),
}


@pytest.mark.parametrize(("category", "action"), sorted(RULE_A))
def test_defaults_reproduce_rule_a(category: str, action: str) -> None:
    decision = ask(category, action)
    assert (decision.outcome, decision.article) == RULE_A[(category, action)]


@pytest.mark.parametrize(("category", "level", "expected"), [
    ("case_handler", "commercial-secret", (GRANTED, "Art. 4")),  # the handler is exempt
    ("case_handler", "personal-privacy", (GRANTED, "Art. 4")),
    ("judicial", "commercial-secret", (NEEDS_APPROVAL, "Art. 10")),
    ("judicial", "personal-privacy", (NEEDS_APPROVAL, "Art. 10")),
    ("party", "commercial-secret", (NEEDS_APPROVAL, "Art. 7, Art. 10")),
    ("judicial", "state-secret", (NEEDS_APPROVAL, "Art. 10")),
    ("case_handler", "state-secret", (REFUSED, "Art. 10")),
    ("internal_staff", "state-secret", (REFUSED, "Art. 10")),
    ("party_lawyer", "state-secret", (REFUSED, "Art. 10")),
    ("external_agency", "state-secret", (REFUSED, "Art. 10")),
])
def test_confidentiality_tightens_art10(category: str, level: str,
                                        expected: tuple[str, str]) -> None:
    decision = ask(category, "view", level=level)
    assert (decision.outcome, decision.article) == expected
    assert decision.confidentiality == level


def test_every_refusal_is_named_with_its_article() -> None:
    decision = ask("party", "copy", docs=("unit_letter",), case=None, clips=(1,),
                   level="state-secret")
    assert decision.outcome == REFUSED and decision.article == "Art. 7, Art. 10"
    assert decision.message() == (
        "rule A, Art. 7: the party may view, not copy; "
        "rule A, Art. 7: the party may see only the footage of the one case asked about; "
        "name the case; "
        "rule A, Art. 10: the footage is state-secret; only judicial may have access; "
        "rule A, Art. 7: missing document(s): id_card")


def test_scope_rules() -> None:
    assert ask("case_handler", "view", badge="0009").refusals[0].reason == \
        "0009 is not a handler of case K1"
    loose = Facts({7: ()}, {})
    for category in ("judicial", "case_handler"):
        req = Request(category, "view", frozenset(NEEDED[category]), (7,), None, "0003",
                      KIND.get(category))
        assert decide(req, loose, POLICY).outcome == REFUSED
    staff = Request("internal_staff", "view", frozenset(), (7,), None, "0004")
    assert decide(staff, loose, POLICY).outcome == NEEDS_APPROVAL  # scope 'any'
    # The strictest level among the footage's cases counts.
    mixed = Facts({1: ("K1",), 2: ("K2",)}, {"K1": CaseFacts("K1", frozenset(), "none"),
                                             "K2": CaseFacts("K2", frozenset(),
                                                             "personal-privacy")})
    court = Request("judicial", "view", frozenset(NEEDED["judicial"]), (1, 2), None, None,
                    "court")
    assert decide(court, mixed, POLICY).confidentiality == "personal-privacy"


def test_a_site_changes_the_policy_without_code(tmp_path: Path) -> None:
    site = copy.deepcopy(DEFAULTS)
    site["categories"]["internal_staff"]["actions"] = ["view", "copy"]
    site["categories"]["judicial"]["approval"]["copy"] = True
    site["confidentiality"]["state-secret"]["allowed"] = ["judicial", "case_handler"]
    site["confidentiality"]["personal-privacy"]["approval"] = False
    policy = Policy.from_dict(site)
    assert ask("internal_staff", "copy", policy=policy).outcome == NEEDS_APPROVAL
    assert ask("judicial", "copy", policy=policy).outcome == NEEDS_APPROVAL
    assert ask("case_handler", "view", policy=policy, level="state-secret").outcome == \
        NEEDS_APPROVAL
    assert ask("judicial", "view", policy=policy, level="personal-privacy").outcome == GRANTED
    # The same change written in a config file validates.
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"access": {"categories": {"internal_staff": {
        "actions": ["view", "copy"]}}}}))
    assert check_file(path) == []


@pytest.mark.parametrize(("override", "problem"), [
    ({"categories": {"party": {"documents": {"view": ["passport"]}}}},
     "access.categories.party.documents.view: unknown value(s) passport"),
    ({"categories": {"notary": {}}}, "access.categories.notary: unknown key"),
    ({"categories": {"party": {"actions": ["view", "print"]}}},
     "access.categories.party.actions: unknown value(s) print"),
    ({"categories": {"party": {"scope": "everything"}}},
     "access.categories.party.scope: must be one of: handled_cases, any"),
    ({"confidentiality": {"state-secret": {"allowed": ["judges"]}}},
     "access.confidentiality.state-secret.allowed: unknown value(s) judges"),
    ({"categories": {"judicial": {"approval": {"copy": "yes"}}}},
     "access.categories.judicial.approval.copy: must be true or false"),
])
def test_bad_policy_config_names_the_path(tmp_path: Path, override: dict[str, Any],
                                          problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"access": override}))
    problems = check_file(path)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


CATEGORIES = sorted(NEEDED)
DOCS = sorted(schema.ACCESS_DOCUMENTS)
LEVELS = ("none", "personal-privacy", "commercial-secret", "state-secret")


@settings(max_examples=300, deadline=None)
@given(category=st.sampled_from(CATEGORIES), action=st.sampled_from(["view", "copy"]),
       docs=st.sets(st.sampled_from(DOCS)), extra=st.sets(st.sampled_from(DOCS)),
       level=st.sampled_from(LEVELS), named_case=st.booleans(),
       badge=st.sampled_from(["0003", "0004"]),
       kind=st.sampled_from([None, "court", "police"]))
def test_decision_properties(category: str, action: str, docs: set[str], extra: set[str],
                             level: str, named_case: bool, badge: str,
                             kind: str | None) -> None:
    base = Facts({1: ("K1",)}, {"K1": CaseFacts("K1", frozenset({"0003"}), level)})
    req = Request(category, action, frozenset(docs), (1,), "K1" if named_case else None,
                  badge, kind)
    decision = decide(req, base, POLICY)
    rule = POLICY.categories[category]
    articles = {c.article for c in POLICY.categories.values()} | {"Art. 10"}
    assert (decision.outcome == REFUSED) == bool(decision.refusals)
    assert all(r.article in articles and r.reason for r in decision.refusals)
    if set(rule.documents[action]) - docs:
        assert decision.outcome == REFUSED
    if decision.outcome == GRANTED:
        assert not rule.approval[action]
    # Showing more documents never makes the answer stricter.
    more = decide(Request(category, action, frozenset(docs | extra), req.clips, req.case,
                          badge, kind), base, POLICY)
    order = [GRANTED, NEEDS_APPROVAL, REFUSED]
    assert order.index(more.outcome) <= order.index(decision.outcome)
    # Confidentiality never loosens the answer.
    plain = decide(req, Facts(base.clip_cases, {"K1": CaseFacts("K1", frozenset({"0003"}),
                                                                "none")}), POLICY)
    assert order.index(plain.outcome) <= order.index(decision.outcome)
