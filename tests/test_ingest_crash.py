"""SIGKILL during ingest, many times, at seeded random points; the re-run must leave the same
state as one clean run: clip rows, objects (on disk and in the catalog), no temp files, the
ledger and the store verifying, one ``clip.ingested`` event per clip.

Kills come in rounds: a fresh installation, a first kill anywhere in the whole ingest, then
further kills during the re-runs (which resume), then a run to the end, then the comparison.
Each kill point is the K-th write, flush, link or commit of the child (tests/crashingest.py),
drawn from ``random.Random(KILL_SEED)``, so no kill depends on timing and any failure is
reproduced by its seed.

Big clips: 100 kills. Tiny clips: 2,000 of them, 20 kills by default so the suite stays
short; ``make crash`` runs the full 100 (``CRASH_TINY_KILLS``). ``CRASH_KILLS``,
``CRASH_TINY_KILLS`` and ``CRASH_TINY_CLIPS`` set the numbers.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from avledger.core.install.setup import initialise
from tests.conftest import run_cli
from tests.crashingest import POINTS
from tests.recorder_tools import (
    catalog_objects,
    clip_rows,
    dock_states_and_events,
    make_recorder,
    store_objects,
)

REPO = Path(__file__).resolve().parent.parent
KILLS = int(os.environ.get("CRASH_KILLS", "100"))
TINY_KILLS = int(os.environ.get("CRASH_TINY_KILLS", "20"))
SEED = int(os.environ.get("KILL_SEED", "20261203"))
KILLS_PER_ROUND = 10


def _ingest(home: Path, rec: Path, point: str = "none", k: int = 0,
            ) -> tuple[int, Counter[str], str]:
    env = dict(os.environ, AVLEDGER_HOME=str(home), PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-m", "tests.crashingest", point, str(k),
                          "ingest", str(rec), "--json"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=900)
    counts: Counter[str] = Counter()
    for line in out.stderr.splitlines():
        if line.startswith("COUNTS "):
            counts.update(json.loads(line.removeprefix("COUNTS ")))
    return out.returncode, counts, out.stdout + out.stderr


def _facts(home: Path) -> dict[str, object]:
    catalog, store = home / "data" / "catalog.db", home / "data" / "store"
    states, events = dock_states_and_events(catalog)
    return {"rows": clip_rows(catalog), "objects": store_objects(store),
            "catalog_objects": catalog_objects(catalog), "temp": os.listdir(store / "tmp"),
            "last_dock": states[-1], "ingesting": states.count("ingesting"),
            "events": events}


def _kill_rounds(tmp_path: Path, rec: Path, clips: int, kills: int) -> list[tuple[str, int]]:
    template = tmp_path / "template"
    os.environ["AVLEDGER_HOME"] = str(template)
    initialise(None)
    ref = tmp_path / "ref"
    shutil.copytree(template, ref, symlinks=True)
    code, counts, output = _ingest(ref, rec, "count")
    assert code == 0, output
    expected = _facts(ref)
    assert len(expected["rows"]) == clips and expected["events"] == clips  # type: ignore[arg-type]
    rng = random.Random(SEED)
    done: list[tuple[str, int]] = []
    round_no = 0
    while len(done) < kills:
        home = tmp_path / f"round{round_no}"
        shutil.copytree(template, home, symlinks=True)
        for n in range(min(KILLS_PER_ROUND, kills - len(done))):
            point = rng.choice(POINTS)
            # the first kill anywhere in a whole run; later ones early in the resumed runs
            span = counts[point] if n == 0 else max(1, counts[point] // (4 * KILLS_PER_ROUND))
            k = rng.randint(1, max(1, span))
            code, _, output = _ingest(home, rec, point, k)
            if code == -signal.SIGKILL:
                done.append((point, k))
            else:
                assert code == 0, f"seed {SEED} {point} {k}: {output}"
        code, _, output = _ingest(home, rec)
        assert code == 0, f"seed {SEED} round {round_no}: {output}"
        facts = _facts(home)
        assert facts == {**expected, "temp": []}, f"seed {SEED} round {round_no}: {done[-5:]}"
        env = {"AVLEDGER_HOME": str(home)}
        for check in (run_cli("ledger", "verify", env=env), run_cli("store", "verify", env=env)):
            assert check.returncode == 0, f"seed {SEED} round {round_no}: {check.stdout}"
        shutil.rmtree(home)
        round_no += 1
    return done


@pytest.mark.slow
def test_kills_during_ingest_of_big_clips(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVLEDGER_HOME", str(tmp_path / "unused"))
    rec = tmp_path / "rec"
    make_recorder(rec, clips=5, size=12 << 20, serial="KILLBIG", drift=12)
    done = _kill_rounds(tmp_path, rec, 5, KILLS)
    assert len(done) >= KILLS
    if KILLS >= 20:
        assert {p for p, _ in done} == set(POINTS), done  # every kind of moment was hit


@pytest.mark.slow
def test_kills_during_ingest_of_many_tiny_clips(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVLEDGER_HOME", str(tmp_path / "unused"))
    clips = int(os.environ.get("CRASH_TINY_CLIPS", "2000"))
    rec = tmp_path / "rec"
    # 2,000 clips 3 minutes apart span four days: ending a week ago, none of them crosses its
    # hand-in deadline while the test runs (which would make a later run call it late)
    first = datetime.now(UTC) - timedelta(days=12)
    make_recorder(rec, clips=clips, size=50_000, serial="KILLTINY", drift=12,
                  first_start=first.replace(microsecond=0))
    done = _kill_rounds(tmp_path, rec, clips, TINY_KILLS)
    assert len(done) >= TINY_KILLS
    if TINY_KILLS >= 20:
        assert {p for p, _ in done} == set(POINTS), done
