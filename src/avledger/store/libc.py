"""Linux calls Python's ``os`` lacks (``syncfs``, ``sync_file_range``), found in libc."""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any


def libc_function(name: str, argtypes: list[Any], restype: Any = ctypes.c_int) -> Any | None:
    """The libc function ``name`` ready to call (errno kept), or None where there is none."""
    library = ctypes.util.find_library("c")
    if not library:
        return None
    try:
        fn = getattr(ctypes.CDLL(library, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = argtypes
    fn.restype = restype
    return fn
