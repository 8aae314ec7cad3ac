"""The Debian package, built by ``make deb``'s script and installed with apt on this machine.

Runs as root on the real /etc/avledger, /var/lib/avledger … like the real-installation tests
(whatever is there is moved aside and put back; see tests/realinstall.py). The package is
built once per session; the module installs it, uses it as an administrator and the staff
would (a staff login through sudo, the daemon as its unit starts it, a recorder docked on a
loop device), purges it and checks the evidence outlived it.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import signal
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require_root_tools
from tests.realinstall import (
    CATALOG,
    PASSWORD,
    REAL_PATHS,
    Installation,
    add_login,
    group_exists,
    remove_accounts,
    require_no_login,
    set_aside,
    user_exists,
)
from tests.recorder_tools import make_recorder
from tests.test_daemon_e2e import _wait
from tests.udevtools import attach, detach, ensure_udevd, settle

pytestmark = [pytest.mark.slow, pytest.mark.root]

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements" / "runtime.lock"
UNITS = Path("/usr/lib/systemd/system")
RULE = Path("/usr/lib/udev/rules.d/99-avledger.rules")
KEY = Path("/etc/avledger/keys/ledger.key")
CHECKPOINTS = Path("/var/log/avledger/checkpoints.log")
STORE = Path("/var/lib/avledger/store")
# What the package puts outside /opt/avledger and REAL_PATHS (removed by purge).
PACKAGE_PATHS = [Path("/opt/avledger")]
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "COLUMNS": "200",
       "DEBIAN_FRONTEND": "noninteractive"}
TOOLS = ("dpkg-deb", "apt-get", "lintian", "man", "systemd-analyze", "udevadm", "losetup",
         "mkfs.vfat", "mcopy", "fusefat", "sudo", "useradd", "userdel", "su", "chpasswd",
         "visudo", "runuser")


def _run(*cmd: str, check: bool = True, timeout: float = 600,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/",
                         env=env or ENV)
    if check:
        assert out.returncode == 0, (cmd, out.stdout[-3000:], out.stderr[-3000:])
    return out


def _installed() -> bool:
    out = _run("dpkg-query", "-W", "-f=${Status}", "avledger", check=False)
    return out.stdout.strip() == "install ok installed"


def _known_to_dpkg() -> bool:
    return _run("dpkg-query", "-W", "avledger", check=False).returncode == 0


@dataclass
class Built:
    path: Path
    lintian: subprocess.Popen[str]  # started at once: it runs while the package is used


@pytest.fixture(scope="session")
def built() -> Iterator[Built]:
    """The package, built once per session into a temporary directory (the pip cache, if any,
    saves the downloads), and lintian's check of it running in the background."""
    require_root_tools(*TOOLS)
    with tempfile.TemporaryDirectory(prefix="avledger-deb-") as tmp:
        env = dict(os.environ) | {"DIST": f"{tmp}/dist", "BUILD": f"{tmp}/build"}
        out = subprocess.run(["bash", str(REPO / "packaging" / "build-deb.sh")],
                             capture_output=True, text=True, env=env, timeout=900)
        assert out.returncode == 0, out.stderr[-3000:]
        built = Path(out.stdout.strip().splitlines()[-1])
        assert re.fullmatch(r"avledger_\d[\w.+~-]*_[a-z0-9]+\.deb", built.name), built
        lintian = subprocess.Popen(
            ["nice", "lintian", "--fail-on", "error", "--tag-display-limit", "0", str(built)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/", env=ENV)
        try:
            yield Built(built, lintian)
        finally:
            if lintian.poll() is None:
                lintian.kill()
            lintian.communicate()


@pytest.fixture(scope="session")
def deb(built: Built) -> Path:
    return built.path


@pytest.fixture(scope="module")
def inst(deb: Path) -> Iterator[Installation]:
    """The package installed with apt on a machine without avledger; afterwards the package
    purged, and the evidence, accounts and groups it made removed."""
    installation = Installation()
    require_no_login(installation.staff)
    if _known_to_dpkg():
        raise RuntimeError("the avledger package is already on this machine: a previous run "
                           "was cut off, or the machine runs it (remove it first)")
    had_service = user_exists("avledger")
    had_staff_group = group_exists("avledger-staff")
    with set_aside([*REAL_PATHS, *PACKAGE_PATHS]):
        try:
            _run("apt-get", "install", "-y", "-q", "--no-install-recommends", str(deb))
            if not had_service:
                installation.created_accounts.append("avledger")
            if not had_staff_group:
                installation.created_groups.append("avledger-staff")
            yield installation
        finally:
            if _known_to_dpkg():
                _run("apt-get", "purge", "-y", "-q", "avledger", check=False)
            remove_accounts(installation, keep_service_group=had_service)


# ---- the package as built -------------------------------------------------------------------


def test_the_package_holds_what_an_administrator_expects(deb: Path) -> None:
    contents = _run("dpkg-deb", "--contents", str(deb)).stdout
    files = {line.split()[-1].lstrip(".") if "->" not in line else line.split()[-3].lstrip(".")
             : line.split()[0] for line in contents.splitlines()}
    for path in ("/usr/bin/avledger", "/usr/share/man/man1/avledger.1.gz",
                 "/usr/share/man/man1/avledger-checkout.1.gz",
                 "/usr/share/man/man1/avledger-ledger.1.gz",
                 "/usr/share/bash-completion/completions/avledger",
                 "/usr/share/doc/avledger/copyright", "/usr/share/doc/avledger/changelog.Debian.gz",
                 "/usr/lib/udev/rules.d/99-avledger.rules",
                 "/usr/lib/systemd/system/avledger-daemon.service",
                 "/usr/lib/systemd/system/avledger-retention.timer",
                 "/etc/avledger/avledger.yaml", "/etc/avledger/profiles/generic.yaml"):
        assert path in files, path
    assert files["/etc/sudoers.d/avledger"] == "-r--r-----"
    conffiles = _run("dpkg-deb", "--info", str(deb), "conffiles").stdout.split()
    assert {"/etc/avledger/avledger.yaml", "/etc/avledger/profiles/generic.yaml",
            "/etc/avledger/profiles/fieldcam-json.yaml", "/etc/sudoers.d/avledger"} <= set(
        conffiles)
    control = _run("dpkg-deb", "--field", str(deb), "Depends", "Recommends").stdout
    for needed in ("python3 (>= 3.11)", "udev", "fusefat | exfat-fuse", "xorriso", "sudo",
                   "ffmpeg", "chromium"):
        assert needed in control, needed


# ---- installed with apt -------------------------------------------------------------------


def test_the_command_and_its_man_pages_are_installed(inst: Installation) -> None:
    out = _run("/usr/bin/avledger", "--version")
    assert re.fullmatch(r"avledger \d+\.\d+\.\d+\S*\n", out.stdout), out.stdout
    assert Path("/usr/bin/avledger").resolve().is_relative_to("/opt/avledger")
    assert _run("man", "-w", "avledger").stdout.strip().startswith("/usr/share/man/man1/")
    assert "avledger-checkout.1" in _run("man", "-w", "avledger-checkout").stdout
    page = _run("man", "avledger-checkout", env=ENV | {"MANWIDTH": "100"}).stdout
    assert "avledger checkout out" in page and "--to" in page
    completion = Path("/usr/share/bash-completion/completions/avledger").read_text()
    assert "complete -o default -F _avledger_completion avledger" in completion
    words = _run("/usr/bin/avledger", env=ENV | {"COMP_WORDS": "avledger chec", "COMP_CWORD": "1",
                                                 "_AVLEDGER_COMPLETE": "complete_bash"}).stdout
    assert words.split() == ["checkin", "checkout"], words
    sudoers = Path("/etc/sudoers.d/avledger").stat()
    assert stat.S_IMODE(sudoers.st_mode) == 0o440 and sudoers.st_uid == 0
    _run("visudo", "-cf", "/etc/sudoers.d/avledger")


def test_postinst_made_the_account_directories_and_the_ledger(inst: Installation) -> None:
    service = pwd.getpwnam("avledger").pw_uid
    for path, mode in [(Path("/var/lib/avledger"), 0o750), (Path("/var/log/avledger"), 0o750),
                       (Path("/etc/avledger/keys"), 0o700), (KEY, 0o600), (CATALOG, 0o640),
                       (CHECKPOINTS, 0o640), (STORE, 0o750)]:
        st = path.stat()
        assert st.st_uid == service, path
        assert stat.S_IMODE(st.st_mode) & ~mode == 0, (path, oct(st.st_mode))
    assert group_exists("avledger-staff")
    status = json.loads(_run("/usr/bin/avledger", "status", "--json").stdout)
    assert status["permission_problems"] == []
    assert _run("/usr/bin/avledger", "ledger", "verify").returncode == 0


def test_every_installed_unit_verifies_cleanly(inst: Installation) -> None:
    units = sorted(UNITS.glob("avledger*"))
    assert {u.name for u in units} >= {"avledger-daemon.service", "avledger-ingest@.service",
                                       "avledger-retention.service",
                                       "avledger-retention.timer"}
    for unit in units:
        out = _run("systemd-analyze", "verify", str(unit), check=False)
        assert out.returncode == 0 and out.stdout + out.stderr == "", (unit, out.stderr)


def test_the_environment_holds_exactly_the_locked_versions(inst: Installation) -> None:
    locked = {_canonical(m.group(1)): m.group(2) for m in re.finditer(
        r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", LOCK.read_text(), re.M)}
    freeze = _run("/opt/avledger/bin/python3", "-m", "pip", "freeze", "--all").stdout
    installed = {_canonical(name): version for name, version in
                 (line.split("==", 1) for line in freeze.splitlines() if "==" in line)}
    assert installed.pop("avledger") == _run("/usr/bin/avledger", "--version").stdout.split()[1]
    for tool in ("pip", "setuptools", "wheel"):  # the environment's own installer
        if tool not in locked:
            installed.pop(tool, None)
    assert installed == locked


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_installed_udev_rule_wants_an_ingest_for_a_recorder(inst: Installation,
                                                                 tmp_path: Path) -> None:
    ensure_udevd()
    _run("udevadm", "control", "--reload")
    image = tmp_path / "rec.img"
    make_recorder(tmp_path / "rec", clips=1, size=64 << 10, serial="DEB-UDEV", image=image)
    dev = attach(image)
    try:
        settle()
        out = _run("udevadm", "test", "--action=change", f"/sys/class/block/{Path(dev).name}",
                   check=False, timeout=60)
        text = out.stdout + out.stderr
        assert str(RULE) in text, text[-3000:]
        assert f"SYSTEMD_WANTS=avledger-ingest@{Path(dev).name}.service" in text, text[-3000:]
    finally:
        detach(dev)


def _configure(inst: Installation) -> None:
    """The administrator's first configuration: a roster naming the staff login (the shipped
    file otherwise kept, so the ledger's origin stays), no clock setting after ingest."""
    config = Path("/etc/avledger/avledger.yaml")
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    doc["personnel"] = [{"badge": "0101", "name": "王芳", "os_user": inst.staff,
                         "roles": ["clerk", "handler", "records_manager"]},
                        {"badge": "0102", "name": "李强", "os_user": "avlt-officer",
                         "roles": ["handler"]}]
    doc["daemon"] = {"clock_sync": False}
    config.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                      encoding="utf-8")


def test_a_staff_login_works_through_sudo(inst: Installation) -> None:
    _configure(inst)
    add_login(inst, inst.staff, "avledger-staff", password=PASSWORD)
    status = inst.sudo("status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["actor"] == f"0101:{inst.staff}"
    for args in (("device", "add", "DSJ-D-0001", "--model", "DSJ-A8"),
                 ("checkout", "DSJ-D-0001", "--to", "0102", "--task", "巡查", "--battery", "90",
                  "--storage-free", "80")):
        out = inst.sudo(*args)
        assert out.returncode == 0, (args, out.stdout, out.stderr)
    events = json.loads(inst.sudo("ledger", "show", "--json", "--limit", "20").stdout)
    mine = {e["type"] for e in events if e["actor"] == f"0101:{inst.staff}"}
    assert {"device.registered", "checkout.opened"} <= mine, mine


def _exec_start(unit: Path) -> list[str]:
    line = next(ln for ln in unit.read_text().splitlines() if ln.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def _docks_done(serial: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{CATALOG}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(
            "SELECT d.state FROM docks d JOIN devices v ON v.id = d.device_id"
            " WHERE v.serial = ? AND d.state = 'done'", (serial,))]
    finally:
        conn.close()


def test_the_daemon_as_its_unit_starts_it_ingests_a_docked_recorder(
        inst: Installation, tmp_path: Path) -> None:
    ensure_udevd()
    command = _exec_start(UNITS / "avledger-daemon.service")
    assert command == ["/usr/bin/avledger", "daemon"]
    log_path = tmp_path / "daemon.log"
    image = tmp_path / "DEB001.img"
    make_recorder(tmp_path / "DEB001", clips=2, size=256 << 10, serial="DEB001", badge="0102",
                  image=image)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd="/",
                                env={"PATH": ENV["PATH"], "LANG": "C.UTF-8"})
    dev = None
    try:
        # the shipped configuration is a Chinese site: its log speaks Chinese
        _wait(lambda: any(line in log_path.read_bytes() for line in (
            b"dock daemon ready", "接入服务已就绪".encode())), 60, "the daemon to start")
        dev = attach(image)
        _wait(lambda: bool(_docks_done("DEB001")), 180, "the docked recorder to be ingested")
    finally:
        if dev:
            detach(dev)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log_path.read_text(errors="replace")[-3000:]
    clips = json.loads(inst.sudo("clips", "list", "--json").stdout)
    assert len([c for c in clips if "DEB001" in json.dumps(c)]) == 2, clips
    problems = json.loads(inst.sudo("status", "--json").stdout)["permission_problems"]
    assert problems == []


def test_purge_keeps_the_evidence_and_a_reinstall_verifies_it(inst: Installation,
                                                              deb: Path) -> None:
    evidence = [CATALOG, KEY, CHECKPOINTS]
    before = {p: p.read_bytes() for p in evidence}
    objects = sorted(p for p in STORE.rglob("*") if p.is_file())
    assert objects
    out = _run("apt-get", "purge", "-y", "-q", "avledger")
    assert "/var/lib/avledger" in out.stdout, out.stdout[-2000:]
    assert not _known_to_dpkg()
    for gone in (Path("/opt/avledger"), Path("/usr/bin/avledger"),
                 Path("/etc/avledger/avledger.yaml"), Path("/etc/avledger/profiles"),
                 Path("/etc/sudoers.d/avledger"), UNITS / "avledger-daemon.service", RULE):
        assert not gone.exists() and not gone.is_symlink(), gone
    for path, data in before.items():
        assert path.read_bytes() == data, f"{path} changed by purge"
    assert sorted(p for p in STORE.rglob("*") if p.is_file()) == objects
    _run("apt-get", "install", "-y", "-q", "--no-install-recommends", str(deb))
    assert _installed()
    verify = _run("/usr/bin/avledger", "ledger", "verify")
    assert verify.returncode == 0
    assert KEY.read_bytes() == before[KEY]


def test_an_upgrade_migrates_the_catalog_after_copying_it_aside(inst: Installation, deb: Path,
                                                                tmp_path: Path) -> None:
    """A newer package whose program brings a new catalog migration: the administrator's
    configuration is kept, the catalog is copied aside and migrated, the ledger verifies."""
    newer = _with_migration(deb, tmp_path, "9990_upgrade_check.sql",
                            "CREATE TABLE upgrade_check (id INTEGER PRIMARY KEY);\n")
    config = Path("/etc/avledger/avledger.yaml")
    edited = config.read_text(encoding="utf-8") + "# edited by the administrator\n"
    config.write_text(edited, encoding="utf-8")
    backups_before = set(CATALOG.parent.glob("catalog.db.bak-*"))
    out = _run("apt-get", "install", "-y", "-q", "--no-install-recommends", str(newer))
    assert "Unpacking avledger" in out.stdout and "over (" in out.stdout, out.stdout[-2000:]
    backups = set(CATALOG.parent.glob("catalog.db.bak-*")) - backups_before
    assert len(backups) == 1, backups
    backup = backups.pop()
    assert backup.stat().st_uid == pwd.getpwnam("avledger").pw_uid
    assert not backup.stat().st_mode & 0o007
    tables = {r[0] for r in sqlite3.connect(f"file:{CATALOG}?mode=ro", uri=True).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "upgrade_check" in tables
    old = {r[0] for r in sqlite3.connect(f"file:{backup}?mode=ro", uri=True).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "upgrade_check" not in old and "ledger" in old
    assert config.read_text(encoding="utf-8") == edited
    assert _run("/usr/bin/avledger", "ledger", "verify").returncode == 0


def _with_migration(deb: Path, tmp_path: Path, name: str, sql: str) -> Path:
    """The package again, as a newer version whose program carries one more migration."""
    tree = tmp_path / "tree"
    _run("dpkg-deb", "--raw-extract", str(deb), str(tree))
    site = next((tree / "opt/avledger/lib").glob("python3*/site-packages"))
    migration = site / "avledger/store/migrations" / name
    migration.write_text(sql, encoding="utf-8")
    migration.chmod(0o644)
    digest = _run("md5sum", str(migration)).stdout.split()[0]
    with open(tree / "DEBIAN/md5sums", "a", encoding="utf-8") as fh:
        fh.write(f"{digest}  {migration.relative_to(tree)}\n")
    control = tree / "DEBIAN/control"
    version = re.search(r"^Version: (\S+)$", control.read_text(), re.M)
    assert version
    control.write_text(control.read_text().replace(
        version.group(0), f"Version: {version.group(1)}+upgrade1"))
    newer = tmp_path / f"avledger_{version.group(1)}+upgrade1.deb"
    _run("dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", str(tree), str(newer))
    return newer


def test_lintian_finds_no_errors(built: Built) -> None:
    """Checked last: lintian has been running since the package was built."""
    stdout, stderr = built.lintian.communicate(timeout=900)
    errors = [ln for ln in stdout.splitlines() if ln.startswith("E:")]
    assert errors == [] and built.lintian.returncode == 0, (errors[:20], stderr[-2000:])
