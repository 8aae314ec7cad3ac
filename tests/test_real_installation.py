"""A real installation (FHS paths, the avledger account, staff through the shipped sudoers
rule with the real sudo) against the attacks of a staff login and of other logins on the host.

Runs as root on the real /etc/avledger, /var/lib/avledger … (moved aside and restored around
the module; see tests/realinstall.py for why no test-only path knob is used).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, require_root_tools
from tests.realinstall import CASE, CATALOG, RECORDER, Installation, real_installation

PACKAGES = Path("/var/lib/avledger/packages")
DISCS = Path("/var/lib/avledger/discs")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inst() -> Iterator[Installation]:
    require_root_tools("sudo", "visudo", "useradd", "userdel", "su", "setpriv", "chpasswd")
    system = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version_info[:2])"],
                            capture_output=True, text=True)
    if system.returncode != 0 or system.stdout.strip() != str(sys.version_info[:2]):
        reason = (f"needs /usr/bin/python3 of this interpreter's version {sys.version_info[:2]}"
                  " (it runs the checkout's packages for the service account)")
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    with real_installation() as installation:
        yield installation


def _error_line(out) -> str:  # type: ignore[no-untyped-def]
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("avledger:")]
    assert len(lines) == 1, out.stderr
    return lines[0]


# ---- init as root, then the everyday commands through sudo ------------------------------------


def test_init_leaves_everything_to_the_service_account(inst: Installation) -> None:
    service = inst.uid("avledger")
    key = Path("/etc/avledger/keys/ledger.key")
    for path, mode in [(Path("/var/lib/avledger"), 0o750), (CATALOG, 0o640),
                       (Path("/var/lib/avledger/store"), 0o750),
                       (Path("/var/log/avledger/checkpoints.log"), 0o640), (key, 0o600),
                       (Path("/etc/avledger/keys"), 0o700)]:
        st = path.stat()
        assert st.st_uid == service, path
        assert stat.S_IMODE(st.st_mode) & ~mode == 0, (path, oct(st.st_mode))
    config = Path("/etc/avledger/avledger.yaml").stat()
    assert config.st_uid == 0 and not config.st_mode & 0o022


def test_everyday_commands_work_through_sudo(inst: Installation) -> None:
    steps = [("status",), ("device", "add", "DSJ-T-0001", "--model", "DSJ-A8"),
             ("checkout", "DSJ-T-0001", "--to", "0102", "--task", "巡查", "--battery", "90",
              "--storage-free", "80"),
             ("checkin", "DSJ-T-0001", "--note", "完好"), ("clips", "list"),
             ("ledger", "verify")]
    for args in steps:
        out = inst.sudo(*args)
        assert out.returncode == 0, (args, out.stdout, out.stderr)
        assert "warning" not in out.stderr, (args, out.stderr)
    status = json.loads(inst.sudo("status", "--json").stdout)
    assert status["actor"] == f"0101:{inst.staff}"
    assert status["permission_problems"] == []
    events = json.loads(inst.sudo("ledger", "show", "--json", "--subject", "device:*").stdout)
    assert {e["actor"] for e in events} == {f"0101:{inst.staff}"}
    # Everything the service account wrote stays its own and closed to others.
    for path in (CATALOG, Path("/var/log/avledger/checkpoints.log")):
        assert path.stat().st_uid == inst.uid("avledger")
        assert not path.stat().st_mode & 0o007


def test_footage_in_packages_and_discs_through_sudo(inst: Installation) -> None:
    """Ingest by hand, a case, a court's copy request, its package and an archive disc: all
    through sudo, all written by the service account and closed to others."""
    sim = subprocess.run(["/usr/bin/avledger", "simulate", "recorder", str(RECORDER),
                          "--clips", "2", "--size", "64KiB"], capture_output=True, text=True)
    assert sim.returncode == 0, sim.stderr
    subprocess.run(["chmod", "-R", "a+rX", str(RECORDER)], check=True)
    steps = [("ingest", str(RECORDER)),
             ("case", "add", CASE, "--name", "安装测试", "--type", "penalty"),
             ("case", "link", "1", "2", "--case", CASE),
             ("access", "request", "--category", "judicial", "--kind", "court",
              "--requester", "李法官", "--action", "copy", "--purpose", "审理", "--case", CASE,
              "--documents", "id_card,unit_letter"),
             ("access", "fulfil", "1"),
             ("archive", "create", "--case", CASE, "--out", str(DISCS))]
    for args in steps:
        out = inst.sudo(*args)
        assert out.returncode == 0, (args, out.stdout, out.stderr)
    made = [*PACKAGES.rglob("*"), *DISCS.rglob("*")]
    assert any(p.suffix == ".iso" for p in made) and any(p.suffix == ".MP4" for p in made)
    for path in made:
        assert path.stat().st_uid == inst.uid("avledger"), path
        if path.is_dir():
            assert not path.stat().st_mode & 0o007, path
    status = json.loads(inst.sudo("status", "--json").stdout)
    assert status["permission_problems"] == []


# ---- a staff login through sudo ------------------------------------------------------------


def _own_roster(inst: Installation) -> str:
    """A config the staff login writes for itself, making itself records manager and leader."""
    path = f"/tmp/{inst.staff}-roster.yaml"
    inst.su(inst.staff, f"umask 022; cat > {path}", stdin=(
        "personnel:\n"
        f"  - {{badge: '0101', name: 王芳, os_user: {inst.staff}, roles: [clerk, "
        "records_manager, leader]}\n"
        "access:\n  players: [\"/bin/sh -c 'cat > /tmp/stolen.mp4'\"]\n"))
    return path


def test_config_override_through_sudo_is_refused(inst: Installation) -> None:
    """The staff login makes itself leader in a roster of its own and tries to approve a
    request that waits for the leader."""
    roster = _own_roster(inst)
    try:
        out = inst.sudo("access", "request", "--category", "party", "--action", "view",
                        "--requester", "张经理", "--case", CASE, "--purpose", "x",
                        "--documents", "unit_letter,id_card", "--json")
        assert out.returncode == 0, out.stderr
        request = json.loads(out.stdout)
        assert request["status"] == "pending"
        approve = ("access", "approve", str(request["id"]))
        before = inst.counts()
        out = inst.sudo("--config", roster, *approve)
        assert out.returncode == 5
        assert "--config / AVLEDGER_CONFIG" in _error_line(out)
        assert "refused on a real installation unless run by root" in _error_line(out)
        # sudo itself refuses to pass the variable set on its command line (env_reset) ...
        out = inst.sudo(*approve, sudo_options=f"AVLEDGER_CONFIG={roster}")
        assert out.returncode != 0
        assert "not allowed to set" in out.stderr and "AVLEDGER_CONFIG" in out.stderr
        # ... and drops it from the caller's environment: the installation's roster decides.
        out = inst.sudo(*approve, prefix=f"AVLEDGER_CONFIG={roster} ")
        assert out.returncode == 5 and "needs role leader" in _error_line(out)
        assert inst.counts() == before
        shown = json.loads(inst.sudo("access", "show", str(request["id"]), "--json").stdout)
        assert shown["status"] == "pending"
    finally:
        Path(roster).unlink(missing_ok=True)


def test_config_override_is_refused_to_the_service_account(inst: Installation) -> None:
    """Even without sudo's env_reset in the way, only root may name another config."""
    roster = _own_roster(inst)
    try:
        before = inst.counts()
        out = inst.as_service("status", env={"AVLEDGER_CONFIG": roster})
        assert out.returncode == 5
        assert "refused on a real installation unless run by root" in _error_line(out)
        assert inst.counts() == before
    finally:
        Path(roster).unlink(missing_ok=True)


