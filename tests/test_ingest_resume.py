"""SIGKILL at random points during ingest, then re-run: same result as one clean run."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from avledger.core.install.setup import initialise
from tests.conftest import AVLEDGER_BIN, run_cli
from tests.recorder_tools import (
    catalog_objects,
    clip_rows,
    dock_states_and_events,
    make_recorder,
    store_objects,
)

CLIPS = 8
SIZE = 12 << 20


def _clip_count(catalog: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM clips").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _kill_when(rec: Path, env: dict[str, str], ready, timeout: float = 60) -> bool:  # type: ignore[no-untyped-def]
    """Start an ingest, SIGKILL it as soon as ``ready()``; False if it finished first."""
    proc = subprocess.Popen([AVLEDGER_BIN, "ingest", str(rec), "--json"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if ready():
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.002)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_sigkill_then_rerun_matches_clean_run(home: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    rec = tmp_path / "rec"
    make_recorder(rec, clips=CLIPS, size=SIZE, serial="KILL01", drift=12)
    # one clip per group commit, so that kills land between committed clips (tests/
    # test_ingest_crash.py kills inside groups of the default size)
    with open(home / "avledger.yaml", "a", encoding="utf-8") as fh:
        fh.write("\ningest: {group_clips: 1}\n")
    catalog = home / "data" / "catalog.db"
    store = home / "data" / "store"
    env = dict(os.environ, AVLEDGER_HOME=str(home))
    rng = random.Random(int(os.environ.get("KILL_SEED", "20261127")))

    kills = []
    # 1: while a clip is being copied (a temp file exists in the store)
    kills.append(_kill_when(rec, env, lambda: bool(os.listdir(store / "tmp"))))
    counts = [_clip_count(catalog)]
    # 2, 3: right after a random number of clips were committed
    for _ in range(2):
        target = min(CLIPS - 1, counts[-1] + rng.randint(1, 3))
        kills.append(_kill_when(rec, env, lambda t=target: _clip_count(catalog) >= t))
        counts.append(_clip_count(catalog))
    # 4: at a random moment after start
    start = time.monotonic()
    delay = rng.uniform(0.05, 0.6)
    kills.append(_kill_when(rec, env, lambda: time.monotonic() - start > delay))
    counts.append(_clip_count(catalog))
    assert kills[:3] == [True, True, True], "the ingest finished before it could be killed"
    assert any(0 < c < CLIPS for c in counts), counts  # killed part-way, really

    final = run_cli("ingest", str(rec), "--json", env={"AVLEDGER_HOME": str(home)})
    assert final.returncode == 0, final.stderr
    assert json.loads(final.stdout)["totals"]["failed"] == 0

    # an uninterrupted run of the same recorder into a fresh installation
    ref = tmp_path / "ref"
    monkeypatch.setenv("AVLEDGER_HOME", str(ref))
    initialise(None)
    clean = run_cli("ingest", str(rec), "--json", env={"AVLEDGER_HOME": str(ref)})
    assert clean.returncode == 0, clean.stderr

    assert clip_rows(catalog) == clip_rows(ref / "data" / "catalog.db")
    assert len(clip_rows(catalog)) == CLIPS
    objects = store_objects(store)
    assert objects == catalog_objects(catalog) == store_objects(ref / "data" / "store")
    assert os.listdir(store / "tmp") == []  # killed writers' temp files swept
    for r in (run_cli("ledger", "verify", env={"AVLEDGER_HOME": str(home)}),
              run_cli("store", "verify", env={"AVLEDGER_HOME": str(home)})):
        assert r.returncode == 0, r.stdout + r.stderr
    states, ingested = dock_states_and_events(catalog)
    assert states[-1] == "done" and "ingesting" not in states
    assert ingested == CLIPS  # one event per clip, never two
