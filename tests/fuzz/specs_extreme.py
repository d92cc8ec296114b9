"""Rows of extreme values for the elementwise ops and activations: every element drawn from
ordinary values, exact zeros, tiny and huge magnitudes.

A magnitude is ``m * 10**e`` with ``m`` in [1, 2) and ``e`` a multiple of 10 up to 30: the
same numbers in float32 and float64 (all normal in float32), and no result of a product or
quotient of two of them lands within a factor of 2.5 of float32's overflow (3.4e38), so
no case sits on the knife-edge between a finite answer and inf.

What is not compared, by design:

- Reductions and matrix products are left out: with 1e30 beside 1 the sum depends on the
  order of the additions, which PyTorch does not fix (SIMD width, thread count).
- Zeros are +0.0 only: 1/x and friends turn a zero's sign into an infinity's, and no
  sign of zero a special function returns is compared (``assert_allclose`` takes
  -0.0 == 0.0 anyway).
- The cotangent is +-[1, 2) (``check.cotangent``), so it cannot move a gradient across
  the overflow threshold either.
- ``nonfinite_ok`` rows (float32 transcendentals) take NaN vs +-inf as equal: which of the
  two an overflowing float32 kernel returns depends on PyTorch's vector kernel for the CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as TF  # noqa: N812
from hypothesis import strategies as st

import gradschool as gs
import gradschool.nn.functional as F
from tests.fuzz.check import FuzzSpec
from tests.parity.harness import Sample, broadcastable, shapes


def extreme(
    draw: Any,
    shape: tuple[int, ...],
    *,
    negative: bool = True,
    zero: bool = True,
    tiny: tuple[int, ...] = (-30, -20, -10),
    huge: tuple[int, ...] = (10, 20, 30),
) -> np.ndarray:
    """Values of ``shape``: about a quarter each ordinary (|x| < 2), tiny, huge and zero (as
    allowed), random signs where ``negative``."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kinds = rng.integers(0, 4, size=shape)
    x = rng.uniform(0.0, 2.0, size=shape)
    exps = np.zeros(shape)
    for kind, pool in ((1, tiny), (2, huge)):
        chosen = kinds == kind
        if pool:
            exps[chosen] = rng.choice(np.asarray(pool, dtype=np.float64), size=int(chosen.sum()))
    mant = rng.uniform(1.0, 2.0, size=shape)
    x = np.where((kinds == 1) | (kinds == 2), mant * 10.0**exps, x)
    if zero:
        x[kinds == 3] = 0.0
    else:
        x[(kinds == 3) & (x < 0.05)] += 0.5  # ordinary, but away from 0
    if negative:
        x *= rng.choice([-1.0, 1.0], size=shape)
    return np.asarray(x)


def unary(**kw: Any) -> Callable[[Any], Sample]:
    def sample(draw: Any) -> Sample:
        return Sample([extreme(draw, draw(shapes(max_side=5)), **kw)])

    return sample


def binary(
    kw_a: dict[str, Any] | None = None, kw_b: dict[str, Any] | None = None, ties: bool = False
) -> Callable[[Any], Sample]:
    def sample(draw: Any) -> Sample:
        (sa, sb), _ = draw(broadcastable(2, max_side=5))
        a, b = extreme(draw, sa, **(kw_a or {})), extreme(draw, sb, **(kw_b or {}))
        if ties and sa == sb and a.size:
            b.reshape(-1)[::2] = a.reshape(-1)[::2]  # exact ties: the gradient is split
        return Sample([a, b])

    return sample


def row(
    name: str,
    gs_fn: Callable[..., Any],
    torch_fn: Callable[..., Any],
    sample: Callable[[Any], Sample],
    transcendental: bool = False,
) -> FuzzSpec:
    return FuzzSpec(
        "extreme_" + name,
        gs_fn,
        torch_fn,
        sample,
        gradcheck=False,
        nonfinite_ok=transcendental,
        unit_cotangent=True,
    )


POS = {"negative": False}
NONZERO = {"zero": False}
MODEST = {"huge": (10,)}  # where a cube of the input must stay finite in float32
SPECS = [
    row("add", lambda a, b: a + b, lambda a, b: a + b, binary()),
    row("sub", lambda a, b: a - b, lambda a, b: a - b, binary()),
    row("mul", lambda a, b: a * b, lambda a, b: a * b, binary()),
    row("div", lambda a, b: a / b, lambda a, b: a / b, binary(kw_b=NONZERO)),
    row("neg", lambda a: -a, lambda a: -a, unary()),
    row("abs", gs.abs, torch.abs, unary()),
    row("square", gs.square, torch.square, unary()),
    row("pow_scalar", lambda a: a**3, lambda a: a**3, unary()),
    row("pow_tensor", gs.pow, torch.pow, binary(POS, {"huge": ()}), transcendental=True),
    row("reciprocal", gs.reciprocal, torch.reciprocal, unary(**NONZERO)),
    row("exp", gs.exp, torch.exp, unary(), transcendental=True),
    row("log", gs.log, torch.log, unary(**POS, **NONZERO), transcendental=True),
    row("log1p", gs.log1p, torch.log1p, unary(**POS), transcendental=True),
    row("sqrt", gs.sqrt, torch.sqrt, unary(**POS)),
    row("rsqrt", gs.rsqrt, torch.rsqrt, unary(**POS, **NONZERO)),
    row("sin", gs.sin, torch.sin, unary(), transcendental=True),
    row("cos", gs.cos, torch.cos, unary(), transcendental=True),
    row("tanh", gs.tanh, torch.tanh, unary(), transcendental=True),
    row("sigmoid", gs.sigmoid, torch.sigmoid, unary(), transcendental=True),
    row("relu", gs.relu, torch.relu, unary()),
    row("clamp", lambda a: a.clamp(-1e20, 1e10), lambda a: a.clamp(-1e20, 1e10), unary()),
    row("maximum", gs.maximum, torch.maximum, binary(ties=True)),
    row("minimum", gs.minimum, torch.minimum, binary(ties=True)),
    row(
        "where", lambda a, b: gs.where(a > b, a, b), lambda a, b: torch.where(a > b, a, b), binary()
    ),
    row("relu6", F.relu6, TF.relu6, unary()),
    row("hardtanh", F.hardtanh, TF.hardtanh, unary()),
    row("leaky_relu", lambda a: F.leaky_relu(a, 0.2), lambda a: TF.leaky_relu(a, 0.2), unary()),
    row("elu", F.elu, TF.elu, unary(), transcendental=True),
    row("selu", F.selu, TF.selu, unary(), transcendental=True),
    row("gelu", F.gelu, TF.gelu, unary(), transcendental=True),
    row(
        "gelu_tanh",
        lambda a: F.gelu(a, approximate="tanh"),
        lambda a: TF.gelu(a, approximate="tanh"),
        unary(**MODEST),
        transcendental=True,
    ),
    row("silu", F.silu, TF.silu, unary(), transcendental=True),
    row("softplus", F.softplus, TF.softplus, unary(), transcendental=True),
    row("nn_sigmoid", F.sigmoid, TF.sigmoid, unary(), transcendental=True),
    row("nn_tanh", F.tanh, TF.tanh, unary(), transcendental=True),
]
