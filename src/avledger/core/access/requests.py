"""Access requests: registered, decided (by the policy or the principal leader), fulfilled.

Every request is written in the access register (查阅登记簿, rule A, Art. 3) — also one the
policy refuses, which is registered as denied with the article that refused it. A request the
policy allows without approval (a handler viewing their own case, Art. 4) is approved at once.
The leader (role ``leader``) approves or denies the rest, never their own request nor one they
registered. Each state change is a ledger event on ``access:<id>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from avledger.config.schema import ACCESS_ACTIONS, ACCESS_DOCUMENTS
from avledger.core.access import policy as pol
from avledger.core.access import redactions as red
from avledger.core.app import Avledger
from avledger.core.caseref import Case, case_by_id, clips_of_case, get_case
from avledger.core.clipref import fetch_clips
from avledger.core.identity import Actor, find_person
from avledger.core.redact.derived import plan
from avledger.core.redact.spec import Spec
from avledger.errors import NotFoundError, RefusedError
from avledger.i18n import N_, _
from avledger.store import db
from avledger.timestamps import iso

STAFF_CATEGORIES = ("case_handler", "internal_staff")
REGISTER_ROLES = ("clerk", "records_manager", "handler", "leader")
OFFICE_ROLES = ("clerk", "records_manager")  # the records office: registers for anyone, fulfils
POLICY = "policy"  # decided_by when the policy itself approved or refused


@dataclass(frozen=True)
class NewRequest:
    """A request as the records office writes it down."""

    category: str
    action: str
    purpose: str
    documents: tuple[str, ...] = ()
    requester: str | None = None
    badge: str | None = None
    unit: str | None = None
    kind: str | None = None
    case: str | None = None
    clips: tuple[int, ...] = ()
    redactions: tuple[tuple[int | None, Spec], ...] = ()  # (clip or None: the only one, spec)


# ---- reading ------------------------------------------------------------------------------


def _as_dict(conn: db.Connection, row: db.Row) -> dict[str, Any]:
    item = dict(row)
    item["documents"] = json.loads(row["documents"])
    item["clips"] = json.loads(row["clips"])
    item["case_number"] = None
    if row["case_id"] is not None:
        item["case_number"] = case_by_id(conn, row["case_id"]).number
    view = conn.execute("SELECT started_at, ended_at, player, result FROM access_viewings"
                        " WHERE request_id = ?", (row["id"],)).fetchone()
    item["viewing"] = None if view is None else {
        "started_at": view["started_at"], "ended_at": view["ended_at"], "player": view["player"],
        "result": json.loads(view["result"]) if view["result"] else None}
    item["redactions"] = red.summary(conn, int(row["id"]))
    return item


def get_request(conn: db.Connection, request_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM access_requests WHERE id = ?", (request_id,)).fetchone()
    if row is None:
        raise NotFoundError(_("no access request {request_id}").format(request_id=request_id),
                            hint=_("see 'avledger access list'"))
    return _as_dict(conn, row)


def list_requests(conn: db.Connection, *, status: str | None = None,
                  category: str | None = None) -> list[dict[str, Any]]:
    clauses = [(c, v) for c, v in (("status = ?", status), ("category = ?", category))
               if v is not None]
    where = " WHERE " + " AND ".join(c for c, _ in clauses) if clauses else ""
    rows = conn.execute(f"SELECT * FROM access_requests{where} ORDER BY id",
                        tuple(v for _, v in clauses)).fetchall()
    return [_as_dict(conn, r) for r in rows]


def history(conn: db.Connection, request_id: int) -> list[dict[str, Any]]:
    """The request's own ledger events, oldest first."""
    rows = conn.execute("SELECT seq, ts, actor, type, payload FROM ledger WHERE subject = ?"
                        " ORDER BY seq", (f"access:{request_id}",))
    return [{"seq": r["seq"], "ts": r["ts"], "actor": r["actor"], "type": r["type"],
             "payload": json.loads(r["payload"])} for r in rows]


# ---- the facts the policy looks at ----------------------------------------------------------


