"""Reading a recorder ahead while ``avledger ingest`` starts (core/dock/readahead.py).

The folder is written by whoever had the recorder: the reading ahead must never follow a
link, wait on a FIFO or open a device node, must stay inside its bounds, and must be over
(no file left open) when the command returns. Inotify shows what was opened.
"""

from __future__ import annotations

import ctypes
import os
import select
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from avledger.cli import ingest_early
from avledger.cli.main import app
from avledger.core.dock import readahead
from tests.recorder_tools import make_recorder

IN_OPEN = 0x20
IN_NONBLOCK = os.O_NONBLOCK


@contextmanager
def opens_watched(*paths: Path) -> Iterator[list[str]]:
    """Collect the names of ``paths`` opened by anyone while the block runs (inotify)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(IN_NONBLOCK)
    assert fd >= 0, os.strerror(ctypes.get_errno())
    names: dict[int, str] = {}
    for path in paths:
        wd = libc.inotify_add_watch(fd, os.fsencode(path), IN_OPEN)
        assert wd >= 0, (path, os.strerror(ctypes.get_errno()))
        names[wd] = path.name
    seen: list[str] = []
    try:
        yield seen
    finally:
        while select.select([fd], [], [], 0)[0]:
            data = os.read(fd, 65536)
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                if mask & IN_OPEN:
                    seen.append(names[wd])
                offset += 16 + length
        os.close(fd)


def hostile_folder(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A recorder folder with a clip, a link to a file outside, a FIFO and a linked folder."""
    root = tmp_path / "rec"
    clips = root / "DCIM" / "100BWR01"
    clips.mkdir(parents=True)
    (clips / "A0001.MP4").write_bytes(b"x" * 300_000)
    (clips / "A0002.MP4").write_bytes(b"y" * 200_000)
    secret = tmp_path / "outside" / "secret.key"
    secret.parent.mkdir()
    secret.write_bytes(b"not for the recorder")
    (clips / "A0003.MP4").symlink_to(secret)
    fifo = clips / "A0004.MP4"
    os.mkfifo(fifo)
    (root / "DCIM" / "LINKED").symlink_to(secret.parent, target_is_directory=True)
    return root, secret, fifo


def test_only_regular_files_are_read_and_links_fifos_never_opened(tmp_path: Path) -> None:
    root, secret, fifo = hostile_folder(tmp_path)
    files = list(readahead.regular_files(root))
    assert [p.name for p in files] == ["A0001.MP4", "A0002.MP4"]

    with opens_watched(secret, fifo) as opened:
        ahead = readahead.ReadAhead(root, budget=1 << 30, min_size=0).start()
        ahead.wait()  # a FIFO opened without O_NONBLOCK would hang here
    assert opened == []
    assert ahead.read == 500_000

    with opens_watched(secret) as control:  # the watch does see an open
        secret.read_bytes()
    assert control == ["secret.key"]


