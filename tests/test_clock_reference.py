"""Drift measured against the moment the recorder told its time (rule B, Art. 7), end to end.

A recorder writes its clock file when it is docked; everything between that moment and the
read used to become "drift". A folder has no docking moment: its drift is unknown unless
``--docked-at`` gives one, and its clips keep their recorder times. A reset clock is named as
one, not as a drift of −27 years.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from avledger.core.simulate.recorder import write_clock_file
from avledger.timestamps import utcnow
from tests.conftest import AVLEDGER_BIN
from tests.recorder_tools import profile

REPO = Path(__file__).resolve().parent.parent


def _json(res: subprocess.CompletedProcess[str]) -> Any:
    assert res.returncode == 0, (res.stdout, res.stderr)
    return json.loads(res.stdout)


def test_a_zero_drift_recorder_docked_20_s_before_its_folder_is_ingested(  # type: ignore[no-untyped-def]
        home: Path, tmp_path: Path, cli) -> None:
    rec = tmp_path / "SIM0001"
    assert cli("device", "add", "SIM0001", "--model", "Generic BWR").returncode == 0
    assert cli("simulate", "recorder", str(rec), "--drift", "0", "--clips", "2",
               "--size", "64k").returncode == 0
    # It was docked 20 s ago: its clock file says what its exact clock said then.
    docked = write_clock_file(rec, profile(), 0.0, now=utcnow() - timedelta(seconds=20))
    assert docked is not None

    shown = cli("ingest", str(rec))
    assert shown.returncode == 0, shown.stderr
    assert "drift unknown (not read at dock)" in shown.stdout
    report = _json(cli("ingest", str(rec), "--json"))  # nothing new; measured again
    assert report["clock"]["status"] == "unknown"
    assert report["clock"]["drift_seconds"] is None
    assert report["clock"]["detail"] == "not read at dock"
    clips = _json(cli("clips", "list", "--device", "SIM0001", "--json"))
    assert len(clips) == 2
    for clip in clips:  # flagged, and never shifted by a guess
        assert "clock-not-read-at-dock" in clip["flags"]
        assert clip["corrected_start"] == clip["device_start"]
        assert clip["drift_seconds"] is None

    given = _json(cli("ingest", str(rec), "--docked-at", docked.isoformat(), "--json"))
    clock = given["clock"]
    assert clock["status"] == "ok" and clock["reference"] == "given"
    assert abs(clock["drift_seconds"]) <= clock["uncertainty_seconds"]

    # The checkout that follows passes the pre-use check, docked or not, without --force.
    out = _json(cli("checkout", "SIM0001", "--to", "0001", "--task", "river outfall",
                    "--docked", str(rec), "--storage-free", "90", "--json"))
    assert out["precheck"]["clock"]["result"] == "ok"
    assert out["precheck"]["clock"]["source"] == "catalog"
    assert "forced" not in out["precheck"]


def test_a_reset_clock_is_named_with_what_it_read(home: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "RST1"
    assert cli("device", "add", "RST1", "--model", "Generic BWR").returncode == 0
    assert cli("simulate", "recorder", str(rec), "--serial", "RST1", "--clips", "1",
               "--size", "64k").returncode == 0
    (rec / "CLOCK.TXT").write_text("2000-01-01 00:02:07\n", encoding="utf-8")
    moment = utcnow().isoformat()
    for extra in ([], ["--docked-at", moment]):
        shown = cli("ingest", str(rec), *extra)
        assert shown.returncode == 0, shown.stderr
        assert "drift reset (recorder clock read 2000-01-01 00:02)" in shown.stdout
        assert "-8496" not in shown.stdout and "8496" not in shown.stdout
    check = cli("clock", "check", str(rec), "--docked-at", moment)
    assert check.returncode == 1
    assert "clock reset (recorder clock read 2000-01-01 00:02) — reset" in check.stdout
    assert "8496" not in check.stdout + check.stderr
    history = cli("clock", "history", "RST1")
    assert "reset (recorder clock read 2000-01-01 00:02)" in history.stdout
    assert "8496" not in history.stdout


FIGURE = re.compile(r"([+-]?\d+\.\d) ± (\d+\.\d) s")


@pytest.mark.slow
def test_the_demo_shows_one_drift_figure_throughout(tmp_path: Path) -> None:
    env = dict(os.environ, AVLEDGER_HOME=str(tmp_path / "demo-home"),
               BIN=str(Path(AVLEDGER_BIN).parent), COLUMNS="200")
    env.pop("AVLEDGER_CONFIG", None)
    done = subprocess.run(["bash", str(REPO / "scripts" / "demo.sh")], capture_output=True,
                          text=True, env=env, timeout=900, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    ingests = [ln for ln in out.splitlines() if ln.startswith("clock: drift")]
    assert len(ingests) == 2, out
    figures = [FIGURE.search(ln) for ln in ingests]
    assert all(f is not None and float(f.group(1)) == 95.0 for f in figures), ingests
    sync = next(ln for ln in out.splitlines() if "clock before" in ln)
    assert "95.0 ± 2.0 s fast" in sync, sync
    settled = next(ln for ln in out.splitlines() if "has taken effect" in ln)
    assert re.search(r": 95\.0( ± \d\.\d)? s fast before", settled), settled


def test_history_and_the_clock_report_give_the_figure_with_its_uncertainty(  # type: ignore[no-untyped-def]
        home: Path, tmp_path: Path, cli) -> None:
    rec = tmp_path / "FAST1"
    assert cli("simulate", "recorder", str(rec), "--serial", "FAST1", "--drift", "95",
               "--clips", "1", "--size", "64k").returncode == 0
    docked = write_clock_file(rec, profile(), 95.0)
    assert docked is not None
    report = _json(cli("ingest", str(rec), "--docked-at", docked.isoformat(), "--json"))
    assert (report["clock"]["drift_seconds"], report["clock"]["uncertainty_seconds"]) == \
        (95.0, 2.0)
    history = cli("clock", "history", "FAST1")
    assert "95.0 ± 2.0 s fast" in history.stdout, history.stdout
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    doc = _json(cli("report", "clocks", "--from", today, "--to", today, "--format", "json"))
    clocks = next(s for s in doc["sections"] if s["key"] == "clocks")
    table = clocks["tables"]["out_of_tolerance"] if isinstance(clocks["tables"], dict) else \
        next(t for t in clocks["tables"] if t["key"] == "out_of_tolerance")
    row = dict(zip(table["columns"], table["rows"][0], strict=True))
    assert (row["max_drift_s"], row["uncertainty_s"]) == (95.0, 2.0)
