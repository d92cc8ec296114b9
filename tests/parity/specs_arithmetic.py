"""Parity rows for the elementwise ops (gradschool/ops/arithmetic.py)."""

from __future__ import annotations

import torch

import gradschool as gs

from .harness import Const, OpSpec, Sample, broadcastable, shapes, values


def binary(low: float = -2.0, high: float = 2.0, away_a: float = 0.0, away_b: float = 0.0):
    def sample(draw):
        (sa, sb), _ = draw(broadcastable(2))
        return Sample(
            [
                values(draw, sa, low, high, away_from_zero=away_a),
                values(draw, sb, low, high, away_from_zero=away_b),
            ]
        )

    return sample


def unary(low: float = -2.0, high: float = 2.0, away: float = 0.0, **kwargs):
    def sample(draw):
        return Sample([values(draw, draw(shapes()), low, high, away_from_zero=away)], dict(kwargs))

    return sample


def with_scalar(scalar: float, low: float = -2.0, high: float = 2.0, away: float = 0.0):
    def sample(draw):
        return Sample([values(draw, draw(shapes()), low, high, away_from_zero=away), scalar])

    return sample


def tensors_equal_ties(draw):
    """maximum/minimum with some exactly equal elements, where the gradient is split."""
    shape = draw(shapes(min_dims=1))
    a = values(draw, shape)
    b = a.copy()
    b.reshape(-1)[::2] += 0.5
    return Sample([a, b])


def where_sample(draw):
    (sc, sa, sb), _ = draw(broadcastable(3))
    return Sample([Const(values(draw, sc) > 0), values(draw, sa), values(draw, sb)])


def op(name, gs_fn, torch_fn, sample, **kw):
    return OpSpec(name, gs_fn, torch_fn, sample, **kw)


SPECS = [
    op("add", lambda a, b: a + b, lambda a, b: a + b, binary()),
    op(
        "add_alpha",
        lambda a, b: gs.add(a, b, alpha=2.5),
        lambda a, b: torch.add(a, b, alpha=2.5),
        binary(),
    ),
    op("radd_scalar", lambda a, s: s + a, lambda a, s: s + a, with_scalar(1.5)),
    op("sub", lambda a, b: a - b, lambda a, b: a - b, binary()),
    op("rsub_scalar", lambda a, s: s - a, lambda a, s: s - a, with_scalar(3.0)),
    op("mul", lambda a, b: a * b, lambda a, b: a * b, binary()),
    op("mul_scalar", lambda a, s: a * s, lambda a, s: a * s, with_scalar(-0.75)),
    op("div", lambda a, b: a / b, lambda a, b: a / b, binary(away_b=0.5)),
    op("rdiv_scalar", lambda a, s: s / a, lambda a, s: s / a, with_scalar(2.0, away=0.5)),
    op("pow_tensor", lambda a, b: a**b, lambda a, b: a**b, binary(0.2, 2.0)),
    op("pow_scalar", lambda a, s: a**s, lambda a, s: a**s, with_scalar(3.0)),
    op(
        "pow_frac",
        lambda a, s: gs.pow(a, s),
        lambda a, s: torch.pow(a, s),
        with_scalar(0.5, 0.2, 2.0),
    ),
    op("rpow_scalar", lambda a, s: s**a, lambda a, s: s**a, with_scalar(1.7)),
    op("neg", lambda a: -a, lambda a: -a, unary()),
    op("abs", gs.abs, torch.abs, unary(away=0.05)),
    op("exp", gs.exp, torch.exp, unary()),
    op("log", gs.log, torch.log, unary(0.1, 3.0)),
    op("log1p", gs.log1p, torch.log1p, unary(-0.8, 3.0)),
    op("sqrt", gs.sqrt, torch.sqrt, unary(0.1, 3.0)),
    op("rsqrt", gs.rsqrt, torch.rsqrt, unary(0.1, 3.0)),
    op("square", gs.square, torch.square, unary()),
    op("reciprocal", gs.reciprocal, torch.reciprocal, unary(away=0.3)),
    op("sin", gs.sin, torch.sin, unary(-4, 4)),
    op("cos", gs.cos, torch.cos, unary(-4, 4)),
    op("tanh", gs.tanh, torch.tanh, unary(-4, 4)),
    op("sigmoid", gs.sigmoid, torch.sigmoid, unary(-6, 6)),
    op("sigmoid_extreme", gs.sigmoid, torch.sigmoid, unary(-1e4, 1e4), gradcheck=False),
    op("relu", gs.relu, torch.relu, unary(away=0.05)),
    op(
        "clamp",
        lambda a: gs.clamp(a, -0.5, 0.7),
        lambda a: torch.clamp(a, -0.5, 0.7),
        unary(away=0.0),
    ),
    op("clamp_min", lambda a: a.clamp(min=0.3), lambda a: a.clamp(min=0.3), unary()),
    op("clamp_max", lambda a: a.clamp(max=0.3), lambda a: a.clamp(max=0.3), unary()),
    op("maximum", gs.maximum, torch.maximum, binary()),
    op("minimum", gs.minimum, torch.minimum, binary()),
    op("maximum_ties", gs.maximum, torch.maximum, tensors_equal_ties, gradcheck=False),
    op("minimum_ties", gs.minimum, torch.minimum, tensors_equal_ties, gradcheck=False),
    op("where", gs.where, torch.where, where_sample),
    op("eq", lambda a, b: a == b, lambda a, b: a == b, binary(), grad=False),
    op("ne", lambda a, b: a != b, lambda a, b: a != b, binary(), grad=False),
    op("lt", lambda a, b: a < b, lambda a, b: a < b, binary(), grad=False),
    op("le", lambda a, b: a <= b, lambda a, b: a <= b, binary(), grad=False),
    op("gt", lambda a, b: a > b, lambda a, b: a > b, binary(), grad=False),
    op("ge", lambda a, b: a >= b, lambda a, b: a >= b, binary(), grad=False),
    op(
        "logical_and",
        lambda a, b: (a > 0) & (b > 0),
        lambda a, b: (a > 0) & (b > 0),
        binary(),
        grad=False,
    ),
    op(
        "logical_or",
        lambda a, b: (a > 0) | (b > 0),
        lambda a, b: (a > 0) | (b > 0),
        binary(),
        grad=False,
    ),
    op(
        "logical_xor",
        lambda a, b: gs.logical_xor(a > 0, b > 0),
        lambda a, b: torch.logical_xor(a > 0, b > 0),
        binary(),
        grad=False,
    ),
    op("logical_not", lambda a: ~(a > 0), lambda a: ~(a > 0), unary(), grad=False),
]
