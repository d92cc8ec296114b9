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
    c: int,
    start: int,
    stride_h: int,
    stride_w: int,
    top: int,
    left: int,
    dil_h: int,
    dil_w: int,
) -> None:
    """Fill ``cols`` (B, OH, OW, KH, KW*C) with the windows of samples ``start:start+B`` of
    the channels-last input ``x`` (N, H, W*C) of ``c`` channels, zero where a window reads
    padding (``top`` / ``left``: the padding before the first row / column; negative crops).

    Rows of pixels are flat runs of W*C values: a window row that lies inside the image,
    undilated, is KW*C consecutive values of x, copied in one loop (C is 6 in LeNet)."""
    b_count, oh, ow, kh, kwc = cols.shape
    kw = kwc // c
    h, w = x.shape[1], x.shape[2] // c
    for r in prange(b_count * oh):
        b, oy = r // oh, r % oh
        n = start + b
        for ox in range(ow):
            x0 = ox * stride_w - left
            whole_row = dil_w == 1 and x0 >= 0 and x0 + kw <= w
            for i in range(kh):
                y = oy * stride_h + i * dil_h - top
                if y < 0 or y >= h:
                    cols[b, oy, ox, i, :] = 0
                elif whole_row:
                    cols[b, oy, ox, i, :] = x[n, y, x0 * c : (x0 + kw) * c]
                else:
                    for j in range(kw):
                        xx = x0 + j * dil_w
                        if 0 <= xx < w:
                            cols[b, oy, ox, i, j * c : (j + 1) * c] = x[n, y, xx * c : (xx + 1) * c]
                        else:
                            cols[b, oy, ox, i, j * c : (j + 1) * c] = 0


@kernel(parallel=True)
def col2im_cl(
    dcols: Any,
    dx: Any,
    c: int,
    stride_h: int,
    stride_w: int,
    top: int,
    left: int,
    dil_h: int,
    dil_w: int,
) -> None:
    """Set ``dx`` (N, H, W*C: channels-last, ``c`` channels) to the sum of the column
    gradients ``dcols`` (N, OH, OW, KH, KW*C) over every window that read each pixel; a
    window row inside the image, undilated, is added as one run of KW*C values."""
    n, oh, ow, kh, kwc = dcols.shape
    kw = kwc // c
    h, w = dx.shape[1], dx.shape[2] // c
    for s in prange(n):
        dx[s] = 0
        for oy in range(oh):
            for i in range(kh):
                y = oy * stride_h + i * dil_h - top
                if y < 0 or y >= h:
                    continue
                for ox in range(ow):
                    x0 = ox * stride_w - left
                    src = dcols[s, oy, ox, i]
                    if dil_w == 1 and x0 >= 0 and x0 + kw <= w:
                        dst = dx[s, y, x0 * c : (x0 + kw) * c]
                        for k in range(kwc):
                            dst[k] += src[k]
                    else:
                        for j in range(kw):
                            xx = x0 + j * dil_w
                            if 0 <= xx < w:
                                dst = dx[s, y, xx * c : (xx + 1) * c]
                                for k in range(c):
                                    dst[k] += src[j * c + k]
