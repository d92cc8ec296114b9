"""Helpers shared by the ops: dtype promotion, reducing broadcast gradients, dim checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend.device import get_array_module
from ..backend.dtype import result_type


def promote(a: Any, b: Any) -> tuple[Any, Any]:
    """Cast two operands (arrays or Python scalars) to the dtype PyTorch would compute in."""
    ca, cb = a.__class__, b.__class__
    if ca is np.ndarray:
        if cb is np.ndarray:
            if a.dtype is b.dtype:
                return a, b
        elif (cb is float or cb is int) and a.dtype.kind == "f":
            return a, b  # a weak Python scalar keeps the tensor's float dtype (NEP 50)
    elif cb is np.ndarray and (ca is float or ca is int) and b.dtype.kind == "f":
        return a, b
    return promote_all(a, b)


def promote_all(*xs: Any) -> tuple[Any, ...]:
    kinds = {
        x.__class__
        for x in xs
        if x.__class__ is np.ndarray or hasattr(x, "__cuda_array_interface__")
    }
    if len(kinds) > 1:
        devices = sorted({"cpu" if k is np.ndarray else "cuda" for k in kinds})
        raise RuntimeError(
            "Expected all tensors to be on the same device, but found at least two devices, "
            + " and ".join(devices)
            + "!"
        )
    dt = result_type(*xs)
    out = []
    for x in xs:
        if hasattr(x, "shape"):
            out.append(x if x.dtype == dt else x.astype(dt))
        elif isinstance(x, (bool, int, float)) or np.isscalar(x):
            # a Python scalar stays weak (NEP 50) unless it must change kind
            out.append(dt.type(x) if dt.kind != "b" else x)
        else:
            out.append(x)
    return tuple(out)


def sum_to(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum a broadcast gradient back down to ``shape`` (the reverse of broadcasting)."""
    if grad.shape == shape:
        return grad
    if grad.ndim < len(shape):  # a value with extra leading 1s (``x[i] = v[None]``)
        grad = grad.reshape((1,) * (len(shape) - grad.ndim) + grad.shape)
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and grad.shape[i + lead] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def grad_like(grad: Any, like: Any) -> Any:
    """``grad`` reduced to the shape of ``like`` and cast to its dtype (None for constants)."""
    shape = getattr(like, "shape", None)
    if shape is None:
        return None
    if grad.shape != shape:
        grad = sum_to(grad, shape)
    if grad.dtype != like.dtype:
        grad = grad.astype(like.dtype)
    return grad


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """A dim in ``[-ndim, ndim)`` made non-negative (0-d tensors accept 0 and -1)."""
    n = max(ndim, 1)
    try:
        inside = -n <= dim < n
    except TypeError:  # None, a string ...: say so rather than fail comparing it
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}") from None
    if not inside:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """``dim`` (None, an int, or a sequence of ints) as a sorted tuple of axes, None for all."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (normalize_dim(int(dim), ndim, op),)
    dims = tuple(normalize_dim(int(d), ndim, op) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    return tuple(sorted(dims)) if dims else None


def as_number(value: Any, op: str, name: str) -> float:
    """``value`` as a float if it is a real number (not a bool), else a TypeError naming the
    op and the argument (Python's "could not convert string to float" names neither)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}(): {name} must be a number, got {value!r}")
    return float(value)


LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."


def become(self: Any, result: Any) -> None:
    """Make tensor ``self`` the new version ``result``: an in-place op recorded out of place,
    so arrays saved for earlier backwards stay intact."""
    self.data, self.grad_fn, self._requires_grad = result.data, result.grad_fn, True


def add_at(out: Any, key: Any, values: Any) -> None:
    """``out[key] += values`` where repeated positions in ``key`` all add up."""
    xp = get_array_module(out)
    if xp is np:
        np.add.at(out, key, values)
    else:  # pragma: no cover - CuPy
        import cupyx

        cupyx.scatter_add(out, key, values)


def axis_order(a: Any) -> tuple[int, ...] | None:
    """The order of ``a``'s axes in memory, outermost first, when it is not C order (e.g. a
    channels-last NCHW array, or a strided view of one, gives ``(0, 2, 3, 1)``); ``None`` for
    C order, broadcast arrays and tiny ones."""
    if a.ndim < 2 or a.flags.c_contiguous or not a.size:
        return None
    if any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape, strict=True)):
        return None
    order = tuple(sorted(range(a.ndim), key=lambda i: -abs(a.strides[i])))
    return None if order == tuple(range(a.ndim)) else order


def new_array(
    xp: Any, shape: tuple[int, ...], dtype: Any, order: tuple[int, ...] | None, fill: Any = None
) -> Any:
    """A new array of ``shape``, stored with its axes in memory ``order`` (from ``axis_order``;
    C order when ``None``), filled with ``fill`` unless it is ``None``. Gradients made this
    way share their input's layout, so the elementwise ops that meet them run over matching
    memory (mixed layouts make NumPy walk one operand with large strides: 3x slower)."""
    if order is None or len(order) != len(shape):
        out = xp.empty(shape, dtype=dtype)
    else:
        out = xp.empty(tuple(shape[i] for i in order), dtype=dtype)
        out = out.transpose(tuple(np.argsort(order)))
    if fill is not None:
        out[...] = fill
    return out


def sum_rows(a: Any) -> Any:
    """``a.sum(axis=0)`` of a C-contiguous ``(P, C)`` array with few columns (a bias
    gradient over positions x channels), about 20x faster and more accurate than NumPy's.

    NumPy reduces over the outer axis one row at a time: with C = 6 channels its inner loop
    is six additions long and the sum runs in order down all P rows. Folded to
    ``(P/m, m*C)`` the inner loop is m*C long, and each of the m*C partial sums adds only
    P/m values before the m are added up."""
    p, c = a.shape
    m = max(1, 512 // max(c, 1))
    q = p // m * m
    if q == 0 or m == 1 or not a.flags.c_contiguous:
        return a.sum(axis=0)
    out = a[:q].reshape(q // m, m * c).sum(axis=0).reshape(m, c).sum(axis=0)
    if q < p:
        out += a[q:].sum(axis=0)
    return out


def add_to_rows(a: Any, row: Any) -> None:
    """``a += row`` in place, for a C-contiguous ``(P, C)`` array and a ``(C,)`` row (a bias
    added at every position), 4x faster than NumPy's broadcast when C is small.

    The broadcast's inner loop is one row of C values (6 in LeNet); folded to
    ``(P/m, m*C)`` against ``row`` tiled m times it is m*C long (see ``sum_rows``)."""
    p, c = a.shape
    m = max(1, 512 // max(c, 1))
    q = p // m * m
    if m == 1 or q == 0 or not a.flags.c_contiguous:
        a += row
        return
    xp = get_array_module(a)
    a[:q].reshape(q // m, m * c)[...] += xp.tile(row, m)
    if q < p:
        a[q:] += row
