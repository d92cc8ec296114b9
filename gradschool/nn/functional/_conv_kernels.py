"""Compiled im2col and col2im for channels-last inputs (numba; see ``backend/jit.py``).

The NumPy path of ``conv.py`` builds a block's columns in two copies: the input into a
zero-bordered buffer (``_pad``), then every window of that buffer into the columns; each
copy's inner loop is the C values of one pixel, short enough that NumPy's per-loop cost
shows. These loops do it in one pass straight from the unpadded input, writing zeros where a
window hangs over the border.

``col2im_cl`` is the scatter of the input gradient: every column row adds its ``KH*KW*C``
values back onto the pixels its window read, one sample at a time (samples never share
pixels, so a parallel build could give each thread whole samples).

Both loops are the readable version of the strided views in ``conv.py``: the index
arithmetic ``h = oy*sh + i*dh - top`` is the same one ``conv2d_naive`` spells out. The arrays
come in flat (1-D views) and the offsets into them are unsigned: numba then drops its
negative-index check from the innermost copy, which lets LLVM vectorise it (2-3x faster).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...backend.jit import kernel, prange

__all__ = ["col2im_cl", "im2col_cl", "im2col_k_major"]


@kernel(parallel=True)
def im2col_cl(
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
    """Fill the columns of output rows ``first:stop`` (counted over (B, OH)) of a block of B
    samples: ``cols`` a flat ((stop - first)*OW, KH, KW, C) array, ``x`` the block's flat
    channels-last input (B, H, W, C), ``shape`` = (B, OH, OW, KH, KW, C, H, W). Zeros where a
    window reads padding (``top`` / ``left``: the padding before the first row / column;
    negative crops). A window row that lies inside the image, undilated, is KW*C consecutive
    values of x, copied in one run."""
    b_count, oh, ow, kh, kw, c, h, w = shape
    kwc = kw * c
    for r in prange(first, stop):
        b, oy = r // oh, r % oh
        for ox in range(ow):
            x0 = ox * stride_w - left
            whole_row = dil_w == 1 and x0 >= 0 and x0 + kw <= w
            for i in range(kh):
                y = oy * stride_h + i * dil_h - top
                dst = np.uint64((((r - first) * ow + ox) * kh + i) * kwc)
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


@kernel(parallel=True)
def col2im_cl(
    dcols: Any,
    dx: Any,
    shape: Any,
    stride_h: int,
    stride_w: int,
    top: int,
    left: int,
    dil_h: int,
    dil_w: int,
) -> None:
    """Set the flat channels-last ``dx`` (N, H, W, C) to the sum of the flat column gradients
    ``dcols`` (N, OH, OW, KH, KW, C) over every window that read each pixel; ``shape`` =
    (N, OH, OW, KH, KW, C, H, W). A window row inside the image, undilated, is added as one
    run of KW*C values."""
    n, oh, ow, kh, kw, c, h, w = shape
    kwc = kw * c
    plane = h * w * c
    for s in prange(n):
        base = np.uint64(s * plane)
        for k in range(np.uint64(plane)):
            dx[base + k] = 0
        for oy in range(oh):
            for i in range(kh):
                y = oy * stride_h + i * dil_h - top
                if y < 0 or y >= h:
                    continue
                for ox in range(ow):
                    x0 = ox * stride_w - left
                    src = np.uint64((((s * oh + oy) * ow + ox) * kh + i) * kwc)
                    if dil_w == 1 and x0 >= 0 and x0 + kw <= w:
                        dst = np.uint64(((s * h + y) * w + x0) * c)
                        for k in range(np.uint64(kwc)):
                            dx[dst + k] += dcols[src + k]
                    else:
                        for j in range(kw):
                            xx = x0 + j * dil_w
                            if 0 <= xx < w:
                                dst = np.uint64(((s * h + y) * w + xx) * c)
                                sj = src + np.uint64(j * c)
                                for k in range(np.uint64(c)):
                                    dx[dst + k] += dcols[sj + k]


@kernel(parallel=True)
def im2col_k_major(
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
    """The columns of output rows ``first:stop`` (counted over (B, OH)) of a block of B
    samples with few channels, kernel offsets first: ``cols`` a flat (KH, KW, C, (stop -
    first)*OW) array, ``x`` the block's flat NCHW input (B, C, H, W), ``shape`` = (B, OH, OW,
    KH, KW, C, H, W). Each column row is one output row of one tap:
    the input row it reads, shifted (a run of OW values at stride 1), with zeros where the
    window hangs over the border. ``conv.py`` builds these rows from a padded copy's strided
    view without the kernels: NumPy's loop per row of 28 values costs more than the copy."""
    b_count, oh, ow, kh, kw, c, h, w = shape
    width = (stop - first) * ow
    for r in prange(kh * kw * c):
        i, j, ch = r // (kw * c), (r // c) % kw, r % c
        # the outputs whose tap (i, j) reads inside the image along a row: lo <= ox < hi
        start = j * dil_w - left  # input column read by output 0
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
