"""Pooling: max and average over windows, adaptive pooling, max unpooling.

CS231n L5 "pooling layer" and assignment 2 (``max_pool_forward_naive``), CSC321 L11
"pooling": a pooling layer slides a ``kernel_size`` window over each channel plane with a
``stride`` and keeps one number per window: the largest (max pooling, the *max gate* of
backprop: the whole gradient goes to the winner) or the mean (average pooling: every input of
the window gets an equal share). It has no parameters; it shrinks the feature map and makes the
network a little insensitive to small shifts.

How the fast versions work (the loop versions the course writes are in ``pooling_naive.py``):

- **Separable windows.** The max (or sum) over a 2-D window is the max over each row of the
  window, then the max of those row maxima. So pooling runs along W first and then along H, and
  each pass is a short loop over the *kernel offsets* (2 for a 2x2 kernel), each step one
  vectorised NumPy op over every window at once: offset ``o`` of all windows is the strided
  view ``x[..., o*dilation :: stride]``. No Python loop ever visits a position, and padding
  costs no padded copy: an offset simply skips the windows for which it would fall outside the
  input.
- **The winner's offset.** Each pass records, per window, which offset won (a ``uint8``). The
  backward routes each window's gradient to its winner with one strided assignment per kernel
  offset (2-D windows that do not overlap), or undoes the two passes in turn (overlapping
  windows). Ties go to the first element in row-major order and padding never wins, exactly
  as in PyTorch.
- ``return_indices=True`` gives PyTorch's indices: ``h * W + w`` in the unpadded channel plane,
  what ``max_unpool2d`` (the course's "unpooling with remembered switches") consumes.

Why not the textbook "reshape to (…, H/k, k, W/k, k) and argmax over the window axes"?
Measured forward on (64, 16, 32, 32) float32, k = 2 (2 cores): the reshape needs a transposing
copy and an argmax over rows of 4 elements, 8.5 ms; one loop over the 4 offsets of the 2-D
window, 4.2 ms; the separable passes, 1.1 ms. Forward and backward together run at about the
speed of PyTorch's CPU kernel.

Output sizes follow PyTorch: ``floor((L + 2p - d(k-1) - 1) / s) + 1``, or the ceiling with
``ceil_mode=True`` as long as the last window starts inside the input or its left padding.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, NamedTuple

import numpy as np

from ...autograd.function import Function
from ...backend import jit, threads
from ...backend.device import get_array_module
from ...tensor import Tensor
from ._pool_kernels import (
    max_pool2d_backward_cl,
    max_pool2d_cl,
    max_pool2x2_backward_cl,
    max_pool2x2_cl,
)

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "max_unpool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
]


# ---------------------------------------------------------------- window geometry
class Axis(NamedTuple):
    """How one spatial axis is pooled: input length, output length, kernel, stride, padding,
    dilation (all ints)."""

    size: int
    out: int
    k: int
    s: int
    p: int
    d: int

    def taps(self) -> list[tuple[int, int, int, int]]:
        """For each kernel offset ``o``: ``(o, lo, hi, start)`` where outputs ``lo..hi-1`` see
        an input element at this offset (the rest see padding) and ``start`` is the input
        position seen by output ``lo``; output ``j`` sees ``start + (j - lo) * s``."""
        taps = []
        for o in range(self.k):
            first = o * self.d - self.p  # the input position output 0 sees at this offset
            lo = -(first // self.s) if first < 0 else 0  # ceil(-first / s)
            hi = min(self.out, (self.size - 1 - first) // self.s + 1) if first < self.size else 0
            if lo < hi:
                taps.append((o, lo, hi, first + lo * self.s))
        return taps

    def overlapping(self) -> bool:
        """Whether two windows can share an input element (then gradients add up)."""
        return self.s < self.d * (self.k - 1) + 1

    def tiles(self) -> bool:
        """Windows side by side inside the input, no gap, no padding: the input's first
        ``out * k`` elements reshaped to (…, out, k)."""
        return self.k == self.s and self.d == 1 and self.p == 0 and self.out * self.k <= self.size


def _along(x: Any, axis: int, index: Any) -> Any:
    """``x[..., index, :, ...]`` where ``axis`` counts from the end (-1 is the last)."""
    return x[(Ellipsis, index) + (slice(None),) * (-axis - 1)]


def _strided(start: int, count: int, step: int) -> slice:
    return slice(start, start + (count - 1) * step + 1, step)


def _offset_dtype(n: int) -> Any:
    """The smallest unsigned dtype that holds kernel offsets ``0..n-1``."""
    return np.uint8 if n <= 256 else np.uint32


def _tuple(value: Any, n: int, name: str, op: str) -> tuple[int, ...]:
    """An int or a sequence of ``n`` (or 1) ints, as an ``n``-tuple of Python ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) in (1, n):
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
            return tuple(int(v) for v in value) * (n if len(value) == 1 else 1)
    want = "an int" if n == 1 else f"an int or a tuple of {n} ints"
    raise TypeError(f"{op}: {name} must be {want}, got {value!r}")


