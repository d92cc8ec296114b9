"""Elementwise ops and their local gradients (CS231n L4: add gate, mul gate, max gate).

Each backward multiplies the upstream gradient by the op's local derivative, then sums it back
to the input's shape where the forward broadcast it (``grad_like``). The derivative choices at
kinks follow PyTorch: ``abs`` and ``relu`` have gradient 0 at 0, ``maximum``/``minimum``
split the gradient evenly on ties, ``clamp`` passes it where ``min <= x <= max``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..backend import jit
from ..backend.device import get_array_module
from ..backend.dtype import get_default_dtype
from ..tensor import Tensor
from . import _relu_kernel
from ._util import grad_like, promote, promote_all

__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "maximum",
    "minimum",
    "neg",
    "abs",
    "exp",
    "log",
    "log1p",
    "sqrt",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "clamp",
    "clip",
    "where",
    "square",
    "reciprocal",
    "rsqrt",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "not_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "isnan",
    "isinf",
    "isfinite",
    "sign",
    "floor",
    "ceil",
    "round",
    "equal",
    "allclose",
]


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


# ---------------------------------------------------------------- binary arithmetic
class Add(Function):
    def forward(self, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        self.a, self.b = _meta(a), _meta(b)
        return a + b

    def backward(self, g: Any) -> tuple[Any, Any]:
        return grad_like(g, self.a), grad_like(g, self.b)


class Sub(Function):
    def forward(self, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        self.a, self.b = _meta(a), _meta(b)
        return a - b

    def backward(self, g: Any) -> tuple[Any, Any]:
        gb = grad_like(g, self.b)
        return grad_like(g, self.a), (None if gb is None else -gb)


class Mul(Function):
    def forward(self, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        self.saved = (a, b)
        return a * b

    def backward(self, g: Any) -> tuple[Any, Any]:
        a, b = self.saved
        ga = grad_like(g * b, a) if self.needs_input_grad[0] else None
        gb = grad_like(g * a, b) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """True division: integer inputs give a float result, as in PyTorch."""

    def forward(self, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        if getattr(a, "dtype", getattr(b, "dtype", None)).kind in "iub":
            a, b = promote_all(a, b, 1.0)[:2]  # int / int is true division in float
        self.saved = (a, b)
        return a / b

    def backward(self, g: Any) -> tuple[Any, Any]:
        a, b = self.saved
        ga = grad_like(g / b, a) if self.needs_input_grad[0] else None
        # (a / b) / b, as PyTorch: b * b first underflows for a tiny b (0 / 0 = nan where
        # a = 0, whose gradient is 0) and overflows for a huge one
        gb = grad_like(-g * ((a / b) / b), b) if self.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    """``a ** b`` for tensor or scalar ``a`` and ``b``."""

    def forward(self, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        out = a**b
        self.saved = (a, b, out)
        return out

    def backward(self, g: Any) -> tuple[Any, Any]:
        a, b, out = self.saved
        xp = get_array_module(g)
        ga = gb = None
        if self.needs_input_grad[0]:
            local = b * a ** (b - 1) if not _is_scalar(b) or b != 0 else xp.zeros_like(g)
            if not _is_scalar(b):
                local = xp.where(b == 0, 0, local)
            ga = grad_like(g * local, a)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                local = out * xp.log(a)
            local = xp.where((a == 0) & (b >= 0), 0, local)
            gb = grad_like(g * local, b)
        return ga, gb


class Maximum(Function):
    def forward(self, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        self.saved = (a, b)
        return get_array_module(a).maximum(a, b)

    def backward(self, g: Any) -> tuple[Any, Any]:
        a, b = self.saved
        return _tie_split(g, a, b, a > b, self.needs_input_grad)


class Minimum(Function):
    def forward(self, a: Any, b: Any) -> Any:
        a, b = promote(a, b)
        self.saved = (a, b)
        return get_array_module(a).minimum(a, b)

    def backward(self, g: Any) -> tuple[Any, Any]:
        a, b = self.saved
        return _tie_split(g, a, b, a < b, self.needs_input_grad)


def _tie_split(g: Any, a: Any, b: Any, a_wins: Any, needs: tuple[bool, ...]) -> tuple[Any, Any]:
    """Gradient of max/min: all to the winning input, split evenly on ties (as PyTorch)."""
    share = (a_wins + 0.5 * (a == b)).astype(g.dtype)
    ga = grad_like(g * share, a) if needs[0] else None
    gb = grad_like(g * (1 - share), b) if needs[1] else None
    return ga, gb


def _meta(x: Any) -> Any:
    """What ``grad_like`` needs of an operand: its shape and dtype, or None for a scalar."""
    return _Meta(x.shape, x.dtype) if hasattr(x, "shape") else None


class _Meta:
    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape, self.dtype = shape, dtype


def _is_scalar(x: Any) -> bool:
    return not hasattr(x, "shape") or x.shape == ()


# ---------------------------------------------------------------- unary
class Neg(Function):
    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, g: Any) -> tuple[Any]:
        return (-g,)


class Abs(Function):
    def forward(self, x: Any) -> Any:
        self.saved = (x,)
        return get_array_module(x).abs(x)

    def backward(self, g: Any) -> tuple[Any]:
        return (g * get_array_module(g).sign(self.saved[0]),)


class Exp(Function):
    def forward(self, x: Any) -> Any:
        y = get_array_module(x).exp(_floating(x))
        self.saved = (y,)
        return y

    def backward(self, g: Any) -> tuple[Any]:
        return (g * self.saved[0],)


class Log(Function):
    def forward(self, x: Any) -> Any:
        x = _floating(x)
        self.saved = (x,)
        return get_array_module(x).log(x)

    def backward(self, g: Any) -> tuple[Any]:
        return (g / self.saved[0],)


class Log1p(Function):
    def forward(self, x: Any) -> Any:
        x = _floating(x)
        self.saved = (x,)
        return get_array_module(x).log1p(x)

    def backward(self, g: Any) -> tuple[Any]:
        return (g / (1 + self.saved[0]),)


class Sqrt(Function):
    def forward(self, x: Any) -> Any:
        y = get_array_module(x).sqrt(_floating(x))
        self.saved = (y,)
        return y

    def backward(self, g: Any) -> tuple[Any]:
        return (g / (2 * self.saved[0]),)


class Sin(Function):
    def forward(self, x: Any) -> Any:
        x = _floating(x)
        self.saved = (x,)
        return get_array_module(x).sin(x)

    def backward(self, g: Any) -> tuple[Any]:
        return (g * get_array_module(g).cos(self.saved[0]),)


class Cos(Function):
    def forward(self, x: Any) -> Any:
        x = _floating(x)
        self.saved = (x,)
        return get_array_module(x).cos(x)

    def backward(self, g: Any) -> tuple[Any]:
        return (-g * get_array_module(g).sin(self.saved[0]),)


class Tanh(Function):
    def forward(self, x: Any) -> Any:
        y = get_array_module(x).tanh(_floating(x))
        self.saved = (y,)
        return y

    def backward(self, g: Any) -> tuple[Any]:
        y = self.saved[0]
        return (g * (1 - y * y),)


class Sigmoid(Function):
    """1 / (1 + e^-x), computed without overflow for large |x|."""

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        x = _floating(x)
        # tanh form: never overflows, one transcendental call
        y = xp.tanh(x * 0.5)
        y *= 0.5
        y += 0.5
        self.saved = (y,)
        return y

    def backward(self, g: Any) -> tuple[Any]:
        y = self.saved[0]
        return (g * y * (1 - y),)


class Relu(Function):
    def forward(self, x: Any) -> Any:
        y = None
        if x.size >= _relu_kernel.MIN_SIZE and jit.enabled():
            y = _relu_kernel.forward(x)  # the compiled loop, on every core (None: no kernel)
        if y is None:
            xp = get_array_module(x)
            # on large float arrays clip(x, 0, inf) runs ~3x faster than maximum(x, 0) in
            # NumPy, but its Python wrapper costs ~1.5 us, which dominates on small ones
            if x.dtype.kind == "f" and x.size > 8192:
                y = xp.clip(x, 0.0, xp.inf)
            else:
                y = xp.maximum(x, x.dtype.type(0))
        self.saved = (y,)
        return y

    def backward(self, g: Any) -> tuple[Any]:
        y = self.saved[0]
        if g.size >= _relu_kernel.MIN_SIZE and jit.enabled():
            gx = _relu_kernel.backward(g, y)  # one pass instead of a mask and a multiply
            if gx is not None:
                return (gx,)
        return (g * (y > 0),)


class Clamp(Function):
    def forward(self, x: Any, min: float | None = None, max: float | None = None) -> Any:  # noqa: A002
        if min is None and max is None:
            raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
        xp = get_array_module(x)
        self.saved = (x,)
        self.lo, self.hi = min, max
        y = x
        try:
            if min is not None:
                y = xp.maximum(y, min, dtype=x.dtype) if x.dtype.kind == "f" else xp.maximum(y, min)
            if max is not None:
                y = xp.minimum(y, max, dtype=x.dtype) if x.dtype.kind == "f" else xp.minimum(y, max)
        except TypeError:  # NumPy's UFuncTypeError for a string bound, say
            raise TypeError(
                f"clamp: min and max must be numbers or tensors, got min={min!r}, max={max!r}"
            ) from None
        return y

    def backward(self, g: Any) -> tuple[Any]:
        x = self.saved[0]
        keep = True
        if self.lo is not None:
            keep = x >= self.lo
        if self.hi is not None:
            keep = keep & (x <= self.hi)
        return (g * keep,)


class Where(Function):
    def forward(self, cond: Any, a: Any, b: Any) -> Any:
        if cond.dtype.kind != "b":
            raise TypeError(f"where: expected a bool condition, got {cond.dtype}")
        a, b = promote(a, b)
        self.saved = (cond,)
        self.a, self.b = _meta(a), _meta(b)
        return get_array_module(cond).where(cond, a, b)

    def backward(self, g: Any) -> tuple[Any, Any, Any]:
        cond = self.saved[0]
        ga = grad_like(g * cond, self.a) if self.needs_input_grad[1] else None
        gb = grad_like(g * ~cond, self.b) if self.needs_input_grad[2] else None
        return None, ga, gb


def _floating(x: Any) -> Any:
    """Integer inputs to float functions compute in the default float dtype (as PyTorch)."""
    return x if x.dtype.kind == "f" else x.astype(get_default_dtype().np)


# ---------------------------------------------------------------- public functions
def add(input: Any, other: Any, *, alpha: float = 1) -> Tensor:  # noqa: A002
    """``input + alpha * other`` with broadcasting."""
    return Add.apply(input, other if alpha == 1 else Mul.apply(other, alpha))


def sub(input: Any, other: Any, *, alpha: float = 1) -> Tensor:  # noqa: A002
    """``input - alpha * other`` with broadcasting."""
    return Sub.apply(input, other if alpha == 1 else Mul.apply(other, alpha))


def mul(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Elementwise product with broadcasting."""
    return Mul.apply(input, other)


