"""The parity harness: one row per op, checked against PyTorch and by numerical gradients.

An ``OpSpec`` names the op, gives the gradschool call and the PyTorch call (both take the same
arguments, with tensors of their own library where the sample has arrays) and a sampler that
draws arguments from hypothesis. ``tests/test_parity.py`` runs every row three ways:
forward values against PyTorch, gradients against PyTorch, and ``gradcheck`` in float64, in
float32 and float64. Adding an op to the harness means adding one row to a ``specs_*.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


@dataclass
class Sample:
    """Arguments for one call: ``args`` may hold float arrays (become tensors that require
    grad), ``Const`` arrays (become tensors that do not) and plain Python values."""

    args: list[Any]
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Const:
    """An array argument that becomes a tensor without gradient (indices, masks, ...)."""

    array: np.ndarray


@dataclass
class OpSpec:
    name: str
    gs: Callable[..., Any]
    torch: Callable[..., Any]
    sample: Callable[[Any], Sample]  # takes hypothesis' ``draw``
    grad: bool = True  # whether gradients are compared and checked
    gradcheck: bool = True
    dtypes: tuple[str, ...] = ("float32", "float64")
    rtol32: float = 1e-4
    atol32: float = 1e-5

    def __repr__(self) -> str:
        return self.name


# ---------------------------------------------------------------- samplers' building blocks
def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 4) -> Any:
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable(
    n: int = 2, min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 4
) -> Any:
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def values(
    draw: Any,
    shape: tuple[int, ...],
    low: float = -2.0,
    high: float = 2.0,
    *,
    away_from_zero: float = 0.0,
) -> np.ndarray:
    """Random float64 values in [low, high), optionally kept ``away_from_zero`` (for 1/x, kinks)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.uniform(low, high, size=shape)
    if away_from_zero:
        x = np.where(np.abs(x) < away_from_zero, np.copysign(away_from_zero, x) + x, x)
    return np.asarray(x)


def distinct(draw: Any, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    """Values with no ties (a shuffled grid), so max/min/sort have a unique answer."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = int(np.prod(shape))
    return np.asarray((rng.permutation(n) - n / 2).reshape(shape) * (scale * 0.37) + 0.01)


def integers(draw: Any, shape: tuple[int, ...], low: int, high: int) -> np.ndarray:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.integers(low, high, size=shape)


# ---------------------------------------------------------------- running a spec
def to_library(
    sample: Sample, lib: str, dtype: str, requires_grad: bool
) -> tuple[list[Any], list[Any]]:
    """Turn a sample into arguments for gradschool or torch; returns (args, grad_leaves)."""
    import torch

    import gradschool as gs

    leaves: list[Any] = []

    def convert(a: Any) -> Any:
        if isinstance(a, Const):
            arr = a.array
            return gs.tensor(arr) if lib == "gs" else torch.tensor(arr)
        if isinstance(a, np.ndarray):
            arr = a.astype(dtype) if a.dtype.kind == "f" else a
            if lib == "gs":
                t = gs.tensor(arr, requires_grad=requires_grad and arr.dtype.kind == "f")
            else:
                t = torch.tensor(arr, requires_grad=requires_grad and arr.dtype.kind == "f")
            if t.requires_grad:
                leaves.append(t)
            return t
        if (
            isinstance(a, (list, tuple))
            and a
            and all(isinstance(x, (np.ndarray, Const)) for x in a)
        ):
            return type(a)(convert(x) for x in a)
        return a

    return [convert(a) for a in sample.args], leaves


def outputs(result: Any) -> list[Any]:
    """Flatten an op's result (a tensor, or a tuple such as max's (values, indices))."""
    if isinstance(result, (tuple, list)):
        out = []
        for r in result:
            out += outputs(r)
        return out
    return [result]


def as_numpy(t: Any) -> np.ndarray:
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)
