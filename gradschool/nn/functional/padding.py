"""Padding: grow (or crop) the last dims of a tensor, PyTorch's ``F.pad``.

CS231n L5 (convolution: "zero-pad the border" so a 3x3 conv keeps the spatial size) and
the other borders image models use: ``reflect`` (mirror without repeating the edge, fewer
artefacts in style transfer and segmentation), ``replicate`` (repeat the edge) and
``circular`` (wrap around, for periodic signals).

``pad`` is a flat tuple that starts at the *last* dim: ``(left, right)`` pads W,
``(left, right, top, bottom)`` pads W then H, and so on. A negative amount crops.

How it works: constant padding writes the input into a tensor filled with the value. The
other modes are a gather along each padded axis with an index map (reflect:
``2 1 | 0 1 2 ... L-1 | L-2 L-3``): one block copy for the unpadded centre and a small gather
for the border. Their backward is the matching scatter-add: every output element sends its
gradient back to the input element it copied, so border elements collect the gradient of all
their copies.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ...autograd.function import Function
from ...backend.device import get_array_module
from ...ops._util import axis_order, new_array
from ...tensor import Tensor

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


# ---------------------------------------------------------------- gather and scatter along an axis
class AxisMap(NamedTuple):
    """How one axis of an output is gathered from the input: output position ``j`` copies
    input position ``index[j]``. ``centre = (out_start, in_start, length)`` names a block
    copied as it is (the unpadded part), so only the few other positions need a gather."""

    axis: int  # counted from the end: -1 is the last
    size: int  # the input's length along the axis
    index: np.ndarray
    centre: tuple[int, int, int] = (0, 0, 0)


def _key(positions: np.ndarray, xp: Any) -> Any:
    """An index for ``positions``: a slice when they are evenly spaced (a view, no gather)."""
    if positions.size == 1:
        return slice(int(positions[0]), int(positions[0]) + 1)
    step = int(positions[1] - positions[0]) if positions.size > 1 else 0
    if step > 0 and np.all(np.diff(positions) == step):
        return slice(int(positions[0]), int(positions[-1]) + 1, step)
    return xp.asarray(positions)


def _pick(x: Any, positions: np.ndarray, ax: int) -> Any:
    """``x[..., positions, ...]`` along axis ``ax``: a view for a slice, else ``take`` (several
    times faster than fancy indexing)."""
    xp = get_array_module(x)
    key = _key(positions, xp)
    if isinstance(key, slice):
        return x[(slice(None),) * ax + (key,)]
    return xp.take(x, key, axis=ax)


def _outside(m: AxisMap) -> np.ndarray:
    """The output positions outside the centre block."""
    start, _, length = m.centre
    return np.r_[0:start, start + length : m.index.size]


def gather_axis(x: Any, m: AxisMap) -> Any:
    """``take(x, m.index, axis)``, as one block copy for the centre and one small gather for
    the rest."""
    xp = get_array_module(x)
    ax = x.ndim + m.axis
    lead = (slice(None),) * ax
    start, source, length = m.centre
    if not length:
        out = _pick(x, m.index, ax)
        return out.copy() if out.base is not None else out
    shape = list(x.shape)
    shape[ax] = m.index.size
    out = xp.empty(shape, dtype=x.dtype)
    out[lead + (slice(start, start + length),)] = x[lead + (slice(source, source + length),)]
    rest = _outside(m)
    if rest.size:
        out[lead + (_key(rest, xp),)] = _pick(x, m.index[rest], ax)
    return out


def scatter_axis(g: Any, m: AxisMap) -> Any:
    """The backward of ``gather_axis``: ``out[..., index[j], ...] += g[..., j, ...]`` into
    zeros of the input's length. A position copied several times (a replicated edge, an
    upsampled pixel) collects all its gradients: the copies are added in rounds, each round
    taking at most one copy of every position, so a round is a few vectorised adds."""
    xp = get_array_module(g)
    ax = g.ndim + m.axis
    lead = (slice(None),) * ax
    shape = list(g.shape)
    shape[ax] = m.size
    out = xp.zeros(shape, dtype=g.dtype)
    start, source, length = m.centre
    if length:
        out[lead + (slice(source, source + length),)] = g[lead + (slice(start, start + length),)]
    positions = _outside(m)
    targets = m.index[positions]
    order = np.argsort(targets, kind="stable")
    positions, targets = positions[order], targets[order]
    first = np.r_[True, targets[1:] != targets[:-1]] if targets.size else np.zeros(0, bool)
    run = np.cumsum(first) - 1  # which run of equal targets each copy belongs to
    rank = np.arange(targets.size) - np.flatnonzero(first)[run]  # its place within the run
    padded = None
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        at, to = positions[rank == r], targets[rank == r]
        blocks = np.split(np.arange(to.size), np.flatnonzero(np.diff(to) != 1) + 1)
        if len(blocks) <= 8:  # a few runs of consecutive targets: add each as a block
            for b in blocks:
                dest = out[lead + (slice(int(to[b[0]]), int(to[b[0]]) + b.size),)]
                dest += _pick(g, at[b], ax)
            continue
        # scattered targets: gather a whole row of sources, with a zero for the others
        if padded is None:
            zero = list(g.shape)
            zero[ax] = 1
            padded = xp.concatenate([g, xp.zeros(zero, dtype=g.dtype)], axis=ax)
        full = np.full(m.size, g.shape[ax])
        full[to] = at
        out += xp.take(padded, xp.asarray(full), axis=ax)
    return out


class Gather(Function):
    """``x`` gathered along several axes with fixed maps (reflect, replicate and circular
    padding; nearest resizing); the backward scatter-adds through the same maps."""

    op_name = "pad"

    def forward(self, x: Any, maps: tuple[AxisMap, ...] = ()) -> Any:
        self.maps = maps
        if not maps:
            return x.copy()
        for m in maps:
            x = gather_axis(x, m)
        return x

    def backward(self, g: Any) -> tuple[Any]:
        for m in reversed(self.maps):
            g = scatter_axis(g, m)
        return (g,)


class ConstantPad(Function):
    """Write the input into a tensor filled with ``value`` (negative pads crop)."""

    op_name = "pad"

    def forward(self, x: Any, pads: tuple[tuple[int, int], ...] = (), value: Any = 0) -> Any:
        xp = get_array_module(x)
        lead = x.ndim - len(pads)  # pads[i] is for axis lead + i
        src, dst, shape = [slice(None)] * x.ndim, [slice(None)] * x.ndim, list(x.shape)
        for i, (before, after) in enumerate(pads):
            n = x.shape[lead + i]
            crop = max(0, -before)
            kept = max(0, n - crop - max(0, -after))
            shape[lead + i] = n + before + after
            src[lead + i] = slice(crop, crop + kept)
            dst[lead + i] = slice(max(0, before), max(0, before) + kept)
        self.src, self.dst, self.shape = tuple(src), tuple(dst), x.shape
        self.cropped, self.order = any(b < 0 or a < 0 for b, a in pads), axis_order(x)
        out = new_array(xp, tuple(shape), x.dtype, self.order, value)
        out[self.dst] = x[self.src]
        return out

    def backward(self, g: Any) -> tuple[Any]:
        if not self.cropped:
            return (g[self.dst],)  # the gradient of the input is the centre (a view)
        xp = get_array_module(g)
        gx = new_array(xp, self.shape, g.dtype, self.order, 0)
        gx[self.src] = g[self.dst]
        return (gx,)


def _index_map(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each output position along one axis, the input position it copies."""
    i = np.arange(-before, size + after)
    if mode == "reflect":
        last = size - 1
        return last - np.abs(last - np.abs(i))  # mirror at 0 and at L-1, edges not repeated
    if mode == "replicate":
        return np.clip(i, 0, size - 1)
    # circular, as PyTorch: crop first, then wrap the cropped part around
    crop = max(0, -before)
    kept = size - crop - max(0, -after)
    return np.arange(-max(0, before), kept + max(0, after)) % max(kept, 1) + crop