def div(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Elementwise true division with broadcasting."""
    return Div.apply(input, other)


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001,A002
    """``input ** exponent``; either may be a tensor or a number."""
    return Pow.apply(input, exponent)


def maximum(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Elementwise maximum; on ties the gradient is split evenly."""
    return Maximum.apply(input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Elementwise minimum; on ties the gradient is split evenly."""
    return Minimum.apply(input, other)


def neg(input: Tensor) -> Tensor:  # noqa: A002
    return Neg.apply(input)


def abs(input: Tensor) -> Tensor:  # noqa: A001,A002
    return Abs.apply(input)


def exp(input: Tensor) -> Tensor:  # noqa: A002
    return Exp.apply(input)


def log(input: Tensor) -> Tensor:  # noqa: A002
    """Natural logarithm."""
    return Log.apply(input)


def log1p(input: Tensor) -> Tensor:  # noqa: A002
    """``log(1 + x)``, accurate for small x."""
    return Log1p.apply(input)


def sqrt(input: Tensor) -> Tensor:  # noqa: A002
    return Sqrt.apply(input)


def sin(input: Tensor) -> Tensor:  # noqa: A002
    return Sin.apply(input)


def cos(input: Tensor) -> Tensor:  # noqa: A002
    return Cos.apply(input)


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    return Tanh.apply(input)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """The logistic function 1 / (1 + e^-x); its gradient is y (1 - y) <= 1/4."""
    return Sigmoid.apply(input)


def relu(input: Tensor) -> Tensor:  # noqa: A002
    """max(0, x); the gradient is 1 where x > 0 and 0 elsewhere."""
    return Relu.apply(input)


def clamp(input: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A001,A002
    """Limit values to ``[min, max]`` (either bound may be None)."""
    return Clamp.apply(input, min=min, max=max)


clip = clamp


def where(condition: Tensor, input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input`` where ``condition`` holds, else ``other`` (all three broadcast)."""
    return Where.apply(condition, input, other)


def square(input: Tensor) -> Tensor:  # noqa: A002
    return Mul.apply(input, input)


def reciprocal(input: Tensor) -> Tensor:  # noqa: A002
    return Div.apply(1.0, input)


def rsqrt(input: Tensor) -> Tensor:  # noqa: A002
    return Pow.apply(input, -0.5)


# ---------------------------------------------------------------- comparisons and logic
def _compare(ufunc: Any) -> Any:
    def op(input: Any, other: Any) -> Tensor:  # noqa: A002
        a, b = _data(input), _data(other)
        if hasattr(a, "shape") and hasattr(b, "shape") and a.__class__ is not b.__class__:
            promote_all(a, b)  # raises the device error
        try:
            return Tensor._make(get_array_module(a).asarray(ufunc(a, b)))
        except ValueError as err:
            raise ValueError(
                f"{ufunc.__name__}: shapes {getattr(a, 'shape', ())} and "
                f"{getattr(b, 'shape', ())} cannot be broadcast together"
            ) from err

    op.__name__ = ufunc.__name__
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
eq.__doc__ = "Elementwise ``==`` as a bool tensor."


def _elementwise_no_grad(name: str, doc: str) -> Any:
    def op(input: Tensor) -> Tensor:  # noqa: A002
        return Tensor._make(
            get_array_module(input.data).asarray(
                getattr(get_array_module(input.data), name)(input.data)
            )
        )

    op.__name__ = name
    op.__doc__ = doc
    return op


logical_not = _elementwise_no_grad("logical_not", "Elementwise not, as a bool tensor.")
isnan = _elementwise_no_grad("isnan", "True where the value is NaN.")
isinf = _elementwise_no_grad("isinf", "True where the value is +-inf.")
isfinite = _elementwise_no_grad("isfinite", "True where the value is neither NaN nor inf.")
sign = _elementwise_no_grad("sign", "-1, 0 or 1 by sign (a step: no gradient flows through it).")
floor = _elementwise_no_grad("floor", "Round down (no gradient).")
ceil = _elementwise_no_grad("ceil", "Round up (no gradient).")
round = _elementwise_no_grad("round", "Round half to even, as PyTorch (no gradient).")  # noqa: A001


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """True when both tensors have the same shape and values."""
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(
                f"equal: argument '{name}' must be a Tensor, not {type(value).__name__}"
            )
    return input.shape == other.shape and bool((input.data == other.data).all())


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:  # noqa: A002
    a, b = np.asarray(input), np.asarray(other)
    try:
        return bool(np.allclose(a, b, rtol=rtol, atol=atol))
    except ValueError:  # NumPy's broadcasting error
        raise ValueError(
            f"allclose: shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None


def _rsub(self: Tensor, other: Any) -> Tensor:
    return Sub.apply(other, self)


def _rdiv(self: Tensor, other: Any) -> Tensor:
    return Div.apply(other, self)


def _rpow(self: Tensor, other: Any) -> Tensor:
    return Pow.apply(other, self)


def _swap(fn: Any) -> Any:
    return lambda self, other: fn(other, self)


def _bitwise(logical: Any, bitwise: Any) -> Any:
    """``&``, ``|``, ``^`` are logical on bool tensors and bitwise on integers."""

    def op(self: Tensor, other: Any) -> Tensor:
        a, b = self.data, _data(other)
        if a.dtype.kind == "f" or getattr(b, "dtype", None) is not None and b.dtype.kind == "f":
            raise TypeError(f"{bitwise.__name__}: not implemented for floating point tensors")
        return Tensor._make(get_array_module(a).asarray(bitwise(a, b)))

    return op


def _invert(self: Tensor) -> Tensor:
    if self.data.dtype.kind == "f":
        raise TypeError("bitwise_not: not implemented for floating point tensors")
    return Tensor._make(get_array_module(self.data).asarray(~self.data))


#: Tensor methods and operators this family provides (bound in ``ops.methods``)
TENSOR_METHODS = {
    "__add__": Add.apply,
    "__radd__": _swap(Add.apply),
    "__sub__": Sub.apply,
    "__rsub__": _rsub,
    "__mul__": Mul.apply,
    "__rmul__": _swap(Mul.apply),
    "__truediv__": Div.apply,
    "__rtruediv__": _rdiv,
    "__pow__": Pow.apply,
    "__rpow__": _rpow,
    "__neg__": Neg.apply,
    "__abs__": Abs.apply,
    "__eq__": eq,
    "__ne__": ne,
    "__lt__": lt,
    "__le__": le,
    "__gt__": gt,
    "__ge__": ge,
    "__and__": _bitwise(np.logical_and, np.bitwise_and),
    "__or__": _bitwise(np.logical_or, np.bitwise_or),
    "__xor__": _bitwise(np.logical_xor, np.bitwise_xor),
    "__invert__": _invert,
    "add": add,
    "sub": sub,
    "mul": mul,
    "div": div,
    "pow": pow,
    "neg": neg,
    "abs": abs,
    "exp": exp,
    "log": log,
    "log1p": log1p,
    "sqrt": sqrt,
    "rsqrt": rsqrt,
    "sin": sin,
    "cos": cos,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "relu": relu,
    "clamp": clamp,
    "clip": clamp,
    "maximum": maximum,
    "minimum": minimum,
    "square": square,
    "reciprocal": reciprocal,
    "eq": eq,
    "ne": ne,
    "lt": lt,
    "le": le,
    "gt": gt,
    "ge": ge,
    "logical_and": logical_and,
    "logical_or": logical_or,
    "logical_xor": logical_xor,
    "logical_not": logical_not,
    "isnan": isnan,
    "isinf": isinf,
    "isfinite": isfinite,
    "sign": sign,
    "floor": floor,
    "ceil": ceil,
    "round": round,
    "equal": equal,
    "allclose": allclose,
    "where": lambda self, condition, other: where(condition, self, other),
}
