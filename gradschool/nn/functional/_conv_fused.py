"""im2col and the GEMM slice by slice in one compiled loop (numba; see ``backend/jit.py``).

A block of columns is 9x its input (4 MB for a few samples of ResNet-20's first stage),
larger than this machine's 1 MB L2 cache: ``conv.py`` writes it out and the GEMM reads it
back, and on two threads the first stage's im2col took half again as long as on one, the
two cores' copies queueing for memory. Here the columns of a slice of output positions
(``rows``, the size of one BLAS small-matrix product, ``conv.py: _slice_rows``) are built
and multiplied at once, so they never leave the cache: one reused buffer of ``rows x K``.

The copy is ``_conv_kernels.im2col_cl``'s, walked by position instead of by output row; the
product is ``cblas_?gemm`` through its address, as in ``_gemm_slices.py``.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from ._gemm_slices import NO_TRANS, TRANS, _cblas_gemm

__all__ = ["conv_in_slices", "conv_k_major_in_slices", "grads_in_slices", "weight_grad_in_slices"]


@numba.njit(nogil=True, cache=True)
def _columns(
    x: Any,
    cols: Any,
    shape: Any,
    first: int,
    stop: int,
    stride_h: int,
    stride_w: int,
    top: int,
    left: int,
    dil_h: int,
    dil_w: int,
) -> None:
    """The im2col rows of output positions ``first:stop`` (flat over (B, OH, OW)) into the
    first rows of ``cols``; ``x`` the block's flat channels-last input, ``shape`` = (B, OH,
    OW, KH, KW, C, H, W)."""
    b_count, oh, ow, kh, kw, c, h, w = shape
    kwc = kw * c
    for p in range(first, stop):
        b, r = p // (oh * ow), p % (oh * ow)
        oy, ox = r // ow, r % ow
        x0 = ox * stride_w - left
        whole_row = dil_w == 1 and x0 >= 0 and x0 + kw <= w
        for i in range(kh):
            y = oy * stride_h + i * dil_h - top
            dst = np.uint64(((p - first) * kh + i) * kwc)
            if y < 0 or y >= h:
                for k in range(np.uint64(kwc)):
                    cols[dst + k] = 0
            elif whole_row:
                src = np.uint64(((b * h + y) * w + x0) * c)
                for k in range(np.uint64(kwc)):
                    cols[dst + k] = x[src + k]
            else:
                for j in range(kw):
                    xx = x0 + j * dil_w
                    dj = dst + np.uint64(j * c)
                    if 0 <= xx < w:
                        src = np.uint64(((b * h + y) * w + xx) * c)
                        for k in range(np.uint64(c)):
                            cols[dj + k] = x[src + k]
                    else:
                        for k in range(np.uint64(c)):
                            cols[dj + k] = 0


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
) -> None:
    """``out = columns(x) @ W`` for a block: ``geometry`` = (stride_h, stride_w, top, left,
    dil_h, dil_w); ``w`` (K, N) and ``out`` (positions, N) are ``(address, ld, trans,
    step)`` operands (``_gemm_slices.operand``; ``out`` row-major, ``step`` its bytes per
    row); ``cols`` a flat scratch of ``rows * K`` values; ``fn`` the address of
    ``cblas_?gemm``."""
    b_count, oh, ow, kh, kw, c = shape[0], shape[1], shape[2], shape[3], shape[4], shape[5]
    k = kh * kw * c
    total = b_count * oh * ow
    sh, sw, top, left, dh, dw = geometry
    for s in range(0, total, rows):
        e = min(total, s + rows)
        _columns(x, cols, shape, s, e, sh, sw, top, left, dh, dw)
        _cblas_gemm(
            fn, NO_TRANS, w[2], e - s, n, k, one, cols.ctypes.data, k, w[0], w[1], zero,
            out[0] + s * out[3], out[1],
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
    convolution's) for a slice of input positions, then ``dx[slice] = cols @ wf`` and
    ``gw += colsᵀ @ x[slice]``. ``wf`` (K, C), ``dx`` and ``x`` (positions, C), ``gw`` (K, C)
    are ``(address, ld, trans, step)`` operands; ``gw`` must start at zero or at a sum to
    add to."""
    b_count, oh, ow, kh, kw, o = shape[0], shape[1], shape[2], shape[3], shape[4], shape[5]
    k = kh * kw * o
    total = b_count * oh * ow
    sh, sw, top, left, dh, dw = geometry
    for s in range(0, total, rows):
        e = min(total, s + rows)
        _columns(g, cols, shape, s, e, sh, sw, top, left, dh, dw)
        a = cols.ctypes.data
        _cblas_gemm(
            fn, NO_TRANS, wf[2], e - s, c, k, one, a, k, wf[0], wf[1], zero,
            dx[0] + s * dx[3], dx[1],
        )  # fmt: skip
        _cblas_gemm(
            fn, TRANS, x[2], k, c, e - s, one, a, k, x[0] + s * x[3], x[1], one, gw[0], gw[1]
        )  # fmt: skip