def facts_for(conn: db.Connection, clip_ids: list[int],
              case: Case | None = None) -> pol.Facts:
    """Each clip's cases, and every such case's handlers and confidentiality."""
    clip_cases: dict[int, list[str]] = {c: [] for c in clip_ids}
    cases: dict[str, pol.CaseFacts] = {}
    if case is not None:
        cases[case.number] = pol.CaseFacts(case.number, frozenset(case.handlers),
                                           case.confidentiality)
    for part in db.chunks(clip_ids):
        marks = ",".join("?" * len(part))
        for row in conn.execute(
                "SELECT cc.clip_id, k.id, k.number, k.confidentiality FROM clip_cases cc"
                f" JOIN cases k ON k.id = cc.case_id WHERE cc.clip_id IN ({marks})"
                " ORDER BY k.id", part):
            clip_cases[int(row["clip_id"])].append(row["number"])
            if row["number"] not in cases:
                handlers = frozenset(r[0] for r in conn.execute(
                    "SELECT badge FROM case_handlers WHERE case_id = ?", (row["id"],)))
                cases[row["number"]] = pol.CaseFacts(row["number"], handlers,
                                                     row["confidentiality"])
    return pol.Facts({c: tuple(v) for c, v in clip_cases.items()}, cases)


def resolve_footage(conn: db.Connection, case_number: str | None,
                    clip_ids: tuple[int, ...]) -> tuple[Case | None, list[int]]:
    """The case named and the clips asked for (a case alone: its footage still stored)."""
    if case_number is None and not clip_ids:
        raise RefusedError(_("name the footage: --case, --clip, or both"))
    case = get_case(conn, case_number) if case_number is not None else None
    if clip_ids:
        rows = fetch_clips(conn, clip_ids)
        purged = [i for i, r in rows.items() if r["status"] == "purged"]
        if purged:
            raise RefusedError(_("clip(s) {clips} were purged; "
                                 "only their tombstone remains").format(
                                   clips=', '.join(map(str, purged))))
        if case is not None:
            linked = set(clips_of_case(conn, case.id))
            strays = [i for i in rows if i not in linked]
            if strays:
                raise RefusedError(_("clip(s) {clips} are not footage of case {number}").format(
                                       clips=', '.join(map(str, strays)), number=case.number),
                                   hint=_("see 'avledger case show {number}'").format(
                                            number=case.number))
        return case, list(rows)
    assert case is not None
    ids = clips_of_case(conn, case.id)
    stored = [i for i, r in fetch_clips(conn, ids).items() if r["status"] != "purged"]
    if not stored:
        raise RefusedError(_("case {number} has no footage in the store").format(
                               number=case.number))
    return case, stored


def footage_bytes(conn: db.Connection, clip_ids: list[int]) -> int:
    return sum(int(r["size"]) for r in fetch_clips(conn, clip_ids).values())


def policy_request(new: NewRequest, case: Case | None, clips: list[int]) -> pol.Request:
    return pol.Request(new.category, new.action, frozenset(new.documents), tuple(clips),
                       case.number if case else None, new.badge, new.kind)


# ---- registering ----------------------------------------------------------------------------


def _validated(app: Avledger, new: NewRequest, policy: pol.Policy) -> NewRequest:
    """The request with its requester filled in; input that no rule could judge is refused
    here, before anything is registered."""
    actor = app.actor
    actor.require(*REGISTER_ROLES, action=_("register access requests"))
    if new.category not in policy.categories:
        raise RefusedError(_("unknown requester category {category!r} "
                             "(choose from: {categories})").format(
                               category=new.category, categories=', '.join(policy.categories)))
    if new.action not in ACCESS_ACTIONS:
        raise RefusedError(_("unknown action {action!r} (choose from: view, copy)").format(
                               action=new.action))
    unknown = [d for d in new.documents if d not in ACCESS_DOCUMENTS]
    if unknown:
        raise RefusedError(_("unknown document(s) {unknown} (known: {ACCESS_DOCUMENTS})").format(
                               unknown=', '.join(unknown),
                               ACCESS_DOCUMENTS=', '.join(ACCESS_DOCUMENTS)))
    if not new.purpose.strip():
        raise RefusedError(_("a request needs its purpose (--purpose)"))
    kinds = policy.categories[new.category].kinds
    if new.kind is not None and new.kind not in kinds:
        raise RefusedError(
            _("unknown kind {kind!r} for {category} (choose from: {kinds})").format(
                kind=new.kind, category=new.category, kinds=", ".join(kinds)) if kinds else
            _("unknown kind {kind!r} for {category} (this category has no kinds)").format(
                kind=new.kind, category=new.category))
    requester, badge, unit = new.requester, new.badge, new.unit
    if new.category in STAFF_CATEGORIES:
        badge = badge or actor.badge
        person = find_person(app.config, badge) if badge else None
        if person is None:
            raise NotFoundError(_("staff requester badge {badge!r} is not on the roster").format(
                                    badge=badge),
                                hint=_("staff requesters are named by --badge"))
        requester = requester or str(person["name"])
        unit = unit or person.get("unit")
        if badge != actor.badge and not actor.roles & {"clerk", "records_manager", "leader"}:
            raise RefusedError(_("{name} ({badge}) may register requests only for themselves; "
                                 "the records office registers others'").format(
                                   name=actor.name, badge=actor.badge))
    else:
        if badge:
            raise RefusedError(_("--badge names staff; a {category} requester is named by "
                                 "--requester").format(category=new.category))
        if not (requester or "").strip():
            raise RefusedError(_("a {category} request needs the "
                                 "requester's name (--requester)").format(
                                   category=new.category))
        if not actor.roles & {"clerk", "records_manager", "leader"}:
            raise RefusedError(_("requests from outside the bureau are registered by the records "
                                 "office (role clerk or records_manager)"))
    return NewRequest(new.category, new.action, new.purpose.strip(),
                      tuple(dict.fromkeys(new.documents)), requester, badge, unit, new.kind,
                      new.case, new.clips, new.redactions)