def _input(input: Any, nd: int, op: str) -> Any:  # noqa: A002
    """The array of a (N, C, *spatial) or (C, *spatial) input, checked."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    x = input.data
    if x.ndim not in (nd + 1, nd + 2):
        spatial = {1: "L", 2: "H, W"}[nd]
        raise ValueError(
            f"{op}: expected a {nd + 1}D (C, {spatial}) or {nd + 2}D (N, C, {spatial}) input, "
            f"got shape {tuple(x.shape)}"
        )
    if 0 in x.shape[-nd - 1 :]:
        raise ValueError(
            f"{op}: expected non-empty channel and spatial dims (only the batch may be 0), "
            f"got shape {tuple(x.shape)}"
        )
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{op}: expected a floating point or integer tensor, got {x.dtype}")
    return x


def pool_output_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length (``pooling_output_shape``)."""
    span = d * (k - 1) + 1
    out = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window would start in the right padding: drop it
    return out


def pool_geometry(
    x: Any,
    nd: int,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    op: str,
) -> tuple[Axis, ...]:
    """Check pooling arguments as PyTorch does, with messages that name the op, the expected
    and the actual values; returns one ``Axis`` per spatial dim."""
    k = _tuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride
    s = _tuple(s, nd, "stride", op)
    p = _tuple(padding, nd, "padding", op)
    d = _tuple(dilation, nd, "dilation", op)
    show = (lambda t: t[0]) if nd == 1 else (lambda t: t)
    for name, given, values, least in (
        ("kernel_size", kernel_size, k, 1),
        ("stride", stride, s, 1),
        ("dilation", dilation, d, 1),
        ("padding", padding, p, 0),
    ):
        if min(values) < least:
            what = "positive" if least else "non-negative"
            shown = tuple(given) if isinstance(given, (tuple, list)) else given
            raise ValueError(f"{op}: {name} must be {what}, got {shown}")
    if any(pi > ki // 2 for pi, ki in zip(p, k, strict=True)):
        raise ValueError(
            f"{op}: padding {show(p)} must be at most half of kernel_size {show(k)} "
            f"(PyTorch's rule: padding <= kernel_size // 2)"
        )
    size = tuple(int(n) for n in x.shape[-nd:])
    out = tuple(pool_output_size(*args, ceil_mode) for args in zip(size, k, s, p, d, strict=True))
    if min(out) < 1:
        span = tuple(di * (ki - 1) + 1 for di, ki in zip(d, k, strict=True))
        padded = tuple(n + 2 * pi for n, pi in zip(size, p, strict=True))
        dil = f" (dilated to {show(span)})" if span != k else ""
        raise ValueError(
            f"{op}: kernel size {show(k)}{dil} is larger than the padded input {show(padded)} "
            f"(input {show(size)}, padding {show(p)}); the output would be {show(out)}"
        )
    return tuple(Axis(*a) for a in zip(size, out, k, s, p, d, strict=True))


def _lowest(dtype: Any) -> Any:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# ---------------------------------------------------------------- max pooling, array level
def _max_axis(x: Any, axis: int, a: Axis) -> tuple[Any, Any]:
    """Max over the windows of one axis: the values and the winning offset per window
    (``None`` when it is always 0, e.g. a kernel of 1)."""
    xp = get_array_module(x)
    taps = a.taps()
    odt = _offset_dtype(a.k)
    full = [t for t in taps if t[1] == 0 and t[2] == a.out]
    if full:
        # start from the first offset that is inside the input for every window (a view, no
        # copy); then walk back to the earlier offsets, which win ties (the first maximum
        # wins), then on to the later ones, which must be strictly greater
        base = full[0][0]
        best, off = _along(x, axis, _strided(full[0][3], a.out, a.s)), None
        order = [t for t in reversed(taps) if t[0] < base] + [t for t in taps if t[0] > base]
    else:
        # every offset misses some window (tiny inputs with padding): start from -inf, with
        # PyTorch's index for a window of -infs: its first element inside the input (a dilated
        # window can even lie wholly in the padding: then it stays -inf, as in PyTorch)
        shape = list(x.shape)
        shape[axis] = a.out
        best = xp.full(shape, _lowest(x.dtype), dtype=x.dtype)
        j = np.arange(a.out)
        first = np.minimum(np.maximum(0, -((j * a.s - a.p) // a.d)), a.k - 1).astype(odt)
        off = xp.empty(shape, dtype=odt)
        off[...] = xp.asarray(first).reshape((a.out,) + (1,) * (-axis - 1))
        base, order = -1, taps
    for o, lo, hi, start in order:
        v = _along(x, axis, _strided(start, hi - lo, a.s))
        earlier = o < base
        compare = xp.greater_equal if earlier else xp.greater
        if off is None:
            if lo == 0 and hi == a.out and not earlier:  # the common case: no padding
                won = compare(v, best)
                best = xp.maximum(best, v)  # maximum, not where: a NaN propagates
                off = won.view(np.uint8) if odt is np.uint8 else won.astype(odt)
                if o - base != 1:
                    off *= odt(o - base)
                if base:
                    off += odt(base)
                continue
            best, off = best.copy(), xp.full(best.shape, base, dtype=odt)
        b, f = _along(best, axis, slice(lo, hi)), _along(off, axis, slice(lo, hi))
        won = compare(v, b)
        xp.maximum(b, v, out=b)
        won = won.view(np.uint8) if odt is np.uint8 else won.astype(odt)
        # "set f to o where won", as arithmetic: offsets only fall while walking back and only
        # rise while walking on, so it is f - won (f - o), or max(f, won o). (np.copyto with
        # where= does the same, 50x slower.)
        if earlier:
            f -= won * (f - odt(o))
        else:
            xp.maximum(f, won * odt(o), out=f)
    if off is not None:
        return best, off
    # a single offset reached every window (a kernel of 1, or 2 with padding on a tiny input):
    # copy, so as not to hand out a view of the input
    return best.copy(), (xp.full(best.shape, base, dtype=odt) if base else None)


def max_pool_arrays(x: Any, geo: tuple[Axis, ...]) -> tuple[Any, tuple[Any, ...]]:
    """Max pooling of the last ``len(geo)`` axes of ``x`` (1 or 2): the values, and the
    winning offset of each pass (``None`` where it is always 0), first axis first. The 2-D
    pass along H picks among row maxima, so its winners index the (…, H, W_out) rows."""
    if len(geo) == 1:
        out, off = _max_axis(x, -1, geo[0])
        return out, (off,)
    gh, gw = geo
    rows, woff = _max_axis(x, -1, gw)  # max over each row of every window ...
    out, hoff = _max_axis(rows, -2, gh)  # ... then over the rows
    return out, (hoff, woff)


def window_offsets(winners: tuple[Any, ...], geo: tuple[Axis, ...], out: Any) -> Any:
    """The winner of each window of ``out`` as one offset into its kernel, row-major
    (``i * kW + j``)."""
    xp = get_array_module(out)
    if len(geo) == 1:
        (off,) = winners
        return off if off is not None else xp.zeros(out.shape, dtype=_offset_dtype(geo[0].k))
    (gh, gw), (hoff, woff) = geo, winners
    dt = _offset_dtype(gh.k * gw.k)
    index = xp.zeros(out.shape, dtype=dt) if hoff is None else hoff.astype(dt) * dt(gw.k)
    if woff is not None:
        # add the column offset within the winning row: exactly one row tap matches each
        # window, so summing the masked row taps picks it (no gather, no where)
        for i, lo, hi, start in gh.taps():
            w = _along(woff, -2, _strided(start, hi - lo, gh.s))
            dest = _along(index, -2, slice(lo, hi))
            if hoff is None:
                dest += w
            else:
                dest += w * (_along(hoff, -2, slice(lo, hi)) == i)
    return index


def flat_indices(index: Any, geo: tuple[Axis, ...]) -> Any:
    """PyTorch's max-pool indices (``h * W + w`` in the unpadded plane, int64) from the
    winning kernel offsets."""
    xp = get_array_module(index)
    index = index.astype(np.int64)
    if len(geo) == 1:
        (a,) = geo
        return xp.arange(a.out) * a.s - a.p + index * a.d
    gh, gw = geo
    h = (xp.arange(gh.out) * gh.s - gh.p)[:, None] + (index // gw.k) * gh.d
    w = xp.arange(gw.out) * gw.s - gw.p + (index % gw.k) * gw.d
    return h * gw.size + w


def _tap_views(geo: tuple[Axis, ...]) -> Any:
    """Every combination of one tap per axis: (code, output slices, input slices), with
    ``code`` the kernel offset in row-major order."""
    radix = [int(np.prod([a.k for a in geo[i + 1 :]], dtype=np.int64)) for i in range(len(geo))]
    for combo in itertools.product(*(a.taps() for a in geo)):
        code = sum(t[0] * r for t, r in zip(combo, radix, strict=True))
        outs = tuple(slice(lo, hi) for _, lo, hi, _ in combo)
        ins = tuple(
            _strided(start, hi - lo, a.s) for (_, lo, hi, start), a in zip(combo, geo, strict=True)
        )
        yield code, (Ellipsis, *outs), (Ellipsis, *ins)


def _tiled(g: Any, geo: tuple[Axis, ...], shape: tuple[int, ...]) -> Any:
    """``g`` (…, out…) repeated over each k-wide tile of the input (…, size…): the average
    pool's backward when the windows tile the input, one broadcast copy."""
    xp = get_array_module(g)
    lead = g.shape[: g.ndim - len(geo)]
    expanded = g.reshape(lead + tuple(x for a in geo for x in (a.out, 1)))
    blocks = xp.broadcast_to(expanded, lead + tuple(x for a in geo for x in (a.out, a.k)))
    covered = blocks.reshape(lead + tuple(a.out * a.k for a in geo))
    if covered.shape == shape:
        return covered
    gx = xp.zeros(shape, dtype=g.dtype)  # floor mode left a ragged edge that no window saw
    gx[(Ellipsis, *(slice(0, a.out * a.k) for a in geo))] = covered
    return gx


def _keep_bits(g: Any, mask: Any) -> Any:
    """``g`` where ``mask``, else +0.0, as a bitwise AND of g's bits with all-ones or
    all-zeros: exact (a NaN in g stays with its winner) and 10x faster than ``np.where``."""
    bits = np.dtype(f"u{g.dtype.itemsize}")
    return g.view(bits) & -mask.astype(bits)  # True -> 1 -> 0xff…ff (unsigned wrap-around)


def _alloc(xp: Any, shape: tuple[int, ...], dtype: Any, zero: bool, channels_last: bool) -> Any:
    """A new array of ``shape``; stored channels-last (NHWC memory) when ``channels_last``, so
    the gradient has the layout of the input it belongs to (a convolution's output): the
    elementwise backward ops that meet it then run over matching memory."""
    make = xp.zeros if zero else xp.empty
    if channels_last and len(shape) == 4:
        n, c, h, w = shape
        return make((n, h, w, c), dtype=dtype).transpose(0, 3, 1, 2)
    return make(shape, dtype=dtype)


def _route_axis(
    g: Any, off: Any, axis: int, a: Axis, shape: tuple[int, ...], channels_last: bool = False
) -> Any:
    """Backward of one max pass (``_max_axis``): each window's gradient to its winner."""
    xp = get_array_module(g)
    gx = _alloc(xp, shape, g.dtype, True, channels_last)
    for o, lo, hi, start in a.taps():
        dest = _along(gx, axis, _strided(start, hi - lo, a.s))
        part = _along(g, axis, slice(lo, hi))
        if off is None:  # offset 0 always won
            if o == 0:
                dest += part
            continue
        dest += _keep_bits(part, _along(off, axis, slice(lo, hi)) == o).view(g.dtype)
    return gx


def max_pool_backward(
    g: Any,
    winners: tuple[Any, ...],
    geo: tuple[Axis, ...],
    shape: tuple[int, ...],
    channels_last: bool = False,
    out: Any = None,
) -> Any:
    """Route each window's gradient to its winner (an array of ``shape``, stored
    channels-last if ``channels_last``). Non-overlapping windows write into ``out`` when it
    is given (an array of ``shape``); the result is returned either way."""
    xp = get_array_module(g)
    overlapping = any(a.overlapping() for a in geo)
    if overlapping or len(geo) == 1:
        # undo the passes one at a time: H (into the row maxima), then W. Where windows
        # overlap this adds into whole rows at a time, much faster than 2-D windows
        lead = len(shape) - len(geo)
        for i in range(len(geo)):
            into = shape[: lead + i + 1] + g.shape[lead + i + 1 :]  # (…, H, W_out), then x's
            last = i == len(geo) - 1
            g = _route_axis(g, winners[i], i - len(geo), geo[i], into, channels_last and last)
        return g
    index = window_offsets(winners, geo, g)
    ntaps = int(np.prod([a.k for a in geo]))
    if ntaps > 16 and all(a.tiles() for a in geo):
        # big tiling windows (global pooling): one put per window beats a loop over taps
        lead = g.shape[: g.ndim - len(geo)]
        slots = xp.zeros(g.shape + (ntaps,), dtype=g.dtype)
        xp.put_along_axis(slots, index[..., None].astype(np.intp), g[..., None], axis=-1)
        slots = slots.reshape(g.shape + tuple(a.k for a in geo))
        nd = len(geo)
        order = tuple(range(len(lead))) + tuple(
            x for i in range(nd) for x in (len(lead) + i, len(lead) + nd + i)
        )
        blocks = slots.transpose(order).reshape(lead + tuple(a.out * a.k for a in geo))
        if blocks.shape == shape:
            return blocks
        gx = xp.zeros(shape, dtype=g.dtype)
        gx[(Ellipsis, *(slice(0, a.out * a.k) for a in geo))] = blocks
        return gx
    # windows that do not overlap: each tap of the 2-D window is one strided assignment
    covered = all(a.tiles() and a.out * a.k == a.size for a in geo)  # each element once
    if out is None:
        gx = _alloc(xp, shape, g.dtype, not covered, channels_last)
    else:
        gx = out
        if not covered:
            gx[...] = 0
    bits = np.dtype(f"u{g.dtype.itemsize}")
    for code, outs, ins in _tap_views(geo):
        xp.bitwise_and(
            g[outs].view(bits), -(index[outs] == code).astype(bits), out=gx[ins].view(bits)
        )
    return gx


# ---------------------------------------------------------------- average pooling, array level
def _sum_axis(x: Any, axis: int, a: Axis) -> Any:
    """Sum over the windows of one axis (padding adds nothing, so it is simply skipped)."""
    xp = get_array_module(x)
    acc, owned = None, False
    for _, lo, hi, start in a.taps():
        v = _along(x, axis, _strided(start, hi - lo, a.s))
        every = lo == 0 and hi == a.out  # this offset is inside the input for every window
        if acc is None and every:
            acc = v  # borrow the view; the next add makes an array of our own
            continue
        if acc is None:
            shape = list(x.shape)
            shape[axis] = a.out
            acc, owned = xp.zeros(shape, dtype=x.dtype), True
        elif not owned:
            acc, owned = (acc + v, True) if every else (acc.copy(), True)
            if every:
                continue
        dest = _along(acc, axis, slice(lo, hi))
        dest += v
    return acc if owned else acc.copy()


def _window_counts(a: Axis, count_include_pad: bool) -> np.ndarray:
    """How many elements each output averages along one axis (PyTorch's rule)."""
    start = np.arange(a.out) * a.s - a.p
    end = np.minimum(start + a.k, a.size + a.p)  # a ceil-mode window stops at the padding
    if count_include_pad:
        return end - start
    return np.minimum(end, a.size) - np.maximum(start, 0)


def avg_divisor(
    geo: tuple[Axis, ...], count_include_pad: bool, divisor_override: Any, dtype: Any, op: str
) -> Any:
    """PyTorch's divisor: a number when every window has the same one, else per output."""
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(
            divisor_override, (int, np.integer)
        ):
            raise TypeError(f"{op}: divisor_override must be an int, got {divisor_override!r}")
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must not be zero")
        return dtype.type(divisor_override)
    counts = [_window_counts(a, count_include_pad) for a in geo]
    if all(c.min() == c.max() for c in counts):
        return dtype.type(int(np.prod([c[0] for c in counts])))
    div = counts[0].astype(np.int64)
    for c in counts[1:]:
        div = div[..., None] * c
    return div.astype(dtype)


def avg_pool_arrays(x: Any, geo: tuple[Axis, ...], divisor: Any) -> Any:
    """Average pooling of the last ``len(geo)`` axes: sums along W, then H, then divide."""
    out = x
    for i in range(len(geo)):
        out = _sum_axis(out, -1 - i, geo[-1 - i])
    xp = get_array_module(x)
    if getattr(divisor, "ndim", 0):
        divisor = xp.asarray(divisor)
    out /= divisor
    return out


def avg_pool_backward(g: Any, geo: tuple[Axis, ...], divisor: Any, shape: tuple[int, ...]) -> Any:
    xp = get_array_module(g)
    if getattr(divisor, "ndim", 0):
        divisor = xp.asarray(divisor)
    share = g / divisor  # each element of a window gets an equal share
    if all(a.tiles() for a in geo):
        return _tiled(share, geo, shape)
    overlapping = any(a.overlapping() for a in geo)
    gx = xp.zeros(shape, dtype=g.dtype)
    for _, outs, ins in _tap_views(geo):
        if overlapping:
            gx[ins] += share[outs]
        else:
            gx[ins] = share[outs]
    return gx


def _sample_ranges(a: Any) -> list[tuple[int, int]]:
    """Sample ranges of a batch for the threads of a split op (``backend/threads.py``):
    one range unless each thread gets at least ``_SPLIT_SIZE`` values."""
    return threads.ranges(a.shape[0], _SPLIT_SIZE, math.prod(a.shape[1:]))


_SPLIT_SIZE = 1 << 18  # the least values per thread worth a second thread (memory-bound)


def _by_samples(
    kernel: Any, samples: list[tuple[int, int]], flat: Any, shape: Any, *args: Any
) -> None:
    """Run a channels-last pooling kernel on each range of ``samples``, one per thread:
    ``flat`` holds ``(flat array, values per sample)`` pairs, each sliced to the range, and
    ``shape`` (its first entry the sample count) is passed with that entry set to the
    range's length."""

    def part(r: tuple[int, int]) -> None:
        part_shape = shape.copy()
        part_shape[0] = r[1] - r[0]
        kernel(*(a[r[0] * k : r[1] * k] for a, k in flat), part_shape, *args)

    threads.parallel_map(part, samples)


# ---------------------------------------------------------------- Functions
class MaxPool(Function):
    """Max pooling over the last 1 or 2 axes: the max gate over each window."""

    op_name = "max_pool2d"

    def forward(self, x: Any, geo: tuple[Axis, ...] = (), sink: Any = None) -> Any:
        self.geo, self.shape, self.split = geo, x.shape, None
        self.channels_last = x.ndim == 4 and x.transpose(0, 2, 3, 1).flags.c_contiguous
        # 2x2 windows at stride 2 have loops of their own (``_pool_kernels.py``); the general
        # loop runs along the channels, and under 8 of them (LeNet's 6) it loses to NumPy's
        # passes along whole rows
        self.two_by_two = len(geo) == 2 and all(
            a.k == 2 and a.s == 2 and a.p == 0 and a.d == 1 and 2 * a.out <= a.size for a in geo
        )
        self.compiled = (
            self.channels_last
            and x.size > 0  # the loops below size their work by the first sample
            and (x.shape[1] >= 8 or self.two_by_two)
            and len(geo) == 2
            and type(x) is np.ndarray
            and x.dtype in (np.float32, np.float64)
            and jit.enabled()
        )
        if self.compiled:
            # one visit per window (``_pool_kernels.py``); the winners as kernel offsets
            (gh, gw), (n, c) = geo, x.shape[:2]
            out = np.empty((n, gh.out, gw.out, c), dtype=x.dtype)
            code = np.empty(out.shape, dtype=_offset_dtype(gh.k * gw.k))
            shape = np.array((n, *x.shape[2:], c, gh.out, gw.out), dtype=np.int64)
            args = (gh.k, gw.k, gh.s, gw.s, gh.p, gw.p, gh.d, gw.d)
            flat_x = x.transpose(0, 2, 3, 1).reshape(-1)  # channels-last memory, flat view
            per_in, per_out = x[0].size, out[0].size
            flat = ((flat_x, per_in), (out.reshape(-1), per_out), (code.reshape(-1), per_out))
            if self.two_by_two:
                _by_samples(max_pool2x2_cl, _sample_ranges(x), flat, shape)
            else:
                _by_samples(max_pool2d_cl, _sample_ranges(x), flat, shape, *args)
            out, code = out.transpose(0, 3, 1, 2), code.transpose(0, 3, 1, 2)
            if sink is not None:
                sink.append(flat_indices(code, geo))
            self.saved = (code,)
            return out
        samples = _sample_ranges(x) if self.channels_last and type(x) is np.ndarray else []
        if len(samples) > 1:
            # on several threads: each pools its own samples (NumPy's loops release the GIL)
            parts = threads.parallel_map(lambda r: max_pool_arrays(x[r[0] : r[1]], geo), samples)
            out = _alloc(np, (x.shape[0], *parts[0][0].shape[1:]), x.dtype, False, True)
            for (a, b), (part, _) in zip(samples, parts, strict=True):
                out[a:b] = part
            self.split = samples
            if sink is not None:
                index = [window_offsets(w, geo, p) for p, w in parts]
                sink.append(flat_indices(np.concatenate(index), geo))
            self.saved = tuple(w for _, w in parts)
            return out
        out, winners = max_pool_arrays(x, geo)
        if sink is not None:
            sink.append(flat_indices(window_offsets(winners, geo, out), geo))
        self.saved = winners
        return out

    def backward(self, g: Any) -> tuple[Any]:
        if self.compiled:
            (code,) = self.saved
            (gh, gw), (n, c, h, w) = self.geo, self.shape
            gx = np.empty((n, h, w, c), dtype=g.dtype)
            shape = np.array((n, h, w, c, gh.out, gw.out), dtype=np.int64)
            args = (gh.k, gw.k, gh.s, gw.s, gh.p, gw.p, gh.d, gw.d)
            # g and the winners as flat channels-last arrays (copies only if g is not)
            flat_g = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1)
            flat_code = code.transpose(0, 2, 3, 1).reshape(-1)
            tiles = all(a.tiles() and a.out * a.k == a.size for a in self.geo)
            per_in, per_out = h * w * c, gh.out * gw.out * c
            flat = ((flat_g, per_out), (flat_code, per_out), (gx.reshape(-1), per_in))
            if self.two_by_two and tiles and c < 8:  # see _pool_kernels.py: few channels only
                zero = gx.dtype.type(0)
                _by_samples(max_pool2x2_backward_cl, _sample_ranges(gx), flat, shape, zero)
            else:
                _by_samples(max_pool2d_backward_cl, _sample_ranges(gx), flat, shape, *args, tiles)
            return (gx.transpose(0, 3, 1, 2),)
        if self.split:
            gx = _alloc(np, self.shape, g.dtype, False, True)

            def part(i: int) -> None:
                (a, b), dst = self.split[i], gx[self.split[i][0] : self.split[i][1]]
                shape = (b - a, *self.shape[1:])
                res = max_pool_backward(g[a:b], self.saved[i], self.geo, shape, True, out=dst)
                if res is not dst:
                    dst[...] = res

            threads.parallel_map(part, range(len(self.split)))
            return (gx,)
        return (max_pool_backward(g, self.saved, self.geo, self.shape, self.channels_last),)


class AvgPool(Function):
    """Average pooling over the last 1 or 2 axes."""

    op_name = "avg_pool2d"

    def forward(self, x: Any, geo: tuple[Axis, ...] = (), divisor: Any = 1) -> Any:
        self.geo, self.shape, self.divisor = geo, x.shape, divisor
        return avg_pool_arrays(x, geo, divisor)

    def backward(self, g: Any) -> tuple[Any]:
        return (avg_pool_backward(g, self.geo, self.divisor, self.shape),)


class MaxPoolFlat(Function):
    """Values already chosen by flat per-plane indices (adaptive windows of uneven size);
    the backward adds each gradient into its index (windows may share an element)."""

    op_name = "adaptive_max_pool2d"

    def forward(self, x: Any, values: Any = None, index: Any = None) -> Any:
        self.shape = x.shape
        self.saved = (index,)
        return values

    def backward(self, g: Any) -> tuple[Any]:
        (index,) = self.saved
        return (scatter_add_planes(g, index, self.shape),)


def scatter_add_planes(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Add ``g`` (…, outputs) into zeros of ``shape`` at per-plane flat ``index``."""
    xp = get_array_module(g)
    plane = int(np.prod(shape[-2:]))
    planes = int(np.prod(shape[:-2]))
    outputs = index.shape[-2] * index.shape[-1]
    flat = index.reshape(planes, outputs) + (xp.arange(planes) * plane)[:, None]
    # bincount sums repeated indices (np.add.at would too, but element by element)
    total = xp.bincount(flat.ravel(), weights=g.ravel(), minlength=planes * plane)
    return total.astype(g.dtype, copy=False).reshape(shape)


class MaxUnpool(Function):
    """Put each value back where its max came from; zeros elsewhere."""

    op_name = "max_unpool2d"

    def forward(self, x: Any, indices: Any, size: tuple[int, int] = (0, 0)) -> Any:
        xp = get_array_module(x)
        planes = x.shape[:-2]
        n, m = int(np.prod(planes, dtype=np.int64)), x.shape[-2] * x.shape[-1]
        flat_idx = indices.reshape(n, m).astype(np.intp, copy=False)
        out = xp.zeros((n, size[0] * size[1]), dtype=x.dtype)
        xp.put_along_axis(out, flat_idx, x.reshape(n, m), axis=1)
        self.shape = x.shape
        self.saved = (flat_idx,)
        return out.reshape(planes + tuple(size))

    def backward(self, g: Any) -> tuple[Any, None]:
        (flat_idx,) = self.saved
        xp = get_array_module(g)
        plane = g.shape[-2] * g.shape[-1]
        gx = xp.take_along_axis(g.reshape(flat_idx.shape[0], plane), flat_idx, axis=1)
        return gx.reshape(self.shape), None


class AxisMatrix(Function):
    """Multiply one axis by a fixed matrix: ``y[..., i, ...] = sum_j A[i, j] x[..., j, ...]``
    (adaptive average pooling with uneven windows, one small GEMM per axis)."""

    op_name = "adaptive_avg_pool2d"

    def forward(self, x: Any, matrix: Any = None, axis: int = -1) -> Any:
        self.matrix, self.axis = matrix, axis
        return _contract(x, matrix, axis)

    def backward(self, g: Any) -> tuple[Any]:
        return (_contract(g, self.matrix.T, self.axis),)


def _contract(x: Any, matrix: Any, axis: int) -> Any:
    xp = get_array_module(x)
    y = xp.tensordot(x, matrix, axes=([x.ndim + axis], [1]))
    if axis != -1:
        y = xp.ascontiguousarray(xp.moveaxis(y, -1, axis))
    return y


# ---------------------------------------------------------------- functional API
def _max_pool(
    input: Tensor,  # noqa: A002
    nd: int,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
    op: str,
) -> Any:
    x = _input(input, nd, op)
    geo = pool_geometry(x, nd, kernel_size, stride, padding, dilation, ceil_mode, op)
    sink: list[Any] | None = [] if return_indices else None
    out = MaxPool.apply(input, geo=geo, sink=sink)
    if sink is not None:
        return out, Tensor._make(sink[0])
    return out


def max_pool1d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """1-D max pooling over (N, C, L) or (C, L) (CS231n L5 pooling, on sequences).

    Output (N, C, L_out), ``L_out = floor((L + 2p - d(k-1) - 1) / s) + 1`` (ceiling with
    ``ceil_mode``). ``stride`` defaults to ``kernel_size``. With ``return_indices``, also the
    int64 position of each maximum in L.

    >>> import gradschool as gs
    >>> import gradschool.nn.functional as F
    >>> F.max_pool1d(gs.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    tensor([[[3., 2.]]])
    """
    return _max_pool(
        input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d"
    )


def max_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """2-D max pooling over (N, C, H, W) or (C, H, W) (CS231n L5, assignment 2 max pool).

    Output (N, C, H_out, W_out) with ``H_out = floor((H + 2p - d(k-1) - 1) / s) + 1`` per
    spatial dim (ceiling with ``ceil_mode``, as long as the last window starts inside the input
    or its left padding). ``stride`` defaults to ``kernel_size``; padding (at most half the
    kernel) never wins. The backward sends each window's gradient to its maximum (the first
    one on ties). With ``return_indices``, also int64 indices ``h * W + w`` into each input
    plane, for ``max_unpool2d``.

    >>> import gradschool as gs
    >>> import gradschool.nn.functional as F
    >>> x = gs.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])
    >>> F.max_pool2d(x, 2, return_indices=True)
    (tensor([[[[4.]]]]), tensor([[[[2]]]]))
    """
    return _max_pool(
        input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d"
    )


def _avg_pool(
    input: Tensor,  # noqa: A002
    nd: int,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Any,
    op: str,
) -> Tensor:
    x = _input(input, nd, op)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating point tensor, got {x.dtype}; convert it first (x.float())"
        )
    geo = pool_geometry(x, nd, kernel_size, stride, padding, 1, ceil_mode, op)
    divisor = avg_divisor(geo, count_include_pad, divisor_override, x.dtype, op)
    return AvgPool.apply(input, geo=geo, divisor=divisor)


def avg_pool1d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling over (N, C, L) or (C, L) (CS231n L5 pooling).

    Output (N, C, L_out) as in ``max_pool1d``; zero padding is counted in the mean unless
    ``count_include_pad=False``.

    >>> import gradschool as gs
    >>> import gradschool.nn.functional as F
    >>> F.avg_pool1d(gs.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    tensor([[[2., 1.]]])
    """
    return _avg_pool(
        input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d"
    )


def avg_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling over (N, C, H, W) or (C, H, W) (CS231n L5 pooling).

    Output sizes as in ``max_pool2d``. Each output is the window's sum divided by the number of
    elements the window covers: padding included (``count_include_pad=True``) or not, and
    never the part of a ``ceil_mode`` window past the padding; ``divisor_override`` replaces
    the divisor. The backward gives every element of a window an equal share.

    >>> import gradschool as gs
    >>> import gradschool.nn.functional as F
    >>> F.avg_pool2d(gs.tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 2)
    tensor([[[[2.5000]]]])
    """
    return _avg_pool(
        input,
        2,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
        "avg_pool2d",
    )


def _adaptive_size(x: Any, output_size: Any, op: str) -> tuple[int, int]:
    """``output_size`` (an int, or a pair whose ``None`` keeps the input's size) as a pair."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(
                f"{op}: output_size must be an int or a pair (H_out, W_out), got {output_size!r}"
            )
        sizes = tuple(int(x.shape[-2 + i]) if v is None else v for i, v in enumerate(output_size))
    else:
        sizes = (output_size, output_size)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in sizes):
        raise TypeError(f"{op}: output_size must hold ints (or None), got {output_size!r}")
    if min(sizes) < 0:
        raise ValueError(f"{op}: output_size must be non-negative, got {output_size!r}")
    return int(sizes[0]), int(sizes[1])


def _adaptive_windows(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows: output ``i`` covers ``floor(i L / n) .. ceil((i+1) L / n)``."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size (N, C, H_out, W_out), whatever the input size
    (the global average pool before a ResNet's classifier, CS231n L9, is ``output_size=1``).

    Window ``i`` covers rows ``floor(i H / H_out)`` to ``ceil((i + 1) H / H_out)``. When the
    sizes divide, this is ``avg_pool2d`` with kernel = stride = H / H_out; otherwise each axis
    is averaged by one small matrix product.
    """
    x = _input(input, 2, "adaptive_avg_pool2d")
    if x.dtype.kind != "f":
        raise TypeError(f"adaptive_avg_pool2d: expected a floating point tensor, got {x.dtype}")
    size = _adaptive_size(x, output_size, "adaptive_avg_pool2d")
    H, W = x.shape[-2:]  # noqa: N806
    if 0 not in size and H % size[0] == 0 and W % size[1] == 0:
        kh, kw = H // size[0], W // size[1]
        geo = (Axis(H, size[0], kh, kh, 0, 1), Axis(W, size[1], kw, kw, 0, 1))
        return AvgPool.apply(input, geo=geo, divisor=x.dtype.type(kh * kw))
    xp = get_array_module(x)
    out = input
    for axis, n, length in ((-1, size[1], W), (-2, size[0], H)):
        start, end = _adaptive_windows(length, n)
        pos = np.arange(length)
        inside = (pos >= start[:, None]) & (pos < end[:, None])
        matrix = xp.asarray((inside / (end - start)[:, None]).astype(x.dtype))
        out = AxisMatrix.apply(out, matrix=matrix, axis=axis)
    return out


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:  # noqa: A002
    """Max pooling to a fixed output size (N, C, H_out, W_out), windows as in
    ``adaptive_avg_pool2d`` (global max pooling is ``output_size=1``). With
    ``return_indices``, also the int64 index ``h * W + w`` of each maximum.
    """
    x = _input(input, 2, "adaptive_max_pool2d")
    size = _adaptive_size(x, output_size, "adaptive_max_pool2d")
    if 0 in size:
        raise ValueError(f"adaptive_max_pool2d: output_size must be positive, got {size}")
    H, W = x.shape[-2:]  # noqa: N806
    if H % size[0] == 0 and W % size[1] == 0:
        kh, kw = H // size[0], W // size[1]
        geo = (Axis(H, size[0], kh, kh, 0, 1), Axis(W, size[1], kw, kw, 0, 1))
        sink: list[Any] | None = [] if return_indices else None
        out = MaxPool.apply(input, geo=geo, sink=sink)
        return (out, Tensor._make(sink[0])) if sink is not None else out
    values, index = _adaptive_max_arrays(x, size)
    out = MaxPoolFlat.apply(input, values=values, index=index)
    return (out, Tensor._make(index)) if return_indices else out


def _adaptive_max_axis(x: Any, axis: int, n: int) -> tuple[Any, Any]:
    """Max over uneven adaptive windows along one axis: values and the winners' positions."""
    xp = get_array_module(x)
    start, end = _adaptive_windows(x.shape[axis], n)
    best = pos = None
    for o in range(int((end - start).max())):
        # offset o of each window; a window shorter than o repeats its last element, which
        # (compared with strict >) changes nothing
        at = np.minimum(start + o, end - 1)
        v = xp.take(x, xp.asarray(at), axis=axis)
        where_ = xp.asarray(at).reshape((n,) + (1,) * (-axis - 1))
        if best is None:
            best, pos = v, xp.broadcast_to(where_, v.shape).astype(np.int64)
            continue
        won = xp.greater(v, best)
        xp.maximum(best, v, out=best)
        xp.maximum(pos, won * where_, out=pos)  # positions only grow with o (see _max_axis)
    return best, pos


def _adaptive_max_arrays(x: Any, size: tuple[int, int]) -> tuple[Any, Any]:
    xp = get_array_module(x)
    rows, wpos = _adaptive_max_axis(x, -1, size[1])
    out, hpos = _adaptive_max_axis(rows, -2, size[0])
    w = xp.take_along_axis(wpos, hpos, axis=-2)  # the column of the winner in its row
    return out, hpos * x.shape[-1] + w


def max_unpool2d(
    input: Tensor,  # noqa: A002
    indices: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Tensor:
    """The partial inverse of ``max_pool2d`` (CS231n L11 "max unpooling": remember which
    element won, put the value back there, zeros elsewhere), an upsampling layer for
    segmentation decoders.

    ``input`` and ``indices`` (int64, from ``max_pool2d(..., return_indices=True)``) are
    (N, C, H, W) or (C, H, W); the output is (N, C, H_out, W_out) with
    ``H_out = (H - 1) * stride - 2 * padding + kernel_size`` unless ``output_size`` (2 or 4
    numbers) picks one within a stride of it.
    """
    op = "max_unpool2d"
    x = _input(input, 2, op)
    if not isinstance(indices, Tensor):
        raise TypeError(f"{op}: indices must be a Tensor, got {type(indices).__name__}")
    idx = indices.data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer (int64) tensor, got {idx.dtype}")
    if idx.shape != x.shape:
        raise ValueError(
            f"{op}: indices must have the shape of the input {tuple(x.shape)}, "
            f"got {tuple(idx.shape)}"
        )
    k = _tuple(kernel_size, 2, "kernel_size", op)
    s = _tuple(k if stride is None else stride, 2, "stride", op)
    p = _tuple(padding, 2, "padding", op)
    if min(k) <= 0 or min(s) <= 0 or min(p) < 0:
        raise ValueError(
            f"{op}: expected positive kernel_size and stride and non-negative padding, "
            f"got kernel_size={k}, stride={s}, padding={p}"
        )
    default = tuple((x.shape[-2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(2))
    if output_size is None:
        size = default
    else:
        size = tuple(int(v) for v in output_size)
        if len(size) == 4:
            size = size[2:]
        if len(size) != 2:
            raise ValueError(
                f"{op}: output_size must have 2 or 4 elements, got {len(size)}: {output_size!r}"
            )
        for i in range(2):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < size[i] < hi:
                raise ValueError(
                    f"{op}: output_size {size} is invalid: dim {i} must be strictly between "
                    f"{lo} and {hi} (the default is {default})"
                )
    if min(size) <= 0:
        raise ValueError(f"{op}: the output size {size} must be positive")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        bad = lo if lo < 0 else hi
        if lo < 0 or hi >= size[0] * size[1]:
            raise ValueError(
                f"{op}: found an invalid max index {bad} (the output planes are "
                f"{size[0]}x{size[1]}, so indices must be in [0, {size[0] * size[1]}))"
            )
    return MaxUnpool.apply(input, indices, size=size)
