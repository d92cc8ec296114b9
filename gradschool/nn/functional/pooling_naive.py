"""Pooling the way the course writes it first: a loop over output positions.

CS231n assignment 2 (``max_pool_forward_naive`` / ``max_pool_backward_naive``), CS231n L5:
pad the input, slide the window, take the max (or mean) of each window; in the backward, the
max gate sends each window's gradient to the element that won, the mean gate shares it
equally. The loop runs over output positions (ho, wo) and is vectorised over the batch and
the channels.

These are references: ``tests/nn/test_pooling.py`` checks that they equal the fast versions in
``pooling.py`` (which have no loop over positions), values, indices and gradients. Same
signatures and checks as ``max_pool2d`` and ``avg_pool2d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd.function import Function
from ...tensor import Tensor
from .pooling import Axis, _input, avg_divisor, pool_geometry

__all__ = ["max_pool2d_naive", "avg_pool2d_naive"]


def _padded(x: np.ndarray, gh: Axis, gw: Axis, fill: float) -> np.ndarray:
    """``x`` with ``p`` rows/columns of ``fill`` on each side, and more on the right/bottom
    if a ``ceil_mode`` window runs past the padding."""
    extra_h = max(0, (gh.out - 1) * gh.s + gh.d * (gh.k - 1) + 1 - (gh.size + 2 * gh.p))
    extra_w = max(0, (gw.out - 1) * gw.s + gw.d * (gw.k - 1) + 1 - (gw.size + 2 * gw.p))
    widths = [(0, 0)] * (x.ndim - 2) + [(gh.p, gh.p + extra_h), (gw.p, gw.p + extra_w)]
    return np.pad(x, widths, constant_values=fill)


def _window(gh: Axis, gw: Axis, i: int, j: int) -> tuple[Any, ...]:
    """The (dilated) window of output (i, j) in padded coordinates."""
    rows = slice(i * gh.s, i * gh.s + gh.d * (gh.k - 1) + 1, gh.d)
    cols = slice(j * gw.s, j * gw.s + gw.d * (gw.k - 1) + 1, gw.d)
    return (Ellipsis, rows, cols)


class MaxPool2dNaive(Function):
    op_name = "max_pool2d_naive"

    def forward(self, x: Any, geo: tuple[Axis, Axis] = (), sink: Any = None) -> Any:
        gh, gw = geo
        xp = _padded(x, gh, gw, -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min)
        out = np.empty(x.shape[:-2] + (gh.out, gw.out), dtype=x.dtype)
        winner = np.empty(out.shape, dtype=np.int64)  # flat position in the window
        for i in range(gh.out):
            for j in range(gw.out):
                window = xp[_window(gh, gw, i, j)].reshape(x.shape[:-2] + (gh.k * gw.k,))
                winner[..., i, j] = window.argmax(axis=-1)  # the first maximum
                out[..., i, j] = window.max(axis=-1)
        if sink is not None:  # PyTorch's indices: h * W + w in the unpadded plane
            h = (np.arange(gh.out) * gh.s - gh.p)[:, None] + (winner // gw.k) * gh.d
            w = np.arange(gw.out) * gw.s - gw.p + (winner % gw.k) * gw.d
            sink.append(h * gw.size + w)
        self.geo, self.shape, self.padded_shape = geo, x.shape, xp.shape
        self.saved = (winner,)
        return out

    def backward(self, g: Any) -> tuple[Any]:
        (winner,) = self.saved
        gh, gw = self.geo
        gxp = np.zeros(self.padded_shape, dtype=g.dtype)
        for i in range(gh.out):
            for j in range(gw.out):
                # the max gate: the whole gradient goes to the winner of the window
                onehot = np.arange(gh.k * gw.k) == winner[..., i, j, None]
                shape = g.shape[:-2] + (gh.k, gw.k)
                gxp[_window(gh, gw, i, j)] += (onehot * g[..., i, j, None]).reshape(shape)
        return (gxp[..., gh.p : gh.p + gh.size, gw.p : gw.p + gw.size],)


class AvgPool2dNaive(Function):
    op_name = "avg_pool2d_naive"

    def forward(self, x: Any, geo: tuple[Axis, Axis] = (), divisor: Any = 1) -> Any:
        gh, gw = geo
        xp = _padded(x, gh, gw, 0.0)
        out = np.empty(x.shape[:-2] + (gh.out, gw.out), dtype=x.dtype)
        div = np.broadcast_to(np.asarray(divisor, dtype=x.dtype), (gh.out, gw.out))
        for i in range(gh.out):
            for j in range(gw.out):
                out[..., i, j] = xp[_window(gh, gw, i, j)].sum(axis=(-2, -1)) / div[i, j]
        self.geo, self.shape, self.padded_shape, self.div = geo, x.shape, xp.shape, div
        return out

    def backward(self, g: Any) -> tuple[Any]:
        gh, gw = self.geo
        gxp = np.zeros(self.padded_shape, dtype=g.dtype)
        for i in range(gh.out):
            for j in range(gw.out):
                # the mean gate: every element of the window gets an equal share
                gxp[_window(gh, gw, i, j)] += (g[..., i, j] / self.div[i, j])[..., None, None]
        return (gxp[..., gh.p : gh.p + gh.size, gw.p : gw.p + gw.size],)


def max_pool2d_naive(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """``max_pool2d`` as a loop over output positions (CS231n assignment 2), a reference.

    (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out); same arguments, values, indices and
    gradients as ``max_pool2d`` (NumPy only).
    """
    x = _input(input, 2, "max_pool2d_naive")
    geo = pool_geometry(x, 2, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d_naive")
    sink: list[Any] | None = [] if return_indices else None
    out = MaxPool2dNaive.apply(input, geo=geo, sink=sink)
    return (out, Tensor._make(sink[0])) if sink is not None else out


def avg_pool2d_naive(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """``avg_pool2d`` as a loop over output positions (CS231n L5), a reference.

    (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out); same arguments and results as
    ``avg_pool2d`` (NumPy only).
    """
    x = _input(input, 2, "avg_pool2d_naive")
    if x.dtype.kind != "f":
        raise TypeError(f"avg_pool2d_naive: expected a floating point tensor, got {x.dtype}")
    geo = pool_geometry(x, 2, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d_naive")
    divisor = avg_divisor(geo, count_include_pad, divisor_override, x.dtype, "avg_pool2d_naive")
    return AvgPool2dNaive.apply(input, geo=geo, divisor=divisor)
