"""A recorder volume or drop folder read as hostile ground.

A recorder (or whatever wrote a drop folder) decides what its volume holds: a symbolic link
named like a clip, a folder that links elsewhere, a FIFO named like the clock file, a device
node. Every file is therefore reached from one directory descriptor of the volume root, one
path component at a time with ``O_NOFOLLOW`` (a folder swapped for a link mid-way cannot
redirect the read; a folder once reached stays open for the files in it), opened
``O_NONBLOCK`` (a FIFO cannot hang the dock) and accepted only when ``fstat`` says it is a
regular file on the volume's own device. Anything else is refused with
a short reason; names are shown in one stable escaped form (bytes that are not UTF-8 and
control characters as ``\\xNN``), because a name is also something the recorder chose.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from avledger.errors import DeviceError
from avledger.i18n import N_, _

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
MAX_DEPTH = 16  # recorders keep clips two or three folders deep
EXCERPT_CHARS = 40


def shown(raw: str) -> str:
    """The stable, printable form of a name (or text) read from a recorder.

    ``raw`` is what the OS gives (undecodable bytes as surrogates); the result is valid UTF-8,
    the same every time for the same bytes, with control characters and non-UTF-8 bytes as
    ``\\xNN``."""
    text = os.fsencode(raw).decode("utf-8", errors="backslashreplace")
    if text.isprintable():  # nearly every name: nothing to escape
        return text
    return "".join(c if c.isprintable() or c == " " else _escape(c) for c in text)


def _escape(c: str) -> str:
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def excerpt(data: bytes | str, limit: int = EXCERPT_CHARS) -> str:
    """At most ``limit`` characters of recorder-supplied text, escaped, for a message."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = text.strip()
    cut = shown(text[:limit])
    return cut + ("…" if len(text) > limit else "")


