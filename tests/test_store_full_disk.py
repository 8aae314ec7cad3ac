"""A real full disk (a 2 MiB tmpfs, as root): one clear error, nothing half-written.

The store is put on a tiny tmpfs and asked to take more than fits; then a whole
AVLEDGER_HOME lives on one, the disk is filled, and a command that writes is run.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from avledger.errors import StorageError
from avledger.store.local import LocalObjectStore
from tests.conftest import require_root_tools, run_cli
from tests.storetools import object_files

pytestmark = pytest.mark.root


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    require_root_tools("mount", "umount")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mnt)],
                   check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(path: Path) -> Path:
    """Write a filler file until the disk refuses; return it (delete it to free the space)."""
    filler = path / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_object_larger_than_the_disk(small_disk: Path) -> None:
    store = LocalObjectStore(small_disk / "store")
    store.create()
    data = os.urandom(3 * 1024 * 1024)
    with pytest.raises(StorageError) as info:
        store.put_stream(io.BytesIO(data), expected_size=len(data))
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith("store disk is full while writing an object")
    assert info.value.exit_code == 7
    assert store.temp_files() == [] and object_files(store.root) == []
    # The space was given back: a smaller object fits now.
    small = store.put_bytes(os.urandom(500_000))
    assert store.verify(small.digest, 500_000).status == "ok"
    assert [p.name for p in object_files(store.root)] == [small.digest]


def test_command_on_a_full_disk_is_one_line_and_loses_nothing(
        small_disk: Path, tmp_path: Path) -> None:
    env = {"AVLEDGER_HOME": str(small_disk / "home"), "AVLEDGER_CONFIG": "",
           "AVLEDGER_ACTOR": ""}
    assert run_cli("init", env=env).returncode == 0
    before = run_cli("ledger", "verify", "--json", env=env)
    assert before.returncode == 0, before.stderr
    filler = _fill(small_disk)
    # Commands that must write: export records an event and signs a checkpoint.
    failed = 0
    for i in range(5):
        out = run_cli("ledger", "export", str(tmp_path / f"export{i}"), env=env)
        lines = out.stderr.strip().splitlines()
        if out.returncode == 0:
            continue  # SQLite may reuse free pages in its WAL; keep going until it cannot
        failed += 1
        assert out.returncode == 7, out.stderr
        assert len(lines) == 1 and "disk is full" in lines[0], out.stderr
        assert "Traceback" not in out.stderr
    assert failed, "the full disk never refused a write"
    filler.unlink()
    after = run_cli("ledger", "verify", "--json", env=env)
    assert after.returncode == 0, after.stdout + after.stderr