@numba.njit(nogil=True, cache=True)
def _k_major_columns(
    x: Any,
    cols: Any,
    shape: Any,
    first: int,
    stop: int,
    stride_h: int,
    stride_w: int,
    top: int,
    left: int,
    dil_h: int,
    dil_w: int,
) -> None:
    """``_conv_kernels.im2col_k_major`` for the output rows ``first:stop`` (flat over (B, OH))
    of a block with few channels: ``cols`` gets (KH*KW*C, (stop - first)*OW) values, ``x``
    is the block's flat NCHW input, ``shape`` = (B, OH, OW, KH, KW, C, H, W)."""
    b_count, oh, ow, kh, kw, c, h, w = shape
    width = (stop - first) * ow
    for r in range(kh * kw * c):
        i, j, ch = r // (kw * c), (r // c) % kw, r % c
        start = j * dil_w - left
        lo = min(ow, max(0, -(start // stride_w)))
        hi = max(lo, min(ow, (w - 1 - start) // stride_w + 1)) if start < w else lo
        for q in range(first, stop):
            b, oy = q // oh, q % oh
            y = oy * stride_h + i * dil_h - top
            dst = np.uint64(r * width + (q - first) * ow)
            if y < 0 or y >= h:
                for k in range(np.uint64(ow)):
                    cols[dst + k] = 0
                continue
            src = ((b * c + ch) * h + y) * w + start
            for k in range(np.uint64(lo)):
                cols[dst + k] = 0
            if stride_w == 1:  # one contiguous run: a vectorised copy
                run, at = np.uint64(src + lo), dst + np.uint64(lo)
                for k in range(np.uint64(hi - lo)):
                    cols[at + k] = x[run + k]
            else:
                for ox in range(lo, hi):
                    cols[dst + np.uint64(ox)] = x[np.uint64(src + ox * stride_w)]
            for k in range(np.uint64(hi), np.uint64(ow)):
                cols[dst + k] = 0


@numba.njit(nogil=True, cache=True)
def conv_k_major_in_slices(
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
) -> None:
    """``conv_in_slices`` for few channels: ``rows`` output rows of kernel-offset-major
    columns (``_k_major_columns``) at a time, multiplied read transposed."""
    b_count, oh, ow, kh, kw, c = shape[0], shape[1], shape[2], shape[3], shape[4], shape[5]
    k = kh * kw * c
    sh, sw, top, left, dh, dw = geometry
    for s in range(0, b_count * oh, rows):
        e = min(b_count * oh, s + rows)
        _k_major_columns(x, cols, shape, s, e, sh, sw, top, left, dh, dw)
        npos = (e - s) * ow
        _cblas_gemm(
            fn, TRANS, w[2], npos, n, k, one, cols.ctypes.data, npos, w[0], w[1], zero,
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
    """``gw += colsᵀ @ dy`` for a block, the columns of x built a slice at a time: ``rows``
    positions (``_columns``, channels-last x) or output rows (``k_major``: few channels,
    NCHW x). ``dy`` (positions, O) and ``gw`` (K, O) are ``(address, ld, trans, step)``
    operands, ``step`` dy's bytes per position."""
    b_count, oh, ow, kh, kw, c = shape[0], shape[1], shape[2], shape[3], shape[4], shape[5]
    k = kh * kw * c
    sh, sw, top, left, dh, dw = geometry
    total = b_count * oh if k_major else b_count * oh * ow
    for s in range(0, total, rows):
        e = min(total, s + rows)
        a = cols.ctypes.data
        if k_major:
            _k_major_columns(x, cols, shape, s, e, sh, sw, top, left, dh, dw)
            npos, first = (e - s) * ow, s * ow
            _cblas_gemm(
                fn, NO_TRANS, dy[2], k, n, npos, one, a, npos, dy[0] + first * dy[3], dy[1],
                one, gw[0], gw[1],
            )  # fmt: skip
        else:
            _columns(x, cols, shape, s, e, sh, sw, top, left, dh, dw)
            _cblas_gemm(
                fn, TRANS, dy[2], k, n, e - s, one, a, k, dy[0] + s * dy[3], dy[1], one,
                gw[0], gw[1],
            )  # fmt: skip
