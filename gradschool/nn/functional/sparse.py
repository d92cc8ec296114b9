"""Embeddings and one-hot codes (CS231n L10 and CSC321 L7-L8: word embeddings, language
models, image captioning).

A word (or any category) ``i`` out of a vocabulary of V can be fed to a network as a one-hot
vector ``e_i`` of length V; a linear layer then computes ``W^T e_i``, which is just row ``i``
of ``W``. An embedding is that layer without the wasteful product: ``embedding(idx, W)``
looks up rows ``W[idx]``. Its backward is the same picture reversed: each upstream gradient
row is added into the row it was read from; a word that occurs several times in the batch
collects the sum of its gradients (a scatter-add), and words that do not occur get 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd.function import Function
from ...backend.device import get_array_module
from ...ops._util import add_at
from ...tensor import Tensor

__all__ = ["embedding", "one_hot"]


class Embedding(Function):
    """Rows ``weight[indices]``; the backward scatter-adds the gradient into those rows."""

    def forward(
        self, weight: Any, indices: Any, padding_idx: int = -1, scale_grad_by_freq: bool = False
    ) -> Any:
        self.wshape, self.padding_idx, self.scale = weight.shape, padding_idx, scale_grad_by_freq
        self.saved = (indices,)
        return get_array_module(weight).take(weight, indices, axis=0)

    def backward(self, g: Any) -> tuple[Any, None]:
        idx = self.saved[0].reshape(-1)
        xp = get_array_module(g)
        rows = g.reshape(idx.size, self.wshape[1])
        if self.scale:  # divide each word's gradient by its count in the mini-batch
            counts = xp.bincount(idx, minlength=self.wshape[0])
            rows = rows / counts[idx].astype(g.dtype)[:, None]
        gw = xp.zeros(self.wshape, dtype=g.dtype)
        add_at(gw, idx, rows)
        if self.padding_idx >= 0:  # the padding row is a constant: it learns nothing
            gw[self.padding_idx] = 0
        return gw, None


def _renorm_(weight: Tensor, indices: Any, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the rows of ``weight`` used by ``indices`` whose ``norm_type``-norm
    exceeds ``max_norm`` to norm ``max_norm`` (PyTorch's ``embedding_renorm_``)."""
    xp = get_array_module(weight.data)
    rows = xp.unique(indices.reshape(-1))
    w = weight.data[rows]
    if norm_type == 2:
        norms = xp.sqrt((w * w).sum(axis=1))
    elif norm_type == np.inf:
        norms = xp.abs(w).max(axis=1, initial=0)
    else:
        norms = (xp.abs(w) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    big = norms > max_norm
    # written into the array itself, outside autograd (PyTorch does this under no_grad)
    weight.data[rows[big]] = w[big] * (max_norm / (norms[big] + 1e-7))[:, None]


def embedding(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of an embedding table: ``weight[input]``.

    Shapes: input ``(*)`` of integer indices in ``[0, V)``, weight ``(V, D)``, output
    ``(*, D)``. ``padding_idx``: that row gets no gradient (it stays whatever it is, zeros
    for ``nn.Embedding``). ``max_norm``: rows about to be read whose ``norm_type``-norm
    exceeds it are first rescaled to that norm, in place (as PyTorch). ``scale_grad_by_freq``
    divides each row's gradient by the number of times it occurs in ``input``. ``sparse`` is
    accepted for compatibility; the gradient is always a dense ``(V, D)`` array.
    """
    if not isinstance(input, Tensor):
        raise TypeError(
            f"embedding(): argument 'input' must be a Tensor, not {type(input).__name__}"
        )
    if not isinstance(weight, Tensor):
        raise TypeError(
            f"embedding(): argument 'weight' must be a Tensor, not {type(weight).__name__}"
        )
    idx, w = input.data, weight.data
    if idx.dtype.kind not in "iu" or idx.dtype == np.uint8:
        raise TypeError(
            f"embedding: indices must be an integer tensor (int64 or int32), got {idx.dtype}; "
            "convert them with .long()"
        )
    if w.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {tuple(w.shape)}"
        )
    n = w.shape[0]
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise IndexError(
                f"embedding: index {bad} is out of range for a table of {n} embeddings "
                f"(valid indices are 0 to {n - 1})"
            )
    if padding_idx is None:
        padding_idx = -1
    else:
        if not -n <= padding_idx < n:
            raise ValueError(
                f"embedding: padding_idx must be within num_embeddings ({n}), got {padding_idx}"
            )
        padding_idx %= n
    if max_norm is not None:
        _renorm_(weight, idx, float(max_norm), float(norm_type))
    return Embedding.apply(
        weight, input, padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq)
    )


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """One-hot codes: ``(*)`` integer class indices to ``(*, num_classes)`` int64 0/1.

    ``num_classes=-1`` takes the largest index + 1. No gradient (the input is discrete).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"one_hot(): argument 'tensor' must be a Tensor, not {type(tensor).__name__}"
        )
    x = tensor.data
    if x.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: expected an integer tensor of class indices, got {x.dtype}; convert it "
            "with .long()"
        )
    xp = get_array_module(x)
    if num_classes == -1:
        if x.size == 0:
            raise ValueError(
                "one_hot: cannot infer the number of classes from an empty tensor; pass num_classes"
            )
        num_classes = int(x.max()) + 1
    if x.size:
        if int(x.min()) < 0:
            raise ValueError(f"one_hot: class values must be non-negative, got {int(x.min())}")
        if int(x.max()) >= num_classes:
            raise ValueError(
                f"one_hot: class values must be smaller than num_classes={num_classes}, got "
                f"{int(x.max())}"
            )
    # compare each index with 0..C-1: one vectorised pass over the (*, C) output
    out = (x[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._make(out)
