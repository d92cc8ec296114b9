"""Compiled 2-D max pooling for channels-last inputs (numba; see ``backend/jit.py``).

The NumPy path of ``pooling.py`` pools one axis at a time, each pass a chain of strided
compares, maxima and offset updates over the whole array, then combines the two passes'
winners; its backward loops over the kernel's taps. Here each window is visited once: the
forward keeps the running maximum and its offset for every channel of an output pixel, the
backward adds each output's gradient to the one input pixel that won.

The rules are PyTorch's (``aten/src/ATen/native/cpu/MaxPoolKernel.cpp``): taps outside the
input (padding) never win; a strictly greater value or a NaN replaces the running maximum,
so the first maximum wins ties and a NaN propagates; a window starts from -inf with the
offset of its first tap inside the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...backend.jit import kernel, prange

__all__ = [
    "max_pool2d_backward_cl",
    "max_pool2d_cl",
    "max_pool2x2_backward_cl",
    "max_pool2x2_cl",
]


@kernel(parallel=True)
def max_pool2d_cl(
    x: Any,
    out: Any,
    code: Any,
    shape: Any,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
) -> None:
    """Max over the windows of the flat channels-last ``x`` (N, H, W, C) into the flat
    ``out`` (N, OH, OW, C), with the winning kernel offset ``i*kw + j`` of each in ``code``
    (same shape, unsigned ints); ``shape`` = (N, H, W, C, OH, OW). Offsets into the flat
    arrays are unsigned, so numba adds no negative-index checks to the inner loops."""
    n, h, w, c, oh, ow = shape
    lowest = -np.inf
    for r in prange(n * oh):
        s, oy = r // oh, r % oh
        y0 = oy * sh - ph
        i0 = 0
        while y0 + i0 * dh < 0:
            i0 += 1
        i1 = min(kh, (h - 1 - y0) // dh + 1)  # taps i0..i1-1 are inside the image
        for ox in range(ow):
            x0 = ox * sw - pw
            j0 = 0
            while x0 + j0 * dw < 0:
                j0 += 1
            j1 = min(kw, (w - 1 - x0) // dw + 1)
            o = np.uint64(((s * oh + oy) * ow + ox) * c)
            for k in range(np.uint64(c)):
                out[o + k] = lowest
                code[o + k] = i0 * kw + j0
            for i in range(i0, i1):
                for j in range(j0, j1):
                    src = np.uint64(((s * h + y0 + i * dh) * w + x0 + j * dw) * c)
                    tap = i * kw + j
                    for k in range(np.uint64(c)):
                        # selects, not branches (random data would mispredict half of them);
                        # v != v: a NaN wins, as in PyTorch
                        v, b = x[src + k], out[o + k]
                        take = (v > b) | (v != v)
                        out[o + k] = v if take else b
                        code[o + k] = tap if take else code[o + k]


@kernel(parallel=True)
def max_pool2d_backward_cl(
    g: Any,
    code: Any,
    gx: Any,
    shape: Any,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
    tiles: bool,
) -> None:
    """Set the flat ``gx`` (N, H, W, C) to the sum of the flat gradients ``g``
    (N, OH, OW, C) of the windows each input pixel won (``code``: the winners' kernel
    offsets); ``shape`` = (N, H, W, C, OH, OW).

    Each tap of a window adds the gradient where it is the winner and 0 elsewhere: a select
    per value instead of a division to find the winner's position, and the same loop for
    overlapping windows (whose pixels collect several gradients). When the windows ``tiles``
    the input (each pixel in exactly one window) the values are written, not added, and
    nothing is zeroed first."""
    n, h, w, c, oh, ow = shape
    plane = h * w * c
    for s in prange(n):
        if not tiles:
            base = np.uint64(s * plane)
            for k in range(np.uint64(plane)):
                gx[base + k] = 0
        for oy in range(oh):
            y0 = oy * sh - ph
            for ox in range(ow):
                x0 = ox * sw - pw
                o = np.uint64(((s * oh + oy) * ow + ox) * c)
                for i in range(kh):
                    y = y0 + i * dh
                    if y < 0 or y >= h:
                        continue
                    for j in range(kw):
                        xx = x0 + j * dw
                        if xx < 0 or xx >= w:
                            continue
                        tap = i * kw + j
                        dst = np.uint64(((s * h + y) * w + xx) * c)
                        if tiles:
                            for k in range(np.uint64(c)):
                                gx[dst + k] = g[o + k] if code[o + k] == tap else 0.0
                        else:
                            for k in range(np.uint64(c)):
                                gx[dst + k] += g[o + k] if code[o + k] == tap else 0.0


# ---------------------------------------------------------------- 2x2 windows, stride 2
# The commonest pooling (LeNet, VGG) gets loops of its own. Above, a window's four taps are
# four passes along the channels, and with LeNet's 6 channels those runs are too short to be
# worth a loop each; here each channel of an output pixel compares its four inputs in
# registers. Measured on one core (128x6x28x28): forward 2.4 -> 0.7 ms, backward 1.7 -> 0.75
# ms; (64x64x32x32): forward 1.16 -> 0.95 ms. The backward's four scattered stores per value
# stop the compiler's SIMD code on many channels (5.2 ms against 0.92 at 64), so ``pooling.py``
# takes this backward only for fewer than 8 channels.


@kernel(parallel=True)
def max_pool2x2_cl(x: Any, out: Any, code: Any, shape: Any) -> None:
    """``max_pool2d_cl`` for 2x2 windows at stride 2 without padding: ``shape`` = (N, H, W,
    C, OH, OW) with OH <= H // 2 and OW <= W // 2 (a last odd row or column unread)."""
    n, h, w, c, oh, ow = shape
    for r in prange(n * oh):
        s, oy = r // oh, r % oh
        row0 = np.uint64(((s * h) + 2 * oy) * w * c)
        row1 = row0 + np.uint64(w * c)
        dst = np.uint64(r * ow * c)
        step = np.uint64(c)
        for ox in range(ow):
            o = dst + np.uint64(ox * c)
            d = np.uint64(2 * ox * c)
            for k in range(np.uint64(c)):
                # the first tap, then any strictly greater value or NaN (as above)
                best, tap = x[row0 + d + k], 0
                v = x[row0 + d + step + k]
                if v > best or v != v:
                    best, tap = v, 1
                v = x[row1 + d + k]
                if v > best or v != v:
                    best, tap = v, 2
                v = x[row1 + d + step + k]
                if v > best or v != v:
                    best, tap = v, 3
                out[o + k] = best
                code[o + k] = tap


@kernel(parallel=True)
def max_pool2x2_backward_cl(g: Any, code: Any, gx: Any, shape: Any, zero: Any) -> None:
    """``max_pool2d_backward_cl`` for 2x2 windows at stride 2 that tile the input (H = 2*OH,
    W = 2*OW): every input value is written once, its window's gradient where it won and
    ``zero`` (of gx's dtype) elsewhere."""
    n, h, w, c, oh, ow = shape
    for r in prange(n * oh):
        s, oy = r // oh, r % oh
        row0 = np.uint64(((s * h) + 2 * oy) * w * c)
        row1 = row0 + np.uint64(w * c)
        src = np.uint64(r * ow * c)
        step = np.uint64(c)
        for ox in range(ow):
            o = src + np.uint64(ox * c)
            d = np.uint64(2 * ox * c)
            for k in range(np.uint64(c)):
                v, t = g[o + k], code[o + k]
                gx[row0 + d + k] = v if t == 0 else zero
                gx[row0 + d + step + k] = v if t == 1 else zero
                gx[row1 + d + k] = v if t == 2 else zero
                gx[row1 + d + step + k] = v if t == 3 else zero
