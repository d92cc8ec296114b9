"""Loss functions: how wrong a prediction is, as one number to minimise.

CS231n L3 (loss functions and optimisation: the multiclass SVM / hinge loss and the softmax
classifier's cross-entropy), L7 (regression losses), L13 (KL divergence in VAEs); CSC321
L3-L4 (linear regression with squared error, logistic regression with cross-entropy).

Every loss computes one value per element and then a ``reduction``: ``'mean'`` (the default),
``'sum'``, or ``'none'`` (the per-element losses). Each loss is one ``Function`` whose backward
works on raw arrays; none builds a graph of primitives. The classification losses take class
scores ``(N, C)``, ``(N, C, d1, ...)`` (a class score per pixel) or ``(C,)`` and integer class
indices ``(N,)`` / ``(N, d1, ...)`` / ``()``.

- ``cross_entropy`` is softmax followed by the negative log-likelihood, fused: its forward is a
  stable log-softmax (subtract each row's maximum before ``exp``), its backward the famous
  ``softmax - onehot``, with no log-softmax node in between. At initialisation, with all
  scores about equal, every class has probability ``1/C`` and the loss is ``ln C``.
- ``multi_margin_loss`` is the course's multiclass SVM loss.
- ``binary_cross_entropy_with_logits`` is the stable way to train a sigmoid output: it never
  takes the log of a probability that has rounded to 0.

>>> import gradschool as gs
>>> import gradschool.nn.functional as F
>>> F.cross_entropy(gs.zeros(2, 10), gs.tensor([3, 7]))  # ln 10
tensor(2.3026)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ...backend.device import device_of, get_array_module
from ...ops._util import as_number, promote_all, sum_to
from ...tensor import Tensor

__all__ = [
    "cross_entropy",
    "nll_loss",
    "multi_margin_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "kl_div",
]

_REDUCTIONS = ("mean", "sum", "none")


class ClassIndexError(IndexError, ValueError):
    """A class index outside ``[0, C)``: an ``IndexError`` as in PyTorch, and a ``ValueError``
    (bad input) as everywhere else in gradschool."""


# ---------------------------------------------------------------- shared helpers
def _reduce(loss: Any, reduction: str, count: Any) -> Any:
    """The per-element losses kept, summed, or summed and divided by ``count``."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty batch: 0/0 = nan (PyTorch)
        return total / count


def _coef(g: Any, reduction: str, count: Any) -> Any:
    """The backward of ``_reduce``: the gradient reaching each per-element loss (broadcastable)."""
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            return g / count
    return g


def _grad_to(g: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """A gradient brought to its input's shape (summed over the dimensions the input was
    broadcast along, expanded where the gradient is smaller) and cast to its dtype."""
    xp = get_array_module(g)
    if g.shape != shape:
        full = np.broadcast_shapes(g.shape, shape)
        if full != g.shape:
            g = xp.broadcast_to(g, full)
        g = sum_to(g, shape) if full != shape else g.copy()
    if g.dtype != dtype:
        g = g.astype(dtype)
    return xp.asarray(g)  # (NumPy's ufuncs turn 0-d arrays into scalars)


def _check_tensor(op: str, name: str, x: Any) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: argument '{name}' must be a Tensor, not {type(x).__name__}")


def _check_input(op: str, input: Any) -> None:  # noqa: A002
    _check_tensor(op, "input", input)
    if input.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.data.dtype}")


def _check_reduction(op: str, reduction: Any, allowed: tuple[str, ...] = _REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(
            f"{op}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}"
        )


def _check_same_device(op: str, *xs: Any) -> None:
    if all(x is None or x.data.__class__ is np.ndarray for x in xs):
        return  # all on the CPU (the common case, checked without building device objects)
    devices = {str(device_of(x.data)) for x in xs if x is not None}
    if len(devices) > 1:
        raise RuntimeError(
            f"{op}: expected all tensors to be on the same device, got {' and '.join(sorted(devices))}"
        )


def _constant_weight(op: str, name: str, w: Any, shape: tuple[int, ...] | None = None) -> Any:
    """A per-class or per-element weight: checked, and refused when it requires grad (PyTorch
    cannot differentiate these losses with respect to their weights either)."""
    if w is None:
        return None
    _check_tensor(op, name, w)
    if shape is not None and tuple(w.shape) != shape:
        raise ValueError(
            f"{op}: expected {name} of shape {shape} (one value per class), got {tuple(w.shape)}"
        )
    if w.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"{op}: the loss is not differentiable with respect to '{name}', so it cannot have "
            f"requires_grad=True; pass {name}.detach()"
        )
    return w


def _check_broadcasts_to(op: str, name: str, w: Any, shape: tuple[int, ...]) -> None:
    if w is None:
        return
    try:
        ok = np.broadcast_shapes(tuple(w.shape), shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{op}: {name} of shape {tuple(w.shape)} does not broadcast to the input's shape {shape}"
        )


