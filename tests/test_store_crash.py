"""SIGKILL while a large object is being written: never a visible partial object.

A child process writes a 200 MiB object from a slow source and is killed at random points —
while copying, and right after the last byte (during fsync and publication). After each kill,
``objects/`` may only hold complete, correctly hashed files, and writing the same content
again succeeds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from avledger.store.local import LocalObjectStore
from tests.crashwriter import MIB, PacedSource, expected_digest
from tests.storetools import assert_only_complete_objects, object_files

REPO = Path(__file__).resolve().parent.parent
SIZE_MIB = 200


def _writer(root: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "tests.crashwriter", str(root), str(SIZE_MIB)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


class Watcher(threading.Thread):
    """Looks at objects/ every few milliseconds while the writer runs: any file there must
    already have the object's full size (it may only appear complete)."""

    def __init__(self, root: Path, size: int) -> None:
        super().__init__(daemon=True)
        self.root, self.size = root, size
        self.partial: list[tuple[str, int]] = []
        self.looks = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for path in object_files(self.root):
                try:
                    size = path.stat().st_size
                except FileNotFoundError:
                    continue
                if size != self.size:
                    self.partial.append((path.name, size))
            self.looks += 1
            time.sleep(0.005)


def _kill_at(proc: subprocess.Popen[str], target: int, watcher: Watcher) -> int:
    """SIGKILL the writer once it reports ``target`` bytes written; return bytes seen."""
    assert proc.stdout is not None
    seen = 0
    watcher.start()
    try:
        for line in proc.stdout:
            if line.startswith("bytes "):
                seen = int(line.split()[1])
            if line.startswith("done"):
                break
            if seen >= target:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        watcher.stop.set()
        watcher.join()
    return seen


@pytest.mark.slow
def test_sigkill_never_leaves_a_partial_object(tmp_path: Path) -> None:
    root = tmp_path / "store"
    digest = expected_digest(SIZE_MIB)
    seed = int(time.time())
    rng = random.Random(seed)
    total = SIZE_MIB * MIB
    # Random points while copying, plus the instant after the last byte (fsync + publish).
    targets = sorted(rng.randrange(MIB, total) for _ in range(4)) + [total, total]
    outcomes = []
    for target in targets:
        proc = _writer(root)
        watcher = Watcher(root, total)
        seen = _kill_at(proc, target, watcher)
        assert proc.returncode == -signal.SIGKILL, f"seed {seed}: writer was not killed"
        assert watcher.looks > 10 and watcher.partial == [], f"seed {seed}: {watcher.partial}"
        files = assert_only_complete_objects(root)
        assert [f.name for f in files] in ([], [digest]), f"seed {seed}: unexpected objects"
        outcomes.append((seen, len(files)))
    # The next write of the same content succeeds (created, or found already complete).
    store = LocalObjectStore(root)
    res = store.put_stream(PacedSource(SIZE_MIB, 0), expected_size=total)
    assert res.digest == digest and res.size == total
    assert store.verify(digest, total).status == "ok"
    assert [f.name for f in assert_only_complete_objects(root)] == [digest]
    # Killed writers leave temp files (never visible as objects); the sweep removes them.
    store.sweep_temp(older_than=0)
    assert store.temp_files() == []
    print(f"seed {seed}: kill points (bytes seen, objects after) {outcomes}")


@pytest.mark.slow
def test_unkilled_writer_completes(tmp_path: Path) -> None:
    """The control: the same child, not killed, publishes exactly the expected object."""
    proc = _writer(tmp_path / "store")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert out.strip().splitlines()[-1] == f"done {expected_digest(SIZE_MIB)}"
