"""``avledger config check|show|sample``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from avledger.cli.common import JsonOpt, console, emit, load_config, new_app, print_json, table
from avledger.config import loader, profiles, schema
from avledger.errors import ConfigError
from avledger.i18n import _

app = new_app("Check and show the configuration.")


@app.command("check")
def check(
    path: Annotated[Path | None, typer.Argument(help="Check only this file (default: the "
                                                     "effective layered config).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate the configuration and the device profiles in profiles.dirs; every problem is
    listed with its path.

    Example: avledger config check /etc/avledger/avledger.yaml
    """
    if path is not None:
        problems = loader.check_file(path)
        if problems:
            raise ConfigError(problems, source=str(path))
        files = [str(path)]
        found: dict[str, profiles.Profile] = {}
    else:
        config = load_config()
        files = [str(p) for p in config.files]
        found = profiles.load_all(config)  # ConfigError listing every invalid profile
    names = sorted(found)
    emit({"ok": True, "files": files, "profiles": names}, as_json,
         lambda: console.print("[green]" + _("config OK") + "[/] "
                               + _("({files})").format(
                                   files=", ".join(files) or _("built-in defaults"))
                               + (_("; {count} device profile(s) OK: {names}").format(
                                   count=len(names), names=", ".join(names)) if names else "")))


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        out: list[tuple[str, Any]] = []
        for k, v in data.items():
            out += _flatten(v, f"{prefix}{k}.")
        return out
    return [(prefix.rstrip("."), data)]


@app.command("show")
def show(as_json: JsonOpt = False) -> None:
    """Show the effective configuration and where each value came from.

    Example: avledger config show --json
    """
    cfg = load_config()
    rows = []
    for key, value in _flatten(cfg.data):
        top = key.split(".")[0]
        source = cfg.sources.get(key) or cfg.sources.get(top, "default")
        rows.append((key, value, source))
    if as_json:
        print_json({"config": cfg.data, "sources": {k: s for k, _value, s in rows}})
        return
    console.print(table(_("effective configuration"), [_("key"), _("value"), _("from")], rows))


@app.command("sample")
def sample() -> None:
    """Print a commented sample configuration with every key and its default.

    Example: avledger config sample > /etc/avledger/avledger.yaml
    """
    typer.echo(schema.sample_yaml(), nl=False)