# ---------------------------------------------------------------- the functional API
def _check_crop(size: int, before: int, after: int, dim: int, narrow: bool) -> None:
    """Negative padding crops: the result may not have a negative size, and constant padding
    (which crops first, then pads) may not crop more than the dim holds."""
    cropped = size - max(0, -before) - max(0, -after)
    if size + before + after < 0 or (narrow and cropped < 0):
        raise ValueError(
            f"pad: padding ({before}, {after}) of dim {dim} (size {size}) crops too much: "
            f"it would leave {size + before + after} elements"
        )


def _pairs(pad: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    """``pad`` (last dim first) as ``(before, after)`` pairs in axis order."""
    if not isinstance(pad, (tuple, list)) or not all(
        isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad
    ):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(
            f"pad: the padding length must be even (a (before, after) pair per dim, last dim "
            f"first), got {len(pad)}: {tuple(pad)}"
        )
    if len(pad) // 2 > ndim:
        raise ValueError(
            f"pad: padding of length {len(pad)} pads {len(pad) // 2} dims, but the input has "
            f"only {ndim}"
        )
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]
    return tuple(reversed(pairs))


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad (or, with negative amounts, crop) the last ``len(pad) // 2`` dims of ``input``.

    ``pad`` starts at the last dim: ``(left, right, top, bottom)`` pads W by left/right and H
    by top/bottom. ``mode``: ``"constant"`` (fill with ``value``, default 0; any number of
    dims), ``"reflect"`` (mirror, edge not repeated; needs pad < size), ``"replicate"``
    (repeat the edge) or ``"circular"`` (wrap around). The last three pad the last 1, 2 or 3
    dims of a (C, *) or (N, C, *) input: 2, 4 or 6 numbers for a 2-3D, 3-4D or 4-5D input.

    >>> import gradschool as gs
    >>> import gradschool.nn.functional as F
    >>> F.pad(gs.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(_MODES)}; got {mode!r}")
    x = input.data
    pairs = _pairs(pad, x.ndim)
    lead = x.ndim - len(pairs)
    if mode == "constant":
        for i, (before, after) in enumerate(pairs):
            _check_crop(x.shape[lead + i], before, after, lead + i, narrow=True)
        fill = 0 if value is None else value
        return ConstantPad.apply(input, pads=pairs, value=fill)
    if value is not None and value != 0:
        raise ValueError(f"pad: mode {mode!r} takes no value argument, got value={value!r}")
    n = len(pairs)
    if n not in (1, 2, 3) or x.ndim not in (n + 1, n + 2):
        raise ValueError(
            f"pad: mode {mode!r} with {len(pad)} padding numbers pads the last {n} dims of a "
            f"{n + 1}D or {n + 2}D input (C or N, C first), got a {x.ndim}D input "
            f"of shape {tuple(x.shape)}"
        )
    if 0 in x.shape[-n - 1 :]:
        raise ValueError(
            f"pad: mode {mode!r} needs non-empty dims (only the batch may be 0), "
            f"got shape {tuple(x.shape)}"
        )
    maps = []
    for i, (before, after) in enumerate(pairs):
        size, dim = x.shape[lead + i], lead + i
        if mode == "reflect" and (before >= size or after >= size):
            raise ValueError(
                f"pad: reflect padding ({before}, {after}) of dim {dim} must be smaller than "
                f"its size {size} (input shape {tuple(x.shape)})"
            )
        kept = size - max(0, -before) - max(0, -after)  # circular wraps what is left
        if mode == "circular" and (before > kept or after > kept):
            raise ValueError(
                f"pad: circular padding ({before}, {after}) of dim {dim} must be at most the "
                f"size left after cropping, {kept}: it would wrap around more than once"
            )
        _check_crop(size, before, after, dim, narrow=False)
        if before or after:
            # the unpadded part, copied as it is (nothing when the crops take it all)
            centre = (max(0, before), max(0, -before), kept) if kept > 0 else (0, 0, 0)
            maps.append(AxisMap(dim - x.ndim, size, _index_map(size, before, after, mode), centre))
    return Gather.apply(input, maps=tuple(maps))
