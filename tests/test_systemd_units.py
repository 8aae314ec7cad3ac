"""The shipped systemd units pass ``systemd-analyze verify``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import AVLEDGER_BIN, IN_CI

UNITS = Path(__file__).resolve().parent.parent / "systemd"


@pytest.mark.parametrize("unit", sorted(p.name for p in UNITS.glob("*.service")) +
                         sorted(p.name for p in UNITS.glob("*.timer")))
def test_unit_verifies(unit: str, tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        if IN_CI:
            pytest.fail("systemd-analyze is missing in CI")
        pytest.skip("needs systemd-analyze")
    # Point ExecStart at the installed command (verify checks that it is executable).
    for src in UNITS.glob("avledger-*"):
        text = src.read_text().replace("/usr/bin/avledger", AVLEDGER_BIN)
        (tmp_path / src.name).write_text(text)
    target = tmp_path / unit
    if "@" in unit:
        target = tmp_path / unit.replace("@", "@sdb1")
        target.write_text((tmp_path / unit).read_text())
    out = subprocess.run(["systemd-analyze", "verify", "--man=no", str(target)],
                         capture_output=True, text=True, cwd=tmp_path)
    problems = [ln for ln in (out.stdout + out.stderr).splitlines()
                if "avledger" in ln and "dev-sdb1.device" not in ln]
    assert out.returncode == 0 and not problems, out.stdout + out.stderr


@pytest.mark.parametrize("unit", sorted(p.name for p in UNITS.glob("*.service")))
def test_unit_verifies_with_the_shared_backends_drop_in(unit: str, tmp_path: Path) -> None:
    """The drop-in's settings, applied after the unit's own (as systemd does), still verify."""
    if shutil.which("systemd-analyze") is None:
        if IN_CI:
            pytest.fail("systemd-analyze is missing in CI")
        pytest.skip("needs systemd-analyze")
    drop_in = (UNITS / "shared-backends.conf").read_text()
    assert "PrivateNetwork=no" in drop_in and "IPAddressDeny=any" in drop_in
    name = unit.replace("@", "@sdb1") if "@" in unit else unit
    text = (UNITS / unit).read_text().replace("/usr/bin/avledger", AVLEDGER_BIN)
    (tmp_path / name).write_text(text + "\n" + drop_in)
    out = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / name)],
                         capture_output=True, text=True, cwd=tmp_path)
    problems = [ln for ln in (out.stdout + out.stderr).splitlines()
                if "avledger" in ln and "dev-sdb1.device" not in ln]
    assert out.returncode == 0 and not problems, out.stdout + out.stderr
