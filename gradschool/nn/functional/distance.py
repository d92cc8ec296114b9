"""Distances and similarities between feature vectors (CS231n L2: the L1 and L2 distances
of nearest neighbours; L13-L14: cosine similarity of embeddings in metric and contrastive
learning, SimCLR's normalised projections; CSC321: word-vector similarity).

``normalize`` scales vectors to unit p-norm; ``cosine_similarity`` is the dot product of two
unit vectors, the cosine of the angle between them, in ``[-1, 1]``; ``pairwise_distance`` is
the p-norm of the difference of paired vectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import ops as _ops
from ...autograd.function import Function
from ...backend.device import get_array_module
from ...backend.dtype import result_type
from ...ops._util import as_number, normalize_dim, sum_to
from ...tensor import Tensor

__all__ = ["normalize", "cosine_similarity", "pairwise_distance"]


def _tensor(x: Any, op: str, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(x).__name__}")


def normalize(
    input: Tensor,  # noqa: A002
    p: float = 2.0,
    dim: int = 1,
    eps: float = 1e-12,
    out: Any = None,
) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``: every slice scaled to unit p-norm (shape:
    any, default ``dim=1``, the features of ``(N, C, *)``); ``eps`` avoids dividing by 0."""
    _tensor(input, "normalize", "input")
    if out is not None:
        raise TypeError("normalize(): out= is not supported; use the returned tensor")
    if input.data.dtype.kind != "f":
        raise TypeError(
            f"normalize(): expected a floating point tensor, got {input.data.dtype}; convert "
            "it first (x.float())"
        )
    p = as_number(p, "normalize", "p")
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        normalize_dim(int(dim), input.data.ndim, "normalize")
    # the gradient through the clamp is PyTorch's: where the norm is below eps, the
    # denominator is a constant
    denom = _ops.norm(input, p, dim, keepdim=True).clamp(min=eps)
    return input / denom


class CosineSimilarity(Function):
    """``sum(a/|a| * b/|b|)`` along ``axis`` (after broadcasting ``a`` against ``b``).

    Each norm is clamped to at least ``eps`` in value only: as in PyTorch, the clamp is
    invisible to the gradient, which treats the denominator as the norm itself.
    """

    op_name = "cosine_similarity"

    def forward(self, a: Any, b: Any, axis: int = 1, eps: float = 1e-8) -> Any:
        xp = get_array_module(a)
        dt = result_type(a, b)
        a = a if a.dtype == dt else a.astype(dt)
        b = b if b.dtype == dt else b.astype(dt)
        shape = np.broadcast_shapes(a.shape, b.shape)
        self.ashape, self.bshape, self.axis = a.shape, b.shape, axis
        a_, b_ = xp.broadcast_to(a, shape), xp.broadcast_to(b, shape)
        na = xp.sqrt((a_ * a_).sum(axis=axis, keepdims=True))
        nb = xp.sqrt((b_ * b_).sum(axis=axis, keepdims=True))
        ca, cb = xp.maximum(na, eps), xp.maximum(nb, eps)
        # normalise first, then multiply: the product can neither overflow nor leave [-1, 1]
        prod = a_ / ca
        prod *= b_ / cb
        out = prod.sum(axis=axis, keepdims=True)
        self.saved = (a_, b_, na, nb, ca, cb, out)
        return out.reshape(out.shape[:axis] + out.shape[axis + 1 :])

    def backward(self, g: Any) -> tuple[Any, Any]:
        a_, b_, na, nb, ca, cb, out = self.saved
        xp = get_array_module(g)
        gk = g.reshape(out.shape)
        ua, ub = a_ / ca, b_ / cb
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            # d/da [a.ub / |a|] = ub/|a| - ua out/|a|, with 0 for the second term at a = 0
            if self.needs_input_grad[0]:
                ka = xp.where(na == 0, 0, out / na)
                ga = ub / ca
                ga -= ua * ka
                ga *= gk
                ga = sum_to(ga, self.ashape)
            if self.needs_input_grad[1]:
                kb = xp.where(nb == 0, 0, out / nb)
                gb = ua / cb
                gb -= ub * kb
                gb *= gk
                gb = sum_to(gb, self.bshape)
        return ga, gb


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``:
    ``x1.x2 / (max(||x1||, eps) max(||x2||, eps))``, in ``[-1, 1]``.

    Shapes: ``x1`` and ``x2`` broadcast to a common shape; ``dim`` (default 1, the features
    of ``(N, D)``) is removed: ``(N, D), (N, D) -> (N,)``.
    """
    _tensor(x1, "cosine_similarity", "x1")
    _tensor(x2, "cosine_similarity", "x2")
    a, b = x1.data, x2.data
    if result_type(a, b).kind != "f":
        raise TypeError(
            f"cosine_similarity: expected floating point inputs, got {a.dtype} and {b.dtype}"
        )
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"cosine_similarity: the shapes {tuple(a.shape)} and {tuple(b.shape)} do not "
            "broadcast together"
        ) from None
    if not shape:
        raise ValueError("cosine_similarity: expected inputs with at least 1 dimension, got 0-d")
    axis = normalize_dim(int(dim), len(shape), "cosine_similarity")
    return CosineSimilarity.apply(x1, x2, axis=axis, eps=as_number(eps, "cosine_similarity", "eps"))


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """The p-norm distance ``||x1 - x2 + eps||_p`` between paired vectors along the last dim.

    Shapes: ``(N, D), (N, D) -> (N,)`` (``(N, 1)`` with ``keepdim``); the inputs broadcast
    (``(N, D), (D,)`` compares every row with one vector). ``eps`` keeps the gradient of the
    2-norm finite when the vectors are equal.
    """
    _tensor(x1, "pairwise_distance", "x1")
    _tensor(x2, "pairwise_distance", "x2")
    p = as_number(p, "pairwise_distance", "p")
    try:
        np.broadcast_shapes(x1.data.shape, x2.data.shape)
    except ValueError:
        raise ValueError(
            f"pairwise_distance: the shapes {tuple(x1.data.shape)} and {tuple(x2.data.shape)} "
            "do not broadcast together"
        ) from None
    diff = x1 - x2 + eps
    if diff.data.ndim == 0:  # two scalars: the distance is |x1 - x2 + eps|
        return _ops.norm(diff.reshape(1), p, 0)
    return _ops.norm(diff, p, -1, keepdim=keepdim)
