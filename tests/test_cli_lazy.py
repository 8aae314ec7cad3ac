"""Start-up stays light: what a bare ``avledger`` process imports, and that the lazy command
table lists exactly what the real commands say.

No timings here: the imports are what make start-up slow, so they are what is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main

from avledger.cli.group import AvledgerGroup
from avledger.cli.main import COMMANDS, app
from tests.clitree import command_tree

HEAVY = ("boto3", "botocore", "psycopg", "cryptography", "rich.table", "mutagen", "pyudev",
         "yaml", "avledger.core", "avledger.store")
COMMAND_MODULES = tuple(sorted({entry.target.split(":")[0] for entry in COMMANDS}
                               - {"avledger.cli.main"})) + ("avledger.cli.common",)

# Runs the real entry point in a fresh interpreter and reports which modules it imported.
PROBE = """
import json, sys
from avledger.cli.main import run
sys.argv = ["avledger", *json.loads(sys.argv[1])]
try:
    run()
except SystemExit:
    pass
sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def reported(*args: str, probe: str, env: dict[str, str] | None = None) -> Any:
    """What ``probe`` reports (its line starting ``MODULES``) for ``avledger ARGS``."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    out = subprocess.run([sys.executable, "-c", probe, json.dumps(list(args))],
                         capture_output=True, text=True, env=full_env, timeout=120)
    line = next(ln for ln in out.stderr.splitlines() if ln.startswith("MODULES "))
    return json.loads(line.removeprefix("MODULES "))


def imported_by(*args: str, env: dict[str, str] | None = None, probe: str = PROBE) -> set[str]:
    return set(reported(*args, probe=probe, env=env))


def loaded(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_version_imports_no_command_module_and_no_heavy_library() -> None:
    modules = imported_by("--version")
    assert "avledger.cli.main" in modules  # the probe really ran the command
    assert loaded(modules, HEAVY + COMMAND_MODULES + ("pydantic", "rich")) == []


def test_top_level_help_and_completion_import_no_command_module() -> None:
    help_modules = imported_by("--help")
    assert "rich" in help_modules  # the help really was rendered (Typer draws it with tables)
    not_rich_table = tuple(m for m in HEAVY if m != "rich.table")
    assert loaded(help_modules, not_rich_table + COMMAND_MODULES) == []
    completion = imported_by(env={"_AVLEDGER_COMPLETE": "complete_bash",
                                  "COMP_WORDS": "avledger st", "COMP_CWORD": "1"})
    assert loaded(completion, HEAVY + COMMAND_MODULES + ("pydantic",)) == []


def test_completing_a_subcommand_imports_that_one_module_only() -> None:
    modules = imported_by(env={"_AVLEDGER_COMPLETE": "complete_bash",
                               "COMP_WORDS": "avledger ledger ", "COMP_CWORD": "2"})
    assert "avledger.cli.ledger_cmd" in modules
    others = tuple(m for m in COMMAND_MODULES
                   if m not in ("avledger.cli.ledger_cmd", "avledger.cli.common"))
    assert loaded(modules, others + ("boto3", "psycopg", "mutagen", "pyudev")) == []


def test_status_loads_no_backend_or_signing_library(home: Path) -> None:
    modules = imported_by("status", "--json")
    assert "avledger.core.status" in modules
    assert loaded(modules, ("boto3", "botocore", "psycopg", "cryptography", "mutagen",
                            "pyudev", "pydantic")) == []


def test_completion_offers_every_command_with_its_help() -> None:
    out = subprocess.run([sys.executable, "-c", "from avledger.cli.main import run; run()"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "_AVLEDGER_COMPLETE": "complete_zsh",
                              "_TYPER_COMPLETE_ARGS": "avledger "})
    offered = out.stdout
    for entry in COMMANDS:  # zsh shows each name with the start of its help
        assert f'"{entry.name}":"{entry.help.split()[0]} ' in offered


# ---- the static table is the truth about the real commands ----------------------------------


def _help_text(group: Any) -> str:
    ctx = group.make_context("avledger", [], resilient_parsing=True)
    return str(group.get_help(ctx))


def test_listing_from_the_table_is_the_listing_of_the_real_commands() -> None:
    lazy_root = typer.main.get_command(app)
    from_table = _help_text(lazy_root)
    real = {path: cmd for path, cmd in command_tree(lazy_root) if len(path) == 1}
    assert [p[0] for p in real] == [entry.name for entry in COMMANDS]
    for entry in COMMANDS:
        cmd = real[(entry.name,)]
        assert (cmd.help or "").split("\n\n")[0] == entry.help, entry.name
        assert not cmd.hidden and not cmd.deprecated and not cmd.short_help
    assert _help_text(lazy_root) == from_table  # now rendered from the loaded commands


def _eager_app() -> typer.Typer:
    """The app as Typer would build it with every module imported up front."""
    import importlib

    eager = typer.Typer(name="avledger", cls=AvledgerGroup,
                        rich_markup_mode="rich", pretty_exceptions_enable=False,
                        context_settings={"help_option_names": ["-h", "--help"]},
                        help=app.info.help, no_args_is_help=True)
    eager.callback()(app.registered_callback.callback)  # type: ignore[union-attr]
    for entry in COMMANDS:
        module, attribute = entry.target.split(":")
        obj = getattr(importlib.import_module(module), attribute)
        if entry.kind == "command":
            eager.command(entry.name)(obj)
        else:
            eager.add_typer(obj if isinstance(obj, typer.Typer) else obj(), name=entry.name)
    return eager


def _describe(cmd: Any) -> dict[str, Any]:
    return {"class": type(cmd).__mro__[1].__name__ if type(cmd).__name__ == "PlainFlagsCommand"
            else type(cmd).__name__,
            "help": cmd.help, "hidden": cmd.hidden,
            "params": [(p.name, p.opts, p.secondary_opts, p.required, repr(p.default),
                        getattr(p, "help", None)) for p in cmd.params]}


def test_the_lazy_tree_is_the_eager_tree() -> None:
    lazy = {path: _describe(cmd) for path, cmd in command_tree() if path}
    eager = {path: _describe(cmd)
             for path, cmd in command_tree(typer.main.get_command(_eager_app())) if path}
    assert list(lazy) == list(eager)
    for path in lazy:
        assert lazy[path] == eager[path], path


@pytest.mark.parametrize("name", [entry.name for entry in COMMANDS])
def test_each_command_help_runs_through_the_lazy_loader(name: str) -> None:
    out = subprocess.run([sys.executable, "-c", "from avledger.cli.main import run; run()",
                          name, "--help"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": "200",
                              "AVLEDGER_HOME": "/nonexistent/avledger-help"})
    assert out.returncode == 0, out.stderr
    assert "Usage: " in out.stdout and name in out.stdout


def test_an_ingest_without_a_terminal_loads_only_what_an_ingest_uses(home: Path,
                                                                      tmp_path: Path) -> None:
    """The udev unit and scripts run ``ingest`` without a terminal: no progress bars to draw,
    no witness configured, no disc to restore from, no other backend, and with ``--json``
    nothing of rich at all (no console to print on)."""
    from avledger.config import loader, profiles
    from avledger.core.simulate.recorder import simulate

    rec = tmp_path / "rec"
    simulate(rec, profiles.get(loader.load(), "generic"), clips=2, size=200_000)
    modules = imported_by("ingest", str(rec), "--json")
    assert "avledger.core.ingest.session" in modules  # the ingest really ran
    assert loaded(modules, ("rich", "urllib.request", "http.client",
                            "avledger.core.archive", "avledger.core.reports", "boto3",
                            "botocore", "psycopg", "pydantic", "pyudev")) == []
    assert loaded(modules, NOT_FOR_AN_INGEST) == []


# What an ingest of a folder, local store, no witness, nothing marked, never needs: the
# witness client and its HTTP, the migrations' SQL readers, the retention rules (store locks
# and hold proposals), the block device and failed-docking code, INI device files, the clip
# queries of the desk, scratch folders and tokens.
NOT_FOR_AN_INGEST = ("avledger.core.witness", "urllib.error", "urllib.response",
                     "importlib.resources", "importlib.readers", "zipfile",
                     "avledger.core.retention", "avledger.core.dock.failed",
                     "avledger.core.dock.mounting", "avledger.core.dock.recorder_volume",
                     "avledger.core.clips", "avledger.core.caseref", "configparser",
                     "tempfile", "secrets")

# Runs an ingest through the entry point and reports what was loaded when its copying was
# about to start (the ``planned`` hook, called just before the first clip is read).
BEFORE_COPYING = """
import json, sys
from avledger.core.ingest import session
seen = []
session.IngestHooks.planned = lambda self, files, size: seen.append(sorted(sys.modules))
from avledger.cli.main import run
sys.argv = ["avledger", *json.loads(sys.argv[1])]
try:
    run()
