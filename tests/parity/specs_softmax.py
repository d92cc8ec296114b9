"""Parity rows for softmax, log_softmax and logsumexp (gradschool/ops/softmax.py)."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

import gradschool as gs

from .harness import OpSpec, Sample, shapes, values


def extreme(draw, shape):
    """Scores of magnitude up to 1e4: exp overflows unless the max is subtracted first."""
    return values(draw, shape, -1e4, 1e4)


def with_inf(draw, shape):
    """Scores with some -inf (masked classes), sometimes a whole slice of them, and
    sometimes a +inf (NaN rows in softmax, +inf in logsumexp, as PyTorch)."""
    x = values(draw, shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x[rng.random(shape) < 0.3] = -np.inf
    if x.ndim and shape[-1] and draw(st.booleans()):
        x[..., 0] = -np.inf
    if x.size and draw(st.integers(0, 3)) == 0:
        x.reshape(-1)[-1] = np.inf
    return x


def one_dim(data=values):
    """``(x, dim)`` with dim in range (0 or -1 for a 0-d tensor)."""

    def sample(draw):
        shape = draw(shapes())
        nd = max(len(shape), 1)
        return Sample([data(draw, shape), draw(st.integers(-nd, nd - 1))])

    return sample


def lse_dims(data=values):
    """``logsumexp(x, dim, keepdim)`` with dim an int or a non-empty tuple."""

    def sample(draw):
        shape = draw(shapes())
        nd = len(shape)
        if nd and draw(st.booleans()):
            dims = draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=1))
            dim = tuple(d - nd if draw(st.booleans()) else d for d in dims)
        else:
            dim = draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
        return Sample([data(draw, shape), dim], {"keepdim": draw(st.booleans())})

    return sample


SPECS = [
    OpSpec("softmax", gs.softmax, torch.softmax, one_dim()),
    OpSpec("softmax_method", lambda x, d: x.softmax(d), lambda x, d: x.softmax(d), one_dim()),
    OpSpec(
        "softmax_dtype",
        lambda x, d: gs.softmax(x, d, dtype=gs.float64),
        lambda x, d: torch.softmax(x, d, dtype=torch.float64),
        one_dim(),
    ),
    OpSpec("softmax_extreme", gs.softmax, torch.softmax, one_dim(extreme), gradcheck=False),
    OpSpec("softmax_inf", gs.softmax, torch.softmax, one_dim(with_inf), gradcheck=False),
    OpSpec("log_softmax", gs.log_softmax, torch.log_softmax, one_dim()),
    OpSpec(
        "log_softmax_method",
        lambda x, d: x.log_softmax(d),
        lambda x, d: x.log_softmax(d),
        one_dim(),
    ),
    OpSpec(
        "log_softmax_dtype",
        lambda x, d: gs.log_softmax(x, d, dtype=gs.float64),
        lambda x, d: torch.log_softmax(x, d, dtype=torch.float64),
        one_dim(),
    ),
    OpSpec(
        "log_softmax_extreme", gs.log_softmax, torch.log_softmax, one_dim(extreme), gradcheck=False
    ),
    OpSpec(
        "log_softmax_inf",
        gs.log_softmax,
        torch.log_softmax,
        one_dim(with_inf),
        gradcheck=False,
    ),
    OpSpec("logsumexp", gs.logsumexp, torch.logsumexp, lse_dims()),
    OpSpec(
        "logsumexp_method",
        lambda x, d, keepdim: x.logsumexp(d, keepdim),
        lambda x, d, keepdim: x.logsumexp(d, keepdim),
        lse_dims(),
    ),
    OpSpec("logsumexp_extreme", gs.logsumexp, torch.logsumexp, lse_dims(extreme), gradcheck=False),
    OpSpec("logsumexp_inf", gs.logsumexp, torch.logsumexp, lse_dims(with_inf), gradcheck=False),
]
