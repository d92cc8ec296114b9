"""Compiled batch norm (numba; see ``backend/jit.py``). CS231n L6-L7 and assignment 2's
``batchnorm_forward`` / ``batchnorm_backward_alt``.

Batch norm is memory-bound: a few flops per value, and every value read from and written to
memory. What costs is the number of passes. In training the NumPy code of
``normalization.py`` makes six passes in the forward (sum, subtract, sum of squares, scale,
multiply by gamma, add beta: ten full-size arrays read or written) and six in the backward
(two sums, then four elementwise ops: twelve arrays), each on one core. These loops make

- forward: **two** passes — the statistics (read x), then ``y = (x - mean) * a + b``
  (read x, write y) — and save x itself rather than ``xhat``: writing xhat too would be one
  more full-size array (measured: +0.2-0.4 ms on a 4 MB activation), while the backward
  recomputes ``xhat`` from x in registers for free;
- backward: **two** passes — the sums ``sum(dy)`` and ``sum(dy * (x - mean))`` (read dy, x),
  then ``dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat))`` (read dy, x, write dx),

three arrays against ten forward, five against twelve backward. In evaluation the forward is the one ``affine`` pass. Sums and the per-value
arithmetic are in float64 whatever the input dtype; results are rounded to it at the end.

The statistics stay exact when ``|mean| >> std`` (data = 1000 + noise): each block of
values is small enough to stay in the cache, so the block's mean is taken first and its
squared deviations from that mean in a second sweep of the cached block (the two-pass
formula, never ``E[x^2] - E[x]^2``); the blocks' ``(count, mean, M2)`` are then merged with
Chan et al.'s parallel formula, ``M2 = sum M2_b + sum n_b (mean_b - mean)^2``.

Two memory layouts have loops here (``layout`` picks; anything else takes the NumPy path):

- **channels-last** — a convolution's output (see ``conv.py``, "Memory layout") or a 2-D
  ``(N, C)`` input: memory is a ``(P, C)`` matrix, ``P = N*H*W`` rows of C channels. C is
  small (16-64 in a ResNet), so the rows are taken in blocks, each summing into its own
  per-channel partial sums, which are added up at the end (blocks a parallel build could
  split across cores; ``backend/jit.py`` says why the build is serial). The inner loops run along
  memory over a *lane* vector of ``w`` values (a whole number of rows, ``w >= 64``) so the
  compiler turns them into SIMD code: channel ``j`` owns lanes ``j, j + C, j + 2C, ...``
  (a loop over the C = 16 channels of one row is too short for it).
- **C-contiguous** ``(N, C, S)``: every (sample, channel) pair is a contiguous row of S
  values; each row is summed on its own, and a row's per-channel results are merged afterwards.
  A row's sums use 64 lanes for the same reason (a one-accumulator sum is a chain of
  dependent adds that the compiler may not reorder into SIMD).

For a 64x16x32x32 float32 channels-last activation, training forward + backward takes about
1.6 ms on one core against 5.4 ms for the NumPy path and 2.0 ms for PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...backend import threads
from ...backend.jit import kernel, prange

__all__ = ["MIN_SIZE", "affine", "backward", "layout", "new_like", "stats"]

#: inputs with fewer values take the NumPy path: there the kernels' dispatch and their
#: parallel regions' start-up cost more than the passes they save
MIN_SIZE = 1 << 15
_LANES = 64  # the least lane-vector width: long enough for the compiler's SIMD main loop
_BLOCK = 16384  # values per block of the channels-last loops (64 KB of float32: in L2)
# the least values per thread worth a second thread: memory-bound, the loop gains nothing
# split below it (64x64x8x8 batch norm: 0.37 ms whole, 0.42 ms split at 2^16 a thread)
_SPLIT_SIZE = 1 << 18

Pair = tuple[int, int]


# ---------------------------------------------------------------- layouts (plain Python)
def layout(a: Any) -> tuple[str, Any] | None:
    """``("cl", (P, C) view)`` for a channels-last ``a`` of shape ``(N, C, *)``,
    ``("rows", (N, C, S) view)`` for a C-contiguous one with ``S > 1`` spatial values, or
    ``None`` when the kernels do not apply (not a NumPy float32/float64 array, empty, or
    another layout). A 2-D ``(N, C)`` array is channels-last."""
    if a.__class__ is not np.ndarray or a.ndim < 2 or not a.size:
        return None
    if a.dtype != np.float32 and a.dtype != np.float64:
        return None
    n, c = a.shape[:2]
    s = a.size // (n * c)
    if a.flags.c_contiguous and s > 1:
        return "rows", a.reshape(n, c, s)
    last = a.transpose((0, *range(2, a.ndim), 1))  # (N, *, C): C-contiguous if channels-last
    if last.flags.c_contiguous:
        return "cl", last.reshape(-1, c)
    return None


def new_like(kind: str, shape: tuple[int, ...], dtype: Any) -> tuple[Any, Any]:
    """A new array of ``shape`` (N, C, *) stored in layout ``kind``, and its kernel view."""
    if kind == "rows":
        full = np.empty(shape, dtype=dtype)
        return full, full.reshape(shape[0], shape[1], -1)
    nd = len(shape)
    buf = np.empty((shape[0], *shape[2:], shape[1]), dtype=dtype)
    return buf.transpose((0, nd - 1, *range(1, nd - 1))), buf.reshape(-1, shape[1])


def _lanes(c: int) -> tuple[int, int]:
    """Lane width ``w`` (whole rows of C values, at least ``_LANES``) and values per block."""
    w = c * -(-_LANES // c)
    return w, w * max(1, _BLOCK // w)


def _chunks(x: Any) -> list[Pair]:
    """Row (``cl``) or sample (``rows``) ranges of a kernel view, one per thread of a split
    op (``backend/threads.py``); one range when the view is too small to be worth it."""
    n = x.shape[0]
    return threads.ranges(n, _SPLIT_SIZE, x.size // max(1, n))


def stats(kind: str, x: Any) -> tuple[Any, Any]:
    """Per-channel mean and biased variance (float64, shape (C,)) of a kernel view ``x``.

    On several threads each takes a range of rows (samples), and their ``(count, mean,
    M2)`` are merged as the blocks within one are (Chan et al.)."""
    c = x.shape[1]

    def part(rows: Pair) -> tuple[int, Any, Any]:
        xs = x[rows[0] : rows[1]]
        if kind == "rows":
            mean, var = _rows_stats(xs)
        else:
            mean, var = _cl_stats(xs.reshape(-1), c, *_lanes(c))
        count = xs.size // c
        return count, mean, var * count

    parts = threads.parallel_map(part, _chunks(x))
    if len(parts) == 1:
        return parts[0][1], parts[0][2] / parts[0][0]
    total = sum(n for n, _, _ in parts)
    mean = sum(n * m for n, m, _ in parts) / total
    m2 = sum(q + n * (m - mean) ** 2 for n, m, q in parts)
    return mean, m2 / total


def affine(kind: str, x: Any, mean: Any, a: Any, b: Any, out: Any) -> None:
    """``out = (x - mean) * a + b`` per channel (all three float64, shape (C,)), in one pass
    over the kernel views ``x`` and ``out`` (same layout)."""

    def part(rows: Pair) -> None:
        xs, os = x[rows[0] : rows[1]], out[rows[0] : rows[1]]
        if kind == "rows":
            _rows_affine(xs, mean, a, b, os)
        else:
            _cl_affine(xs.reshape(-1), mean, a, b, os.reshape(-1), *_lanes(x.shape[1]))

    threads.parallel_map(part, _chunks(x))


def backward(
    kind: str, g: Any, x: Any, mean: Any, inv_std: Any, scale: Any, dx: Any | None
) -> tuple[Any, Any]:
    """Batch norm's backward over kernel views: returns ``(sum(g), sum(g * xhat))`` per
    channel (float64: the bias and weight gradients) and, when ``dx`` is given, writes into
    it ``dx = scale * (g - mean(g) - xhat * mean(g * xhat))``, where
    ``xhat = (x - mean) * inv_std`` and ``scale = gamma * inv_std``. Two passes: the sums
    (added up over the threads' ranges), then dx."""
    c = x.shape[1]
    lanes = _lanes(c)
    chunks = _chunks(x)

    def sums(rows: Pair) -> tuple[Any, Any]:
        gs, xs = g[rows[0] : rows[1]], x[rows[0] : rows[1]]
        if kind == "rows":
            return _rows_sums(gs, xs, mean)
        return _cl_sums(gs.reshape(-1), xs.reshape(-1), mean, *lanes)

    parts = threads.parallel_map(sums, chunks)
    gb = sum(p[0] for p in parts)
    gxc = sum(p[1] for p in parts)
    if dx is not None:
        count = x.size // c
        u = gb / count  # dx = scale * (g - u - (x - mean) * v), per channel
        v = gxc * inv_std * inv_std / count

        def fill(rows: Pair) -> None:
            gs, xs, ds = (a[rows[0] : rows[1]] for a in (g, x, dx))
            if kind == "rows":
                _rows_dx(gs, xs, mean, scale, u, v, ds)
            else:
                _cl_dx(gs.reshape(-1), xs.reshape(-1), mean, scale, u, v, ds.reshape(-1), *lanes)

        threads.parallel_map(fill, chunks)
    return gb, gxc * inv_std


# ---------------------------------------------------------------- channels-last (P, C)
# The kernels below take the flat values (P*C,) and walk them w values (a lane vector,
# k = w / C whole rows) at a time: lane j holds channel j % C. Per-channel constants are
# spread over the lanes first. Small arrays are filled by scalar loops: under
# parallel=True an array expression or np.zeros outside the prange loop starts a parallel
# region of its own, which costs more than the loop.


@kernel(parallel=True)
def _cl_stats(x: Any, c: int, w: int, block: int) -> tuple[Any, Any]:
    """Mean and biased variance per channel of the flat channels-last values ``x`` (P*C).

    One pass over memory: each block of ``block`` values is summed into ``w`` lanes, its
    mean taken, and its squared deviations from that mean summed in a second sweep while
    the block is still in the cache. The blocks (all on one core's share of the rows in
    parallel) are merged after the loop: Chan et al.'s ``M2 = sum M2_b + n_b d_b^2``."""
    total = x.size
    p = total // c
    nb = (total + block - 1) // block
    means = np.empty((nb, c))
    m2s = np.empty((nb, c))
    for bi in prange(nb):
        lo = bi * block
        hi = min(lo + block, total)
        rows = (hi - lo) // c
        acc = np.zeros(w)
        for s in range(lo, hi, w):
            xs = x[s : s + w]  # a slice, not x[s + j]: the compiler vectorises this loop
            for j in range(xs.size):
                acc[j] += xs[j]
        m = means[bi]
        for j in range(c):
            m[j] = 0.0
        for j in range(w):
            m[j % c] += acc[j]
        for j in range(c):
            m[j] /= rows
        mw = np.empty(w)  # the block's mean, per lane
        for j in range(w):
            mw[j] = m[j % c]
            acc[j] = 0.0
        for s in range(lo, hi, w):
            xs = x[s : s + w]
            for j in range(xs.size):
                d = xs[j] - mw[j]
                acc[j] += d * d
        q = m2s[bi]
        for j in range(c):
            q[j] = 0.0
        for j in range(w):
            q[j % c] += acc[j]
    mean = np.empty(c)
    var = np.empty(c)
    for j in range(c):
        t = 0.0
        for bi in range(nb):
            t += (min(bi * block + block, total) - bi * block) // c * means[bi, j]
        mean[j] = t / p
        t = 0.0
        for bi in range(nb):
            d = means[bi, j] - mean[j]
            t += m2s[bi, j] + (min(bi * block + block, total) - bi * block) // c * d * d
        var[j] = t / p
    return mean, var


@kernel(parallel=True)
def _cl_affine(x: Any, mean: Any, a: Any, b: Any, out: Any, w: int, block: int) -> None:
    """``out = (x - mean) * a + b`` over the flat channels-last ``x`` with per-channel
    ``mean``, ``a``, ``b``: one pass (read x, write out), in float64."""
    c = mean.size
    total = x.size
    nb = (total + block - 1) // block
    mw = np.empty(w)
    aw = np.empty(w)
    bw = np.empty(w)
    for j in range(w):
        mw[j] = mean[j % c]
        aw[j] = a[j % c]
        bw[j] = b[j % c]
    for bi in prange(nb):
        lo = bi * block
        hi = min(lo + block, total)
        for s in range(lo, hi, w):
            xs = x[s : s + w]
            ys = out[s : s + w]
            for j in range(xs.size):
                ys[j] = (xs[j] - mw[j]) * aw[j] + bw[j]


@kernel(parallel=True)
def _cl_sums(g: Any, x: Any, mean: Any, w: int, block: int) -> tuple[Any, Any]:
    """Batch norm backward's first pass over the flat channels-last ``g`` and ``x``: per
    channel ``sum(g)`` and ``sum(g * (x - mean))``, read once for both (lane partials per
    block, added up after the loop)."""
    c = mean.size
    total = x.size
    nb = (total + block - 1) // block
    mw = np.empty(w)
    for j in range(w):
        mw[j] = mean[j % c]
    sg = np.empty((nb, w))
    sgx = np.empty((nb, w))
    for bi in prange(nb):
        lo = bi * block
        hi = min(lo + block, total)
        a1 = sg[bi]
        a2 = sgx[bi]
        for j in range(w):
            a1[j] = 0.0
            a2[j] = 0.0
        for s in range(lo, hi, w):
            gs = g[s : s + w]
            xs = x[s : s + w]
            for j in range(xs.size):
                gj = np.float64(gs[j])
                a1[j] += gj
                a2[j] += gj * (xs[j] - mw[j])
    gb = np.empty(c)
    gxc = np.empty(c)
    for j in range(c):
        gb[j] = 0.0
        gxc[j] = 0.0
    for bi in range(nb):
        for j in range(w):
            gb[j % c] += sg[bi, j]
            gxc[j % c] += sgx[bi, j]
    return gb, gxc


@kernel(parallel=True)
def _cl_dx(
    g: Any, x: Any, mean: Any, scale: Any, u: Any, v: Any, dx: Any, w: int, block: int
) -> None:
    """Batch norm backward's second pass: ``dx = scale * (g - u - (x - mean) * v)`` over
    the flat channels-last arrays, with the per-channel ``u = mean(g)`` and
    ``v = mean(g * (x - mean)) * inv_std^2`` spread over the lanes (read g, x; write dx)."""
    c = mean.size
    total = x.size
    nb = (total + block - 1) // block
    mw = np.empty(w)
    sw = np.empty(w)
    uw = np.empty(w)
    vw = np.empty(w)
    for j in range(w):
        ch = j % c
        mw[j] = mean[ch]
        sw[j] = scale[ch]
        uw[j] = u[ch]
        vw[j] = v[ch]
    for bi in prange(nb):
        lo = bi * block
        hi = min(lo + block, total)
        for s in range(lo, hi, w):
            gs = g[s : s + w]
            xs = x[s : s + w]
            ds = dx[s : s + w]
            for j in range(xs.size):
                ds[j] = sw[j] * (gs[j] - uw[j] - (xs[j] - mw[j]) * vw[j])


# ---------------------------------------------------------------- C-contiguous (N, C, S)
@kernel(parallel=True)
def _rows_stats(x: Any) -> tuple[Any, Any]:
    """Mean and biased variance per channel of C-contiguous ``x`` (N, C, S).

    Each (sample, channel) row of S values is read once from memory: summed into 64 lanes,
    then its squared deviations from its own mean summed while it is in the cache; the N
    rows of a channel are merged after the parallel loop (Chan et al.)."""
    n, c, s = x.shape
    cut = s - s % 64
    means = np.empty((n, c))
    m2s = np.empty((n, c))
    for r in prange(n * c):
        row = x[r // c, r % c]
        acc = np.zeros(64)
        for t in range(0, cut, 64):
            seg = row[t : t + 64]
            for j in range(64):
                acc[j] += seg[j]
        total = 0.0
        for t in range(cut, s):
            total += row[t]
        for j in range(64):
            total += acc[j]
            acc[j] = 0.0
        m = total / s
        for t in range(0, cut, 64):
            seg = row[t : t + 64]
            for j in range(64):
                d = seg[j] - m
                acc[j] += d * d
        q = 0.0
        for t in range(cut, s):
            d = row[t] - m
            q += d * d
        for j in range(64):
            q += acc[j]
        means[r // c, r % c] = m
        m2s[r // c, r % c] = q
    mean = np.empty(c)
    var = np.empty(c)
    for j in range(c):
        t = 0.0
        for i in range(n):
            t += means[i, j]
        mean[j] = t / n
        t = 0.0
        for i in range(n):
            d = means[i, j] - mean[j]
            t += m2s[i, j] + s * d * d
        var[j] = t / (n * s)
    return mean, var


@kernel(parallel=True)
def _rows_affine(x: Any, mean: Any, a: Any, b: Any, out: Any) -> None:
    """``out = (x - mean) * a + b`` per channel over ``x`` (N, C, S): one pass, in float64."""
    n, c, s = x.shape
    for r in prange(n * c):
        i, ch = r // c, r % c
        src = x[i, ch]
        dst = out[i, ch]
        m, sa, sb = mean[ch], a[ch], b[ch]
        for t in range(s):
            dst[t] = (src[t] - m) * sa + sb


@kernel(parallel=True)
def _rows_sums(g: Any, x: Any, mean: Any) -> tuple[Any, Any]:
    """Batch norm backward's first pass over C-contiguous ``g`` and ``x`` (N, C, S): per
    channel ``sum(g)`` and ``sum(g * (x - mean))``, one pass over both (64 lanes per row)."""
    n, c, s = x.shape
    cut = s - s % 64
    sg = np.empty((n, c))
    sgx = np.empty((n, c))
    for r in prange(n * c):
        i, ch = r // c, r % c
        grow = g[i, ch]
        xrow = x[i, ch]
        m = mean[ch]
        a1 = np.zeros(64)
        a2 = np.zeros(64)
        for t in range(0, cut, 64):
            gs = grow[t : t + 64]
            xs = xrow[t : t + 64]
            for j in range(64):
                gj = np.float64(gs[j])
                a1[j] += gj
                a2[j] += gj * (xs[j] - m)
        t1 = 0.0
        t2 = 0.0
        for t in range(cut, s):
            gj = np.float64(grow[t])
            t1 += gj
            t2 += gj * (xrow[t] - m)
        for j in range(64):
            t1 += a1[j]
            t2 += a2[j]
        sg[i, ch] = t1
        sgx[i, ch] = t2
    gb = np.empty(c)
    gxc = np.empty(c)
    for j in range(c):
        t1 = 0.0
        t2 = 0.0
        for i in range(n):
            t1 += sg[i, j]
            t2 += sgx[i, j]
        gb[j] = t1
        gxc[j] = t2
    return gb, gxc


@kernel(parallel=True)
def _rows_dx(g: Any, x: Any, mean: Any, scale: Any, u: Any, v: Any, dx: Any) -> None:
    """Batch norm backward's second pass over (N, C, S) rows:
    ``dx = scale * (g - u - (x - mean) * v)`` with per-channel ``u`` and ``v`` (see
    ``_cl_dx``)."""
    n, c, s = x.shape
    for r in prange(n * c):
        i, ch = r // c, r % c
        grow = g[i, ch]
        xrow = x[i, ch]
        drow = dx[i, ch]
        m, sc, uc, vc = mean[ch], scale[ch], u[ch], v[ch]
        for t in range(s):
            drow[t] = sc * (grow[t] - uc - (xrow[t] - m) * vc)
