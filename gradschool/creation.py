"""Making tensors: from data, filled with constants, ranges, and random draws.

Names, arguments and defaults are PyTorch's: floating-point results default to
``get_default_dtype()`` (float32), integers to int64, and random draws come from the generator
seeded by ``gradschool.manual_seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend.device import array_module, device, get_array_module, to_device
from .backend.dtype import dtype, from_numpy_dtype, get_default_dtype, to_numpy_dtype
from .backend.random import Generator, rng_of
from .tensor import Tensor

Size = tuple[int, ...]


def _finish(array: Any, dtype_: Any, device_: Any, requires_grad: bool) -> Tensor:
    if dtype_ is not None:
        npd = to_numpy_dtype(dtype_)
        if array.dtype != npd:
            array = array.astype(npd)
    if device_ is not None:
        array = to_device(array, device_)
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad = True
    return t


def _size(size: tuple[Any, ...], op: str) -> Size:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}: size must be ints, got {type(s).__name__} in {size!r}")
        if s < 0:
            raise ValueError(f"{op}: negative dimension {s} in size {tuple(size)}")
    return tuple(int(s) for s in size)


def _float(dtype_: Any) -> np.dtype:
    return get_default_dtype().np if dtype_ is None else to_numpy_dtype(dtype_)


def _random_float(dtype_: Any, op: str) -> np.dtype:
    """The dtype of a random float draw: floats only, as PyTorch (zeros would be a silent lie)."""
    npd = _float(dtype_)
    if npd.kind != "f":
        raise TypeError(
            f"{op}: expected a floating point dtype, got {from_numpy_dtype(npd)} "
            "(draw floats and convert, or use randint for integers)"
        )
    return npd


def _fill_number(value: Any, op: str) -> Any:
    """``value`` if it is a number (or a 0-d tensor / array), else a TypeError naming ``op``."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (bool, int, float, np.number, np.bool_)) or (
        getattr(value, "ndim", None) == 0
        and getattr(value, "dtype", np.dtype(object)).kind in "biuf"
    ):
        return value
    raise TypeError(f"{op}: fill_value must be a number, got {type(value).__name__} {value!r}")


def _check_tensor(input: Any, op: str) -> None:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: argument 'input' must be a Tensor, not {type(input).__name__}")


def _infer_dtype(data: Any) -> np.dtype | None:
    """PyTorch's inference for Python data: floats -> default float, ints -> int64."""
    if isinstance(data, np.ndarray | np.generic):
        return None  # NumPy data keeps its dtype
    a = np.asarray(data)
    if a.dtype.kind == "f":
        return get_default_dtype().np
    if a.dtype.kind in "iu":
        return np.dtype(np.int64)
    return None


