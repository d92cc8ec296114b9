"""Compiled 2-D max pooling for channels-last inputs (numba; see ``backend/jit.py``).

The NumPy path of ``pooling.py`` pools one axis at a time, each pass a chain of strided
compares, maxima and offset updates over the whole array, then combines the two passes'
winners; its backward loops over the kernel's taps. Here each window is visited once: the
forward keeps the running maximum and its offset for every channel of an output pixel, the
backward adds each output's gradient to the one input pixel that won. Samples are spread
over the cores.

The rules are PyTorch's (``aten/src/ATen/native/cpu/MaxPoolKernel.cpp``): taps outside the
input (padding) never win; a strictly greater value or a NaN replaces the running maximum,
so the first maximum wins ties and a NaN propagates; a window starts from -inf with the
offset of its first tap inside the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...backend.jit import kernel, prange

__all__ = ["max_pool2d_backward_cl", "max_pool2d_cl"]


@kernel(parallel=True)
def max_pool2d_cl(
    x: Any,
    out: Any,
    code: Any,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
) -> None:
    """Max over the windows of ``x`` (N, H, W, C) into ``out`` (N, OH, OW, C), with the
    winning kernel offset ``i*kw + j`` of each in ``code`` (same shape, unsigned ints)."""
    n, h, w, c = x.shape
    oh, ow = out.shape[1], out.shape[2]
    lowest = -np.inf
    for r in prange(n * oh):
        s, oy = r // oh, r % oh
        y0 = oy * sh - ph
        i0 = 0
        while y0 + i0 * dh < 0:
            i0 += 1
        for ox in range(ow):
            x0 = ox * sw - pw
            j0 = 0
            while x0 + j0 * dw < 0:
                j0 += 1
            i1 = min(kh, (h - 1 - y0) // dh + 1)  # taps i0..i1-1 and j0..j1-1 are inside
            j1 = min(kw, (w - 1 - x0) // dw + 1)
            for k in range(c):
                out[s, oy, ox, k] = lowest
                code[s, oy, ox, k] = i0 * kw + j0
            for i in range(i0, i1):
                y = y0 + i * dh
                for j in range(j0, j1):
                    xx = x0 + j * dw
                    tap = i * kw + j
                    for k in range(c):
                        # selects, not branches (random data would mispredict half of them);
                        # v != v: a NaN wins, as in PyTorch. Scalar indexing, no views: a
                        # view per pixel costs more than its six compares
                        v, b = x[s, y, xx, k], out[s, oy, ox, k]
                        take = (v > b) | (v != v)
                        out[s, oy, ox, k] = v if take else b
                        code[s, oy, ox, k] = tap if take else code[s, oy, ox, k]


@kernel(parallel=True)
def max_pool2d_backward_cl(
    g: Any,
    code: Any,
    gx: Any,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
) -> None:
    """Set ``gx`` (N, H, W, C) to the sum of the gradients ``g`` (N, OH, OW, C) of the
    windows each input pixel won (``code``: the winners' kernel offsets).

    Each tap of a window adds the gradient where it is the winner and 0 elsewhere: a select
    per value instead of a division to find the winner's position, and the same loop for
    overlapping windows (whose pixels collect several gradients)."""
    n, oh, ow, c = g.shape
    h, w = gx.shape[1], gx.shape[2]
    for s in prange(n):
        gx[s] = 0
        for oy in range(oh):
            y0 = oy * sh - ph
            for ox in range(ow):
                x0 = ox * sw - pw
                for i in range(kh):
                    y = y0 + i * dh
                    if y < 0 or y >= h:
                        continue
                    for j in range(kw):
                        xx = x0 + j * dw
                        if xx < 0 or xx >= w:
                            continue
                        tap = i * kw + j
                        for k in range(c):
                            gk = g[s, oy, ox, k]
                            gx[s, y, xx, k] += gk if code[s, oy, ox, k] == tap else 0.0
