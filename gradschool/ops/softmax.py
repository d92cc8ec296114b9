"""Softmax, log-softmax and log-sum-exp (CS231n L3: the softmax classifier).

A linear classifier gives each of C classes a score ``s_j``. Softmax turns the scores into
probabilities, ``p_j = exp(s_j) / sum_k exp(s_k)``, and the cross-entropy loss of the true
class ``y`` is ``-log p_y = -s_y + log sum_k exp(s_k)``: a log-softmax, or a log-sum-exp
minus the true score. At initialisation, when all scores are about equal, every ``p_j`` is
``1/C`` and the loss is ``ln C`` (2.3 for CIFAR-10's ten classes), the first sanity check of
any classifier.

Numerical stability. ``exp`` overflows for scores above about 88 in float32 (709 in float64).
Shifting every score by the same constant changes neither the probabilities nor the
log-softmax, so each op first subtracts the row's maximum: the largest exponent is then
``exp(0) = 1``, nothing overflows, the sum is at least 1 and its log is finite. Scores of
``-inf`` (masked-out classes) get probability exactly 0 (log-probability ``-inf``); a row
that is all ``-inf``, or holds a ``+inf``, gives NaN, as in PyTorch.

Gradients, computed without ever forming the C x C Jacobian. With ``y = softmax(x)`` and
upstream gradient ``g``: ``dx = y * (g - sum(g * y))``. With ``y = log_softmax(x)``:
``dx = g - exp(y) * sum(g)``. With ``y = logsumexp(x)``: ``dx = g * exp(x - y)``, which is
``g * softmax(x)``.

>>> import gradschool as gs
>>> gs.tensor([[1.0, 1.0, 1.0, 1.0]]).log_softmax(-1)
tensor([[-1.3863, -1.3863, -1.3863, -1.3863]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..backend.device import get_array_module
from ..backend.dtype import get_default_dtype, to_numpy_dtype
from ..tensor import Tensor
from ._util import normalize_dim, normalize_dims

__all__ = ["softmax", "log_softmax", "logsumexp"]


def _prepare(x: Any, dtype: Any, op: str) -> Any:
    """The input cast to ``dtype`` (if given), checked to be floating point."""
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{op}(): expected a floating point tensor, got {x.dtype}; "
            "convert it first (x.float()) or pass dtype="
        )
    return x


def _row_max(x: Any, axis: Any) -> Any:
    """The maximum along ``axis`` (kept), with +-inf replaced by 0 so that subtracting it
    never computes ``inf - inf``: log-sum-exp is then -inf for a slice of -inf only and
    +inf for a slice holding +inf (as PyTorch)."""
    xp = get_array_module(x)
    m = x.max(axis=axis, keepdims=True)
    return xp.where(xp.isinf(m), 0, m)


def _grad_dtype(g: Any, dtype: np.dtype) -> Any:
    return g if g.dtype == dtype else g.astype(dtype)


class Softmax(Function):
    """``exp(x - max) / sum exp(x - max)`` along ``axis``; backward ``y * (g - sum(g y))``."""

    def forward(self, x: Any, axis: int = -1, dtype: Any = None) -> Any:
        self.shape, self.dtype = x.shape, x.dtype
        x = _prepare(x, dtype, "softmax")
        if x.ndim == 0:  # one class: probability 1 (NumPy's 0-d results are scalars)
            x, axis = x.reshape(1), 0
        self.axis = axis
        if x.size == 0:
            y = x.copy()
        else:
            xp = get_array_module(x)
            with np.errstate(invalid="ignore"):  # inf - inf: NaN rows, as PyTorch
                y = x - x.max(axis=axis, keepdims=True)
                xp.exp(y, out=y)
                y /= y.sum(axis=axis, keepdims=True)
        self.saved = (y,)
        return y.reshape(self.shape)

    def backward(self, g: Any) -> tuple[Any]:
        y = self.saved[0]
        g = g.reshape(y.shape)
        gx = g - (g * y).sum(axis=self.axis, keepdims=True)
        gx *= y
        return (_grad_dtype(gx.reshape(self.shape), self.dtype),)


class LogSoftmax(Function):
    """``(x - max) - log sum exp(x - max)`` along ``axis``; backward ``g - exp(y) sum(g)``."""

    def forward(self, x: Any, axis: int = -1, dtype: Any = None) -> Any:
        self.shape, self.dtype = x.shape, x.dtype
        x = _prepare(x, dtype, "log_softmax")
        if x.ndim == 0:
            x, axis = x.reshape(1), 0
        self.axis = axis
        if x.size == 0:
            y = x.copy()
        else:
            xp = get_array_module(x)
            with np.errstate(invalid="ignore"):  # inf - inf: NaN rows, as PyTorch
                y = x - x.max(axis=axis, keepdims=True)
                y -= xp.log(xp.exp(y).sum(axis=axis, keepdims=True))
        self.saved = (y,)
        return y.reshape(self.shape)

    def backward(self, g: Any) -> tuple[Any]:
        y = self.saved[0]
        xp = get_array_module(y)
        g = g.reshape(y.shape)
        gx = xp.exp(y)
        gx *= g.sum(axis=self.axis, keepdims=True)
        xp.subtract(g, gx, out=gx)
        return (_grad_dtype(gx.reshape(self.shape), self.dtype),)


class LogSumExp(Function):
    """``log sum exp(x)`` over ``axes`` as ``m + log sum exp(x - m)``; backward
    ``g * exp(x - out)`` (the softmax)."""

    def forward(self, x: Any, axes: Any = None, keepdim: bool = False) -> Any:
        self.shape, self.dtype = x.shape, x.dtype
        xp = get_array_module(x)
        if x.dtype.kind != "f":  # integers compute in the default float dtype (as PyTorch)
            x = x.astype(get_default_dtype().np)
        if x.ndim == 0:
            x, axes = x.reshape(1), (0,)
        kept = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
        if any(x.shape[i] == 0 for i in axes):  # the log of an empty sum is -inf
            out = xp.full(kept, -np.inf, dtype=x.dtype)
        else:
            m = _row_max(x, axes)
            e = x - m
            xp.exp(e, out=e)
            with np.errstate(divide="ignore"):  # an all -inf row: log 0 = -inf
                out = xp.log(e.sum(axis=axes, keepdims=True))
            out += m
        self.saved = (x, out)
        if not self.shape:
            return out.reshape(())
        return out if keepdim else out.reshape([s for i, s in enumerate(x.shape) if i not in axes])

    def backward(self, g: Any) -> tuple[Any]:
        x, out = self.saved
        xp = get_array_module(x)
        with np.errstate(invalid="ignore"):  # an all -inf row: -inf - -inf, NaN as PyTorch
            gx = x - out
        xp.exp(gx, out=gx)
        gx *= g.reshape(out.shape)
        return (_grad_dtype(gx.reshape(self.shape), self.dtype),)


def _dim(input: Any, dim: Any, op: str) -> int:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if dim is None:
        raise TypeError(
            f"{op}(): pass dim, the dimension that holds the classes (usually -1, or 1 for "
            "(N, C, ...) scores)"
        )
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): dim must be an int, got {dim!r}")
    return normalize_dim(int(dim), input.data.ndim, op)


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """Probabilities along ``dim``: ``exp(x_j) / sum_k exp(x_k)``, computed stably.

    ``dtype`` casts the input first (e.g. compute in float64). Each slice along ``dim`` sums
    to 1; adding a constant to every score changes nothing.

    >>> import gradschool as gs
    >>> gs.softmax(gs.tensor([0.0, 0.0, 10000.0]), dim=0)
    tensor([0., 0., 1.])
    """
    axis = _dim(input, dim, "softmax")
    return Softmax.apply(input, axis=axis, dtype=None if dtype is None else to_numpy_dtype(dtype))


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """Log-probabilities along ``dim``: ``x_j - log sum_k exp(x_k)``, computed stably.

    Use it (with ``nll_loss``) rather than ``log(softmax(x))``, which gives ``-inf`` once a
    probability underflows to 0 and a NaN gradient after it.
    """
    axis = _dim(input, dim, "log_softmax")
    return LogSoftmax.apply(
        input, axis=axis, dtype=None if dtype is None else to_numpy_dtype(dtype)
    )


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``log sum exp(x)`` over ``dim`` (an int or a tuple), a smooth maximum, computed stably.

    >>> import gradschool as gs
    >>> gs.logsumexp(gs.tensor([10000.0, 10000.0]), dim=0)
    tensor(10000.6934)
    """
    if not isinstance(input, Tensor):
        raise TypeError(
            f"logsumexp(): argument 'input' must be a Tensor, not {type(input).__name__}"
        )
    if not isinstance(dim, (int, np.integer, tuple, list)) or isinstance(dim, bool):
        raise TypeError(f"logsumexp(): dim must be an int or a tuple of ints, got {dim!r}")
    nd = input.data.ndim
    axes = normalize_dims(dim, nd, "logsumexp") or tuple(range(nd))
    return LogSumExp.apply(input, axes=axes if nd else None, keepdim=keepdim)


TENSOR_METHODS = {
    "softmax": softmax,
    "log_softmax": log_softmax,
    "logsumexp": logsumexp,
}
