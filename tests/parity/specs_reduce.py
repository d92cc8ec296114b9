"""Parity rows for the reductions (gradschool/ops/reduce.py)."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st

import gradschool as gs

from .harness import OpSpec, Sample, broadcastable, distinct, integers, shapes, values


def unique(draw, shape):
    """``harness.distinct`` as an array also for shape () (where it gives a NumPy scalar)."""
    return np.asarray(distinct(draw, shape))


def ties(draw, shape):
    """Few distinct values, so that maxima are tied."""
    return integers(draw, shape, 0, 3).astype(np.float64)


def with_zeros(draw, shape):
    """Values in [-1.5, 1.5) with about a third of them exactly 0 (prod's hard case)."""
    x = values(draw, shape, -1.5, 1.5)
    x[integers(draw, shape, 0, 3) == 0] = 0.0
    return x


def reduction(mode, data=values, keepdim=True, nonempty=False, max_side=4):
    """A sampler for ``op(x, dim=..., keepdim=...)``.

    ``mode``: "all" (no dim argument), "none" (``dim=None`` passed), "int", "tuple" (a
    non-empty tuple, negative dims included), "tuple0" (may be empty). ``nonempty`` keeps the
    reduced dimensions non-empty (max and friends have no identity).
    """

    def sample(draw):
        shape = list(draw(shapes(max_side=max_side)))
        nd = len(shape)
        kwargs = {}
        reduced = list(range(nd))
        if mode == "none":
            kwargs["dim"] = None
        elif mode == "int":
            d = draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
            kwargs["dim"] = d
            reduced = [d % nd] if nd else []
        elif mode in ("tuple", "tuple0"):
            if nd == 0:
                kwargs["dim"] = (draw(st.sampled_from([0, -1])),)
            else:
                low = 0 if mode == "tuple0" else 1
                dims = draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=low))
                kwargs["dim"] = tuple(d - nd if draw(st.booleans()) else d for d in dims)
                reduced = dims
        if keepdim and mode != "all":
            kwargs["keepdim"] = draw(st.booleans())
        if nonempty:
            for d in reduced:
                shape[d] = max(shape[d], 1)
        return Sample([np.asarray(data(draw, tuple(shape)))], kwargs)

    return sample


def moments(mode, gradcheck_safe=True):
    """``var``/``std`` samples: dim, keepdim and ``correction``; when ``gradcheck_safe``, the
    number of reduced elements always exceeds the correction (no 0/0)."""
    base = reduction(mode)

    def sample(draw):
        s = base(draw)
        x, dim = s.args[0], s.kwargs.get("dim")
        axes = range(x.ndim) if dim is None or x.ndim == 0 else np.atleast_1d(dim) % x.ndim
        n = math.prod(x.shape[a] for a in axes) if x.ndim else 1
        c = draw(st.sampled_from([0, 1, 2]))
        if gradcheck_safe and n <= c:
            c = 0
        s.kwargs["correction"] = c
        return s

    return sample


def legacy_unbiased(draw):
    """``var(x, dim, unbiased, keepdim)``, the older positional spelling."""
    shape = draw(shapes(min_dims=1, min_side=2))
    d = draw(st.integers(-len(shape), len(shape) - 1))
    return Sample([values(draw, shape), d, draw(st.booleans()), draw(st.booleans())])


def max_dim(data):
    """``x, dim`` (positional) with the reduced dimension non-empty, and keepdim."""

    def sample(draw):
        shape = list(draw(shapes()))
        nd = len(shape)
        d = draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
        if nd:
            shape[d] = max(shape[d], 1)
        x = np.asarray(data(draw, tuple(shape)))
        return Sample([x, d], {"keepdim": draw(st.booleans())})

    return sample


def nonempty_all(data):
    def sample(draw):
        return Sample([np.asarray(data(draw, draw(shapes(min_side=1))))])

    return sample


def binary(draw):
    (sa, sb), _ = draw(broadcastable(2))
    return Sample([values(draw, sa), values(draw, sb)])


def int_or_bool(draw, shape):
    if draw(st.booleans()):
        return integers(draw, shape, -5, 5)
    return integers(draw, shape, 0, 2).astype(bool)


