"""The access register (查阅登记簿, rule A, Arts. 3, 6, 7) as a document: CSV, JSON, Markdown.

One line per request, in order: date, requester, category, documents seen, scope, action,
approver, outcome, package — plus the article that decided, the purpose and the viewing's
start and end. Times are in the site's zone. A clip disclosed only redacted (rule A, Art. 10)
says so in the scope, with the reasons of what was hidden, so the register shows what the
requester saw and not just which clip.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from avledger.config.loader import Config
from avledger.core.access import labels
from avledger.core.access.redactions import attached
from avledger.core.access.requests import POLICY, list_requests
from avledger.core.identity import find_person
from avledger.store import db
from avledger.timestamps import display, iso

COLUMNS = ("no", "date", "requester", "category", "documents", "scope", "action", "purpose",
           "approver", "outcome", "article", "package", "viewed_from", "viewed_to",
           "registered_by")
HEADINGS = {
    "no": "编号 No.", "date": "日期 Date", "requester": "申请人 Requester",
    "category": "类别 Category", "documents": "查验证件 Documents seen",
    "scope": "范围 Scope", "action": "方式 Action", "purpose": "事由 Purpose",
    "approver": "批准人 Approver", "outcome": "结果 Outcome", "article": "依据 Article",
    "package": "复制件 Package", "viewed_from": "查阅开始 Viewed from",
    "viewed_to": "查阅结束 Viewed to", "registered_by": "登记人 Registered by",
}


def year_range(year: int, tz: str) -> tuple[str, str]:
    """A calendar year in the site's zone, as stored UTC bounds [start, end)."""
    zone = ZoneInfo(tz)
    return (iso(datetime(year, 1, 1, tzinfo=zone)), iso(datetime(year + 1, 1, 1, tzinfo=zone)))


def _person(config: Config, label: str | None) -> str:
    if not label:
        return ""
    if label == POLICY:
        return POLICY
    badge = label.split(":", 1)[0]
    person = find_person(config, badge)
    return f"{person['name']} ({badge})" if person else label


def entries(conn: db.Connection, config: Config, *,
            year: int | None = None) -> list[dict[str, Any]]:
    """The register lines (all, or those registered in ``year``), oldest first."""
    tz = config.timezone
    bounds = year_range(year, tz) if year is not None else None
    out = []
    for r in list_requests(conn):
        if bounds and not bounds[0] <= r["requested_at"] < bounds[1]:
            continue
        who = r["requester"] + (f" ({r['requester_unit']})" if r["requester_unit"] else "")
        if r["requester_badge"]:
            who += f" [{r['requester_badge']}]"
        category = labels.both(labels.CATEGORIES, r["category"])
        if r["kind"]:
            category += f" — {labels.both(labels.KINDS, r['kind'])}"
        scope = (f"case {r['case_number']}: " if r["case_number"] else "") + \
            f"{len(r['clips'])} clip(s) " + " ".join(map(str, r["clips"][:20])) + \
            (" …" if len(r["clips"]) > 20 else "")
        if r["decided_by"] == POLICY and r["status"] != "denied":
            approver = f"not required ({r['article']})"
        elif r["status"] == "pending":
            approver = ""
        else:
            approver = _person(config, r["decided_by"])
        outcome = labels.both(labels.OUTCOMES, r["status"])
        if r["status"] == "denied" and r["decision_note"]:
            outcome += f": {r['decision_note']}"
        redacted = _redacted(conn, int(r["id"]))
        if redacted:
            scope += "; 遮蔽处理 redacted: " + ", ".join(
                f"{clip} ({'、'.join(reasons)})" for clip, reasons in redacted.items())
        view = r["viewing"] or {}
        out.append({
            "no": r["id"], "date": display(r["requested_at"], tz), "requester": who,
            "category": category, "documents": labels.documents(r["documents"]),
            "scope": scope.strip(), "action": labels.both(labels.ACTIONS, r["action"]),
            "purpose": r["purpose"], "approver": approver, "outcome": outcome,
            "status": r["status"], "article": r["article"], "package": r["package_id"] or "",
            "viewed_from": display(view.get("started_at"), tz),
            "viewed_to": display(view.get("ended_at"), tz),
            "registered_by": _person(config, r["registered_by"]),
            "redacted": list(redacted),
        })
    return out


def _redacted(conn: db.Connection, request_id: int) -> dict[int, list[str]]:
    """The request's clips disclosed only redacted, each with the reasons (in Chinese) of
    what its spec hides, in the order the spec gives them."""
    out: dict[int, list[str]] = {}
    for clip, spec in attached(conn, request_id).items():
        reasons = [op["reason_zh"] for op in spec.spec.summary()]
        out[clip] = list(dict.fromkeys(reasons))
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writerow(HEADINGS)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def to_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def to_markdown(rows: list[dict[str, Any]], *, unit: str, year: int | None) -> str:
    title = f"# 查阅登记簿 Access register — {unit}" + (f", {year}" if year else "")
    cells = [[str(row[c]).replace("|", "\\|").replace("\n", " ") for c in COLUMNS]
             for row in rows]
    lines = [title, "", "| " + " | ".join(HEADINGS[c] for c in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(c) + " |" for c in cells]
    lines += ["", f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}."]
    return "\n".join(lines) + "\n"
