"""A sweep --apply process while another process keeps cataloguing clips: nothing is lost.

The second process catalogues clips through the core exactly as ingest does (store first,
then one write transaction), and half of its rounds re-use the bytes of clips the sweep is
purging at that moment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from avledger.core.app import Avledger
from avledger.core.retention import sweep as retention
from avledger.timestamps import utcnow
from tests.conftest import AVLEDGER_BIN
from tests.factories import ClipSpec, insert_clips

ROOT = Path(__file__).resolve().parent.parent


def test_sweep_while_clips_arrive(app: Avledger, home: Path, tmp_path: Path) -> None:
    now = utcnow()
    old = []
    for batch in range(6):  # 600 expired clips, made pending 8 days ago: purged by the sweep
        old += insert_clips(app, [
            ClipSpec(f"TC{batch:04d}", f"DCIM/{batch}_{i}.MP4", f"old-{batch}-{i}".encode() * 80,
                     now - timedelta(days=420, minutes=i), now - timedelta(days=419))
            for i in range(100)])
    retention.apply_sweep(app, now - timedelta(days=8))
    fresh_expired = insert_clips(app, [  # expired, not pending yet: go pending in the sweep
        ClipSpec("TC0100", f"DCIM/x{i}.MP4", f"x-{i}".encode() * 80,
                 now - timedelta(days=400, minutes=i), now - timedelta(days=399))
        for i in range(200)])
    reuse_dir = tmp_path / "reuse"
    reuse_dir.mkdir()
    reuse = []
    for clip_id in old[:40]:
        digest = app.catalog.conn.execute("SELECT digest FROM clips WHERE id = ?",
                                          (clip_id,)).fetchone()[0]
        with app.store.open(digest) as fh:
            (reuse_dir / digest).write_bytes(fh.read())
        reuse.append(str(reuse_dir / digest))

    stop, out = tmp_path / "stop", tmp_path / "ingested.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    feeder = subprocess.Popen([sys.executable, "-m", "tests.ingest_loop", str(stop), str(out),
                               *reuse], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        while not out.exists() or not out.read_text().strip():
            assert feeder.poll() is None, feeder.stderr.read() if feeder.stderr else ""
            time.sleep(0.05)
        sweep_start = time.time()
        sweep = subprocess.run([AVLEDGER_BIN, "retention", "sweep", "--apply", "--json"],
                               capture_output=True, text=True, env=env, timeout=600)
        sweep_end = time.time()
        time.sleep(0.3)
    finally:
        stop.touch()
        feeder.wait(timeout=60)
    assert feeder.returncode == 0, feeder.stderr.read() if feeder.stderr else ""
    assert sweep.returncode == 0, sweep.stderr
    applied = json.loads(sweep.stdout)["applied"]
    assert sorted(p["clip"] for p in applied["purged"]) == sorted(old)
    assert sorted(applied["pending"]) == sorted(fresh_expired)
    assert applied["skipped"] == []

    batches = [json.loads(line) for line in out.read_text().splitlines()]
    during = [b for b in batches if sweep_start <= b["t"] <= sweep_end]
    print(f"feeder batches: {len(batches)}, during the sweep: {len(during)}, "
          f"sweep {sweep_end - sweep_start:.1f} s")
    assert len(during) >= 3, "the feeder must have catalogued clips while the sweep ran"
    fed = [i for b in batches for i in b["ids"]]
    conn = app.catalog.conn
    rows = {r["id"]: r for r in conn.execute(
        f"SELECT id, status, digest FROM clips WHERE id IN ({','.join(map(str, fed))})")}
    assert set(rows) == set(fed)  # nothing lost
    assert {r["status"] for r in rows.values()} == {"stored"}
    for r in rows.values():  # every live clip has its bytes and its object row
        assert app.store.exists(r["digest"])
        assert conn.execute("SELECT 1 FROM objects WHERE digest = ?", (r["digest"],)).fetchone()
    ingested = conn.execute("SELECT COUNT(*) FROM ledger WHERE type = 'clip.ingested' AND"
                            " actor = 'system'").fetchone()[0]
    assert ingested == len(fed)
    for args in (("store", "verify"), ("ledger", "verify")):
        check = subprocess.run([AVLEDGER_BIN, *args], capture_output=True, text=True, env=env)
        assert check.returncode == 0, check.stdout + check.stderr
