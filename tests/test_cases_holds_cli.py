"""Cases and holds through the installed command: roles, errors, and what clip data shows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import yaml

from avledger.core.app import Avledger
from avledger.core.retention.holds import holds_for_clip
from avledger.timestamps import utcnow
from tests.factories import ClipSpec, insert_clips

CASE = "平环罚〔2026〕12号"


def add_clerk(home: Path) -> None:
    path = home / "avledger.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["personnel"].append({"badge": "0003", "name": "Desk Clerk Two", "os_user": "clerk1",
                             "roles": ["clerk"]})
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))


def some_clips(app: Avledger, n: int = 4, device: str = "TC0001", days_ago: int = 10) -> list[int]:
    now = utcnow()
    return insert_clips(app, [ClipSpec(device, f"DCIM/{device}/{days_ago}_{i}.MP4",
                                       f"{device}-{days_ago}-{i}".encode() * 50,
                                       now - timedelta(days=days_ago, hours=i),
                                       now - timedelta(days=days_ago - 1))
                              for i in range(n)])


def ok(result):  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else None


def one_line_error(result, code: int, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("avledger: error:"), result.stderr
    for w in words:
        assert w in lines[0]


def test_case_lifecycle(cli, app: Avledger) -> None:  # type: ignore[no-untyped-def]
    ids = some_clips(app)
    made = ok(cli("case", "add", CASE, "--name", "XX化工 超标排放", "--type", "penalty",
                  "--handler", "0001", "--confidentiality", "commercial-secret", "--json"))
    assert made["status"] == "open" and made["handlers"] == ["0001"]
    one_line_error(cli("case", "add", CASE, "--name", "again", "--type", "penalty"), 5,
                   "already exists")
    one_line_error(cli("case", "add", "X-1", "--name", "n", "--type", "fine"), 5,
                   "enforcement type")
    one_line_error(cli("case", "add", "X-2", "--name", "n", "--type", "inspection",
                       "--handler", "9999"), 4, "9999")
    linked = ok(cli("case", "link", *map(str, ids[:3]), "--case", CASE, "--json"))
    assert linked["changed"] == ids[:3]
    again = ok(cli("case", "link", str(ids[0]), "--case", CASE, "--json"))
    assert again["changed"] == [] and again["unchanged"] == [ids[0]]
    one_line_error(cli("case", "link", "999999", "--case", CASE), 4, "999999")
    ok(cli("case", "unlink", str(ids[2]), "--case", CASE))
    shown = ok(cli("case", "show", CASE, "--json"))
    assert sorted(c["id"] for c in shown["clips"]) == ids[:2]
    listed = ok(cli("case", "list", "--json"))
    assert listed[0]["number"] == CASE and listed[0]["clips"] == 2
    closed = ok(cli("case", "close", CASE, "--note", "penalty paid", "--json"))
    assert closed["status"] == "closed" and closed["closed_at"]
    assert ok(cli("case", "list", "--status", "open", "--json")) == []
    one_line_error(cli("case", "close", CASE), 5, "already closed")
    table = cli("case", "show", CASE)
    assert CASE in table.stdout and "closed" in table.stdout
    events = json.loads(cli("ledger", "show", "--type", "clip.*", "--json").stdout)
    assert sorted(e["type"] for e in events) == ["clip.ingested"] * 4 + ["clip.linked"] * 3 + [
        "clip.unlinked"]


def test_holds_roles_and_visibility(cli, app: Avledger, home: Path) -> None:  # type: ignore[no-untyped-def]
    add_clerk(home)
    ids = some_clips(app, 3, "TC0001") + some_clips(app, 3, "TC0002", days_ago=20)
    ok(cli("case", "add", CASE, "--name", "n", "--type", "compulsion"))
    ok(cli("case", "link", str(ids[1]), "--case", CASE))
    h1 = ok(cli("hold", "place", "--clip", str(ids[0]), "--reason", "complaint", "--note",
                "party objected on site", "--json"))
    h2 = ok(cli("hold", "place", "--case", CASE, "--reason", "major-sensitive", "--note",
                "major case", "--json"))
    start = (utcnow() - timedelta(days=21)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    end = (utcnow() - timedelta(days=19)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    h3 = ok(cli("hold", "place", "--device", "TC0002", "--from", start, "--to", end,
                "--reason", "obstruction", "--note", "officer obstructed", "--json"))
    assert (h1["clip_count"], h2["clip_count"], h3["clip_count"]) == (1, 1, 3)
    one_line_error(cli("hold", "place", "--clip", str(ids[0]), "--case", CASE, "--reason",
                       "other", "--note", "x"), 5, "exactly one")
    one_line_error(cli("hold", "place", "--clip", str(ids[0]), "--reason", "whim", "--note",
                       "x"), 5, "reason")
    one_line_error(cli("hold", "place", "--device", "NOPE", "--from", start, "--to", end,
                       "--reason", "other", "--note", "x"), 4, "NOPE")
    # Holds show with the clip (what 'clips show' calls).
    assert [h["id"] for h in holds_for_clip(app.catalog.conn, ids[0])] == [h1["id"]]
    assert [h["reason"] for h in holds_for_clip(app.catalog.conn, ids[1])] == ["major-sensitive"]
    assert [h["id"] for h in holds_for_clip(app.catalog.conn, ids[4])] == [h3["id"]]
    assert holds_for_clip(app.catalog.conn, ids[2]) == []
    # Release: records manager or leader only; a clerk or a stranger is refused.
    one_line_error(cli("hold", "release", str(h1["id"]), "--note", "x",
                       env={"AVLEDGER_ACTOR": "clerk1"}), 5, "records_manager or leader")
    one_line_error(cli("hold", "release", str(h1["id"]), "--note", "x",
                       env={"AVLEDGER_ACTOR": "stranger"}), 5, "not on the roster")
    one_line_error(cli("hold", "place", "--clip", str(ids[2]), "--reason", "other", "--note",
                       "x", env={"AVLEDGER_ACTOR": "clerk1"}), 5, "may not place a hold")
    released = ok(cli("hold", "release", str(h2["id"]), "--note", "case concluded",
                      "--json", env={"AVLEDGER_ACTOR": "leader"}))
    assert released["released_by"] == "0002:leader" and not released["active"]
    ok(cli("hold", "release", str(h1["id"]), "--note", "complaint withdrawn"))
    one_line_error(cli("hold", "release", str(h1["id"]), "--note", "again"), 5,
                   "already released")
    assert [h["id"] for h in ok(cli("hold", "list", "--json"))] == [h3["id"]]
    assert len(ok(cli("hold", "list", "--all", "--json"))) == 3
    assert holds_for_clip(app.catalog.conn, ids[0]) == []
    assert [h["active"] for h in holds_for_clip(app.catalog.conn, ids[0],
                                                include_released=True)] == [False]
    shown = ok(cli("hold", "show", str(h3["id"]), "--json"))
    assert shown["clips"] == ids[3:]
    # Releasing deleted nothing.
    statuses = {r[0] for r in app.catalog.conn.execute("SELECT status FROM clips")}
    assert statuses == {"stored"}
    types = [e["type"] for e in json.loads(cli("ledger", "show", "--type", "hold.*",
                                               "--json").stdout)]
    assert sorted(types) == ["hold.placed"] * 3 + ["hold.released"] * 2
