"""The object-store interface. Nothing outside ``store/`` touches object paths.

A backend stores immutable blobs named by the BLAKE3 hex digest of their content. The local
filesystem backend is the default; an S3 Object Lock backend can implement the same calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

Progress = Callable[[int], None]  # called with the number of bytes just processed


@dataclass(frozen=True)
class PutResult:
    digest: str
    size: int
    created: bool  # False when identical content was already stored (deduplicated)


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
    def put_stream(
        self, source: BinaryIO, *, expected_size: int | None = None,
        progress: Progress | None = None,
    ) -> PutResult:
        """Copy ``source`` into the store in one pass (hash while copying)."""

    def open(self, digest: str) -> BinaryIO:
        """Open an object for reading."""

    def exists(self, digest: str) -> bool: ...

    def stat(self, digest: str) -> ObjectStat: ...

    def delete(self, digest: str) -> bool:
        """Remove an object (purge); False when it was not there."""

    def iterate(self) -> Iterator[str]:
        """Every stored object digest."""

    def verify(self, digest: str, expected_size: int | None = None, *,
               threads: int = 0) -> VerifyResult:
        """Re-hash one object and compare with its name (``threads`` 0: all cores)."""

    def quarantine(self, digest: str, reason: str) -> str | None:
        """Move a bad object aside (never repaired in place); return where it went."""