def test_a_file_swapped_for_a_link_or_fifo_after_the_walk_is_not_read(tmp_path: Path) -> None:
    root, secret, fifo = hostile_folder(tmp_path)
    stop = readahead.threading.Event()
    with opens_watched(secret, fifo) as opened:
        # what the walk saw as files, replaced before they are opened
        assert readahead.read_into_cache(root / "DCIM" / "100BWR01" / "A0003.MP4",
                                         1 << 20, stop) == 0
        assert readahead.read_into_cache(fifo, 1 << 20, stop) == 0
    assert opened == ["A0004.MP4"]  # the FIFO opened without waiting, seen, not read


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_node_is_never_opened(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    root.mkdir()
    node = root / "A0001.MP4"
    os.mknod(node, 0o600 | 0o020000, os.makedev(1, 5))  # a character device (/dev/zero)
    with opens_watched(node) as opened:
        ahead = readahead.ReadAhead(root, budget=1 << 30, min_size=0).start()
        ahead.wait()
    assert opened == [] and ahead.read == 0


def test_the_walk_and_the_reading_are_bounded(tmp_path: Path) -> None:
    deep = tmp_path / "rec"
    folder = deep
    for level in range(10):
        folder = folder / f"d{level}"
        folder.mkdir(parents=True)
        (folder / "clip.MP4").write_bytes(b"z" * 1000)
    # depth 3 is the folder itself and two below it (as DCIM/100BWR01/ on a recorder)
    assert len(list(readahead.regular_files(deep, max_depth=3))) == 2
    assert len(list(readahead.regular_files(deep, max_files=4))) == 4
    ahead = readahead.ReadAhead(deep, budget=2500, min_size=0).start()
    ahead.wait()
    assert ahead.read == 2500
    assert readahead.budget_for(1 << 50) <= (readahead.memory_available() or 1 << 50) // 4


def test_small_files_are_left_to_the_session_and_never_opened(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    clips = root / "DCIM" / "100BWR01"
    clips.mkdir(parents=True)
    big = clips / "A0001.MP4"
    big.write_bytes(b"v" * readahead.MIN_SIZE)
    small = [clips / f"P000{i}.JPG" for i in range(3)]
    for photo in small:
        photo.write_bytes(b"p" * 50_000)
    assert [p.name for p in readahead.regular_files(root, min_size=readahead.MIN_SIZE)] == [
        "A0001.MP4"]
    with opens_watched(big, *small) as opened:
        ahead = readahead.ReadAhead(root, budget=1 << 30).start()
        ahead.wait()
    assert opened == ["A0001.MP4"]  # the photos are copied ahead by the session itself
    assert ahead.read == readahead.MIN_SIZE


@pytest.mark.parametrize(("words", "folder"), [
    (["/media/BWR"], "/media/BWR"),
    (["--profile", "generic", "./rec", "--json"], "./rec"),
    (["-p", "fieldcam-json", "--docked-at", "2026-11-27 16:05:00", "rec"], "rec"),
    (["--device", "/dev/sdb1", "--unattended"], None),
    (["--verify", "--", "-odd-name"], "-odd-name"),
    ([], None),
])
def test_the_folder_is_found_among_the_words_as_typed(words: list[str],
                                                      folder: str | None) -> None:
    found = ingest_early.folder_argument(words)
    assert found == (Path(folder) if folder else None)


def test_the_options_that_take_a_value_are_those_of_the_command() -> None:
    import typer.main

    group = typer.main.get_command(app)
    command = group.get_command(None, "ingest")  # type: ignore[attr-defined]
    valued = {name for param in command.params if not getattr(param, "is_flag", False)
              and param.param_type_name == "option" for name in param.opts}
    assert valued == ingest_early.VALUED_OPTIONS


def test_the_command_reads_ahead_and_is_done_reading_when_it_returns(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = tmp_path / "BWR-SIM"
    make_recorder(rec, clips=3, size=200_000)
    started: list[Path] = []
    real_start = readahead.ReadAhead.start

    def spied(self: readahead.ReadAhead) -> readahead.ReadAhead:
        started.append(self.root)
        return real_start(self)

    monkeypatch.setattr(readahead.ReadAhead, "start", spied)
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(rec), "--json"])
    assert result.exit_code == 0, result.output
    assert started == [rec]
    assert readahead._current is None  # stopped and joined: nothing left open on the volume
    assert not any(t.name == "avledger-read-ahead" and t.is_alive()
                   for t in readahead.threading.enumerate())

    result = runner.invoke(app, ["ingest", str(rec), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert started == [rec]  # a dry run copies nothing: nothing read ahead


@pytest.mark.skipif(os.uname().machine not in readahead.SYS_IOPRIO_SET, reason="no ioprio_set")
def test_the_reading_thread_gives_way_to_the_program_s_own_reads() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    ioprio_get = readahead.SYS_IOPRIO_SET[os.uname().machine] + 1  # 252 / 31
    classes: list[int] = []

    def lowered() -> None:
        assert readahead.lower_io_priority()
        classes.append(libc.syscall(ioprio_get, readahead.IOPRIO_WHO_PROCESS, 0)
                       >> readahead.IOPRIO_CLASS_SHIFT)

    thread = readahead.threading.Thread(target=lowered)
    thread.start()
    thread.join()
    assert classes == [readahead.IOPRIO_CLASS_IDLE]
    # the thread that calls it, not the process: this one keeps its class
    assert (libc.syscall(ioprio_get, readahead.IOPRIO_WHO_PROCESS, 0)
            >> readahead.IOPRIO_CLASS_SHIFT) != readahead.IOPRIO_CLASS_IDLE


def test_nothing_is_read_ahead_on_fuse(tmp_path: Path) -> None:
    """FUSE drops a file's pages when it is opened again: reading ahead there would make every
    byte cross the FUSE daemon twice, so a FUSE folder is left to the copy alone."""
    from tests.conftest import require_root_tools
    from tests.loopfuse import fusefat, loop_device

    require_root_tools("losetup", "fusefat", "mkfs.vfat", "mcopy", "fusermount")
    image = tmp_path / "bwr.img"
    make_recorder(tmp_path / "tree", clips=2, size=1 << 20, serial="FUSE01", image=image)
    mnt = tmp_path / "mnt"
    assert not readahead.on_fuse(tmp_path)
    with loop_device(image) as dev, fusefat(dev, mnt):
        assert readahead.on_fuse(mnt)
        assert readahead.start(mnt) is None
        assert readahead._current is None


def test_an_ingest_reads_the_next_big_clip_ahead_through_the_volume_root(
        app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a big clip is copied the next one is read ahead — through the same safe open as
    its copy: a clip swapped for a link after the survey is not followed (the copy then
    refuses it), and the others go in as they would without reading ahead."""
    from avledger.core.ingest import session as ingest_session

    rec = tmp_path / "rec"
    make_recorder(rec, clips=4, size=3 << 20)
    clips = sorted(p for p in (rec / "DCIM").rglob("*.MP4"))
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"s" * (3 << 20))
    warmed: list[tuple[str, int]] = []
    real = readahead.warm_open_file

    def spied(fd: int, limit: int, stop: readahead.threading.Event) -> int:
        done = real(fd, limit, stop)
        warmed.append((os.readlink(f"/proc/self/fd/{fd}"), done))
        return done

    monkeypatch.setattr(readahead, "warm_open_file", spied)
    real_survey = ingest_session.IngestSession._ingest

    def swap_then_ingest(self: Any, *args: Any) -> None:  # after the survey, before the copy
        clips[2].unlink()
        clips[2].symlink_to(secret)
        return real_survey(self, *args)

    monkeypatch.setattr(ingest_session.IngestSession, "_ingest", swap_then_ingest)
    with opens_watched(secret) as opened:
        report = ingest_session.ingest(app, rec)
    assert opened == []  # neither the reading ahead nor the copy opened the link's target
    assert [Path(path).name for path, _ in warmed] == [clips[1].name, clips[3].name]
    assert all(done == 3 << 20 for _, done in warmed)
    totals = report.totals()
    assert totals["new"] == 3 and totals["failed"] == 1, report.as_dict()