except SystemExit:
    pass
sys.stderr.write("MODULES " + json.dumps(seen[0]) + "\\n")
"""


def test_an_ingest_loads_signing_and_container_code_only_once_copying_starts(
        home: Path, tmp_path: Path) -> None:
    """cryptography and hashlib (signing) are imported on threads while the first clips are
    copied, never on the way to the first copy; nor is anything of the list above."""
    from avledger.config import loader, profiles
    from avledger.core.simulate.recorder import simulate

    rec = tmp_path / "rec"
    simulate(rec, profiles.get(loader.load(), "generic"), clips=2, size=200_000)
    modules = imported_by("ingest", str(rec), "--json", probe=BEFORE_COPYING)
    assert "avledger.core.ingest.batch" in modules  # the probe saw the session at work
    assert loaded(modules, ("cryptography", "hashlib", "mutagen", "rich", "boto3", "psycopg")
                  + NOT_FOR_AN_INGEST) == []
    after = imported_by("ingest", str(rec), "--json")  # a second docking: all skipped
    assert "mutagen" not in after  # no clip copied, no duration read


@pytest.mark.parametrize("kind", ["video", "photo"])
def test_an_ingest_of_videos_or_photos_never_loads_mutagen(home: Path, tmp_path: Path,
                                                           kind: str) -> None:
    """A video's duration comes from its header boxes (``core/dock/moviebox.py``), a photo has
    none: mutagen is left for audio files and headers those boxes do not answer."""
    from avledger.config import loader, profiles
    from avledger.core.simulate.recorder import simulate

    rec = tmp_path / "rec"
    simulate(rec, profiles.get(loader.load(), "generic"), clips=2 if kind == "video" else 0,
             photos=0 if kind == "video" else 2, size=200_000)
    modules = imported_by("ingest", str(rec), "--json")
    assert "avledger.core.ingest.batch" in modules
    assert loaded(modules, ("mutagen",)) == []


def test_an_ingest_on_a_terminal_still_draws_its_progress(home: Path, tmp_path: Path) -> None:
    """rich loads lazily, but a terminal (here one forced the way rich honours, FORCE_COLOR)
    still gets the progress bars; without one, stderr stays clean."""
    from avledger.config import loader, profiles
    from avledger.core.simulate.recorder import simulate

    rec = tmp_path / "rec"
    simulate(rec, profiles.get(loader.load(), "generic"), clips=2, size=200_000)
    env = {**os.environ, "LANG": "C", "LC_ALL": "C", "COLUMNS": "120"}
    env.pop("FORCE_COLOR", None)
    plain = subprocess.run([sys.executable, "-m", "avledger", "ingest", str(rec)],
                           capture_output=True, text=True, env=env, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert "kB" not in plain.stderr
    assert "2" in plain.stdout  # the summary table, printed on the (lazily made) console
    simulate(tmp_path / "rec2", profiles.get(loader.load(), "generic"), clips=2, size=200_000,
             serial="BWR-TERM")
    drawn = subprocess.run([sys.executable, "-m", "avledger", "ingest", str(tmp_path / "rec2")],
                           capture_output=True, text=True, env={**env, "FORCE_COLOR": "1"},
                           timeout=120)
    assert drawn.returncode == 0, drawn.stderr
    assert "2 clips" in drawn.stderr and "400.0/400.0 kB" in drawn.stderr
