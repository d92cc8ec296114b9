"""Dropout as functions (CS231n L7 "Regularisation", assignment 2; CSC321 L9).

Dropout (Srivastava et al. 2014) zeroes each unit with probability ``p`` during training, so
the network cannot rely on any single unit: a cheap way to train an ensemble of thinned
networks that share weights. *Inverted* dropout scales the kept units by ``1 / (1 - p)`` at
training time, so each unit's expected value is unchanged and evaluation needs no rescaling:
in evaluation (``training=False``) dropout is the identity.

``dropout2d`` (spatial dropout, Tompson et al. 2015) drops whole channels of a feature map
instead of single positions: neighbouring positions of a conv feature map are strongly
correlated, so dropping them one by one hardly regularises.

``stochastic_depth`` (Huang et al. 2016, "Deep networks with stochastic depth") drops a
residual branch for whole examples: a ResNet trained this way is an ensemble of shallower
networks, and the shorter expected depth makes it train faster.

The mask is drawn from gradschool's generator, so ``gradschool.manual_seed`` repeats it. The
backward multiplies the upstream gradient by the same scaled mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd.function import Function
from ...backend.device import device_of, to_device
from ...backend.random import rng_of
from ...ops.inplace import assign_inplace
from ...tensor import Tensor

__all__ = ["dropout", "dropout2d", "stochastic_depth"]


class DropoutFunction(Function):
    """``y = x * mask``, where ``mask`` holds 0 (dropped) or ``1 / (1 - p)`` (kept)."""

    op_name = "dropout"

    def forward(self, x: Any, *, mask: Any) -> Any:
        self.saved = (mask,)
        return x * mask

    def backward(self, g: Any) -> tuple[Any]:
        return (g * self.saved[0],)


def _check(input: Any, p: Any, op: str) -> None:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: p must be a number, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:  # also catches NaN
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if input.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}")


def _mask(x: Any, shape: tuple[int, ...], p: float) -> Any:
    """A mask of ``shape`` (broadcasting against x): 0 with probability p, else 1/(1-p)."""
    dt = x.dtype
    if p == 1.0:
        mask = np.zeros(shape, dtype=dt)  # everything dropped; 1/(1-p) would be inf
    else:
        u = rng_of(None).random(shape, dtype=dt if dt in (np.float32, np.float64) else np.float64)
        mask = (u >= p).astype(dt)  # kept with probability 1 - p
        mask *= dt.type(1.0 / (1.0 - p))
    return to_device(mask, device_of(x))  # drawn on the CPU so the seed gives the same mask


def _apply(input: Tensor, shape: tuple[int, ...], p: float, inplace: bool) -> Tensor:  # noqa: A002
    out = DropoutFunction.apply(input, mask=_mask(input.data, shape, float(p)))
    return assign_inplace(input, out) if inplace else out


def dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Inverted dropout: in training each element is zeroed with probability ``p`` and the
    others are multiplied by ``1 / (1 - p)``; in evaluation the input is returned unchanged.
    Any shape. ``inplace=True`` writes the result into ``input``.

    >>> import gradschool as gs
    >>> import gradschool.nn.functional as F
    >>> x = gs.ones(8)
    >>> F.dropout(x, p=0.5, training=False) is x
    True
    """
    _check(input, p, "dropout")
    if not training or p == 0 or input.data.size == 0:
        return input
    return _apply(input, input.shape, p, inplace)


def dropout2d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Spatial (channel) dropout of ``(N, C, H, W)`` input: each whole channel ``[n, c]`` is
    zeroed with probability ``p`` and the kept ones are scaled by ``1 / (1 - p)``.

    As PyTorch does today, any input of at least 2 dims is read as ``(N, C, *)``, so a 3-D
    input is treated as ``(N, C, L)`` (channel-wise 1-D dropout), not as an unbatched image.
    """
    _check(input, p, "dropout2d")
    if input.ndim < 2:
        raise ValueError(
            f"dropout2d: expected an input of shape (N, C, H, W), got shape {tuple(input.shape)}"
        )
    if not training or p == 0 or input.data.size == 0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)  # one draw per channel
    return _apply(input, shape, p, inplace)


def stochastic_depth(
    input: Tensor,  # noqa: A002
    p: float,
    mode: str = "row",
    training: bool = True,
) -> Tensor:
    """Stochastic depth for the residual branch ``input`` of shape ``(N, ...)``
    (``torchvision.ops.stochastic_depth``): in training, ``mode="row"`` zeroes each
    example's branch with probability ``p`` and ``mode="batch"`` the whole batch's; kept
    branches are scaled by ``1 / (1 - p)`` so evaluation is the identity.

    Used as ``x + stochastic_depth(branch(x), p, "row", self.training)`` in a residual block.
    """
    _check(input, p, "stochastic_depth")
    if mode not in ("row", "batch"):
        raise ValueError(f"stochastic_depth: mode must be 'row' or 'batch', got {mode!r}")
    if not training or p == 0 or input.data.size == 0:
        return input
    shape = ((input.shape[0] if mode == "row" else 1),) + (1,) * (input.ndim - 1)
    return _apply(input, shape, p, False)
