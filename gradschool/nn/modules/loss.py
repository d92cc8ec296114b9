"""Loss modules: ``nn.CrossEntropyLoss`` and friends (CS231n L3; CSC321 L3-L4).

Each is a thin Module around its function in ``gradschool.nn.functional.loss``: it holds the
settings (``reduction``, ``ignore_index``, ``label_smoothing`` ...) and, for the weighted
losses, the class weights as a buffer named ``weight`` (and ``pos_weight``), so they follow
``.to(device)`` and appear in ``state_dict`` exactly as in PyTorch. Constructor arguments
are PyTorch's, the deprecated ``size_average``/``reduce`` included (they map to
``reduction``, with PyTorch's warning).

>>> import gradschool as gs
>>> from gradschool import nn
>>> criterion = nn.CrossEntropyLoss()
>>> criterion(gs.zeros(4, 10), gs.tensor([0, 1, 2, 3]))  # ln 10: uniform over 10 classes
tensor(2.3026)
"""

from __future__ import annotations

import warnings
from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ..module import Module

__all__ = [
    "L1Loss",
    "MSELoss",
    "CrossEntropyLoss",
    "NLLLoss",
    "MultiMarginLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "SmoothL1Loss",
    "HuberLoss",
    "KLDivLoss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` flags to ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(
        "size_average and reduce args will be deprecated, please use "
        f"reduction='{reduction}' instead.",
        UserWarning,
        stacklevel=4,
    )
    return reduction


class _Loss(Module):
    """Base of the loss modules: stores ``reduction`` ('mean', 'sum' or 'none')."""

    _reductions: tuple[str, ...] = _REDUCTIONS

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        if reduction not in self._reductions:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of "
                f"{', '.join(map(repr, self._reductions))}, got {reduction!r}"
            )
        self.reduction = reduction

    def _buffer(self, name: str, value: Any) -> None:
        """Register an optional weight tensor as a (persistent) buffer, as PyTorch does."""
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(
                f"{type(self).__name__}: {name} must be a Tensor or None, got {type(value).__name__}"
            )
        self.register_buffer(name, value)


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight`` buffer of shape ``(C,)``."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self._buffer("weight", weight)


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|`` (see ``functional.l1_loss``).

    Input: any shape; target: the same shape; output: a scalar, or the input's shape with
    ``reduction='none'``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error ``(input - target)^2`` (CSC321 L2: linear regression).

    Input: any shape; target: the same shape; output: a scalar, or the input's shape with
    ``reduction='none'``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """The softmax classifier's loss, softmax and negative log-likelihood fused (CS231n L3).

    Input: scores ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``. Target: class indices ``(N,)``,
    ``(N, d1, ...)`` or ``()``, or class probabilities of the input's shape. ``weight`` ``(C,)``
    is a buffer; ``ignore_index`` targets add nothing; ``label_smoothing`` mixes the target
    with the uniform distribution. See ``functional.cross_entropy``.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
            )
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (after ``LogSoftmax``; CS231n L3).

    Input: ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; target: class indices ``(N,)``,
    ``(N, d1, ...)`` or ``()``. See ``functional.nll_loss``.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class MultiMarginLoss(_WeightedLoss):
    """The multiclass SVM (hinge) loss of CS231n L3: ``sum_{j != y} max(0, margin - x_y +
    x_j)^p / C`` per sample (``p=2``: squared hinge).

    Input: ``(N, C)`` or ``(C,)``; target: ``(N,)`` or ``()``. Multiply by C for the course's
    number. The margin only sets the scale of the weights (see
    ``functional.multi_margin_loss``).
    """

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got p={p}")
        if weight is not None and weight.ndim != 1:
            raise ValueError(
                f"MultiMarginLoss: weight must be 1-D (one value per class), got shape {tuple(weight.shape)}"
            )
        self.p = p
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.multi_margin_loss(
            input,
            target,
            p=self.p,
            margin=self.margin,
            weight=self.weight,
            reduction=self.reduction,
        )


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (after ``Sigmoid``; CSC321 L4).

    Input: probabilities of any shape; target: the same shape; ``weight`` broadcasts to it.
    Prefer ``BCEWithLogitsLoss``, which is stable. See ``functional.binary_cross_entropy``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy fused, stable for scores of any size (CSC321 L4).

    Input: scores (logits) of any shape; target: the same shape. Buffers ``weight``
    (broadcasts to the input) and ``pos_weight`` (e.g. ``(C,)``, weighs positive targets).
    See ``functional.binary_cross_entropy_with_logits``.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self._buffer("weight", weight)
        self._buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input,
            target,
            weight=self.weight,
            pos_weight=self.pos_weight,
            reduction=self.reduction,
        )


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above (Fast R-CNN's box loss, CS231n L11).

    Input: any shape; target: the same shape. See ``functional.smooth_l1_loss``.
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0, got {beta}")
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error below ``delta``, ``delta`` times absolute error above (CS231n L7, L14).

    Input: any shape; target: the same shape. See ``functional.huber_loss``.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL divergence ``KL(target || exp(input))`` of log-probabilities (CS231n L13).

    Input: log-probabilities, any shape; target: probabilities (or log-probabilities with
    ``log_target=True``) of the same shape. Use ``reduction='batchmean'`` for the true
    divergence per sample. See ``functional.kl_div``.
    """

    _reductions = (*_REDUCTIONS, "batchmean")

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
