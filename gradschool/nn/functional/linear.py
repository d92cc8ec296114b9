"""The affine layer ``y = x W^T + b`` (CS231n L2-L4: the linear classifier and the fully
connected layer; CSC321 L2-L6).

A linear classifier scores C classes from D features with ``W`` of shape ``(C, D)`` and a
bias ``b`` of shape ``(C,)``; a fully connected layer is the same map between hidden layers.
PyTorch stores ``W`` as ``(out_features, in_features)``, so the forward is ``x W^T``.

The backward is the matrix-multiply gate: with upstream ``dY``,
``dX = dY W``, ``dW = dY^T X`` and ``db = sum_rows dY``; each gradient has the shape of its
input, which is the quickest check that the transposes are right. Inputs with more than two
dims ``(*, in_features)`` are flattened to ``(rows, in_features)`` first, so forward and
backward are each a single GEMM (no loop, no batched matmul over the leading dims).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...autograd.function import Function
from ...ops._util import sum_to
from ...tensor import Tensor

__all__ = ["linear"]


class Linear(Function):
    """``x W^T + b`` on ``(rows, in)`` views of the input; ``b`` may be ``None``."""

    def forward(self, x: Any, w: Any, b: Any = None) -> Any:
        vec = w.ndim == 1  # a weight vector maps (*, in) to (*)
        w2 = w.reshape(1, -1) if vec else w
        x2 = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])  # a view when x is contiguous
        self.saved = (x2, w2)
        self.xshape, self.wshape = x.shape, w.shape
        self.bshape = None if b is None else b.shape
        y = (x2 @ w2.T).reshape(_out_shape(x.shape, w.shape))
        if b is not None:
            y += b  # in place; b broadcasts to the output
        return y

    def backward(self, g: Any) -> tuple[Any, Any, Any]:
        x2, w2 = self.saved
        g2 = g.reshape(x2.shape[0], w2.shape[0])
        gx = gw = gb = None
        if self.needs_input_grad[0]:
            gx = (g2 @ w2).reshape(self.xshape)
        if self.needs_input_grad[1]:
            gw = (g2.T @ x2).reshape(self.wshape)
        if self.bshape is not None and self.needs_input_grad[2]:
            if self.bshape == (w2.shape[0],):  # the usual (out_features,) bias
                gb = g2.sum(axis=0)
            else:
                gb = sum_to(g, self.bshape)
        return gx, gw, gb


def _out_shape(xshape: tuple[int, ...], wshape: tuple[int, ...]) -> tuple[int, ...]:
    return xshape[:-1] + ((wshape[0],) if len(wshape) == 2 else ())


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """``y = x W^T + b``: the fully connected layer.

    Shapes: input ``(*, in_features)``, weight ``(out_features, in_features)``, bias
    ``(out_features,)`` (or anything that broadcasts to the output); output
    ``(*, out_features)``. As in PyTorch, a weight vector ``(in_features,)`` maps an input
    of at least 2 dims to ``(*)``, with no bias.

    >>> import gradschool as gs
    >>> from gradschool.nn import functional as F
    >>> F.linear(gs.ones(2, 3), gs.ones(4, 3), gs.zeros(4)).shape
    (2, 4)
    """
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear(): argument '{name}' must be a Tensor, not {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(
            f"linear(): argument 'bias' must be a Tensor or None, not {type(bias).__name__}"
        )
    x, w = input.data, weight.data
    if x.ndim == 0 or w.ndim == 0 or w.ndim > 2:
        raise ValueError(
            f"linear: expected an input of at least 1 dim and a 1-D or 2-D weight, got shapes "
            f"{tuple(x.shape)} and {tuple(w.shape)}"
        )
    if w.ndim == 1 and x.ndim < 2:
        raise ValueError(
            f"linear: a 1-D weight (shape {tuple(w.shape)}) needs an input of at least 2 dims, "
            f"got shape {tuple(x.shape)}"
        )
    if w.ndim == 1 and bias is not None:
        raise ValueError("linear: a 1-D weight (one output) takes no bias, as in PyTorch")
    if x.dtype != w.dtype:
        raise TypeError(
            f"linear: input is {x.dtype} but weight is {w.dtype}; convert one of them "
            "(e.g. x.float() or model.double())"
        )
    if x.shape[-1] != w.shape[-1]:
        raise ValueError(
            f"linear: input of shape {tuple(x.shape)} has {x.shape[-1]} features but weight of "
            f"shape {tuple(w.shape)} expects {w.shape[-1]} (in_features is the last dim of both)"
        )
    if bias is not None:
        b, out = bias.data, _out_shape(x.shape, w.shape)
        if b.dtype != x.dtype:
            raise TypeError(f"linear: input is {x.dtype} but bias is {b.dtype}; use one dtype")
        try:
            ok = np.broadcast_shapes(out, b.shape) == out
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"linear: bias of shape {tuple(b.shape)} does not broadcast to the output "
                f"shape {out}"
            )
    return Linear.apply(input, weight, bias)
