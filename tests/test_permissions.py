"""The process umask and the dock's callers, without a real installation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from avledger.config import loader
from avledger.core import identity
from avledger.errors import RefusedError
from tests.conftest import run_cli


def test_a_new_home_is_closed_to_others(tmp_path: Path) -> None:
    """umask 0027: what avledger makes is never readable by others (not even a demo)."""
    home = tmp_path / "fresh"
    out = run_cli("init", env={"AVLEDGER_HOME": str(home)})
    assert out.returncode == 0, out.stderr
    made = [p for p in home.rglob("*")]
    assert any(p.name == "catalog.db" for p in made)
    assert any(p.name == "checkpoints.log" for p in made)
    for path in made:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_file() and path.parent.name == "objects":
            continue  # objects are 0444, closed by their folders
        assert not mode & 0o007, (path, oct(mode))


def _real(environ: dict[str, str] | None = None) -> loader.Config:
    from avledger.config import schema

    layout = loader.Layout.discover({})
    return loader.Config(data=schema.defaults(), sources={}, layout=layout)


def test_the_dock_is_the_service_account_only_when_systemd_started_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _real()
    monkeypatch.setattr(os, "getuid", lambda: 990)
    monkeypatch.setattr(os, "geteuid", lambda: 990)
    monkeypatch.setattr(identity, "_login_name", lambda uid: "avledger")
    unit = {"INVOCATION_ID": "4f" * 16}
    monkeypatch.setattr(os, "getppid", lambda: 1)
    assert identity.is_dock_process(cfg, unit)
    assert not identity.is_dock_process(cfg, {})  # PID 1 but no unit
    monkeypatch.setattr(os, "getppid", lambda: 4242)  # sudo, a shell, …
    assert not identity.is_dock_process(cfg, unit)
    with pytest.raises(RefusedError, match="only root or the 'avledger' service started by "
                                           "systemd may run the dock"):
        identity.require_dock_caller(cfg, "run the dock", unit)
    monkeypatch.setattr(identity, "_login_name", lambda uid: "wangf")
    monkeypatch.setattr(os, "getppid", lambda: 1)
    assert not identity.is_dock_process(cfg, unit)  # another account, even under systemd


def test_development_keeps_the_dock_for_the_current_user(home: Path) -> None:
    cfg = loader.load()
    assert cfg.layout.development and identity.is_dock_process(cfg, {})


def test_what_root_adds_to_the_store_takes_the_stores_owner(tmp_path: Path) -> None:
    """The dock runs as root; the objects and folders it adds must stay usable by the service
    account that owns the store (here: nobody stands in for it)."""
    import pwd

    from avledger.store.local import LocalObjectStore
    from tests.conftest import require_root_tools

    require_root_tools()
    nobody = pwd.getpwnam("nobody")
    store = LocalObjectStore(tmp_path / "store")
    store.create()
    for path in [store.root, *store.root.rglob("*")]:
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    put = store.put_bytes(b"footage from a recorder")
    obj = store.path_for(put.digest)
    for path in (obj, obj.parent, obj.parent.parent):
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (nobody.pw_uid, nobody.pw_gid), path
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444
