"""Copying the next small clips while the session records the ones before them.

A 50 KB clip costs more in waiting than in copying: its read from the recorder and the
creation of its temp file are each a round trip to a disk. A few threads copy the clips ahead
into staged objects (``ObjectStore.stage_stream``: read, hashed and written in one pass, not
yet durable nor visible) and read their durations, so those waits overlap; the session takes
the results in the clips' order and does everything else (catalog, ledger, group commit) on
its own thread, as before. A big clip is not copied ahead: it is copied when its turn comes,
with its progress shown as it goes. While it is copied, the next big clip is read into the
page cache (``warm``, one clip ahead, on a thread of its own): two reads in flight keep the
recorder's disk busier than one (on the development VM, 1 GiB in 16 clips, cold, 10
alternating rounds: copy with hashing 0.93-1.61 s, median 1.34 s, alone; 0.84-1.62 s, median
1.09 s, with the next clip read alongside).

What was copied ahead and never taken (the run stopped or failed first) is discarded: a temp
file, never visible as an object.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

SMALL = 1 << 20  # clips up to this size are copied ahead
WORKERS = 4  # copies in flight at once
AHEAD = 256  # small clips copied ahead of the one being recorded, at most

Clip = TypeVar("Clip")
Copied = TypeVar("Copied")


class Prefetch(Generic[Clip, Copied]):
    """``copy`` run ahead on small clips; iterate for (clip, take) in the clips' order, where
    ``take()`` returns what the clip's copy returned (or raises what it raised).

    A big clip comes with None: the caller copies it itself, while ``warm`` (when given) reads
    the next big clip ahead; ``warm`` returns when done or when the event it is given is set.
    ``close`` (or leaving the ``with`` block) waits for the copies and the reading running,
    and discards what was not taken."""

    def __init__(self, clips: Iterable[Clip], size: Callable[[Clip], int],
                 copy: Callable[[Clip], Copied], discard: Callable[[list[Copied]], None],
                 *, workers: int = WORKERS, ahead: int = AHEAD, small: int = SMALL,
                 warm: Callable[[Clip, threading.Event], object] | None = None) -> None:
        self._clips = list(clips)
        self._size = size
        self._copy = copy
        self._discard = discard
        self._ahead = ahead
        self._small = small
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix="avledger-prefetch")
        self._queued: deque[tuple[int, Future[Copied]]] = deque()
        self._next = 0  # the first clip not yet submitted
        self._untaken: Future[Copied] | None = None  # yielded, its result not yet asked for
        self._warm = warm
        self._warmed = -1  # the last big clip handed to ``warm``
        self._stop_warming = threading.Event()
        self._warming = ThreadPoolExecutor(max_workers=1, thread_name_prefix="avledger-warm")

    def __enter__(self) -> Prefetch[Clip, Copied]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[tuple[Clip, Callable[[], Copied] | None]]:
        for i, clip in enumerate(self._clips):
            if self._size(clip) > self._small:
                self._warm_after(i)
                yield clip, None
                continue
            self._fill(i)
            index, future = self._queued.popleft()
            assert index == i
            self._untaken = future
            yield clip, self._take

    def _take(self) -> Copied:
        future, self._untaken = self._untaken, None
        assert future is not None, "each clip's copy is taken once"
        return future.result()

    def _fill(self, current: int) -> None:
        """Submit the small clips from ``current`` on, up to ``ahead`` of it; a big clip
        stops the look-ahead (it is copied alone, when its turn comes)."""
        self._next = max(self._next, current)
        while self._next < len(self._clips) and self._next - current < self._ahead:
            clip = self._clips[self._next]
            if self._size(clip) > self._small:
                break
            self._queued.append((self._next, self._pool.submit(self._copy, clip)))
            self._next += 1

    def _warm_after(self, current: int) -> None:
        """Hand the next big clip after ``current`` to ``warm`` (once each)."""
        if self._warm is None:
            return
        following = next((j for j in range(max(current, self._warmed) + 1, len(self._clips))
                          if self._size(self._clips[j]) > self._small), None)
        if following is not None:
            self._warmed = following
            self._warming.submit(self._warm, self._clips[following], self._stop_warming)

    def close(self) -> None:
        """Stop copying and reading ahead; temp files of copies not taken are removed."""
        self._stop_warming.set()
        self._warming.shutdown(wait=True)
        waiting = [f for _, f in self._queued] + ([self._untaken] if self._untaken else [])
        for future in waiting:
            future.cancel()
        self._pool.shutdown(wait=True)
        leftovers = [f.result() for f in waiting if not f.cancelled() and f.exception() is None]
        self._queued.clear()
        self._untaken = None
        if leftovers:
            self._discard(leftovers)
