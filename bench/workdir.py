"""A throw-away AVLEDGER_HOME for benchmarks: --dir/--keep options, init, and clean-up."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def add_work_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")


@contextmanager
def initialised_home(args: argparse.Namespace, name: str) -> Iterator[Path]:
    """Yield a work directory whose ``home`` is an initialised AVLEDGER_HOME; remove it after
    unless ``--dir`` or ``--keep`` was given."""
    work = args.dir or Path(tempfile.mkdtemp(prefix=f"avledger-{name}-bench-"))
    os.environ["AVLEDGER_HOME"] = str(work / "home")
    from avledger.core.install.setup import initialise

    try:
        initialise(None)
        yield work
    finally:
        if args.keep or args.dir:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
