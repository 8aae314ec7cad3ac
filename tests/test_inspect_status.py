"""``avledger inspect status`` over a generated quarter agrees with the footage put in per task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.factories_inspect import add_standard_roster, generate_quarter, write_population


@pytest.fixture
def drawn(cli: Any, home: Path, tmp_path: Path) -> dict[str, Any]:
    """A voided first draw and a live second one for 2026Q4 (20 of 40 enterprises)."""
    add_standard_roster(home)
    pop = write_population(tmp_path / "enterprises.csv", 40)
    args = ("inspect", "draw", "--population", str(pop), "--period", "2026Q4", "--rate", "50%",
            "--inspectors", "2", "--json")
    assert cli(*args).returncode == 0
    assert cli("inspect", "void", "2026Q4", "--reason", "wrong population").returncode == 0
    live = cli(*args)
    assert live.returncode == 0, live.stderr
    return dict(json.loads(live.stdout))


def test_status_agrees_with_the_footage_per_task(cli: Any, home: Path,
                                                 drawn: dict[str, Any]) -> None:
    tasks = [i["task_id"] for i in drawn["inspections"]]
    assert len(tasks) == 20 and tasks[0] == "2026Q4r2-001"
    inspectors = {i["task_id"]: [p["badge"] for p in i["inspectors"]]
                  for i in drawn["inspections"]}
    quarter = generate_quarter(home / "data" / "catalog.db", tasks, inspectors, seed=11,
                               other_tasks=["2026Q4-003", "2026Q4r2-999", "2027Q1-001"])
    result = cli("inspect", "status", "--period", "2026Q4", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["draw"] == drawn["id"] and status["round"] == 2
    rows = {r["task_id"]: r for r in status["inspections"]}
    assert list(rows) == tasks
    states = set()
    for task in tasks:
        want, got = quarter.footage[task], rows[task]
        assert got["state"] == want.state, task
        assert got["clips"] == want.clips, task
        assert got["late_clips"] == want.late, task
        assert got["checkouts"] == want.checkouts, task
        assert got["seconds"] == pytest.approx(want.seconds, abs=1e-3), task
        assert got["hours"] == pytest.approx(round(want.seconds / 3600, 2)), task
        assert set(got["recorded_by"]) == want.badges, task
        assert set(got["not_drawn"]) == want.badges - set(inspectors[task]), task
        states.add(got["state"])
    assert states == {"none", "late", "ingested"}  # the quarter exercises every state
    totals = status["totals"]
    for state in ("none", "late", "ingested"):
        assert totals[state] == sum(1 for f in quarter.footage.values() if f.state == state)
    assert totals["clips"] == sum(f.clips for f in quarter.footage.values())
    assert totals["clips"] < quarter.clips_total  # footage of other tasks is not counted
    # checkouts naming this period's tasks that no live draw has: a typo and a voided task
    unmatched = {u["task_id"]: u for u in status["unmatched_task_ids"]}
    assert set(unmatched) == {"2026Q4-003", "2026Q4r2-999"}
    assert unmatched["2026Q4-003"]["void_draw"] == drawn["id"] - 1
    assert unmatched["2026Q4r2-999"]["void_draw"] is None
    # the table says the same
    text = cli("inspect", "status", "--period", "2026Q4")
    assert text.returncode == 0, text.stderr
    assert (f"20 inspections: {totals['ingested']} ingested, {totals['late']} late, "
            f"{totals['none']} without footage") in text.stdout
    assert "names 2026Q4-003: a task of void draw" in text.stdout


def test_status_of_a_period_without_a_live_draw(cli: Any, home: Path,
                                                drawn: dict[str, Any]) -> None:
    missing = cli("inspect", "status", "--period", "2031Q1")
    assert missing.returncode == 4
    assert cli("inspect", "void", "2026Q4", "--reason", "cancelled").returncode == 0
    voided = cli("inspect", "status", "--period", "2026Q4")
    assert voided.returncode == 4 and "voided" in voided.stderr
