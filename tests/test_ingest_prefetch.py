"""Small clips copied ahead on a few threads: results in the clips' order, big clips left to
the session, errors raised where the clip is taken, and nothing copied ahead is lost when the
run stops early (it is either taken or discarded)."""

from __future__ import annotations

import threading

import pytest

from avledger.core.ingest.prefetch import Prefetch

SMALL = 100


def _prefetch(sizes: list[int], copy, discarded: list[str], **kw):  # type: ignore[no-untyped-def]
    clips = [f"c{i}" for i in range(len(sizes))]
    size_of = dict(zip(clips, sizes, strict=True))
    return Prefetch(clips, size_of.__getitem__, copy, discarded.extend, small=SMALL, **kw)


def test_results_come_in_order_and_big_clips_are_left_to_the_caller() -> None:
    copied: list[str] = []
    lock = threading.Lock()

    def copy(clip: str) -> str:
        with lock:
            copied.append(clip)
        return f"staged-{clip}"

    discarded: list[str] = []
    sizes = [10, 10, 500, 10, 10, 10, 500]
    taken = []
    with _prefetch(sizes, copy, discarded, workers=3, ahead=2) as ahead:
        for clip, take in ahead:
            taken.append((clip, take() if take else None))
    assert taken == [("c0", "staged-c0"), ("c1", "staged-c1"), ("c2", None),
                     ("c3", "staged-c3"), ("c4", "staged-c4"), ("c5", "staged-c5"),
                     ("c6", None)]
    assert sorted(copied) == ["c0", "c1", "c3", "c4", "c5"]  # big clips never copied ahead
    assert discarded == []


def test_a_failed_copy_is_raised_when_its_clip_is_taken() -> None:
    def copy(clip: str) -> str:
        if clip == "c1":
            raise OSError("unreadable")
        return clip

    results: list[str] = []
    with _prefetch([1, 1, 1], copy, []) as ahead:
        for clip, take in ahead:
            assert take is not None
            try:
                results.append(take())
            except OSError as exc:
                results.append(f"{clip}: {exc}")
    assert results == ["c0", "c1: unreadable", "c2"]


@pytest.mark.parametrize("taken_before_stop", [True, False])
def test_stopping_early_discards_every_copy_not_taken(taken_before_stop: bool) -> None:
    release = threading.Event()
    done: list[str] = []
    lock = threading.Lock()

    def copy(clip: str) -> str:
        if clip != "c0":
            release.wait()  # copies ahead still running when the run stops
        with lock:
            done.append(clip)
        return clip

    discarded: list[str] = []
    taken: list[str] = []
    ahead = _prefetch([1] * 12, copy, discarded, workers=3, ahead=8)
    for _clip, take in ahead:
        assert take is not None
        if taken_before_stop:
            taken.append(take())
        break  # stop requested
    release.set()
    ahead.close()
    assert not set(taken) & set(discarded)
    assert sorted(taken + discarded) == sorted(done)  # nothing copied is left behind
    assert "c0" in (taken if taken_before_stop else discarded)


def test_the_next_big_clip_is_read_ahead_while_one_is_copied() -> None:
    """Each big clip after the first is handed to ``warm`` once, when the big clip before it
    comes up; small clips never are (they are copied ahead whole)."""
    warmed: list[str] = []

    def warm(clip: str, stop: threading.Event) -> None:
        warmed.append(clip)

    at_each_big: dict[str, list[str]] = {}
    sizes = [500, 10, 500, 500, 10, 10, 500]
    with _prefetch(sizes, lambda c: c, [], warm=warm) as ahead:
        for clip, take in ahead:
            if take:
                take()
            else:  # the caller copies a big clip; what was handed out so far has run:
                ahead._warming.submit(lambda: None).result()  # one thread, in order
                at_each_big[clip] = list(warmed)
    assert at_each_big == {"c0": ["c2"], "c2": ["c2", "c3"], "c3": ["c2", "c3", "c6"],
                           "c6": ["c2", "c3", "c6"]}


def test_closing_stops_the_reading_ahead_and_waits_for_it() -> None:
    started, stopped = threading.Event(), threading.Event()

    def warm(clip: str, stop: threading.Event) -> None:
        started.set()
        stop.wait()  # a long read, ended only by the stop
        stopped.set()

    with _prefetch([500, 500], lambda c: c, [], warm=warm) as ahead:
        for clip, _take in ahead:
            if clip == "c0":
                started.wait()
                break
    assert stopped.is_set()  # close() set the stop and waited for the reading to end
