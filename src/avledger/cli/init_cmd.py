"""``avledger init``."""

from __future__ import annotations

from avledger.cli.common import STATE, JsonOpt, console, emit
from avledger.core.install.setup import initialise
from avledger.i18n import _


def init(as_json: JsonOpt = False) -> None:
    """Create the evidence store, catalog, ledger signing key and (in AVLEDGER_HOME) a config.

    Safe to run again: existing parts are kept and the catalog is migrated if needed.

    Example: AVLEDGER_HOME=~/avl avledger init
    """
    report, config = initialise(None, explicit=STATE.config_path)

    def render() -> None:
        for item in report.created:
            console.print("[green]" + _("created") + f"[/]  {item}")
        for item in report.existing:
            console.print("[dim]" + _("kept") + f"[/]     {item}")
        console.print(_("ledger public key: {key}").format(key=report.public_key),
                      soft_wrap=True)

    emit({"created": report.created, "kept": report.existing, "public_key": report.public_key,
          "config_files": [str(p) for p in config.files]}, as_json, render)