def preview(app: Avledger, new: NewRequest) -> dict[str, Any]:
    """What the policy would decide (``--dry-run``); registers nothing."""
    policy = pol.Policy.from_config(app.config)
    new = _validated(app, new, policy)
    conn = app.catalog.conn
    case, clips = resolve_footage(conn, new.case, new.clips)
    decision = pol.decide(policy_request(new, case, clips), facts_for(conn, clips, case), policy)
    return {"dry_run": True, "requester": new.requester, "category": new.category,
            "action": new.action, "case": case.number if case else None, "clips": clips,
            "decision": decision.as_dict()}


def file_request(app: Avledger, new: NewRequest, *, now: datetime) -> dict[str, Any]:
    """Register a request with the policy's decision; raise RefusedError (after registering it
    as denied) when the policy refuses it."""
    policy = pol.Policy.from_config(app.config)
    new = _validated(app, new, policy)
    if new.redactions:  # each spec checked against its clip before anything is registered
        asked = resolve_footage(app.catalog.conn, new.case, new.clips)[1]
        for clip, spec in new.redactions:
            plan(app, red.clip_for(asked, clip), spec)
    with app.transaction() as conn:
        case, clips = resolve_footage(conn, new.case, new.clips)
        decision = pol.decide(policy_request(new, case, clips), facts_for(conn, clips, case),
                              policy)
        status = {pol.GRANTED: "approved", pol.NEEDS_APPROVAL: "pending",
                  pol.REFUSED: "denied"}[decision.outcome]
        specs = [(red.clip_for(clips, clip), spec) for clip, spec in new.redactions]
        if specs and status == "approved" and pol.redaction_needs_leader(decision, policy):
            status = "pending"  # the policy asks the leader to approve the redaction
        decided = status != "pending"
        note = decision.message() if decided else None
        cur = conn.execute(
            "INSERT INTO access_requests (requested_at, registered_by, requester,"
            " requester_badge, requester_unit, category, kind, action, purpose, documents,"
            " case_id, clips, confidentiality, article, needs_approval, status, decided_at,"
            " decided_by, decision_note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?) RETURNING id",
            (iso(now), app.actor.label, new.requester, new.badge, new.unit, new.category,
             new.kind, new.action, new.purpose, json.dumps(list(new.documents)),
             case.id if case else None, json.dumps(clips), decision.confidentiality,
             decision.article, int(status == "pending"), status,
             iso(now) if decided else None, POLICY if decided else None, note))
        request_id = int(cur.fetchone()[0])
        subject = f"access:{request_id}"
        app.record(conn, "access.requested", subject, {
            "requester": new.requester, "badge": new.badge, "unit": new.unit,
            "category": new.category, "kind": new.kind, "action": new.action,
            "purpose": new.purpose, "documents": list(new.documents),
            "case": case.number if case else None, "clips": clips,
            "decision": decision.as_dict()})
        if status != "denied":
            for clip_id, spec in specs:
                red.attach(app, conn, request_id, clip_id, spec, now)
        if status == "approved":
            app.record(conn, "access.approved", subject, {"by": POLICY,
                                                          "article": decision.article})
        elif status == "denied":
            app.record(conn, "access.denied", subject, {"by": POLICY,
                                                        "article": decision.article,
                                                        "reason": note})
        item = get_request(conn, request_id)
    item["decision"] = decision.as_dict()
    if status == "denied":
        raise RefusedError(_("request {request_id} refused — {message}").format(
                               request_id=request_id, message=decision.message()),
                           hint=_("it is in the access register as denied"))
    return item


