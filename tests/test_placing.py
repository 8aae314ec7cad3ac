"""Moving a finished temp file into its place: atomic, and never over another file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from avledger.store import placing
from avledger.store.placing import Placer


def _temp(tmp_path: Path, data: bytes = b"new") -> Path:
    temp = tmp_path / "temp"
    temp.write_bytes(data)
    return temp


def test_a_file_is_renamed_into_place(tmp_path: Path) -> None:
    temp, final = _temp(tmp_path), tmp_path / "final"
    inode = temp.stat().st_ino
    Placer().place(temp, final)
    assert not temp.exists() and final.read_bytes() == b"new"
    assert final.stat().st_ino == inode and final.stat().st_nlink == 1  # a rename, not a copy


def test_a_taken_place_is_never_overwritten(tmp_path: Path) -> None:
    temp, final = _temp(tmp_path), tmp_path / "final"
    final.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        Placer().place(temp, final)
    assert final.read_bytes() == b"old" and temp.read_bytes() == b"new"


def test_a_missing_folder_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Placer().place(_temp(tmp_path), tmp_path / "gone" / "final")


def test_without_rename_it_links_and_asks_only_once(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Path] = []

    def cannot(temp: Path, final: Path) -> bool:
        asked.append(final)
        return False

    monkeypatch.setattr(placing, "rename_noreplace", cannot)
    placer = Placer()
    for name in ("a", "b"):
        temp, final = _temp(tmp_path, name.encode()), tmp_path / name
        placer.place(temp, final)
        assert not temp.exists() and final.read_bytes() == name.encode()
    assert asked == [tmp_path / "a"] and not placer.renames
    taken = _temp(tmp_path, b"c")
    with pytest.raises(FileExistsError):  # link never overwrites either
        placer.place(taken, tmp_path / "a")
    assert (tmp_path / "a").read_bytes() == b"a" and taken.exists()


def test_this_machine_renames_without_overwrite(tmp_path: Path) -> None:
    """The development and CI machines have renameat2: the fallback is not what runs."""
    assert placing.rename_noreplace(_temp(tmp_path), tmp_path / "final")
    assert os.listdir(tmp_path) == ["final"]
