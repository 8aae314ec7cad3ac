"""The roster stays in the config: person list/show read it; a CSV is checked and turned into
the 'personnel:' block (or a fragment usable with --config)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from avledger.config import schema
from avledger.core.desk import roster
from avledger.errors import ConfigError
from tests.desk.conftest import one_error_line, out, register

GOOD = """badge,name,unit,os_user,roles
1101,Chen Jing,Supervision Team 3,chenj,handler
1102,Sun Hao,,sunh,clerk;records_manager
1103,Guo Mei,Supervision Team 3,,handler
"""


def test_person_list_and_show(desk, dcli) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    co = out(desk, "SN-1", "0003", task="sampling")
    people = json.loads(dcli("person", "list", "--json").stdout)
    by_badge = {p["badge"]: p for p in people}
    assert [c["serial"] for c in by_badge["0003"]["open_checkouts"]] == ["SN-1"]
    assert by_badge["0004"]["open_checkouts"] == []
    assert by_badge["0005"]["active"] is False
    active = json.loads(dcli("person", "list", "--active", "--json").stdout)
    assert "0005" not in [p["badge"] for p in active]
    shown = json.loads(dcli("person", "show", "0003", "--json").stdout)
    assert shown["name"] == "Li Na" and shown["roles"] == ["handler"]
    assert [c["id"] for c in shown["open_checkouts"]] == [co["id"]]
    assert shown["footage"] == {"clips": 0, "hours": 0.0}
    text = dcli("person", "list")
    assert text.returncode == 0 and "SN-1 since" in text.stdout
    missing = dcli("person", "show", "4242")
    assert missing.returncode == 4
    assert one_error_line(missing) == "avledger: error: no person with badge '4242' on the roster"


def test_csv_to_yaml_and_config_fragment(desk_home: Path, tmp_path: Path, dcli) -> None:  # type: ignore[no-untyped-def]
    csv_file = tmp_path / "staff.csv"
    csv_file.write_text("\ufeff" + GOOD, encoding="utf-8")  # as spreadsheets save it
    printed = dcli("person", "import", str(csv_file))
    assert printed.returncode == 0, printed.stderr
    block = yaml.safe_load(printed.stdout)
    assert block == {"personnel": [
        {"badge": "1101", "name": "Chen Jing", "unit": "Supervision Team 3", "os_user": "chenj",
         "roles": ["handler"]},
        {"badge": "1102", "name": "Sun Hao", "os_user": "sunh",
         "roles": ["clerk", "records_manager"]},
        {"badge": "1103", "name": "Guo Mei", "unit": "Supervision Team 3", "os_user": None,
         "roles": ["handler"]},
    ]}
    assert schema.validate(block) == []

    fragment = tmp_path / "roster.yaml"
    wrote = dcli("person", "import", str(csv_file), "--write", str(fragment))
    assert wrote.returncode == 0 and "wrote 3 people" in wrote.stdout
    again = dcli("person", "import", str(csv_file), "--write", str(fragment))
    assert again.returncode == 5 and "exists; not overwriting it" in again.stderr
    # the fragment replaces the roster: Sun Hao (clerk) can now act, and 0001 no longer
    listed = dcli("--config", str(fragment), "person", "list", "--json", actor="sunh")
    assert listed.returncode == 0, listed.stderr
    assert [p["badge"] for p in json.loads(listed.stdout)] == ["1101", "1102", "1103"]
    units = {p["badge"]: p["unit"] for p in json.loads(listed.stdout)}
    assert units["1102"] == "Municipal Ecology and Environment Bureau (demo)"  # site.unit
    me = dcli("--config", str(fragment), "person", "list")
    assert me.returncode == 5 and "is not on the roster" in me.stderr


def test_merge_keeps_the_current_roster(desk_home: Path, tmp_path: Path, dcli) -> None:  # type: ignore[no-untyped-def]
    csv_file = tmp_path / "changes.csv"
    csv_file.write_text("badge,name,unit,os_user,roles,active\n"
                        "0004,Wang Fang,Supervision Team 3,wangf,handler,no\n"
                        "1101,Chen Jing,Supervision Team 3,chenj,handler,yes\n",
                        encoding="utf-8")
    merged = yaml.safe_load(dcli("person", "import", str(csv_file), "--merge").stdout)
    badges = [p["badge"] for p in merged["personnel"]]
    assert badges[:2] == ["0001", "0002"] and badges[-1] == "1101"
    wang = next(p for p in merged["personnel"] if p["badge"] == "0004")
    assert wang["active"] is False and wang["unit"] == "Supervision Team 3"
    assert "active" not in next(p for p in merged["personnel"] if p["badge"] == "1101")
    assert schema.validate(merged) == []
    clash = tmp_path / "clash.csv"
    clash.write_text("badge,name,unit,os_user,roles\n1201,New Person,,lina,handler\n",
                     encoding="utf-8")
    res = dcli("person", "import", str(clash), "--merge")
    assert res.returncode == 3
    assert "badge 1201: os_user: 'lina' is already used at badge 0003" in res.stderr


def test_every_csv_problem_is_reported_by_line() -> None:
    bad = ("badge,name,unit,os_user,roles\n"
           "1101,Chen Jing,Team,chenj,handler\n"
           "1101,Copy Cat,Team,copyc,handler\n"
           ",No Badge,Team,nob,handler\n"
           "1104,,Team,noname,handler\n"
           "1105,Bad Role,Team,badr,handler;janitor\n"
           "1106,Same Login,Team,chenj,auditor\n"
           "1107,Bad Login,Team,Not A Login,auditor\n"
           "1108,Too,Many,fields,handler,extra\n")
    with pytest.raises(ConfigError) as err:
        roster.parse_csv(bad)
    assert err.value.problems == [
        "line 9: more fields than columns",
        "line 3: badge: duplicate '1101' (also at line 2)",
        "line 4: badge: must be a badge number (letters, digits, . _ -; up to 32)",
        "line 5: name: must be a non-empty string",
        "line 6: roles: unknown role(s) janitor (known: clerk, handler, records_manager, "
        "leader, auditor, legal_reviewer)",
        "line 8: os_user: must be an operating-system user name",
        "line 7: os_user: 'chenj' is already used at line 2 (one login acts as one person)",
    ]


def test_bad_header_and_encoding(tmp_path: Path, dcli, desk_home: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as err:
        roster.parse_csv("badge,fullname,unit,roles\n1,x,y,handler\n")
    assert err.value.problems[:2] == ["header: missing column(s) name, os_user",
                                      "header: unknown column(s) fullname"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("badge,name,unit,os_user,roles\n1,Jos\xe9,u,,handler\n".encode("latin-1"))
    res = dcli("person", "import", str(latin))
    assert res.returncode == 3
    assert "not UTF-8 text" in one_error_line(res)
