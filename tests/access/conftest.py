"""An office for the access tests: a roster with handlers, staff and two leaders, three
cases of different confidentiality with real footage, and a clip belonging to no case."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.cases import registry as cases
from avledger.timestamps import utcnow
from tests.conftest import run_cli
from tests.factories import ClipSpec, insert_clips

OPEN = "平环罚〔2026〕12号"  # confidentiality none; handlers 0003 and 0006
SECRET = "平环罚〔2026〕13号"  # commercial secret; handler 0003
STATE = "平环强〔2026〕3号"  # state secret; handler 0003
OTHER = "平环检〔2026〕7号"  # another case sharing a clip with OPEN; handler 0006

PEOPLE = [
    {"badge": "0003", "name": "Handler Han", "unit": "Environmental Supervision Detachment",
     "os_user": "handler1", "roles": ["handler"]},
    {"badge": "0004", "name": "Staff Shi", "unit": "Legal Office", "os_user": "staff1",
     "roles": ["auditor"]},
    {"badge": "0005", "name": "Deputy Leader Du", "unit": "Bureau leadership",
     "os_user": "leader2", "roles": ["leader"]},
    {"badge": "0006", "name": "Handler-Leader He", "unit": "Bureau leadership",
     "os_user": "deputy", "roles": ["handler", "leader"]},
]


@dataclass
class Office:
    """The office's people, cases and footage, and a way to run the CLI as someone."""

    home: Path
    clips: dict[str, list[int]] = field(default_factory=dict)

    def run(self, *args: str, actor: str | None = None, **kw: Any):  # type: ignore[no-untyped-def]
        env = {"AVLEDGER_ACTOR": actor} if actor else {}
        return run_cli(*args, env=env, **kw)

    def ok(self, *args: str, actor: str | None = None, **kw: Any) -> Any:
        result = self.run(*args, "--json", actor=actor, **kw)
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)

    def refused(self, *args: str, actor: str | None = None, code: int = 5) -> str:
        result = self.run(*args, actor=actor)
        assert result.returncode == code, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr  # one line, no traceback
        return lines[0]

    def ask(self, category: str, action: str, *args: str, actor: str | None = None,
            purpose: str = "needed for the file") -> dict[str, Any]:
        """Register a request the policy accepts (approved at once, or pending)."""
        return dict(self.ok("access", "request", "--category", category, "--action", action,
                            "--purpose", purpose, *args, actor=actor))

    def ask_refused(self, category: str, action: str, *args: str,
                    actor: str | None = None) -> str:
        """Register a request the policy refuses: exit 5, one line naming the article."""
        return self.refused("access", "request", "--category", category, "--action", action,
                            "--purpose", "needed for the file", *args, actor=actor)

    def register(self) -> list[dict[str, Any]]:
        result = self.run("access", "register", "--format", "json")
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout))


def add_people(home: Path) -> None:
    path = home / "avledger.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["personnel"] += PEOPLE
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def make_footage(app: Avledger) -> dict[str, list[int]]:
    now = utcnow()

    def clips(device: str, n: int, tag: str) -> list[int]:
        return insert_clips(app, [ClipSpec(device, f"DCIM/100MEDIA/{tag}{i:03d}.MP4",
                                           os.urandom(50_000 + 1000 * i),
                                           now - timedelta(days=2, minutes=10 * i),
                                           now - timedelta(days=1)) for i in range(n)])

    out = {"open": clips("TC0001", 3, "A"), "secret": clips("TC0002", 2, "B"),
           "state": clips("TC0003", 1, "S"), "loose": clips("TC0004", 1, "L")}
    for number, name, kind, handlers, level, key in (
            (OPEN, "XX化工 超标排放", "penalty", ["0003", "0006"], "none", "open"),
            (SECRET, "YY制药 工艺泄露风险", "penalty", ["0003"], "commercial-secret", "secret"),
            (STATE, "ZZ基地 检查", "compulsion", ["0003"], "state-secret", "state")):
        cases.add_case(app, number=number, name=name, enforcement_type=kind,
                       handlers=handlers, confidentiality=level, now=now)
        cases.link_clips(app, number, out[key], now=now)
    cases.add_case(app, number=OTHER, name="另一案件 现场检查", enforcement_type="inspection",
                   handlers=["0006"], confidentiality="none", now=now)
    cases.link_clips(app, OTHER, out["open"][:1], now=now)  # shared with OPEN
    return out


@pytest.fixture
def office(home: Path) -> Iterator[Office]:
    add_people(home)
    app = Avledger.open(loader.load())
    try:
        footage = make_footage(app)
    finally:
        app.close()
    yield Office(home, footage)
