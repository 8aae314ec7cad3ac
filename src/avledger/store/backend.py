"""The object-store interface. Nothing outside ``store/`` touches object paths.

A backend stores immutable blobs named by the BLAKE3 hex digest of their content. The local
filesystem backend is the default; the S3 backend (``store/s3.py``) keeps them in a bucket
whose Object Lock enforces retention and legal holds in the store itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

Progress = Callable[[int], None]  # called with the number of bytes just processed


@dataclass(frozen=True)
class PutResult:
    digest: str
    size: int
    created: bool  # False when identical content was already stored (deduplicated)


@dataclass(frozen=True)
class Staged:
    """An object written and hashed but not yet in the store (local: a temp file).

    Staging many objects and publishing them together lets them share one durability
    point (group commit); ``handle`` is the backend's own (a temp path, or the finished
    put for a store whose puts are durable when they return).
    """

    digest: str
    size: int
    handle: object
    # a small object's bytes, as read while staging it: what reads it next (a parser) need
    # not open it again; the holder drops them once read (``without_content``)
    content: bytes | None = field(default=None, repr=False, compare=False)

    def without_content(self) -> Staged:
        return replace(self, content=None) if self.content is not None else self


@dataclass(frozen=True)
class ObjectStat:
    digest: str
    size: int
    mtime: float


@dataclass(frozen=True)
class VerifyResult:
    digest: str
    status: str  # "ok" | "corrupt" | "missing" | "unreadable"
    detail: str = ""
    size: int = 0


class ObjectStore(Protocol):
    locks: bool  # True when the store enforces retention and legal holds itself
    # True when staging returns with the object still being written in the background
    # (S3 uploads): publishing a group then waits for it, so the caller names the next
    # object before publishing the group before it
    stages_in_background: bool

    @property
    def location(self) -> str:
        """Where the objects are, for people (a directory, or ``s3://bucket/prefix``)."""

    def create(self) -> bool:
        """Set the store up; True when it did not exist before."""

    def check_ready(self) -> None:
        """Raise StorageError when the store is not usable."""

    def put_stream(
        self, source: BinaryIO, *, expected_size: int | None = None,
        progress: Progress | None = None,
    ) -> PutResult:
        """Copy ``source`` into the store, named by its BLAKE3 digest."""

    def stage_stream(
        self, source: BinaryIO, *, expected_size: int | None = None,
        progress: Progress | None = None,
    ) -> Staged:
        """Write and hash ``source`` without making it durable or visible yet."""

    def publish(self, staged: Sequence[Staged]) -> list[PutResult]:
        """Make staged objects durable together, then visible; their results, in order."""

    def discard(self, staged: Sequence[Staged]) -> None:
        """Drop staged objects that will not be published."""

    def open_staged(self, staged: Staged) -> BinaryIO:
        """Read a staged object (before or after publication)."""

    def open(self, digest: str) -> BinaryIO:
        """Open an object for reading (seekable)."""

    def exists(self, digest: str) -> bool: ...

    def stat(self, digest: str) -> ObjectStat: ...

    def delete(self, digest: str) -> bool:
        """Remove an object (purge); False when it was not there; StoreRefusedError when the
        store's own lock forbids it."""

    def iterate(self) -> Iterator[str]:
        """Every stored object digest."""

    def strays(self) -> list[str]:
        """Entries under ``objects/`` that are not objects where their name says."""

    def verify(self, digest: str, expected_size: int | None = None, *,
               threads: int = 0) -> VerifyResult:
        """Re-hash one object and compare with its name (``threads`` 0: all cores)."""

    def quarantine(self, digest: str, reason: str) -> str | None:
        """Move a bad object aside (never repaired in place); return where it went."""

    def link_into(self, digest: str, dest: Path) -> None:
        """Place a read-only copy of an object at ``dest`` (archive disc staging)."""

    def sweep_temp(self, older_than: float = ...) -> int:
        """Remove what interrupted writes left long ago; how many."""

    def sweep_abandoned(self) -> int:
        """Remove what writers that are gone left behind; how many."""

    def temp_files(self) -> list[str]: ...

    def apply_lock(self, digest: str, until: datetime | None,
                   held: bool | None) -> tuple[bool, bool]:
        """Extend the store-side retention to ``until`` and set its legal hold to ``held``
        (None: unchanged); what changed. A no-op without store locks."""

    def retain(self, digest: str, until: datetime) -> bool:
        """Extend the store-side retention to ``until`` (no-op without store locks)."""

    def set_legal_hold(self, digest: str, on: bool) -> bool:
        """Set or clear the store-side legal hold (no-op without store locks)."""
