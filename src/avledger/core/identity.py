"""Who is acting: the OS user mapped to a roster person, or ``system`` for the daemon.

On a real installation people run avledger through sudo as the ``avledger`` user; the actor is
then ``SUDO_USER``, trusted only when the process really runs as that service user *and* was
started by sudo: its parent is a root ``sudo`` process, started by the login whose uid is
``SUDO_UID`` and whose name is ``SUDO_USER``. Anything else (a forged ``SUDO_USER``) leaves the
real login. In development (``AVLEDGER_HOME``) the actor is the current user, or
``AVLEDGER_ACTOR`` — an override that is ignored on a real installation.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avledger.config.loader import Config
from avledger.errors import RefusedError
from avledger.i18n import _

SERVICE_USER = "avledger"
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Actor:
    login: str
    badge: str | None = None
    name: str | None = None
    unit: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def known(self) -> bool:
        return self.badge is not None or self.login == SYSTEM_ACTOR

    @property
    def label(self) -> str:
        """How the actor is written in ledger events."""
        if self.login == SYSTEM_ACTOR:
            return SYSTEM_ACTOR
        return f"{self.badge}:{self.login}" if self.badge else f"?:{self.login}"

    def has(self, role: str) -> bool:
        return role in self.roles

    def require(self, *roles: str, action: str) -> None:
        """Refuse unless the actor is on the roster (and holds one of ``roles``, if given)."""
        if not self.known:
            raise RefusedError(
                _("user {login!r} is not on the roster, so may not {action}").format(
                    login=self.login, action=action),
                hint=_("ask the records office to add you to 'personnel' in the config"),
            )
        if roles and self.login != SYSTEM_ACTOR and not (self.roles & set(roles)):
            raise RefusedError(
                _("{name} ({badge}) may not {action}: needs role {roles}").format(
                    name=self.name or self.login, badge=self.badge, action=action,
                    roles=' or '.join(roles))
            )


def _login_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def _proc_status(pid: int) -> dict[str, str] | None:
    """The fields of /proc/PID/status (world-readable), or None if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _uids(status: dict[str, str]) -> list[int]:
    """Real, effective, saved and filesystem uid."""
    return [int(u) for u in status.get("Uid", "").split()]


def sudo_invoker_uid() -> int | None:
    """The real uid of the process that ran sudo to start this one, read from /proc.

    The parent must be a ``sudo`` running as root (with ``use_pty`` sudo's monitor sits
    between, also a root ``sudo``); nobody but root can make such a parent, so a process
    that merely sets ``SUDO_USER`` gets None here."""
    pid, top = os.getppid(), None
    while pid > 1:
        status = _proc_status(pid)
        if status is None or status.get("Name") != "sudo" or _uids(status)[1:2] != [0]:
            break
        top = status
        pid = int(status.get("PPid", "0"))
    if top is None:
        return None
    invoker = _proc_status(int(top.get("PPid", "0")))
    return _uids(invoker)[0] if invoker and _uids(invoker) else None


def sudo_caller(environ: Mapping[str, str]) -> str | None:
    """``SUDO_USER`` when this process was really started by sudo for that login, else None."""
    name, uid = environ.get("SUDO_USER"), environ.get("SUDO_UID", "")
    if not name or not uid.isdigit():
        return None
    try:
        if pwd.getpwuid(int(uid)).pw_name != name:
            return None
    except KeyError:
        return None
    return name if sudo_invoker_uid() == int(uid) else None


def current_login(config: Config, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if config.layout.development:
        return env.get("AVLEDGER_ACTOR") or _login_name(os.getuid())
    if _login_name(os.geteuid()) == SERVICE_USER and os.getuid() == os.geteuid():
        caller = sudo_caller(env)
        if caller:
            return caller
    return _login_name(os.getuid())


def started_by_systemd(environ: Mapping[str, str] | None = None) -> bool:
    """A unit's main process: systemd sets ``INVOCATION_ID`` and is its parent (PID 1).

    sudo's ``env_reset`` drops ``INVOCATION_ID`` and sudo itself is the parent there."""
    env = os.environ if environ is None else environ
    return bool(env.get("INVOCATION_ID")) and os.getppid() == 1


def is_dock_process(config: Config, environ: Mapping[str, str] | None = None) -> bool:
    """May act as ``system``: root, or the service account started by systemd (the units).
    In development (``AVLEDGER_HOME``) the current user, who owns the whole home."""
    if config.layout.development:
        return True
    if os.getuid() == 0 and os.geteuid() == 0:
        return True
    return (_login_name(os.geteuid()) == SERVICE_USER and os.getuid() == os.geteuid()
            and started_by_systemd(environ))


def require_dock_caller(config: Config, action: str,
                        environ: Mapping[str, str] | None = None) -> None:
    """The dock (daemon, unattended ingest, the timer's sweep) acts as ``system`` without a
    roster check, so only root or the service account started by systemd may start it."""
    if not is_dock_process(config, environ):
        raise RefusedError(_("only root or the '{SERVICE_USER}' service started by systemd may "
                             "{action}").format(SERVICE_USER=SERVICE_USER,
                                                             action=action),
                           hint=_("people ingest with 'avledger ingest' "
                                                   "(without --unattended), as themselves"))


def person_for_login(config: Config, login: str) -> dict[str, Any] | None:
    """The active roster person for ``login``; someone marked ``active: false`` may not act."""
    for person in config.roster:
        if person.get("os_user") == login and person.get("active", True):
            return person
    return None


def resolve(config: Config, *, daemon: bool = False,
            environ: Mapping[str, str] | None = None) -> Actor:
    if daemon:
        return Actor(SYSTEM_ACTOR, name="avledger daemon")
    login = current_login(config, environ)
    person = person_for_login(config, login)
    if person is None:
        return Actor(login)
    return Actor(login, str(person["badge"]), person["name"], person.get("unit"),
                 frozenset(person.get("roles", [])))


def find_person(config: Config, badge: str) -> dict[str, Any] | None:
    for person in config.roster:
        if str(person["badge"]) == str(badge):
            return person
    return None
