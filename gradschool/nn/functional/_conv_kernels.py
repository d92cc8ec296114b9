"""Compiled im2col and col2im for channels-last inputs (numba; see ``backend/jit.py``).

The NumPy path of ``conv.py`` builds a block's columns in two copies: the input into a
zero-bordered buffer (``_pad``), then every window of that buffer into the columns; each
copy's inner loop is the C values of one pixel, short enough that NumPy's per-loop cost
shows. These loops do it in one pass straight from the unpadded input, writing zeros where a
window hangs over the border, and split the rows of the block across the cores.

``col2im_cl`` is the scatter of the input gradient: every column row adds its ``KH*KW*C``
values back onto the pixels its window read. Samples never share pixels, so each thread
takes whole samples and no two threads add to the same place.

Both loops are the readable version of the strided views in ``conv.py``: the index
arithmetic ``h = oy*sh + i*dh - top`` is the same one ``conv2d_naive`` spells out.
"""

from __future__ import annotations

from typing import Any

from ...backend.jit import kernel, prange

__all__ = ["col2im_cl", "im2col_cl"]


@kernel(parallel=True)
def im2col_cl(
    x: Any,
    cols: Any,
    start: int,
    stride_h: int,
    stride_w: int,
    top: int,
    left: int,
    dil_h: int,
    dil_w: int,
) -> None:
    """Fill ``cols`` (B, OH, OW, KH, KW, C) with the windows of samples ``start:start+B`` of
    the channels-last input ``x`` (N, H, W, C), zero where a window reads padding (``top`` /
    ``left``: the padding before the first row / column; negative crops)."""
    b_count, oh, ow, kh, kw, c = cols.shape
    h, w = x.shape[1], x.shape[2]
    for r in prange(b_count * oh):
        b, oy = r // oh, r % oh
        n = start + b
        for ox in range(ow):
            for i in range(kh):
                y = oy * stride_h + i * dil_h - top
                for j in range(kw):
                    xx = ox * stride_w + j * dil_w - left
                    dst = cols[b, oy, ox, i, j]
                    if 0 <= y < h and 0 <= xx < w:
                        src = x[n, y, xx]
                        for k in range(c):
                            dst[k] = src[k]
                    else:
                        for k in range(c):
                            dst[k] = 0


@kernel(parallel=True)
def col2im_cl(
    dcols: Any,
    dx: Any,
    stride_h: int,
    stride_w: int,
    top: int,
    left: int,
    dil_h: int,
    dil_w: int,
) -> None:
    """Set ``dx`` (N, H, W, C, channels-last) to the sum of the column gradients ``dcols``
    (N, OH, OW, KH, KW, C) over every window that read each pixel."""
    n, oh, ow, kh, kw, c = dcols.shape
    h, w = dx.shape[1], dx.shape[2]
    for s in prange(n):
        dx[s] = 0
        for oy in range(oh):
            for ox in range(ow):
                for i in range(kh):
                    y = oy * stride_h + i * dil_h - top
                    if y < 0 or y >= h:
                        continue
                    for j in range(kw):
                        xx = ox * stride_w + j * dil_w - left
                        if 0 <= xx < w:
                            src = dcols[s, oy, ox, i, j]
                            dst = dx[s, y, xx]
                            for k in range(c):
                                dst[k] += src[k]
