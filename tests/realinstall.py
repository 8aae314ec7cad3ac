"""A real installation for tests: the FHS layout, the service account, staff logins, sudo.

The tests use the real paths (/etc/avledger, /var/lib/avledger, /var/log/avledger,
/run/avledger, /etc/sudoers.d/avledger, /usr/bin/avledger) rather than a test-only knob that
moves them: any such knob would be one more way for a caller to point avledger at files of
their own. Whatever was at those paths is moved aside first and put back afterwards.

The checkout's own interpreter may live where other accounts cannot reach (pyenv under
/root), so /usr/bin/avledger is a small wrapper that runs the system python3 (same minor
version) on the checkout's installed packages, isolated from the environment (-I) and from
the system's site packages (-S).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import sqlite3
import subprocess
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SITE_PACKAGES = sysconfig.get_paths()["purelib"]
SYSTEM_PYTHON = "/usr/bin/python3"
REAL_PATHS = [Path(p) for p in ("/etc/avledger", "/var/lib/avledger", "/var/log/avledger",
                                "/run/avledger", "/etc/sudoers.d/avledger",
                                "/usr/bin/avledger", "/tmp/avlt-recorder")]
RECORDER = Path("/tmp/avlt-recorder")  # a simulated recorder's volume, readable by avledger
CASE = "平环罚〔2026〕901号"
SUDOERS = Path(__file__).resolve().parent.parent / "packaging" / "sudoers.d" / "avledger"
PASSWORD = "avl-test-Pw1"
CATALOG = Path("/var/lib/avledger/catalog.db")


# Other accounts run this checkout's code. The checkout may sit below a folder only root can
# traverse (a mktemp folder, root's home), so it is exposed, for the tests that need it, at a
# fixed path every account can reach: a bind mount of the whole checkout (venv included).
REPO = Path(__file__).resolve().parent.parent
SHARED_CHECKOUT = Path("/run/avlt-checkout")
SHARED_SRC = SHARED_CHECKOUT / "src"
SHARED_SITE = (SHARED_CHECKOUT / Path(SITE_PACKAGES).relative_to(REPO)
               if Path(SITE_PACKAGES).is_relative_to(REPO) else Path(SITE_PACKAGES))


@contextmanager
def shared_checkout() -> Iterator[None]:
    """The checkout bind-mounted at SHARED_CHECKOUT for the duration (root only)."""
    SHARED_CHECKOUT.mkdir(mode=0o755, exist_ok=True)
    os.chmod(SHARED_CHECKOUT, 0o755)
    subprocess.run(["mount", "--bind", str(REPO), str(SHARED_CHECKOUT)], check=True,
                   capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["umount", str(SHARED_CHECKOUT)], capture_output=True)
        with contextlib.suppress(OSError):
            SHARED_CHECKOUT.rmdir()


_PATHS = (f"import site, sys; sys.path.insert(0, {str(SHARED_SRC)!r}); "
          f"site.addsitedir({str(SHARED_SITE)!r}); ")


def python_argv(code: str) -> list[str]:
    """Run ``code`` with the system python3 on this checkout's packages (any account), inside
    ``shared_checkout()``."""
    return [SYSTEM_PYTHON, "-IS", "-c", _PATHS + code]


WRAPPER = f"""#!{SYSTEM_PYTHON} -IS
# avledger test installation: the checkout's packages on the system python3.
{_PATHS.replace("; ", chr(10))}
from avledger.cli.main import run
sys.exit(run())
"""


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _backup(path: Path) -> Path:
    return path.with_name(path.name + ".pytest-backup")


@dataclass
class Installation:
    staff: str = "avlt-staff"
    other: str = "avlt-other"
    created_accounts: list[str] = field(default_factory=list)
    created_groups: list[str] = field(default_factory=list)

    def uid(self, login: str) -> int:
        return pwd.getpwnam(login).pw_uid

    # -- running things as someone ---------------------------------------------------------
    def su(self, login: str, command: str, *, stdin: str | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """``command`` in a login shell-less ``su`` session of ``login`` (no password: root)."""
        return subprocess.run(["su", "-s", "/bin/sh", login, "-c", command],
                              capture_output=True, text=True, input=stdin, timeout=300,
                              env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                                   "COLUMNS": "200", **(env or {})}, cwd="/")

    def sudo(self, *args: str, login: str | None = None, prefix: str = "",
             sudo_options: str = "") -> subprocess.CompletedProcess[str]:
        """``sudo -u avledger avledger ARGS`` typed by ``login`` (the staff login), who gives
        their own password as the shipped rule asks."""
        line = " ".join(_quote(a) for a in args)
        return self.su(login or self.staff,
                       f"{prefix}sudo -S -p '' {sudo_options} -u avledger avledger {line}",
                       stdin=PASSWORD + "\n")

    def as_service(self, *args: str, env: dict[str, str] | None = None
                   ) -> subprocess.CompletedProcess[str]:
        """avledger run by the service account itself, not through sudo (setpriv)."""
        return subprocess.run(
            ["setpriv", "--reuid=avledger", "--regid=avledger", "--init-groups",
             "/usr/bin/avledger", *args], capture_output=True, text=True, timeout=300,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "COLUMNS": "200", **(env or {})},
            cwd="/")

    # -- what the ledger holds -----------------------------------------------------------------
    def counts(self) -> tuple[int, int, int]:
        """Events, checkpoints in the catalog, lines of the checkpoint file."""
        conn = sqlite3.connect(f"file:{CATALOG}?mode=ro", uri=True)
        try:
            events = conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
            cps = conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0]
        finally:
            conn.close()
        lines = Path("/var/log/avledger/checkpoints.log").read_text().count("\n")
        return events, cps, lines


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


# The test site speaks English (site.language), so that the tests read the program's English.
ROSTER_YAML = """\
site:
  unit: 生态环境局 (installation test)
  language: en
  timezone: Asia/Shanghai
  station: dock-test
