"""Each requester category of rule A walked through the installed command: allowed, refused
for a missing document, fulfilment refused without the leader's approval, self-approval
refused, wrong scope refused — every refusal naming its article — and the register lines that
result. Where the regulation itself asks for no document or no approval, the test shows that
too (and that a site can require one through the config, without code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.access.conftest import OPEN, OTHER, SECRET, STATE, Office

LAWYER_DOCS = "unit_letter,id_card,power_of_attorney,authorisation,lawyer_licence"


def entry(office: Office, no: int) -> dict[str, Any]:
    return next(e for e in office.register() if e["no"] == no)


def last_id(office: Office) -> int:
    return int(office.ok("access", "list")[-1]["id"])


def approve(office: Office, no: int, leader: str = "leader") -> dict[str, Any]:
    return dict(office.ok("access", "approve", str(no), actor=leader))


def test_case_handler_art4(office: Office, tmp_path: Path) -> None:
    # Allowed: the handler views their own case directly — approved at once, still registered.
    seen = office.ask("case_handler", "view", "--case", OPEN, actor="handler1")
    assert (seen["status"], seen["decided_by"], seen["article"]) == ("approved", "policy",
                                                                     "Art. 4")
    assert seen["requester"] == "Handler Han" and seen["requester_badge"] == "0003"
    viewing = office.ok("access", "fulfil", str(seen["id"]), actor="handler1")
    assert [c["clip"] for c in viewing["clips"]] == office.clips["open"]

    # Missing document: Art. 4 asks for none, so none is missing...
    assert seen["documents"] == [] and seen["decision"]["refusals"] == []
    # ...but a site that wants an authorisation for copies says so in the config, no code.
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"access": {"categories": {"case_handler": {
        "documents": {"copy": ["authorisation"]}}}}}))
    line = office.refused("--config", str(site), "access", "request", "--category",
                          "case_handler", "--action", "copy", "--case", OPEN, "--purpose", "x",
                          actor="handler1")
    assert "refused — rule A, Art. 4: missing document(s): authorisation" in line
    refused_doc = last_id(office)

    # Missing approval: a copy needs the principal leader; fulfilling first is refused.
    copy = office.ask("case_handler", "copy", "--case", OPEN, actor="handler1")
    assert copy["status"] == "pending" and copy["article"] == "Art. 4"
    line = office.refused("access", "fulfil", str(copy["id"]))
    assert f"request {copy['id']} awaits the principal leader's approval (rule A, Art. 4)" in line

    # Self-approval: a handler who is also a leader may not approve their own copy.
    own = office.ask("case_handler", "copy", "--case", OPEN, actor="deputy")
    line = office.refused("access", "approve", str(own["id"]), actor="deputy")
    assert "may not approve their own request" in line and "rule A, Art. 4" in line
    assert approve(office, own["id"])["decided_by"] == "0002:leader"
    package = office.ok("access", "fulfil", str(own["id"]), "--out", str(tmp_path / "out"))
    assert package["package"] == f"ACC{own['id']:04d}" and package["clips"] == 3

    # Wrong scope: a case they do not handle, or footage of no case of theirs.
    line = office.ask_refused("case_handler", "view", "--case", OTHER, actor="handler1")
    assert f"rule A, Art. 4: 0003 is not a handler of case {OTHER}" in line
    loose = office.clips["loose"][0]
    line = office.ask_refused("case_handler", "view", "--clip", str(loose), actor="handler1")
    assert f"rule A, Art. 4: clip {loose} is not footage of a case 0003 handles" in line

    # The register: every request, refused ones included, with approver and outcome.
    reg = {e["no"]: e for e in office.register()}
    assert len(reg) == 6
    assert reg[seen["id"]]["approver"] == "not required (Art. 4)"
    assert reg[seen["id"]]["status"] == "fulfilled" and reg[seen["id"]]["viewed_from"]
    assert reg[refused_doc]["status"] == "denied"
    assert "missing document(s): authorisation" in reg[refused_doc]["outcome"]
    assert reg[copy["id"]]["status"] == "pending" and reg[copy["id"]]["approver"] == ""
    assert reg[own["id"]]["approver"] == "Principal Leader (0002)"
    assert reg[own["id"]]["package"] == package["package"]
    assert "案件承办人 case handler" in reg[own["id"]]["category"]
    assert {reg[n]["status"] for n in reg if n > own["id"]} == {"denied"}


def test_internal_staff_art5(office: Office) -> None:
    # Allowed (with approval): the records office registers a colleague's request.
    req = office.ask("internal_staff", "view", "--badge", "0004", "--case", OPEN)
    assert (req["status"], req["article"], req["requester"]) == ("pending", "Art. 5",
                                                                 "Staff Shi")
    # Missing document: Art. 5 asks for none.
    assert req["documents"] == [] and req["decision"]["outcome"] == "needs_approval"
    # Missing approval.
    line = office.refused("access", "fulfil", str(req["id"]))
    assert "awaits the principal leader's approval (rule A, Art. 5)" in line
    approve(office, req["id"])
    assert office.ok("access", "fulfil", str(req["id"]))["ok"] is True

    # Self-approval: a leader asking as staff cannot approve it; the registrar cannot either.
    mine = office.ask("internal_staff", "view", "--badge", "0005", "--case", OPEN)
    line = office.refused("access", "approve", str(mine["id"]), actor="leader2")
    assert "Deputy Leader Du (0005) may not approve their own request" in line
    by_leader = office.ask("internal_staff", "view", "--badge", "0004", "--case", SECRET,
                           actor="leader")
    line = office.refused("access", "approve", str(by_leader["id"]), actor="leader")
    assert "may not approve a request they registered" in line
    assert approve(office, by_leader["id"], "leader2")["status"] == "approved"

    # Wrong scope: Art. 5 grants viewing only; state secrets are not for staff (Art. 10).
    line = office.ask_refused("internal_staff", "copy", "--badge", "0004", "--case", OPEN)
    assert "rule A, Art. 5: other staff may view, not copy" in line
    line = office.ask_refused("internal_staff", "view", "--badge", "0004", "--case", STATE)
    assert "rule A, Art. 10: the footage is state-secret; only judicial may have access" in line
    # A colleague without a records-office role cannot file requests for others.
    line = office.ask_refused("internal_staff", "view", "--badge", "0004", "--case", OPEN,
                              actor="handler1")
    assert "may register requests only for themselves" in line

    reg = {e["no"]: e for e in office.register()}
    assert reg[req["id"]]["status"] == "fulfilled"
    assert reg[req["id"]]["approver"] == "Principal Leader (0002)"
    assert reg[mine["id"]]["status"] == "pending"
    assert reg[by_leader["id"]]["approver"] == "Deputy Leader Du (0005)"
    assert reg[by_leader["id"]]["registered_by"] == "Principal Leader (0002)"
    denied = [e for e in reg.values() if e["status"] == "denied"]
    assert [e["article"] for e in denied] == ["Art. 5", "Art. 10"]
    assert len(reg) == 5  # the request refused for lack of a role was never registered


def test_judicial_art6(office: Office, tmp_path: Path) -> None:
    court = ("--kind", "court", "--requester", "李法官", "--unit", "新华区人民法院")
    # Allowed: unit letter and ID shown — view or copy, no approval needed.
    req = office.ask("judicial", "copy", *court, "--case", OPEN, "--documents",
                     "unit_letter,id_card")
    assert (req["status"], req["decided_by"], req["article"]) == ("approved", "policy",
                                                                  "Art. 6")
    made = office.ok("access", "fulfil", str(req["id"]), "--out", str(tmp_path / "out"))
    assert (tmp_path / "out" / made["package"] / "MANIFEST.json").is_file()

    # Missing document.
    line = office.ask_refused("judicial", "view", *court, "--case", OPEN, "--documents",
                              "unit_letter")
    assert "rule A, Art. 6: missing document(s): id_card" in line
    # Missing approval: commercial secrets need the leader's approval (Art. 10) even here.
    secret = office.ask("judicial", "view", *court, "--case", SECRET, "--documents",
                        "unit_letter,id_card")
    assert (secret["status"], secret["article"]) == ("pending", "Art. 10")
    line = office.refused("access", "fulfil", str(secret["id"]))
    assert "awaits the principal leader's approval (rule A, Art. 10)" in line
    # Self-approval: the leader registered this state-secret request, so another decides.
    state = office.ask("judicial", "view", "--kind", "state_security", "--requester", "赵某",
                       "--case", STATE, "--documents", "unit_letter,id_card", actor="leader")
    line = office.refused("access", "approve", str(state["id"]), actor="leader")
    assert "may not approve a request they registered" in line and "Art. 10" in line
    approve(office, state["id"], "leader2")
    assert office.ok("access", "fulfil", str(state["id"]))["ok"] is True

    # Wrong scope: footage of no enforcement case; a body that is not one of Art. 6's.
    loose = office.clips["loose"][0]
    line = office.ask_refused("judicial", "view", *court, "--clip", str(loose), "--documents",
                              "unit_letter,id_card")
    assert f"rule A, Art. 6: clip {loose} belongs to no enforcement case" in line
    line = office.ask_refused("judicial", "view", "--requester", "某人", "--case", OPEN,
                              "--documents", "unit_letter,id_card")
    assert "rule A, Art. 6: the requesting body must be one of: police, procuratorate" in line

    reg = {e["no"]: e for e in office.register()}
    assert reg[req["id"]]["approver"] == "not required (Art. 6)"
    assert reg[req["id"]]["package"] == made["package"]
    assert reg[req["id"]]["documents"] == "单位介绍信 unit letter、有效身份证件 ID"
    assert "法院 court" in reg[req["id"]]["category"]
    assert reg[req["id"]]["requester"] == "李法官 (新华区人民法院)"
    assert reg[secret["id"]]["status"] == "pending"
    assert reg[state["id"]]["status"] == "fulfilled"
    assert reg[state["id"]]["approver"] == "Deputy Leader Du (0005)"
    assert [e["status"] for e in reg.values()].count("denied") == 3


def _party(office: Office, category: str, docs: str, missing: str, who: str) -> None:
    """Art. 7 for the party and its lawyer: documents, approval, own case, viewing only."""
    base = ("--requester", who, "--unit", "XX化工有限公司")
    req = office.ask(category, "view", *base, "--case", OPEN, "--documents", docs)
    assert (req["status"], req["article"]) == ("pending", "Art. 7")
    line = office.refused("access", "fulfil", str(req["id"]))
    assert "awaits the principal leader's approval (rule A, Art. 7)" in line
    approve(office, req["id"])
    assert office.ok("access", "fulfil", str(req["id"]))["ok"] is True

    short = ",".join(d for d in docs.split(",") if d != missing)
    line = office.ask_refused(category, "view", *base, "--case", OPEN, "--documents", short)
    assert f"rule A, Art. 7: missing document(s): {missing}" in line

    mine = office.ask(category, "view", *base, "--case", OPEN, "--documents", docs,
                      actor="leader")
    line = office.refused("access", "approve", str(mine["id"]), actor="leader")
    assert "may not approve a request they registered" in line

    line = office.ask_refused(category, "view", *base, "--clip", str(office.clips["open"][0]),
                              "--documents", docs)
    assert "rule A, Art. 7: the party" in line
    assert "may see only the footage of the one case" in line
    line = office.ask_refused(category, "copy", *base, "--case", OPEN, "--documents", docs)
    assert "rule A, Art. 7:" in line and "may view, not copy" in line
    line = office.ask_refused(category, "view", *base, "--case", STATE, "--documents", docs)
    assert "rule A, Art. 10: the footage is state-secret" in line
    # A lawyer asking for another case's clips under this case is stopped before registering.
    line = office.refused("access", "request", "--category", category, "--action", "view",
                          "--purpose", "x", *base, "--case", OPEN, "--clip",
                          str(office.clips["secret"][0]), "--documents", docs)
    assert f"are not footage of case {OPEN}" in line

    reg = {e["no"]: e for e in office.register()}
    assert reg[req["id"]]["status"] == "fulfilled"
    assert reg[req["id"]]["approver"] == "Principal Leader (0002)"
    assert reg[req["id"]]["viewed_from"] and reg[req["id"]]["viewed_to"]
    assert reg[mine["id"]]["status"] == "pending"
    denied = [e for e in reg.values() if e["status"] == "denied"]
    assert len(denied) == 4 and len(reg) == 6
    assert all("Art. 7" in e["article"] or "Art. 10" in e["article"] for e in denied)


def test_party_art7(office: Office) -> None:
    _party(office, "party", "unit_letter,id_card", "id_card", "张经理")
    assert "行政相对人 the party" in entry(office, 1)["category"]


def test_party_lawyer_art7(office: Office) -> None:
    _party(office, "party_lawyer", LAWYER_DOCS, "lawyer_licence", "王律师")
    first = entry(office, 1)
    assert "代理律师 the party's lawyer" in first["category"]
    assert "委托书 power of attorney" in first["documents"]
    assert "律师执业证 lawyer's practising licence" in first["documents"]


def test_external_agency_art8(office: Office, tmp_path: Path) -> None:
    base = ("--requester", "刘科长", "--unit", "洛阳市生态环境局")
    req = office.ask("external_agency", "copy", *base, "--case", OPEN, "--documents",
                     "unit_letter")
    assert (req["status"], req["article"]) == ("pending", "Art. 8")
    line = office.refused("access", "fulfil", str(req["id"]))
    assert "awaits the principal leader's approval (rule A, Art. 8)" in line
    approve(office, req["id"])
    # Art. 8: the case handler copies and mails; a handler of another case may not.
    line = office.refused("access", "fulfil", str(req["id"]), "--out", str(tmp_path),
                          actor="staff1")
    assert "may not fulfil request" in line
    made = office.ok("access", "fulfil", str(req["id"]), "--out", str(tmp_path / "out"),
                     actor="handler1")
    assert made["clips"] == 3

    line = office.ask_refused("external_agency", "copy", *base, "--case", OPEN)
    assert "rule A, Art. 8: missing document(s): unit_letter" in line
    mine = office.ask("external_agency", "view", *base, "--case", OPEN, "--documents",
                      "unit_letter", actor="leader")
    line = office.refused("access", "approve", str(mine["id"]), actor="leader")
    assert "may not approve a request they registered" in line
    line = office.ask_refused("external_agency", "copy", *base, "--clip",
                              str(office.clips["open"][1]), "--documents", "unit_letter")
    assert ("rule A, Art. 8: another region's enforcement body may see only the footage of "
            "the one case") in line

    reg = {e["no"]: e for e in office.register()}
    assert reg[req["id"]]["status"] == "fulfilled" and reg[req["id"]]["package"] == "ACC0001"
    assert "外地执法部门" in reg[req["id"]]["category"]
    assert reg[mine["id"]]["status"] == "pending"
    assert [e["status"] for e in reg.values()].count("denied") == 2
