"""Two stations on one PostgreSQL catalog: ingests at the same time, commands from either.

Each station has its own AVLEDGER_HOME (its own config, runtime and log directories). They
share what a real site shares: the catalog database, the object store, the ledger's signing
key and the checkpoint file.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from tests.conftest import AVLEDGER_BIN, run_cli


def _station(home: Path, name: str, shared: dict[str, str]) -> dict[str, str]:
    """A second station's home: the first one's config with its own name and shared parts."""
    doc = yaml.safe_load(Path(shared["home"], "avledger.yaml").read_text(encoding="utf-8"))
    doc["site"]["station"] = name
    doc["store"] = {"path": shared["store"]}
    doc["ledger"].update({"key_path": shared["key"], "checkpoint_file": shared["checkpoints"]})
    home.mkdir(parents=True)
    (home / "avledger.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True),
                                        encoding="utf-8")
    return dict(os.environ, AVLEDGER_HOME=str(home))


def test_two_stations_ingest_at_once_and_share_one_ledger(pg_home: Path, tmp_path: Path) -> None:
    shared = {"home": str(pg_home), "store": str(pg_home / "data" / "store"),
              "key": str(pg_home / "keys" / "ledger.key"),
              "checkpoints": str(pg_home / "log" / "checkpoints.log")}
    env_a = dict(os.environ, AVLEDGER_HOME=str(pg_home))
    env_b = _station(tmp_path / "station-b", "dock-b", shared)
    out = run_cli("init", env=env_b)
    assert out.returncode == 0, out.stderr
    assert "catalog postgresql://" in out.stdout

    recorders = []
    for serial, env in (("SIM0001", env_a), ("SIM0002", env_b)):
        rec = tmp_path / serial
        assert run_cli("simulate", "recorder", str(rec), "--serial", serial, "--clips", "6",
                       "--size", "64k", env=env).returncode == 0
        recorders.append((rec, env))
    procs = [subprocess.Popen([AVLEDGER_BIN, "ingest", str(rec), "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rec, env in recorders]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err

    for env in (env_a, env_b):  # desk commands from either station see everything
        clips = json.loads(run_cli("clips", "list", "--json", env=env).stdout)
        assert sorted(c["serial"] for c in clips) == ["SIM0001"] * 6 + ["SIM0002"] * 6
        verify = run_cli("ledger", "verify", env=env)
        assert verify.returncode == 0, verify.stdout + verify.stderr
    held = run_cli("hold", "place", "--clip", str(clips[0]["id"]), "--reason", "complaint",
                   "--note", "from station b", env=env_b)
    assert held.returncode == 0, held.stderr
    shown = json.loads(run_cli("hold", "list", "--json", env=env_a).stdout)
    assert any(h.get("note") == "from station b" for h in shown), shown
    assert run_cli("ledger", "verify", env=env_a).returncode == 0