def _check_pair(op: str, input: Any, target: Any) -> None:  # noqa: A002
    """Input and target of an elementwise loss: tensors of broadcastable shapes (PyTorch
    broadcasts a different shape, with a warning, since it is almost always a bug)."""
    _check_input(op, input)
    _check_tensor(op, "target", target)
    xs, ts = tuple(input.shape), tuple(target.shape)
    if xs == ts:
        return
    try:
        both = np.broadcast_shapes(xs, ts)
    except ValueError:
        raise ValueError(
            f"{op}: target of shape {ts} does not broadcast with input of shape {xs}"
        ) from None
    warnings.warn(
        f"{op}: using a target size {ts} that is different to the input size {xs}; they "
        f"broadcast to {both}, which is likely not what you want (an (N, 1) prediction against "
        "an (N,) target gives an (N, N) loss). Please ensure they have the same size.",
        UserWarning,
        stacklevel=3,
    )


# ---------------------------------------------------------------- regression losses
class _Pointwise(Function):
    """A loss of the difference ``d = input - target``: ``value(d)`` per element, ``slope(d)``
    its derivative; the target's gradient is minus the input's."""

    def forward(self, x: Any, t: Any, reduction: str = "mean", param: float = 1.0) -> Any:
        self.x_meta, self.t_meta = (x.shape, x.dtype), (t.shape, t.dtype)
        x, t = promote_all(x, t)
        d = x - t
        self.reduction, self.count, self.param = reduction, d.size, param
        self.saved = (d,)
        return _reduce(self.value(d, param), reduction, d.size)

    def backward(self, g: Any) -> tuple[Any, Any]:
        (d,) = self.saved
        gd = self.slope(d, self.param)
        gd *= _coef(g, self.reduction, self.count)
        gx = _grad_to(gd, *self.x_meta) if self.needs_input_grad[0] else None
        gt = _grad_to(-gd, *self.t_meta) if self.needs_input_grad[1] else None
        return gx, gt

    def value(self, d: Any, param: float) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def slope(self, d: Any, param: float) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class _MSE(_Pointwise):
    op_name = "mse_loss"

    def value(self, d: Any, param: float) -> Any:
        return d * d

    def slope(self, d: Any, param: float) -> Any:
        return 2 * d


class _L1(_Pointwise):
    op_name = "l1_loss"

    def value(self, d: Any, param: float) -> Any:
        return get_array_module(d).abs(d)

    def slope(self, d: Any, param: float) -> Any:
        return get_array_module(d).sign(d)  # 0 at d = 0, as PyTorch


