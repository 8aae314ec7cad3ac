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
from avledger.core.install.setup import initialise

AVLEDGER_BIN = str(Path(sys.executable).parent / "avledger")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# AVLEDGER_TEST_CATALOG=postgres: every 'home' below uses a fresh PostgreSQL database.
CATALOG_BACKEND = os.environ.get("AVLEDGER_TEST_CATALOG", "sqlite")

# The suite reads the program's English words (tests/test_i18n.py asks for Chinese itself):
# messages in the untranslated language, whatever the machine's locale or site.language.
os.environ.pop("LC_ALL", None)
os.environ["LC_MESSAGES"] = "C"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """One throw-away PostgreSQL server for the session (tests/pgserver.py).

    Skips with the reason when the server binaries are absent; in CI it fails instead."""
    from tests import pgserver

    if pgserver.bindir() is None:
        reason = "needs PostgreSQL server binaries (Debian package 'postgresql'; 'make test')"
        if IN_CI or CATALOG_BACKEND == "postgres":
            pytest.fail(f"this run must test PostgreSQL, but it {reason}")
        pytest.skip(reason)
    server = pgserver.launch()
    try:
        yield server
    finally:
        server.stop()


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
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         request: pytest.FixtureRequest) -> Path:
    """A fresh, initialised AVLEDGER_HOME (development layout)."""
    h = tmp_path / "home"
    monkeypatch.setenv("AVLEDGER_HOME", str(h))
    for var in ("AVLEDGER_CONFIG", "AVLEDGER_ACTOR"):
        monkeypatch.delenv(var, raising=False)
    if CATALOG_BACKEND == "postgres":
        use_postgres(h, request.getfixturevalue("pg_server").fresh_database())
    initialise(None)
    return h


def use_postgres(h: Path, dsn: str) -> None:
    """Write a development config for ``h`` whose catalog is the PostgreSQL database ``dsn``."""
    from avledger.core import identity
    from avledger.core.install.setup import development_config
    from tests import pgserver

    layout = loader.Layout.discover({"AVLEDGER_HOME": str(h)})
    h.mkdir(parents=True, exist_ok=True)
    text = development_config(layout, identity._login_name(os.getuid()))
    (h / "avledger.yaml").write_text(text + pgserver.catalog_yaml(dsn), encoding="utf-8")


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
