"""A real command-line day on a PostgreSQL-configured home, and parity with SQLite.

init → simulate recorder → ingest → clips list → hold place → retention sweep (plan, apply)
→ ledger verify, all through the installed ``avledger`` command.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from avledger.core.install.setup import initialise
from tests.conftest import run_cli

# Times and drift depend on the moment each run measured the simulated clock.
VOLATILE = {"ingested_at", "now", "drift_seconds", "corrected_start", "corrected_end",
            "deadline", "recorded_at", "expires_at", "since", "purge_at", "source_mtime",
            "device_start", "device_end"}


def ok(out: Any) -> Any:
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def _day(recorder: Path) -> dict[str, Any]:
    ok(run_cli("simulate", "recorder", str(recorder), "--clips", "4", "--size", "64k",
               "--start", "2024-01-10 09:00:00"))
    ok(run_cli("ingest", str(recorder)))
    clips = json.loads(ok(run_cli("clips", "list", "--json")).stdout)
    ok(run_cli("hold", "place", "--clip", str(clips[0]["id"]), "--reason", "complaint",
               "--note", "party objected on site"))
    plan = json.loads(ok(run_cli("retention", "sweep", "--json")).stdout)
    applied = json.loads(ok(run_cli("retention", "sweep", "--apply", "--json")).stdout)
    verify = ok(run_cli("ledger", "verify"))
    return {"clips": clips, "plan": plan, "applied": applied, "verify": verify.stdout}


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def test_cli_day_on_postgres_matches_sqlite(pg_home: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pg = _day(tmp_path / "bwr-pg")
    assert len(pg["clips"]) == 4
    assert pg["plan"]["totals"]["kept"]["held"] == 1
    assert pg["plan"]["totals"]["to_pending"] == 3
    assert sorted(pg["applied"]["applied"]["pending"]) == sorted(
        c["id"] for c in pg["clips"][1:])
    assert "ledger OK" in pg["verify"]
    status = json.loads(ok(run_cli("status", "--json")).stdout)
    assert status["catalog"]["path"].startswith("postgresql://")
    assert "password" not in status["catalog"]["path"]

    lite_home = tmp_path / "sqlite-home"
    monkeypatch.setenv("AVLEDGER_HOME", str(lite_home))
    initialise(None)
    lite = _day(tmp_path / "bwr-lite")
    assert os.path.exists(lite_home / "data" / "catalog.db")
    assert _strip(pg["clips"]) == _strip(lite["clips"])
    assert _strip(pg["plan"]) == _strip(lite["plan"])
    assert _strip(pg["applied"]) == _strip(lite["applied"])