class _SmoothL1(_Pointwise):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (beta = 0: plain L1)."""

    op_name = "smooth_l1_loss"

    def value(self, d: Any, beta: float) -> Any:
        xp = get_array_module(d)
        ad = xp.abs(d)
        if beta == 0:
            return ad
        return xp.where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta)

    def slope(self, d: Any, beta: float) -> Any:
        xp = get_array_module(d)
        return xp.sign(d) if beta == 0 else xp.clip(d / beta, -1, 1)


class _Huber(_Pointwise):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``: ``delta`` times
    smooth L1 with ``beta = delta``."""

    op_name = "huber_loss"

    def value(self, d: Any, delta: float) -> Any:
        xp = get_array_module(d)
        ad = xp.abs(d)
        return xp.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))

    def slope(self, d: Any, delta: float) -> Any:
        return get_array_module(d).clip(d, -delta, delta)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error ``(input - target)^2`` (CSC321 L2: linear regression).

    Shapes: ``input`` any, ``target`` the same (a different broadcastable shape warns, as in
    PyTorch); the output is a scalar, or ``input``'s shape for ``reduction='none'``.
    Gradients flow to both input and target.
    """
    _check_pair("mse_loss", input, target)
    _check_reduction("mse_loss", reduction)
    return _MSE.apply(input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean absolute error ``|input - target|``; robust to outliers (CS231n L3, L7).

    Shapes as ``mse_loss``. The gradient is ``sign(input - target)`` (0 at equality).
    """
    _check_pair("l1_loss", input, target)
    _check_reduction("l1_loss", reduction)
    return _L1.apply(input, target, reduction=reduction)


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Squared error near zero, absolute error beyond ``beta`` (CS231n L11: Fast R-CNN's box
    regression loss): ``0.5 d^2 / beta`` if ``|d| < beta`` else ``|d| - 0.5 beta``.

    Shapes as ``mse_loss``; ``beta = 0`` is the L1 loss.
    """
    _check_pair("smooth_l1_loss", input, target)
    _check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    return _SmoothL1.apply(input, target, reduction=reduction, param=float(beta))


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
) -> Tensor:
    """The Huber loss: ``0.5 d^2`` if ``|d| < delta`` else ``delta (|d| - 0.5 delta)``
    (CS231n L7; the DQN loss of L14). Its gradient is ``d`` clipped to ``[-delta, delta]``.

    Shapes as ``mse_loss``.
    """
    _check_pair("huber_loss", input, target)
    _check_reduction("huber_loss", reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return _Huber.apply(input, target, reduction=reduction, param=float(delta))


# ---------------------------------------------------------------- binary classification
class _BCE(Function):
    """``-w (t log x + (1 - t) log(1 - x))`` with the logs clamped at -100 (PyTorch's choice:
    a probability of exactly 0 or 1 costs 100, not infinity)."""

    op_name = "binary_cross_entropy"

    def forward(self, x: Any, t: Any, w: Any, reduction: str = "mean") -> Any:
        self.x_meta, self.t_meta = (x.shape, x.dtype), (t.shape, t.dtype)
        x, t = promote_all(x, t)
        if w is not None and w.dtype != x.dtype:
            w = w.astype(x.dtype)
        xp = get_array_module(x)
        with np.errstate(divide="ignore"):
            log1mx = xp.maximum(xp.log1p(-x), -100)
            logx = xp.maximum(xp.log(x), -100)
        # -(t log x + (1 - t) log(1 - x)) = (t - 1) log(1 - x) - t log x
        loss = (t - 1) * log1mx
        loss -= t * logx
        if w is not None:
            loss *= w
        self.reduction, self.count = reduction, x.size
        self.saved = (x, t, w)
        return _reduce(loss, reduction, x.size)

    def backward(self, g: Any) -> tuple[Any, Any, None]:
        x, t, w = self.saved
        xp = get_array_module(x)
        c = _coef(g, self.reduction, self.count)
        if w is not None:
            c = c * w
        gx = gt = None
        if self.needs_input_grad[0]:
            # (x - t) / (x (1 - x)), the denominator kept >= 1e-12 as PyTorch
            gx = (x - t) / xp.maximum((1 - x) * x, 1e-12)
            gx *= c
            gx = _grad_to(gx, *self.x_meta)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gt = xp.log1p(-x) - xp.log(x)  # unclamped, as PyTorch's target gradient
            gt *= c
            gt = _grad_to(gt, *self.t_meta)
        return gx, gt, None


class _BCEWithLogits(Function):
    """``(1 - t) x + lw * softplus(-x)`` with ``lw = 1 + (pos_weight - 1) t``: the binary
    cross-entropy of ``sigmoid(x)``, computed without ever forming the probability."""

    op_name = "binary_cross_entropy_with_logits"

    def forward(self, x: Any, t: Any, w: Any, pw: Any, reduction: str = "mean") -> Any:
        self.x_meta, self.t_meta = (x.shape, x.dtype), (t.shape, t.dtype)
        x, t = promote_all(x, t)
        if w is not None and w.dtype != x.dtype:
            w = w.astype(x.dtype)
        if pw is not None and pw.dtype != x.dtype:
            pw = pw.astype(x.dtype)
        xp = get_array_module(x)
        # softplus(-x) = log(1 + exp(-x)) = max(-x, 0) + log1p(exp(-|x|)): exp never overflows
        sp = xp.log1p(xp.exp(-xp.abs(x)))
        sp += xp.maximum(-x, 0)
        loss = (1 - t) * x
        loss += sp if pw is None else ((pw - 1) * t + 1) * sp
        if w is not None:
            loss *= w
        self.reduction, self.count = reduction, x.size
        self.saved = (x, t, w, pw, sp)
        return _reduce(loss, reduction, x.size)

    def backward(self, g: Any) -> tuple[Any, Any, None, None]:
        x, t, w, pw, sp = self.saved
        xp = get_array_module(x)
        c = _coef(g, self.reduction, self.count)
        if w is not None:
            c = c * w
        gx = gt = None
        if self.needs_input_grad[0]:
            s = xp.exp(-sp)  # sigmoid(x) = exp(-softplus(-x))
            if pw is None:
                gx = s - t  # the logistic regression gradient: prediction - label
            else:
                gx = ((pw - 1) * t + 1) * s - pw * t
            gx *= c
            gx = _grad_to(gx, *self.x_meta)
        if self.needs_input_grad[1]:
            gt = -x if pw is None else (pw - 1) * sp - x
            gt = _grad_to(gt * c, *self.t_meta)
        return gx, gt, None, None


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy of probabilities (CSC321 L4: logistic regression).

    ``-w (t log x + (1 - t) log(1 - x))``, each log clamped to >= -100. ``input`` holds
    probabilities in [0, 1] (after a sigmoid), ``target`` the same shape (labels 0/1 or soft
    labels), ``weight`` broadcasts to the input's shape. Prefer
    ``binary_cross_entropy_with_logits``, which is stable for scores of any size.
    """
    op = "binary_cross_entropy"
    _check_input(op, input)
    _check_tensor(op, "target", target)
    _check_reduction(op, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"{op}: expected target of the input's shape {tuple(input.shape)}, got {tuple(target.shape)}"
        )
    weight = _constant_weight(op, "weight", weight)
    _check_broadcasts_to(op, "weight", weight, tuple(input.shape))
    _check_same_device(op, input, target, weight)
    x = input.data
    if x.size and not (x.min() >= 0 and x.max() <= 1):  # NaN fails too (min/max propagate it)
        raise ValueError(
            f"{op}: all elements of input should be probabilities between 0 and 1, got values "
            f"in [{float(x.min()):.4g}, {float(x.max()):.4g}]; for raw scores (logits) use "
            "binary_cross_entropy_with_logits"
        )
    return _BCE.apply(input, target, weight, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, fused and stable (CSC321 L4).

    ``(1 - t) x + (1 + (pos_weight - 1) t) log(1 + exp(-x))``, written as a log-sum-exp so
    that no exp overflows and no probability rounds to 0. ``input`` holds scores (logits) of
    any shape, ``target`` the same shape, ``weight`` broadcasts to it, ``pos_weight`` (e.g. one
    per class, shape ``(C,)``) multiplies the loss of positive targets. The input gradient is
    ``sigmoid(x) - t``.
    """
    op = "binary_cross_entropy_with_logits"
    _check_input(op, input)
    _check_tensor(op, "target", target)
    _check_reduction(op, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"{op}: expected target of the input's shape {tuple(input.shape)}, got {tuple(target.shape)}"
        )
    weight = _constant_weight(op, "weight", weight)
    pos_weight = _constant_weight(op, "pos_weight", pos_weight)
    _check_broadcasts_to(op, "weight", weight, tuple(input.shape))
    _check_broadcasts_to(op, "pos_weight", pos_weight, tuple(input.shape))
    _check_same_device(op, input, target, weight, pos_weight)
    return _BCEWithLogits.apply(input, target, weight, pos_weight, reduction=reduction)


# ---------------------------------------------------------------- KL divergence
class _KLDiv(Function):
    """``t (log t - x)`` per element (0 where t = 0), or ``exp(t) (t - x)`` for a log target."""

    op_name = "kl_div"

    def forward(self, x: Any, t: Any, reduction: str, count: int, log_target: bool) -> Any:
        self.x_meta, self.t_meta = (x.shape, x.dtype), (t.shape, t.dtype)
        x, t = promote_all(x, t)
        xp = get_array_module(x)
        self.reduction, self.count, self.log_target = reduction, count, log_target
        if log_target:
            et = xp.exp(t)
            loss = et * (t - x)
            self.saved = (x, t, et)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                # xlogy: 0 log 0 = 0; a negative target gives nan
                loss = xp.where(t == 0, 0, t * xp.log(t))
            loss = loss - t * x  # (broadcast: not in place)
            self.saved = (x, t)
        return _reduce(loss, reduction, count)

    def backward(self, g: Any) -> tuple[Any, Any]:
        x, t = self.saved[:2]
        xp = get_array_module(x)
        c = _coef(g, self.reduction, self.count)
        gx = gt = None
        if self.log_target:
            et = self.saved[2]
            if self.needs_input_grad[0]:
                gx = _grad_to(-et * c, *self.x_meta)
            if self.needs_input_grad[1]:
                gt = _grad_to(et * (t - x + 1) * c, *self.t_meta)
        else:
            if self.needs_input_grad[0]:
                gx = _grad_to(-t * c, *self.x_meta)
            if self.needs_input_grad[1]:
                with np.errstate(divide="ignore", invalid="ignore"):
                    gt = xp.log(t) + (1 - x)  # -inf at t = 0 (the slope of t log t there)
                gt = _grad_to(gt * c, *self.t_meta)
        return gx, gt


def kl_div(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence ``KL(target || exp(input))`` (CS231n L13: the VAE's
    regulariser; knowledge distillation).

    ``input`` holds log-probabilities (``log_softmax`` output), ``target`` probabilities (or
    log-probabilities with ``log_target=True``), broadcastable shapes; the per-element loss is
    ``t (log t - x)``. ``reduction='batchmean'`` divides the sum by the batch size
    ``input.shape[0]`` and is the true KL divergence per sample; ``'mean'`` divides by the
    number of elements, as PyTorch does (with the same warning).
    """
    op = "kl_div"
    _check_input(op, input)
    _check_tensor(op, "target", target)
    _check_reduction(op, reduction, (*_REDUCTIONS, "batchmean"))
    xs, ts = tuple(input.shape), tuple(target.shape)
    try:
        shape = np.broadcast_shapes(xs, ts)
    except ValueError:
        raise ValueError(
            f"{op}: target of shape {ts} does not broadcast with input of shape {xs}"
        ) from None
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size, and aligns with the KL "
            "divergence's definition.",
            UserWarning,
            stacklevel=2,
        )
    if reduction == "batchmean":
        reduction, count = "mean", (xs[0] if xs else 1)
    else:
        count = math.prod(shape)
    return _KLDiv.apply(
        input, target, reduction=reduction, count=count, log_target=bool(log_target)
    )


