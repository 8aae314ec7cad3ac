"""The ``avledger`` command's entry point (``[project.scripts]``, ``python -m avledger``).

Before Typer and the command modules load, the sub-command's early work starts (``early``:
``ingest`` reads the recorder ahead), so that the program's own loading overlaps it.
"""

from __future__ import annotations

import sys

from avledger.cli.early import start_early_work, sub_command


def run() -> None:
    """Start the sub-command's early work, then run the command line."""
    found = sub_command(sys.argv[1:])
    if found is not None:
        start_early_work(*found)
    from avledger.cli.main import run as run_command_line

    run_command_line()
