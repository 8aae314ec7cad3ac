"""Moving a finished object from its temp file into its place, never over another.

DESIGN.md (Storage) asks for a rename without overwrite: ``renameat2(RENAME_NOREPLACE)``,
one atomic call that fails with EEXIST when the place is taken. Where the filesystem or the
C library lacks it (FUSE, NFS, old kernels) the same guarantee comes from ``link`` (atomic,
never overwrites) and then ``unlink`` of the temp name: two calls instead of one. Either way
the temp name is gone once the object is in place, and is left when the place was taken.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
from pathlib import Path

from avledger.store.libc import libc_function

AT_FDCWD = -100
RENAME_NOREPLACE = 1
# the call is missing, or this filesystem cannot rename without overwrite
UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}

_RENAMEAT2 = libc_function("renameat2", [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                         ctypes.c_char_p, ctypes.c_uint])


def rename_noreplace(temp: str | Path, final: str | Path) -> bool:
    """Rename ``temp`` to ``final`` unless ``final`` exists (OSError, EEXIST); False, with
    nothing done, where this filesystem or C library cannot."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(AT_FDCWD, os.fsencode(temp), AT_FDCWD, os.fsencode(final),
                  RENAME_NOREPLACE) == 0:
        return True
    err = ctypes.get_errno()
    if err in UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(final))


class Placer:
    """Places temp files; remembers when rename without overwrite proved unavailable, so a
    store on such a filesystem asks only once."""

    def __init__(self) -> None:
        self.renames = True

    def place(self, temp: str | Path, final: str | Path) -> None:
        """Move ``temp`` to ``final``; FileExistsError (``temp`` left) when ``final`` exists,
        FileNotFoundError when a folder on either side is missing."""
        if self.renames:
            if rename_noreplace(temp, final):
                return
            self.renames = False
        os.link(temp, final)
        with contextlib.suppress(OSError):  # placed: a temp name left is swept later
            os.unlink(temp)