# ---------------------------------------------------------------- classification over C classes
def _class_layout(x: Any) -> tuple[int, int, int]:
    """``(N, C, R)``: batch, classes, and the product of the extra dims ``d1 ... dk``."""
    if x.ndim == 1:
        return 1, x.shape[0], 1
    return x.shape[0], x.shape[1], math.prod(x.shape[2:])


def _index_shape(x: Any) -> tuple[int, ...]:
    """The shape of a class-index target (and of the unreduced loss): the input's shape
    without the class dimension."""
    shape = tuple(x.shape)
    return () if len(shape) == 1 else shape[:1] + shape[2:]


def _check_scores(op: str, input: Any, target: Any, max_dims: int | None = None) -> None:
    _check_input(op, input)
    _check_tensor(op, "target", target)
    nd = input.data.ndim
    if nd == 0 or (max_dims is not None and nd > max_dims):
        allowed = "(C,) or (N, C)" if max_dims == 2 else "(C,), (N, C) or (N, C, d1, ...)"
        raise ValueError(
            f"{op}: expected class scores of shape {allowed}, got {tuple(input.shape)}"
        )
    if input.shape[0 if nd == 1 else 1] == 0:
        raise ValueError(f"{op}: the input has no classes (shape {tuple(input.shape)})")


def _check_indices(op: str, input: Any, target: Any, ignore_index: int | None) -> None:  # noqa: A002
    """Class-index targets: integer dtype, the input's shape less the class dim, in range."""
    x, t = input.data, target.data

    def probs_hint(shape: tuple[int, ...]) -> str:
        if op != "cross_entropy":
            return ""
        return f"; class probabilities would have the input's shape {tuple(shape)}"

    shape = _index_shape(x)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: expected a target of integer class indices (int64), got {t.dtype}"
            + (
                f" (convert labels with target.long(){probs_hint(x.shape)})"
                if t.dtype.kind == "f"
                else ""
            )
        )
    if tuple(t.shape) != shape:
        raise ValueError(
            f"{op}: expected target of shape {shape} for input of shape {tuple(x.shape)}, "
            f"got {tuple(t.shape)}"
        )
    _check_same_device(op, input, target)
    if t.size == 0:
        return
    c = x.shape[0 if x.ndim == 1 else 1]
    if int(t.min()) >= 0 and int(t.max()) < c:  # the common case: one pass each, no mask
        return
    bad = (t < 0) | (t >= c)
    if ignore_index is not None:
        bad &= t != ignore_index
    if bad.any():
        raise ClassIndexError(
            f"{op}: target {int(t[bad].reshape(-1)[0])} is out of bounds for {c} classes"
            + (
                f" (valid: 0 to {c - 1}, or ignore_index={ignore_index})"
                if ignore_index is not None
                else ""
            )
        )


