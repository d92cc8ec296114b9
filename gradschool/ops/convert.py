"""Changing a tensor's dtype or device, and copying it: differentiable, as in PyTorch.

The gradient of a cast is the upstream gradient cast back; the gradient of a device move is
the upstream gradient moved back; the gradient of a copy is the gradient itself.
"""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..backend.device import device, device_of, to_device
from ..backend.dtype import dtype, to_numpy_dtype
from ..tensor import Tensor


class Cast(Function):
    def forward(self, x: Any, dtype: Any) -> Any:
        self.src = x.dtype
        return x.astype(dtype)

    def backward(self, g: Any) -> tuple[Any]:
        return (g.astype(self.src),)


class ToDevice(Function):
    def forward(self, x: Any, dev: device) -> Any:
        self.src = device_of(x)
        return to_device(x, dev)

    def backward(self, g: Any) -> tuple[Any]:
        return (to_device(g, self.src),)


class Clone(Function):
    def forward(self, x: Any) -> Any:
        return x.copy()

    def backward(self, g: Any) -> tuple[Any]:
        return (g,)


def clone(input: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input`` with its own memory; gradients flow back to ``input``."""
    return Clone.apply(input)


def _cast(input: Tensor, d: Any) -> Tensor:  # noqa: A002
    npd = to_numpy_dtype(d)
    if input.data.dtype == npd:
        return input
    if input._requires_grad and npd.kind != "f":
        return Tensor._make(input.data.astype(npd))  # integer results carry no gradient
    return Cast.apply(input, npd)


def to(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002
    """``x.to(device)``, ``x.to(dtype)``, ``x.to(device, dtype)``, ``x.to(other_tensor)``."""
    dev, dt = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    copy = kwargs.pop("copy", False)
    if kwargs:
        raise TypeError(f"to: unexpected arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, dtype) or (isinstance(a, type) and a in (float, int, bool)):
            dt = a
        elif isinstance(a, (str, device)):
            dev = a
        else:
            raise TypeError(f"to: expected a device, a dtype or a tensor, got {a!r}")
    out = input
    if dev is not None and device_of(out.data) != device(dev):
        out = ToDevice.apply(out, device(dev))
    if dt is not None:
        out = _cast(out, dt)
    if copy and out is input:
        out = clone(input)
    return out


def type_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    if not isinstance(other, Tensor):
        raise TypeError(f"type_as: argument 'other' must be a Tensor, not {type(other).__name__}")
    return _cast(input, other.data.dtype)


def contiguous(input: Tensor) -> Tensor:  # noqa: A002
    """``input`` itself when C-contiguous, else a contiguous copy."""
    if input.data.flags.c_contiguous:
        return input
    return Clone.apply(input)


def _caster(d: Any) -> Any:
    return lambda self: _cast(self, d)


def _to_cuda(self: Tensor, device: Any = None) -> Tensor:
    return to(self, device or "cuda")


TENSOR_METHODS = {
    "clone": clone,
    "to": to,
    "type_as": type_as,
    "contiguous": contiguous,
    "cpu": lambda self: to(self, "cpu"),
    "cuda": _to_cuda,
    "float": _caster("float32"),
    "double": _caster("float64"),
    "half": _caster("float16"),
    "long": _caster("int64"),
    "int": _caster("int32"),
    "bool": _caster("bool"),
    "byte": _caster("uint8"),
}
