"""Activation functions (CS231n L6 "Training neural networks I: activation functions";
CSC321 L3-L5: the nonlinearity between linear layers).

Without a nonlinearity a stack of linear layers is one linear map. Which nonlinearity matters
for training: ``sigmoid`` and ``tanh`` saturate (their gradient vanishes for large ``|x|``,
and sigmoid's outputs are not zero-centred); ``relu`` does not saturate for ``x > 0`` and is
cheap, but a unit whose input stays negative never learns again ("dead ReLU");
``leaky_relu``, ``prelu`` (learned slope), ``elu`` and ``selu`` (self-normalising) keep a
gradient for ``x < 0``; ``gelu`` and ``silu`` are the smooth gates of transformers;
``maxout`` (Goodfellow et al. 2013) takes the maximum over groups of linear features.

Each op is one ``Function`` with a forward and backward on raw arrays. The derivative at a
kink is PyTorch's choice: ``relu``, ``leaky_relu`` and ``prelu`` take the left slope at 0;
``hardtanh``/``relu6`` pass the gradient only strictly inside ``(min_val, max_val)``; ``elu``
takes the exponential side at 0. Hot paths select by arithmetic with 0/1 masks or ``clip``
rather than ``np.where``, which branches per element and is several times slower on random
signs; and they reuse buffers in place, since every pass over a large array costs memory
bandwidth.

``gelu`` needs ``erf``: ``_erf`` below evaluates it with rational approximations fitted for
gradschool (no SciPy), accurate to about one unit in the last place in float32 and float64.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ... import ops as _ops
from ...autograd.function import Function
from ...backend.device import get_array_module
from ...ops._util import as_number, normalize_dim
from ...ops.inplace import assign_inplace
from ...tensor import Tensor

__all__ = [
    "relu",
    "relu_",
    "relu6",
    "leaky_relu",
    "leaky_relu_",
    "prelu",
    "elu",
    "elu_",
    "selu",
    "gelu",
    "silu",
    "softplus",
    "hardtanh",
    "hardtanh_",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "softmin",
    "maxout",
]

# SELU's constants (Klambauer et al. 2017): the fixed point of mean 0, variance 1
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# ---------------------------------------------------------------- helpers
def _check(input: Any, op: str, floating: bool = True) -> None:  # noqa: A002
    """Raise TypeError unless ``input`` is a Tensor (of a floating point dtype)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if floating and input.data.dtype.kind != "f":
        raise TypeError(
            f"{op}(): expected a floating point tensor, got {input.data.dtype}; convert it "
            "first (x.float())"
        )


def _mask(cond: Any, dtype: Any) -> Any:
    """A boolean condition as 0./1. of ``dtype``, for selecting by multiplication."""
    return cond.astype(dtype)


def _pick(m: Any, a: Any, b: Any) -> Any:
    """``a`` where the 0/1 mask ``m`` is 1, else ``b`` (finite values; exact, since one of
    the two products is a multiplication by 0)."""
    out = a * m
    out += (1 - m) * b
    return out


def _1d(x: Any) -> Any:
    """A 0-d array as shape (1,), so ``out=`` and in-place ufuncs work (NumPy turns 0-d
    results into scalars); other arrays unchanged."""
    return x.reshape(1) if x.ndim == 0 else x


def _finish(input: Tensor, out: Tensor, inplace: bool) -> Tensor:  # noqa: A002
    """Return ``out``, or store it into ``input`` for the ``inplace=True`` variants."""
    return assign_inplace(input, out) if inplace else out


