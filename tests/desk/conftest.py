"""Desk fixtures: a home whose roster has officers, a second leader, a clerk-only and an
inactive person, and sessions acting as any of them (``AVLEDGER_ACTOR``)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.desk import checkouts
from avledger.core.desk import devices as registry
from tests.conftest import run_cli

PEOPLE = [
    {"badge": "0003", "name": "Li Na", "unit": "Supervision Team 1", "os_user": "lina",
     "roles": ["handler"]},
    {"badge": "0004", "name": "Wang Fang", "unit": "Supervision Team 2", "os_user": "wangf",
     "roles": ["handler"]},
    {"badge": "0005", "name": "Zhao Lei", "unit": "Supervision Team 1", "os_user": "zhaol",
     "roles": ["handler"], "active": False},
    {"badge": "0006", "name": "Deputy Leader", "unit": "Bureau leadership",
     "os_user": "leader2", "roles": ["leader"]},
    {"badge": "0007", "name": "Desk Assistant", "unit": "Supervision Detachment",
     "os_user": "clerk2", "roles": ["clerk"]},
    {"badge": "0008", "name": "Field Leader", "unit": "Supervision Team 1",
     "os_user": "fieldlead", "roles": ["handler", "leader"]},
]


@pytest.fixture
def desk_home(home: Path) -> Path:
    """``home`` with the desk roster added to its avledger.yaml."""
    config_file = home / "avledger.yaml"
    doc = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    doc["personnel"] += PEOPLE
    config_file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")
    return home


@contextmanager
def acting_as(login: str | None) -> Iterator[Avledger]:
    """A session whose actor is ``login`` (None: the current user, badge 0001)."""
    old = os.environ.get("AVLEDGER_ACTOR")
    if login is None:
        os.environ.pop("AVLEDGER_ACTOR", None)
    else:
        os.environ["AVLEDGER_ACTOR"] = login
    try:
        app = Avledger.open(loader.load())
    finally:
        if old is None:
            os.environ.pop("AVLEDGER_ACTOR", None)
        else:
            os.environ["AVLEDGER_ACTOR"] = old
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def as_(desk_home: Path) -> Callable[..., Any]:
    return acting_as


@pytest.fixture
def desk(desk_home: Path) -> Iterator[Avledger]:
    """A session as the desk clerk (badge 0001, the current user)."""
    with acting_as(None) as app:
        yield app


@pytest.fixture
def dcli(desk_home: Path) -> Callable[..., Any]:
    """``dcli("checkout", "list", actor="lina")`` runs the installed command as someone."""
    def _run(*args: str, actor: str | None = None, **kw: Any) -> Any:
        env = dict(kw.pop("env", {}) or {})
        if actor:
            env["AVLEDGER_ACTOR"] = actor
        return run_cli(*args, env=env, **kw)
    return _run


def register(app: Avledger, serial: str, **kw: Any) -> dict[str, Any]:
    return registry.add(app, serial, **kw).device


def out(app: Avledger, serial: str, badge: str, *, now: datetime | None = None,
        **kw: Any) -> dict[str, Any]:
    """A checkout that passes the entered pre-use checks."""
    kw.setdefault("battery_percent", 90)
    kw.setdefault("storage_free_percent", 80)
    kw.setdefault("task", "site inspection")
    return checkouts.check_out(app, checkouts.CheckoutRequest(serial, badge, **kw), now=now)


def one_error_line(result: Any) -> str:
    """The single stderr line of a refused command."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("avledger: error: "), lines[0]
    return str(lines[0])


# ---- docked recorders ------------------------------------------------------------------------

# A clock file says what the recorder's clock showed when it was docked: every second between
# docking and reading it shows up as slowness, and a loaded machine takes seconds to start a
# command. Docked tests therefore allow 10 s (a 40 s slow clock is still far outside).
DOCKED_TOLERANCE = 10

LIVE_CLOCK = ('TZ=Asia/Shanghai date -d "@$(( $(date +%s) + $(cat "{root}/RTC_OFFSET") ))" '
              '"+%Y-%m-%d %H:%M:%S"')
SET_LIVE_CLOCK = 'echo $(( $(date -d "{time}" +%s) - $(date +%s) )) > "{root}/RTC_OFFSET"'
CLIPS = {"globs": ["DCIM/**/*.MP4"], "name_pattern": r"^(?P<start>\d{8}_\d{6})_\d{4}\.MP4$",
         "time_format": "%Y%m%d_%H%M%S", "timezone": "Asia/Shanghai"}
SIMULATE = {"clip_path": "DCIM/100TEST/{start:%Y%m%d_%H%M%S}_{index:04d}.MP4"}
TEST_PROFILES = {
    # a recorder whose clock the profile can read (file) but not set
    "fixedclock": {
        "match": {"marker": "FIXED.TXT"},
        "identity": {"file": "FIXED.TXT", "format": "keyvalue", "fields": {"serial": "SERIAL"}},
        "clips": CLIPS, "simulate": SIMULATE,
        "clock": {"read": {"method": "file", "path": "CLOCK.TXT",
                           "format": "%Y-%m-%d %H:%M:%S"}},
        "battery": {"file": "FIXED.TXT", "format": "keyvalue", "key": "BATTERY"},
        "storage": {"file": "FREE.TXT", "format": "text"},
    },
    # a recorder read and set by a vendor command, at once (its clock offset in RTC_OFFSET)
    "liveclock": {
        "match": {"marker": "LIVE.TXT"},
        "identity": {"file": "LIVE.TXT", "format": "keyvalue", "fields": {"serial": "SERIAL"}},
        "clips": CLIPS, "simulate": SIMULATE,
        "clock": {"read": {"method": "command", "command": ["sh", "-c", LIVE_CLOCK],
                           "format": "%Y-%m-%d %H:%M:%S"},
                  "set": {"method": "command", "command": ["sh", "-c", SET_LIVE_CLOCK]}},
        "battery": {"file": "LIVE.TXT", "format": "keyvalue", "key": "BATTERY"},
    },
}


@pytest.fixture
def docked_home(desk_home: Path) -> Path:
    """``desk_home`` with the docked-clock tolerance and the two test recorder families."""
    config_file = desk_home / "avledger.yaml"
    doc = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    doc.setdefault("clock", {})["tolerance_seconds"] = DOCKED_TOLERANCE
    config_file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")
    (desk_home / "profiles").mkdir(exist_ok=True)
    for name, doc in TEST_PROFILES.items():
        (desk_home / "profiles" / f"{name}.yaml").write_text(yaml.safe_dump(doc),
                                                             encoding="utf-8")
    return desk_home


def catalog_rows(home: Path, sql: str, *args: Any) -> list[dict[str, Any]]:
    conn = sqlite3.connect(home / "data" / "catalog.db", timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def ledger_events(dcli: Callable[..., Any], subject: str = "*", **filters: str) -> list[Any]:
    """Ledger events oldest first, through the installed command."""
    args = ["ledger", "show", "--subject", subject, "--limit", "10000", "--json"]
    for key, value in filters.items():
        args += [f"--{key}", value]
    res = dcli(*args)
    assert res.returncode == 0, res.stderr
    return list(reversed(json.loads(res.stdout)))
