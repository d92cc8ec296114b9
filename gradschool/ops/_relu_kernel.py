"""Compiled ReLU forward and backward (numba; see ``backend/jit.py``).

NumPy writes ReLU's backward ``g * (y > 0)`` as two passes: one builds a boolean mask (a
temporary array), the next multiplies the gradient by it, casting the mask to float on the
way. The loop here reads g and y once and writes the result once. The forward is one pass
in NumPy already (``clip``); its loop still gains a little. The arrays are walked flat in memory
order, so the output keeps the layout of its input: C order or channels-last (any other
layout, or g and y in different ones, is left to NumPy).

Measured on a 64x16x32x32 float32 channels-last array (1M values), NumPy vs these loops,
allocation included, on one core: backward 0.48 -> 0.28 ms, forward 0.19 -> 0.13 ms. Below ``MIN_SIZE`` values NumPy's
single call is as fast as a kernel's dispatch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend.jit import kernel, prange
from ._util import new_array

__all__ = ["MIN_SIZE", "backward", "forward", "relu_backward", "relu_forward"]

#: below this many values NumPy's single call is as fast as a kernel's dispatch
MIN_SIZE = 1 << 15
_BLOCK = 32768  # values per parallel task


def _flat(a: Any) -> tuple[Any, tuple[int, ...] | None] | None:
    """``a``'s values as a 1-D view in memory order and the axis order that gives it (None
    for C order), for a C-contiguous or channels-last ``a`` (channels, axis 1, innermost);
    ``None`` for any other layout."""
    if a.flags.c_contiguous:
        return a.reshape(-1), None
    if a.ndim > 2:
        order = (0, *range(2, a.ndim), 1)
        t = a.transpose(order)
        if t.flags.c_contiguous:
            return t.reshape(-1), order
    return None


def _new(a: Any, order: tuple[int, ...] | None) -> tuple[Any, Any]:
    """A new array like ``a`` stored in axis ``order`` (``new_array``), and its flat view."""
    out = new_array(np, a.shape, a.dtype, order)
    return out, (out if order is None else out.transpose(order)).reshape(-1)


def _eligible(a: Any) -> bool:
    return (
        a.__class__ is np.ndarray
        and (a.dtype == np.float32 or a.dtype == np.float64)
        and a.size >= MIN_SIZE
    )


def forward(x: Any) -> Any | None:
    """``max(x, 0)`` of a large float32/float64 NumPy array on the kernel, in x's layout
    (C order or channels-last); ``None`` when the kernel does not apply (the caller then
    takes the NumPy path)."""
    if not _eligible(x):
        return None
    flat = _flat(x)
    if flat is None:
        return None
    y, yf = _new(x, flat[1])
    relu_forward(flat[0], yf)
    return y


def backward(g: Any, y: Any) -> Any | None:
    """``g * (y > 0)`` on the kernel when g and y are large float NumPy arrays of one dtype
    and one layout, C order or channels-last (the result has it too); otherwise ``None``."""
    if not _eligible(g) or y.__class__ is not np.ndarray or y.dtype != g.dtype:
        return None
    if g.shape != y.shape or g.strides != y.strides:
        return None
    flat = _flat(g)
    if flat is None:
        return None
    out, of = _new(g, flat[1])
    relu_backward(flat[0], _flat(y)[0], of)
    return out


@kernel(parallel=True)
def relu_backward(g: Any, y: Any, out: Any) -> None:
    """``out = g * (y > 0)`` over flat arrays of one size, in one pass (the NumPy
    expression's exact result, NaN included: a NaN gradient stays NaN)."""
    n = g.size
    nb = (n + _BLOCK - 1) // _BLOCK
    for bi in prange(nb):
        lo = bi * _BLOCK
        hi = min(lo + _BLOCK, n)
        gs = g[lo:hi]
        ys = y[lo:hi]
        os = out[lo:hi]
        for j in range(gs.size):
            os[j] = gs[j] * (1 if ys[j] > 0 else 0)


@kernel(parallel=True)
def relu_forward(x: Any, out: Any) -> None:
    """``out = max(x, 0)`` over flat arrays, NaN kept (as ``np.clip``)."""
    n = x.size
    nb = (n + _BLOCK - 1) // _BLOCK
    for bi in prange(nb):
        lo = bi * _BLOCK
        hi = min(lo + _BLOCK, n)
        xs = x[lo:hi]
        os = out[lo:hi]
        for j in range(xs.size):
            v = xs[j]
            os[j] = 0 if v < 0 else v
