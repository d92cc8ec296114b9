"""Convolution as a matrix multiply (CS231n L5 "Convolutional networks" and assignment 2's
im2col; CSC321 L11 "Convolutional networks").

A convolution slides a ``(C, KH, KW)`` filter over the padded input and takes a dot product at
every output position. Written with loops that is ``conv2d_naive`` (``conv_naive.py``); here it
is written the fast way the course describes:

1. **im2col**: a *strided view* of the padded input with shape ``(N, OH, OW, KH, KW, C)`` —
   no data is copied to make it, every window is just a different starting address — copied
   into a ``(N*OH*OW, KH*KW*C)`` matrix: one row per output position.
2. **GEMM**: the columns times the weights as a ``(KH*KW*C, O)`` matrix give every output at
   once, written straight into the output, stored channels-last (see "Memory layout" below).
   The batch is cut into blocks whose columns fit in the cache, so each block's copy and
   GEMM run back to back in the cache rather than through main memory.

The backward of ``y = cols @ W`` is two more GEMMs. ``dW = colsᵀ @ dy`` sums over the batch
and the positions (the columns rebuilt block by block from the saved input rather than
kept). ``dcols = dy @ Wᵀ`` is followed by **col2im**, which adds each column back onto the
input positions it was read from (a loop over the ``KH*KW`` kernel offsets, each a strided
add over every position at once). For stride 1 the input gradient is itself a convolution —
of ``dy`` with the flipped, transposed filters — which is faster (an im2col copy and a GEMM)
than ``dcols`` plus col2im; and then the weight gradient is a product of the same columns of
``dy`` with x, so the backward builds one set of columns, not two
(``_input_and_weight_grads``).

The blocks are independent, so a split op (``backend/threads.py``) hands each thread its own:
it builds their columns and runs their GEMMs (one-thread BLAS calls) in its own scratch
buffers, and the weight gradient's per-block partial sums are added up in block order.

At small outputs much of im2col's work is multiplying the zero padding (16% for a 3x3
kernel at 8x8): there the positions are split into a few classes read by the same taps,
each multiplied by its own rows of W ("zero skipping" below, ``_position_classes.py``).

A **transposed convolution** (``conv_transpose2d``, "fractionally strided", CS231n L11
"Upsampling") is exactly the input gradient of a convolution, and its gradient is a
convolution: the two share every helper below. **Groups** split the channels into ``G``
independent convolutions: the matrices become ``(G, ...)`` stacks and the GEMMs batched ones.
1-D convolutions are 2-D ones with a height of 1.

All arrays stay in the input's dtype (float32 in, float32 GEMMs); ``xp = get_array_module(x)``
keeps the code the same on NumPy and CuPy.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ...autograd.function import Function
from ...backend import jit, threads
from ...backend.device import get_array_module
from ...backend.layout import batched_transpose, copy_into
from ...ops._util import add_to_rows, sum_rows
from ...tensor import Tensor
from ._conv_kernels import col2im_cl, im2col_cl, im2col_k_major
from ._position_classes import PositionClass, multiply_adds, position_classes

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]

Pair = tuple[int, int]
Pads = tuple[int, int, int, int]  # (top, bottom, left, right)


# ---------------------------------------------------------------- scratch buffers
# The big intermediates (padded input, columns, GEMM results) live only inside one call. A
# fresh 40 MB array costs as much as the copy that fills it (the OS hands out zeroed pages one
# fault at a time), so on the CPU each kind of intermediate gets a buffer that is reused from
# call to call (per thread; arrays over _CACHE_LIMIT are allocated each time). Every array
# that leaves this module (an output or a gradient) is freshly allocated, never a scratch view.
_scratch = threading.local()
_CACHE_LIMIT = 1 << 28  # 256 MB per buffer


def _buffer(xp: Any, key: str, shape: tuple[int, ...], dtype: Any) -> Any:
    """An uninitialised scratch array of ``shape``, reused by later calls with the same key."""
    if xp is not np:
        return xp.empty(shape, dtype=dtype)  # CuPy has its own memory pool
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    if nbytes > _CACHE_LIMIT:
        return np.empty(shape, dtype=dtype)
    buffers = _scratch.__dict__
    buf = buffers.get(key)
    if buf is None or buf.nbytes < nbytes:
        buf = buffers[key] = np.empty(max(nbytes, 8), dtype=np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def empty_cache() -> None:
    """Free this thread's convolution scratch buffers (they are otherwise kept for reuse)."""
    _scratch.__dict__.clear()


# ---------------------------------------------------------------- the array-level kernels
# Memory layout. Every array has PyTorch's NCHW *shape*, but a convolution's output is stored
# channels-last, as (N, H, W, C) in memory, and handed out as a transposed view (PyTorch's
# "channels_last" memory format). With the channels innermost, a window's KW*C values along
# an image row are contiguous, the columns are ``(positions, KH*KW*C)`` rows, and the GEMMs
# have the long position axis as BLAS's fast "M" dimension: about 1.5x the speed of the
# channel-major layout at ResNet-20's 16-64 channels. The next layer's columns, the
# backward's ``dy`` as a ``(positions, O)`` matrix and batch norm's per-channel sums all read
# this layout without a transpose copy. Elementwise ops keep whatever layout their input has,
# so the whole network runs channels-last without any op knowing.
def _channels_last(x: Any) -> bool:
    """True if ``x`` (N, C, H, W) is stored as a C-contiguous (N, H, W, C) array."""
    return x.transpose(0, 2, 3, 1).flags.c_contiguous


def _to_channels_last(x: Any) -> Any:
    """A channels-last copy of x (N, C, H, W)."""
    out = _new_nchw(get_array_module(x), *x.shape, x.dtype)
    copy_into(out, x)
    return out


def _new_nchw(xp: Any, n: int, c: int, h: int, w: int, dtype: Any) -> Any:
    """A fresh (N, C, H, W) array stored channels-last (see above)."""
    return xp.empty((n, h, w, c), dtype=dtype).transpose(0, 3, 1, 2)


def _pad(x: Any, pads: Pads) -> Any:
    """``x`` (N, C, H, W) with ``pads`` zeros added on each side, in a channels-last scratch
    buffer (or ``x`` itself when there is nothing to pad); a negative pad crops."""
    if pads == (0, 0, 0, 0):
        return x
    n, c, h, w = x.shape
    # negative pads crop: slice first, then pad what is left to pad
    x = x[:, :, max(-pads[0], 0) : h - max(-pads[1], 0), max(-pads[2], 0) : w - max(-pads[3], 0)]
    top, bottom, left, right = (max(p, 0) for p in pads)
    if top == bottom == left == right == 0:
        return x
    h, w = x.shape[2:]
    buf = _buffer(get_array_module(x), "pad", (n, h + top + bottom, w + left + right, c), x.dtype)
    buf[:, :top] = 0  # zero only the border: the inside is overwritten next
    buf[:, top + h :] = 0
    buf[:, top : top + h, :left] = 0
    buf[:, top : top + h, left + w :] = 0
    out = buf.transpose(0, 3, 1, 2)
    out[:, :, top : top + h, left : left + w] = x
    return out


def _out_size(size: int, k: int, s: int, d: int) -> int:
    """Output length of a convolution over a padded length: ``(size - d*(k-1) - 1) // s + 1``."""
    return (size - d * (k - 1) - 1) // s + 1


def _windows(
    xpad: Any, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair, groups: int
) -> Any:
    """Every window of a padded input (N, C, Hp, Wp) as a strided *view* of shape
    ``(N, OH, OW, G, KH, KW, C/G)``: no data is copied, each window is just another starting
    address into the same memory. Copied, it is im2col's column matrix: one row of
    ``KH*KW*C/G`` values per output position and group (kernel offsets before channels, the
    order in which a channels-last input stores them)."""
    xp = get_array_module(xpad)
    n, c = xpad.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    s_n, s_c, s_h, s_w = xpad.strides
    cg = c // groups
    return xp.lib.stride_tricks.as_strided(
        xpad,
        shape=(n, oh, ow, groups, kh, kw, cg),
        strides=(s_n, s_h * sh, s_w * sw, s_c * cg, s_h * dh, s_w * dw, s_c),
    )


# The columns are 9x the input for a 3x3 kernel (37 MB for 64x16x32x32), too big for the
# cache: written to memory and read back by the GEMM. Instead the batch is cut into blocks
# whose columns fit in the L2 cache, and each block's columns are built and multiplied at
# once, so the GEMM reads them from cache.
_BLOCK_BYTES = 1 << 22


def _k_major(windows: Any) -> bool:
    """Build the columns the other way round, ``(G, KH*KW*C/G, positions)``, when an input
    has so few channels (a grey or RGB image) that a window row holds only a handful of
    contiguous values: then the copy runs along image rows (OW values) instead."""
    n, oh, ow, g, kh, kw, cg = windows.shape
    return _few_channels(cg, kw, ow)


