"""Uploads to S3 running behind the next clip's naming pass.

An object's key is the BLAKE3 of its content, so a clip is read once to name it before any
byte can go up. Done one clip after the other, the network waits while a clip is hashed and
the disk waits while it is sent. Here the upload of a named clip runs on background threads:
its parts share one pool with the parts of the clips named after it (so the pool never drains
between clips), while the caller reads and names the next clip. ``publish`` waits for a
group's uploads before its catalog rows commit, so nothing is recorded that the store does not
hold. A window of bytes not yet acknowledged keeps the naming pass at most that far ahead: the
upload's second read of a clip still finds it in the page cache.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, BinaryIO, TypeVar

from avledger.errors import AvledgerError
from avledger.i18n import _
from avledger.store.local import SourceReadError

T = TypeVar("T")


class Reread:
    """The upload's second read of a source, part by part, from any thread: ``pread`` on a
    descriptor of its own when the source has one (the caller may close its file once
    staged); otherwise seek and read on the source itself, one part at a time."""

    def __init__(self, source: BinaryIO, start: int, fd: int | None) -> None:
        self._fd = fd if fd is None else os.dup(fd)
        self._source = source if fd is None else None
        self._start = start
        self._lock = threading.Lock()
        self._closed = False

    def read(self, offset: int, length: int) -> bytes:
        try:
            if self._source is None:
                assert self._fd is not None
                data = os.pread(self._fd, length, self._start + offset)
            else:
                with self._lock:
                    self._source.seek(self._start + offset)
                    data = self._source.read(length)
        except OSError as exc:
            raise SourceReadError(_("reading the source again for the upload failed: "
                                    "{error}").format(error=exc.strerror or exc)) from exc
        if len(data) != length:
            raise SourceReadError(_("source changed between the hash pass and the upload"))
        return data

    def reopen(self) -> BinaryIO | None:
        """A new file on the same source (for reading a staged clip before it is stored),
        or None once closed or without a descriptor."""
        with self._lock:
            if self._closed or self._fd is None:
                return None
            fd = os.dup(self._fd)
        handle = os.fdopen(fd, "rb")
        handle.seek(self._start)
        return handle

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                if self._fd is not None:
                    os.close(self._fd)


class Sending:
    """A staged object's upload: running, done, or failed (``result`` raises its error)."""

    def __init__(self, future: Future[bool], source: Reread | None, created: bool) -> None:
        self._future = future
        self.source = source
        self.created = created  # False: another staged clip of the same content sends it

    def result(self) -> bool:
        """Wait for the upload; True when this object was sent (not already there)."""
        try:
            return self._future.result() and self.created
        finally:
            if self.source is not None:
                self.source.close()

    def settle(self) -> None:
        """Wait for the upload, whatever its outcome (discarding a staged object)."""
        with contextlib.suppress(Exception):  # discarded: its failure concerns nobody now
            self.result()


class Uploader:
    """Background uploads of one store: ``parts`` threads send parts (and small objects),
    a few more drive each object's upload (start, wait for its parts, complete)."""

    def __init__(self, parts: int, window: int) -> None:
        self._parts = ThreadPoolExecutor(max_workers=max(1, parts),
                                         thread_name_prefix="avledger-s3-part")
        self._objects = ThreadPoolExecutor(max_workers=4,
                                           thread_name_prefix="avledger-s3-upload")
        self._window = window
        self._room = threading.Condition()
        self._unsent = 0  # bytes staged and not yet acknowledged
        self._running: dict[str, Future[bool]] = {}

    def wait_for_room(self) -> None:
        """Block while more than the window's bytes are staged but not yet sent."""
        with self._room:
            self._room.wait_for(lambda: self._unsent < self._window)

    def start(self, digest: str, size: int, send: Callable[[], None],
              source: Reread) -> Sending:
        """Run ``send`` in the background, unless this content is being sent already."""
        with self._room:
            running = self._running.get(digest)
            if running is not None:
                source.close()
                return Sending(running, None, created=False)
            self._unsent += size
            future = self._objects.submit(self._run, digest, size, send, source)
            self._running[digest] = future
            return Sending(future, source, created=True)

    def _run(self, digest: str, size: int, send: Callable[[], None], source: Reread) -> bool:
        try:
            send()
        finally:
            source.close()
            with self._room:
                self._unsent -= size
                self._running.pop(digest, None)
                self._room.notify_all()
        return True

    def part(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._parts.submit(fn, *args)

    @staticmethod
    def gather(futures: list[Future[T]], on_done: Callable[[T], None]) -> None:
        """Wait for ``futures`` in order, handing each result to ``on_done``; on the first
        failure the ones not started are cancelled and the running ones waited for (no
        thread is left reading a closed source), then the failure is raised."""
        try:
            for future in futures:
                on_done(future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            wait(futures)
            raise


def first_error(errors: list[AvledgerError]) -> AvledgerError:
    """The error a failed group reports: a store failure before a source's."""
    for exc in errors:
        if not isinstance(exc, SourceReadError):
            return exc
    return errors[0]
