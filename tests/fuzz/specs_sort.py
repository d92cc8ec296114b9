"""The fuzzer's rows for sort, argsort and topk, beyond the parity rows of
``tests/parity/specs_sort.py`` (which the driver runs too):

- long rows (up to 64 elements along ``dim``) of distinct values, where a sort is more than
  a few swaps;
- extreme values with ``stable=True``: NaN, +-inf, +-0.0 (equal to each other), huge and
  tiny numbers, tied in float32 where float64 told them apart; the order, the indices and
  the gradient are all fixed by PyTorch's contract (NaN largest, ties in input order), so
  they are compared exactly;
- ties where the order is *not* fixed (``topk``, ``stable=False``), checked by rule, as
  ``laws.py`` does for max pooling: the values equal PyTorch's exactly, each row's indices
  are distinct, each points at an element equal to its value, and the gradient is dy
  routed by gradschool's own indices. The rule is run on PyTorch's own answer too, so a
  wrong rule fails loudly instead of passing everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st

import gradschool as gs
from tests.fuzz.check import Case, FuzzSpec, compare, layout_for, make_input, unview
from tests.parity.harness import Sample, distinct, integers, shapes

EXTREMES = np.array(
    [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, -1e300, 1e-300, 3.0e38, -1.5, 2.0, 1e-40]
)


def _long_shape(draw: Any) -> tuple[tuple[int, ...], int]:
    """A shape of 1-3 dims with one long dim (16-64), and that dim (negative half the time)."""
    shape = list(draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
    d = draw(st.integers(-len(shape), len(shape) - 1))
    shape[d] = draw(st.integers(16, 64))
    return tuple(shape), d


def long_sort(draw: Any) -> Sample:
    shape, d = _long_shape(draw)
    kwargs = {"dim": d, "descending": draw(st.booleans()), "stable": draw(st.booleans())}
    return Sample([distinct(draw, shape)], kwargs)


def long_topk(draw: Any) -> Sample:
    shape, d = _long_shape(draw)
    k = draw(st.integers(0, shape[d]))
    kwargs = {"largest": draw(st.booleans()), "sorted": True}
    return Sample([distinct(draw, shape), k, d], kwargs)


def _extremes(draw: Any, shape: tuple[int, ...]) -> np.ndarray:
    return np.asarray(EXTREMES[integers(draw, shape, 0, len(EXTREMES))])  # 0-d stays an array


def extreme_sort(draw: Any) -> Sample:
    shape = draw(shapes(max_dims=3, max_side=8))
    nd = len(shape)
    d = draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
    kwargs = {"dim": d, "descending": draw(st.booleans()), "stable": True}
    return Sample([_extremes(draw, shape)], kwargs)


# exact: a value routed to the wrong one of two tied places would differ somewhere
EXACT = {"rtol32": 0.0, "atol32": 0.0}
SPECS = [
    FuzzSpec("sort_long", gs.sort, torch.sort, long_sort),
    FuzzSpec("topk_long", gs.topk, torch.topk, long_topk),
    FuzzSpec("sort_extreme_stable", gs.sort, torch.sort, extreme_sort, gradcheck=False, **EXACT),
    FuzzSpec(
        "argsort_extreme_stable", gs.argsort, torch.argsort, extreme_sort, grad=False, **EXACT
    ),
]


# ---------------------------------------------------------------- ties, checked by rule
def _ties_sample(topk: bool) -> Callable[[Any], Sample]:
    """Few distinct values (sometimes all equal, sometimes with NaN and infinities)."""

    def sample(draw: Any) -> Sample:
        shape = draw(shapes(max_dims=3, max_side=6))
        nd = len(shape)
        d = draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
        pool = draw(st.sampled_from([[1.0], [0.0, 1.0, 2.0], [0.0, 1.0, np.nan, np.inf, -np.inf]]))
        x = np.asarray(pool)[integers(draw, shape, 0, len(pool))].reshape(shape)
        order = draw(st.booleans())
        if not topk:
            return Sample([x, d], {"descending": order})
        size = shape[d] if nd else 1
        return Sample([x, draw(st.integers(0, size)), d], {"largest": order})

    return sample


def _rule_errors(x: np.ndarray, values: np.ndarray, idx: np.ndarray, d: int, full: bool) -> str:
    """'' when ``idx`` is a valid answer for ``values`` of ``x`` along ``d``: in range,
    distinct in each row (all of the row for a sort), pointing at equal elements."""
    if x.ndim == 0:
        return "" if idx == 0 else f"index {idx} of a 0-d tensor"
    n = x.shape[d]
    if full and idx.shape[d] != n:
        return f"a sort returned {idx.shape[d]} of {n} indices"
    if idx.size == 0:
        return ""
    if idx.min() < 0 or idx.max() >= n:
        return f"index out of range [0, {n})"
    rows = np.moveaxis(idx, d, -1).reshape(-1, idx.shape[d])
    if any(len(set(r.tolist())) != len(r) for r in rows):
        return "an index repeats within a row"
    picked = np.take_along_axis(x, idx, axis=d)
    same = (picked == values) | (np.isnan(picked) & np.isnan(values))
    if not same.all():
        return f"indices point at other values: {picked[~same][:3]} != {values[~same][:3]}"
    return ""


def run_ties(topk: bool) -> Callable[[Case], list[str]]:
    sampler = _ties_sample(topk)

    def run(case: Case) -> list[str]:
        s = case.sample(sampler)
        dtype = case.choice(["float32", "float64"])
        x = s.args[0].astype(dtype)
        layout = layout_for(case, x.shape)
        case.notes += [dtype, f"layout={layout}"]
        d, extra = s.args[-1], s.args[1:]
        if topk:
            theirs = torch.topk(torch.tensor(x), *extra, **s.kwargs)
        else:
            theirs = torch.sort(torch.tensor(x), *extra, **s.kwargs)
        t_values, t_idx = theirs[0].numpy(), theirs[1].numpy()
        law = _rule_errors(x, t_values, t_idx, d, not topk)
        if law:
            return [f"PyTorch's own answer breaks the rule (a fuzzer bug): {law}"]
        arg, leaf = make_input(x, "gs", layout, True)
        fn = gs.topk if topk else gs.sort
        values, idx = fn(arg, *extra, **s.kwargs)
        found = [compare(values, t_values, "values", rtol=0, atol=0)]
        found.append(_rule_errors(x, values.detach().numpy(), idx.numpy(), d, not topk))
        if not found[-1]:
            g = case.rng.standard_normal(t_values.shape).astype(dtype)
            values.backward(gs.tensor(g))
            want = np.zeros_like(x)
            if x.ndim:
                np.put_along_axis(want, idx.numpy(), g, axis=d)
            else:
                want = g
            grad, skipped = unview(leaf.grad, layout)
            if skipped is not None and np.any(skipped):
                found.append("grad reached the elements a strided view skips")
            found.append(compare(grad, want, "grad (routed by its indices)", rtol=0, atol=0))
        return [f for f in found if f]

    return run


TARGETS = {"ties.sort": run_ties(False), "ties.topk": run_ties(True)}