def norm_sample(p_values, data=values, fro_dims=False):
    """``norm(x, p, dim, keepdim)`` with p drawn from ``p_values``; dim is None, an int or a
    tuple (at most two dims where p is 'fro'); reduced dims non-empty for p = +-inf."""

    def sample(draw):
        p = draw(st.sampled_from(p_values))
        shape = list(draw(shapes()))
        nd = len(shape)
        kind = draw(st.sampled_from(["none", "int", "tuple"] if nd else ["none", "int"]))
        if kind == "none":
            dim, reduced = None, list(range(nd))
        elif kind == "int":
            dim = draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
            reduced = [dim % nd] if nd else []
        else:
            cap = 2 if p == "fro" or fro_dims else nd
            reduced = draw(st.lists(st.integers(0, nd - 1), unique=True, min_size=1, max_size=cap))
            dim = tuple(reduced)
        if isinstance(p, float) and math.isinf(p):
            for d in reduced:
                shape[d] = max(shape[d], 1)
        kwargs = {"p": p, "dim": dim, "keepdim": draw(st.booleans())}
        return Sample([np.asarray(data(draw, tuple(shape)))], kwargs)

    return sample


def zero_slices(draw, shape):
    """Values with whole rows zeroed, and sometimes everything zero (the norm's kink)."""
    x = values(draw, shape)
    if x.ndim and draw(st.booleans()):
        x[..., : draw(st.integers(0, shape[-1]))] = 0.0
    elif draw(st.booleans()):
        x[...] = 0.0
    return x


def cumsum_sample(data=values):
    def sample(draw):
        shape = draw(shapes())
        nd = max(len(shape), 1)
        return Sample([np.asarray(data(draw, shape)), draw(st.integers(-nd, nd - 1))])

    return sample


def bools(draw, shape):
    return values(draw, shape) > -0.5


INF = float("inf")

