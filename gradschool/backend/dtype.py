"""Data types with PyTorch's names and PyTorch's promotion rules.

A ``gradschool.dtype`` wraps a NumPy dtype. Promotion follows PyTorch, not NumPy: a float
tensor combined with an integer tensor keeps the float tensor's dtype (NumPy would widen
``int64 + float32`` to ``float64``), Python scalars never widen a tensor of their own kind,
and zero-dimensional tensors act like scalars against tensors with dimensions.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor element type: ``gradschool.float32`` and friends."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize", "_category")

    def __init__(self, name: str, np_dtype: Any, category: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == 2
        self.itemsize = self.np.itemsize
        self._category = category  # 0 bool, 1 integer, 2 floating point

    def __repr__(self) -> str:
        return f"gradschool.{self.name}"

    def __reduce__(self) -> str:
        return self.name


float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
bool_ = dtype("bool", np.bool_, 0)
half, float, double = float16, float32, float64  # noqa: A001 - PyTorch's aliases
short, int, long = int16, int32, int64  # noqa: A001

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool_)
_FROM_NUMPY = {d.np: d for d in ALL}
_default_float = float32


def from_numpy_dtype(np_dtype: Any) -> dtype:
    """The gradschool dtype of a NumPy dtype; raises TypeError for unsupported ones."""
    try:
        return _FROM_NUMPY[np_dtype]
    except KeyError:
        pass
    try:
        return _FROM_NUMPY[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        supported = ", ".join(d.name for d in ALL)
        raise TypeError(
            f"unsupported dtype {np_dtype!r}; gradschool supports {supported}"
        ) from None


def to_numpy_dtype(d: Any) -> np.dtype:
    """Accept a gradschool dtype, a NumPy dtype or a Python type, return the NumPy dtype."""
    if isinstance(d, dtype):
        return d.np
    if d is builtins_float:
        return _default_float.np
    if d is builtins_int:
        return np.dtype(np.int64)
    if d is builtins_bool:
        return np.dtype(np.bool_)
    return from_numpy_dtype(d).np


builtins_float, builtins_int, builtins_bool = (1.0).__class__, (1).__class__, (True).__class__


def get_default_dtype() -> dtype:
    """The dtype of new floating-point tensors (``float32`` unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the dtype of new floating-point tensors (``float32`` or ``float64``)."""
    global _default_float
    if d not in (float32, float64, float16):
        raise TypeError(f"set_default_dtype: expected a floating point dtype, got {d!r}")
    _default_float = d


def _category(np_dtype: np.dtype) -> int:
    return _FROM_NUMPY[np_dtype]._category


def _scalar_category(x: Any) -> int:
    if isinstance(x, builtins_bool | np.bool_):
        return 0
    if isinstance(x, builtins_int | np.integer):
        return 1
    return 2


def promote_types(*dtypes: np.dtype) -> np.dtype:
    """PyTorch's ``promote_types``: a higher category wins outright (int64 + float32 is
    float32); within one category NumPy's widening applies."""
    out = dtypes[0]
    for d in dtypes[1:]:
        if d is out:
            continue
        ca, cb = _category(out), _category(d)
        out = out if ca > cb else d if cb > ca else np.result_type(out, d)
    return out


def result_type(*operands: Any) -> np.dtype:
    """The NumPy dtype PyTorch would give an op on these operands.

    Operands are arrays or Python scalars. Three priority groups take part, as in
    ``torch.result_type``: arrays with dimensions, zero-dimensional arrays, then scalars; a
    lower group only matters when it brings a higher category (bool < int < float).
    """
    dims, zeros, scalars = [], [], []
    for x in operands:
        nd = getattr(x, "ndim", None)
        if nd is None:
            scalars.append(x)
        elif nd:
            dims.append(x.dtype)
        else:
            zeros.append(x.dtype)
    result: np.dtype | None = None
    groups = (
        promote_types(*dims) if dims else None,
        promote_types(*zeros) if zeros else None,
        _SCALAR_DTYPES[max(map(_scalar_category, scalars))]() if scalars else None,
    )
    for g in groups:
        if g is not None and (result is None or _category(g) > _category(result)):
            result = g
    return result


_SCALAR_DTYPES = (
    lambda: np.dtype(np.bool_),
    lambda: np.dtype(np.int64),
    lambda: _default_float.np,
)
