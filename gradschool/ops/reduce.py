"""Reductions: sum, mean, prod, max/min, var/std, norm, cumsum, all/any (CS231n L4 gates).

A reduction folds a dimension away, so its backward gives every input element its share of
the upstream gradient of the output element it fed:

- ``sum`` is the *add gate* over many inputs: it distributes the gradient unchanged to each
  of them (a broadcast back, no copy); ``mean`` distributes it divided by the count.
- ``max`` is the *max gate*: it routes the whole gradient to the winner. With ``dim`` the
  winner is the returned index (the first one on ties, as PyTorch on the CPU); without it,
  and for ``amax``, tied winners split the gradient evenly.
- ``prod``'s gradient for ``x_i`` is the product of all the *other* elements, computed from
  exclusive cumulative products from the left and from the right, so zeros are handled
  exactly (dividing the product by ``x_i`` would give 0/0).
- ``var``'s gradient is ``2 (x - mean) / (N - correction)``; ``std`` and ``norm`` follow by
  the chain rule, with gradient 0 where the result is 0 (as PyTorch).

Names, arguments and edge cases follow PyTorch: ``dim`` is an int or a tuple (None for all),
integer and bool sums give int64, the sum of nothing is 0 and its mean is NaN, and ``max``
over an empty dimension raises.
"""

from __future__ import annotations

import builtins
import math
from typing import Any, NamedTuple

import numpy as np

from ..autograd.function import Function
from ..backend.device import get_array_module
from ..backend.dtype import to_numpy_dtype
from ..tensor import Tensor
from ._util import as_number, normalize_dim, normalize_dims
from .arithmetic import maximum, minimum

__all__ = [
    "sum",
    "mean",
    "prod",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "var",
    "std",
    "norm",
    "cumsum",
    "all",
    "any",
]

_INT64 = np.dtype(np.int64)


