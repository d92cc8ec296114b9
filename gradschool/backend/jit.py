"""Optional compiled kernels (numba) for the few loops NumPy cannot write in one pass.

NumPy runs one C loop per operation and one core per loop. Most of a network is GEMMs, which
BLAS already runs at the machine's speed, but the memory-bound steps between them are
chains of NumPy passes: a batch-norm backward reads and writes its arrays five times where a
single loop would do it twice, and building a convolution's columns from a padded copy of
its input moves every value three times. A handful of such loops are written here as numba
kernels — plain Python loops over arrays, compiled to machine code and run on every core
(``prange``) — each beside the NumPy code it replaces, which stays as the fallback.

A kernel is used only when numba imports and ``GRADSCHOOL_JIT`` is not ``0``, and only on
NumPy arrays of the dtypes and layout it was written for; everything else (CuPy arrays,
integer dtypes, odd layouts) takes the NumPy path. ``disabled()`` switches the kernels off
for a block of code: the tests run both paths and check that they agree with each other and
with PyTorch.

Kernels compile on their first call (a second or two each, per dtype) and numba caches the
machine code on disk, so later processes load it. They use as many threads as
``NUMBA_NUM_THREADS`` says or, when that is unset, as many as the BLAS is given
(``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS``), so ``OPENBLAS_NUM_THREADS=1`` pins the whole
framework to one core.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Kernel", "available", "disabled", "enabled", "kernel", "prange"]

#: ``range`` for the kernels' parallel loops; a kernel's module gets numba's ``prange`` in
#: its place when the kernel is compiled (uncompiled, the loops run serially)
prange = range

_numba: Any = None  # the module, once imported; False when it cannot be
_off = 0  # depth of disabled() blocks


def _load() -> Any:
    global _numba
    if _numba is None:
        preloaded = "numba" in sys.modules
        if not preloaded:
            _match_blas_threads()
        try:
            import numba
        except ImportError:
            _numba = False
        else:
            _numba = numba
            if preloaded:  # too late for the environment: ask the running library
                n = _blas_threads()
                if n:
                    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return _numba


def _blas_threads() -> int | None:
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def _match_blas_threads() -> None:
    """Give numba's thread pool the BLAS's thread count, before numba starts it: its OpenMP
    runtime may be the one PyTorch uses too, and a pool started at every core would also
    change the count a PyTorch in the same process runs with."""
    n = _blas_threads()
    if n and "NUMBA_NUM_THREADS" not in os.environ:
        os.environ["NUMBA_NUM_THREADS"] = str(min(n, os.cpu_count() or 1))


def available() -> bool:
    """Whether numba can be imported (``pip install numba``, part of the ``fast`` extra)."""
    return _load() is not False


def enabled() -> bool:
    """Whether the compiled kernels are in use: numba is there, ``GRADSCHOOL_JIT`` is not
    ``0`` and no ``disabled()`` block is running."""
    return _off == 0 and os.environ.get("GRADSCHOOL_JIT", "1") != "0" and available()


@contextmanager
def disabled() -> Iterator[None]:
    """Run a block on the NumPy fallbacks only (the tests use it to check both paths)."""
    global _off
    _off += 1
    try:
        yield
    finally:
        _off -= 1


class Kernel:
    """A Python function over arrays, compiled by numba on its first call.

    ``kernel.py`` is the function itself, uncompiled: the same loops, runnable (slowly) by
    anyone reading along without numba.
    """

    def __init__(self, fn: Callable[..., Any], parallel: bool) -> None:
        self.py = fn
        self.parallel = parallel
        self._compiled: Any = None
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    def __call__(self, *args: Any) -> Any:
        if self._compiled is None:
            numba = _load()
            if numba is False:
                raise RuntimeError(f"{self.__name__}: numba is not installed (pip install numba)")
            if self.py.__globals__.get("prange") is range:
                self.py.__globals__["prange"] = numba.prange  # the same loop, on every core
            self._compiled = numba.njit(
                self.py, cache=True, nogil=True, parallel=self.parallel, error_model="numpy"
            )
        return self._compiled(*args)


def kernel(*, parallel: bool = False) -> Callable[[Callable[..., Any]], Kernel]:
    """Decorator: make ``fn`` a :class:`Kernel` (``parallel=True`` lets its ``prange`` loops
    run on every core)."""

    def wrap(fn: Callable[..., Any]) -> Kernel:
        return Kernel(fn, parallel)

    return wrap
