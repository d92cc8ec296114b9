"""The compiled SGD-with-momentum step (``optim/_kernels.py``) against the NumPy path and
``torch.optim.SGD``, over several steps and every option."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs
from gradschool.backend import jit
from gradschool.optim import SGD

pytestmark = pytest.mark.skipif(not jit.available(), reason="needs numba")

OPTIONS = [
    {"momentum": 0.9},
    {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-2},
    {"momentum": 0.5, "dampening": 0.3, "weight_decay": 5e-4},
    {"momentum": 0.9, "maximize": True},
]


def _run(opts: dict, dtype, compiled: bool, steps: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    params = [
        gs.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in ((3, 4), (5,))
    ]
    opt = SGD(params, lr=0.1, **opts)
    for step in range(steps):
        for p in params:
            p.grad = gs.tensor(np.cos(p.detach().numpy() * (step + 1)).astype(dtype))
        if compiled:
            opt.step()
        else:
            with jit.disabled():
                opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opts", OPTIONS)
def test_compiled_step_matches_numpy_and_torch(opts, dtype):
    compiled = _run(opts, dtype, True)
    plain = _run(opts, dtype, False)
    rng = np.random.default_rng(0)
    tparams = [
        torch.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
        for s in ((3, 4), (5,))
    ]
    topt = torch.optim.SGD(tparams, lr=0.1, **opts)
    for step in range(4):
        for p in tparams:
            p.grad = torch.cos(p.detach() * (step + 1))
        topt.step()
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}
    for a, b, c in zip(compiled, plain, tparams, strict=True):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, **tol)
        np.testing.assert_allclose(a, c.detach().numpy(), **tol)


@pytest.mark.skipif(not jit.enabled(), reason="GRADSCHOOL_JIT=0: the kernels are off")
def test_the_kernel_runs_after_the_first_step(monkeypatch):
    sgd = __import__("gradschool.optim.sgd", fromlist=["sgd"])
    calls = []
    real = sgd.sgd_momentum_step
    monkeypatch.setattr(sgd, "sgd_momentum_step", lambda *a: calls.append(1) or real(*a))
    _run({"momentum": 0.9}, np.float32, True, steps=3)
    assert len(calls) == 4  # two parameters, steps 2 and 3 (step 1 makes the velocity)