def _targets(t: Any, n: int, r: int, ignore_index: int | None) -> tuple[Any, Any]:
    """Targets as an ``(N, R)`` array with ignored entries replaced by class 0 (a safe index),
    and the mask of kept entries (None when none is ignored)."""
    t = t.reshape(n, r)
    if ignore_index is None:
        return t, None
    valid = t != ignore_index
    if valid.all():
        return t, None
    return get_array_module(t).where(valid, t, 0), valid


def _flat_index(t: Any, n: int, c: int, r: int) -> Any:
    """The flat position of each target's score in the ``(N, C, R)`` array: one fancy index
    gathers all the true-class scores (and scatters their gradients) without a loop."""
    xp = get_array_module(t)
    return (xp.arange(n).reshape(n, 1) * c + t) * r + xp.arange(r)


def _per_target_weight(weight: Any, t: Any, valid: Any, dtype: Any) -> Any:
    """``w[y]`` for each target (0 where ignored), or None when there is neither."""
    if weight is None:
        return None if valid is None else valid.astype(dtype)
    wy = weight.astype(dtype, copy=False)[t]
    if valid is not None:
        wy *= valid
    return wy


class _NLLLoss(Function):
    """``-w[y] x[y]``: the negative log-likelihood of log-probabilities ``x``."""

    op_name = "nll_loss"

    def forward(self, x: Any, target: Any, weight: Any, reduction: str, ignore_index: int) -> Any:
        xp = get_array_module(x)
        n, c, r = self.dims = _class_layout(x)
        self.shape, self.dtype, self.reduction = x.shape, x.dtype, reduction
        t, valid = _targets(target, n, r, ignore_index)
        idx = _flat_index(t, n, c, r)
        wy = _per_target_weight(weight, t, valid, x.dtype)
        loss = -x.reshape(-1)[idx]
        if wy is not None:
            loss *= wy
            if valid is not None:
                loss = xp.where(valid, loss, 0)  # an ignored -inf score must not give nan
        # 'mean' is a weighted mean: divided by the sum of the targets' weights (PyTorch)
        self.count = n * r if wy is None else wy.sum()
        self.saved = (idx, wy)
        out = _reduce(loss, reduction, self.count)
        return out.reshape(target.shape) if reduction == "none" else out

    def backward(self, g: Any) -> tuple[Any, None, None]:
        idx, wy = self.saved
        xp = get_array_module(idx)
        n, c, r = self.dims
        a = _coef(g.reshape(n, r) if self.reduction == "none" else g, self.reduction, self.count)
        if wy is not None:
            a = a * wy
        gx = xp.zeros(n * c * r, dtype=self.dtype)
        gx[idx] = -a
        return gx.reshape(self.shape), None, None


