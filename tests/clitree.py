"""Walking the command tree the way click itself resolves it (sub-commands load lazily)."""

from __future__ import annotations

from typing import Any


def command_tree(root: Any = None) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group with its path, each resolved through ``get_command``."""
    import typer.main

    from avledger.cli.main import app

    if root is None:
        root = typer.main.get_command(app)
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(cmd: Any, prefix: tuple[str, ...]) -> None:
        found.append((prefix, cmd))
        if not hasattr(cmd, "list_commands"):
            return
        ctx = cmd.make_context("avledger", [], resilient_parsing=True)
        for name in cmd.list_commands(ctx):
            walk(cmd.get_command(ctx, name), (*prefix, name))

    walk(root, ())
    return found