def tensor(
    data: Any,
    dtype: dtype | None = None,
    device: str | device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or tensors).

    >>> gradschool.tensor([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    """
    if isinstance(data, Tensor):
        array = data.data.copy()
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        array = np.array([np.asarray(x) for x in data])
    else:
        xp = get_array_module(data)
        try:
            array = xp.array(data, copy=True)
        except ValueError:  # NumPy's "inhomogeneous shape": rows of different lengths
            raise ValueError(
                "tensor: expected a rectangular nested sequence (every row the same length), "
                f"got {str(data)[:80]}"
            ) from None
        if array.dtype == object or array.dtype.kind in "USVc":
            raise TypeError(
                f"tensor: could not infer a numeric dtype from {type(data).__name__} data"
                + (" (complex numbers are not supported)" if array.dtype.kind == "c" else "")
            )
        inferred = _infer_dtype(data) if xp is np else None
        if dtype is None and inferred is not None:
            array = array.astype(inferred)
    return _finish(array, dtype, device, requires_grad)


def as_tensor(data: Any, dtype: dtype | None = None, device: str | device | None = None) -> Tensor:
    """Like ``tensor`` but shares memory with ``data`` when no conversion is needed."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray):
        return _finish(data, dtype, device, False)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    from_numpy_dtype(array.dtype)  # raises for unsupported dtypes
    return Tensor._make(array)


def _filled(
    fill: str, size: tuple[Any, ...], dtype_: Any, device_: Any, requires_grad: bool, op: str
) -> Tensor:
    xp = array_module(device_ or "cpu")
    array = getattr(xp, fill)(_size(size, op), dtype=_float(dtype_))
    return _finish(array, None, None, requires_grad)


def zeros(
    *size: Any, dtype: dtype | None = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _filled("zeros", size, dtype, device, requires_grad, "zeros")


def ones(
    *size: Any, dtype: dtype | None = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ones."""
    return _filled("ones", size, dtype, device, requires_grad, "ones")


def empty(
    *size: Any, dtype: dtype | None = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """An uninitialised tensor (its values are whatever memory held)."""
    return _filled("empty", size, dtype, device, requires_grad, "empty")


def full(
    size: Any,
    fill_value: Any,
    *,
    dtype: dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value's kind, as in PyTorch."""
    fill_value = _fill_number(fill_value, "full")
    if dtype is None:
        kind = type(fill_value)
        dtype_np = np.bool_ if kind is bool else np.int64 if kind is int else get_default_dtype().np
    else:
        dtype_np = to_numpy_dtype(dtype)
    xp = array_module(device or "cpu")
    array = xp.full(
        _size((size,) if isinstance(size, int) else tuple(size), "full"), fill_value, dtype=dtype_np
    )
    return _finish(array, None, None, requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step``."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if not all(np.isfinite(v) for v in (start, end, step)):
        raise ValueError(
            f"arange: start, end and step must be finite, got start={start}, end={end}, step={step}"
        )
    if (end - start) * step < 0:  # PyTorch's message: it never returns an empty range here
        raise ValueError(
            "arange: upper bound and larger bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})"
        )
    if dtype is None:
        all_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype_np = np.dtype(np.int64) if all_int else get_default_dtype().np
    else:
        dtype_np = to_numpy_dtype(dtype)
    xp = array_module(device or "cpu")
    n = max(int(np.ceil((end - start) / step)), 0)
    array = (
        (xp.arange(n, dtype=np.float64) * step + start).astype(dtype_np)
        if dtype_np.kind == "f"
        else xp.arange(start, end, step, dtype=dtype_np)
    )
    return _finish(array, None, None, requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    *,
    dtype: dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace: steps must be an int, got {type(steps).__name__} {steps!r}")
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    xp = array_module(device or "cpu")
    return _finish(xp.linspace(start, end, steps).astype(_float(dtype)), None, None, requires_grad)


def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The n x m identity matrix."""
    n, m = _size((n, n if m is None else m), "eye")
    xp = array_module(device or "cpu")
    return _finish(xp.eye(n, m, dtype=_float(dtype)), None, None, requires_grad)


def rand(
    *size: Any,
    generator: Generator | None = None,
    dtype: dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform samples on [0, 1)."""
    npd = _random_float(dtype, "rand")
    array = rng_of(generator).random(
        _size(size, "rand"), dtype=npd if npd in (np.float32, np.float64) else np.float64
    )
    return _finish(array, npd, device, requires_grad)


def randn(
    *size: Any,
    generator: Generator | None = None,
    dtype: dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples."""
    npd = _random_float(dtype, "randn")
    array = rng_of(generator).standard_normal(
        _size(size, "randn"), dtype=npd if npd in (np.float32, np.float64) else np.float64
    )
    return _finish(array, npd, device, requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Size = (),
    *,
    generator: Generator | None = None,
    dtype: dtype | None = None,
    device: Any = None,
) -> Tensor:
    """Uniform integers in ``[low, high)``: ``randint(10, (3,))`` or ``randint(2, 10, (3,))``."""
    if high is None:
        low, high = 0, low
    if isinstance(size, int):
        raise TypeError("randint: size must be a tuple, e.g. randint(10, (3,))")
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    array = rng_of(generator).integers(low, high, _size(tuple(size), "randint"), dtype=np.int64)
    return _finish(array, dtype, device, False)


def randperm(
    n: int, *, generator: Generator | None = None, dtype: dtype | None = None, device: Any = None
) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"randperm: n must be an int, got {type(n).__name__} {n!r}")
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    return _finish(rng_of(generator).permutation(n).astype(np.int64), dtype, device, False)


def normal(
    mean: float,
    std: float,
    size: Size,
    *,
    generator: Generator | None = None,
    dtype: dtype | None = None,
    device: Any = None,
) -> Tensor:
    """Normal samples with the given mean and standard deviation."""
    if not std >= 0:  # also refuses NaN
        raise ValueError(f"normal: expects std >= 0.0, but found std {std}")
    array = rng_of(generator).normal(mean, std, _size(tuple(size), "normal"))
    return _finish(array, _float(dtype), device, False)


def _like(fn: Any, name: str) -> Any:
    def like(
        input: Tensor,
        *,
        dtype: dtype | None = None,
        device: Any = None,
        requires_grad: bool = False,
        **kw: Any,
    ) -> Tensor:  # noqa: A002
        _check_tensor(input, name)
        return fn(
            *input.shape,
            **kw,
            dtype=dtype or from_numpy_dtype(input.data.dtype),
            device=device or input.device,
            requires_grad=requires_grad,
        )

    like.__name__ = name
    like.__doc__ = f"``{fn.__name__}`` with the shape, dtype and device of ``input``."
    return like


zeros_like = _like(zeros, "zeros_like")
ones_like = _like(ones, "ones_like")
empty_like = _like(empty, "empty_like")
rand_like = _like(rand, "rand_like")
randn_like = _like(randn, "randn_like")


def full_like(
    input: Tensor,
    fill_value: Any,
    *,
    dtype: dtype | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # noqa: A002
    """``full`` with the shape, dtype and device of ``input``."""
    _check_tensor(input, "full_like")
    return full(
        input.shape,
        fill_value,
        dtype=dtype or from_numpy_dtype(input.data.dtype),
        device=device or input.device,
        requires_grad=requires_grad,
    )


def randint_like(
    input: Tensor,
    low: int,
    high: int | None = None,
    *,
    dtype: dtype | None = None,
    device: Any = None,
) -> Tensor:  # noqa: A002
    """``randint`` with the shape of ``input``."""
    _check_tensor(input, "randint_like")
    return randint(
        low,
        high,
        input.shape,
        dtype=dtype or from_numpy_dtype(input.data.dtype),
        device=device or input.device,
    )


__all__ = [
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "normal",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "tensor",
    "zeros",
    "zeros_like",
]
