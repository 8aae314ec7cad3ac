"""What ``avledger ingest`` starts before its own code loads: reading the recorder ahead.

The top-level group calls ``prepare`` with the sub-command's words as typed, before it imports
the ingest command and everything that comes with it (``LazyCommand.prepare``). Options are
not parsed yet, so the folder is found the plain way: the first word that is neither an option
nor an option's value, when it names a folder. A wrong guess costs a wasted read, never a wrong
result: the ingest reads and hashes every clip itself (``core/dock/readahead.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# ingest's options that take a value (tests/test_readahead.py checks this against the command)
VALUED_OPTIONS = frozenset({"--device", "--profile", "-p", "--docked-at"})
# with these nothing is copied, so nothing is read ahead
NO_COPY = frozenset({"--dry-run", "--help", "-h"})


def folder_argument(args: Sequence[str]) -> Path | None:
    """The PATH argument of ``avledger ingest`` as typed, if it is one (not parsed: a guess)."""
    words = list(args)
    while words:
        word = words.pop(0)
        if word == "--":
            return Path(words[0]) if words else None
        if word in VALUED_OPTIONS:
            if words:
                words.pop(0)
        elif not word.startswith("-"):
            return Path(word)
    return None


def prepare(args: Sequence[str]) -> None:
    """Start reading the recorder folder ahead while the ingest loads."""
    if NO_COPY.intersection(args):
        return
    folder = folder_argument(args)
    if folder is not None:
        from avledger.core.dock import readahead

        readahead.start(folder)
