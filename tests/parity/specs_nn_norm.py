"""Parity rows for normalisation and dropout (gradschool/nn/functional/normalization.py,
dropout.py).

Running statistics are passed as ``Stats`` holders, which the harness hands through
untouched: each call builds them as fresh tensors in the input's dtype, so float32 runs do
not mix dtypes and repeated calls (gradcheck) start from the same statistics. Their in-place
updates are compared with PyTorch's in tests/nn/test_normalization.py. Inputs use
``harness.distinct`` values (no near-ties), so no group has a tiny variance that would turn
float32 rounding into large errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import strategies as st

import gradschool as gs
import gradschool.nn.functional as F

from .harness import OpSpec, Sample, distinct, values


@dataclass
class Stats:
    """Running mean and variance, made into tensors of the input's dtype at call time."""

    mean: np.ndarray
    var: np.ndarray

    def gs(self, like):
        return gs.tensor(self.mean, dtype=like.dtype), gs.tensor(self.var, dtype=like.dtype)

    def torch(self, like):
        return torch.tensor(self.mean, dtype=like.dtype), torch.tensor(self.var, dtype=like.dtype)


def _stats(draw, c):
    return Stats(values(draw, (c,)), values(draw, (c,), 0.5, 2.0))


def _optional(draw, shape):
    """A parameter array of ``shape``, or None (layers without affine / without bias)."""
    return values(draw, shape) if draw(st.booleans()) else None


def _nc_shape(draw, min_dims=2, max_dims=4, max_side=3, min_values=1):
    """``(N, C, *spatial)`` with every side >= 1 and at least ``min_values`` values per
    channel (``N * prod(spatial)``)."""
    nd = draw(st.integers(min_dims, max_dims))
    shape = [draw(st.integers(1, max_side)) for _ in range(nd)]
    while shape[0] * math.prod(shape[2:]) < min_values:
        shape[0] += 1
    return tuple(shape)


# ---------------------------------------------------------------- batch norm
def batch_norm_sample(training):
    def sample(draw):
        shape = _nc_shape(draw, min_values=2 if training else 1)
        c = shape[1]
        stats = _stats(draw, c) if (not training or draw(st.booleans())) else None
        kwargs = {"training": training, "eps": draw(st.sampled_from([1e-5, 1e-3, 0.1]))}
        if draw(st.booleans()):
            kwargs["momentum"] = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
        x = distinct(draw, shape)
        return Sample([x, stats, _optional(draw, (c,)), _optional(draw, (c,))], kwargs)

    return sample


def _bn(fn, lib):
    def call(x, stats, w, b, **kw):
        rm, rv = (None, None) if stats is None else getattr(stats, lib)(x)
        return fn(x, rm, rv, w, b, **kw)

    return call


# ---------------------------------------------------------------- layer, group, instance norm
def layer_norm_sample(draw):
    nd = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    k = draw(st.integers(1, nd))
    norm = shape[nd - k :]
    normalized = norm[0] if k == 1 and draw(st.booleans()) else norm
    x = distinct(draw, shape)
    args = [x, normalized, _optional(draw, norm), _optional(draw, norm)]
    return Sample(args, {"eps": draw(st.sampled_from([1e-5, 0.1]))})