class _CrossEntropy(Function):
    """Softmax and negative log-likelihood in one op (class-index targets).

    Per element: ``(1 - eps) w[y] (lse - s_y) + (eps / C) sum_c w_c (lse - s_c)``, with
    ``s = x - max(x)`` and ``lse = log sum exp(s)``; ``eps`` is the label smoothing. The
    gradient is ``p * sum_c q_c - q`` with ``p = softmax(x)`` and ``q`` the (weighted,
    smoothed) target distribution: ``softmax - onehot`` in the plain case.
    """

    op_name = "cross_entropy"

    def forward(
        self,
        x: Any,
        target: Any,
        weight: Any,
        reduction: str,
        ignore_index: int,
        label_smoothing: float,
    ) -> Any:
        xp = get_array_module(x)
        n, c, r = self.dims = _class_layout(x)
        self.shape, self.reduction = x.shape, reduction
        self.eps = eps = label_smoothing
        if weight is not None and weight.dtype != x.dtype:
            weight = weight.astype(x.dtype)
        t, valid = _targets(target, n, r, ignore_index)
        keep = None if valid is None else valid.astype(x.dtype)
        wy = _per_target_weight(weight, t, valid, x.dtype)  # w[y], 0 where ignored
        idx = _flat_index(t, n, c, r)
        x3 = x.reshape(n, c, r)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            # subtracting each row's max keeps exp <= 1: no overflow, and the sum is >= 1
            s = x3 - x3.max(axis=1, keepdims=True)
            s_y = s.reshape(-1)[idx]
            if eps:
                s_sum = (s if weight is None else s * weight.reshape(1, c, 1)).sum(axis=1)
            p = xp.exp(s, out=s)
            z = p.sum(axis=1)
            p /= z.reshape(n, 1, r)  # the softmax, kept for the backward
            lse = xp.log(z)
            loss = lse - s_y  # -log p_y
            if weight is not None:
                loss *= wy
            if eps:
                self.w_sum = c if weight is None else weight.sum()
                loss *= 1 - eps
                loss += (eps / c) * (self.w_sum * lse - s_sum)
        if valid is not None:
            loss = xp.where(valid, loss, 0)  # (where, not a product: an ignored row may be nan)
        # 'mean' is a weighted mean: divided by the sum of the targets' weights (PyTorch)
        self.count = n * r if wy is None else wy.sum()
        self.saved = (p, idx, wy, keep, weight)
        out = _reduce(loss, reduction, self.count)
        return out.reshape(target.shape) if reduction == "none" else out

    def backward(self, g: Any) -> tuple[Any, None, None]:
        p, idx, wy, keep, weight = self.saved
        xp = get_array_module(p)
        n, c, r = self.dims
        eps = self.eps
        g = g.reshape(n, r) if self.reduction == "none" else g
        a = _coef(g, self.reduction, self.count)  # (N, R), or 0-d after 'mean'/'sum'
        a_y = a if wy is None else a * wy  # the gradient reaching each row's -log p_y
        total = a_y  # sum_c q_c, per row
        if eps:
            # smoothing puts (eps / C) w_c of every (kept) row's target mass on each class
            a_s = a * (eps / c) if keep is None else a * keep * (eps / c)
            a_y = a_y * (1 - eps)
            total = a_y + a_s * self.w_sum

        def per_row(v: Any) -> Any:  # (N, R) -> (N, 1, R) against the (N, C, R) scores
            return v if v.ndim == 0 else v.reshape(n, 1, r)

        # C order: p keeps the layout of a non-contiguous x (a transposed view), and then
        # reshape(-1) below would be a copy, and the one-hot subtracted from the copy lost
        gx = xp.ascontiguousarray(p * per_row(total))
        if eps:
            gx -= per_row(a_s) * (1 if weight is None else weight.reshape(1, c, 1))
        gx.reshape(-1)[idx] -= a_y  # minus the one-hot: softmax - onehot, per row
        return gx.reshape(self.shape), None, None