def test_forged_sudo_user_is_ignored(inst: Installation) -> None:
    """The service account not started by sudo cannot name its actor with SUDO_USER."""
    forged = {"SUDO_USER": inst.staff, "SUDO_UID": str(inst.uid(inst.staff)),
              "SUDO_GID": "0", "SUDO_COMMAND": "/usr/bin/avledger"}
    status = inst.as_service("status", "--json", env=forged)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["actor"] == "?:avledger"
    before = inst.counts()
    out = inst.as_service("device", "add", "DSJ-T-0666", env=forged)
    assert out.returncode == 5 and "'avledger' is not on the roster" in _error_line(out)
    assert inst.counts() == before


def test_the_dock_refuses_a_staff_login(inst: Installation, tmp_path: Path) -> None:
    before = inst.counts()
    for args in (("daemon",), ("ingest", "--device", "/dev/null", "--unattended"),
                 ("ingest", "/tmp", "--unattended")):
        out = inst.sudo(*args)
        assert out.returncode == 5, (args, out.stderr)
        assert "only root or the 'avledger' service started by systemd" in _error_line(out)
    # The service account with a forged INVOCATION_ID is not a unit started by systemd: no
    # daemon, and the timer's sweep does not act as 'system' (nor as anyone on the roster).
    out = inst.as_service("daemon", env={"INVOCATION_ID": "0" * 32})
    assert out.returncode == 5, out.stderr
    out = inst.as_service("retention", "sweep", "--apply", env={"INVOCATION_ID": "0" * 32})
    assert out.returncode == 5 and "'avledger' is not on the roster" in _error_line(out)
    assert inst.counts() == before


