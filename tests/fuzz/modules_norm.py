"""Layer rows: batch norm (1d/2d/3d), instance norm (1d/2d/3d), layer norm, group norm and
local response norm, in train and eval mode, with and without affine parameters and
running statistics (``momentum=None``: the cumulative average), once or twice in a row.

Inputs are ``harness.distinct`` values (no channel of near-equal values, whose tiny
variance would turn float32 rounding into large differences), as in specs_nn_norm.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st

import gradschool.nn as nn
from tests.fuzz.layers import Layer, LayerCase, targets
from tests.parity import specs_nn_norm as nm
from tests.parity.harness import distinct

T = torch.nn


def _norm_kwargs(draw) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"eps": draw(st.sampled_from([1e-5, 1e-3, 0.1]))}
    kwargs["momentum"] = draw(st.sampled_from([0.1, 0.5, 1.0, None]))
    kwargs["affine"] = draw(st.booleans())
    kwargs["track_running_stats"] = draw(st.booleans())
    return kwargs


def batch_norm_case(spatial: tuple[int, ...]) -> Callable[[Any], LayerCase]:
    """(N, C, *spatial dims) with ``len(spatial)`` drawn from ``spatial``; training (or eval
    without running statistics, which normalises by the batch) needs 2+ values a channel."""

    def sample(draw: Any) -> LayerCase:
        nd = draw(st.sampled_from(spatial))
        c = draw(st.integers(1, 3))
        shape = [draw(st.integers(1, 3)), c] + [draw(st.integers(1, 3)) for _ in range(nd)]
        while shape[0] * math.prod(shape[2:]) < 2:
            shape[0] += 1
        kwargs = {"num_features": c, **_norm_kwargs(draw)}
        x = distinct(draw, tuple(shape))
        return LayerCase(kwargs, [x], draw(st.booleans()), draw(st.integers(1, 2)))

    return sample


def instance_norm_case(nd: int) -> Callable[[Any], LayerCase]:
    """(N, C, *nd spatial dims) or unbatched (C, ...), at least 2 positions per instance."""

    def sample(draw: Any) -> LayerCase:
        c = draw(st.integers(1, 3))
        spatial = [draw(st.integers(1, 3)) for _ in range(nd)]
        if math.prod(spatial) < 2:
            spatial[0] = 2
        lead = (draw(st.integers(1, 3)), c) if draw(st.integers(0, 3)) else (c,)
        kwargs = {"num_features": c, **_norm_kwargs(draw)}
        x = distinct(draw, lead + tuple(spatial))
        return LayerCase(kwargs, [x], draw(st.booleans()), draw(st.integers(1, 2)))

    return sample


def layer_norm_case(draw: Any) -> LayerCase:
    s = nm.layer_norm_sample(draw)
    x, normalized = s.args[0], s.args[1]
    kwargs = {
        "normalized_shape": normalized,
        "eps": s.kwargs["eps"],
        "elementwise_affine": draw(st.booleans()),
        "bias": draw(st.booleans()),
    }
    return LayerCase(kwargs, [x], draw(st.booleans()))


def group_norm_case(draw: Any) -> LayerCase:
    s = nm.group_norm_sample(draw)
    x, groups = s.args[0], s.args[1]
    kwargs = {"num_groups": groups, "num_channels": x.shape[1], "affine": draw(st.booleans())}
    kwargs["eps"] = draw(st.sampled_from([1e-5, 0.1]))
    return LayerCase(kwargs, [x], draw(st.booleans()))


def lrn_case(draw: Any) -> LayerCase:
    s = nm.lrn_sample(draw)
    return LayerCase({"size": s.args[1], **s.kwargs}, [s.args[0]], draw(st.booleans()))


NORM_TOL = {"atol32": 1e-4}  # as the parity rows: a division by a float32 standard deviation
LAYERS = [
    Layer("BatchNorm1d", nn.BatchNorm1d, T.BatchNorm1d, batch_norm_case((0, 1)), **NORM_TOL),
    Layer("BatchNorm2d", nn.BatchNorm2d, T.BatchNorm2d, batch_norm_case((2,)), **NORM_TOL),
    Layer("BatchNorm3d", nn.BatchNorm3d, T.BatchNorm3d, batch_norm_case((3,)), **NORM_TOL),
    Layer("InstanceNorm1d", nn.InstanceNorm1d, T.InstanceNorm1d, instance_norm_case(1), **NORM_TOL),
    Layer("InstanceNorm2d", nn.InstanceNorm2d, T.InstanceNorm2d, instance_norm_case(2), **NORM_TOL),
    Layer("InstanceNorm3d", nn.InstanceNorm3d, T.InstanceNorm3d, instance_norm_case(3), **NORM_TOL),
    Layer("LayerNorm", nn.LayerNorm, T.LayerNorm, layer_norm_case, **NORM_TOL),
    Layer("GroupNorm", nn.GroupNorm, T.GroupNorm, group_norm_case, **NORM_TOL),
    Layer("LocalResponseNorm", nn.LocalResponseNorm, T.LocalResponseNorm, lrn_case),
]

TARGETS = targets(LAYERS)
