"""At a desk terminal, missing checkout values are asked for (stdin is a real pty)."""

from __future__ import annotations

import json
import os
import pty
import subprocess

from tests.conftest import AVLEDGER_BIN
from tests.desk.conftest import register


def run_at_terminal(args: list[str], answers: str) -> subprocess.CompletedProcess[str]:
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([AVLEDGER_BIN, *args], stdin=slave, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, COLUMNS="200"))
        os.write(master, answers.encode())
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def test_missing_values_are_prompted_for(desk) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    res = run_at_terminal(["checkout", "SN-1", "--json"],
                          "0003\nriver outfall sampling\n85\n60\n")
    assert res.returncode == 0, res.stderr
    prompts, _, body = res.stdout.partition("{")
    for label in ("Officer's badge number", "Task (what the device is for)",
                  "Battery level, %", "Free storage, %"):
        assert label in prompts
    co = json.loads("{" + body)
    assert (co["badge"], co["task"]) == ("0003", "river outfall sampling")
    assert co["precheck"]["battery"]["value"] == 85.0
    assert co["precheck"]["storage"]["value"] == 60.0


def test_given_options_are_not_asked_again(desk) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    res = run_at_terminal(["checkout", "SN-1", "--to", "0004", "--task", "hearing",
                           "--battery", "70", "--json"], "55\n")
    assert res.returncode == 0, res.stderr
    prompts, _, body = res.stdout.partition("{")
    assert "Free storage, %" in prompts and "Officer" not in prompts
    assert json.loads("{" + body)["precheck"]["storage"]["value"] == 55.0


def test_force_reason_is_asked_for(desk) -> None:  # type: ignore[no-untyped-def]
    register(desk, "SN-1")
    res = run_at_terminal(["checkout", "SN-1", "--to", "0004", "--task", "hearing",
                           "--battery", "10", "--storage-free", "90", "--force", "--json"],
                          "spare battery in the car\n")
    assert res.returncode == 0, res.stderr
    prompts, _, body = res.stdout.partition("{")
    assert "Reason for overriding the pre-use check" in prompts
    assert json.loads("{" + body)["precheck"]["forced"]["reason"] == "spare battery in the car"
