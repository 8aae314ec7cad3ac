"""The group closes after N clips, B bytes or T seconds, whichever comes first."""

from __future__ import annotations

from avledger.core.ingest.batch import Group, Pending
from avledger.store.backend import Staged


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _item(size: int) -> Pending:
    return Pending(clip=None, staged=Staged("0" * 64, size, None), outcome=None, rows=None)


def test_closes_on_count_bytes_or_time() -> None:
    clock = Clock()
    by_count = Group(clips=3, bytes=10**9, seconds=60, clock=clock)
    for _ in range(2):
        by_count.add(_item(1))
    assert not by_count.full()
    by_count.add(_item(1))
    assert by_count.full()

    by_bytes = Group(clips=100, bytes=1000, seconds=60, clock=clock)
    by_bytes.add(_item(600))
    assert not by_bytes.full()
    by_bytes.add(_item(400))
    assert by_bytes.full()

    by_time = Group(clips=100, bytes=10**9, seconds=1.0, clock=clock)
    by_time.add(_item(1))
    clock.now += 0.5
    assert not by_time.full()
    clock.now += 0.5
    assert by_time.full()


def test_take_empties_the_group_and_counts_failures() -> None:
    group = Group(clips=2, clock=Clock())
    assert not group.full()  # an empty group never closes
    group.add(_item(5))
    group.failed()
    items, failed = group.take()
    assert len(items) == 1 and failed == 1
    assert group.take() == ([], 0) and group.staged_bytes == 0
