"""Several dock stations on the shared backends: one PostgreSQL catalog, one S3 Object Lock
bucket (both real servers on 127.0.0.1), and a single-machine installation moved into them.

Each station has its own AVLEDGER_HOME (config, runtime and log directories) and shares what a
real site shares: the catalog, the bucket, the ledger's signing key and the checkpoint file.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from avledger.config.loader import Layout
from avledger.core.install.setup import development_config
from tests import pgserver
from tests.conftest import AVLEDGER_BIN, run_cli
from tests.recorder_tools import make_recorder
from tests.s3 import seaweed

STATIONS = ("dock-a", "dock-b", "dock-c")


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _ok(*args: str, env: dict[str, str]) -> Any:
    done = run_cli(*args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout) if done.stdout.lstrip().startswith(("{", "[")) else done


class Site:
    """Station homes whose configs point at one database and one bucket."""

    def __init__(self, root: Path, weed: seaweed.Seaweed, bucket: str, dsn: str) -> None:
        self.root = root
        self.shared = root / "shared"
        self.shared.mkdir(parents=True)
        (self.shared / "s3.credentials").write_text(weed.credentials_file().read_text())
        self.weed, self.bucket, self.dsn = weed, bucket, dsn

    def home(self, station: str) -> Path:
        return self.root / station

    def env(self, station: str) -> dict[str, str]:
        env = dict(os.environ, AVLEDGER_HOME=str(self.home(station)))
        for var in ("AVLEDGER_CONFIG", "AVLEDGER_ACTOR", "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY"):
            env.pop(var, None)
        return env

    def shared_config(self) -> dict[str, Any]:
        return {
            "catalog": {"backend": "postgres", "dsn": self.dsn},
            "store": {"backend": "s3", "path": str(self.shared / "s3-state"), "s3": {
                "endpoint_url": self.weed.endpoint, "bucket": self.bucket, "prefix": "city",
                "lock_mode": "governance", "min_retention_days": 1,
                "credentials_file": str(self.shared / "s3.credentials")}},
            "ledger": {"key_path": str(self.shared / "ledger.key"),
                       "checkpoint_file": str(self.shared / "checkpoints.log")},
        }

    def station(self, station: str, *, shared: bool = True) -> dict[str, str]:
        home = self.home(station)
        home.mkdir(parents=True)
        layout = Layout.discover({"AVLEDGER_HOME": str(home)})
        doc = yaml.safe_load(development_config(layout, pwd.getpwuid(os.getuid()).pw_name))
        doc["site"]["station"] = station
        doc["ledger"]["origin"] = "avledger.local/city"
        # drop folders only: the stations must not take up other block devices on this host
        doc["daemon"] = {"settle_seconds": 1, "watch_udev": False}
        # one clip per group commit: a station killed mid-copy has committed some clips
        doc["ingest"] = {"group_clips": 1}
        if shared:
            for key, value in self.shared_config().items():
                doc[key] = doc.get(key, {}) | value
        (home / "avledger.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
        return self.env(station)


@pytest.fixture
def site(weed: seaweed.Seaweed, bucket: str, pg_server: pgserver.PgServer,
         tmp_path: Path) -> Site:
    return Site(tmp_path / "site", weed, bucket, pg_server.fresh_database())


@pytest.fixture
def daemons() -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    running: dict[str, subprocess.Popen[bytes]] = {}
    yield running
    for proc in running.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def _start(site: Site, station: str, drop: Path) -> subprocess.Popen[bytes]:
    log = open(site.home(station) / "daemon.log", "ab")  # noqa: SIM115 (the daemon keeps it)
    proc = subprocess.Popen([AVLEDGER_BIN, "daemon", "--drop-folder", str(drop)],
                            stdout=log, stderr=subprocess.STDOUT, env=site.env(station))
    _wait(lambda: b"dock daemon ready" in (site.home(station) / "daemon.log").read_bytes(),
          60, f"the {station} daemon to start")
    return proc


def _docks(site: Site, env: dict[str, str]) -> list[dict[str, Any]]:
    status = _ok("dock", "status", "--json", env=env)
    return list(status["docked"]) + list(status["recent"])


def test_three_stations_ingest_at_once_and_a_killed_one_loses_nothing(
        site: Site, daemons: dict[str, subprocess.Popen[bytes]], tmp_path: Path) -> None:
    envs = {s: site.station(s) for s in STATIONS}
    for station, env in envs.items():
        out = _ok("init", env=env)
        assert "postgresql://" in out.stdout and "s3://" in out.stdout, (station, out.stdout)
    drops = {s: tmp_path / f"drop-{s}" for s in STATIONS}
    recorders: dict[str, Path] = {}
    for i, station in enumerate(STATIONS):
        drops[station].mkdir()
        rec = tmp_path / f"rec-{station}"
        # dock-b's recorder is the largest: it is still copying when its station is killed
        make_recorder(rec, clips=5, size=(24 if station == "dock-b" else 6) << 20,
                      serial=f"CITY{i:04d}", badge="0001")
        recorders[station] = rec
        daemons[station] = _start(site, station, drops[station])
    for station in STATIONS:  # three recorders docked at (nearly) the same moment
        shutil.copytree(recorders[station], drops[station] / "bay-1")

    victim = "dock-b"
    def copying() -> bool:  # read straight from the database: polled fast, mid-copy
        with psycopg.connect(site.dsn) as conn:
            return conn.execute(
                "SELECT 1 FROM docks d JOIN devices v ON v.id = d.device_id WHERE"
                " v.serial = 'CITY0001' AND d.state = 'ingesting' AND d.bytes_done > 0"
            ).fetchone() is not None

    _wait(copying, 120, "dock-b's copy to start")
    daemons[victim].send_signal(signal.SIGKILL)
    daemons[victim].wait(timeout=30)
    daemons[victim] = _start(site, victim, drops[victim])  # the station comes back

    def all_done() -> bool:
        latest: dict[str, str] = {}
        for d in sorted(_docks(site, envs["dock-c"]), key=lambda d: int(d["id"])):
            latest[d["serial"]] = d["state"]
        return latest == {"CITY0000": "done", "CITY0001": "done", "CITY0002": "done"}

    _wait(all_done, 300, "every recorder to be ingested")

    b_docks = sorted((d for d in _docks(site, envs["dock-a"]) if d["serial"] == "CITY0001"),
                     key=lambda d: int(d["id"]))
    assert [d["state"] for d in b_docks] == ["interrupted", "done"], b_docks
    assert b_docks[0]["result"]["interrupted"] is True
    assert 0 < b_docks[0]["bytes_done"] < b_docks[0]["bytes_total"], "killed mid-copy"
    interrupted = _ok("ledger", "show", "--type", "dock.interrupted", "--json",
                      env=envs["dock-a"])
    assert [e["subject"] for e in interrupted] == [f"dock:{b_docks[0]['id']}"]
    clips = _ok("clips", "list", "--json", env=envs["dock-a"])
    assert len(clips) == 15, [(c["serial"], c["source_path"]) for c in clips]
    keys = {(c["serial"], c["source_path"]) for c in clips}
    assert len(keys) == 15, "a clip was catalogued twice"
    assert len({c["digest"] for c in clips}) == 15
    for station, env in envs.items():  # desk commands from any station see one ledger
        verify = run_cli("ledger", "verify", "--json", env=env)
        assert verify.returncode == 0 and json.loads(verify.stdout)["ok"], (station,
                                                                             verify.stdout)
    store = run_cli("store", "verify", "--json", env=envs["dock-c"])
    assert store.returncode == 0, store.stdout + store.stderr
    assert json.loads(store.stdout)["checked"] == 15
    events = _ok("ledger", "show", "--type", "clip.ingested", "--json", env=envs["dock-b"])
    assert len(events) == 15, "each clip is ingested by exactly one event"
    held = _ok("hold", "place", "--clip", str(clips[0]["id"]), "--reason", "complaint",
               "--note", "from dock-c", "--json", env=envs["dock-c"])
    assert held["id"]
    listed = _ok("hold", "list", "--json", env=envs["dock-a"])
    assert [h["note"] for h in listed] == ["from dock-c"]


def test_a_single_machine_installation_moves_into_the_shared_backends(
        site: Site, tmp_path: Path) -> None:
    env = site.station("old-dock", shared=False)
    _ok("init", env=env)
    rec = tmp_path / "rec"
    make_recorder(rec, clips=4, size=5 << 20, serial="OLD0001", badge="0001")
    _ok("ingest", str(rec), "--json", env=env)
    clip_id = str(_ok("clips", "list", "--json", env=env)[0]["id"])
    _ok("hold", "place", "--clip", clip_id, "--reason", "obstruction", "--note", "kept",
        "--json", env=env)
    target = tmp_path / "shared.yaml"
    target.write_text(yaml.safe_dump(site.shared_config()), "utf-8")

    plan = _ok("migrate", "--to", str(target), "--dry-run", "--json", env=env)
    assert plan["objects"] == 4 and plan["target"]["catalog"].startswith("postgresql://")
    moved = _ok("migrate", "--to", str(target), "--json", env=env)
    assert moved["objects_copied"] == 4 and moved["verified_objects"] == 4
    assert moved["locked"] == 4

    on_shared = dict(env, AVLEDGER_CONFIG=str(target))
    verify = run_cli("ledger", "verify", "--json", env=on_shared)
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"], verify.stdout
    clips = _ok("clips", "list", "--json", env=on_shared)
    assert len(clips) == 4
    store = run_cli("store", "verify", "--json", env=on_shared)
    assert store.returncode == 0 and json.loads(store.stdout)["checked"] == 4, store.stdout
    # the store itself now keeps the held clip: S3 legal hold on its object
    s3 = site.weed.client()
    digest = next(c["digest"] for c in clips if str(c["id"]) == clip_id)
    key = f"city/objects/{digest[:2]}/{digest[2:4]}/{digest}"
    hold = s3.get_object_legal_hold(Bucket=site.bucket, Key=key)
    assert hold["LegalHold"]["Status"] == "ON"
    # and a second station joins the moved installation
    env_b = site.station("new-dock")
    _ok("init", env=env_b)
    assert len(_ok("clips", "list", "--json", env=env_b)) == 4
