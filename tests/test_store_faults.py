"""Fault injection on the store's write path: every failure is one clear error, nothing visible.

Each fault is injected by replacing one system call; afterwards the store must hold no object
for the content, no temp file, and a plain retry must succeed.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import blake3
import pytest

from avledger.errors import DeviceError, StorageError
from avledger.store import placing
from avledger.store.local import LocalObjectStore, SourceReadError
from tests.storetools import object_files

DATA = os.urandom(10 * 1024 * 1024 + 3)  # several write chunks
DIGEST = blake3.blake3(DATA).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    s = LocalObjectStore(tmp_path / "store")
    s.create()
    return s


def _fails_after(calls: int, err: int, real):  # type: ignore[no-untyped-def]
    """A replacement for ``real`` that works ``calls`` times, then raises OSError(err)."""
    count = {"n": 0}

    def fake(*args, **kwargs):  # type: ignore[no-untyped-def]
        count["n"] += 1
        if count["n"] > calls:
            raise OSError(err, os.strerror(err))
        return real(*args, **kwargs)

    return fake


def _nothing_left(store: LocalObjectStore) -> None:
    assert store.temp_files() == [], "temp file left behind"
    assert object_files(store.root) == [], "an object became visible"
    assert not store.exists(DIGEST)


def _retry_works(store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    res = store.put_bytes(DATA)
    assert res.digest == DIGEST and res.created
    assert store.verify(DIGEST, len(DATA)).status == "ok"


@pytest.mark.parametrize(("call", "works", "err", "message"), [
    ("write", 1, errno.ENOSPC, "store disk is full while writing an object"),
    ("write", 0, errno.EIO, "store I/O error while writing an object"),
    ("fsync", 0, errno.EIO, "store I/O error while flushing an object to disk"),
    ("fsync", 0, errno.ENOSPC, "store disk is full while flushing an object"),
    ("rename_noreplace", 0, errno.EIO, "store I/O error while publishing an object"),
    ("rename_noreplace", 0, errno.ENOSPC, "store disk is full while publishing an object"),
    ("link", 0, errno.EIO, "store I/O error while publishing an object"),
    ("link", 0, errno.ENOSPC, "store disk is full while publishing an object"),
])
def test_write_path_fault(store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch, call: str,
                          works: int, err: int, message: str) -> None:
    """``link``: a filesystem that cannot rename without overwrite (FUSE, NFS), where the
    object is linked into place and its temp name then removed."""
    if call == "rename_noreplace":
        monkeypatch.setattr(placing, call, _fails_after(works, err, placing.rename_noreplace))
    else:
        monkeypatch.setattr(placing, "rename_noreplace", lambda temp, final: False)
        monkeypatch.setattr(os, call, _fails_after(works, err, getattr(os, call)))
    with pytest.raises(StorageError) as info:
        store.put_bytes(DATA)
    line = info.value.one_line()
    assert line.startswith(message) and "\n" not in line
    assert info.value.exit_code == 7
    _nothing_left(store)
    _retry_works(store, monkeypatch)


def test_a_temp_name_left_by_a_failed_unlink_is_swept(store: LocalObjectStore,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Linked into place, its temp name not removed: the object is published all the same,
    and the name left (a second name of the same read-only file) goes with the sweep."""
    monkeypatch.setattr(placing, "rename_noreplace", lambda temp, final: False)
    monkeypatch.setattr(os, "unlink", _fails_after(0, errno.EIO, os.unlink))
    res = store.put_bytes(DATA)
    monkeypatch.undo()
    assert res.created and store.verify(DIGEST, len(DATA)).status == "ok"
    assert len(store.temp_files()) == 1
    assert store.sweep_temp(older_than=-60) == 1  # any age
    assert store.temp_files() == [] and store.verify(DIGEST, len(DATA)).status == "ok"


def test_the_same_content_twice_is_one_object_and_no_temp_left(
        store: LocalObjectStore) -> None:
    """Renamed without overwrite: the second copy finds the place taken and only its temp
    file goes."""
    first, second = store.put_bytes(DATA), store.put_bytes(DATA)
    assert first.created and not second.created
    assert store.temp_files() == [] and object_files(store.root) == [store.path_for(DIGEST)]


def test_temp_file_cannot_be_created(store: LocalObjectStore,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "open", _fails_after(0, errno.ENOSPC, os.open))
    with pytest.raises(StorageError, match="store disk is full while creating a temporary file"):
        store.put_bytes(DATA)
    monkeypatch.undo()
    _nothing_left(store)


class FailingSource(io.RawIOBase):
    """A recorder that stops answering after ``good`` bytes (a cable pulled mid-copy)."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def, override]
        if self.left <= 0:
            raise OSError(errno.EIO, "Input/output error")
        n = min(len(buf), self.left)
        buf[:n] = DATA[:n]
        self.left -= n
        return n


def test_source_read_error_is_a_device_error(store: LocalObjectStore) -> None:
    with pytest.raises(SourceReadError) as info:
        store.put_stream(FailingSource(5 * 1024 * 1024), expected_size=len(DATA))
    assert isinstance(info.value, DeviceError) and info.value.exit_code == 8
    assert "cannot read source after 5242880 bytes" in info.value.one_line()
    _nothing_left(store)


def test_interrupt_mid_write_leaves_nothing(store: LocalObjectStore,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (KeyboardInterrupt) while writing: the temp file goes, nothing is published."""
    calls = {"n": 0}
    real_write = os.write

    def interrupted(fd, data):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.put_bytes(DATA)
    _nothing_left(store)
    _retry_works(store, monkeypatch)


def test_existing_object_with_wrong_size_is_not_overwritten(
        store: LocalObjectStore) -> None:
    """Publishing never overwrites: a damaged object under the same name is reported."""
    from avledger.errors import IntegrityError
    from tests.storetools import truncate

    store.put_bytes(DATA)
    truncate(store.path_for(DIGEST), 100)
    with pytest.raises(IntegrityError, match="exists with size 100"):
        store.put_bytes(DATA)
    assert store.path_for(DIGEST).stat().st_size == 100  # left for verify to quarantine
    assert store.temp_files() == []
