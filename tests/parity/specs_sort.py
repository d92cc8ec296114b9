"""Parity rows for sorting and selecting (gradschool/ops/sort.py): sort, argsort, topk.

Which of tied elements an unstable sort or ``topk`` returns first is not part of PyTorch's
contract, so those rows draw distinct values (``unique``); ties are compared only where the
order is fixed: ``stable=True``, whose indices must equal PyTorch's exactly (their gradient
too, but no ``gradcheck``: a tied value moved by +-eps changes places, so the numerical
derivative averages two routings). Integer rows check values and indices only.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

import gradschool as gs

from .harness import OpSpec, Sample, integers, shapes
from .specs_reduce import ties, unique


def _dim(draw, nd: int) -> int:
    """A dim of a tensor with ``nd`` dims, negative half the time (0-d takes 0 and -1)."""
    return draw(st.integers(-max(nd, 1), max(nd, 1) - 1))


def sort_sample(data=unique, stable: bool | None = None):
    """``x`` and keyword ``dim``, ``descending`` (and ``stable``: drawn when None)."""

    def sample(draw):
        shape = draw(shapes())
        x = np.asarray(data(draw, shape))
        kwargs = {"dim": _dim(draw, len(shape)), "descending": draw(st.booleans())}
        kwargs["stable"] = draw(st.booleans()) if stable is None else stable
        return Sample([x], kwargs)

    return sample


def positional_sort(draw):
    """``x, dim, descending`` positionally (PyTorch's overload without ``stable``)."""
    shape = draw(shapes())
    return Sample([unique(draw, shape), _dim(draw, len(shape)), draw(st.booleans())])


def topk_sample(data=unique):
    """``x, k, dim`` with k in [0, size of dim] (k = 0 and k = size included), and keyword
    ``largest`` and ``sorted``."""

    def sample(draw):
        shape = draw(shapes())
        nd = len(shape)
        d = _dim(draw, nd)
        size = shape[d] if nd else 1
        k = draw(st.sampled_from([0, size, draw(st.integers(0, size))]))
        x = np.asarray(data(draw, shape))
        return Sample([x, k, d], {"largest": draw(st.booleans()), "sorted": True})

    return sample


def ints(draw, shape):
    """int64 values with ties (integer arrays get no gradient)."""
    return integers(draw, shape, -3, 4)


def distinct_ints(draw, shape):
    """int64 values without ties: a shuffled range around 0."""
    n = int(np.prod(shape))
    return (np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(n) - n // 2).reshape(
        shape
    )


def _sorted_values(fn):
    """``sort(..., sorted=False)``'s order is free: compare the values sorted."""

    def call(x, k, d, **kw):
        values, indices = fn(x, k, d, **{**kw, "sorted": False})
        order = values.argsort(dim=d, descending=True, stable=True)
        return values.gather(d, order), indices.gather(d, order)

    return call


SPECS = [
    OpSpec("sort", gs.sort, torch.sort, sort_sample(stable=False)),
    OpSpec("sort_positional", gs.sort, torch.sort, positional_sort),
    OpSpec(
        "sort_method",
        lambda x, **k: x.sort(**k),
        lambda x, **k: x.sort(**k),
        sort_sample(),
    ),
    OpSpec("sort_stable_ties", gs.sort, torch.sort, sort_sample(ties, True), gradcheck=False),
    OpSpec("sort_int", gs.sort, torch.sort, sort_sample(ints, True), grad=False),
    OpSpec("argsort", gs.argsort, torch.argsort, sort_sample(), grad=False),
    OpSpec(
        "argsort_stable_ties",
        lambda x, **k: x.argsort(**k),
        lambda x, **k: x.argsort(**k),
        sort_sample(ties, True),
        grad=False,
    ),
    OpSpec("topk", gs.topk, torch.topk, topk_sample()),
    OpSpec(
        "topk_method",
        lambda x, k, d, **kw: x.topk(k, dim=d, **kw),
        lambda x, k, d, **kw: x.topk(k, dim=d, **kw),
        topk_sample(),
    ),
    OpSpec(
        "topk_unsorted",
        _sorted_values(gs.topk),
        _sorted_values(torch.topk),
        topk_sample(),
    ),
    OpSpec("topk_int", gs.topk, torch.topk, topk_sample(distinct_ints), grad=False),
]
