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


DIRECTORY_KINDS = ("State", "Logs", "Runtime", "Configuration", "Cache")


def _settings(unit: str) -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in (UNITS / unit).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            settings[key.strip()] = value.strip()
    return settings


@pytest.mark.parametrize("unit", sorted(p.name for p in UNITS.glob("*.service")))
def test_unit_directories_are_closed_to_others(unit: str) -> None:
    """Every directory a unit asks systemd for is 0750 (systemd's default is 0755), and the
    process umask is 0027: the catalog (the access register), the store and the checkpoint
    file are never readable by others."""
    settings = _settings(unit)
    asked = [kind for kind in DIRECTORY_KINDS if f"{kind}Directory" in settings]
    for kind in asked:
        assert settings.get(f"{kind}DirectoryMode") == "0750", (unit, kind)
    assert settings.get("UMask") == "0027", unit
    assert "/var/lib/avledger" in settings["ReadWritePaths"].split(), unit


@pytest.mark.parametrize("unit", sorted(p.name for p in UNITS.glob("*.service")))
def test_the_state_directory_stays_the_service_accounts(unit: str) -> None:
    """systemd gives a unit's StateDirectory/LogsDirectory (recursively) to the unit's User=,
    so only units running as the service account may declare them; the root-run dock units
    would otherwise take the catalog and store from it at every start."""
    settings = _settings(unit)
    if settings.get("User") == "avledger":
        assert settings.get("Group") == "avledger", unit
        assert settings.get("StateDirectory") == "avledger", unit
        assert settings.get("StateDirectoryMode") == "0750", unit
    else:
        assert settings.get("User") == "root", unit
        assert "StateDirectory" not in settings and "LogsDirectory" not in settings, unit


SUDOERS = UNITS.parent / "packaging" / "sudoers.d" / "avledger"


def test_sudoers_rule_parses_and_allows_only_the_command(tmp_path: Path) -> None:
    """The shipped rule, installed as the manual says (mode 0440; git keeps no such mode),
    passes 'visudo -cf' and lets the staff group run exactly /usr/bin/avledger as the
    service account, with the environment reset."""
    if shutil.which("visudo") is None:
        if IN_CI:
            pytest.fail("visudo (Debian package 'sudo') is missing in CI")
        pytest.skip("needs visudo (Debian package 'sudo')")
    installed = tmp_path / "avledger"
    subprocess.run(["install", "-m", "0440", str(SUDOERS), str(installed)], check=True)
    out = subprocess.run(["visudo", "-cf", str(installed)], capture_output=True, text=True)
    assert out.returncode == 0 and "parsed OK" in out.stdout, out.stdout + out.stderr
    rules = [ln for ln in SUDOERS.read_text().splitlines() if ln and not ln.startswith("#")]
    grants = [ln for ln in rules if not ln.startswith("Defaults")]
    assert grants == ["%avledger-staff ALL = (avledger) NOSETENV: /usr/bin/avledger"]
    assert "Defaults:%avledger-staff env_reset" in rules
