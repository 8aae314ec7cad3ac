"""Decisions and their legal review (Annex 2) through the installed command.

Threshold edges, the automatic legal-review hold (listed, keeping footage from a far-future
sweep, released only by the review), who may not review, returned decisions flagged again,
and the ledger trail of all of it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from avledger.core.app import Avledger
from avledger.core.cases.decisions import open_reviews
from avledger.core.retention import sweep as retention
from avledger.timestamps import parse_iso, utcnow
from tests.test_cases_holds_cli import ok, one_line_error, some_clips

CASE = "平环罚〔2026〕12号"
# 0001 (the starter user) and 0004 handle the case; 0003 is the legal office; 0005 may both
# handle and review; 0006 is a desk clerk; 0007 records decisions on any case (records
# manager) and reviews.
PEOPLE = [
    ("0003", "Legal Officer", "lawyer", ["legal_reviewer"]),
    ("0004", "Second Handler", "handler2", ["handler"]),
    ("0005", "Handler Reviewer", "lawyer2", ["handler", "legal_reviewer"]),
    ("0006", "Desk Clerk Two", "clerk1", ["clerk"]),
    ("0007", "Records Reviewer", "lawyer3", ["records_manager", "legal_reviewer"]),
]
LAWYER = {"AVLEDGER_ACTOR": "lawyer"}
HANDLER2 = {"AVLEDGER_ACTOR": "handler2"}
LAWYER2 = {"AVLEDGER_ACTOR": "lawyer2"}
LAWYER3 = {"AVLEDGER_ACTOR": "lawyer3"}


def add_people(home: Path, extra_config: dict[str, Any] | None = None) -> None:
    path = home / "avledger.yaml"
    doc = yaml.safe_load(path.read_text())
    for badge, name, login, roles in PEOPLE:
        doc["personnel"].append({"badge": badge, "name": name, "os_user": login,
                                 "roles": roles})
    doc.update(extra_config or {})
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))


@pytest.fixture
def office(home: Path, cli):  # type: ignore[no-untyped-def]
    add_people(home)
    ok(cli("case", "add", CASE, "--name", "XX化工 超标排放", "--type", "penalty",
           "--handler", "0001", "--handler", "0004"))
    return cli


def ledger(cli, pattern: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return json.loads(cli("ledger", "show", "--type", pattern, "--json").stdout)


def decide(cli, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return ok(cli("case", "decide", CASE, *args, "--json", env=env))


# (kind, amount, party, needs review) — Annex 2 as the default config states it.
EDGES = [
    ("penalty", "9,999", "citizen", False),
    ("penalty", "9999.99", "citizen", False),
    ("penalty", "10,000", "citizen", True),
    ("penalty", "99,999", "organisation", False),
    ("penalty", "100,000", "organisation", True),
    ("penalty", "10000", "organisation", False),
    ("penalty", "99999", "citizen", True),
    ("compulsion", None, None, True),
    ("compulsion", "0", "citizen", True),
    ("compulsion", "1", "organisation", True),
    ("licensing", "5,000,000", "organisation", False),
    ("other", "200000", "citizen", False),
]


def test_threshold_edges_through_the_command(office, app: Avledger) -> None:  # type: ignore[no-untyped-def]
    flagged_ids = []
    for kind, amount, party, needed in EDGES:
        args = ["--kind", kind] + (["--amount", amount] if amount else []) + \
            (["--party", party] if party else [])
        got = decide(office, *args, "--note", f"{kind} {amount} {party}")
        assert got["review_required"] is needed, (kind, amount, party, got["review_reason"])
        assert got["status"] == ("under-review" if needed else "recorded")
        assert (got["hold"] is not None) is needed
        assert (got["review"] is not None) is needed
        if needed:
            assert got["hold"]["reason"] == "legal-review" and got["hold"]["scope"] == "case"
            assert got["review"]["open"] and got["review"]["hold_id"] == got["hold"]["id"]
            flagged_ids.append(got["id"])
        else:
            assert got["review_reason"].startswith(("a penalty of", f"{kind} decisions do not"))
    # A flagged penalty says why, with the amount as people write it.
    first = next(d for d in ok(office("case", "show", CASE, "--json"))["decisions"]
                 if d["amount"] == "10000.00")
    assert "reaches the legal-review threshold of 10,000 yuan" in first["review_reason"]
    assert first["rules"] == {"citizen_threshold_yuan": "10000",
                              "organisation_threshold_yuan": "100000",
                              "review_every_compulsion": True}
    open_now = ok(office("case", "reviews", "--open", "--json"))
    assert [r["decision_id"] for r in open_now] == flagged_ids
    assert all(r["age_days"] == 0 and r["open"] for r in open_now)
    holds = ok(office("hold", "list", "--json"))
    assert [h["reason"] for h in holds] == ["legal-review"] * len(flagged_ids)
    assert sorted(h["id"] for h in holds) == sorted(r["hold_id"] for r in open_now)
    assert len(ledger(office, "decision.recorded")) == len(EDGES)
    assert len(ledger(office, "review.opened")) == len(flagged_ids)
    assert [e["payload"]["reason"] for e in ledger(office, "hold.placed")] == \
        ["legal-review"] * len(flagged_ids)
    assert open_reviews(app.catalog.conn, utcnow()) == open_now


def test_thresholds_come_from_the_config(cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    add_people(home, {"decisions": {"citizen_threshold_yuan": 5000,
                                    "review_every_compulsion": False}})
    ok(cli("case", "add", CASE, "--name", "n", "--type", "penalty", "--handler", "0001"))
    assert not decide(cli, "--kind", "penalty", "--amount", "4,999", "--party",
                      "citizen")["review_required"]
    assert decide(cli, "--kind", "penalty", "--amount", "5,000", "--party",
                  "citizen")["review_required"]
    assert not decide(cli, "--kind", "compulsion")["review_required"]


def sweep_keeps(app: Avledger, when: Any, clips: list[int]) -> set[str]:
    """Why a sweep at ``when`` keeps each of ``clips`` (nothing when it would take them)."""
    plan = retention.plan_sweep(app, when)
    assert not {i.clip_id for i in plan.to_pending} & set(clips)
    return {retention.explain(app, c, when)["kept_because"] for c in clips}


def test_legal_review_hold_keeps_footage_until_approved(office, app: Avledger) -> None:  # type: ignore[no-untyped-def]
    clips = some_clips(app, 3, days_ago=400)
    other = some_clips(app, 1, "TC0002", days_ago=400)
    ok(office("case", "link", *map(str, clips), "--case", CASE))
    far = utcnow() + timedelta(days=365 * 40)  # beyond every retention period of the case
    assert sweep_keeps(app, far, clips) == {"open-case"}
    got = decide(office, "--kind", "penalty", "--amount", "12,000", "--party", "citizen",
                 "--note", "fine for unlicensed discharge", env=HANDLER2)
    hold_id, review_id = got["hold"]["id"], got["review"]["id"]
    assert got["hold"]["placed_by"] == "0004:handler2" and got["hold"]["clip_count"] == 3
    # The hold appears: listed, with the case's clips, on the clips themselves.
    listed = ok(office("hold", "list", "--json"))
    assert [(h["id"], h["reason"], h["case_number"]) for h in listed] == \
        [(hold_id, "legal-review", CASE)]
    assert ok(office("hold", "show", str(hold_id), "--json"))["clips"] == clips
    shown = retention.explain(app, clips[0], utcnow())
    assert [h["reason"] for h in shown["holds"]] == ["legal-review"]
    # A far-future sweep keeps the footage because of the hold, and takes the other clip.
    assert sweep_keeps(app, far, clips) == {"held"}
    applied = retention.apply_sweep(app, far)
    assert applied.pending == other
    # Nothing but the review ends it.
    one_line_error(office("hold", "release", str(hold_id), "--note", "done"), 5,
                   f"hold {hold_id} keeps the footage of case {CASE} for its legal review",
                   f"avledger case review {CASE}")
    one_line_error(office("hold", "release", str(hold_id), "--note", "done",
                          env={"AVLEDGER_ACTOR": "leader"}), 5, "only the review")
    one_line_error(office("hold", "place", "--case", CASE, "--reason", "legal-review",
                          "--note", "x"), 5, "placed by 'avledger case decide'")
    one_line_error(office("case", "close", CASE, "--note", "paid"), 5,
                   "awaiting legal review", "may not be closed")
    one_line_error(office("case", "unlink", str(clips[0]), "--case", CASE), 5,
                   "no clip may be unlinked")
    # The review: role legal_reviewer, not a handler of the case, not the decision's author.
    one_line_error(office("case", "review", CASE, "--outcome", "approved", "--note", "ok",
                          env={"AVLEDGER_ACTOR": "clerk1"}), 5, "needs role legal_reviewer")
    one_line_error(office("case", "review", CASE, "--outcome", "approved", "--note", "ok",
                          env={"AVLEDGER_ACTOR": "leader"}), 5, "needs role legal_reviewer")
    one_line_error(office("case", "review", CASE, "--outcome", "approved", "--note", "ok"), 5,
                   "(0001) handles case", "may not review")
    one_line_error(office("case", "review", CASE, "--outcome", "approved", "--note", " ",
                          env=LAWYER), 5, "needs a note")
    one_line_error(office("case", "review", CASE, "--outcome", "approved", "--note", "ok",
                          "--decision", "999", env=LAWYER), 5, "not awaiting legal review")
    assert ok(office("case", "reviews", "--open", "--json"))[0]["id"] == review_id
    done = ok(office("case", "review", CASE, "--outcome", "approved", "--note",
                     "facts clear, footage sufficient", "--json", env=LAWYER))
    assert done["status"] == "approved" and done["review"]["reviewed_by"] == "0003:lawyer"
    assert done["hold"]["id"] == hold_id and not done["hold"]["active"]
    assert done["hold"]["released_by"] == "0003:lawyer"
    one_line_error(office("case", "review", CASE, "--outcome", "approved", "--note", "again",
                          env=LAWYER), 5, "no decision awaiting legal review")
    one_line_error(office("hold", "release", str(hold_id), "--note", "x"), 5,
                   "already released")
    assert ok(office("hold", "list", "--json")) == []
    assert ok(office("case", "reviews", "--open", "--json")) == []
    assert [r["outcome"] for r in ok(office("case", "reviews", "--json"))] == ["approved"]
    # The footage follows the normal rules again: kept while the case is open, and once it is
    # closed, until its case retention runs out.
    assert sweep_keeps(app, far, clips) == {"open-case"}
    ok(office("case", "close", CASE, "--note", "penalty paid"))
    assert [i.clip_id for i in retention.plan_sweep(app, far).to_pending] == clips
    # The ledger tells the whole story, each event by the person who acted.
    trail = [(e["type"], e["actor"], e["subject"]) for e in sorted(json.loads(
        office("ledger", "show", "--json").stdout), key=lambda e: e["seq"])
        if e["type"].split(".")[0] in ("decision", "review", "hold")]
    assert trail == [
        ("decision.recorded", "0004:handler2", f"decision:{got['id']}"),
        ("hold.placed", "0004:handler2", f"hold:{hold_id}"),
        ("review.opened", "0004:handler2", f"review:{review_id}"),
        ("review.closed", "0003:lawyer", f"review:{review_id}"),
        ("hold.released", "0003:lawyer", f"hold:{hold_id}"),
    ]
    released = ledger(office, "hold.released")[0]["payload"]
    assert released["review"] == review_id and released["outcome"] == "approved"
    assert ledger(office, "hold.placed")[0]["payload"]["decision"] == got["id"]
    ok(office("ledger", "verify"))


def test_author_may_not_review_own_decision(office) -> None:  # type: ignore[no-untyped-def]
    got = decide(office, "--kind", "compulsion", "--party", "organisation", "--note",
                 "seal the outlet", env=LAWYER3)
    assert got["review_required"] and got["decided_badge"] == "0007"
    one_line_error(office("case", "review", CASE, "--outcome", "approved", "--note", "ok",
                          env=LAWYER3), 5, "(0007) recorded decision", "may not review it")
    # A reviewer who handles the case is refused too, even with the legal_reviewer role.
    ok(office("case", "add", "平环强〔2026〕3号", "--name", "n", "--type", "compulsion",
              "--handler", "0005", "--handler", "0004"))
    ok(office("case", "decide", "平环强〔2026〕3号", "--kind", "compulsion", env=HANDLER2))
    one_line_error(office("case", "review", "平环强〔2026〕3号", "--outcome", "approved",
                          "--note", "ok", env=LAWYER2), 5, "handles case", "may not review")
    ok(office("case", "review", CASE, "--outcome", "approved", "--note", "ok", env=LAWYER))
    assert [r["case_number"] for r in ok(office("case", "reviews", "--open", "--json"))] == \
        ["平环强〔2026〕3号"]


def test_only_a_handler_of_the_case_or_a_records_manager_records_a_decision(  # type: ignore[no-untyped-def]
        office, home: Path) -> None:
    secret = "平环罚〔2026〕99号"
    ok(office("case", "add", secret, "--name", "n", "--type", "penalty", "--handler", "0005",
              "--confidentiality", "state-secret"))
    one_line_error(office("case", "decide", secret, "--kind", "penalty", "--amount", "500",
                          "--party", "citizen", env=HANDLER2), 5,
                   "(0004) does not handle case", "only by its handlers or a records manager")
    assert ledger(office, "decision.recorded") == []
    got = decide(office, "--kind", "penalty", "--amount", "500", "--party", "citizen",
                 env=HANDLER2)  # 0004 handles CASE
    assert got["decided_badge"] == "0004"
    ok(office("case", "decide", secret, "--kind", "licensing", env=LAWYER2))  # its handler
    ok(office("case", "decide", secret, "--kind", "licensing"))  # 0001: records manager


def test_returned_decision_and_a_new_one_flagged_again(office, app: Avledger) -> None:  # type: ignore[no-untyped-def]
    clips = some_clips(app, 2)
    ok(office("case", "link", *map(str, clips), "--case", CASE))
    first = decide(office, "--kind", "penalty", "--amount", "150,000", "--party",
                   "organisation", env=HANDLER2)
    back = ok(office("case", "review", CASE, "--outcome", "returned", "--note",
                     "amount not supported by the sampling report", "--json", env=LAWYER))
    assert back["status"] == "returned" and not back["hold"]["active"]
    assert ok(office("hold", "list", "--json")) == []
    text = office("case", "review", CASE, "--outcome", "approved", "--note", "x", env=LAWYER)
    assert text.returncode == 5
    # The handler records the corrected decision: still over the threshold, so flagged again
    # with a new review and a new hold.
    second = decide(office, "--kind", "penalty", "--amount", "120,000", "--party",
                    "organisation", "--note", "recalculated", env=HANDLER2)
    assert second["review_required"] and second["id"] != first["id"]
    assert second["hold"]["id"] != back["hold"]["id"] and second["hold"]["active"]
    assert second["hold"]["clip_count"] == 2
    assert [r["decision_id"] for r in ok(office("case", "reviews", "--open", "--json"))] == \
        [second["id"]]
    shown = ok(office("case", "show", CASE, "--json"))
    assert [(d["id"], d["status"]) for d in shown["decisions"]] == \
        [(first["id"], "returned"), (second["id"], "under-review")]
    assert [(h["reason"], h["active"]) for h in shown["holds"]] == \
        [("legal-review", False), ("legal-review", True)]
    table = office("case", "show", CASE)
    assert "returned" in table.stdout and "open for 0 day(s)" in table.stdout
    outcomes = [e["payload"]["outcome"] for e in ledger(office, "review.closed")]
    assert outcomes == ["returned"]
    # A corrected amount under the threshold needs no review: recorded as it is.
    third = decide(office, "--kind", "penalty", "--amount", "80,000", "--party", "organisation",
                   env=HANDLER2)
    assert third["status"] == "recorded" and third["hold"] is None


def test_several_open_reviews_on_one_case(office) -> None:  # type: ignore[no-untyped-def]
    a = decide(office, "--kind", "compulsion", "--note", "seize the pump", env=HANDLER2)
    b = decide(office, "--kind", "penalty", "--amount", "20000", "--party", "citizen",
               env=HANDLER2)
    one_line_error(office("case", "review", CASE, "--outcome", "approved", "--note", "ok",
                          env=LAWYER), 5, "2 decisions awaiting legal review",
                   f"({a['id']}, {b['id']})", "--decision")
    done = ok(office("case", "review", CASE, "--outcome", "approved", "--note", "ok",
                     "--decision", str(b["id"]), "--json", env=LAWYER))
    assert done["id"] == b["id"]
    assert [r["decision_id"] for r in ok(office("case", "reviews", "--open", "--json"))] == \
        [a["id"]]
    assert [h["id"] for h in ok(office("hold", "list", "--json"))] == [a["hold"]["id"]]


def test_bad_input_records_nothing(office, home: Path) -> None:  # type: ignore[no-untyped-def]
    before = json.loads(office("ledger", "show", "--json").stdout)
    cases = [
        (["--kind", "penalty", "--amount", "ten thousand", "--party", "citizen"], 2,
         "not a number of yuan"),
        (["--kind", "penalty", "--amount", "10000.001", "--party", "citizen"], 2,
         "more than two decimals"),
        (["--kind", "penalty", "--amount", "-5", "--party", "citizen"], 2, "at least 0"),
        (["--kind", "penalty", "--amount", "10000"], 2, "needs both an amount and a party"),
        (["--kind", "penalty", "--party", "citizen"], 2, "needs both an amount and a party"),
    ]
    for args, code, words in cases:
        one_line_error(office("case", "decide", CASE, *args), code, words)
    bad_kind = office("case", "decide", CASE, "--kind", "fine")
    assert bad_kind.returncode == 2 and "fine" in bad_kind.stderr
    one_line_error(office("case", "decide", "NO-SUCH-CASE", "--kind", "compulsion"), 4,
                   "NO-SUCH-CASE")
    one_line_error(office("case", "decide", CASE, "--kind", "compulsion",
                          env={"AVLEDGER_ACTOR": "clerk1"}), 5,
                   "needs role handler or records_manager")
    one_line_error(office("case", "decide", CASE, "--kind", "compulsion",
                          env={"AVLEDGER_ACTOR": "stranger"}), 5, "not on the roster")
    bad_outcome = office("case", "review", CASE, "--outcome", "maybe", "--note", "x",
                         env=LAWYER)
    assert bad_outcome.returncode == 2 and "maybe" in bad_outcome.stderr
    assert json.loads(office("ledger", "show", "--json").stdout) == before
    assert ok(office("case", "show", CASE, "--json"))["decisions"] == []
    ok(office("case", "close", CASE, "--note", "dropped"))
    one_line_error(office("case", "decide", CASE, "--kind", "compulsion"), 5, "was closed")


def test_open_review_ages(office, app: Avledger) -> None:  # type: ignore[no-untyped-def]
    got = decide(office, "--kind", "compulsion", env=HANDLER2)
    flagged = got["review"]["flagged_at"]
    later = parse_iso(flagged) + timedelta(days=12, hours=23)
    (item,) = open_reviews(app.catalog.conn, later)
    assert (item["id"], item["case_number"], item["kind"], item["amount"], item["party"],
            item["flagged_at"], item["age_days"]) == \
        (got["review"]["id"], CASE, "compulsion", None, None, flagged, 12)
    assert open_reviews(app.catalog.conn, parse_iso(flagged) - timedelta(hours=1))[0][
        "age_days"] == 0
    ok(office("case", "review", CASE, "--outcome", "approved", "--note", "ok", env=LAWYER))
    assert open_reviews(app.catalog.conn, later) == []
