"""Helpers for store tests: catalogued objects, and damage done the way a disk or a person would."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import blake3

from avledger.core.app import Avledger
from avledger.core.custody.integrity import register_object


def store_objects(app: Avledger, contents: list[bytes]) -> list[str]:
    """Put each content into the store and catalogue it, as ingest would."""
    digests = []
    for data in contents:
        res = app.store.put_bytes(data)
        with app.transaction() as conn:
            register_object(app, conn, res.digest, res.size)
        digests.append(res.digest)
    return digests


def _writable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IWUSR)


def flip_bit(path: Path, offset: int = 0, bit: int = 0) -> None:
    mode = path.stat().st_mode
    _writable(path)
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)[0]
        fh.seek(offset)
        fh.write(bytes([byte ^ (1 << bit)]))
    path.chmod(mode)


def truncate(path: Path, size: int) -> None:
    mode = path.stat().st_mode
    _writable(path)
    os.truncate(path, size)
    path.chmod(mode)


def age(path: Path, seconds: float) -> None:
    """Make a file look ``seconds`` old (orphans younger than a grace period are not reported)."""
    st = path.stat()
    os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds))


def object_files(store_root: Path) -> list[Path]:
    """Every regular file under objects/ (whatever its name)."""
    return sorted(p for p in (store_root / "objects").rglob("*") if p.is_file())


def assert_only_complete_objects(store_root: Path) -> list[Path]:
    """objects/ may hold only files whose content hashes to their name, at the right place."""
    files = object_files(store_root)
    for path in files:
        name = path.name
        assert path.parent.name == name[2:4] and path.parent.parent.name == name[:2], path
        h = blake3.blake3()
        if path.stat().st_size:
            h.update_mmap(str(path))
        assert h.hexdigest() == name, f"partial or wrong object visible: {path}"
    return files