def refusal(st: os.stat_result, dev: int) -> str | None:
    """Why a file with this (lstat) status is not read as the recorder's own; None: it is."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return N_("a symbolic link")
    if stat.S_ISFIFO(mode):
        return N_("a FIFO (named pipe)")
    if stat.S_ISSOCK(mode):
        return N_("a socket")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return N_("a device node")
    if stat.S_ISDIR(mode):
        return N_("a folder")
    if not stat.S_ISREG(mode):
        return N_("not a regular file")
    if st.st_dev != dev:
        return N_("on another file system")
    return None


class RefusedFile(DeviceError):
    """A file on the volume that is not a regular file of the volume itself; never read."""

    def __init__(self, rel: str, reason: str) -> None:
        """``reason`` is an English phrase marked with N_ (it is also kept in listings)."""
        super().__init__(_("{rel} is {reason}: not read").format(rel=rel, reason=_(reason)))
        self.rel = rel
        self.reason = reason


@dataclass(frozen=True)
class Entry:
    """Something found on the volume: ``raw`` opens it, ``rel`` shows it."""

    raw: str  # relative path as the OS gives it, '/'-separated
    rel: str  # shown(raw)
    st: os.stat_result | None  # lstat; None when it could not be examined
    refused: str | None  # why it is not read, or None for a regular file of the volume


class VolumeRoot:
    """One directory descriptor of a volume root; every read and write goes through it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.fd = os.open(self.path, DIR_FLAGS)
        except OSError as exc:
            message = _("the recorder folder {path} is a symbolic link") \
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) \
                else _("the recorder folder {path} cannot be opened: {error}")
            raise DeviceError(message.format(path=self.path, error=exc.strerror or exc)) from exc
        self.dev = os.fstat(self.fd).st_dev
        # folders reached once, kept open: thousands of clips in one folder are each opened
        # from its descriptor, not by walking from the root again (the folder first reached
        # stays the one read from, even if a link later takes its name)
        self._folders: dict[tuple[str, ...], int] = {}
        self._folders_lock = threading.Lock()

    def close(self) -> None:
        with self._folders_lock:
            folders, self._folders = list(self._folders.values()), {}
        for fd in folders:
            with suppress(OSError):
                os.close(fd)
        if self.fd >= 0:
            with suppress(OSError):  # a vanished FUSE volume fails even close()
                os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> VolumeRoot:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- reaching a file ----------------------------------------------------------------------
    def _parent(self, raw: str) -> tuple[int, str]:
        """A descriptor of ``raw``'s folder (kept open by the volume root: the caller does not
        close it) and the last name."""
        parts = [p for p in raw.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            raise RefusedFile(shown(raw), N_("not a path inside the volume"))
        folder = tuple(parts[:-1])
        if not folder:
            return self.fd, parts[-1]
        with self._folders_lock:
            known = self._folders.get(folder)
        if known is not None:
            return known, parts[-1]
        fd = self._reach(raw, parts)
        with self._folders_lock:
            known = self._folders.setdefault(folder, fd)
        if known != fd:  # another thread reached it first
            os.close(fd)
        return known, parts[-1]

    def _reach(self, raw: str, parts: list[str]) -> int:
        """A new descriptor of ``raw``'s folder, reached from the root one name at a time."""
        fd = os.dup(self.fd)
        try:
            for i, part in enumerate(parts[:-1]):
                try:
                    sub = os.open(part, DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise RefusedFile(shown(raw), N_("behind a folder that is a symbolic link "
                                             "or not a folder")) from exc
                    raise
                os.close(fd)
                fd = sub
                if os.fstat(fd).st_dev != self.dev:
                    raise RefusedFile(shown("/".join(parts[:i + 1])),
                                      N_("a folder on another file system"))
        except BaseException:
            os.close(fd)
            raise
        return fd

    def open_fd(self, raw: str) -> int:
        """A read descriptor of the regular file ``raw``; RefusedFile for anything else.

        The file is examined before it is opened (a device node is never opened) and again
        after (what was opened is what was examined)."""
        parent, name = self._parent(raw)
        before = os.stat(name, dir_fd=parent, follow_symlinks=False)
        why = refusal(before, self.dev)
        if why:
            raise RefusedFile(shown(raw), why)
        try:
            fd = os.open(name, READ_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise RefusedFile(shown(raw), N_("a symbolic link")) from exc
            raise
        after = os.fstat(fd)
        why = refusal(after, self.dev) or (
            None if (after.st_ino, after.st_dev) == (before.st_ino, before.st_dev)
            else N_("replaced while being opened"))
        if why:
            os.close(fd)
            raise RefusedFile(shown(raw), why)
        return fd

    def open(self, raw: str) -> BinaryIO:
        """``open_fd`` as an unbuffered binary file (read, hash and copy from one descriptor)."""
        return os.fdopen(self.open_fd(raw), "rb", buffering=0)

    def read_small(self, raw: str, limit: int) -> bytes:
        with self.open(raw) as fh:
            return fh.read(limit) or b""

    def is_regular(self, raw: str) -> bool:
        """Is ``raw`` a regular file of the volume (no link followed)?"""
        try:
            parent, name = self._parent(raw)
        except (OSError, RefusedFile):
            return False
        try:
            return refusal(os.stat(name, dir_fd=parent, follow_symlinks=False), self.dev) is None
        except OSError:
            return False

    def write(self, raw: str, data: bytes) -> None:
        """Create or replace the regular file ``raw`` with ``data``, synced to the medium.

        Only a regular file of the volume is ever written: a link, FIFO or device node in its
        place is refused before anything is truncated."""
        parent, name = self._parent(raw)
        with suppress(FileNotFoundError):
            why = refusal(os.stat(name, dir_fd=parent, follow_symlinks=False), self.dev)
            if why:
                raise RefusedFile(shown(raw), why)
        try:
            fd = os.open(name, WRITE_FLAGS, 0o644, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENXIO):
                raise RefusedFile(shown(raw), N_("not a regular file")) from exc
            raise
        try:
            why = refusal(os.fstat(fd), self.dev)
            if why:
                raise RefusedFile(shown(raw), why)
            os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- listing -----------------------------------------------------------------------------
    def walk(self) -> Iterator[Entry]:
        """Every file below the root, and every folder that is not walked into (a link, another
        file system, too deep), without following any link."""
        yield from self._walk(os.dup(self.fd), "", 0)

    def _walk(self, fd: int, prefix: str, depth: int) -> Iterator[Entry]:
        try:
            try:
                with os.scandir(fd) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                if not prefix:
                    raise
                folder = prefix.rstrip("/")
                yield Entry(folder, shown(folder), None,
                            f"a folder that cannot be listed: {exc.strerror or exc}")
                return
            for e in entries:
                raw = prefix + e.name
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError as exc:
                    yield Entry(raw, shown(raw), None,
                                f"cannot be examined: {exc.strerror or exc}")
                    continue
                if not stat.S_ISDIR(st.st_mode):
                    yield Entry(raw, shown(raw), st, refusal(st, self.dev))
                elif st.st_dev != self.dev:
                    yield Entry(raw, shown(raw), st, N_("a folder on another file system"))
                elif depth >= MAX_DEPTH:
                    yield Entry(raw, shown(raw), st, f"a folder nested deeper than {MAX_DEPTH}")
                else:
                    try:
                        sub = os.open(e.name, DIR_FLAGS, dir_fd=fd)
                    except OSError as exc:
                        yield Entry(raw, shown(raw), st,
                                    f"a folder that cannot be opened: {exc.strerror or exc}")
                        continue
                    yield from self._walk(sub, raw + "/", depth + 1)
        finally:
            os.close(fd)


@contextmanager
def reached(root: VolumeRoot | Path) -> Iterator[VolumeRoot]:
    """``root`` itself when already open, else the folder opened for this one step."""
    if isinstance(root, VolumeRoot):
        yield root
        return
    with VolumeRoot(root) as opened:
        yield opened
