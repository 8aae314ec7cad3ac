"""Who is acting: roster lookup, refusal of unknown users, no environment override in production."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
from pathlib import Path

import pytest

from avledger.config import loader, schema
from avledger.config.loader import Config, Layout
from avledger.core import identity
from avledger.core.app import Avledger
from avledger.errors import RefusedError
from avledger.store import ledger as ledger_store

ME = pwd.getpwuid(os.getuid()).pw_name


def _production_config(roster: list[dict]) -> Config:  # type: ignore[type-arg]
    """A Config laid out like a real installation (no AVLEDGER_HOME)."""
    layout = Layout.discover({})
    assert not layout.development
    data = schema.defaults()
    data["personnel"] = roster
    return Config(data=data, sources={}, layout=layout)


ROSTER = [
    {"badge": "0007", "name": "Wang Fang", "os_user": "wangf", "roles": ["clerk"]},
    {"badge": "0008", "name": "Chen Jie", "os_user": ME, "roles": ["auditor"]},
]


def test_actor_env_is_ignored_on_a_real_installation() -> None:
    cfg = _production_config(ROSTER)
    assert identity.current_login(cfg, {"AVLEDGER_ACTOR": "wangf"}) == ME
    actor = identity.resolve(cfg, environ={"AVLEDGER_ACTOR": "wangf"})
    assert actor.label == f"0008:{ME}" and actor.roles == {"auditor"}


def test_sudo_user_is_ignored_unless_running_as_the_service_user() -> None:
    cfg = _production_config(ROSTER)
    assert identity.current_login(cfg, {"SUDO_USER": "wangf"}) == ME


def test_sudo_user_is_the_actor_under_the_service_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run through the shipped sudoers rule: process uid = euid = avledger, SUDO_USER and
    SUDO_UID name the login whose process started the root sudo that is our parent."""
    cfg = _production_config(ROSTER)
    my_uid = os.getuid()
    sudo = {"SUDO_USER": ME, "SUDO_UID": str(my_uid), "AVLEDGER_ACTOR": "x"}
    monkeypatch.setattr(os, "getuid", lambda: 990)
    monkeypatch.setattr(os, "geteuid", lambda: 990)
    monkeypatch.setattr(identity, "_login_name", lambda uid: "avledger" if uid == 990 else "x")
    monkeypatch.setattr(identity, "sudo_invoker_uid", lambda: my_uid)
    assert identity.current_login(cfg, sudo) == ME
    assert identity.resolve(cfg, environ=sudo).label == f"0008:{ME}"
    assert identity.current_login(cfg, {}) == "avledger"  # the service user itself
    # A SUDO_USER that is not the login of SUDO_UID, or a SUDO_UID that is not the login
    # that ran sudo, is forged: the actor stays the service account (not on the roster).
    assert identity.current_login(cfg, dict(sudo, SUDO_USER="wangf")) == "avledger"
    assert identity.current_login(cfg, dict(sudo, SUDO_UID=str(my_uid + 1))) == "avledger"
    assert identity.current_login(cfg, {"SUDO_USER": "wangf"}) == "avledger"
    monkeypatch.setattr(identity, "sudo_invoker_uid", lambda: None)  # not started by sudo
    assert identity.current_login(cfg, sudo) == "avledger"


def test_this_process_was_not_started_by_sudo() -> None:
    assert identity.sudo_invoker_uid() is None or os.environ.get("SUDO_UID")


def test_sudo_invoker_is_read_from_the_real_sudo() -> None:
    """Under the real sudo the parent chain names the login that ran it; a process that
    only sets SUDO_UID in its environment gets nothing."""
    from tests.conftest import require_root_tools
    from tests.realinstall import python_argv, shared_checkout

    require_root_tools("sudo", "setpriv")
    probe = python_argv("from avledger.core.identity import sudo_invoker_uid as f; print(f())")
    with shared_checkout():
        under_sudo = subprocess.run(["sudo", "-u", "nobody", *probe], cwd="/",
                                    capture_output=True, text=True, check=True)
        forged = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                                 "--clear-groups", *probe], capture_output=True, text=True,
                                check=True, cwd="/",
                                env=dict(os.environ, SUDO_USER="root", SUDO_UID="0"))
    assert under_sudo.stdout.strip() == "0"  # root ran sudo
    assert forged.stdout.strip() == "None"


def test_actor_env_works_in_development(home: Path) -> None:
    cfg = loader.load()
    assert cfg.layout.development
    assert identity.resolve(cfg, environ={"AVLEDGER_ACTOR": "leader"}).label == "0002:leader"
    assert identity.resolve(cfg, environ={}).label == f"0001:{ME}"


def test_roles() -> None:
    cfg = _production_config(ROSTER)
    me = identity.resolve(cfg)
    me.require(action="look")  # on the roster
    me.require("auditor", "leader", action="audit")
    with pytest.raises(RefusedError, match=r"Chen Jie \(0008\) may not approve: needs role "
                                           r"leader"):
        me.require("leader", action="approve")
    stranger = identity.Actor("mallory")
    assert not stranger.known and stranger.label == "?:mallory"
    with pytest.raises(RefusedError, match="'mallory' is not on the roster"):
        stranger.require(action="look")
    system = identity.resolve(cfg, daemon=True)
    assert system.label == "system"
    system.require("leader", action="anything")  # the daemon acts for the installation


def test_unknown_user_records_nothing(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVLEDGER_ACTOR", "mallory")
    with Avledger.open(loader.load()) as app:
        assert not app.actor.known
        size = ledger_store.state(app.catalog.conn).size
        with pytest.raises(RefusedError), app.transaction() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
            app.record(conn, "test.event", "thing:1", {})
        assert ledger_store.state(app.catalog.conn).size == size
        assert app.catalog.conn.execute("SELECT 1 FROM meta WHERE key = 'x'").fetchone() is None


@pytest.mark.parametrize("args", [
    ("ledger", "export", "{tmp}/out"),
    ("ledger", "checkpoint"),
    ("store", "verify"),
])
def test_unknown_user_is_refused_by_commands_that_change_state(
        cli, tmp_path: Path, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    out = cli(*(a.format(tmp=tmp_path) for a in args), env={"AVLEDGER_ACTOR": "mallory"})
    assert out.returncode == 5
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("avledger: error: user 'mallory' is not on "
                                                   "the roster")
    assert "hint: ask the records office" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [("status", "--json"), ("ledger", "show", "--json"),
                                  ("ledger", "verify", "--json"), ("ledger", "public-key"),
                                  ("config", "show", "--json")])
def test_unknown_user_may_still_read(cli, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    out = cli(*args, env={"AVLEDGER_ACTOR": "mallory"})
    assert out.returncode == 0, out.stderr


def test_events_name_their_actor(home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("ledger", "checkpoint").returncode == 0
    out = cli("ledger", "export", str(home.parent / "exp"), env={"AVLEDGER_ACTOR": "leader"})
    assert out.returncode == 0, out.stderr
    events = json.loads(cli("ledger", "show", "--json").stdout)
    assert events[0]["type"] == "ledger.exported" and events[0]["actor"] == "0002:leader"
    assert events[-1]["type"] == "ledger.created" and events[-1]["actor"] == "system"
    assert events[-1]["payload"]["initialised_by"] == ME
