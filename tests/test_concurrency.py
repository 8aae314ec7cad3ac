"""Several processes writing the catalog at once (the daemon, the desk, the cron sweep).

Three processes append 1,000 events each, every one in its own transaction, at the same time
(started behind a barrier, not by the clock);
the ledger must end with exactly 3,000 more events and a valid chain, and no process may see
"database is locked".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.custody import ledger as ledger_core
from avledger.store import ledger as ledger_store

REPO = Path(__file__).resolve().parent.parent

APPENDER = r"""
import sys
from avledger.config import loader
from avledger.core.app import Avledger

name, count, barrier = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "barrier"


def wait(said):
    # A barrier across processes: say where we are, go on when the test says so.
    if barrier:
        print(said, flush=True)
        assert sys.stdin.readline().strip() == "go"


app = Avledger.open(loader.load())
wait("ready")
for i in range(count):
    if i == count // 2:
        wait("half")
    with app.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (f"writer:{name}", str(i)))
        app.record(conn, "test.appended", f"writer:{name}", {"i": i})
app.close()
print("done", name, flush=True)
"""
WRITERS = ("daemon", "desk", "sweep")


def _all_reach(procs: list[subprocess.Popen[str]], said: str) -> None:
    """Wait until every writer has reached ``said``, then let them all go on at once."""
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == said
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()


@pytest.mark.slow
def test_three_processes_append_1000_events_each(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Started together behind a barrier, and held at half-way until all three are there, so
    each writer's second half is written while the others are still writing; how finely the
    lock passes between them is the scheduler's business, measured but not asserted."""
    with Avledger.open(loader.load()) as app:
        before = ledger_store.state(app.catalog.conn).size
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, name, "1000", "barrier"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
             for name in WRITERS]
    _all_reach(procs, "ready")
    _all_reach(procs, "half")
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
        assert per_writer == {f"writer:{n}": 1000 for n in WRITERS}
        # each writer's events are in its own order, one chain with no gaps
        for name in WRITERS:
            seen = [e.payload["i"] for e in ledger_store.iter_events(
                conn, where="subject = ?", params=(f"writer:{name}",))]
            assert seen == list(range(1000))
        seqs = [r[0] for r in conn.execute("SELECT seq FROM ledger ORDER BY seq")]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        rows = conn.execute("SELECT subject, payload FROM ledger WHERE type = 'test.appended'"
                            " ORDER BY seq").fetchall()
        # Every first half was written before any second half: the three ran at once.
        halves = [json.loads(payload)["i"] >= 500 for _, payload in rows]
        assert halves == sorted(halves)
        order = [subject for subject, _ in rows]
        switches = sum(a != b for a, b in zip(order, order[1:], strict=False))
        print(f"the write lock passed between the writers {switches} times")
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
    writer = subprocess.Popen([sys.executable, "-c", APPENDER, "daemon", "1500", "free"],
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
