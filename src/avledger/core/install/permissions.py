"""Who owns the files of a real installation, and who may read them.

The evidence, the catalog (which holds the access register), the checkpoint file and the
signing key belong to the service account and are closed to others; the configuration belongs
to root, because whoever can write it decides the roster. ``avledger init`` (as root) creates
or adopts the service account and hands it everything it made; ``avledger status`` names every
file whose owner or mode has drifted. In development (``AVLEDGER_HOME``) the current user owns
the whole home and none of this applies.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from avledger.config.loader import Config
from avledger.core.identity import SERVICE_USER
from avledger.errors import AvledgerError
from avledger.i18n import _

SERVICE_GROUP = SERVICE_USER
STAFF_GROUP = "avledger-staff"  # may run /usr/bin/avledger as the service account (sudoers)


@dataclass(frozen=True)
class Rule:
    """One path of the installation: who must own it and which mode bits it must not have."""

    path: Path
    owner: str  # "service" or "root"
    forbidden: int
    tree: bool = False  # also everything below it (ownership only)


@dataclass(frozen=True)
class Account:
    uid: int
    gid: int
    created: bool = False


def rules(config: Config) -> list[Rule]:
    """The installation's paths, most important first."""
    dirs = config.layout.dirs
    found = [
        Rule(dirs["config_dir"], "root", 0o022),
        Rule(config.layout.config_file, "root", 0o022),
        Rule(dirs["data"], "service", 0o027, tree=True),
        Rule(dirs["keys"], "service", 0o077, tree=True),
        Rule(config.key_path, "service", 0o077),
        Rule(dirs["log"], "service", 0o027, tree=True),
        Rule(config.checkpoint_file, "service", 0o037),
    ]
    if config.get("catalog.backend") == "sqlite":
        catalog = config.catalog_path
        found += [Rule(catalog, "service", 0o037)] + [
            Rule(catalog.with_name(catalog.name + suffix), "service", 0o037)
            for suffix in ("-wal", "-shm")]
    if config.get("store.backend") == "local":
        found.append(Rule(config.store_path, "service", 0o027, tree=True))
    if int(config.get("store.copies")) > 1 and config.get("store.second.path"):
        # the second copy is footage too: closed to others like the first
        found.append(Rule(config.path("store.second.path"), "service", 0o027, tree=True))
    found.append(Rule(config.path("access.package_dir"), "service", 0o027, tree=True))
    return found


def service_account() -> Account | None:
    try:
        user = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return None
    return Account(user.pw_uid, user.pw_gid)


def ensure_service_account(data_dir: Path) -> Account:
    """Create the service account and its group (and the staff group) unless they exist."""
    created = False
    if service_account() is None:
        if shutil.which("adduser"):
            cmd = ["adduser", "--system", "--group", "--home", str(data_dir),
                   "--no-create-home", "--quiet", SERVICE_USER]
        else:
            cmd = ["useradd", "--system", "--user-group", "--home-dir", str(data_dir),
                   "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER]
        _run(cmd)
        created = True
    try:
        grp.getgrnam(STAFF_GROUP)
    except KeyError:
        _run(["groupadd", "--system", STAFF_GROUP])
    account = service_account()
    if account is None:
        raise AvledgerError(_("the '{SERVICE_USER}' account could not be created").format(
                                SERVICE_USER=SERVICE_USER))
    return Account(account.uid, account.gid, created)


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise AvledgerError(_("{command}: {error}").format(command=cmd[0], error=last),
                            hint=_("create the account by hand, then run 'avledger init' again"))


def _walk(path: Path) -> Iterator[Path]:
    yield path
    if path.is_dir() and not path.is_symlink():
        for root, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                yield Path(root) / name


def adopt(config: Config, account: Account) -> list[str]:
    """Give the service account what it must own and close it to others; returns what
    changed. Store objects keep their read-only mode (their folders are closed)."""
    changed: list[str] = []
    for rule in rules(config):
        if not rule.path.exists() or rule.path.is_symlink():
            continue
        uid, gid = (account.uid, account.gid) if rule.owner == "service" else (0, 0)
        for path in (_walk(rule.path) if rule.tree else iter([rule.path])):
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                continue
            if (st.st_uid, st.st_gid) != (uid, gid) and rule.owner == "service":
                os.chown(path, uid, gid)
                changed.append(f"owner {path}")
            if path == rule.path or stat.S_ISDIR(st.st_mode):
                mode = stat.S_IMODE(st.st_mode)
                if mode & rule.forbidden:
                    os.chmod(path, mode & ~rule.forbidden)
                    changed.append(f"mode {path}")
    return changed


def problems(config: Config) -> list[str]:
    """One line for each path of a real installation whose owner or mode is wrong."""
    if config.layout.development:
        return []
    account = service_account()
    if account is None:
        return [f"no '{SERVICE_USER}' service account: run 'avledger init' as root"]
    found: list[str] = []
    for rule in rules(config):
        try:
            st = rule.path.lstat()
        except OSError:
            continue  # not made yet (e.g. no -wal while the catalog is closed)
        want = account.uid if rule.owner == "service" else 0
        who = SERVICE_USER if rule.owner == "service" else "root"
        if stat.S_ISLNK(st.st_mode):
            found.append(_("{path}: is a symbolic link; expected a real file of {who}").format(
                path=rule.path, who=who))
            continue
        mode = stat.S_IMODE(st.st_mode)
        if st.st_uid != want:
            found.append(_("{path}: owned by {owner}, should be {who}").format(
                path=rule.path, owner=_user(st.st_uid), who=who))
        if mode & rule.forbidden:
            found.append(_("{path}: mode {mode} gives {too}; should be at most {most}").format(
                path=rule.path, mode=f"{mode:04o}", too=_who_too(mode & rule.forbidden),
                most=f"{0o777 & ~rule.forbidden:04o}"))
    return found


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _who_too(bits: int) -> str:
    parts = []
    if bits & 0o070:
        parts.append(_("group write") if bits & 0o070 == 0o020 else _("group access"))
    if bits & 0o007:
        parts.append(_("others access"))
    return _(" and ").join(parts)
