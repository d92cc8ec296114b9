"""Copies between the two memory layouts of an image batch: NCHW and channels-last.

A convolution computes channels-last (``nn/functional/conv.py``, "Memory layout"), while a
user's batch, and the gradient PyTorch's layout contract asks for it, are NCHW. Moving a
(N, C, H, W) array between the two is a transpose of each sample's ``C x HW`` matrix, and
NumPy's strided copy walks one side of it with a stride of C or HW values: 0.97 ms one way
and 0.64 ms the other for a 64x16x32x32 float32 batch on one core. The compiled loop here
copies it in tiles of 16-32 values a side, so that both the rows it reads and the rows it
writes stay in the cache: 0.42 and 0.32 ms; on several threads each takes its own samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import jit, threads
from .jit import kernel, prange

__all__ = ["copy_into"]

#: smaller arrays are copied by NumPy: a kernel call costs more than it saves
MIN_SIZE = 1 << 15
# the least values per thread worth a second thread: a 64x16x32x32 copy takes 0.73 ms on one
# thread and 0.46 on two, out of the cache; a 64x3x32x32 one is a little slower split
_SPLIT_SIZE = 1 << 17


def _order(a: Any) -> str | None:
    """``"nchw"`` for a C-contiguous 4-D array, ``"nhwc"`` for a channels-last one."""
    if a.flags.c_contiguous:
        return "nchw"
    if a.transpose(0, 2, 3, 1).flags.c_contiguous:
        return "nhwc"
    return None


def copy_into(dst: Any, src: Any) -> None:
    """``dst[...] = src``; between an NCHW and a channels-last float array of the same
    shape and dtype, by the compiled tiled transpose (``batched_transpose``)."""
    if (
        dst.__class__ is not np.ndarray
        or src.__class__ is not np.ndarray
        or dst.ndim != 4
        or dst.shape != src.shape
        or dst.dtype != src.dtype
        or dst.dtype not in (np.float32, np.float64)
        or dst.size < MIN_SIZE
        or not jit.enabled()
    ):
        dst[...] = src
        return
    to, frm = _order(dst), _order(src)
    n, c, h, w = dst.shape
    if frm == "nchw" and to == "nhwc":  # each sample: (C, HW) -> (HW, C)
        rows, cols, flat_dst = c, h * w, dst.transpose(0, 2, 3, 1).reshape(-1)
        flat_src = src.reshape(-1)
    elif frm == "nhwc" and to == "nchw":  # each sample: (HW, C) -> (C, HW)
        rows, cols, flat_dst = h * w, c, dst.reshape(-1)
        flat_src = src.transpose(0, 2, 3, 1).reshape(-1)
    else:
        dst[...] = src
        return
    per = rows * cols

    def part(samples: tuple[int, int]) -> None:
        a, b = samples[0] * per, samples[1] * per
        batched_transpose(flat_src[a:b], flat_dst[a:b], samples[1] - samples[0], rows, cols)

    threads.parallel_map(part, threads.ranges(n, _SPLIT_SIZE, per))


def transpose_tile(
    src: Any, src_at: int, src_stride: int, dst: Any, dst_at: int, dst_stride: int
) -> None:
    """``dst[dst_at + j*dst_stride + i] = src[src_at + i*src_stride + j]`` for i, j < W: one
    W x W tile of flat arrays, W = 64 // itemsize (one 64-byte vector a row: 16 float32
    values). The loop as written; compiled kernels get ``_vector_tile.py``'s version, which
    moves the tile through vector registers."""
    width = 64 // src.itemsize
    for i in range(width):
        for j in range(width):
            dst[dst_at + j * dst_stride + i] = src[src_at + i * src_stride + j]


@kernel(parallel=True, uses="gradschool.backend._vector_tile")
def batched_transpose(src: Any, dst: Any, b: int, r: int, s: int) -> None:
    """``dst[k] = src[k].T`` for the ``b`` matrices of a flat ``src`` (b, r, s) into a flat
    ``dst`` (b, s, r). Whole W x W tiles go through ``transpose_tile`` (64x16x32x32 float32
    into channels-last: 0.55 -> 0.13-0.22 ms on one core), the ragged edges (the last
    ``r % W`` rows and ``s % W`` columns) through ``transpose_values``."""
    t = 64 // src.itemsize
    r_tiles, s_tiles = r - r % t, s - s % t
    for k in prange(b):
        base = k * r * s
        for i0 in range(0, r_tiles, t):
            for j0 in range(0, s_tiles, t):
                transpose_tile(src, base + i0 * s + j0, s, dst, base + j0 * r + i0, r)
        transpose_values(src, dst, base, r, s, (r_tiles, r), (0, s))  # the last rows
        transpose_values(src, dst, base, r, s, (0, r_tiles), (s_tiles, s))  # last columns


def transpose_values(
    src: Any, dst: Any, base: int, r: int, s: int, rows: tuple[int, int], cols: tuple[int, int]
) -> None:
    """``batched_transpose`` of the ``rows`` and ``cols`` ranges (first, stop) of the (r, s)
    matrix at ``base``, a value at a time, in square tiles of 16 or 32 values so that the
    rows read and the rows written stay in the cache. The inner loop runs along the longer
    side, contiguous in ``src`` when ``s`` is longer and in ``dst`` when ``r`` is (unsigned
    offsets: numba then drops its negative-index check and LLVM can vectorise the loop)."""
    base, r, s = np.uint64(base), np.uint64(r), np.uint64(s)
    inner_s = s >= r
    t = np.uint64(16) if inner_s else np.uint64(32)
    for r0 in range(np.uint64(rows[0]), np.uint64(rows[1]), t):
        r1 = min(r0 + t, np.uint64(rows[1]))
        for s0 in range(np.uint64(cols[0]), np.uint64(cols[1]), t):
            s1 = min(s0 + t, np.uint64(cols[1]))
            if inner_s:
                for i in range(r0, r1):
                    for j in range(s0, s1):
                        dst[base + j * r + i] = src[base + i * s + j]
            else:
                for j in range(s0, s1):
                    for i in range(r0, r1):
                        dst[base + j * r + i] = src[base + i * s + j]