# ---- redaction specs attached later -------------------------------------------------------


def attach_redaction(app: Avledger, request_id: int, clip: int | None, spec: Spec, *,
                     now: datetime) -> dict[str, Any]:
    """Attach a spec to a request not yet fulfilled. An approval already given covered the
    unredacted disclosure, so the request goes back to the leader — unless the policy itself
    approved it and approves redactions with the request."""
    app.actor.require(*OFFICE_ROLES, "leader", action=_("attach redaction specs"))
    asked = get_request(app.catalog.conn, request_id)["clips"]
    plan(app, red.clip_for(asked, clip), spec)  # the spec fits the clip (ranges, boxes, audio)
    with app.transaction() as conn:
        item = get_request(conn, request_id)
        if item["status"] not in ("pending", "approved"):
            raise RefusedError(_("request {request_id} is {status}; a spec can be attached only "
                                 "before it is fulfilled").format(
                                   request_id=request_id, status=item['status']))
        clip_id = red.clip_for(item["clips"], clip)
        policy = pol.Policy.from_config(app.config)
        reset = item["status"] == "approved" and (
            item["decided_by"] != POLICY or policy.redaction_approval == "leader")
        red.attach(app, conn, request_id, clip_id, spec, now,
                   note="the approval given before no longer applies" if reset else None)
        if reset:
            conn.execute("UPDATE access_requests SET status = 'pending', needs_approval = 1,"
                         " decided_at = NULL, decided_by = NULL, decision_note = NULL"
                         " WHERE id = ?", (request_id,))
            app.record(conn, "access.reopened", f"access:{request_id}", {
                "why": "a redaction spec was attached after the approval", "clip": clip_id})
        return get_request(conn, request_id)


# ---- decisions ------------------------------------------------------------------------------


# What a leader does with a request, in the words of the messages (by verb).
_DECIDING = {"approve": (N_("approve access requests"), N_("approve")),
             "deny": (N_("deny access requests"), N_("deny"))}


def _decider_check(actor: Actor, item: dict[str, Any], verb: str) -> None:
    action, verb_words = _DECIDING[verb]
    actor.require("leader", action=_(action))
    own = bool(actor.badge) and actor.badge == item["requester_badge"]
    if own or item["registered_by"] == actor.label:
        why = _("their own request") if own else _("a request they registered")
        raise RefusedError(
            _("{name} ({badge}) may not {verb} {why} (request {id}; {RULE}, {article}: the "
              "principal leader decides on others' requests)").format(
                name=actor.name, badge=actor.badge, verb=_(verb_words), why=why, id=item['id'],
                RULE=pol.RULE, article=item['article']),
            hint=_("another leader must decide"))


def approve(app: Avledger, request_id: int, *, note: str, now: datetime) -> dict[str, Any]:
    """The principal leader's approval: one, by a leader who neither asked nor registered."""
    with app.transaction() as conn:
        item = get_request(conn, request_id)
        _decider_check(app.actor, item, "approve")
        if item["status"] != "pending":
            unneeded = item["decided_by"] == POLICY and item["status"] != "denied"
            raise RefusedError(
                (_("request {request_id} is {status}, not pending (no approval was needed)")
                 if unneeded else _("request {request_id} is {status}, not pending")).format(
                    request_id=request_id, status=item["status"]))
        conn.execute("UPDATE access_requests SET status = 'approved', decided_at = ?,"
                     " decided_by = ?, decision_note = ? WHERE id = ?",
                     (iso(now), app.actor.label, note, request_id))
        app.record(conn, "access.approved", f"access:{request_id}",
                   {"by": app.actor.label, "article": item["article"], "note": note,
                    "redactions": [{"clip": r["clip"], "spec_blake3": r["spec_blake3"]}
                                   for r in item["redactions"]]})
        return get_request(conn, request_id)


