"""What the dock does after an unattended ingest: sets a drifted clock (``daemon.clock_sync``)
through the same clock sync as the desk, as ``system``; never clears the recorder
(``daemon.clear_after_ingest`` is refused with a log line). Real FAT images on loop devices,
mounted by fusefat, through ``core.dock.run_docking`` as the daemon calls it (root)."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from avledger.config import loader
from avledger.core.ingest.unattended import CLEAR_REFUSED, run_docking
from tests.conftest import require_root_tools, run_cli
from tests.loopfuse import loop_device
from tests.recorder_tools import make_recorder

TOOLS = ("losetup", "fusefat", "fusermount", "mkfs.vfat", "mcopy", "mdir")


def configure(home: Path, **daemon: Any) -> None:
    path = home / "avledger.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc.setdefault("daemon", {}).update(daemon)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def fat_names(image: Path) -> set[str]:
    out = subprocess.run(["mdir", "-b", "-i", str(image), "::/"], capture_output=True,
                         text=True, check=True, env={"MTOOLS_SKIP_CHECK": "1",
                                                     "PATH": "/usr/bin:/bin"}).stdout
    return {Path(line.strip()).name for line in out.splitlines() if line.strip()}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def docked(tmp_path: Path, serial: str, drift: float) -> Iterator[tuple[Path, str]]:
    image = tmp_path / f"{serial}.img"
    make_recorder(tmp_path / serial, serial=serial, drift=drift, clips=2, size=64_000,
                  image=image)
    with loop_device(image, read_only=False) as dev:
        yield image, dev


def dock(dev: str, stop: Any = None) -> dict[str, Any]:
    return run_docking(loader.load(), profile="generic", stop=stop or (lambda: None),
                       device=dev)


@pytest.fixture(autouse=True)
def _root() -> None:
    require_root_tools(*TOOLS)


def test_a_drifted_clock_is_set_after_a_complete_ingest(home: Path, tmp_path: Path) -> None:
    with docked(tmp_path, "DOCK-1", drift=-40) as (image, dev):
        result = dock(dev)
        assert result["new"] == 2 and result["failed"] == 0
        sync = result["clock_sync"]
        assert sync["state"] == "pending" and sync["before_drift_seconds"] <= -40
        assert "TIMESET.TXT" in fat_names(image)
        again = dock(dev)  # docked again before it was unplugged: still waiting, not rewritten
        assert again["new"] == 0 and again["clock_sync"]["state"] == "waiting"
    shown = json.loads(run_cli("ledger", "show", "--type", "clock.synced", "--json").stdout)
    assert len(shown) == 1 and shown[0]["actor"] == "system"
    assert shown[0]["payload"]["origin"] == "dock" and shown[0]["payload"]["read_write_mount"]
    assert run_cli("ledger", "verify").returncode == 0


def test_nothing_is_written_when_not_needed_or_turned_off(home: Path, tmp_path: Path) -> None:
    with docked(tmp_path, "DOCK-2", drift=0) as (image, dev):
        before = sha(image)
        assert dock(dev)["clock_sync"]["state"] == "not-needed"
        assert sha(image) == before
    configure(home, clock_sync=False)
    with docked(tmp_path, "DOCK-3", drift=-40) as (image, dev):
        before = sha(image)
        result = dock(dev)
        assert result["new"] == 2 and "clock_sync" not in result
        assert sha(image) == before


def test_no_sync_after_an_incomplete_ingest(home: Path, tmp_path: Path) -> None:
    with docked(tmp_path, "DOCK-4", drift=-40) as (image, dev):
        before = sha(image)
        result = dock(dev, stop=lambda: "the dock daemon is stopping")
        assert result["stopped"] == "the dock daemon is stopping"
        assert "clock_sync" not in result
        assert sha(image) == before


def test_clear_after_ingest_is_refused_with_a_log_line(home: Path, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    configure(home, clear_after_ingest=True, clock_sync=False)
    with docked(tmp_path, "DOCK-5", drift=0) as (image, dev):
        before = sha(image)
        with caplog.at_level(logging.WARNING, logger="avledger.dock"):
            result = dock(dev)
        assert result["clear_after_ingest"] == "refused"
        assert sha(image) == before  # every clip is still on the recorder
    assert [r.getMessage() for r in caplog.records] == [f"{dev} (DOCK-5): {CLEAR_REFUSED}"]


def test_a_drop_folder_batch_is_never_written_to(home: Path, tmp_path: Path) -> None:
    batch = tmp_path / "drop" / "DOCK-6"
    make_recorder(batch, serial="DOCK-6", drift=-40, clips=1, size=30_000)
    names = sorted(p.name for p in batch.rglob("*"))
    result = run_docking(loader.load(), profile="generic", stop=lambda: None, folder=batch)
    assert result["new"] == 1 and "clock_sync" not in result
    assert sorted(p.name for p in batch.rglob("*")) == names
