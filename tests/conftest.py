"""Shared fixtures: an initialised AVLEDGER_HOME, the installed CLI, and root-tool gating."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from avledger.config import loader
from avledger.core.app import Avledger
from avledger.core.setup import initialise

AVLEDGER_BIN = str(Path(sys.executable).parent / "avledger")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_root_tools(*tools: str) -> None:
    """Skip (with the reason) unless root with ``tools``; in CI, fail instead of skipping."""
    missing = [t for t in tools if shutil.which(t) is None]
    reason = None
    if os.geteuid() != 0:
        reason = "needs root (loop devices, mounts, udev)"
    elif missing:
        reason = f"needs {', '.join(missing)} (run 'make test' as root to install them)"
    if reason:
        if IN_CI:
            pytest.fail(f"CI must run this test, but it {reason}")
        pytest.skip(reason)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, initialised AVLEDGER_HOME (development layout)."""
    h = tmp_path / "home"
    monkeypatch.setenv("AVLEDGER_HOME", str(h))
    for var in ("AVLEDGER_CONFIG", "AVLEDGER_ACTOR"):
        monkeypatch.delenv(var, raising=False)
    initialise(None)
    return h


@pytest.fixture
def app(home: Path) -> Iterator[Avledger]:
    a = Avledger.open(loader.load())
    try:
        yield a
    finally:
        a.close()


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed ``avledger`` command (end to end)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("COLUMNS", "200")
    return subprocess.run([AVLEDGER_BIN, *args], capture_output=True, text=True,
                          env=full_env, input=input, timeout=timeout)


@pytest.fixture
def cli(home: Path):  # type: ignore[no-untyped-def]
    """``cli("ledger", "verify")`` runs the installed command against ``home``."""
    def _run(*args: str, **kw):  # type: ignore[no-untyped-def]
        return run_cli(*args, **kw)
    return _run