def deny(app: Avledger, request_id: int, *, reason: str, now: datetime) -> dict[str, Any]:
    """Refuse a pending request, or withdraw an approval not yet used; a reason is required."""
    if not reason.strip():
        raise RefusedError(_("denying a request needs a reason (--reason)"))
    with app.transaction() as conn:
        item = get_request(conn, request_id)
        _decider_check(app.actor, item, "deny")
        if item["status"] not in ("pending", "approved"):
            raise RefusedError(_("request {request_id} is already {status}").format(
                                   request_id=request_id, status=item['status']))
        conn.execute("UPDATE access_requests SET status = 'denied', decided_at = ?,"
                     " decided_by = ?, decision_note = ? WHERE id = ?",
                     (iso(now), app.actor.label, reason, request_id))
        app.record(conn, "access.denied", f"access:{request_id}",
                   {"by": app.actor.label, "article": item["article"], "reason": reason,
                    "was": item["status"]})
        return get_request(conn, request_id)


# ---- before fulfilling ---------------------------------------------------------------------


def ready_to_fulfil(app: Avledger, request_id: int) -> dict[str, Any]:
    """The request, if it may be fulfilled now by this actor; the policy is asked again with
    today's facts (a case may have become confidential since)."""
    conn = app.catalog.conn
    item = get_request(conn, request_id)
    status = item["status"]
    if status == "pending":
        raise RefusedError(_("request {request_id} awaits the principal leader's approval "
                             "({RULE}, {article})").format(
                               request_id=request_id, RULE=pol.RULE, article=item['article']),
                           hint=_("a leader runs 'avledger access approve {request_id}'").format(
                                    request_id=request_id))
    if status == "denied":
        raise RefusedError(_("request {request_id} was denied: {decision_note}").format(
                               request_id=request_id, decision_note=item['decision_note']))
    if status == "fulfilled":
        raise RefusedError(_("request {request_id} was already fulfilled on {fulfilled_at}; "
                             "register a new request").format(
                               request_id=request_id, fulfilled_at=item['fulfilled_at']))
    _fulfiller_check(app.actor, item, conn)
    policy = pol.Policy.from_config(app.config)
    if item["category"] not in policy.categories:
        raise RefusedError(_("the policy no longer has category {category!r}").format(
                               category=item['category']))
    rows = fetch_clips(conn, item["clips"])
    purged = [i for i, r in rows.items() if r["status"] == "purged"]
    if purged:
        raise RefusedError(_("clip(s) {clips} were purged since the request was registered").format(
                               clips=', '.join(map(str, purged))))
    case = case_by_id(conn, item["case_id"]) if item["case_id"] is not None else None
    asked = pol.Request(item["category"], item["action"], frozenset(item["documents"]),
                        tuple(item["clips"]), case.number if case else None,
                        item["requester_badge"], item["kind"])
    decision = pol.decide(asked, facts_for(conn, item["clips"], case), policy)
    if decision.outcome == pol.REFUSED:
        raise RefusedError(_("request {request_id} is no longer allowed — {message}").format(
                               request_id=request_id, message=decision.message()))
    if decision.needs_approval and item["decided_by"] == POLICY:
        raise RefusedError(_("request {request_id} now needs the principal leader's approval "
                             "({RULE}, {article}); register a new request").format(
                               request_id=request_id, RULE=pol.RULE, article=decision.article))
    return item


def _fulfiller_check(actor: Actor, item: dict[str, Any], conn: db.Connection) -> None:
    """The records office fulfils; a staff requester opens their own viewing; for another
    region's body the case handler may prepare the copy (Art. 8)."""
    actor.require(action=_("fulfil access requests"))
    if actor.roles & set(OFFICE_ROLES):
        return
    if item["action"] == "view" and actor.badge and actor.badge == item["requester_badge"]:
        return
    if (item["category"] == "external_agency" and item["case_id"] is not None and actor.badge
            and actor.badge in case_by_id(conn, item["case_id"]).handlers):
        return
    raise RefusedError(_("{name} ({badge}) may not fulfil request {id}: the records office (role "
                         "clerk or records_manager) does").format(
                           name=actor.name, badge=actor.badge, id=item['id']))


def mark_fulfilled(app: Avledger, conn: db.Connection, request_id: int, now: datetime,
                   package_id: str | None = None) -> None:
    cur = conn.execute("UPDATE access_requests SET status = 'fulfilled', fulfilled_at = ?,"
                       " fulfilled_by = ?, package_id = ? WHERE id = ? AND status = 'approved'",
                       (iso(now), app.actor.label, package_id, request_id))
    if cur.rowcount != 1:
        raise RefusedError(_("request {request_id} changed while it was being fulfilled").format(
                               request_id=request_id))
