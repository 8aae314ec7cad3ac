"""Linux calls Python's ``os`` lacks (``syncfs``, ``sync_file_range``, ``adjtimex``), found in
the C library the interpreter already has loaded.

``ctypes.CDLL(None)`` looks symbols up in the running process; ``ctypes.util.find_library``
would run ``ldconfig -p`` (a program started per lookup, three per ingest before this).
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any


@functools.cache
def _process() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def libc_function(name: str, argtypes: list[Any], restype: Any = ctypes.c_int) -> Any | None:
    """The libc function ``name`` ready to call (errno kept), or None where there is none."""
    try:
        fn = getattr(_process(), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = argtypes
    fn.restype = restype
    return fn
