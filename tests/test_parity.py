"""Every op in the parity harness, three ways: forward vs PyTorch, backward vs PyTorch, gradcheck.

Rows live in ``tests/parity/specs_*.py`` (one file per op family).
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gradschool as gs
from gradschool.testing import gradcheck
from tests import parity
from tests.parity.harness import OpSpec, as_numpy, outputs, to_library

torch.set_num_threads(1)

SPECS: list[OpSpec] = []
for info in pkgutil.iter_modules(parity.__path__):
    if info.name.startswith("specs_"):
        SPECS += importlib.import_module(f"tests.parity.{info.name}").SPECS

NAMES = [s.name for s in SPECS]
assert len(NAMES) == len(set(NAMES)), "duplicate spec names"

CASES = [pytest.param(s, d, id=f"{s.name}-{d}") for s in SPECS for d in s.dtypes]
GRAD_CASES = [c for c in CASES if c.values[0].grad]


def _tol(spec: OpSpec, dtype: str) -> dict[str, float]:
    if dtype == "float64":
        return {"rtol": 1e-7, "atol": 1e-9}
    return {"rtol": spec.rtol32, "atol": spec.atol32}


def _compare(ours, theirs, what: str, **tol) -> None:
    a, b = as_numpy(ours), as_numpy(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch {b.shape}"
    if b.dtype.kind == "f":
        assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != torch {b.dtype}"
        np.testing.assert_allclose(a, b, err_msg=what, equal_nan=True, **tol)
    else:
        assert a.dtype.kind == b.dtype.kind, f"{what}: dtype {a.dtype} != torch {b.dtype}"
        np.testing.assert_array_equal(a, b, err_msg=what)


@pytest.mark.parametrize(("spec", "dtype"), CASES)
@given(data=st.data())
def test_forward_matches_torch(spec: OpSpec, dtype: str, data) -> None:
    sample = spec.sample(data.draw)
    gs_args, _ = to_library(sample, "gs", dtype, requires_grad=False)
    th_args, _ = to_library(sample, "torch", dtype, requires_grad=False)
    ours = outputs(spec.gs(*gs_args, **sample.kwargs))
    theirs = outputs(spec.torch(*th_args, **sample.kwargs))
    assert len(ours) == len(theirs)
    for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
        _compare(o, t, f"{spec.name} output {i}", **_tol(spec, dtype))


@pytest.mark.parametrize(("spec", "dtype"), GRAD_CASES)
@given(data=st.data())
def test_backward_matches_torch(spec: OpSpec, dtype: str, data) -> None:
    sample = spec.sample(data.draw)
    gs_args, gs_leaves = to_library(sample, "gs", dtype, requires_grad=True)
    th_args, th_leaves = to_library(sample, "torch", dtype, requires_grad=True)
    ours = [o for o in outputs(spec.gs(*gs_args, **sample.kwargs)) if o.requires_grad]
    theirs = [o for o in outputs(spec.torch(*th_args, **sample.kwargs)) if o.requires_grad]
    assert len(ours) == len(theirs), "a different number of differentiable outputs"
    rng = np.random.default_rng(0)
    for o, t in zip(ours, theirs, strict=True):
        g = rng.standard_normal(t.shape).astype(dtype)
        o.backward(gs.tensor(g), retain_graph=True)
        t.backward(torch.tensor(g), retain_graph=True)
    for i, (a, b) in enumerate(zip(gs_leaves, th_leaves, strict=True)):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy()), (
                f"{spec.name}: grad of input {i} should be None"
            )
            continue
        assert a.grad is not None, f"{spec.name}: input {i} got no gradient"
        _compare(a.grad, b.grad, f"{spec.name} grad of input {i}", **_tol(spec, dtype))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.grad and s.gradcheck], ids=lambda s: s.name)
@given(data=st.data())
def test_gradcheck(spec: OpSpec, data) -> None:
    sample = spec.sample(data.draw)
    args, leaves = to_library(sample, "gs", "float64", requires_grad=True)
    if not leaves:
        return

    def fn(*xs):
        swap = {id(leaf): x for leaf, x in zip(leaves, xs, strict=True)}

        def sub(a):
            if isinstance(a, (list, tuple)):
                return type(a)(sub(x) for x in a)
            return swap.get(id(a), a)

        return spec.gs(*[sub(a) for a in args], **sample.kwargs)

    assert gradcheck(fn, leaves, atol=1e-5, rtol=1e-4)
