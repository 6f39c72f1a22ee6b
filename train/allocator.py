"""glibc's allocator told to keep freed memory for reuse.

PyTorch on CPU allocates each activation afresh. glibc serves blocks above 32 MiB
with mmap and gives them back on free, so every batch through a convolutional encoder
page-faults its activations in again: measured here, embedding 96 training images in
3 views took 26.8 s, 26.7 s of it in the kernel, and 11.5 s once freed memory is kept
(docs/log.md). PyTorch's CPU tuning guide makes the same point for jemalloc/tcmalloc.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD = -1  # mallopt parameters, glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
KEEP_BYTES = 2**31 - 1  # mallopt takes an int: blocks up to 2 GiB come from (and stay in) the heap


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; True when done, False where the C library
    has no mallopt (macOS, musl), which then allocates as it always does."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the C library this process runs on
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))
