"""In-place methods (``x.add_(y)``, ``x.zero_()``, ``w.normal_(0, 0.01)``), PyTorch's rules.

Outside autograd (under ``no_grad``, or when nothing involved requires a gradient) they
write into the tensor's existing array, so every alias of it — a ``from_numpy`` array, a
parameter an optimiser holds — sees the change. While the graph is recorded, a leaf that
requires grad refuses, as in PyTorch; a non-leaf takes the new value and the node that made
it (computed out of place, so arrays saved for earlier backwards stay intact).
"""

from __future__ import annotations

from typing import Any

from ..autograd.grad_mode import state as _grad_state
from ..backend.device import get_array_module
from ..backend.random import Generator, rng_of
from ..tensor import Tensor
from . import arithmetic, index
from ._util import LEAF_INPLACE, become

__all__: list[str] = []


def assign_inplace(self: Tensor, result: Tensor) -> Tensor:
    """Store the out-of-place ``result`` into ``self`` by PyTorch's in-place rules (see the
    module docstring); the shared tail of every ``op_`` and ``inplace=True`` variant."""
    tracked = _grad_state.enabled and (self._requires_grad or result._requires_grad)
    if tracked:
        if self.grad_fn is None and self._requires_grad:
            raise RuntimeError(LEAF_INPLACE)
        become(self, result)
        return self
    if result.data.dtype.kind == "f" and self.data.dtype.kind != "f":
        raise RuntimeError(
            f"result type {result.dtype.name} can't be cast to the desired output type {self.dtype.name}"
        )
    if result.data.shape != self.data.shape:
        raise ValueError(
            f"in-place op: the result's shape {tuple(result.data.shape)} does not match the "
            f"tensor's shape {tuple(self.data.shape)}"
        )
    self.data[...] = result.data
    return self


def _inplace(fn: Any, name: str) -> Any:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return assign_inplace(self, fn(self, *args, **kwargs))

    method.__name__ = name
    method.__doc__ = (
        f"In-place ``{fn.__name__}``: ``x.{name}(...)`` stores ``x.{fn.__name__}(...)`` in x."
    )
    return method


def _check_untracked(self: Tensor, name: str) -> None:
    if _grad_state.enabled and self.grad_fn is None and self._requires_grad:
        raise RuntimeError(LEAF_INPLACE)


def _recorded(self: Tensor, value: Any) -> bool:
    """Whether overwriting ``self`` with ``value`` enters the graph: grad mode on, and self
    (a non-leaf, once ``_check_untracked`` passed) or the value requires grad."""
    return _grad_state.enabled and (
        self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
    )


def _everywhere(self: Tensor) -> Tensor:
    """An all-True mask of self's shape: a fill is a ``masked_fill`` of every element."""
    return Tensor._make(get_array_module(self.data).ones(self.data.shape, dtype=bool))


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros in place."""
    return fill_(self, 0)


def fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with ``value`` in place. In the graph the old values get no gradient, and a
    0-d tensor ``value`` the sum of self's."""
    _check_untracked(self, "fill_")
    if _recorded(self, value):
        return assign_inplace(self, index.masked_fill(self, _everywhere(self), value))
    self.data[...] = value.data if isinstance(value, Tensor) else value
    return self


def copy_(self: Tensor, src: Any) -> Tensor:
    """Copy ``src`` (broadcast to self's shape, cast to self's dtype) into self. In the
    graph the gradient goes to ``src`` (summed over the broadcast), none to the old values."""
    _check_untracked(self, "copy_")
    if _recorded(self, src):
        src = (
            src
            if isinstance(src, Tensor)
            else Tensor._make(get_array_module(self.data).asarray(src))
        )
        result = arithmetic.where(_everywhere(self), src.to(self.dtype), self)
        if result.shape != self.shape:
            raise ValueError(
                f"copy_: src of shape {tuple(src.shape)} does not broadcast to {tuple(self.shape)}"
            )
        return assign_inplace(self, result)
    self.data[...] = src.data if isinstance(src, Tensor) else src
    return self


def uniform_(
    self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator | None = None
) -> Tensor:
    """Fill with samples from U(a, b)."""
    _check_untracked(self, "uniform_")
    self.data[...] = rng_of(generator).uniform(a, b, self.data.shape)
    return self


def normal_(
    self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None
) -> Tensor:
    """Fill with samples from N(mean, std^2)."""
    _check_untracked(self, "normal_")
    self.data[...] = rng_of(generator).normal(mean, std, self.data.shape)
    return self


TENSOR_METHODS = {
    "add_": _inplace(arithmetic.add, "add_"),
    "sub_": _inplace(arithmetic.sub, "sub_"),
    "mul_": _inplace(arithmetic.mul, "mul_"),
    "div_": _inplace(arithmetic.div, "div_"),
    "pow_": _inplace(arithmetic.pow, "pow_"),
    "clamp_": _inplace(arithmetic.clamp, "clamp_"),
    "relu_": _inplace(arithmetic.relu, "relu_"),
    "sigmoid_": _inplace(arithmetic.sigmoid, "sigmoid_"),
    "tanh_": _inplace(arithmetic.tanh, "tanh_"),
    "exp_": _inplace(arithmetic.exp, "exp_"),
    "neg_": _inplace(arithmetic.neg, "neg_"),
    "masked_fill_": _inplace(index.masked_fill, "masked_fill_"),
    "scatter_add_": _inplace(index.scatter_add, "scatter_add_"),
    "zero_": zero_,
    "fill_": fill_,
    "copy_": copy_,
    "uniform_": uniform_,
    "normal_": normal_,
}
