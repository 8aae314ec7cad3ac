"""Who is acting: the OS user mapped to a roster person, or ``system`` for the daemon.

On a real installation people run avledger through sudo as the ``avledger`` user; the actor is
then ``SUDO_USER``, trusted only when the process really runs as that service user (sudo sets
it and resets the environment). In development (``AVLEDGER_HOME``) the actor is the current
user, or ``AVLEDGER_ACTOR`` — an override that is ignored on a real installation.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass, field
from typing import Any

from avledger.config.loader import Config
from avledger.errors import RefusedError

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
                f"user {self.login!r} is not on the roster, so may not {action}",
                hint="ask the records office to add you to 'personnel' in the config",
            )
        if roles and self.login != SYSTEM_ACTOR and not (self.roles & set(roles)):
            raise RefusedError(
                f"{self.name or self.login} ({self.badge}) may not {action}: "
                f"needs role {' or '.join(roles)}"
            )


def _login_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def current_login(config: Config, environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if config.layout.development:
        return env.get("AVLEDGER_ACTOR") or _login_name(os.getuid())
    me = _login_name(os.geteuid())
    if me == SERVICE_USER and env.get("SUDO_USER") and os.getuid() == os.geteuid():
        return env["SUDO_USER"]
    return _login_name(os.getuid())


def require_service_account(action: str) -> None:
    """Only root or the avledger service user may act as ``system`` (the dock)."""
    if os.geteuid() != 0 and _login_name(os.geteuid()) != SERVICE_USER:
        raise RefusedError(f"only root or the '{SERVICE_USER}' user may {action}")


def person_for_login(config: Config, login: str) -> dict[str, Any] | None:
    """The active roster person for ``login``; someone marked ``active: false`` may not act."""
    for person in config.roster:
        if person.get("os_user") == login and person.get("active", True):
            return person
    return None


def resolve(config: Config, *, daemon: bool = False,
            environ: dict[str, str] | None = None) -> Actor:
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
