"""How a group's files are made durable: one syncfs for many paths, fsyncs for a few, and
either way forced by AVLEDGER_SYNC; both leave the files' data on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from avledger.store import durability


@pytest.mark.skipif(durability._SYNCFS is None, reason="this libc has no syncfs")
@pytest.mark.parametrize(("setting", "paths", "expected"), [
    ("auto", 1, "fsync"), ("auto", durability.SYNCFS_FROM - 1, "fsync"),
    ("auto", durability.SYNCFS_FROM, "syncfs"), ("fsync", 5000, "fsync"),
    ("syncfs", 1, "syncfs"),
])
def test_the_way_follows_the_group_size_unless_forced(monkeypatch: pytest.MonkeyPatch,
                                                      setting: str, paths: int,
                                                      expected: str) -> None:
    monkeypatch.setenv("AVLEDGER_SYNC", setting)
    assert durability.method(paths) == expected


@pytest.mark.parametrize("setting", ["fsync", "syncfs"])
def test_both_ways_flush_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    setting: str) -> None:
    monkeypatch.setenv("AVLEDGER_SYNC", setting)
    calls: list[str] = []
    real_fsync, real_syncfs = durability.os.fsync, durability._syncfs
    monkeypatch.setattr(durability.os, "fsync", lambda fd: (calls.append("fsync"),
                                                            real_fsync(fd))[1])
    monkeypatch.setattr(durability, "_syncfs", lambda p: (calls.append("syncfs"),
                                                          real_syncfs(p))[1])
    files = [tmp_path / f"f{i}" for i in range(20)]
    for f in files:
        f.write_bytes(b"x" * 100)
    durability.sync_files(files)
    durability.sync_dirs([tmp_path])
    if durability.method(len(files)) == "fsync":
        assert calls == ["fsync"] * 21  # each file, then the folder
    else:
        assert calls == ["syncfs", "syncfs"]  # the files' filesystem, then the folder's