def test_the_players_of_an_override_are_never_used(inst: Installation) -> None:
    """Root may pass an override, but not one that brings a roster or players."""
    roster = _own_roster(inst)
    try:
        out = inst.su("root", f"/usr/bin/avledger --config {roster} status")
        assert out.returncode == 3
        line = _error_line(out)
        assert "personnel: may only be set in /etc/avledger/avledger.yaml" in line
        assert "access.players: may only be set in" in line
    finally:
        Path(roster).unlink(missing_ok=True)


# ---- a second login on the host -----------------------------------------------------------


def test_another_login_cannot_read_the_evidence(inst: Installation) -> None:
    objects = sorted(p for p in Path("/var/lib/avledger/store/objects").rglob("*")
                     if p.is_file())
    package = sorted(PACKAGES.rglob("*.MP4"))
    discs = sorted(DISCS.rglob("*.iso"))
    assert objects and package and discs
    targets = [CATALOG, Path("/etc/avledger/keys/ledger.key"),
               Path("/var/log/avledger/checkpoints.log"), Path("/var/lib/avledger/store"),
               objects[0], package[0], discs[0], PACKAGES]
    for target in targets:
        verb = "ls" if target.is_dir() else "cat"
        out = inst.su(inst.other, f"{verb} {target}")
        assert out.returncode != 0, target
        assert "Permission denied" in out.stderr, (target, out.stderr)
    st = os.stat("/var/lib/avledger")
    assert not st.st_mode & 0o007


# ---- drift: wrong owners and modes, a writable configuration ----------------------------------


def test_status_warns_about_each_wrong_owner_or_mode(inst: Installation) -> None:
    catalog_mode = CATALOG.stat().st_mode & 0o777
    checkpoint = Path("/var/log/avledger/checkpoints.log")
    os.chmod(CATALOG, 0o644)
    os.chown(checkpoint, 0, 0)
    try:
        out = inst.sudo("status")
        warnings = [ln for ln in out.stderr.splitlines() if ln.startswith("avledger: warning:")]
        assert warnings[:2] == [
            f"avledger: warning: {checkpoint}: owned by root, should be avledger",
            f"avledger: warning: {CATALOG}: mode 0644 gives others access; should be at most "
            "0740"], out.stderr
        # SQLite gives its -wal/-shm files the catalog's mode: named too, one line each
        assert all(re.fullmatch(rf"avledger: warning: {CATALOG}-(wal|shm): mode 0644 .*", w)
                   for w in warnings[2:]), warnings
    finally:
        os.chmod(CATALOG, catalog_mode)
        os.chown(checkpoint, inst.uid("avledger"), inst.uid("avledger"))
    assert not [ln for ln in inst.sudo("status").stderr.splitlines() if "warning" in ln]


def test_a_config_others_may_write_is_refused(inst: Installation) -> None:
    config = Path("/etc/avledger/avledger.yaml")
    os.chmod(config, 0o664)
    try:
        out = inst.sudo("status")
        assert out.returncode == 3
        assert _error_line(out).startswith(
            f"avledger: error: {config}: refused: must be owned by root and not writable by "
            "group or others (owner uid 0, mode 0664)")
    finally:
        os.chmod(config, 0o644)
    assert inst.sudo("status").returncode == 0