ledger:
  origin: avledger.test/real-installation
personnel:
  - {{badge: "0101", name: 王芳, os_user: {staff}, roles: [clerk, handler, records_manager]}}
  - {{badge: "0102", name: 李强, os_user: avlt-officer, roles: [handler]}}
  - {{badge: "0103", name: 赵局长, os_user: avlt-leader, roles: [leader]}}
"""


@contextmanager
def set_aside(paths: list[Path]) -> Iterator[None]:
    """Whatever is at ``paths`` moved aside for the duration; what the test left there is
    removed afterwards and the originals put back."""
    moved: list[Path] = []
    for path in paths:
        if _exists(path) and _exists(_backup(path)):
            raise RuntimeError(f"{_backup(path)} exists: a previous run was cut off")
    try:
        for path in paths:
            if _exists(path):
                os.rename(path, _backup(path))
                moved.append(path)
        yield
    finally:
        for path in paths:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif _exists(path):
                path.unlink()
        for path in moved:
            os.rename(_backup(path), path)


def require_no_login(*logins: str) -> None:
    for login in logins:
        if user_exists(login):
            raise RuntimeError(f"test login {login} already exists: a previous run was cut off")


def add_login(inst: Installation, login: str, *groups: str, password: str | None = None) -> None:
    """A plain login (no home), in ``groups``, removed by ``remove_accounts``."""
    _run("useradd", "--no-create-home", "--shell", "/bin/sh",
         *(["--groups", ",".join(groups)] if groups else []), login)
    inst.created_accounts.append(login)
    if password:
        subprocess.run(["chpasswd"], input=f"{login}:{password}\n", text=True, check=True)


def remove_accounts(inst: Installation, *, keep_service_group: bool) -> None:
    """The logins and groups the test created (the service account's group only if it was
    created too)."""
    for login in reversed(inst.created_accounts):
        Path(f"/run/sudo/ts/{login}").unlink(missing_ok=True)  # sudo's cached password
        subprocess.run(["userdel", login], capture_output=True)
    for group in ["avledger", *inst.created_groups]:
        if group == "avledger" and keep_service_group:
            continue
        if group_exists(group):
            subprocess.run(["groupdel", group], capture_output=True)


@contextmanager
def real_installation() -> Iterator[Installation]:
    """Set up the FHS installation as the manual says (config, init as root, sudoers, a staff
    login in avledger-staff and a second plain login), and take it all away afterwards."""
    inst = Installation()
    require_no_login(inst.staff, inst.other)
    had_service = user_exists("avledger")
    had_staff_group = group_exists("avledger-staff")
    with set_aside(REAL_PATHS), shared_checkout():
        try:
            etc = Path("/etc/avledger")
            etc.mkdir(mode=0o755)
            (etc / "avledger.yaml").write_text(ROSTER_YAML.format(staff=inst.staff),
                                               encoding="utf-8")
            os.chmod(etc / "avledger.yaml", 0o644)
            wrapper = Path("/usr/bin/avledger")
            wrapper.write_text(WRAPPER, encoding="utf-8")
            os.chmod(wrapper, 0o755)
            init = subprocess.run(["/usr/bin/avledger", "init"], capture_output=True,
                                  text=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                                  "LANG": "C.UTF-8"}, cwd="/")
            if init.returncode != 0:
                raise RuntimeError(f"avledger init failed: {init.stderr}")
            if not had_service:
                inst.created_accounts.append("avledger")
            if not had_staff_group:
                inst.created_groups.append("avledger-staff")
            add_login(inst, inst.staff, "avledger-staff", password=PASSWORD)
            add_login(inst, inst.other)
            subprocess.run(["install", "-m", "0440", "-o", "root", "-g", "root", str(SUDOERS),
                            "/etc/sudoers.d/avledger"], check=True)
            _run("visudo", "-c")
            yield inst
        finally:
            remove_accounts(inst, keep_service_group=had_service)