def torch_layer_norm(x, normalized_shape, *args, **kwargs):
    """PyTorch's functional wants a tuple; gradschool's, like the module, also takes an int."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    return TF.layer_norm(x, normalized_shape, *args, **kwargs)


def torch_group_norm(x, num_groups, weight=None, bias=None, **kwargs):
    """PyTorch 2.13's group_norm backward fails ("tensor does not have a device") with a bias
    but no weight; a constant weight of ones is the same function."""
    if weight is None and bias is not None:
        weight = torch.ones(x.shape[1], dtype=x.dtype)
    return TF.group_norm(x, num_groups, weight, bias, **kwargs)


def group_norm_sample(draw):
    groups = draw(st.integers(1, 3))
    per = draw(st.integers(1, 2))
    n = draw(st.integers(1, 3))
    spatial = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2)))]
    c = groups * per
    if n * per * math.prod(spatial) < 2:  # PyTorch refuses a single value per "channel"
        n = 2
    x = distinct(draw, (n, c, *spatial))
    return Sample([x, groups, _optional(draw, (c,)), _optional(draw, (c,))])


def instance_norm_sample(use_input_stats):
    def sample(draw):
        nd = draw(st.integers(3, 4))
        shape = [draw(st.integers(1, 3)) for _ in range(nd)]
        if math.prod(shape[2:]) < 2:
            shape[2] = 2
        c = shape[1]
        stats = _stats(draw, c) if (not use_input_stats or draw(st.booleans())) else None
        kwargs = {"use_input_stats": use_input_stats}
        if draw(st.booleans()):
            kwargs["momentum"] = 0.3
        x = distinct(draw, tuple(shape))
        return Sample([x, stats, _optional(draw, (c,)), _optional(draw, (c,))], kwargs)

    return sample


def _in(fn, lib):
    def call(x, stats, w, b, **kw):
        rm, rv = (None, None) if stats is None else getattr(stats, lib)(x)
        return fn(x, rm, rv, w, b, **kw)

    return call


def lrn_sample(draw):
    shape = _nc_shape(draw, min_dims=3, max_dims=5, max_side=3)
    shape = (shape[0], draw(st.integers(1, 6)), *shape[2:])
    kwargs = {
        "alpha": draw(st.sampled_from([1e-4, 0.3, 1.0])),
        "beta": draw(st.sampled_from([0.75, 0.5, 1.3])),
        "k": draw(st.sampled_from([1.0, 2.0])),
    }
    return Sample([values(draw, shape), draw(st.integers(1, 7))], kwargs)


# ---------------------------------------------------------------- dropout (deterministic cases)
def dropout_sample(p_values, training_values, min_dims=2):
    def sample(draw):
        shape = _nc_shape(draw, min_dims=min_dims, max_dims=4)
        kwargs = {
            "p": draw(st.sampled_from(p_values)),
            "training": draw(st.sampled_from(training_values)),
        }
        return Sample([values(draw, shape)], kwargs)

    return sample


SPECS = [
    OpSpec(
        "batch_norm_train",
        _bn(F.batch_norm, "gs"),
        _bn(TF.batch_norm, "torch"),
        batch_norm_sample(True),
        atol32=1e-4,
    ),
    OpSpec(
        "batch_norm_eval",
        _bn(F.batch_norm, "gs"),
        _bn(TF.batch_norm, "torch"),
        batch_norm_sample(False),
    ),
    OpSpec(
        "batch_norm_graph_train",
        _bn(F.batch_norm_graph, "gs"),
        _bn(TF.batch_norm, "torch"),
        batch_norm_sample(True),
        atol32=1e-4,
    ),
    OpSpec(
        "batch_norm_graph_eval",
        _bn(F.batch_norm_graph, "gs"),
        _bn(TF.batch_norm, "torch"),
        batch_norm_sample(False),
    ),
    OpSpec("layer_norm", F.layer_norm, torch_layer_norm, layer_norm_sample, atol32=1e-4),
    OpSpec("group_norm", F.group_norm, torch_group_norm, group_norm_sample, atol32=1e-4),
    OpSpec(
        "instance_norm",
        _in(F.instance_norm, "gs"),
        _in(TF.instance_norm, "torch"),
        instance_norm_sample(True),
        atol32=1e-4,
    ),
    OpSpec(
        "instance_norm_running",
        _in(F.instance_norm, "gs"),
        _in(TF.instance_norm, "torch"),
        instance_norm_sample(False),
    ),
    OpSpec("local_response_norm", F.local_response_norm, TF.local_response_norm, lrn_sample),
    OpSpec(
        "dropout_identity",
        F.dropout,
        TF.dropout,
        dropout_sample([0.0, 0.3, 1.0], [False]),
    ),
    OpSpec("dropout_p0_p1", F.dropout, TF.dropout, dropout_sample([0.0, 1.0], [True, False])),
    OpSpec(
        "dropout2d_p0_p1", F.dropout2d, TF.dropout2d, dropout_sample([0.0, 1.0], [True, False], 4)
    ),
]