def _few_channels(c: int, kw: int, ow: int) -> bool:
    """``_k_major``'s test: a window row of ``kw*c`` values is too short for a row copy."""
    return kw * c < 16 and ow > kw * c


def _compiled_columns_apply(c: int, kernel: Pair, stride: Pair, pads: Pads, ow: int) -> bool:
    """Whether the compiled im2col builds these columns (given a channels-last input): not
    for few channels (``_k_major``), nor for a 1x1 stride-1 convolution, whose columns are
    the input itself."""
    trivial = kernel == (1, 1) and stride == (1, 1) and pads == (0, 0, 0, 0)
    return not trivial and not _few_channels(c, kernel[1], ow)


def _blocks(xp: Any, n: int, row_bytes: int, limit: int | None = None) -> list[Pair]:
    """The ``(start, stop)`` sample ranges of the column blocks: each block's columns within
    ``limit`` bytes (``_BLOCK_BYTES`` by default), and the block count a multiple of the
    threads, so that each thread of a split op (``backend/threads.py``) gets an even share.
    One block on the GPU, where one big GEMM is best."""
    if xp is not np or n == 0:
        return [(0, n)]
    limit = limit or _BLOCK_BYTES
    count = -(-n // max(1, min(n, limit // max(1, row_bytes))))
    t = threads.get_num_threads()
    count = min(n, -(-count // t) * t)
    # sizes differ by one at most: equal blocks of 7 and a last one of 1 (64 samples in
    # 10 blocks) gave one thread 35 samples and the other 29
    return [(n * i // count, n * (i + 1) // count) for i in range(count)]


def _compiled(x: Any, groups: int, channels_last: bool = True) -> bool:
    """Whether the compiled loops (``_conv_kernels.py``) can take this input: a NumPy float
    array (stored channels-last, where asked), one group, and the kernels switched on
    (``backend/jit.py``)."""
    return (
        groups == 1
        and type(x) is np.ndarray
        and x.dtype in (np.float32, np.float64)
        and (not channels_last or _channels_last(x))
        and jit.enabled()
    )


def _wants_channels_last(
    x: Any, w: Any, stride: Pair, pads: Pads, dilation: Pair, groups: int
) -> bool:
    """Whether an input that is not channels-last should be copied into it first: when the
    compiled im2col would then build its columns (see ``_column_plan``). The copy is what
    the backward reads too; a dy in NCHW is instead transposed block by block
    (``_block_rows``), as it is read once."""
    kw = w.shape[3]
    ow = _out_size(x.shape[3] + pads[2] + pads[3], kw, stride[1], dilation[1])
    return (
        _compiled_columns_apply(x.shape[1], w.shape[2:], stride, pads, ow)
        and _compiled(x, groups, channels_last=False)
        and not _channels_last(x)
    )


def _blockwise_layout(x: Any) -> bool:
    """Whether ``_block_rows`` reads x (N, C, H, W) without a whole copy: stored
    channels-last, or C-contiguous NCHW (then with the compiled kernels)."""
    return _channels_last(x) or (x.flags.c_contiguous and _compiled(x, 1, channels_last=False))


def _block_rows(x: Any, start: int, stop: int, key: str) -> Any:
    """Samples ``start:stop`` of x (N, C, H, W), as (B*H*W, C) rows: a view of a channels-last
    x. A C-contiguous NCHW x (a user's batch, a gradient PyTorch hands over) is transposed
    into the scratch buffer ``key`` by the compiled tiled transpose (``backend/layout.py``),
    one block at a time on the block's own thread: the block stays in the cache for the
    columns built from it next, where a whole channels-last copy would go through memory
    (the backward of ResNet-20's first-stage convolution on two threads, given an NCHW dy:
    4.8-5.0 -> 4.2-4.6 ms; given a channels-last one, 4.0-4.4)."""
    n, c, h, w = x.shape
    if _channels_last(x):
        return x[start:stop].transpose(0, 2, 3, 1).reshape(-1, c)
    b = stop - start
    rows = _buffer(np, key, (b * h * w, c), x.dtype)
    batched_transpose(x[start:stop].reshape(-1), rows.reshape(-1), b, c, h * w)
    return rows


def _column_plan(
    x: Any,
    kernel: Pair,
    stride: Pair,
    pads: Pads,
    dilation: Pair,
    out_hw: Pair,
    groups: int,
    key: str = "x_block",
) -> tuple[bool, list[Pair], Callable[[int, int], Any]]:
    """``(k_major, blocks, build)`` for the im2col columns of x (N, C, H, W): the blocks'
    sample ranges (``_blocks``) and ``build(start, stop)``, which returns the columns of
    samples ``start:stop`` as ``(B*OH*OW, G, KH*KW*C/G)`` (``(G, KH*KW*C/G, B*OH*OW)`` when
    ``k_major``) in the calling thread's scratch buffer: blocks may be built on several
    threads at once.

    A channels-last input gets its columns from the compiled im2col, straight from the
    unpadded input, and so does a C-contiguous NCHW one, each block first transposed into
    the scratch buffer ``key`` (``_block_rows``); others from a padded copy's strided view
    (made here, once), and a 1x1 stride-1 convolution of a channels-last input is its own
    columns (a view)."""
    xp = get_array_module(x)
    n, c = x.shape[:2]
    (kh, kw), (oh, ow) = kernel, out_hw
    k, per_sample = kh * kw * c // groups, oh * ow
    blocks = _blocks(xp, n, groups * k * per_sample * x.dtype.itemsize)
    if (
        _compiled_columns_apply(c, kernel, stride, pads, ow)
        and _compiled(x, groups, channels_last=False)
        and _blockwise_layout(x)
    ):
        geometry = (oh, ow, kh, kw, c, *x.shape[2:])

        def build_compiled(start: int, stop: int) -> Any:
            b = stop - start
            flat_x = _block_rows(x, start, stop, key).reshape(-1)  # (B, H, W, C), flat
            cols = _buffer(np, "cols", (b, oh, ow, kh, kw, c), x.dtype)
            shape = np.array((b, *geometry), dtype=np.int64)
            im2col_cl(
                flat_x, cols.reshape(-1), shape, 0, b * oh, *stride, pads[0], pads[2], *dilation
            )
            return cols.reshape(b * per_sample, 1, k)

        return False, blocks, build_compiled
    if (
        _few_channels(c, kw, ow)
        and _compiled(x, groups, channels_last=False)
        and x.flags.c_contiguous
        and min(pads) >= 0
    ):
        geometry = (oh, ow, kh, kw, c, *x.shape[2:])

        def build_k_major(start: int, stop: int) -> Any:
            b = stop - start
            cols = _buffer(np, "cols", (kh, kw, c, b, oh, ow), x.dtype)
            shape = np.array((b, *geometry), dtype=np.int64)
            flat_x = x[start:stop].reshape(-1)
            im2col_k_major(
                flat_x, cols.reshape(-1), shape, 0, b * oh, *stride, pads[0], pads[2], *dilation
            )
            return cols.reshape(1, k, b * per_sample)

        return True, blocks, build_k_major
    windows = _windows(_pad(x, pads), kernel, stride, dilation, out_hw, groups)
    k_major = _k_major(windows)
    cg = c // groups
    if not k_major and (kh, kw) == (1, 1) and windows[:, :, :, :, 0, 0].flags.c_contiguous:
        # a 1x1 stride-1 convolution of a channels-last input: the input is its columns
        return False, blocks, lambda a, b: windows[a:b].reshape((b - a) * per_sample, groups, k)
    if k_major:
        by_kernel = windows.transpose(3, 4, 5, 6, 0, 1, 2)  # (G, KH, KW, C/G, N, OH, OW)

    def build(start: int, stop: int) -> Any:
        b = stop - start
        if k_major:
            cols = _buffer(xp, "cols", (groups, kh, kw, cg, b, oh, ow), x.dtype)
            cols[...] = by_kernel[:, :, :, :, start:stop]
            return cols.reshape(groups, k, b * per_sample)
        cols = _buffer(xp, "cols", (b, oh, ow, groups, kh, kw, cg), x.dtype)
        cols[...] = windows[start:stop]
        return cols.reshape(b * per_sample, groups, k)

    return k_major, blocks, build


def _grouped_weight(w: Any, groups: int) -> Any:
    """W (O, C/G, KH, KW) as the GEMMs' right operand: (G, KH*KW*C/G, O/G)."""
    o, cg, kh, kw = w.shape
    wg = w.reshape(groups, o // groups, cg, kh, kw).transpose(0, 3, 4, 2, 1)
    return wg.reshape(groups, kh * kw * cg, o // groups)


def _gemm(a: Any, b: Any, out: Any) -> None:
    """``out[p, g, :] = a[p, g, :] @ b[g]`` for every position p and group g: one 2-D GEMM
    per group (a, out: (P, G, *), b: (G, *, *))."""
    xp = get_array_module(a)
    if b.shape[0] == 1:
        matmul_rows(a[:, 0], b[0], out[:, 0])
    else:
        xp.matmul(a.transpose(1, 0, 2), b, out=out.transpose(1, 0, 2))


# OpenBLAS multiplies matrices of at most this many M*N*K without packing them first (its
# "small matrix" kernels, on AVX-512 cores). A convolution's products are long and skinny
# (P x 144 times 144 x 16 in ResNet-20's first stage): packed whole, the packing costs a
# third of the product. Cut into slices of rows under the limit (``_gemm_slices.py`` calls
# BLAS for each from a compiled loop), ResNet-20's convolutions took, forward + backward on
# two threads: 8.5 -> 7.2 ms (16 channels), 6.7 -> 5.7 ms (32); with 64 channels a slice
# would be 27 rows, and there is no gain.
_SMALL_GEMM = 1_000_000
_MIN_SLICE = 64  # rows: below, a call's cost outweighs the packing saved
_MIN_PY_SLICE = 256  # rows, when each slice is a np.matmul call from Python
_SMALL_GEMM_CORES = ("skylakex", "cooperlake", "sapphirerapids", "zen4", "zen5")
_small_gemm: bool | None = None  # whether NumPy's BLAS has those kernels; found on first use
_gemm_entry: dict[Any, int] | None = None  # cblas_?gemm's addresses (_gemm_slices.py)


def _slice_rows(k: int, n: int, p: int) -> int:
    """Rows per slice for a (p, k) @ (k, n) product (or a sum over p of (k, p) @ (p, n)), or
    0 to leave it whole: slices of at most ``_SMALL_GEMM`` multiply-adds, where NumPy's
    BLAS has small-matrix kernels and a slice has at least ``_MIN_SLICE`` rows."""
    global _small_gemm
    if _small_gemm is None:
        cores = [core.lower() for _, core in threads.blas_libraries()]
        _small_gemm = bool(cores) and all(core in _SMALL_GEMM_CORES for core in cores)
    rows = _SMALL_GEMM // max(1, k * n)
    return rows if _small_gemm and _MIN_SLICE <= rows < p else 0


def _sliced_gemm(dtype: Any) -> Any:
    """``(gemm_slices, address of cblas_?gemm)`` for ``dtype``, or ``None`` where the slices
    are cut from Python: no kernels (``backend/jit.py``), or no 64-bit cblas entry point."""
    global _gemm_entry
    if not jit.enabled():
        return None
    if _gemm_entry is None:
        _gemm_entry = {}
        libraries = threads.blas_libraries()
        if len(libraries) == 1:
            from ._gemm_slices import entry_points

            _gemm_entry = entry_points(libraries[0][0])
    fn = _gemm_entry.get(np.dtype(dtype))
    if fn is None:
        return None
    from . import _gemm_slices

    return _gemm_slices, fn


def _gemm_in_slices(over_k: bool, rows: int, a: Any, b: Any, c: Any, beta: float) -> bool:
    """``c = a @ b + beta*c`` (2-D NumPy arrays of one dtype) in slices of ``rows`` along
    a's rows (``over_k`` false) or along the summed axis, by the compiled loop; whether it
    could (operands BLAS can read in place, c row-major)."""
    found = _sliced_gemm(a.dtype) if a.dtype == b.dtype == c.dtype else None
    if found is None:
        return False
    module, fn = found
    axes = (1, 0, -1) if over_k else (0, -1, 0)
    ops = [module.operand(x, axis) for x, axis in zip((a, b, c), axes, strict=True)]
    if any(op is None for op in ops) or ops[2][2] != module.NO_TRANS:  # c row-major
        return False
    (m, k), n = a.shape, b.shape[1]
    one = a.dtype.type(1)
    total = k if over_k else m
    module.gemm_slices(fn, over_k, total, rows, m, n, k, *ops, one, a.dtype.type(beta))
    return True


def matmul_rows(a: Any, b: Any, out: Any) -> None:
    """``out = a @ b`` for 2-D a (P, K), b (K, N) and out (P, N) (views with any strides),
    in slices of rows small enough for BLAS's small-matrix kernels (``_slice_rows``)."""
    xp = get_array_module(a)
    rows = _slice_rows(a.shape[1], b.shape[1], a.shape[0]) if xp is np else 0
    if not rows:
        xp.matmul(a, b, out=out)
        return
    if _gemm_in_slices(False, rows, a, b, out, 0.0):
        return
    if rows < _MIN_PY_SLICE:  # from Python a call costs ~2 µs and the GIL
        xp.matmul(a, b, out=out)
        return
    for s in range(0, a.shape[0], rows):
        np.matmul(a[s : s + rows], b, out=out[s : s + rows])


def _as_rows(g: Any, key: str = "g2") -> Any:
    """(N, O, OH, OW) -> (N*OH*OW, O), the layout of the backward's GEMMs: a free view when
    ``g`` is channels-last (the usual case), else a copy into the scratch buffer ``key``."""
    n, o, oh, ow = g.shape
    if _channels_last(g):
        return g.transpose(0, 2, 3, 1).reshape(n * oh * ow, o)
    rows = _buffer(get_array_module(g), key, (n, oh, ow, o), g.dtype)
    copy_into(rows.transpose(0, 3, 1, 2), g)
    return rows.reshape(n * oh * ow, o)


# ---------------------------------------------------------------- zero skipping
# At small outputs a good share of im2col's multiply-adds are by the zero padding (16% for a
# 3x3 kernel at 8x8, 31% at 4x4). There the output positions are split into classes that
# read the same taps (``_position_classes.py``), each class multiplied by its own taps' rows
# of W. The classes' products are smaller, so they run in blocks of up to half the batch on
# two threads: at 8x8 with 256 channels, 7-sample blocks kept only half the saving.
# The products must be big enough to lose nothing by being cut up: with 64 channels in and
# out (ResNet-20's last stage) the classes made its 8x8 convolutions 10% slower.
_SKIP_AT_LEAST = 0.12  # the share of multiply-adds skipped below which classes do not pay
_CLASS_CHANNELS = 128 * 128  # the least (input channels x output channels) where they do
_CLASS_BLOCK_BYTES = 1 << 24


def _class_plan(
    x: Any,
    kernel: Pair,
    stride: Pair,
    pads: Pads,
    dilation: Pair,
    out_hw: Pair,
    groups: int,
    out_channels: int,
) -> list[PositionClass] | None:
    """The position classes of this convolution when they pay (stride 1, undilated, one
    group, the compiled im2col, at least ``_CLASS_CHANNELS`` channel pairs, every output
    reading the image, at least ``_SKIP_AT_LEAST`` of the multiply-adds on padding), else
    None."""
    n, c, h, w = x.shape
    kh, kw = kernel
    if (
        c * out_channels < _CLASS_CHANNELS
        or stride != (1, 1)
        or dilation != (1, 1)
        or groups != 1
        or min(pads) < 0
        or not _compiled_columns_apply(c, kernel, stride, pads, out_hw[1])
        or not _compiled(x, 1, channels_last=False)
        or not _blockwise_layout(x)
    ):
        return None
    classes = position_classes((h, w), kernel, (pads[0], pads[2]), out_hw)
    if any(c.taps_h[0] >= c.taps_h[1] or c.taps_w[0] >= c.taps_w[1] for c in classes):
        return None  # outputs that read only padding
    full = out_hw[0] * out_hw[1] * kh * kw
    return classes if multiply_adds(classes) <= (1 - _SKIP_AT_LEAST) * full else None


def _class_columns(
    flat_x: Any, b: int, c: int, hw: Pair, cls: PositionClass, pads: Pads, key: str = "cols"
) -> Any:
    """The columns of one class for a block of ``b`` samples (``flat_x``: their flat
    channels-last input), as (positions, taps*C): im2col over the class's rectangle of
    outputs and of taps, its offsets folded into the padding."""
    ny, nx = cls.rows[1] - cls.rows[0], cls.cols[1] - cls.cols[0]
    ni, nj = cls.taps_h[1] - cls.taps_h[0], cls.taps_w[1] - cls.taps_w[0]
    cols = _buffer(np, key, (b, ny, nx, ni, nj, c), flat_x.dtype)
    shape = np.array((b, ny, nx, ni, nj, c, *hw), dtype=np.int64)
    top = pads[0] - cls.rows[0] - cls.taps_h[0]
    left = pads[2] - cls.cols[0] - cls.taps_w[0]
    im2col_cl(flat_x, cols.reshape(-1), shape, 0, b * ny, 1, 1, top, left, 1, 1)
    return cols.reshape(b * ny * nx, ni * nj * c)


def _class_taps(w_rows: Any, kernel: Pair, cls: PositionClass) -> Any:
    """The rows of W as ``(KH*KW*C, O)`` (kernel offsets before channels) that a class's
    taps read: a contiguous (taps*C, O) copy."""
    kh, kw = kernel
    w4 = w_rows.reshape(kh, kw, -1, w_rows.shape[1])
    taps = w4[cls.taps_h[0] : cls.taps_h[1], cls.taps_w[0] : cls.taps_w[1]]
    return np.ascontiguousarray(taps).reshape(-1, w_rows.shape[1])


def _class_rows(b: int, cls: PositionClass) -> int:
    return b * (cls.rows[1] - cls.rows[0]) * (cls.cols[1] - cls.cols[0])


def _conv_by_class(
    x: Any, w_rows: Any, out4: Any, kernel: Pair, pads: Pads, classes: list[PositionClass]
) -> None:
    """``out4`` (N, OH, OW, O), channels-last memory, set to the stride-1 convolution of x
    (N, C, H, W) with W as ``(KH*KW*C, O)`` rows, class by class (see "zero skipping")."""
    n, c, h, w = x.shape
    o = w_rows.shape[1]
    weights = [_class_taps(w_rows, kernel, cls) for cls in classes]
    widest = max(
        _class_rows(1, cls) * wc.shape[0] for cls, wc in zip(classes, weights, strict=True)
    )

    def block(samples: Pair) -> None:
        start, stop = samples
        b = stop - start
        flat_x = _block_rows(x, start, stop, "x_block").reshape(-1)
        for cls, wc in zip(classes, weights, strict=True):
            cols = _class_columns(flat_x, b, c, (h, w), cls, pads)
            res = _buffer(np, "class_out", (cols.shape[0], o), x.dtype)
            matmul_rows(cols, wc, res)
            dst = out4[start:stop, cls.rows[0] : cls.rows[1], cls.cols[0] : cls.cols[1]]
            dst[...] = res.reshape(dst.shape)

    limit = _CLASS_BLOCK_BYTES
    threads.parallel_map(block, _blocks(np, n, widest * x.dtype.itemsize, limit))


# ---------------------------------------------------------------- columns by slices
# The columns of a slice of positions are built right before its product, so they never
# leave the cache whatever the block's size: the blocks only share out the samples, and
# fewer of them cost less Python (4 -> 16 MB: ResNet-20's first two stages 3-6% faster).
_FUSED_BLOCK_BYTES = 1 << 24  # of columns a block would have had, built whole


def _fused_plan(
    x: Any, kernel: Pair, stride: Pair, pads: Pads, out_hw: Pair, groups: int, o: int
) -> tuple[int, bool] | None:
    """``(rows, k_major)`` when the columns are built ``rows`` output rows at a time beside
    their products (``_conv_fused.py``): one group, the compiled im2col (channels-last rows,
    or for few channels an NCHW input's kernel-offset-major rows, then for at least 16
    outputs), products sliced for BLAS's small-matrix kernels (``_slice_rows``) and called
    from compiled code. None otherwise."""
    n, c = x.shape[:2]
    (kh, kw), (oh, ow) = kernel, out_hw
    if groups != 1 or not _compiled(x, 1, channels_last=False) or _sliced_gemm(x.dtype) is None:
        return None
    if _compiled_columns_apply(c, kernel, stride, pads, ow) and _blockwise_layout(x):
        k_major = False
    elif _few_channels(c, kw, ow) and x.flags.c_contiguous and min(pads) >= 0 and o >= 16:
        # (with fewer outputs, LeNet-5's 6, a slice's product is too thin to gain from it)
        k_major = True
    else:
        return None
    positions = _slice_rows(kh * kw * c, o, n * oh * ow)
    return (max(1, positions // ow), k_major) if positions else None


def _fused_blocks(
    x: Any, k: int, out_hw: Pair, rows: int, geometry: tuple[int, ...], block: Any
) -> list[Any]:
    """``block(start, stop, cols, shape, geometry, fn)`` over the fused loops' blocks of
    x (N, C, H, W) on the split op's threads: ``cols`` the thread's scratch for ``rows``
    output rows of columns (K values each position), ``shape`` = (B, OH, OW, ...)'s first
    three, ``fn`` cblas_?gemm's address."""
    n, per_sample = x.shape[0], out_hw[0] * out_hw[1]
    fn = _sliced_gemm(x.dtype)[1]
    geometry = np.array(geometry, dtype=np.int64)

    def run(samples: Pair) -> Any:
        start, stop = samples
        cols = _buffer(np, "slice_cols", (rows * out_hw[1] * k,), x.dtype)
        return block(start, stop, cols, (stop - start, *out_hw), geometry, fn)

    bytes_per_sample = k * per_sample * x.dtype.itemsize
    return threads.parallel_map(run, _blocks(np, n, bytes_per_sample, _FUSED_BLOCK_BYTES))


def _fused_block(x: Any, start: int, stop: int, k_major: bool) -> Any:
    """A block's input as the fused loops read it: flat NCHW for kernel-offset-major
    columns, else flat channels-last (``_block_rows``)."""
    if k_major:
        return x[start:stop].reshape(-1)
    return _block_rows(x, start, stop, "x_block").reshape(-1)


def _conv_fused(
    x: Any,
    w_rows: Any,
    out_rows: Any,
    kernel: Pair,
    stride: Pair,
    pads: Pads,
    dilation: Pair,
    out_hw: Pair,
    plan: tuple[int, bool],
) -> None:
    """``out_rows`` (N*OH*OW, O), row-major, set to the convolution of x with W as
    ``(KH*KW*C, O)`` rows, each block's columns built a slice at a time right before their
    product (``_conv_fused.conv_in_slices``)."""
    from . import _conv_fused, _gemm_slices

    c, h, w = x.shape[1:]
    per_sample, (rows, k_major) = out_hw[0] * out_hw[1], plan
    w_op = _gemm_slices.operand(w_rows, -1)
    one, zero = x.dtype.type(1), x.dtype.type(0)

    def block(start: int, stop: int, cols: Any, lead: Any, geometry: Any, fn: int) -> None:
        shape = np.array((*lead, *kernel, c, h, w), dtype=np.int64)
        dst = _gemm_slices.operand(out_rows[start * per_sample : stop * per_sample], 0)
        _conv_fused.conv_in_slices(
            fn, _fused_block(x, start, stop, k_major), cols, shape, geometry, rows, w_op, dst,
            w_rows.shape[1], one, zero, k_major,
        )  # fmt: skip

    geometry = (*stride, pads[0], pads[2], *dilation)
    _fused_blocks(x, w_rows.shape[0], out_hw, rows, geometry, block)


def _weight_grad_fused(
    x: Any,
    g2: Any,
    w_shape: tuple[int, ...],
    out_hw: Pair,
    stride: Pair,
    pads: Pads,
    dilation: Pair,
    plan: tuple[int, bool],
) -> Any:
    """``_weight_grad`` with x's columns rebuilt a slice at a time beside their product
    (``_conv_fused.weight_grad_in_slices``); returns dW as (KH*KW*C, O)."""
    from . import _conv_fused, _gemm_slices

    c, h, w = x.shape[1:]
    o, _, kh, kw = w_shape
    per_sample, (rows, k_major) = out_hw[0] * out_hw[1], plan

    def block(start: int, stop: int, cols: Any, lead: Any, geometry: Any, fn: int) -> Any:
        shape = np.array((*lead, kh, kw, c, h, w), dtype=np.int64)
        dy = _gemm_slices.operand(g2[start * per_sample : stop * per_sample], 0)
        part = np.zeros((kh * kw * c, o), dtype=x.dtype)
        _conv_fused.weight_grad_in_slices(
            fn, _fused_block(x, start, stop, k_major), cols, shape, geometry, rows, dy,
            _gemm_slices.operand(part, -1), o, x.dtype.type(1), k_major,
        )  # fmt: skip
        return part

    geometry = (*stride, pads[0], pads[2], *dilation)
    return _sum(_fused_blocks(x, kh * kw * c, out_hw, rows, geometry, block))


def _grads_fused(
    g: Any, x: Any, wf: Any, dx_rows: Any, kernel: Pair, gpads: Pads, dilation: Pair, rows: int
) -> Any:
    """``_input_and_weight_grads``' dx (into ``dx_rows``, (N*H*W, C)) and weight gradient
    (returned in ``wf``'s (KH*KW*O, C) layout), dy's columns built ``rows`` rows of input
    positions at a time beside both products (``_conv_fused.grads_in_slices``)."""
    from . import _conv_fused, _gemm_slices

    o, oh, ow = g.shape[1:]
    c, h, w = x.shape[1:]
    per_sample = h * w
    wf_op = _gemm_slices.operand(wf, -1)
    one, zero = g.dtype.type(1), g.dtype.type(0)

    def block(start: int, stop: int, cols: Any, lead: Any, geometry: Any, fn: int) -> Any:
        shape = np.array((*lead, *kernel, o, oh, ow), dtype=np.int64)
        x_op = _gemm_slices.operand(_block_rows(x, start, stop, "x2"), 0)
        dx_op = _gemm_slices.operand(dx_rows[start * per_sample : stop * per_sample], 0)
        part = np.zeros((wf.shape[0], c), dtype=g.dtype)
        _conv_fused.grads_in_slices(
            fn, _block_rows(g, start, stop, "g_block").reshape(-1), cols, shape, geometry,
            rows, wf_op, dx_op, x_op, _gemm_slices.operand(part, -1), c, one, zero,
        )  # fmt: skip
        return part

    geometry = (1, 1, gpads[0], gpads[2], *dilation)
    return _sum(_fused_blocks(g, wf.shape[0], (h, w), rows, geometry, block))


def _conv(
    x: Any,
    w: Any,
    b: Any,
    stride: Pair,
    pads: Pads,
    dilation: Pair,
    groups: int,
    out_hw: Pair | None = None,
) -> Any:
    """The convolution of x (N, C, H, W) with w (O, C/G, KH, KW), plus b: a new (N, O, OH, OW)
    array, stored channels-last.

    For each block of samples: its columns (positions, KH*KW*C) times W as (KH*KW*C, O) (one
    GEMM per group), written straight into the block's rows of the (N*OH*OW, O) output.
    ``out_hw`` may ask for fewer output positions than fit (the input gradient of a transposed
    convolution whose output_padding no window reads)."""
    xp = get_array_module(x)
    kernel = w.shape[2:]
    if out_hw is None:
        padded = (x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3])
        out_hw = tuple(_out_size(padded[i], kernel[i], stride[i], dilation[i]) for i in (0, 1))
    n, o = x.shape[0], w.shape[0]
    per_sample = out_hw[0] * out_hw[1]
    out = _new_nchw(xp, n, o, *out_hw, x.dtype)
    rows = out.transpose(0, 2, 3, 1).reshape(n * per_sample, groups, o // groups)  # a view
    wg = _grouped_weight(w, groups)
    classes = _class_plan(x, kernel, stride, pads, dilation, out_hw, groups, o)
    fused = None if classes else _fused_plan(x, kernel, stride, pads, out_hw, groups, o)
    if classes:
        _conv_by_class(x, wg[0], out.transpose(0, 2, 3, 1), kernel, pads, classes)
    elif fused:
        _conv_fused(x, wg[0], rows[:, 0], kernel, stride, pads, dilation, out_hw, fused)
    else:
        k_major, blocks, build = _column_plan(x, kernel, stride, pads, dilation, out_hw, groups)

        def block(samples: Pair) -> None:
            start, stop = samples
            cols = build(start, stop)
            dst = rows[start * per_sample : stop * per_sample]
            if k_major:
                if groups == 1:  # (positions, K) @ (K, O): cols read transposed, in slices
                    matmul_rows(cols[0].T, wg[0], dst[:, 0])
                else:
                    xp.matmul(wg.transpose(0, 2, 1), cols, out=dst.transpose(1, 2, 0))
            else:
                _gemm(cols, wg, dst)

        threads.parallel_map(block, blocks)
    if b is not None:
        add_to_rows(rows.reshape(n * per_sample, o), b)
    return out


def _bias_grad(g: Any) -> Any:
    """dL/db of a convolution: dy (N, O, OH, OW) summed over all but the channels."""
    if _channels_last(g):
        return sum_rows(_as_rows(g))
    return get_array_module(g).sum(g, axis=(0, 2, 3))


def _sum(parts: list[Any]) -> Any:
    """The sum of the blocks' partial results (in block order: the same sum on any number
    of threads)."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def _add_products(gw: Any, a: Any, b: Any) -> None:
    """``gw += a @ b`` for a (G, K, positions) and b (G, positions, M): a sum over the
    positions, in slices small enough for BLAS's small-matrix kernels (``_slice_rows``). A
    tiny result (LeNet's first layer: 25 x 6) is summed in slices of 4096 positions even
    without them, 2.5x faster: BLAS streams both operands through a product it cannot tile."""
    xp = get_array_module(a)
    k, p, m = a.shape[1], a.shape[2], gw.shape[2]
    sliced = _slice_rows(k, m, p) if xp is np else 0
    if sliced and gw.shape[0] == 1 and _gemm_in_slices(True, sliced, a[0], b[0], gw[0], 1.0):
        return
    if sliced < _MIN_PY_SLICE:
        sliced = 0
    step = sliced or (4096 if k * m < 512 else max(p, 1))
    for s in range(0, p, step):
        gw += xp.matmul(a[:, :, s : s + step], b[:, s : s + step])


def _weight_grad(
    x: Any,
    g2: Any,
    w_shape: tuple[int, ...],
    out_hw: Pair,
    stride: Pair,
    pads: Pads,
    dilation: Pair,
    groups: int,
) -> Any:
    """dW = colsᵀ @ dy summed over the blocks of samples (per group), with dy as (P, O); the
    columns of x are rebuilt here rather than kept from the forward: built block by block in
    the cache they cost little, and nothing nine times the size of the input stays alive
    between the two passes."""
    xp = get_array_module(x)
    o, cg, kh, kw = w_shape
    per_sample = out_hw[0] * out_hw[1]
    fused = _fused_plan(x, (kh, kw), stride, pads, out_hw, groups, o)
    if fused and xp is np and g2.strides[1] == g2.itemsize:
        gw = _weight_grad_fused(x, g2, w_shape, out_hw, stride, pads, dilation, fused)
        # (KH, KW, C, O) -> (O, C, KH, KW)
        return np.ascontiguousarray(gw.reshape(kh, kw, cg, o).transpose(3, 2, 0, 1))
    g3 = g2.reshape(-1, groups, o // groups).transpose(1, 0, 2)  # (G, P, O/G)
    k_major, blocks, build = _column_plan(x, (kh, kw), stride, pads, dilation, out_hw, groups)

    def block(samples: Pair) -> Any:
        start, stop = samples
        cols = build(start, stop)
        kp = cols if k_major else cols.transpose(1, 2, 0)  # (G, K, positions)
        part = xp.zeros((groups, kh * kw * cg, o // groups), dtype=g2.dtype)
        _add_products(part, kp, g3[:, start * per_sample : stop * per_sample])
        return part

    gw = _sum(threads.parallel_map(block, blocks))
    # (G, KH, KW, C/G, O/G) -> (O, C/G, KH, KW)
    gw = gw.reshape(groups, kh, kw, cg, o // groups).transpose(0, 4, 3, 1, 2)
    return xp.ascontiguousarray(gw).reshape(w_shape)


def _col2im(
    dcols: Any,
    x_shape: tuple[int, ...],
    kernel: Pair,
    stride: Pair,
    pads: Pads,
    dilation: Pair,
    out_hw: Pair,
) -> Any:
    """Add the columns' gradients ``(G, KH*KW*C/G, N*OH*OW)`` back onto the input they were
    read from; returns a new (N, C, H, W) array, stored channels-last.

    A position read by several windows gets the sum of their gradients: one strided add per
    kernel offset (KH*KW adds, each over every output position at once). The sums run in a
    channel-major buffer, where each add moves whole image rows (channels-last, its inner
    loop would be the few channels of one position), then one copy makes it channels-last.
    """
    xp = get_array_module(dcols)
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    top, bottom, left, right = pads
    groups = dcols.shape[0]
    d = dcols.reshape(groups, kh, kw, c // groups, n, oh, ow)
    hp, wp = h + top + bottom, w + left + right
    dxpad = _buffer(xp, "col2im", (groups, c // groups, n, hp, wp), dcols.dtype)
    dxpad.fill(0)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            colz = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            dxpad[:, :, :, rows, colz] += d[:, i, j]
    dx = _new_nchw(xp, n, c, h, w, dcols.dtype)
    inside = dxpad.reshape(c, n, hp, wp)[:, :, top : top + h, left : left + w]
    dx.transpose(1, 0, 2, 3)[...] = inside
    return dx


def _flipped(w: Any, groups: int) -> Any:
    """The filters of the input gradient: W (O, C/G, KH, KW) -> (C, O/G, KH, KW), flipped."""
    o, cg, kh, kw = w.shape
    wt = w.reshape(groups, o // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4)
    return wt.reshape(groups * cg, o // groups, kh, kw)[:, :, ::-1, ::-1]


def _flip_pays(
    w_shape: tuple[int, ...], x_shape: tuple[int, ...], g_shape: tuple[int, ...], stride: Pair
) -> bool:
    """Whether the input gradient is best taken as a convolution of dy with the flipped
    filters: stride 1 only, and when its columns (over the H*W input positions, O channels)
    are not much larger than col2im's (over OH*OW outputs, C channels)."""
    o, c, (h, w_), (oh, ow) = w_shape[0], x_shape[1], x_shape[2:], g_shape[2:]
    return stride == (1, 1) and o * h * w_ <= 2 * c * oh * ow


def _flip_pads(
    w_shape: tuple[int, ...],
    x_shape: tuple[int, ...],
    g_shape: tuple[int, ...],
    pads: Pads,
    dilation: Pair,
) -> Pads:
    """The padding of dy in the flipped-filter convolution that gives the input gradient:
    ``d*(k-1) - pad`` before, whatever makes the output H x W after (negative crops)."""
    (kh, kw), (h, w_), (oh, ow), (dh, dw) = w_shape[2:], x_shape[2:], g_shape[2:], dilation
    top, left = dh * (kh - 1) - pads[0], dw * (kw - 1) - pads[2]
    return (top, h + dh * (kh - 1) - oh - top, left, w_ + dw * (kw - 1) - ow - left)


def _input_grad(
    g: Any,
    w: Any,
    x_shape: tuple[int, ...],
    stride: Pair,
    pads: Pads,
    dilation: Pair,
    groups: int,
    g2: Any = None,
    method: str | None = None,
) -> Any:
    """dL/dx of a convolution, given dy (N, O, OH, OW); ``g2`` is dy already as (N*OH*OW, O).

    Stride 1: a convolution of dy with the flipped filters, padded by ``d*(k-1) - pad`` (a
    negative pad crops), whenever its columns are not much larger than col2im's.
    Otherwise: ``dcols = Wᵀ @ dy`` then col2im. ``method`` ("flip", stride 1 only, or
    "col2im") forces one (the tests check that they agree).
    """
    n, c, h, w_ = x_shape
    o, _, kh, kw = w.shape
    oh, ow = g.shape[2:]
    if method is None:
        method = "flip" if _flip_pays(w.shape, x_shape, g.shape, stride) else "col2im"
    if method == "flip":
        gpads = _flip_pads(w.shape, x_shape, g.shape, pads, dilation)
        return _conv(g, _flipped(w, groups), None, (1, 1), gpads, dilation, groups, (h, w_))
    xp = get_array_module(g)
    if g2 is None:
        g2 = _as_rows(g)
    p, og = g2.shape[0], o // groups
    wg = _grouped_weight(w, groups)  # (G, KH*KW*C/G, O/G)
    if _compiled(g, groups, channels_last=False):
        # per block of samples: dcols = dy @ Wᵀ with the positions first, scattered by the
        # compiled col2im onto the block's own samples
        k, per_sample, plane = kh * kw * c, oh * ow, h * w_ * c
        dx = _new_nchw(xp, n, c, h, w_, g.dtype)
        flat_dx = dx.transpose(0, 2, 3, 1).reshape(-1)  # a view
        geometry = (oh, ow, kh, kw, c, h, w_)

        def block(samples: Pair) -> None:
            start, stop = samples
            dcols = _buffer(xp, "cols", ((stop - start) * per_sample, k), g.dtype)
            xp.matmul(g2[start * per_sample : stop * per_sample], wg[0].T, out=dcols)
            shape = np.array((stop - start, *geometry), dtype=np.int64)
            dst = flat_dx[start * plane : stop * plane]
            col2im_cl(dcols.reshape(-1), dst, shape, *stride, pads[0], pads[2], *dilation)

        threads.parallel_map(block, _blocks(xp, n, k * per_sample * g.dtype.itemsize))
        return dx
    dcols = _buffer(xp, "cols", (groups, wg.shape[1], p), g.dtype)
    # dcolsᵀ = W @ dyᵀ per group: positions last, the layout col2im adds rows of
    xp.matmul(wg, g2.reshape(p, groups, og).transpose(1, 2, 0), out=dcols)
    return _col2im(dcols, x_shape, (kh, kw), stride, pads, dilation, (oh, ow))


def _shares_dy_columns(
    w_shape: tuple[int, ...],
    x_shape: tuple[int, ...],
    g_shape: tuple[int, ...],
    stride: Pair,
    groups: int,
) -> bool:
    """Whether both gradients come from dy's columns (``_input_and_weight_grads``): when the
    input gradient is the flipped-filter convolution, for one group."""
    return groups == 1 and _flip_pays(w_shape, x_shape, g_shape, stride)


def _input_and_weight_grads(g: Any, x: Any, w: Any, pads: Pads, dilation: Pair) -> tuple[Any, Any]:
    """``(dx, dW)`` of a stride-1, one-group convolution from one set of columns of dy.

    The input gradient is the convolution of dy with the flipped filters: dy's columns
    ``colsG[q, (i', j', o)] = dy[q + (i', j') - pad', o]`` over the input positions q, times
    the flipped W. The weight gradient ``dW[o, c, i, j] = sum_p dy[p, o] x[p + (i, j) - pad, c]``
    is, with q = p + (i, j) - pad, a product of the *same* columns at i' = KH-1-i,
    j' = KW-1-j with x as (positions, C) rows: ``colsGᵀ @ x``. So the backward builds one set
    of columns, not two (x's and dy's), and each block's columns feed both GEMMs while they
    are in the cache."""
    xp = get_array_module(g)
    n, c, h, w_ = x.shape
    o, _, kh, kw = w.shape
    per_sample = h * w_
    gpads = _flip_pads(w.shape, x.shape, g.shape, pads, dilation)
    wf = _grouped_weight(_flipped(w, 1), 1)[0]  # (KH*KW*O, C)
    dx = _new_nchw(xp, n, c, h, w_, g.dtype)
    dx_rows = dx.transpose(0, 2, 3, 1).reshape(n * per_sample, c)  # a view
    blockwise = xp is np and _blockwise_layout(x)
    plan = _class_plan(g, (kh, kw), (1, 1), gpads, dilation, (h, w_), 1, c)
    classes = plan if blockwise else None
    if classes:
        gw = _grads_by_class(g, x, wf, dx.transpose(0, 2, 3, 1), (kh, kw), gpads, classes)
        gw = gw.reshape(kh, kw, o, c)[::-1, ::-1].transpose(2, 3, 0, 1)
        return dx, xp.ascontiguousarray(gw)
    fused = _fused_plan(g, (kh, kw), (1, 1), gpads, (h, w_), 1, c) if blockwise else None
    if fused and not fused[1]:
        gw = _grads_fused(g, x, wf, dx_rows, (kh, kw), gpads, dilation, fused[0])
        gw = gw.reshape(kh, kw, o, c)[::-1, ::-1].transpose(2, 3, 0, 1)
        return dx, xp.ascontiguousarray(gw)
    x_rows = None if blockwise else _as_rows(x, "x2")
    k_major, blocks, build = _column_plan(g, (kh, kw), (1, 1), gpads, dilation, (h, w_), 1)

    def block(samples: Pair) -> Any:
        start, stop = samples
        cols = build(start, stop)
        rows = slice(start * per_sample, stop * per_sample)
        x_block = _block_rows(x, start, stop, "x2") if blockwise else x_rows[rows]
        part = xp.zeros((1, kh * kw * o, c), dtype=g.dtype)
        if k_major:  # cols: (1, K, positions)
            matmul_rows(cols[0].T, wf, dx_rows[rows])
            _add_products(part, cols, x_block[None])
        else:  # cols: (positions, 1, K)
            matmul_rows(cols[:, 0], wf, dx_rows[rows])
            _add_products(part, cols.transpose(1, 2, 0), x_block[None])
        return part

    gw = _sum(threads.parallel_map(block, blocks))
    # gw[(i', j', o), c] is dW[o, c, KH-1-i', KW-1-j']
    gw = gw.reshape(kh, kw, o, c)[::-1, ::-1].transpose(2, 3, 0, 1)
    return dx, xp.ascontiguousarray(gw)


def _grads_by_class(
    g: Any,
    x: Any,
    wf: Any,
    dx4: Any,
    kernel: Pair,
    gpads: Pads,
    classes: list[PositionClass],
) -> Any:
    """``_input_and_weight_grads`` class by class (see "zero skipping"): ``dx4`` (N, H, W, C),
    channels-last memory, set to dy's convolution with the flipped filters ``wf``
    ((KH*KW*O, C) rows); returns the weight gradient in wf's layout. Each class's columns
    of dy give its inputs' gradient and, times those inputs' x as rows, its taps' share of
    the weight gradient."""
    n, o, oh, ow = g.shape
    c, (kh, kw) = x.shape[1], kernel
    h, w = dx4.shape[1:3]
    weights = [_class_taps(wf, kernel, cls) for cls in classes]
    widest = max(
        _class_rows(1, cls) * wc.shape[0] for cls, wc in zip(classes, weights, strict=True)
    )

    def block(samples: Pair) -> Any:
        start, stop = samples
        b = stop - start
        flat_g = _block_rows(g, start, stop, "g_block").reshape(-1)
        x_block = _block_rows(x, start, stop, "x2").reshape(b, h, w, c)
        part = np.zeros((kh, kw, o, c), dtype=g.dtype)
        for cls, wc in zip(classes, weights, strict=True):
            cols = _class_columns(flat_g, b, o, (oh, ow), cls, gpads)
            res = _buffer(np, "class_out", (cols.shape[0], c), g.dtype)
            matmul_rows(cols, wc, res)
            rows, columns = slice(*cls.rows), slice(*cls.cols)
            dst = dx4[start:stop, rows, columns]
            dst[...] = res.reshape(dst.shape)
            x_class = _buffer(np, "x_class", dst.shape, g.dtype)
            x_class[...] = x_block[:, rows, columns]
            taps = part[slice(*cls.taps_h), slice(*cls.taps_w)]
            taps += (cols.T @ x_class.reshape(-1, c)).reshape(taps.shape)
        return part

    blocks = _blocks(np, n, widest * g.dtype.itemsize, _CLASS_BLOCK_BYTES)
    return _sum(threads.parallel_map(block, blocks))


# ---------------------------------------------------------------- the Functions
def _as_4d(x: Any, nd: int) -> tuple[Any, tuple[int, ...]]:
    """Batched 2-D layout: (N, C, H, W) from an (un)batched 1-D or 2-D input; also returns
    the leading batch shape to restore: ``(N,)`` or ``()`` for an unbatched input."""
    lead = x.shape[: x.ndim - nd - 1]
    spatial = x.shape[x.ndim - nd :]
    n = lead[0] if lead else 1
    return x.reshape(n, x.shape[len(lead)], *((1,) * (2 - nd)), *spatial), lead


def _as_4d_weight(w: Any) -> Any:
    return w if w.ndim == 4 else w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])


def _restore(y: Any, lead: tuple[int, ...], nd: int) -> Any:
    return y.reshape(*lead, y.shape[1], *y.shape[4 - nd :])


class _ConvNd(Function):
    """y = conv(x, w) + b on 1-D or 2-D inputs (options already normalised to 2-D pairs)."""

    def forward(
        self,
        x: Any,
        w: Any,
        b: Any = None,
        *,
        stride: Pair,
        pads: Pads,
        dilation: Pair,
        groups: int,
    ) -> Any:
        nd = w.ndim - 2
        self.x_shape, self.w_shape, self.has_bias = x.shape, w.shape, b is not None
        self.nd, self.stride, self.pads = nd, stride, pads
        self.dilation, self.groups = dilation, groups
        x4, self.lead = _as_4d(x, nd)
        w4 = _as_4d_weight(w)
        if _wants_channels_last(x4, w4, stride, pads, dilation, groups):
            # an NCHW input (a user's tensor, not a convolution's output): one copy into
            # channels-last lets the compiled im2col build the columns of both passes
            x4 = _to_channels_last(x4)
        self.saved = (x4, w4)
        return _restore(_conv(x4, w4, b, stride, pads, dilation, groups), self.lead, nd)

    def backward(self, g: Any) -> tuple[Any, Any, Any]:
        x4, w4 = self.saved
        need = self.needs_input_grad
        n, o = x4.shape[0], w4.shape[0]
        g4 = g.reshape(n, o, *(1,) * (2 - self.nd), *g.shape[g.ndim - self.nd :])
        opts = (self.stride, self.pads, self.dilation, self.groups)
        gx = gw = gb = None
        if self.has_bias and need[2]:
            gb = _bias_grad(g4)
        if (
            need[0]
            and need[1]
            and _shares_dy_columns(w4.shape, x4.shape, g4.shape, self.stride, self.groups)
        ):
            if not _blockwise_layout(g4):  # dy's columns read a channels-last copy
                g4 = _as_rows(g4).reshape(n, *g4.shape[2:], o).transpose(0, 3, 1, 2)
            gx, gw = _input_and_weight_grads(g4, x4, w4, self.pads, self.dilation)
            return gx.reshape(self.x_shape), gw.reshape(self.w_shape), gb
        g2 = _as_rows(g4)  # (N*OH*OW, O), shared by the two gradients
        if not _channels_last(g4) and g2.flags.c_contiguous:
            # _as_rows copied dy channels-last: the input gradient's convolution reads that
            g4 = g2.reshape(n, *g4.shape[2:], o).transpose(0, 3, 1, 2)
        if need[1]:
            gw = _weight_grad(x4, g2, w4.shape, g4.shape[2:], *opts).reshape(self.w_shape)
        if need[0]:
            gx = _input_grad(g4, w4, x4.shape, *opts, g2).reshape(self.x_shape)
        return gx, gw, gb


class _Conv1d(_ConvNd):
    op_name = "conv1d"


class _Conv2d(_ConvNd):
    op_name = "conv2d"


class _ConvTransposeNd(Function):
    """y = conv_transpose(x, w) + b: the input gradient of a convolution, run forward."""

    def forward(
        self,
        x: Any,
        w: Any,
        b: Any = None,
        *,
        stride: Pair,
        pads: Pads,
        output_padding: Pair,
        dilation: Pair,
        groups: int,
    ) -> Any:
        nd = w.ndim - 2
        self.x_shape, self.w_shape, self.has_bias = x.shape, w.shape, b is not None
        self.nd, self.stride, self.pads = nd, stride, pads
        self.dilation, self.groups = dilation, groups
        x4, self.lead = _as_4d(x, nd)
        w4 = _as_4d_weight(w)
        n, _, h, w_ = x4.shape
        kh, kw = w4.shape[2:]
        oh = (
            (h - 1) * stride[0] - pads[0] - pads[1] + dilation[0] * (kh - 1) + output_padding[0] + 1
        )
        ow = (
            (w_ - 1) * stride[1]
            - pads[2]
            - pads[3]
            + dilation[1] * (kw - 1)
            + output_padding[1]
            + 1
        )
        # the convolution this is the input gradient of maps (N, C_out, oh, ow) to x's shape
        y = _input_grad(x4, w4, (n, w4.shape[1] * groups, oh, ow), stride, pads, dilation, groups)
        if b is not None:
            y += b.reshape(1, -1, 1, 1)
        self.saved = (x4, w4)
        return _restore(y, self.lead, nd)

    def backward(self, g: Any) -> tuple[Any, Any, Any]:
        x4, w4 = self.saved
        need = self.needs_input_grad
        n, _, h, w_ = x4.shape
        g4 = g.reshape(
            n, g.shape[-self.nd - 1], *(1,) * (2 - self.nd), *g.shape[g.ndim - self.nd :]
        )
        opts = (self.stride, self.pads, self.dilation, self.groups)
        gx = gw = gb = None
        # the roles swap: dy is the convolution's input, x its output gradient
        if need[1]:
            gw = _weight_grad(g4, _as_rows(x4), w4.shape, (h, w_), *opts).reshape(self.w_shape)
        if self.has_bias and need[2]:
            gb = g4.sum(axis=(0, 2, 3))
        if need[0]:
            # the gradient of an input gradient is the convolution itself
            gx = _conv(g4, w4, None, *opts, out_hw=(h, w_)).reshape(self.x_shape)
        return gx, gw, gb


class _ConvTranspose1d(_ConvTransposeNd):
    op_name = "conv_transpose1d"


class _ConvTranspose2d(_ConvTransposeNd):
    op_name = "conv_transpose2d"


# ---------------------------------------------------------------- argument checks
def _tuple(value: Any, nd: int, name: str, op: str) -> tuple[int, ...]:
    """An int or a sequence of ``nd`` ints, as a tuple (PyTorch's ``_pair``/``_single``)."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {nd} ints, got {value!r}")
    if isinstance(value, int) or (hasattr(value, "__index__") and not hasattr(value, "__len__")):
        return (int(value),) * nd
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(
            f"{op}: {name} must be an int or a tuple of {nd} ints, got {value!r}"
        ) from None
    if len(out) == 1:
        out = out * nd
    if len(out) != nd:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {nd} ints, got {value!r}")
    return out


def _to_pair(t: tuple[int, ...], fill: int) -> Pair:
    """A 1-D option as the 2-D pair of its height-1 convolution."""
    return (fill, t[0]) if len(t) == 1 else (t[0], t[1])


def _check_tensors(
    op: str, input: Any, weight: Any, bias: Any, nd: int, transposed: bool, groups: int
) -> None:
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: expected bias to be a Tensor or None, got {type(bias).__name__}")
    dims = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input {dims}, "
            f"got a {input.ndim}-D input of shape {tuple(input.shape)}"
        )
    if weight.ndim != nd + 2:
        layout = "(C_in, C_out/groups, " if transposed else "(C_out, C_in/groups, "
        layout += "kL)" if nd == 1 else "kH, kW)"
        raise ValueError(
            f"{op}: expected a {nd + 2}-D weight {layout}, got shape {tuple(weight.shape)}"
        )
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and t.data.dtype.kind != "f":
            raise TypeError(f"{op}: expected a floating-point {name}, got {t.dtype}")
    if weight.dtype != input.dtype or (bias is not None and bias.dtype != input.dtype):
        got = f"input {input.dtype}, weight {weight.dtype}"
        got += f", bias {bias.dtype}" if bias is not None else ""
        raise TypeError(f"{op}: input, weight and bias must have the same dtype, got {got}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups!r}")
    c = input.shape[-nd - 1]
    if transposed:
        c_in, c_out = weight.shape[0], weight.shape[1] * groups
        if c_in % groups:
            raise ValueError(
                f"{op}: weight's first dim (in_channels) {c_in} must be divisible by groups={groups}"
            )
    else:
        c_in, c_out = weight.shape[1] * groups, weight.shape[0]
        if c_out % groups:
            raise ValueError(
                f"{op}: weight's first dim (out_channels) {c_out} must be divisible by "
                f"groups={groups}"
            )
    if c != c_in:
        raise ValueError(
            f"{op}: expected input with {c_in} channels (weight {tuple(weight.shape)}, "
            f"groups={groups}), got {c} channels (input shape {tuple(input.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(
            f"{op}: expected bias of shape ({c_out},) (one per output channel), "
            f"got {tuple(bias.shape)}"
        )


def _check_positive(op: str, name: str, t: tuple[int, ...], given: Any) -> None:
    if any(v <= 0 for v in t):
        raise ValueError(f"{op}: {name} must be positive, got {given!r}")


def _conv_args(
    op: str,
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    nd: int,
) -> dict[str, Any]:
    _check_tensors(op, input, weight, bias, nd, False, groups)
    stride_t = _tuple(stride, nd, "stride", op)
    dilation_t = _tuple(dilation, nd, "dilation", op)
    _check_positive(op, "stride", stride_t, stride)
    _check_positive(op, "dilation", dilation_t, dilation)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * nd
        elif padding == "same":
            if any(s != 1 for s in stride_t):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions "
                    f"(stride={stride_t if nd > 1 else stride_t[0]})"
                )
            # PyTorch puts the odd extra zero on the right/bottom for even kernels
            total = [d * (k - 1) for d, k in zip(dilation_t, kernel, strict=True)]
            pads = [(t // 2, t - t // 2) for t in total]
        else:
            raise ValueError(
                f"{op}: invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
    else:
        p = _tuple(padding, nd, "padding", op)
        if any(v < 0 for v in p):
            raise ValueError(f"{op}: padding must be non-negative, got {p if nd > 1 else p[0]}")
        pads = [(v, v) for v in p]
    spatial = tuple(input.shape[-nd:])
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(spatial, pads, strict=True))
    eff = tuple(d * (k - 1) + 1 for d, k in zip(dilation_t, kernel, strict=True))
    if any(e > p for e, p in zip(eff, padded, strict=True)):
        what = f"kernel size {kernel if nd > 1 else kernel[0]}"
        if eff != kernel:
            what += f" (dilated to {eff if nd > 1 else eff[0]})"
        raise ValueError(
            f"{op}: {what} is larger than the padded input {padded if nd > 1 else padded[0]}"
        )
    pads2 = [(0, 0)] * (2 - nd) + pads
    return {
        "stride": _to_pair(stride_t, 1),
        "pads": (pads2[0][0], pads2[0][1], pads2[1][0], pads2[1][1]),
        "dilation": _to_pair(dilation_t, 1),
        "groups": groups,
    }


def _conv_transpose_args(
    op: str,
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
    nd: int,
) -> dict[str, Any]:
    _check_tensors(op, input, weight, bias, nd, True, groups)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of {nd} ints, got {padding!r}")
    stride_t = _tuple(stride, nd, "stride", op)
    dilation_t = _tuple(dilation, nd, "dilation", op)
    padding_t = _tuple(padding, nd, "padding", op)
    out_pad_t = _tuple(output_padding, nd, "output_padding", op)
    _check_positive(op, "stride", stride_t, stride)
    _check_positive(op, "dilation", dilation_t, dilation)
    one = (lambda t: t) if nd > 1 else (lambda t: t[0])
    if any(v < 0 for v in padding_t):
        raise ValueError(f"{op}: padding must be non-negative, got {one(padding_t)}")
    if any(
        v < 0 or (v >= s and v >= d)
        for v, s, d in zip(out_pad_t, stride_t, dilation_t, strict=True)
    ):
        raise ValueError(
            f"{op}: output_padding must be non-negative and smaller than either stride or "
            f"dilation, got output_padding={one(out_pad_t)}, stride={one(stride_t)}, "
            f"dilation={one(dilation_t)}"
        )
    kernel = tuple(weight.shape[2:])
    spatial = tuple(input.shape[-nd:])
    out = tuple(
        (i - 1) * s - 2 * p + d * (k - 1) + op_ + 1
        for i, s, p, d, k, op_ in zip(
            spatial, stride_t, padding_t, dilation_t, kernel, out_pad_t, strict=True
        )
    )
    if any(v <= 0 for v in out):
        raise ValueError(
            f"{op}: the output size {one(out)} is not positive (input {one(spatial)}, kernel "
            f"{one(kernel)}, stride {one(stride_t)}, padding {one(padding_t)}); use less padding"
        )
    pad2 = _to_pair(padding_t, 0)
    return {
        "stride": _to_pair(stride_t, 1),
        "pads": (pad2[0], pad2[0], pad2[1], pad2[1]),
        "output_padding": _to_pair(out_pad_t, 0),
        "dilation": _to_pair(dilation_t, 1),
        "groups": groups,
    }


# ---------------------------------------------------------------- public functions
def conv1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution (cross-correlation) over a sequence, as ``torch.nn.functional.conv1d``.

    Shapes: input ``(N, C_in, L)`` or unbatched ``(C_in, L)``; weight ``(C_out, C_in/groups,
    kL)``; bias ``(C_out,)``; output ``(N, C_out, L_out)`` with
    ``L_out = (L + 2*padding - dilation*(kL-1) - 1) // stride + 1``. ``padding`` may be an int,
    ``'valid'`` (no padding) or ``'same'`` (output as long as the input; stride 1 only).
    Lecture: CS231n L5 / CSC321 L11 (convolution), used on sequences (CS231n L10).
    """
    args = _conv_args("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)
    return _Conv1d.apply(input, weight, bias, **args)


def conv2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation) over images, as ``torch.nn.functional.conv2d``.

    Shapes: input ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``; weight
    ``(C_out, C_in/groups, kH, kW)``; bias ``(C_out,)``; output ``(N, C_out, H_out, W_out)`` with
    ``H_out = (H + 2*padding - dilation*(kH-1) - 1) // stride + 1`` (likewise W). ``stride``,
    ``padding`` and ``dilation`` are ints or pairs; ``padding`` may also be ``'valid'`` or
    ``'same'`` (stride 1 only; an even kernel gets its extra zero at the bottom/right).
    ``groups`` splits the channels into independent convolutions (``groups=C_in``: depthwise).
    Computed as im2col + one GEMM (see the module docstring). Lecture: CS231n L5, CSC321 L11.

    >>> import gradschool as gs
    >>> import gradschool.nn.functional as F
    >>> F.conv2d(gs.ones(1, 1, 4, 4), gs.ones(1, 1, 3, 3), padding=1)[0, 0, 0].tolist()
    [4.0, 6.0, 6.0, 4.0]
    """
    args = _conv_args("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)
    return _Conv2d.apply(input, weight, bias, **args)


def conv_transpose1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    Shapes: input ``(N, C_in, L)`` or ``(C_in, L)``; weight ``(C_in, C_out/groups, kL)``;
    output length ``(L-1)*stride - 2*padding + dilation*(kL-1) + output_padding + 1``.
    The gradient of ``conv1d`` with respect to its input, run forward. Lecture: CS231n L11.
    """
    args = _conv_transpose_args(
        "conv_transpose1d",
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        1,
    )
    return _ConvTranspose1d.apply(input, weight, bias, **args)


def conv_transpose2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """2-D transposed ("fractionally strided") convolution, as
    ``torch.nn.functional.conv_transpose2d``: learnable upsampling.

    Shapes: input ``(N, C_in, H, W)`` or ``(C_in, H, W)``; weight ``(C_in, C_out/groups, kH,
    kW)``; bias ``(C_out,)``; output ``(N, C_out, H_out, W_out)`` with
    ``H_out = (H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1``. Each input
    pixel stamps a copy of the filter, scaled by its value, onto the output; overlaps add up.
    It is exactly the input gradient of ``conv2d`` with the same weight, and shares its code.
    Lecture: CS231n L11 (segmentation: "learnable upsampling"), CSC321 L11.
    """
    args = _conv_transpose_args(
        "conv_transpose2d",
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        2,
    )
    return _ConvTranspose2d.apply(input, weight, bias, **args)
