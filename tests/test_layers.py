"""The layers are contracts: import-linter checks them on the real package, and a deliberately
wrong import in a copy of the package (core importing typer) breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(),
                                reason="import-linter is not installed (make dev installs it)")


def _lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONSAFEPATH": "1"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config",
                           str(cwd / "pyproject.toml")],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_package_keeps_every_contract() -> None:
    out = _lint(ROOT / "src", ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_core_importing_typer_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "avledger", tmp_path / "src" / "avledger",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bad = tmp_path / "src" / "avledger" / "core" / "units.py"
    bad.write_text("import typer  # a deliberate layering error\n" + bad.read_text())
    # The copy must be the package that is analysed, not the installed one.
    probe = subprocess.run([sys.executable, "-c", "import avledger; print(avledger.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(tmp_path / "src")},
                           cwd=tmp_path, capture_output=True, text=True, check=True)
    assert probe.stdout.startswith(str(tmp_path)), probe.stdout
    out = _lint(tmp_path / "src", tmp_path)
    assert out.returncode != 0
    assert "core is the domain" in out.stdout and "BROKEN" in out.stdout
    assert "avledger.core.units -> typer" in out.stdout
