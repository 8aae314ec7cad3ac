"""The usage ledger (台账, rule B, Art. 4) as a document: one line per checkout.

Who had which device, from when to when, for what task, what the pre-use check found, how much
footage came in for it (clips attributed to the checkout) and which recording gaps were
recorded and approved. Times are written in the site's zone with their offset, so the CSV reads
naturally and still means exactly one instant.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from avledger.core import query
from avledger.core.app import Avledger
from avledger.core.desk import gaps as gap_records
from avledger.core.identity import find_person
from avledger.i18n import _
from avledger.timestamps import iso, local, parse_iso

CSV_FIELDS = ("checkout", "device", "kind", "badge", "name", "unit", "out", "in", "out_by",
              "in_by", "task", "task_id", "remote", "battery", "storage_free", "clock",
              "clock_drift_s", "forced_reason", "clips", "hours", "gaps", "gaps_approved",
              "gap_details")


def _local(text: str | None, tz: str) -> str | None:
    return local(parse_iso(text), tz).isoformat(timespec="seconds") if text else None


def rows(app: Avledger, *, start: datetime | None = None, end: datetime | None = None,
         checkout_id: int | None = None) -> list[dict[str, Any]]:
    """Checkouts that began in [start, end), oldest first, each with footage and gaps."""
    app.actor.require(action=_("read the usage ledger"))
    where, params = query.where(("c.id = ?", checkout_id),
                                ("c.out_at >= ?", iso(start) if start else None),
                                ("c.out_at < ?", iso(end) if end else None))
    found = app.catalog.conn.execute(
        "SELECT c.*, d.serial, d.kind,"
        " (SELECT COUNT(*) FROM clips k WHERE k.checkout_id = c.id) AS clips,"
        " (SELECT COALESCE(SUM(k.duration_seconds), 0) FROM clips k"
        "   WHERE k.checkout_id = c.id) AS seconds"
        f" FROM checkouts c JOIN devices d ON d.id = c.device_id {where}"
        " ORDER BY c.out_at, c.id", params).fetchall()
    tz = app.config.timezone
    gaps = gap_records.for_checkouts(app, [r["id"] for r in found])
    result = []
    for r in found:
        person = find_person(app.config, r["badge"]) or {}
        result.append({
            "checkout": r["id"], "device": r["serial"], "kind": r["kind"], "badge": r["badge"],
            "name": person.get("name"), "unit": person.get("unit"),
            "out": _local(r["out_at"], tz), "in": _local(r["in_at"], tz),
            "out_by": r["out_by"], "in_by": r["in_by"], "task": r["task"],
            "task_id": r["task_id"], "remote": bool(r["remote"]),
            "precheck": json.loads(r["precheck"] or "{}"),
            "clips": r["clips"], "hours": round(r["seconds"] / 3600, 3),
            "gaps": [{k: g[k] for k in ("id", "from_at", "to_at", "minutes", "reason", "note",
                                        "created_by", "approved", "approved_by")}
                     for g in gaps.get(r["id"], [])],
        })
    return result


def _flat(row: dict[str, Any], tz: str) -> dict[str, Any]:
    pre = row["precheck"]

    def value(name: str) -> Any:
        return (pre.get(name) or {}).get("value")

    def result(name: str) -> Any:
        return (pre.get(name) or {}).get("result")

    gaps = row["gaps"]
    return {
        **{k: row[k] for k in ("checkout", "device", "kind", "badge", "name", "unit", "out",
                               "in", "out_by", "in_by", "task", "task_id", "clips", "hours")},
        "remote": "yes" if row["remote"] else "no",
        "battery": _level(result("battery"), value("battery")),
        "storage_free": _level(result("storage"), value("storage")),
        "clock": result("clock"),
        "clock_drift_s": value("clock"),
        "forced_reason": (pre.get("forced") or {}).get("reason"),
        "gaps": len(gaps),
        "gaps_approved": sum(1 for g in gaps if g["approved"]),
        "gap_details": "; ".join(
            f"{g['reason']} {_local(g['from_at'], tz)}/{_local(g['to_at'], tz)} "
            f"{'approved' if g['approved'] else 'pending'}" for g in gaps),
    }


def _level(result: str | None, value: float | None) -> str | None:
    if value is None:
        return result
    return f"{value:g}%" if result == "ok" else f"{value:g}% ({result})"


def to_csv(data: list[dict[str, Any]], tz: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in data:
        writer.writerow(_flat(row, tz))
    return out.getvalue()


def to_json(data: list[dict[str, Any]]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
