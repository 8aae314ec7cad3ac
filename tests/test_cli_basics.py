from __future__ import annotations

import json

from tests.conftest import run_cli


def test_version() -> None:
    out = run_cli("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("avledger ")


def test_init_status_verify(cli) -> None:  # type: ignore[no-untyped-def]
    status = cli("status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["ledger"]["events"] == 1
    assert data["ledger"]["checkpointed"] == 1
    verify = cli("ledger", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "ledger OK" in verify.stdout


def test_not_initialised_is_one_line(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AVLEDGER_HOME", str(tmp_path / "nothing"))
    out = run_cli("ledger", "verify")
    assert out.returncode == 7
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("avledger: error:")
    assert "avledger init" in lines[0]
