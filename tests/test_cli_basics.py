from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.clitree import command_tree
from tests.conftest import AVLEDGER_BIN, run_cli


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


# ---- every command answers --help, with examples ------------------------------------------


COMMANDS = [path for path, _ in command_tree()]


def test_the_command_tree_is_found() -> None:
    for expected in [("init",), ("status",), ("config", "check"), ("store", "verify"),
                     ("ledger", "verify"), ("ledger", "export")]:
        assert expected in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "avledger")
def test_help(path: tuple[str, ...]) -> None:
    out = run_cli(*path, "--help", env={"AVLEDGER_HOME": "/nonexistent/avledger-help"})
    assert out.returncode == 0, out.stderr
    assert " ".join(("Usage: avledger", *path)) in out.stdout
    assert out.stderr == ""
    assert "<bool>" not in out.stdout, "a flag is shown as if it took a value"
    cmd = dict(command_tree())[path]
    if not hasattr(cmd, "commands"):  # a leaf command: its help shows how to use it
        assert "Example" in out.stdout, f"'avledger {' '.join(path)} --help' has no example"


def test_short_help_option() -> None:
    assert run_cli("ledger", "verify", "-h").returncode == 0


def test_unknown_command_is_a_usage_error() -> None:
    out = run_cli("no-such-command")
    assert out.returncode == 2 and "Traceback" not in out.stderr


@pytest.mark.parametrize(("args", "words"), [
    (("clips", "list", "--since", "yesterday"),
     "--since: 'yesterday' is not a date or time; write it as 2026-11-30"),
    (("clips", "list", "--since", "2026-13-45"),
     "--since: '2026-13-45' is not a valid date or time; write it as 2026-11-30"),
    (("case", "decide", "X", "--kind", "toaster"),
     "--kind: 'toaster' is not one of: penalty, compulsion, licensing, other"),
    (("clips", "list", "--limit", "many"), "--limit: 'many' is not a whole number"),
    (("store", "verify", "--sample", "0"), "--sample: '0' is too small: must be at least 1"),
    (("clips", "explain", "3"), "Missing option '--reason'"),
])
def test_bad_input_is_one_line_in_plain_words(home: Path, args: tuple[str, ...],
                                              words: str) -> None:
    out = run_cli(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"avledger: error: {words}"), out.stderr
    assert "Input should be" not in out.stderr and "Value error" not in out.stderr
    assert f"(hint: see 'avledger {' '.join(args[:2])} -h')" in lines[0]


@pytest.mark.parametrize("args", [("status", "--json"), ("status",), ("profile", "list")])
def test_a_reader_that_went_away_ends_the_command_quietly(home: Path,
                                                          args: tuple[str, ...]) -> None:
    """``avledger … | head``: the pipe is closed before the command writes anything."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        out = subprocess.run([AVLEDGER_BIN, *args], stdout=write_end, stderr=subprocess.PIPE,
                             text=True, timeout=120)
    finally:
        os.close(write_end)
    assert out.stderr == "" and out.returncode == 1
