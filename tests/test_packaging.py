"""What the Debian package is made of, checked without building it: the lock files cover the
declared dependencies, and the man pages cover every command (loaded lazily or not).

The package itself, built and installed as root, is tested in tests/test_debian_package.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from tests.clitree import command_tree

REPO = Path(__file__).resolve().parent.parent


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(path: Path) -> dict[str, str]:
    """name -> version of every pinned line; each pin carries at least one hash."""
    text = path.read_text(encoding="utf-8")
    pins = {_canonical(m.group(1)): m.group(2)
            for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$", text, re.M)}
    hashed = re.findall(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+ \\\n\s+--hash=sha256:[0-9a-f]{64}",
                        text, re.M)
    assert len(hashed) == len(pins), f"{path.name}: a pin without a hash"
    return pins


def test_the_lock_files_pin_every_declared_dependency() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _locked(REPO / "requirements" / "runtime.lock")
    dev = _locked(REPO / "requirements" / "dev.lock")
    for spec, lock, which in [(s, runtime, "runtime") for s in project["dependencies"]] + [
            (s, dev, "dev") for s in project["dependencies"] +
            project["optional-dependencies"]["dev"]]:
        req = Requirement(spec)
        name = _canonical(req.name)
        assert name in lock, f"{req.name} is not in the {which} lock: run 'make lock'"
        assert req.specifier.contains(lock[name], prereleases=True), (
            f"{which} lock pins {req.name}=={lock[name]}, outside {req.specifier}: "
            "run 'make lock'")
    # The program runs with the same versions in development as in the package.
    assert {n: v for n, v in dev.items() if n in runtime} == runtime


def test_man_pages_cover_every_command(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(REPO / "packaging" / "manpages.py"),
                          str(tmp_path), "--no-gzip", "--version", "9.9"],
                         capture_output=True, text=True, env={"LANG": "C.UTF-8"})
    assert out.returncode == 0, out.stderr
    pages = {p.name for p in tmp_path.iterdir()}
    tree = command_tree()
    top = {path[0] for path, _cmd in tree if len(path) == 1}
    assert pages == {"avledger.1"} | {f"avledger-{name}.1" for name in top}
    main = (tmp_path / "avledger.1").read_text(encoding="utf-8")
    assert main.startswith('.TH "AVLEDGER" "1"')
    for path, cmd in tree:
        if not path:
            continue
        page = (tmp_path / f"avledger-{path[0]}.1").read_text(encoding="utf-8")
        if len(path) > 1:
            assert f'.SS "avledger {" ".join(path)}"'.replace("-", "\\-") in page, path
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt.replace("-", "\\-") in page, (path, opt)
