"""Several processes writing the catalog at once (the daemon, the desk, the cron sweep).

Three processes append 1,000 events each, every one in its own transaction, at the same time;
the ledger must end with exactly 3,000 more events and a valid chain, and no process may see
"database is locked".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.custody import ledger as ledger_core
from avledger.store import ledger as ledger_store

REPO = Path(__file__).resolve().parent.parent

APPENDER = r"""
import sys, time
from avledger.config import loader
from avledger.core.app import Avledger

name, count, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
app = Avledger.open(loader.load())
while time.time() < start_at:  # start together
    time.sleep(0.001)
for i in range(count):
    with app.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (f"writer:{name}", str(i)))
        app.record(conn, "test.appended", f"writer:{name}", {"i": i})
app.close()
print("done", name)
"""


@pytest.mark.slow
def test_three_processes_append_1000_events_each(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    with Avledger.open(loader.load()) as app:
        before = ledger_store.state(app.catalog.conn).size
    start_at = time.time() + 1.5
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, name, "1000", str(start_at)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for name in ("daemon", "desk", "sweep")]
    results = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err.lower() and "busy" not in err.lower(), err
        assert out.startswith("done")

    with Avledger.open(loader.load()) as app:
        conn = app.catalog.conn
        assert ledger_store.state(conn).size == before + 3000
        assert ledger_store.count(conn) == before + 3000
        per_writer = dict(conn.execute(
            "SELECT subject, COUNT(*) FROM ledger WHERE type = 'test.appended' GROUP BY subject"))
        assert per_writer == {"writer:daemon": 1000, "writer:desk": 1000, "writer:sweep": 1000}
        # each writer's events are in its own order, interleaved with the others'
        for name in ("daemon", "desk", "sweep"):
            seen = [e.payload["i"] for e in ledger_store.iter_events(
                conn, where="subject = ?", params=(f"writer:{name}",))]
            assert seen == list(range(1000))
        order = [r[0] for r in conn.execute(
            "SELECT subject FROM ledger WHERE type = 'test.appended' ORDER BY seq")]
        # The write lock passed between the writers while they ran (SQLite's busy handler
        # is not fair, so they interleave in runs rather than event by event).
        switches = sum(a != b for a, b in zip(order, order[1:], strict=False))
        assert switches >= 3, f"the writers did not run at the same time ({switches} switches)"
        report = ledger_core.verify(app.catalog, app.public_key(), app.origin,
                                    app.checkpoint_file)
        assert report.ok, report.problems
        assert report.latest_checkpoint == before + 3000  # each writer signed on close
    out = cli("ledger", "verify", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["events"] == before + 3000


@pytest.mark.slow
def test_cli_commands_while_writers_run(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Readers and short writers from the CLI are not disturbed by a busy writer."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    writer = subprocess.Popen([sys.executable, "-c", APPENDER, "daemon", "1500", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        for _ in range(5):
            for args in (("status", "--json"), ("ledger", "checkpoint"),
                         ("ledger", "show", "--limit", "5", "--json")):
                out = cli(*args)
                assert out.returncode == 0, out.stderr
                assert "locked" not in out.stderr.lower()
    finally:
        _, err = writer.communicate(timeout=600)
    assert writer.returncode == 0, err
    assert cli("ledger", "verify").returncode == 0
