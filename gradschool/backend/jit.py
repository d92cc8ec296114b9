"""Optional compiled kernels (numba) for the few loops NumPy cannot write in one pass.

NumPy runs one C loop per operation. Most of a network is GEMMs, which BLAS already runs at
the machine's speed, but the memory-bound steps between them are chains of NumPy passes: a
batch-norm backward reads and writes its arrays five times where a single loop would do it
twice, and building a convolution's columns from a padded copy of its input moves every
value three times. A handful of such loops are written here as numba kernels — plain Python
loops over arrays, compiled to machine code — each beside the NumPy code it replaces, which
stays as the fallback.

A kernel is used only when numba imports and ``GRADSCHOOL_JIT`` is not ``0``, and only on
NumPy arrays of the dtypes and layout it was written for; everything else (CuPy arrays,
integer dtypes, odd layouts) takes the NumPy path. ``disabled()`` switches the kernels off
for a block of code: the tests run both paths and check that they agree with each other and
with PyTorch.

Kernels compile on their first call (a second or two each, per dtype) and numba caches the
machine code on disk, so later processes load it.

**One thread.** The kernels' outer loops are written as ``prange`` (each iteration
independent, safe to split across cores), but they are compiled serially. Measured on the
2-core machine, a ResNet-20 step with two BLAS threads took 3 s with numba's OpenMP threads
on, against 0.22 s serial: the two libraries' worker threads spin-wait for each other's
cores. With ``OMP_WAIT_POLICY=PASSIVE`` the parallel build only matched the serial one, and
its OpenMP runtime is the one PyTorch uses, so starting it also changed a PyTorch's thread
count in the same process. Serial kernels start no threads at all; the second core goes to
the GEMMs.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Kernel", "available", "disabled", "enabled", "kernel", "prange"]

#: the kernels' splittable loops; ``range`` itself, since they are compiled serially (see
#: "One thread" above)
prange = range

_numba: Any = None  # the module, once imported; False when it cannot be
# GRADSCHOOL_JIT is read once, when gradschool is imported: enabled() sits on every
# kernel-eligible op's path
_off = 1 if os.environ.get("GRADSCHOOL_JIT", "1") == "0" else 0  # depth of disabled() blocks


def _load() -> Any:
    global _numba
    if _numba is None:
        try:
            import numba
        except ImportError:
            _numba = False
        else:
            _numba = numba
    return _numba


def available() -> bool:
    """Whether numba can be imported (``pip install numba``, part of the ``fast`` extra)."""
    return _load() is not False


def enabled() -> bool:
    """Whether the compiled kernels are in use: numba is there, ``GRADSCHOOL_JIT`` was not
    ``0`` when gradschool was imported and no ``disabled()`` block is running."""
    return _off == 0 and available()


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
    anyone reading along without numba. ``parallel`` marks a kernel whose ``prange`` loop
    could be split across cores; it is compiled serially all the same (see "One thread").
    """

    def __init__(self, fn: Callable[..., Any], parallel: bool, uses: str | None = None) -> None:
        self.py = fn
        self.parallel = parallel
        self.uses = uses
        self._compiled: Any = None
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    def __call__(self, *args: Any) -> Any:
        if self._compiled is None:
            numba = _load()
            if numba is False:
                raise RuntimeError(f"{self.__name__}: numba is not installed (pip install numba)")
            if self.uses:  # a module whose numba overloads the kernel's helpers compile with
                importlib.import_module(self.uses)
            self._compiled = numba.njit(self.py, cache=True, nogil=True, error_model="numpy")
        return self._compiled(*args)


def kernel(
    *, parallel: bool = False, uses: str | None = None
) -> Callable[[Callable[..., Any]], Kernel]:
    """Decorator: make ``fn`` a :class:`Kernel` (``parallel=True``: its ``prange`` loop has
    independent iterations; ``uses``: a module to import before compiling it, which
    registers compiled versions of plain-Python helpers it calls, ``numba.extending.overload``).
    """

    def wrap(fn: Callable[..., Any]) -> Kernel:
        return Kernel(fn, parallel, uses)

    return wrap