# ---------------------------------------------------------------- erf
# float64: erf(z) = z S(z^2) for |z| < 0.5 (full relative accuracy near 0), and
# erf(z) = 1 - exp(-z^2) P(z) / Q(z) for 0.5 <= |z| <= 6, beyond which erf is 1 in float64.
# float32 (fewer passes over memory, which is what costs): erf(x)^2 = 1 - exp(-s h(s)) with
# s = x^2 and h smooth (4/pi at 0, slowly down to ~1.1), so
# erf(x) = sign(x) sqrt(-expm1(-s H(s))) with H a rational fit of h on s in [0, 18].
# The coefficients were fitted for gradschool with mpmath, on 300 Chebyshev points: S by
# iteratively reweighted least squares on the relative error, P/Q and H by Loeb's linearised
# least squares. Errors against math.erf: about 2e-16 (float64) and 1.2e-7 (float32).
_S64 = (
    1.1283791670955126,
    -0.37612638903183465,
    0.1128379167092481,
    -0.026866170632714844,
    0.005223977370311612,
    -0.0008548297523145363,
    0.00012053324254937984,
    -1.4845582300911607e-05,
    1.472320104344758e-06,
)
_P64 = (
    0.9999999992978138,
    1.26055216499076,
    0.7994321736629109,
    0.28873694946335404,
    0.05906432495736589,
    0.0054773619756348126,
    3.7490986819932575e-08,
)
_Q64 = (
    1.0,
    2.388931320995823,
    2.4950525895426474,
    1.4674233956626235,
    0.5169031453044282,
    0.10465952327939866,
    0.009710376330971887,
)
# H = -P32 / Q32 (negated, so that s * H is the exponent itself)
_P32 = (-1.2732395605301512, -0.29833085688465294, -0.051016057768461284, -0.003006876737068171)
_Q32 = (1.0, 0.26435658418366326, 0.04534110042035034, 0.002986710461126324)


def _horner(coef: tuple[float, ...], v: Any) -> Any:
    """``sum_k coef[k] v^k``, in place on one new array."""
    acc = v * coef[-1]
    acc += coef[-2]
    for c in coef[-3::-1]:
        acc *= v
        acc += c
    return acc


def _erf(x: Any) -> Any:
    """The error function ``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt`` of a float
    array, vectorised (whole-array passes, no Python loop, no SciPy)."""
    xp = get_array_module(x)
    if x.ndim == 0:
        return _erf(x.reshape(1)).reshape(())
    if x.dtype.itemsize < 4:  # float16: compute in float32
        return _erf(x.astype(np.float32)).astype(x.dtype)
    if x.dtype != np.float64:
        with np.errstate(over="ignore"):  # x^2 = inf is clipped next
            s = x * x
        xp.clip(s, 0.0, 18.0, out=s)  # erf(x) rounds to exactly 1 in float32 from here on
        t = _horner(_P32, s)
        t *= s
        t /= _horner(_Q32, s)
        xp.expm1(t, out=t)
        xp.negative(t, out=t)
        xp.sqrt(t, out=t)
        return xp.copysign(t, x, out=t)
    # both branches are computed on clipped copies (no overflow, no NaN from the other
    # side) and blended by a 0/1 mask, reusing buffers (fresh arrays cost like arithmetic)
    z = xp.abs(x)
    in_small = z < 0.5
    zc = xp.clip(z, 0.0, 0.5)
    v = zc * zc
    inner = _horner(_S64, v)
    inner *= zc
    zc = xp.clip(z, 0.5, 6.0, out=zc)
    outer = _horner(_P64, zc)
    den_v = _horner(_Q64, zc)
    outer /= den_v
    xp.multiply(zc, zc, out=v)
    xp.negative(v, out=v)
    outer *= xp.exp(v, out=v)
    xp.subtract(1.0, outer, out=outer)
    m = den_v  # reused as the mask: 1 where |x| < 0.5
    m[...] = in_small
    inner *= m
    xp.subtract(1.0, m, out=m)
    outer *= m
    outer += inner
    return xp.copysign(outer, x, out=outer)  # erf is odd