# ---------------------------------------------------------------- helpers
def _check(input: Any, op: str) -> Any:  # noqa: A002
    """The array of ``input``, or a TypeError naming the op when it is not a Tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return input.data


def _float_only(dtype: np.dtype, op: str, takes_dtype: bool = False) -> None:
    if dtype.kind != "f":
        hint = " or pass dtype=" if takes_dtype else ""
        raise TypeError(
            f"{op}(): expected a floating point tensor, got {dtype}; "
            f"convert it first (x.float()){hint}"
        )


def _axes(dim: Any, ndim: int, op: str, keepdim: Any = False) -> tuple[int, ...] | None:
    """``dim`` as sorted non-negative axes; None means every axis (and always for 0-d).
    ``keepdim`` is checked here too, for every reduction that takes one."""
    if not isinstance(keepdim, bool | np.bool_):
        raise TypeError(f"{op}(): keepdim must be a bool, got {keepdim!r}")
    if dim is not None and not isinstance(dim, (int, np.integer)):
        if not isinstance(dim, (tuple, list)) or not builtins.all(
            isinstance(d, (int, np.integer)) for d in dim
        ):
            raise TypeError(f"{op}(): dim must be an int or a tuple of ints, got {dim!r}")
    axes = normalize_dims(dim, ndim, op)
    return axes if ndim else None


def _kept(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The result's shape with ``keepdim=True``: each reduced dimension becomes 1."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    """How many elements each output element reduces."""
    return math.prod(shape) if axes is None else math.prod(shape[i] for i in axes)


def _nonempty(x: Any, axes: tuple[int, ...] | None, op: str) -> None:
    """Reductions without an identity (max, min) refuse empty inputs, as in PyTorch."""
    if x.size:
        return
    if axes is None:
        raise RuntimeError(
            f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    for a in axes:
        if x.shape[a] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {a} to have non-zero size.")


def _dtype(dtype: Any) -> np.dtype | None:
    return None if dtype is None else to_numpy_dtype(dtype)


def _cast(x: Any, dtype: np.dtype | None) -> Any:
    return x if dtype is None or x.dtype == dtype else x.astype(dtype)


def _grad_dtype(g: Any, dtype: np.dtype) -> Any:
    return g if g.dtype == dtype else g.astype(dtype)


class ValuesIndices(NamedTuple):
    """What ``max``/``min`` with a ``dim`` return (PyTorch's ``torch.return_types.max``)."""

    values: Tensor
    indices: Tensor


# ---------------------------------------------------------------- Functions
class Sum(Function):
    """The add gate over many inputs: the gradient is broadcast back unchanged."""

    def forward(self, x: Any, axes: Any = None, keepdim: bool = False, dtype: Any = None) -> Any:
        self.shape, self.axes, self.dtype = x.shape, axes, x.dtype
        return x.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    def backward(self, g: Any) -> tuple[Any]:
        g = _grad_dtype(g.reshape(_kept(self.shape, self.axes)), self.dtype)
        return (get_array_module(g).broadcast_to(g, self.shape),)


class Mean(Function):
    def forward(self, x: Any, axes: Any = None, keepdim: bool = False, dtype: Any = None) -> Any:
        self.shape, self.kept, self.dtype = x.shape, _kept(x.shape, axes), x.dtype
        x = _cast(x, dtype)
        self.n = n = _count(x.shape, axes)
        s = x.sum(axis=axes, keepdims=keepdim)
        if n == 0:
            with np.errstate(invalid="ignore"):
                return s / n  # 0 / 0: the mean of nothing is NaN
        return s / n

    def backward(self, g: Any) -> tuple[Any]:
        g = _grad_dtype(g.reshape(self.kept) / builtins.max(self.n, 1), self.dtype)
        return (get_array_module(g).broadcast_to(g, self.shape),)


class Prod(Function):
    """Product; d prod / d x_i is the product of the others (exclusive cumprods, zero-safe)."""

    def forward(self, x: Any, axes: Any = None, keepdim: bool = False, dtype: Any = None) -> Any:
        self.axes = tuple(range(x.ndim)) if axes is None else axes
        self.saved = (x,)
        return x.prod(axis=axes, keepdims=keepdim, dtype=dtype)

    def backward(self, g: Any) -> tuple[Any]:
        x = self.saved[0]
        xp = get_array_module(x)
        if x.size == 0:
            return (xp.zeros(x.shape, dtype=x.dtype),)
        # move the reduced axes to the end and flatten them: (rest..., K)
        rest = [i for i in range(x.ndim) if i not in self.axes]
        perm = rest + list(self.axes)
        rest_shape = tuple(x.shape[i] for i in rest)
        xt = x.transpose(perm).reshape(rest_shape + (-1,))
        # others[k] = (x_0 ... x_{k-1}) * (x_{k+1} ... x_{K-1})
        others = xp.empty_like(xt)
        others[..., 0] = 1
        xp.cumprod(xt[..., :-1], axis=-1, out=others[..., 1:])
        right = xp.empty_like(xt)
        right[..., -1] = 1
        xp.cumprod(xt[..., :0:-1], axis=-1, out=right[..., -2::-1])
        others *= right
        others *= _grad_dtype(g.reshape(rest_shape + (1,)), x.dtype)
        inverse = [0] * x.ndim
        for i, p in enumerate(perm):
            inverse[p] = i
        return (others.reshape([x.shape[i] for i in perm]).transpose(inverse),)


def _split_among_ties(g: Any, x: Any, out: Any, kept: tuple[int, ...], axes: Any) -> Any:
    """The gradient of max/min over ``axes``: shared evenly by the elements equal to ``out``."""
    mask = x == out.reshape(kept)
    count = mask.sum(axis=axes, keepdims=True, dtype=g.dtype)
    return mask * (g.reshape(kept) / count)


class Amax(Function):
    """Maximum over dims (also ``max()`` without dim); ties split the gradient evenly."""

    def forward(self, x: Any, axes: Any = None, keepdim: bool = False) -> Any:
        out = x.max(axis=axes, keepdims=keepdim)
        self.axes, self.kept = axes, _kept(x.shape, axes)
        self.saved = (x, out)
        return out

    def backward(self, g: Any) -> tuple[Any]:
        x, out = self.saved
        return (_split_among_ties(g, x, out, self.kept, self.axes),)


class Amin(Amax):
    def forward(self, x: Any, axes: Any = None, keepdim: bool = False) -> Any:
        out = x.min(axis=axes, keepdims=keepdim)
        self.axes, self.kept = axes, _kept(x.shape, axes)
        self.saved = (x, out)
        return out


class TakeAlongDim(Function):
    """The elements at ``index`` along ``axis`` (max/min with a dim); the gradient goes back
    to exactly those positions."""

    def forward(self, x: Any, index: Any = None, axis: int = 0, keepdim: bool = False) -> Any:
        xp = get_array_module(x)
        self.shape, self.axis = x.shape, axis
        self.saved = (index,)
        out = xp.take_along_axis(x, index, axis=axis)
        return out if keepdim else out.squeeze(axis)

    def backward(self, g: Any) -> tuple[Any]:
        index = self.saved[0]
        xp = get_array_module(index)
        n, a = self.shape[self.axis], self.axis
        position = xp.arange(n).reshape((n,) + (1,) * (len(self.shape) - a - 1))
        return ((position == index) * g.reshape(index.shape),)


class Var(Function):
    """Variance with Bessel's ``correction``: ``sum (x - mean)^2 / (N - correction)``."""

    std = False

    def forward(
        self, x: Any, axes: Any = None, correction: float = 1, keepdim: bool = False
    ) -> Any:
        n = _count(x.shape, axes)
        self.dof, self.kept = n - correction, _kept(x.shape, axes)
        with np.errstate(invalid="ignore", divide="ignore"):  # empty or dof <= 0: nan / inf
            centred = x - x.sum(axis=axes, keepdims=True) / n if n else x
            out = (centred * centred).sum(axis=axes, keepdims=keepdim) / builtins.max(self.dof, 0)
            if self.std:
                out = get_array_module(x).sqrt(out)
        self.saved = (centred, out) if self.std else (centred,)
        return out

    def backward(self, g: Any) -> tuple[Any]:
        centred = self.saved[0]
        g = g.reshape(self.kept)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = 2.0 / self.dof if self.dof else math.inf
            if self.std:  # d sqrt(v) = dv / (2 sqrt(v)); 0 where the std is 0, as PyTorch
                out = self.saved[1].reshape(self.kept)
                g = get_array_module(g).where(out == 0, 0, g / (2 * out))
            return (centred * (g * scale),)


class Std(Var):
    """Standard deviation: the square root of ``Var``."""

    std = True


class Norm(Function):
    """The vector p-norm ``(sum |x|^p)^(1/p)``, also p = inf (max |x|) and p = 0 (count)."""

    def forward(
        self, x: Any, p: float = 2.0, axes: Any = None, keepdim: bool = False, dtype: Any = None
    ) -> Any:
        xp = get_array_module(x)
        self.p, self.axes, self.kept, self.dtype = p, axes, _kept(x.shape, axes), x.dtype
        x = _cast(x, dtype)
        if p == 2:
            out = xp.sqrt((x * x).sum(axis=axes, keepdims=keepdim))
        elif p == 1:
            out = xp.abs(x).sum(axis=axes, keepdims=keepdim)
        elif p == math.inf:
            out = xp.abs(x).max(axis=axes, keepdims=keepdim)
        elif p == -math.inf:
            out = xp.abs(x).min(axis=axes, keepdims=keepdim)
        elif p == 0:
            out = (x != 0).sum(axis=axes, keepdims=keepdim, dtype=x.dtype)
        else:
            out = (xp.abs(x) ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
        self.saved = (x, out)
        return out

    def backward(self, g: Any) -> tuple[Any]:
        x, out = self.saved
        return (
            _grad_dtype(self._grad(g.reshape(self.kept), x, out.reshape(self.kept)), self.dtype),
        )

    def _grad(self, g: Any, x: Any, out: Any) -> Any:
        xp, p = get_array_module(x), self.p
        if p == 0:
            return xp.zeros(x.shape, dtype=x.dtype)
        if p == 1:
            return xp.sign(x) * g
        if math.isinf(p):
            return xp.sign(x) * _split_among_ties(g, xp.abs(x), out, self.kept, self.axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            if p == 2:  # x / ||x||, and 0 at x = 0 (as PyTorch)
                return x * xp.where(out == 0, 0, g / out)
            a = xp.abs(x)
            if p < 1:
                local = xp.where(x == 0, 0, xp.sign(x) * a ** (p - 1))
                return local * (g * out ** (1 - p))
            local = xp.sign(x) * a ** (p - 1) if p < 2 else x * a ** (p - 2)
            return local * xp.where(out == 0, 0, g / out ** (p - 1))


class Cumsum(Function):
    """Running sum along ``axis``; the gradient is the running sum of g from the other end."""

    def forward(self, x: Any, axis: int = 0, dtype: Any = None) -> Any:
        self.axis, self.dtype = axis, x.dtype
        if x.ndim == 0:
            return x.astype(dtype or x.dtype)  # a copy
        return get_array_module(x).cumsum(x, axis=axis, dtype=dtype)

    def backward(self, g: Any) -> tuple[Any]:
        if g.ndim == 0:
            return (_grad_dtype(g, self.dtype),)
        xp = get_array_module(g)
        rev = xp.cumsum(xp.flip(g, self.axis), axis=self.axis, dtype=self.dtype)
        return (xp.flip(rev, self.axis),)


# ---------------------------------------------------------------- public functions
def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001,A002
    """Sum over ``dim`` (an int, a tuple, or None for all); bool and integer tensors give int64.

    >>> import gradschool as gs
    >>> gs.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(dim=0)
    tensor([4., 6.])
    """
    x = _check(input, "sum")
    dt = _dtype(dtype)
    if dt is None and x.dtype.kind in "biu":
        dt = _INT64
    return Sum.apply(input, axes=_axes(dim, x.ndim, "sum", keepdim), keepdim=keepdim, dtype=dt)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Mean over ``dim``; the mean of an empty selection is NaN. Needs a floating point input
    (or ``dtype=``)."""
    x = _check(input, "mean")
    dt = _dtype(dtype)
    _float_only(x.dtype if dt is None else dt, "mean", takes_dtype=True)
    return Mean.apply(input, axes=_axes(dim, x.ndim, "mean", keepdim), keepdim=keepdim, dtype=dt)


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Product over ``dim`` (None for all); correct gradients even where the input has zeros."""
    x = _check(input, "prod")
    dt = _dtype(dtype)
    if dt is None and x.dtype.kind in "biu":
        dt = _INT64
    return Prod.apply(input, axes=_axes(dim, x.ndim, "prod", keepdim), keepdim=keepdim, dtype=dt)


def _extreme(input: Any, dim: Any, keepdim: bool, op: str) -> Any:  # noqa: A002
    if isinstance(dim, Tensor):  # max(a, b): the elementwise maximum
        return (maximum if op == "max" else minimum)(input, dim)
    x = _check(input, op)
    if dim is None:
        _nonempty(x, None, op)
        return (Amax if op == "max" else Amin).apply(input, axes=None, keepdim=False)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): dim must be an int (or pass a Tensor to compare), got {dim!r}")
    xp = get_array_module(x)
    if x.ndim == 0:  # one element: it is the max, at index 0
        normalize_dim(int(dim), 0, op)
        values = (Amax if op == "max" else Amin).apply(input, axes=None, keepdim=False)
        return ValuesIndices(values, Tensor._make(xp.zeros((), dtype=_INT64)))
    axis = normalize_dim(int(dim), x.ndim, op)
    _nonempty(x, (axis,), op)
    index = (xp.argmax if op == "max" else xp.argmin)(x, axis=axis, keepdims=True)
    index = index.astype(_INT64, copy=False)  # NumPy's intp
    values = TakeAlongDim.apply(input, index=index, axis=axis, keepdim=keepdim)
    return ValuesIndices(values, Tensor._make(index if keepdim else index.squeeze(axis)))


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001,A002
    """The largest element (a 0-d tensor); with ``dim``, ``(values, indices)`` along it; with a
    tensor as second argument, the elementwise ``maximum``.

    Without ``dim`` tied maxima share the gradient evenly; with ``dim`` it goes to the
    returned index (the first maximum).

    >>> import gradschool as gs
    >>> gs.tensor([[1.0, 5.0], [7.0, 2.0]]).max(dim=1)
    ValuesIndices(values=tensor([5., 7.]), indices=tensor([1, 0]))
    """
    return _extreme(input, dim, keepdim, "max")


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001,A002
    """The smallest element, or ``(values, indices)`` along ``dim``; see ``max``."""
    return _extreme(input, dim, keepdim, "min")


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:  # noqa: A002
    """Maximum over ``dim`` (an int or tuple; empty for all); ties share the gradient evenly."""
    x = _check(input, "amax")
    axes = _axes(dim, x.ndim, "amax", keepdim)
    _nonempty(x, axes, "amax")
    return Amax.apply(input, axes=axes, keepdim=keepdim)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:  # noqa: A002
    """Minimum over ``dim`` (an int or tuple; empty for all); ties share the gradient evenly."""
    x = _check(input, "amin")
    axes = _axes(dim, x.ndim, "amin", keepdim)
    _nonempty(x, axes, "amin")
    return Amin.apply(input, axes=axes, keepdim=keepdim)


def _arg(input: Any, dim: Any, keepdim: bool, op: str) -> Tensor:  # noqa: A002
    x = _check(input, op)
    xp = get_array_module(x)
    fn = xp.argmax if op == "argmax" else xp.argmin
    if dim is None or x.ndim == 0:
        if dim is not None:
            normalize_dim(int(dim), 0, op)
        _nonempty(x, None, op)
        index = fn(x)
        shape = (1,) * x.ndim if keepdim and dim is None else ()
        return Tensor._make(xp.asarray(index, dtype=_INT64).reshape(shape))
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): dim must be an int or None, got {dim!r}")
    axis = normalize_dim(int(dim), x.ndim, op)
    _nonempty(x, (axis,), op)
    return Tensor._make(xp.asarray(fn(x, axis=axis, keepdims=keepdim), dtype=_INT64))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the largest element along ``dim`` (of the flattened tensor when None); int64."""
    return _arg(input, dim, keepdim, "argmax")


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the smallest element along ``dim`` (of the flattened tensor when None); int64."""
    return _arg(input, dim, keepdim, "argmin")


def _moments(
    input: Any,
    dim: Any,
    unbiased: Any,
    keepdim: bool,
    correction: Any,
    std: bool,  # noqa: A002
) -> Tensor:
    op = "std" if std else "var"
    x = _check(input, op)
    if isinstance(dim, bool):  # the legacy var(input, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}(): pass either 'unbiased' or 'correction', not both")
        correction = 1 if unbiased else 0
    _float_only(x.dtype, op)
    axes = _axes(dim, x.ndim, op, keepdim)
    c = 1 if correction is None else as_number(correction, op, "correction")
    return (Std if std else Var).apply(input, axes=axes, correction=c, keepdim=keepdim)


def var(
    input: Tensor,  # noqa: A002
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Variance over ``dim``: ``sum (x - mean)^2 / (N - correction)``; ``correction=1``
    (Bessel's, the default) is the unbiased estimate, 0 the population variance.
    ``unbiased=`` is the older spelling of ``correction`` (True is 1, False is 0)."""
    return _moments(input, dim, unbiased, keepdim, correction, std=False)


def std(
    input: Tensor,  # noqa: A002
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Standard deviation, the square root of ``var`` (same arguments)."""
    return _moments(input, dim, unbiased, keepdim, correction, std=True)


def norm(
    input: Tensor,  # noqa: A002
    p: Any = "fro",
    dim: Any = None,
    keepdim: bool = False,
    dtype: Any = None,
) -> Tensor:
    """The vector p-norm over ``dim`` (all elements when None): ``p=2`` / ``'fro'`` is the
    Euclidean length, ``p=1`` the sum of magnitudes, ``float('inf')`` the largest magnitude.

    The gradient of the 2-norm is ``x / ||x||``, taken as 0 at ``x = 0`` (as PyTorch).
    """
    x = _check(input, "norm")
    dt = _dtype(dtype)
    _float_only(x.dtype if dt is None else dt, "norm", takes_dtype=True)
    axes = _axes(dim, x.ndim, "norm", keepdim)
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm(): p={p!r} is not supported; use 'fro' or a number")
        if axes is not None and len(axes) > 2 and dim is not None:
            raise ValueError(f"norm(): p='fro' takes at most 2 dims, got dim={dim!r}")
        p = 2.0
    elif isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"norm(): p must be a number or 'fro', got {p!r}")
    p = float(p)
    if math.isinf(p) and 0 in (x.shape if axes is None else [x.shape[a] for a in axes]):
        raise RuntimeError(
            f"norm(): cannot compute the {p} norm over an empty dimension: the largest (or "
            "smallest) of no elements is undefined"
        )
    return Norm.apply(input, p=p, axes=axes, keepdim=keepdim, dtype=dt)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running sum along ``dim``: ``out[i] = x[0] + ... + x[i]``; integers give int64."""
    x = _check(input, "cumsum")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"cumsum(): dim must be an int, got {dim!r}")
    axis = normalize_dim(int(dim), x.ndim, "cumsum")
    dt = _dtype(dtype)
    if dt is None and x.dtype.kind in "biu":
        dt = _INT64
    return Cumsum.apply(input, axis=axis, dtype=dt)


def _logical(input: Any, dim: Any, keepdim: bool, op: str) -> Tensor:  # noqa: A002
    x = _check(input, op)
    xp = get_array_module(x)
    out_dtype = x.dtype if x.dtype == np.uint8 else np.dtype(np.bool_)
    if isinstance(dim, (tuple, list)) and not dim:  # PyTorch: an empty dim list reduces nothing
        return Tensor._make(x.astype(np.bool_).astype(out_dtype))
    axes = _axes(dim, x.ndim, op, keepdim)
    out = (xp.all if op == "all" else xp.any)(x, axis=axes, keepdims=keepdim)
    return Tensor._make(xp.asarray(out, dtype=out_dtype))


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """True where every element along ``dim`` (all when None) is nonzero; no gradient."""
    return _logical(input, dim, keepdim, "all")


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """True where some element along ``dim`` (all when None) is nonzero; no gradient."""
    return _logical(input, dim, keepdim, "any")


TENSOR_METHODS = {
    "sum": sum,
    "mean": mean,
    "prod": prod,
    "max": max,
    "min": min,
    "amax": amax,
    "amin": amin,
    "argmax": argmax,
    "argmin": argmin,
    "var": var,
    "std": std,
    "norm": norm,
    "cumsum": cumsum,
    "all": all,
    "any": any,
}
