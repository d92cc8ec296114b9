"""Dropout layers (CS231n L7 "Regularisation", assignment 2): active in ``train()`` mode,
the identity in ``eval()`` mode. The maths lives in ``nn.functional.dropout``."""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ..module import Module

__all__ = ["Dropout", "Dropout2d", "StochasticDepth"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            raise TypeError(f"{type(self).__name__}: p must be a number, got {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}"
            )
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout: in training each element is zeroed with probability ``p`` and the
    kept ones scaled by ``1 / (1 - p)``; in evaluation the identity. Any input shape.

    >>> import gradschool as gs
    >>> import gradschool.nn as nn
    >>> drop = nn.Dropout(0.5).eval()
    >>> x = gs.ones(4)
    >>> drop(x) is x
    True
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Spatial dropout: zeroes whole channels of ``(N, C, H, W)`` input with probability
    ``p`` (scaling the rest by ``1 / (1 - p)``) in training; the identity in evaluation."""

    def forward(self, input: Any) -> Tensor:  # noqa: A002
        return F.dropout2d(input, self.p, self.training, self.inplace)


class StochasticDepth(Module):
    """Drops a residual branch for whole examples (``mode="row"``) or the whole batch
    (``mode="batch"``) with probability ``p`` in training, scaling kept branches by
    ``1 / (1 - p)``; the identity in evaluation (``torchvision.ops.StochasticDepth``)."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"StochasticDepth: p must be a number in [0, 1], got {p!r}")
        if mode not in ("row", "batch"):
            raise ValueError(f"StochasticDepth: mode must be 'row' or 'batch', got {mode!r}")
        self.p, self.mode = p, mode

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.stochastic_depth(input, self.p, self.mode, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"