class _CrossEntropyProbs(Function):
    """Cross-entropy against class probabilities ``t`` (soft labels, mixup, distillation):
    ``-sum_c w_c t'_c log p_c`` with ``t' = (1 - eps) t + eps / C``."""

    op_name = "cross_entropy"

    def forward(self, x: Any, t: Any, weight: Any, reduction: str, label_smoothing: float) -> Any:
        xp = get_array_module(x)
        self.x_meta, self.t_meta = (x.shape, x.dtype), (t.shape, t.dtype)
        self.w_dtype = None if weight is None else weight.dtype
        x, t = promote_all(x, t)
        if weight is not None and weight.dtype != x.dtype:
            weight = weight.astype(x.dtype)
        n, c, r = self.dims = _class_layout(x)
        self.reduction, self.count, self.eps = reduction, n * r, label_smoothing
        x3, t3 = x.reshape(n, c, r), t.reshape(n, c, r)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            logp = x3 - x3.max(axis=1, keepdims=True)
            logp -= xp.log(xp.exp(logp).sum(axis=1, keepdims=True))
            q = self._q(t3, weight)
            loss = (q * logp).sum(axis=1)
        xp.negative(loss, out=loss)
        self.saved = (logp, t3, weight)
        out = _reduce(loss, reduction, self.count)
        return out.reshape(_index_shape(x)) if reduction == "none" else out

    def _q(self, t3: Any, weight: Any) -> Any:
        """The target distribution, smoothed and weighted."""
        c = t3.shape[1]
        q = t3 * (1 - self.eps) + self.eps / c if self.eps else t3
        return q if weight is None else q * weight.reshape(1, c, 1)

    def backward(self, g: Any) -> tuple[Any, Any, Any]:
        logp, t3, weight = self.saved
        xp = get_array_module(logp)
        n, c, r = self.dims
        g = g.reshape(n, r) if self.reduction == "none" else g
        a = xp.broadcast_to(_coef(g, self.reduction, self.count), (n, r)).reshape(n, 1, r)
        gx = gt = gw = None
        if self.needs_input_grad[0]:
            q = self._q(t3, weight)
            gx = xp.exp(logp)
            gx *= q.sum(axis=1, keepdims=True)
            gx -= q
            gx *= a
            gx = _grad_to(gx.reshape(self.x_meta[0]), *self.x_meta)
        if self.needs_input_grad[1]:
            gt = logp * (-(1 - self.eps) * a)
            if weight is not None:
                gt *= weight.reshape(1, c, 1)
            gt = _grad_to(gt.reshape(self.t_meta[0]), *self.t_meta)
        if weight is not None and self.needs_input_grad[2]:
            smoothed = self._q(t3, None)
            gw = -(logp * smoothed * a).sum(axis=(0, 2))
            gw = gw.astype(self.w_dtype, copy=False)
        return gx, gt, gw


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood ``-weight[y] * input[y]`` of log-probabilities (CS231n L3).

    ``input`` holds log-probabilities ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` (a
    ``log_softmax`` output); ``target`` class indices ``(N,)``, ``(N, d1, ...)`` or ``()``;
    ``weight`` one value per class ``(C,)``. Targets equal to ``ignore_index`` add nothing.
    ``'mean'`` divides by the sum of the targets' weights (the number of non-ignored targets
    without weights); ``'none'`` returns the target's shape.
    """
    op = "nll_loss"
    _check_scores(op, input, target)
    _check_reduction(op, reduction)
    _check_indices(op, input, target, ignore_index)
    c = input.shape[0 if input.ndim == 1 else 1]
    weight = _constant_weight(op, "weight", weight, (c,))
    _check_same_device(op, input, weight)
    return _NLLLoss.apply(
        input, target, weight, reduction=reduction, ignore_index=int(ignore_index)
    )


def cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """The softmax classifier's loss: ``-log softmax(input)[target]`` (CS231n L3; CSC321 L4).

    Shapes: ``input`` class scores (logits) ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
    ``target`` either class indices (integers) ``(N,)``, ``(N, d1, ...)`` or ``()``, or class
    probabilities of the input's shape (floats). ``weight`` ``(C,)`` weighs each class; with
    ``'mean'`` the sum is divided by the sum of the targets' weights, as PyTorch. Targets equal
    to ``ignore_index`` add nothing (index targets only). ``label_smoothing`` mixes the target
    with the uniform distribution: ``(1 - eps) onehot + eps / C``.

    Softmax and log-likelihood are fused into one op: a stable log-softmax forward and the
    ``softmax - onehot`` backward. With small random scores over C classes the loss is about
    ``ln C`` (2.303 for 10), the first sanity check of a classifier.
    """
    op = "cross_entropy"
    _check_scores(op, input, target)
    _check_reduction(op, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    c = input.shape[0 if input.ndim == 1 else 1]
    t = target.data
    if t.ndim == input.ndim and t.dtype.kind == "f":
        if tuple(t.shape) != tuple(input.shape):
            raise ValueError(
                f"{op}: expected class probabilities of the input's shape {tuple(input.shape)}, "
                f"got {tuple(t.shape)}"
            )
        if ignore_index != -100:
            raise ValueError(f"{op}: ignore_index is not supported for class-probability targets")
        if weight is not None:
            _check_tensor(op, "weight", weight)
            if tuple(weight.shape) != (c,):
                raise ValueError(
                    f"{op}: expected weight of shape {(c,)} (one value per class), got {tuple(weight.shape)}"
                )
        _check_same_device(op, input, target, weight)
        return _CrossEntropyProbs.apply(
            input, target, weight, reduction=reduction, label_smoothing=float(label_smoothing)
        )
    if t.ndim == input.ndim and t.dtype.kind in "iub":
        raise TypeError(
            f"{op}: a target of the input's shape {tuple(input.shape)} holds class "
            f"probabilities and must be floating point, got {t.dtype}"
        )
    _check_indices(op, input, target, ignore_index)
    weight = _constant_weight(op, "weight", weight, (c,))
    _check_same_device(op, input, weight)
    return _CrossEntropy.apply(
        input,
        target,
        weight,
        reduction=reduction,
        ignore_index=int(ignore_index),
        label_smoothing=float(label_smoothing),
    )


# ---------------------------------------------------------------- the multiclass SVM
class _MultiMargin(Function):
    """``sum_{j != y} w[y] max(0, margin - x_y + x_j)^p / C`` per row."""

    op_name = "multi_margin_loss"

    def forward(
        self, x: Any, target: Any, weight: Any, reduction: str, p: int, margin: float
    ) -> Any:
        xp = get_array_module(x)
        n, c = (1, x.shape[0]) if x.ndim == 1 else x.shape
        self.shape, self.dims, self.reduction, self.p = x.shape, (n, c), reduction, p
        x2, t = x.reshape(n, c), target.reshape(n)
        rows = xp.arange(n)
        z = x2 - x2[rows, t].reshape(n, 1)
        z += margin  # margin - x_y + x_j: how far class j comes within the margin of y
        z[rows, t] = 0  # the true class is not compared with itself
        h = xp.maximum(z, 0)
        if p == 2:
            h *= h
        wy = None
        if weight is not None:
            wy = weight.astype(x.dtype, copy=False)[t]
            h *= wy.reshape(n, 1)
        loss = h.sum(axis=1)
        loss /= c  # PyTorch divides by C; the course's SVM loss is C times this
        self.count = n
        self.saved = (z, t, wy)
        out = _reduce(loss, reduction, n)
        return out.reshape(target.shape) if reduction == "none" else out

    def backward(self, g: Any) -> tuple[Any, None, None]:
        z, t, wy = self.saved
        xp = get_array_module(z)
        n, c = self.dims
        g = g.reshape(n) if self.reduction == "none" else g
        a = xp.broadcast_to(_coef(g, self.reduction, self.count), (n,)) / c
        if wy is not None:
            a = a * wy
        # each violating class j pushes x_j up and x_y down by the same amount
        gx = (z > 0).astype(z.dtype) if self.p == 1 else 2 * xp.maximum(z, 0)
        gx *= a.reshape(n, 1)
        rows = xp.arange(n)
        gx[rows, t] = -gx.sum(axis=1)
        return gx.reshape(self.shape), None, None


def multi_margin_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The multiclass SVM (hinge) loss of CS231n L3, PyTorch's ``multi_margin_loss``.

    Per sample: ``sum_{j != y} max(0, margin - x_y + x_j)^p / C``: each wrong class whose score
    comes within ``margin`` of the true class's score adds to the loss. ``p=2`` is the squared
    hinge. ``input`` is ``(N, C)`` or ``(C,)``, ``target`` ``(N,)`` or ``()`` class indices,
    ``weight`` ``(C,)`` multiplies the loss of each sample by its true class's weight; ``'mean'``
    divides by N.

    PyTorch divides by C; the course's SVM loss is the plain sum over ``j != y``, so multiply by
    C to get the course's number (about ``C - 1`` with near-zero weights, where all scores are
    about equal). The margin value does not matter: with the weights' L2 penalty, scaling W
    rescales every score difference, so a margin of 1 or 10 gives the same classifier up to
    the scale of W (the regularisation strength is the real knob).
    """
    op = "multi_margin_loss"
    _check_scores(op, input, target, max_dims=2)
    _check_reduction(op, reduction)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got p={p}")
    _check_indices(op, input, target, None)
    c = input.shape[-1]
    weight = _constant_weight(op, "weight", weight, (c,))
    _check_same_device(op, input, weight)
    return _MultiMargin.apply(
        input, target, weight, reduction=reduction, p=int(p), margin=as_number(margin, op, "margin")
    )
