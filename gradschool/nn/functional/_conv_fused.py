"""im2col and the GEMM slice by slice in one compiled loop (numba; see ``backend/jit.py``).

A block of columns is 9x its input (4 MB for a few samples of ResNet-20's first stage),
larger than this machine's 1 MB L2 cache: ``conv.py`` writes it out and the GEMM reads it
back, and on two threads the first stage's im2col took half again as long as on one, the
two cores' copies queueing for memory. Here the columns of a slice of output rows (about
the size of one BLAS small-matrix product, ``conv.py: _slice_rows``) are built and
multiplied at once, so they never leave the cache: one reused buffer of a slice's columns.

The columns are ``_conv_kernels.im2col_cl``'s and ``im2col_k_major``'s own loops over a
range of output rows, compiled into these (``register_jitable``); the products are
``cblas_?gemm`` through its address, as in ``_gemm_slices.py``. numba caches these loops
keyed on this file: after changing ``_conv_kernels.py``, touch this one too.
"""

from __future__ import annotations

from typing import Any

import numba
from numba.extending import register_jitable

from ._conv_kernels import im2col_cl, im2col_k_major
from ._gemm_slices import NO_TRANS, TRANS, _cblas_gemm

__all__ = ["conv_in_slices", "grads_in_slices", "weight_grad_in_slices"]

_rows_cl = register_jitable(im2col_cl.py)
_rows_k_major = register_jitable(im2col_k_major.py)


@numba.njit(nogil=True, cache=True)
def _columns(
    x: Any, cols: Any, shape: Any, first: int, stop: int, geometry: Any, k_major: bool
) -> Any:
    """The columns of output rows ``first:stop`` into ``cols``; returns ``(address, ld, trans)``
    of them as the (positions, K) operand: channels-last rows, or kernel-offset-major ones
    (few channels, NCHW ``x``) read transposed. ``geometry`` = (stride_h, stride_w, top,
    left, dil_h, dil_w)."""
    sh, sw, top, left, dh, dw = geometry
    if k_major:
        _rows_k_major(x, cols, shape, first, stop, sh, sw, top, left, dh, dw)
        return cols.ctypes.data, (stop - first) * shape[2], TRANS
    _rows_cl(x, cols, shape, first, stop, sh, sw, top, left, dh, dw)
    return cols.ctypes.data, shape[3] * shape[4] * shape[5], NO_TRANS


@numba.njit(nogil=True, cache=True)
def conv_in_slices(
    fn: int,
    x: Any,
    cols: Any,
    shape: Any,
    geometry: Any,
    rows: int,
    w: Any,
    out: Any,
    n: int,
    one: Any,
    zero: Any,
    k_major: bool,
) -> None:
    """``out = columns(x) @ W`` for a block, ``rows`` output rows at a time (``shape`` = (B,
    OH, OW, KH, KW, C, H, W)). ``w`` (K, N) and ``out`` (positions, N) are ``(address, ld,
    trans, step)`` operands (``_gemm_slices.operand``; ``out`` row-major, ``step`` its bytes
    per position); ``cols`` a flat scratch of one slice's columns; ``fn`` the address of
    ``cblas_?gemm``."""
    oh, ow = shape[1], shape[2]
    k = shape[3] * shape[4] * shape[5]
    for s in range(0, shape[0] * oh, rows):
        e = min(shape[0] * oh, s + rows)
        a, lda, trans = _columns(x, cols, shape, s, e, geometry, k_major)
        _cblas_gemm(
            fn, trans, w[2], (e - s) * ow, n, k, one, a, lda, w[0], w[1], zero,
            out[0] + s * ow * out[3], out[1],
        )  # fmt: skip


@numba.njit(nogil=True, cache=True)
def weight_grad_in_slices(
    fn: int,
    x: Any,
    cols: Any,
    shape: Any,
    geometry: Any,
    rows: int,
    dy: Any,
    gw: Any,
    n: int,
    one: Any,
    k_major: bool,
) -> None:
    """``gw += columns(x)ᵀ @ dy`` for a block, ``rows`` output rows at a time. ``dy``
    (positions, O) and ``gw`` (K, O) are ``(address, ld, trans, step)`` operands, ``step``
    dy's bytes per position."""
    oh, ow = shape[1], shape[2]
    k = shape[3] * shape[4] * shape[5]
    for s in range(0, shape[0] * oh, rows):
        e = min(shape[0] * oh, s + rows)
        a, lda, trans = _columns(x, cols, shape, s, e, geometry, k_major)
        at = NO_TRANS if trans == TRANS else TRANS  # the columns' transpose
        _cblas_gemm(
            fn, at, dy[2], k, n, (e - s) * ow, one, a, lda, dy[0] + s * ow * dy[3], dy[1],
            one, gw[0], gw[1],
        )  # fmt: skip


@numba.njit(nogil=True, cache=True)
def grads_in_slices(
    fn: int,
    g: Any,
    cols: Any,
    shape: Any,
    geometry: Any,
    rows: int,
    wf: Any,
    dx: Any,
    x: Any,
    gw: Any,
    c: int,
    one: Any,
    zero: Any,
) -> None:
    """``conv.py: _input_and_weight_grads`` for a block, slice by slice: the columns of dy
    (``g``, flat channels-last; ``shape`` = (B, H, W, KH, KW, O, OH, OW), the flipped-filter
    convolution's) for ``rows`` rows of input positions, then ``dx[slice] = cols @ wf`` and
    ``gw += colsᵀ @ x[slice]``. ``wf`` (K, C), ``dx`` and ``x`` (positions, C), ``gw`` (K, C)
    are ``(address, ld, trans, step)`` operands; ``gw`` must start at zero or at a sum to
    add to."""
    oh, ow = shape[1], shape[2]
    k = shape[3] * shape[4] * shape[5]
    for s in range(0, shape[0] * oh, rows):
        e = min(shape[0] * oh, s + rows)
        a, lda, _ = _columns(g, cols, shape, s, e, geometry, False)
        npos, first = (e - s) * ow, s * ow
        _cblas_gemm(
            fn, NO_TRANS, wf[2], npos, c, k, one, a, lda, wf[0], wf[1], zero,
            dx[0] + first * dx[3], dx[1],
        )  # fmt: skip
        _cblas_gemm(
            fn, TRANS, x[2], k, c, npos, one, a, lda, x[0] + first * x[3], x[1], one,
            gw[0], gw[1],
        )  # fmt: skip
