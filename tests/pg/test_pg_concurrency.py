"""Several stations writing one PostgreSQL catalog at once: one valid chain, nothing lost.

Three processes (standing in for dock stations on different hosts: each has its own
connection and nothing but the database in common) append 300 events each, every one in its
own write transaction, all at the same time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.custody import ledger as ledger_core
from avledger.store import ledger as ledger_store

REPO = Path(__file__).resolve().parents[2]

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
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     (f"writer:{name}", str(i)))
        app.record(conn, "test.appended", f"writer:{name}", {"i": i})
app.close()
print("done", name)
"""


def test_three_processes_append_300_events_each(pg_home: Path) -> None:
    with Avledger.open(loader.load()) as app:
        before = ledger_store.state(app.catalog.conn).size
    start_at = time.time() + 2.0
    env = dict(os.environ, PYTHONPATH=str(REPO))
    names = ("dock-1", "dock-2", "desk")
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, name, "300", str(start_at)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for name in names]
    results = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert out.startswith("done"), err

    with Avledger.open(loader.load()) as app:
        conn = app.catalog.conn
        state = ledger_store.state(conn)
        seqs = [r[0] for r in conn.execute("SELECT seq FROM ledger ORDER BY seq")]
        assert seqs == list(range(1, state.size + 1))  # no gaps
        for name in names:  # no lost events, each writer's in its own order
            got = [json.loads(r[0])["i"] for r in conn.execute(
                "SELECT payload FROM ledger WHERE subject = ? AND type = 'test.appended'"
                " ORDER BY seq", (f"writer:{name}",))]
            assert got == list(range(300))
        # init + 900 appends + the checkpoints' own ledger entries, if any
        assert state.size - before >= 900
        report = ledger_core.verify(app.catalog, app.public_key(), app.origin,
                                    app.checkpoint_file)
        assert report.ok, report.problems[:3]
