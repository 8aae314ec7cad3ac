"""Group commit: clips staged together share one durability point and one transaction.

A small clip costs more in flushes than in copying: on its own it needs its object's data
and directory made durable and a catalog transaction committed. Staged in a group, the store
flushes all the group's objects together (``ObjectStore.publish``) and one transaction then
records every clip, object and ``clip.ingested`` event. The group closes after ``clips``
clips, ``bytes`` bytes or ``seconds`` seconds, whichever comes first. A crash loses at most
the open group's rows; its objects are either temp files (swept) or published complete, and
the re-run, which copies those clips again, adopts them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from avledger.store.backend import Staged

CLIPS = 256
BYTES = 256 << 20
SECONDS = 1.0


@dataclass
class Pending:
    """One staged clip waiting for its group's commit."""

    clip: Any  # SourceClip
    staged: Staged
    outcome: Any  # ClipOutcome; its status says whether rows are written ("new")
    rows: Any | None  # ClipRows: what its rows are made of, when new


@dataclass
class Group:
    clips: int = CLIPS
    bytes: int = BYTES
    seconds: float = SECONDS
    clock: Callable[[], float] = time.monotonic
    pending: list[Pending] = field(default_factory=list)
    failed_files: int = 0  # clips that failed to copy, counted in the dock's progress
    opened: float = 0.0
    staged_bytes: int = 0

    def add(self, item: Pending) -> None:
        if not self.pending:
            self.opened = self.clock()
        self.pending.append(item)
        self.staged_bytes += item.staged.size

    def failed(self) -> None:
        self.failed_files += 1

    def full(self) -> bool:
        return bool(self.pending) and (
            len(self.pending) >= self.clips
            or self.staged_bytes >= self.bytes
            or self.clock() - self.opened >= self.seconds)

    def fresh(self) -> Group:
        """An empty group with the same limits."""
        return Group(self.clips, self.bytes, self.seconds, self.clock)

    def take(self) -> tuple[list[Pending], int]:
        items, failed = self.pending, self.failed_files
        self.pending, self.failed_files, self.staged_bytes = [], 0, 0
        return items, failed
