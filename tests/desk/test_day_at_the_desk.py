"""A day at the equipment desk, end to end through the installed command (without the dock):
register a recorder, hand it to officer A in the morning, take it back, hand it to officer B
in the afternoon, take it back — and the usage ledger says exactly that."""

from __future__ import annotations

import csv
import io
import json

from avledger.timestamps import parse_iso


def test_day_at_the_desk(dcli) -> None:  # type: ignore[no-untyped-def]
    def ok(*args: str, actor: str | None = None) -> str:
        res = dcli(*args, actor=actor)
        assert res.returncode == 0, (args, res.stderr)
        return str(res.stdout)

    ok("device", "add", "DSJ-0042", "--model", "DSJ-A8", "--notes", "asset 2026-117")
    morning = json.loads(ok("checkout", "DSJ-0042", "--to", "0003", "--task",
                            "inspection, Xinhua Paper Mill", "--task-id", "HJ-2026-117",
                            "--battery", "96", "--storage-free", "88", "--json"))
    assert json.loads(ok("person", "show", "0003", "--json"))["open_checkouts"][0]["serial"] \
        == "DSJ-0042"
    back = json.loads(ok("checkin", "DSJ-0042", "--json"))
    assert back["id"] == morning["id"] and back["badge"] == "0003"
    afternoon = json.loads(ok("checkout", "DSJ-0042", "--to", "0004", "--task",
                              "complaint follow-up, Riverside Dyeing", "--battery", "71",
                              "--storage-free", "80", "--json"))
    ok("checkin", "DSJ-0042", "--note", "returned clean")
    assert json.loads(ok("checkout", "list", "--open", "--json")) == []

    listed = json.loads(ok("checkout", "list", "--device", "DSJ-0042", "--json"))
    assert [(r["badge"], r["name"]) for r in listed] == [("0004", "Wang Fang"),
                                                          ("0003", "Li Na")]
    ledger = list(csv.DictReader(io.StringIO(ok("checkout", "export"))))
    assert [(r["checkout"], r["device"], r["badge"], r["name"], r["task"], r["battery"])
            for r in ledger] == [
        (str(morning["id"]), "DSJ-0042", "0003", "Li Na", "inspection, Xinhua Paper Mill",
         "96%"),
        (str(afternoon["id"]), "DSJ-0042", "0004", "Wang Fang",
         "complaint follow-up, Riverside Dyeing", "71%"),
    ]
    first, second = ledger
    assert first["task_id"] == "HJ-2026-117" and second["task_id"] == ""
    assert parse_iso(first["out"]) <= parse_iso(first["in"]) <= parse_iso(second["out"]) \
        <= parse_iso(second["in"])
    assert all(r["clips"] == "0" and r["gaps"] == "0" for r in ledger)

    events = json.loads(ok("ledger", "show", "--subject", "checkout:*", "--json"))
    assert [e["type"] for e in reversed(events)] == [
        "checkout.opened", "checkout.closed", "checkout.opened", "checkout.closed"]
    assert all(e["actor"].startswith("0001:") for e in events)
    ok("ledger", "verify")
    status = json.loads(ok("status", "--json"))
    assert status["devices"] == 1 and status["open_checkouts"] == 0
