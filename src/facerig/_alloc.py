"""Keep freed memory in the process between the network's layers (glibc only).

The RigAnyFace runtime allocates and frees arrays of tens of MB per layer. glibc serves each
from fresh ``mmap`` pages (above its mmap threshold) and hands them back when freed, so every
layer pays the kernel to map and zero its memory again (its cost: BENCHMARKS.md, "Rig speed").
Raising the mmap threshold to its maximum and the trim threshold lets later layers reuse the
memory earlier ones freed.
A no-op where the C library is not glibc, or with ``FACERIG_KEEP_FREED_MEMORY=0`` in the
environment (for a host process that wants glibc's defaults; also how BENCHMARKS.md measures
the difference).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_done = False


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 512 << 20,
                      top_pad: int = 64 << 20) -> bool:
    """Tune glibc's allocator for this process (once); returns whether it was applied.

    ``mmap_threshold`` (bytes; glibc caps it at 32 MB on 64-bit): blocks below it come from the
    heap; ``trim_threshold``: free heap memory kept before it is returned to the system;
    ``top_pad``: extra heap requested per growth."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("FACERIG_KEEP_FREED_MEMORY") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = all(mallopt(k, v) == 1 for k, v in ((_M_MMAP_THRESHOLD, mmap_threshold),
                                                 (_M_TRIM_THRESHOLD, trim_threshold), (_M_TOP_PAD, top_pad)))
    _done = ok
    return ok
