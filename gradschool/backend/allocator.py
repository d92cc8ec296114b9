"""Keeping freed array memory for the next training step (glibc's ``malloc`` on Linux).

A training step allocates the same large arrays every time: activations, their gradients,
the parameter gradients (``zero_grad`` sets them to ``None``, as PyTorch 2 does), the
convolutions' column blocks. By default glibc gives a freed block above its *mmap
threshold* back to the kernel, and trims the top of its heap once more than the *trim
threshold* is free there; either way the next step's array of the same size comes back as
fresh pages, and the kernel zero-fills every 4 KiB page on first touch. On this project's
machine that costs about 0.9 ms per 1.6 MB array — a third of the MLP's step went on it.

PyTorch's CPU-performance guide answers the same cost by swapping the allocator (jemalloc,
tcmalloc). gradschool, which cannot preload a library into its own process, sets the two
thresholds instead (``mallopt``): blocks up to 32 MiB come from the heap and up to 1 GiB of
free heap is kept, so a step's arrays are recycled, already mapped. Resident memory then
stays near the largest step's peak instead of falling back between steps.

It is applied once, when gradschool is imported, on glibc only, and not at all when the
process already sets glibc's allocator through its environment (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``, ``GLIBC_TUNABLES``) or sets
``GRADSCHOOL_KEEP_FREED_MEMORY=0``.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory", "keeps_freed_memory"]

MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit
TRIM_THRESHOLD = 1024 * 1024 * 1024

_M_TRIM_THRESHOLD = -1  # the mallopt parameter numbers, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_ENV_SETTINGS = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "GLIBC_TUNABLES",
)

_applied = False


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it (not musl)
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds so that freed arrays stay mapped for reuse.

    Returns whether the settings were applied: ``False`` off glibc, when the environment
    already configures the allocator, or with ``GRADSCHOOL_KEEP_FREED_MEMORY=0``.
    """
    global _applied
    if os.environ.get("GRADSCHOOL_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if any(name in os.environ for name in _ENV_SETTINGS):
        return False
    libc = _glibc()
    if libc is None:
        return False
    ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    _applied = _applied or ok
    return ok


def keeps_freed_memory() -> bool:
    """Whether :func:`keep_freed_memory` has changed this process's allocator."""
    return _applied
