"""Access figures for a period, for the annual review and other reports."""

from __future__ import annotations

from typing import Any

from avledger.config.schema import ACCESS_CATEGORIES
from avledger.store import db
from avledger.timestamps import iso, parse_iso

OUTCOMES = ("approved", "denied", "fulfilled", "pending")


def summary(conn: db.Connection, start_iso: str, end_iso: str) -> dict[str, Any]:
    """Access requests and their fulfilment in the period [start_iso, end_iso).

    ``start_iso`` and ``end_iso`` are ISO-8601 times with an offset (any zone). Returns
    exactly::

        {"requests": n,            # requests registered in the period
         "by_category": {category: {outcome: n}},
         "views": n,               # read-only viewings started in the period
         "copies": n,              # clips copied out in packages made in the period
         "packages": n}            # copy packages made in the period

    ``by_category`` has every requester category of rule A (case_handler, internal_staff,
    judicial, party, party_lawyer, external_agency — plus any other found in the catalog) with
    all four outcomes, counting the requests registered in the period by their state now:
    ``approved`` (not yet used), ``denied`` (by the leader, or refused by the policy),
    ``fulfilled`` (viewed or copied) and ``pending`` (awaiting approval).
    """
    start, end = iso(parse_iso(start_iso)), iso(parse_iso(end_iso))
    by_category: dict[str, dict[str, int]] = {
        c: dict.fromkeys(OUTCOMES, 0) for c in ACCESS_CATEGORIES}
    requests = 0
    for row in conn.execute(
            "SELECT category, status, COUNT(*) AS n FROM access_requests"
            " WHERE requested_at >= ? AND requested_at < ? GROUP BY category, status",
            (start, end)):
        by_category.setdefault(row["category"], dict.fromkeys(OUTCOMES, 0))
        by_category[row["category"]][row["status"]] += int(row["n"])
        requests += int(row["n"])
    views = conn.execute("SELECT COUNT(*) FROM access_viewings WHERE started_at >= ?"
                         " AND started_at < ?", (start, end)).fetchone()[0]
    packages, copies = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(clips), 0) FROM access_packages WHERE made_at >= ?"
        " AND made_at < ?", (start, end)).fetchone()
    return {"requests": requests, "by_category": by_category, "views": int(views),
            "copies": int(copies), "packages": int(packages)}