# ---------------------------------------------------------------- the ReLU family
def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``max(0, x)`` elementwise; gradient 1 where ``x > 0``, else 0 (also at 0).

    Shape: any; the output has the input's shape and dtype. CS231n L6: the default choice.
    """
    _check(input, "relu", floating=False)
    return _finish(input, _ops.relu(input), inplace)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    """In-place ``relu``."""
    return relu(input, inplace=True)


class Hardtanh(Function):
    """``clip(x, min_val, max_val)``; the gradient passes strictly inside the interval."""

    def forward(self, x: Any, min_val: float = -1.0, max_val: float = 1.0) -> Any:
        lo, hi = x.dtype.type(min_val), x.dtype.type(max_val)  # the tensor's dtype (PyTorch)
        self.lo, self.hi = lo, hi
        self.saved = (x,)
        return get_array_module(x).clip(x, lo, hi)

    def backward(self, g: Any) -> tuple[Any]:
        x = self.saved[0]
        inside = (x > self.lo) & (x < self.hi)
        return (g * _mask(inside, g.dtype),)


def hardtanh(
    input: Tensor,  # noqa: A002
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """``min(max(x, min_val), max_val)``: a piecewise-linear tanh (shape: any)."""
    _check(input, "hardtanh", floating=False)
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val}, "
            f"max_val={max_val}"
        )
    return _finish(input, Hardtanh.apply(input, min_val=min_val, max_val=max_val), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """In-place ``hardtanh``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``min(max(0, x), 6)`` (MobileNet's ReLU, robust in low precision); gradient 0 at 0
    and 6, as PyTorch (it is ``hardtanh(x, 0, 6)``)."""
    _check(input, "relu6", floating=False)
    return _finish(input, Hardtanh.apply(input, min_val=0.0, max_val=6.0), inplace)


class LeakyRelu(Function):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise."""

    op_name = "leaky_relu"

    def forward(self, x: Any, negative_slope: float = 0.01) -> Any:
        xp = get_array_module(x)
        self.slope = negative_slope
        self.saved = (x,)
        y = _1d(x * negative_slope)
        if 0.0 <= negative_slope <= 1.0:
            return xp.maximum(x, y, out=y).reshape(x.shape)  # for slopes in [0, 1]: the larger
        return xp.where(x > 0, x, y).reshape(x.shape)

    def backward(self, g: Any) -> tuple[Any]:
        x = self.saved[0]
        m = _mask(x > 0, g.dtype)
        local = 1 - m
        local *= self.slope
        local += m
        local *= g
        return (local,)


def leaky_relu(
    input: Tensor,  # noqa: A002
    negative_slope: float = 0.01,
    inplace: bool = False,
) -> Tensor:
    """``max(0, x) + negative_slope * min(0, x)``: a ReLU that keeps a small gradient for
    ``x < 0``, so no unit dies (shape: any)."""
    _check(input, "leaky_relu")
    return _finish(
        input,
        LeakyRelu.apply(
            input, negative_slope=as_number(negative_slope, "leaky_relu", "negative_slope")
        ),
        inplace,
    )


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """In-place ``leaky_relu``."""
    return leaky_relu(input, negative_slope, inplace=True)


class Prelu(Function):
    """``x`` for ``x > 0``, ``w * x`` otherwise, with ``w`` broadcast over dim 1."""

    op_name = "prelu"

    def forward(self, x: Any, w: Any) -> Any:
        xp = get_array_module(x)
        self.wshape = w.shape
        # one slope per channel, broadcast over (N, C, *): shape (C, 1, ..., 1)
        wb = w.reshape((-1,) + (1,) * (x.ndim - 2)) if w.size != 1 else w.reshape(())
        self.saved = (x, wb)
        y = xp.clip(x, 0.0, math.inf)
        y += wb * xp.clip(x, -math.inf, 0.0)
        return y

    def backward(self, g: Any) -> tuple[Any, Any]:
        x, wb = self.saved
        xp = get_array_module(x)
        gx = gw = None
        if self.needs_input_grad[0]:
            m = _mask(x > 0, g.dtype)
            gx = g * (m + (1 - m) * wb)
        if self.needs_input_grad[1]:
            gneg = g * xp.clip(x, -math.inf, 0.0)
            if wb.ndim:  # sum over every dim but the channel dim
                axes = (0, *range(2, x.ndim))
                gw = gneg.sum(axis=axes).reshape(self.wshape)
            else:
                gw = gneg.sum().reshape(self.wshape)
        return gx, gw


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """Parametric ReLU (He et al. 2015): ``max(0, x) + weight * min(0, x)``, with a learned
    slope per channel (``weight`` of C elements, broadcast over dim 1 of ``(N, C, *)``) or
    one shared slope (``weight`` of 1 element). CS231n L6."""
    _check(input, "prelu")
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu(): argument 'weight' must be a Tensor, not {type(weight).__name__}")
    x, w = input.data, weight.data
    if w.ndim > 1:
        raise ValueError(
            f"prelu: expected weight to be a scalar or 1-D tensor, got shape {w.shape}"
        )
    if w.dtype != x.dtype:
        raise TypeError(f"prelu: input is {x.dtype} but weight is {w.dtype}; use one dtype")
    if w.size != 1:
        if x.ndim == 0:
            raise ValueError(
                f"prelu: a 0-d input takes a weight of 1 element, got {w.size} elements"
            )
        channels = x.shape[1] if x.ndim > 1 else 1
        if channels != w.size:
            raise ValueError(
                f"prelu: weight has {w.size} elements but the input has {channels} channels "
                f"(dim 1 of shape {tuple(x.shape)}); use 1 weight or one per channel"
            )
    return Prelu.apply(input, weight)


class Elu(Function):
    """``scale * x`` for ``x > 0``, ``scale * alpha * (exp(x) - 1)`` otherwise."""

    op_name = "elu"

    def forward(self, x: Any, alpha: float = 1.0, scale: float = 1.0) -> Any:
        xp = get_array_module(x)
        self.neg, self.scale = alpha * scale, scale
        self.saved = (x,)
        y = xp.expm1(xp.clip(x, -math.inf, 0.0))
        y *= self.neg
        pos = xp.clip(x, 0.0, math.inf)
        if scale != 1.0:
            pos *= scale
        y += pos
        return y

    def backward(self, g: Any) -> tuple[Any]:
        x = self.saved[0]
        xp = get_array_module(x)
        e = xp.exp(xp.clip(x, -math.inf, 0.0))  # d/dx alpha (e^x - 1) = alpha e^x
        e *= self.neg
        local = _pick(_mask(x > 0, g.dtype), self.scale, e)
        local *= g
        return (local,)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """Exponential linear unit (Clevert et al. 2015): ``x`` for ``x > 0``, else
    ``alpha * (exp(x) - 1)``; smooth, with mean activations closer to 0 (shape: any)."""
    _check(input, "elu")
    return _finish(input, Elu.apply(input, alpha=as_number(alpha, "elu", "alpha")), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """In-place ``elu``."""
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Scaled ELU (Klambauer et al. 2017): ``scale * elu(x, alpha)`` with the constants
    that keep activations at mean 0 and variance 1 through deep stacks (shape: any)."""
    _check(input, "selu")
    return _finish(input, Elu.apply(input, alpha=_SELU_ALPHA, scale=_SELU_SCALE), inplace)


# ---------------------------------------------------------------- smooth gates
_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_BETA = math.sqrt(2.0 / math.pi)
_TANH_KAPPA = 0.044715


class Gelu(Function):
    """``x * Phi(x)`` with ``Phi`` the standard normal CDF (or its tanh approximation)."""

    def forward(self, x: Any, approximate: str = "none") -> Any:
        xp = get_array_module(x)
        self.approximate, self.shape = approximate, x.shape
        x = _1d(x)
        if approximate == "tanh":
            inner = x * x
            inner *= _TANH_KAPPA
            inner += 1.0
            inner *= x
            inner *= _TANH_BETA
            t = xp.tanh(inner, out=inner)
            self.saved = (x, t)
            y = t + 1.0
            y *= x
            y *= 0.5
            return y.reshape(self.shape)
        cdf = _erf(x * _SQRT1_2)
        cdf += 1.0
        cdf *= 0.5
        self.saved = (x, cdf)
        with np.errstate(invalid="ignore"):  # -inf * 0: NaN, as PyTorch
            return (x * cdf).reshape(self.shape)

    def backward(self, g: Any) -> tuple[Any]:
        x, c = self.saved
        xp = get_array_module(x)
        if self.approximate == "tanh":
            # d/dx [x/2 (1 + t)] = (1 + t)/2 + x/2 (1 - t^2) beta (1 + 3 kappa x^2)
            right = x * x
            right *= 3 * _TANH_KAPPA
            right += 1.0
            right *= _TANH_BETA * 0.5
            right *= x
            right *= 1 - c * c
            right += 0.5 * (1 + c)
            right *= g
            return (right.reshape(self.shape),)
        # d/dx [x Phi(x)] = Phi(x) + x phi(x)
        pdf = x * x
        pdf *= -0.5
        xp.exp(pdf, out=pdf)
        pdf *= _INV_SQRT_2PI
        pdf *= x
        pdf += c
        pdf *= g
        return (pdf.reshape(self.shape),)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """Gaussian error linear unit (Hendrycks & Gimpel 2016): ``x * Phi(x)`` with ``Phi`` the
    normal CDF, ``Phi(x) = (1 + erf(x / sqrt 2)) / 2``; ``approximate='tanh'`` uses
    ``Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2``. The MLP nonlinearity of
    BERT, GPT and ViT (shape: any)."""
    _check(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate=approximate)


class Silu(Function):
    """``x * sigmoid(x)``."""

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        self.shape = x.shape
        with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x: sigmoid 0
            s = _1d(xp.exp(-x))
        s += 1.0
        xp.reciprocal(s, out=s)
        self.saved = (x, s)
        with np.errstate(invalid="ignore"):  # -inf * 0: NaN, as PyTorch
            return (x * s).reshape(self.shape)

    def backward(self, g: Any) -> tuple[Any]:
        x, s = self.saved
        # d/dx [x s(x)] = s + x s (1 - s) = s (1 + x (1 - s))
        local = 1 - s
        local *= x
        local += 1.0
        local *= s
        local *= g
        return (local.reshape(self.shape),)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Sigmoid-weighted linear unit, also called swish: ``x * sigmoid(x)`` (shape: any)."""
    _check(input, "silu")
    return _finish(input, Silu.apply(input), inplace)


class Softplus(Function):
    """``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold``."""

    def forward(self, x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
        xp = get_array_module(x)
        self.beta, self.threshold = beta, threshold
        self.saved = (x,)
        bx = _1d(x * beta)
        linear = bx > threshold  # log(1 + e^t) = t to working precision: skip the exp
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            soft = xp.log1p(xp.exp(bx, out=bx), out=bx)
            soft /= beta
        return xp.where(linear, x, soft).reshape(x.shape)

    def backward(self, g: Any) -> tuple[Any]:
        x = self.saved[0]
        xp = get_array_module(x)
        bx = _1d(x * self.beta)
        linear = bx > self.threshold
        with np.errstate(over="ignore", invalid="ignore"):
            # the derivative is sigmoid(beta x) = z / (1 + z), z = exp(beta x)
            z = xp.exp(bx, out=bx)
            s = z / (z + 1.0)
        return (xp.where(linear, g, g * s).reshape(x.shape),)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """``log(1 + exp(beta * x)) / beta``: a smooth ReLU whose derivative is the sigmoid;
    reverts to ``x`` where ``beta * x > threshold`` (shape: any)."""
    _check(input, "softplus")
    return Softplus.apply(
        input,
        beta=as_number(beta, "softplus", "beta"),
        threshold=as_number(threshold, "softplus", "threshold"),
    )


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """``1 / (1 + exp(-x))``; saturates, and its gradient is at most 1/4 (CS231n L6)."""
    _check(input, "sigmoid", floating=False)
    return _ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """``tanh(x)``: a zero-centred sigmoid, ``2 sigmoid(2x) - 1``; still saturates."""
    _check(input, "tanh", floating=False)
    return _ops.tanh(input)


# ---------------------------------------------------------------- softmax family
def _softmax_dim(ndim: int, op: str, stacklevel: int) -> int:
    """PyTorch's legacy choice when ``dim`` is omitted (deprecated there, with a warning)."""
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(
    input: Tensor,  # noqa: A002
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
) -> Tensor:
    """Probabilities along ``dim``: ``exp(x_i) / sum_j exp(x_j)`` (CS231n L3). ``dtype``
    casts the input first. See ``gradschool.softmax``."""
    _check(input, "softmax", floating=False)
    if dim is None:
        dim = _softmax_dim(input.data.ndim, "softmax", _stacklevel)
    return _ops.softmax(input, dim, dtype=dtype)


def log_softmax(
    input: Tensor,  # noqa: A002
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
) -> Tensor:
    """Log-probabilities along ``dim``, computed stably; pair it with ``nll_loss``."""
    _check(input, "log_softmax", floating=False)
    if dim is None:
        dim = _softmax_dim(input.data.ndim, "log_softmax", _stacklevel)
    return _ops.log_softmax(input, dim, dtype=dtype)


def softmin(
    input: Tensor,  # noqa: A002
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
) -> Tensor:
    """``softmax(-x)`` along ``dim``: the smallest input gets the largest probability."""
    _check(input, "softmin", floating=False)
    if dim is None:
        dim = _softmax_dim(input.data.ndim, "softmin", _stacklevel)
    return _ops.softmax(-input, dim, dtype=dtype)


# ---------------------------------------------------------------- maxout
class Maxout(Function):
    """The maximum over groups of ``k`` consecutive features along ``axis``; the gradient
    goes to the first maximal element of each group (as PyTorch's ``max(dim)``)."""

    def forward(self, x: Any, pieces: int = 2, axis: int = 1) -> Any:
        xp = get_array_module(x)
        self.shape, self.axis, self.pieces = x.shape, axis, pieces
        grouped = x.reshape(
            x.shape[:axis] + (x.shape[axis] // pieces, pieces) + x.shape[axis + 1 :]
        )
        # a running maximum over the k strided slices: NumPy reduces a short inner axis
        # (max(axis=-1) over 2..4 elements) an order of magnitude slower than this loop
        # over the pieces (k is a small hyperparameter, like a kernel size)
        y = xp.array(self._piece(grouped, 0), copy=True)
        for j in range(1, pieces):
            xp.maximum(y, self._piece(grouped, j), out=y)
        self.saved = (grouped, y)
        return y

    def _piece(self, grouped: Any, j: int) -> Any:
        return grouped[(slice(None),) * (self.axis + 1) + (j,)]

    def backward(self, g: Any) -> tuple[Any]:
        grouped, y = self.saved
        xp = get_array_module(g)
        gx = xp.empty(grouped.shape, dtype=g.dtype)
        taken = xp.zeros(y.shape, dtype=bool)  # groups whose winner is already found
        nan = bool(xp.isnan(y).any())
        for j in range(self.pieces):
            piece = self._piece(grouped, j)
            win = piece == y
            if nan:  # a NaN maximum came from a NaN element
                win |= xp.isnan(piece)
            win &= ~taken
            taken |= win
            xp.multiply(g, win, out=self._piece(gx, j))
        return (gx.reshape(self.shape),)


def maxout(input: Tensor, num_pieces: int, dim: int = 1) -> Tensor:  # noqa: A002
    """Maxout (Goodfellow et al. 2013; CS231n L6), beyond PyTorch: split the ``C`` features
    along ``dim`` into ``C / num_pieces`` groups of ``num_pieces`` consecutive features and
    keep each group's maximum. ``(N, C, *) -> (N, C / num_pieces, *)`` for ``dim=1``.

    After a linear layer with ``k * m`` outputs it is ``m`` units, each the max of ``k``
    linear functions: a learned convex piecewise-linear activation that generalises ReLU
    (``max(w1 x, 0 x)``) and leaky ReLU, and never saturates or dies.
    """
    _check(input, "maxout", floating=False)
    if isinstance(num_pieces, bool) or not isinstance(num_pieces, (int, np.integer)):
        raise TypeError(f"maxout: num_pieces must be an int, got {num_pieces!r}")
    if num_pieces < 1:
        raise ValueError(f"maxout: num_pieces must be positive, got {num_pieces}")
    x = input.data
    if x.ndim == 0:
        raise ValueError("maxout: expected a tensor with at least 1 dimension, got a 0-d tensor")
    axis = normalize_dim(int(dim), x.ndim, "maxout")
    size = x.shape[axis]
    if size % num_pieces:
        raise ValueError(
            f"maxout: the {size} features along dim {dim} of shape {tuple(x.shape)} cannot be "
            f"split into groups of num_pieces={num_pieces}"
        )
    return Maxout.apply(input, pieces=int(num_pieces), axis=axis)
