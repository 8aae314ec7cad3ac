"""The access policy (rule A, Arts. 4-8 and 10) as data, and the pure decision on a request.

``decide(request, facts, policy)`` looks only at its arguments: who asks (category, sub-kind,
badge), for what (view or copy), with which documents, about which footage (the cases it
belongs to, their handlers and confidentiality). It answers granted, needs approval, or
refused — always naming the article that decided, and for a refusal every rule that refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avledger.config.loader import Config
from avledger.core.access.labels import WHO
from avledger.i18n import _

RULE = "rule A"
LEVELS = ("none", "personal-privacy", "commercial-secret", "state-secret")  # loosest first
GRANTED, NEEDS_APPROVAL, REFUSED = "granted", "needs_approval", "refused"


@dataclass(frozen=True)
class CategoryRule:
    name: str
    article: str
    actions: frozenset[str]
    documents: dict[str, frozenset[str]]
    approval: dict[str, bool]
    scope: str
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class SecrecyRule:
    level: str
    article: str
    allowed: frozenset[str]
    approval: bool
    exempt: frozenset[str]


@dataclass(frozen=True)
class Policy:
    categories: dict[str, CategoryRule]
    secrecy: dict[str, SecrecyRule]
    redaction_approval: str = "request"  # request | leader

    @classmethod
    def from_config(cls, config: Config) -> Policy:
        return cls.from_dict(config.get("access"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        cats = {
            name: CategoryRule(
                name, str(c["article"]), frozenset(c["actions"]),
                {a: frozenset(c["documents"][a]) for a in ("view", "copy")},
                {a: bool(c["approval"][a]) for a in ("view", "copy")},
                str(c["scope"]), tuple(c["kinds"]))
            for name, c in data["categories"].items()}
        secrecy = {
            level: SecrecyRule(level, str(s["article"]), frozenset(s["allowed"]),
                               bool(s["approval"]), frozenset(s["approval_exempt"]))
            for level, s in data["confidentiality"].items()}
        return cls(cats, secrecy, str(data.get("redaction", {}).get("approval", "request")))


@dataclass(frozen=True)
class Request:
    """What is asked. ``case`` is the case number named (if any); ``clips`` the footage."""

    category: str
    action: str
    documents: frozenset[str]
    clips: tuple[int, ...]
    case: str | None = None
    badge: str | None = None  # staff requesters
    kind: str | None = None


@dataclass(frozen=True)
class CaseFacts:
    number: str
    handlers: frozenset[str]
    confidentiality: str


@dataclass(frozen=True)
class Facts:
    """What the catalog says about the footage: each clip's cases, and those cases."""

    clip_cases: dict[int, tuple[str, ...]]
    cases: dict[str, CaseFacts]

    @property
    def confidentiality(self) -> str:
        levels = [c.confidentiality for c in self.cases.values()]
        return max(levels, key=LEVELS.index, default="none")


@dataclass(frozen=True)
class Refusal:
    article: str
    reason: str


@dataclass(frozen=True)
class Decision:
    outcome: str  # granted | needs_approval | refused
    article: str  # the article(s) that decided, e.g. "Art. 7, Art. 10"
    confidentiality: str
    refusals: tuple[Refusal, ...] = ()
    approval_by: tuple[str, ...] = field(default=())  # articles that ask for approval

    @property
    def needs_approval(self) -> bool:
        return self.outcome == NEEDS_APPROVAL

    def message(self) -> str:
        """One line naming every rule that refused, or why approval is needed."""
        if self.outcome == REFUSED:
            return "; ".join(f"{RULE}, {r.article}: {r.reason}" for r in self.refusals)
        if self.outcome == NEEDS_APPROVAL:
            return (f"the principal leader must approve ({RULE}, "
                    f"{', '.join(self.approval_by)})")
        return f"allowed without approval ({RULE}, {self.article})"

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "article": self.article,
                "confidentiality": self.confidentiality, "message": self.message(),
                "refusals": [{"article": r.article, "reason": r.reason}
                             for r in self.refusals],
                "approval_by": list(self.approval_by)}


def decide(request: Request, facts: Facts, policy: Policy) -> Decision:
    """The policy's answer to ``request`` about footage described by ``facts``."""
    rule = policy.categories[request.category]
    level = facts.confidentiality
    refusals: list[Refusal] = []
    if request.action not in rule.actions:
        may = " or ".join(sorted(rule.actions)) or "nothing"
        refusals.append(Refusal(rule.article, f"{_who(rule.name)} may {may}, not "
                                              f"{request.action}"))
    if rule.kinds and request.kind not in rule.kinds:
        refusals.append(Refusal(rule.article, f"the requesting body must be one of: "
                                              f"{', '.join(rule.kinds)}"))
    refusals += [Refusal(rule.article, r) for r in _scope_problems(rule, request, facts)]
    secrecy = policy.secrecy.get(level)
    if secrecy is not None and rule.name not in secrecy.allowed:
        who = ", ".join(sorted(secrecy.allowed)) or "nobody"
        refusals.append(Refusal(secrecy.article, f"the footage is {level}; only {who} may "
                                                 "have access"))
    missing = sorted(rule.documents[request.action] - request.documents)
    if missing:
        refusals.append(Refusal(rule.article, f"missing document(s): {', '.join(missing)}"))
    if refusals:
        articles = ", ".join(dict.fromkeys(r.article for r in refusals))
        return Decision(REFUSED, articles, level, tuple(refusals))
    approval_by = []
    if rule.approval[request.action]:
        approval_by.append(rule.article)
    if secrecy is not None and secrecy.approval and rule.name not in secrecy.exempt:
        approval_by.append(secrecy.article)
    if approval_by:
        return Decision(NEEDS_APPROVAL, ", ".join(dict.fromkeys(approval_by)), level,
                        approval_by=tuple(dict.fromkeys(approval_by)))
    return Decision(GRANTED, rule.article, level)


def redaction_needs_leader(decision: Decision, policy: Policy) -> bool:
    """Whether a redaction attached to a request the policy decided so must wait for the
    principal leader: always under ``approval: leader``; else exactly when the request does."""
    if decision.outcome == REFUSED:
        return False
    return policy.redaction_approval == "leader" or decision.needs_approval


def _scope_problems(rule: CategoryRule, request: Request, facts: Facts) -> list[str]:
    if rule.scope == "any":
        return []
    if rule.scope == "one_case":
        if request.case is None:
            return [f"{_who(rule.name)} may see only the footage of the one case asked about;"
                    " name the case"]
        strays = [c for c in request.clips if request.case not in facts.clip_cases.get(c, ())]
        return [f"clip {c} is not footage of case {request.case}" for c in strays]
    if rule.scope == "case_footage":
        loose = [c for c in request.clips if not facts.clip_cases.get(c)]
        return [f"clip {c} belongs to no enforcement case; only case footage is shown to "
                f"{_who(rule.name)}" for c in loose]
    # handled_cases: every clip must be footage of a case the requester handles
    badge = request.badge or "?"
    problems = []
    if request.case is not None and badge not in facts.cases[request.case].handlers:
        problems.append(_("{badge} is not a handler of case {case}").format(
                            badge=badge, case=request.case))
    for clip in request.clips:
        handled = [k for k in facts.clip_cases.get(clip, ()) if badge in facts.cases[k].handlers]
        if not handled and request.case is None:
            problems.append(_("clip {clip} is not footage of a case {badge} handles").format(
                                clip=clip, badge=badge))
    return problems


def _who(category: str) -> str:
    return WHO.get(category, category.replace("_", " "))
