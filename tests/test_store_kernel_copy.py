"""The store's copy of a big source: ``sendfile`` into the temp file, each range hashed from
the temp file's pages; the name is the hash of the bytes held, the source is read once, and
every way the copy can end (short, grown, unreadable, no sendfile) ends as before."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import Any

import blake3
import pytest

from avledger.store import local
from avledger.store.local import LocalObjectStore, SourceReadError

SIZE = 9 * 1024 * 1024 + 7  # more than one chunk, not a whole number of pages


def _store(tmp_path: Path) -> LocalObjectStore:
    store = LocalObjectStore(tmp_path / "s")
    store.create()
    return store


def _source(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    return path


def _counting_sendfile(monkeypatch: pytest.MonkeyPatch, limit: int | None = None,
                       fail_after: int | None = None) -> list[int]:
    """os.sendfile, counted; ``limit`` makes each call copy at most that many bytes (so the
    ranges start off page boundaries), ``fail_after`` makes the call after that many fail
    with EIO."""
    real = os.sendfile
    calls: list[int] = []

    def sendfile(out_fd: int, in_fd: int, offset: Any, count: int) -> int:
        if fail_after is not None and len(calls) >= fail_after:
            raise OSError(errno.EIO, "Input/output error")
        n = real(out_fd, in_fd, offset, min(count, limit or count))
        calls.append(n)
        return n

    monkeypatch.setattr(local.os, "sendfile", sendfile)
    return calls


def test_big_source_is_copied_by_the_kernel_and_named_by_its_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path)
    data = os.urandom(SIZE)
    calls = _counting_sendfile(monkeypatch, limit=3 * 1024 * 1024 + 5)
    seen: list[int] = []
    put = store.put_file(_source(tmp_path, data), progress=seen.append)
    assert put.digest == blake3.blake3(data).hexdigest() and put.size == SIZE and put.created
    assert sum(calls) == SIZE and len(calls) > 3  # ranges off page boundaries were hashed
    assert sum(seen) == SIZE
    assert store.path_for(put.digest).read_bytes() == data
    assert store.temp_files() == []
    assert store.verify(put.digest, SIZE).status == "ok"


def test_a_source_without_sendfile_is_copied_through_buffers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path)
    data = os.urandom(SIZE)

    def no_sendfile(*_: object) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(local.os, "sendfile", no_sendfile)
    put = store.put_file(_source(tmp_path, data))
    assert put.digest == blake3.blake3(data).hexdigest()
    assert store.path_for(put.digest).read_bytes() == data


def test_a_pipe_is_copied_through_buffers(tmp_path: Path) -> None:
    store = _store(tmp_path)
    data = os.urandom(2 * 1024 * 1024)
    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as w:
            w.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    with os.fdopen(read_end, "rb", buffering=0) as source:
        put = store.put_stream(source, expected_size=len(data))
    writer.join()
    assert put.digest == blake3.blake3(data).hexdigest()


@pytest.mark.parametrize(("actual", "message"), [(SIZE - 100, "ended early"),
                                                 (SIZE + 100, "grew while being read")])
def test_a_source_of_another_size_is_refused(tmp_path: Path, actual: int,
                                             message: str) -> None:
    store = _store(tmp_path)
    source = _source(tmp_path, os.urandom(actual))
    with open(source, "rb", buffering=0) as fh, pytest.raises(SourceReadError, match=message):
        store.put_stream(fh, expected_size=SIZE)
    assert store.temp_files() == []
    assert list(store.iterate()) == []


def test_a_read_error_mid_copy_leaves_nothing(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path)
    _counting_sendfile(monkeypatch, fail_after=1)
    with pytest.raises(SourceReadError, match="cannot read source after 8388608 bytes"):
        store.put_file(_source(tmp_path, os.urandom(SIZE)))
    assert store.temp_files() == []
    assert list(store.iterate()) == []


def test_shard_folders_are_made_while_staging_and_made_again_if_gone(tmp_path: Path) -> None:
    store = _store(tmp_path)
    data = os.urandom(SIZE)
    with open(_source(tmp_path, data), "rb", buffering=0) as fh:
        staged = store.stage_stream(fh, expected_size=SIZE)
    final = store.path_for(staged.digest)
    assert final.parent.is_dir() and not final.exists()  # ready, not visible
    final.parent.rmdir()
    final.parent.parent.rmdir()
    [put] = store.publish([staged])
    assert put.created and final.read_bytes() == data
    assert store.temp_files() == []


def test_shard_folders_known_to_exist_are_made_again_when_gone_by_the_link(
        tmp_path: Path) -> None:
    """The store remembers shard folders it has made or found; one removed since (a purge
    of its last object) is made again when the link finds it gone."""
    store = _store(tmp_path)
    data = os.urandom(SIZE)
    with open(_source(tmp_path, data), "rb", buffering=0) as fh:
        [first] = store.publish([store.stage_stream(fh, expected_size=SIZE)])
    final = store.path_for(first.digest)
    final.unlink()
    final.parent.rmdir()
    final.parent.parent.rmdir()
    with open(_source(tmp_path, data), "rb", buffering=0) as fh:
        staged = store.stage_stream(fh, expected_size=SIZE)  # folders remembered: not made
    assert not final.parent.exists()
    [put] = store.publish([staged])
    assert put.created and final.read_bytes() == data
    assert store.temp_files() == []


def test_a_shard_folder_made_by_a_discarded_staging_is_flushed_with_the_first_link(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Folders made while staging a clip that is then discarded (or staged ahead on another
    thread, in a later group) must still reach the disk before an object beneath them is
    committed: the first publish under them flushes their parents."""
    store = _store(tmp_path)
    data = os.urandom(SIZE)
    with open(_source(tmp_path, data), "rb", buffering=0) as fh:
        made_them = store.stage_stream(fh, expected_size=SIZE)
    store.discard([made_them])
    with open(_source(tmp_path, data), "rb", buffering=0) as fh:
        later = store.stage_stream(fh, expected_size=SIZE)  # the folders exist: none made
    flushed: list[Path] = []
    real = local.sync_dirs
    monkeypatch.setattr(local, "sync_dirs",
                        lambda dirs: (flushed.extend(map(Path, dirs)), real(dirs)))
    [put] = store.publish([later])
    shard2 = store.path_for(put.digest).parent
    assert {shard2, shard2.parent, shard2.parent.parent} <= set(flushed)
    flushed.clear()
    with open(_source(tmp_path, data), "rb", buffering=0) as fh:
        store.publish([store.stage_stream(fh, expected_size=SIZE)])
    assert shard2.parent not in flushed  # flushed once is enough


def test_a_small_staged_object_carries_its_bytes_and_a_big_one_does_not(tmp_path: Path) -> None:
    """What parses a small clip after staging it (its duration) reads the bytes copied, not
    the temp file again; a big clip's bytes are never held in memory."""
    store = _store(tmp_path)
    small, big = os.urandom(50_000), os.urandom(SIZE)
    with open(_source(tmp_path, small), "rb", buffering=0) as fh:
        staged_small = store.stage_stream(fh, expected_size=len(small))
    with open(_source(tmp_path, big), "rb", buffering=0) as fh:
        staged_big = store.stage_stream(fh, expected_size=SIZE)
    assert staged_small.content == small
    assert staged_small.digest == blake3.blake3(small).hexdigest()
    assert staged_big.content is None
    assert staged_small.without_content().content is None
    puts = store.publish([staged_small.without_content(), staged_big])
    assert [p.digest for p in puts] == [staged_small.digest, staged_big.digest]
    assert store.path_for(staged_small.digest).read_bytes() == small