SPECS = [
    # sum
    OpSpec("sum_all", gs.sum, torch.sum, reduction("all")),
    OpSpec("sum_none_keepdim", gs.sum, torch.sum, reduction("none")),
    OpSpec("sum_dim", gs.sum, torch.sum, reduction("int")),
    OpSpec("sum_dims", gs.sum, torch.sum, reduction("tuple0")),
    OpSpec(
        "sum_method",
        lambda x, dim, keepdim: x.sum(dim, keepdim),
        lambda x, dim, keepdim: x.sum(dim, keepdim),
        reduction("int"),
    ),
    OpSpec(
        "sum_dtype",
        lambda x, **k: gs.sum(x, dtype=gs.float64, **k),
        lambda x, **k: torch.sum(x, dtype=torch.float64, **k),
        reduction("tuple"),
    ),
    OpSpec("sum_int", gs.sum, torch.sum, reduction("tuple0", data=int_or_bool), grad=False),
    # mean
    OpSpec("mean_all", gs.mean, torch.mean, reduction("all")),
    OpSpec("mean_dim", lambda x, **k: x.mean(**k), lambda x, **k: x.mean(**k), reduction("int")),
    OpSpec("mean_dims", gs.mean, torch.mean, reduction("tuple")),
    OpSpec(
        "mean_dtype",
        lambda x, **k: gs.mean(x, dtype=gs.float64, **k),
        lambda x, **k: torch.mean(x, dtype=torch.float64, **k),
        reduction("int"),
    ),
    # prod (PyTorch takes a single int dim)
    OpSpec("prod_all", gs.prod, torch.prod, reduction("all", lambda d, s: values(d, s, -1.5, 1.5))),
    OpSpec(
        "prod_dim",
        lambda x, **k: x.prod(**k),
        lambda x, **k: x.prod(**k),
        reduction("int", lambda d, s: values(d, s, -1.5, 1.5)),
    ),
    OpSpec("prod_zeros_all", gs.prod, torch.prod, reduction("all", with_zeros)),
    OpSpec("prod_zeros_dim", gs.prod, torch.prod, reduction("int", with_zeros)),
    OpSpec(
        "prod_int", gs.prod, torch.prod, reduction("int", data=int_or_bool, max_side=3), grad=False
    ),
    # max / min
    OpSpec("max_all", gs.max, torch.max, nonempty_all(unique)),
    OpSpec("max_all_ties", gs.max, torch.max, nonempty_all(ties), gradcheck=False),
    OpSpec("max_dim", gs.max, torch.max, max_dim(unique)),
    OpSpec("max_dim_ties", gs.max, torch.max, max_dim(ties), gradcheck=False),
    OpSpec(
        "max_method_kw",
        lambda x, d, keepdim: x.max(dim=d, keepdim=keepdim),
        lambda x, d, keepdim: x.max(dim=d, keepdim=keepdim),
        max_dim(unique),
    ),
    OpSpec("max_binary", gs.max, torch.max, binary),
    OpSpec("min_all", gs.min, torch.min, nonempty_all(unique)),
    OpSpec(
        "min_all_ties", lambda x: x.min(), lambda x: x.min(), nonempty_all(ties), gradcheck=False
    ),
    OpSpec("min_dim", gs.min, torch.min, max_dim(unique)),
    OpSpec("min_dim_ties", gs.min, torch.min, max_dim(ties), gradcheck=False),
    OpSpec("min_binary", gs.min, torch.min, binary),
    # amax / amin
    OpSpec("amax_all", gs.amax, torch.amax, reduction("all", unique, nonempty=True)),
    OpSpec("amax_dim", gs.amax, torch.amax, reduction("int", unique, nonempty=True)),
    OpSpec("amax_dims", gs.amax, torch.amax, reduction("tuple", unique, nonempty=True)),
    OpSpec(
        "amax_ties", gs.amax, torch.amax, reduction("tuple", ties, nonempty=True), gradcheck=False
    ),
    OpSpec(
        "amin_dims",
        lambda x, **k: x.amin(**k),
        lambda x, **k: x.amin(**k),
        reduction("tuple", unique, nonempty=True),
    ),
    OpSpec(
        "amin_ties", gs.amin, torch.amin, reduction("int", ties, nonempty=True), gradcheck=False
    ),
    # argmax / argmin (no gradient)
    OpSpec(
        "argmax_flat",
        gs.argmax,
        torch.argmax,
        reduction("none", unique, nonempty=True),
        grad=False,
    ),
    OpSpec(
        "argmax_dim", gs.argmax, torch.argmax, reduction("int", unique, nonempty=True), grad=False
    ),
    OpSpec(
        "argmin_dim",
        lambda x, **k: x.argmin(**k),
        lambda x, **k: x.argmin(**k),
        reduction("int", unique, nonempty=True),
        grad=False,
    ),
    OpSpec(
        "argmin_flat",
        gs.argmin,
        torch.argmin,
        reduction("none", unique, nonempty=True),
        grad=False,
    ),
    # var / std
    OpSpec("var_all", gs.var, torch.var, moments("all")),
    OpSpec("var_dim", gs.var, torch.var, moments("int")),
    OpSpec("var_dims", lambda x, **k: x.var(**k), lambda x, **k: x.var(**k), moments("tuple")),
    OpSpec("var_unbiased", gs.var, torch.var, legacy_unbiased),
    OpSpec("var_edge", gs.var, torch.var, moments("tuple", gradcheck_safe=False), grad=False),
    OpSpec("std_all", gs.std, torch.std, moments("all")),
    OpSpec("std_dims", lambda x, **k: x.std(**k), lambda x, **k: x.std(**k), moments("tuple")),
    OpSpec("std_unbiased", gs.std, torch.std, legacy_unbiased),
    OpSpec("std_edge", gs.std, torch.std, moments("int", gradcheck_safe=False), grad=False),
    # norm
    OpSpec("norm_default", gs.norm, torch.norm, reduction("all")),
    OpSpec("norm_2", gs.norm, torch.norm, norm_sample([2, 2.0, "fro"])),
    OpSpec("norm_p", gs.norm, torch.norm, norm_sample([1, 3.0, 1.5, 0, INF, -INF])),
    OpSpec(
        "norm_p_small",
        gs.norm,
        torch.norm,
        norm_sample([0.5], lambda d, s: values(d, s, away_from_zero=0.2)),
    ),
    OpSpec("norm_at_zero", gs.norm, torch.norm, norm_sample([2, "fro", 1], zero_slices)),
    OpSpec(
        "norm_method_dtype",
        lambda x: x.norm(dtype=gs.float64),
        lambda x: x.norm(dtype=torch.float64),
        reduction("all"),
    ),
    # cumsum
    OpSpec("cumsum", gs.cumsum, torch.cumsum, cumsum_sample()),
    OpSpec("cumsum_method", lambda x, d: x.cumsum(d), lambda x, d: x.cumsum(d), cumsum_sample()),
    OpSpec("cumsum_int", gs.cumsum, torch.cumsum, cumsum_sample(int_or_bool), grad=False),
    # all / any (no gradient)
    OpSpec("all", gs.all, torch.all, reduction("all", bools), grad=False),
    OpSpec("all_dims", gs.all, torch.all, reduction("tuple0", bools), grad=False),
    OpSpec(
        "any_dim",
        lambda x, **k: x.any(**k),
        lambda x, **k: x.any(**k),
        reduction("int", bools),
        grad=False,
    ),
    OpSpec(
        "any_float", gs.any, torch.any, reduction("tuple", lambda d, s: ties(d, s) - 1), grad=False
    ),
]
