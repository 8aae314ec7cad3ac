"""The dock daemon loads at start what a docking would otherwise load the first time: the first
dockings after a start (a shift's recorders docked at once) copy instead of importing the
signing code beside four recorders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from avledger.config import loader
from avledger.daemon import main as daemon_main
from avledger.daemon.service import Daemon
from tests.recorder_tools import make_recorder

FIRST_DOCKING = """
import json, sys
from pathlib import Path
from avledger.config import loader
from avledger.core.ingest.unattended import load_ahead, run_docking
config = loader.load()
load_ahead(config)
loaded = set(sys.modules)
result = run_docking(config, profile="generic", folder=Path(sys.argv[1]), stop=lambda: None)
print(json.dumps({"new": result["new"],
                  "imported": sorted(m for m in set(sys.modules) - loaded
                                     if not m.startswith("encodings."))}))
"""


def test_a_first_docking_after_load_ahead_imports_nothing(home: Path, tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    make_recorder(rec, clips=3, size=200_000, serial="AHEAD01")
    out = subprocess.run([sys.executable, "-c", FIRST_DOCKING, str(rec)], capture_output=True,
                         text=True, env=dict(os.environ, AVLEDGER_HOME=str(home)), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    done = json.loads(out.stdout.splitlines()[-1])
    assert done == {"new": 3, "imported": []}  # the signing code was among them before


def test_the_daemon_starts_loading_ahead_when_it_starts(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = threading.Event()
    monkeypatch.setattr(daemon_main, "load_ahead", lambda config: loaded.set())
    monkeypatch.setattr(Daemon, "run", lambda self: 0)  # stops as soon as it is ready
    assert daemon_main.serve(loader.load) == 0
    assert loaded.wait(30)
