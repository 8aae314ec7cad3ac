"""``avledger init``: create the store, catalog, signing key and (in development) a config."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from avledger.config import loader
from avledger.config.layout import Layout
from avledger.config.loader import Config
from avledger.config.schema import ROLES
from avledger.core import identity
from avledger.core.app import Avledger
from avledger.core.install import permissions
from avledger.store.catalogs import open_catalog
from avledger.store.factory import open_second_store, open_store
from avledger.store.keys import create_key, load_signer, public_key_path


@dataclass
class InitReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    public_key: str = ""


def development_config(layout: Layout, login: str) -> str:
    """A starter config for a development/demo home: the current user holds every role but
    'leader'; a second person holds 'leader' so approvals are never self-approvals."""
    doc = {
        "site": {"unit": "Municipal Ecology and Environment Bureau (demo)",
                 "timezone": "Asia/Shanghai", "station": socket.gethostname() or "dock-1"},
        "ledger": {"origin": f"avledger.local/{layout.home.name if layout.home else 'custody'}"},
        "personnel": [
            {"badge": "0001", "name": "Desk Clerk", "unit": "Environmental Supervision Detachment",
             "os_user": login, "roles": [r for r in ROLES if r != "leader"]},
            {"badge": "0002", "name": "Principal Leader", "unit": "Bureau leadership",
             "os_user": "leader", "roles": ["leader"]},
        ],
    }
    header = ("# avledger development configuration, written by 'avledger init'.\n"
              "# See 'avledger config sample' for every key with its help text.\n")
    return header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def ledger_is_empty(config: Config) -> bool:
    """True until the first event (also after an init that stopped before writing it)."""
    catalog = open_catalog(config)
    try:
        return bool(catalog.conn.execute("SELECT size = 0 FROM ledger_state").fetchone()[0])
    finally:
        catalog.close()


def initialise(config: Config | None, *, explicit: Path | None = None) -> tuple[InitReport, Config]:
    report = InitReport()
    layout = Layout.discover()
    if layout.development and not layout.config_file.exists():
        assert layout.home is not None
        layout.home.mkdir(parents=True, exist_ok=True)
        layout.config_file.write_text(
            development_config(layout, identity._login_name(os.getuid())), encoding="utf-8")
        report.created.append(f"config {layout.config_file}")
    config = loader.load(explicit)
    account = _service_account_for(config, report)

    store = open_store(config)
    (report.created if store.create() else report.existing).append(f"store {store.location}")
    second = open_second_store(config)
    if second is not None:
        (report.created if second.create() else report.existing).append(
            f"second store {second.location}")

    if create_key(config.key_path):
        report.created.append(f"signing key {config.key_path}")
    else:
        report.existing.append(f"signing key {config.key_path}")
    signer = load_signer(config.key_path, str(config.get("ledger.origin")))
    pub = public_key_path(config.key_path)
    if not pub.exists():
        pub.write_text(signer.verifier_key + "\n", encoding="utf-8")
    report.public_key = signer.verifier_key

    catalog = open_catalog(config)
    is_new = not catalog.exists()
    if is_new:
        catalog.create()
        report.created.append(f"catalog {catalog.describe()}")
    else:
        applied = catalog.migrate()
        report.existing.append(f"catalog {catalog.describe()}" +
                               (f" (migrated {len(applied)})" if applied else ""))
    catalog.close()

    config.checkpoint_file.parent.mkdir(parents=True, exist_ok=True)
    if ledger_is_empty(config):
        # Setting up is an installation act (often by root, who need not be on the roster):
        # the event is the system's, naming the login that ran it.
        with Avledger.open(config, daemon=True) as app, app.transaction() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES ('origin', ?)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (app.origin,))
            app.record(conn, "ledger.created", "ledger", {
                "origin": app.origin, "public_key": signer.verifier_key,
                "unit": config.get("site.unit"), "station": config.get("site.station"),
                "initialised_by": identity._login_name(os.getuid()),
            })
    if account is not None:
        changed = permissions.adopt(config, account)
        if changed:
            report.created.append(f"ownership: {len(changed)} paths given to "
                                  f"{identity.SERVICE_USER} or closed to others")
    return report, config


def _service_account_for(config: Config, report: InitReport) -> permissions.Account | None:
    """On a real installation run by root: the service account (created or adopted) and the
    folders it owns, closed to others. None in development, where the user owns the home."""
    if config.layout.development or os.geteuid() != 0:
        return None
    account = permissions.ensure_service_account(config.layout.dirs["data"])
    (report.created if account.created else report.existing).append(
        f"service account {identity.SERVICE_USER} (uid {account.uid})")
    for name, mode in (("data", 0o750), ("log", 0o750), ("keys", 0o700)):
        path = config.layout.dirs[name]
        path.mkdir(mode=mode, parents=True, exist_ok=True)
        os.chown(path, account.uid, account.gid)
        os.chmod(path, mode)
    return account
