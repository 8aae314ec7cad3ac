"""PostgreSQL catalog tests: a real server on 127.0.0.1 (``pg_server`` in tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from avledger.core.install.setup import initialise
from tests.conftest import use_postgres


@pytest.fixture
def pg_dsn(pg_server) -> str:  # type: ignore[no-untyped-def]
    """A fresh, migrated database of its own for this test."""
    return str(pg_server.fresh_database())


@pytest.fixture
def pg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_server) -> Path:  # type: ignore[no-untyped-def]
    """An AVLEDGER_HOME whose catalog is a new, empty PostgreSQL database, after 'init'."""
    h = tmp_path / "pghome"
    monkeypatch.setenv("AVLEDGER_HOME", str(h))
    for var in ("AVLEDGER_CONFIG", "AVLEDGER_ACTOR"):
        monkeypatch.delenv(var, raising=False)
    use_postgres(h, pg_server.empty_database())
    initialise(None)
    assert os.path.exists(h / "avledger.yaml")
    return h
