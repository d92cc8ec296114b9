"""The optimisers against ``torch.optim``: the same problem, the same initial values, the same
hyperparameters must give the same parameter trajectory (float64 and float32), and state
dicts must round-trip between gradschool and PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn.functional as F
from gradschool.nn import Parameter
from gradschool.optim.adagrad import Adagrad
from gradschool.optim.adam import Adam
from gradschool.optim.adamw import AdamW
from gradschool.optim.lbfgs import LBFGS
from gradschool.optim.rmsprop import RMSprop
from gradschool.optim.sgd import SGD

OURS = {c.__name__: c for c in (SGD, Adagrad, RMSprop, Adam, AdamW, LBFGS)}
STEPS = 50

# (optimiser, hyperparameters, problem): every main option of every optimiser
_WOLFE = {"history_size": 3, "line_search_fn": "strong_wolfe", "tolerance_change": 1e-6}
CASES = [
    ("SGD", {"lr": 0.1}, "mlp"),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, "mlp"),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}, "mlp"),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, "mlp"),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}, "mlp"),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}, "neg_mlp"),
    ("SGD", {"lr": 5e-4, "momentum": 0.9}, "rosenbrock"),
    ("Adagrad", {"lr": 0.1}, "mlp"),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1},
        "mlp",
    ),
    ("Adagrad", {"lr": 0.1, "maximize": True}, "neg_mlp"),
    ("RMSprop", {"lr": 0.01}, "mlp"),
    ("RMSprop", {"lr": 0.01, "centered": True}, "mlp"),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}, "mlp"),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "alpha": 0.9}, "mlp"),
    ("RMSprop", {"lr": 0.01, "maximize": True}, "neg_mlp"),
    ("Adam", {"lr": 0.01}, "mlp"),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}, "mlp"),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "maximize": True}, "neg_mlp"),
    ("Adam", {"lr": 0.01}, "rosenbrock"),
    ("AdamW", {"lr": 0.01}, "mlp"),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, "mlp"),
    # LBFGS on convex softmax regression (fixed steps and line search) and on Rosenbrock (line
    # search); a looser tolerance_change keeps its float32 stopping decisions away from the
    # loss's float32 resolution
    ("LBFGS", {"lr": 0.5, "max_iter": 4, "history_size": 3, "tolerance_change": 1e-6}, "softmax"),
    ("LBFGS", {"lr": 0.3, "max_iter": 3, "history_size": 5, "tolerance_change": 1e-6}, "softmax"),
    (
        "LBFGS",
        {
            "max_iter": 4,
            "history_size": 3,
            "line_search_fn": "strong_wolfe",
            "tolerance_change": 1e-6,
        },
        "softmax",
    ),
    ("LBFGS", {"max_iter": 2, "history_size": 4, "line_search_fn": "strong_wolfe"}, "rosenbrock"),
    ("LBFGS", {"lr": 20, "max_iter": 3, **_WOLFE}, "softmax"),  # overshoots, then zooms
    ("LBFGS", {"lr": 1e-3, "max_iter": 5, "tolerance_change": 1e-3}, "softmax"),  # tiny steps
]
# float64 only: these line searches meet cubics so ill-conditioned (d2**2 a difference of two
# nearly equal numbers) that in float32 one ulp of the loss decides the step length
CASES_F64 = [
    ("LBFGS", {"lr": 0.02, "max_iter": 3, **_WOLFE}, "softmax"),  # extrapolates, runs out
    ("LBFGS", {"lr": 20, "max_iter": 3, **_WOLFE}, "mlp"),  # zooms with insufficient progress
    ("LBFGS", {"lr": 5, "max_iter": 3, "line_search_fn": "strong_wolfe"}, "rosenbrock"),
]
ALL_CASES = CASES + CASES_F64


def _id(case: tuple) -> str:
    name, kwargs, problem = case[:3]
    return f"{name}-{problem}-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


IDS = [_id(case) for case in ALL_CASES]
TRAJECTORIES = [(*case, dt) for case in CASES for dt in ("float64", "float32")] + [
    (*case, "float64") for case in CASES_F64
]
NOT_LBFGS = [case for case in CASES if case[0] != "LBFGS"]


# ----------------------------------------------------------------- the problems
_rng = np.random.default_rng(1234)
_X = _rng.standard_normal((16, 4))
_Y = _rng.integers(0, 3, 16)
_MLP_INIT = [
    0.5 * _rng.standard_normal((8, 4)),
    0.1 * _rng.standard_normal(8),
    0.5 * _rng.standard_normal((3, 8)),
    0.1 * _rng.standard_normal(3),
]
_ROSENBROCK_INIT = [np.array([-1.2, 1.0, -0.5, 0.8, 1.3, 0.2])]


def _initial(problem: str) -> list[np.ndarray]:
    if problem == "softmax":
        return _MLP_INIT[2:]
    return _ROSENBROCK_INIT if problem == "rosenbrock" else _MLP_INIT


def _loss(lib: str, problem: str, params: list[Any], dtype: np.dtype) -> Any:
    """The same scalar loss built with gradschool or with torch."""
    if problem == "rosenbrock":  # a banana-shaped ravine, the classic optimiser test
        (x,) = params
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    if lib == "torch":
        x, y, fn = torch.from_numpy(_X.astype(dtype)), torch.from_numpy(_Y), torch.nn.functional
    else:
        x, y, fn = gs.Tensor(_X.astype(dtype)), gs.Tensor(_Y), F
    if problem == "softmax":  # softmax regression with an L2 penalty: convex
        w, b = params
        return fn.cross_entropy(fn.linear(x[:, :3].tanh(), w[:, :3], b), y) + 0.01 * (w * w).sum()
    w1, b1, w2, b2 = params
    loss = fn.cross_entropy(fn.linear(fn.linear(x, w1, b1).tanh(), w2, b2), y)
    return -loss if problem == "neg_mlp" else loss


def _params(lib: str, arrays: list[np.ndarray], dtype: np.dtype) -> list[Any]:
    if lib == "torch":
        return [torch.nn.Parameter(torch.from_numpy(a.astype(dtype))) for a in arrays]
    return [Parameter(gs.Tensor(a.astype(dtype))) for a in arrays]


def _numpy(params: list[Any]) -> list[np.ndarray]:
    return [np.array(p.detach().numpy()) for p in params]


def _make(lib: str, name: str, params: list[Any], kwargs: dict[str, Any], groups: bool) -> Any:
    cls = getattr(torch.optim, name) if lib == "torch" else OURS[name]
    if groups:  # weights and biases in two groups, the biases with a tenth of the lr
        spec: Any = [
            {"params": params[0::2]},
            {"params": params[1::2], "lr": kwargs["lr"] / 10},
        ]
    else:
        spec = params
    return cls(spec, **kwargs)


class Run:
    """One optimiser on one problem in one library, stepped on demand."""

    def __init__(
        self,
        lib: str,
        name: str,
        kwargs: dict[str, Any],
        problem: str,
        dtype: Any,
        groups: bool = False,
        start: list[np.ndarray] | None = None,
    ) -> None:
        self.lib, self.name, self.problem, self.dtype = lib, name, problem, np.dtype(dtype)
        self.params = _params(lib, start or _initial(problem), self.dtype)
        self.opt = _make(lib, name, self.params, kwargs, groups)

    def closure(self) -> Any:
        self.opt.zero_grad()
        loss = _loss(self.lib, self.problem, self.params, self.dtype)
        loss.backward()
        return loss

    def steps(self, n: int) -> np.ndarray:
        """Take ``n`` steps; the flattened parameters after each, shape (n, N)."""
        out = []
        for _ in range(n):
            if self.name == "LBFGS":
                self.opt.step(self.closure)
            else:
                self.closure()
                self.opt.step()
            out.append(np.concatenate([a.ravel() for a in _numpy(self.params)]))
        return np.stack(out)


def _tolerances(dtype: Any, name: str = "") -> dict[str, float]:
    """float64 agrees to rounding; float32 differs by the rounding of the two libraries'
    gradients (~1e-7), which 50 steps amplify, and L-BFGS (a second-order method, dividing by
    curvature estimates) amplifies more."""
    if np.dtype(dtype) == np.float64:
        return {"rtol": 1e-9, "atol": 1e-11}
    return {"rtol": 2e-4, "atol": 1e-4 if name == "LBFGS" else 2e-5}


# ----------------------------------------------------------------- trajectories
@pytest.mark.parametrize(
    ("name", "kwargs", "problem", "dtype"),
    TRAJECTORIES,
    ids=[f"{_id(case)}-{case[3]}" for case in TRAJECTORIES],
)
def test_trajectory_matches_torch(name: str, kwargs: dict, problem: str, dtype: Any) -> None:
    ours = Run("gs", name, kwargs, problem, dtype)
    theirs = Run("torch", name, kwargs, problem, dtype)
    a, b = ours.steps(STEPS), theirs.steps(STEPS)
    assert np.all(np.abs(a[-1] - a[0]) > 0) or np.abs(a[-1] - a[0]).max() > 1e-3  # it moved
    np.testing.assert_allclose(a, b, **_tolerances(dtype, name))
    # float32 stays float32, in the parameters and in every state array
    for p in ours.params:
        assert p.data.dtype == ours.dtype
    for state in ours.opt.state.values():
        for key, value in state.items():
            if isinstance(value, gs.Tensor) and key != "step":
                assert value.data.dtype == ours.dtype, key


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("name", "kwargs", "problem"), NOT_LBFGS[::2], ids=[_id(c) for c in NOT_LBFGS[::2]]
)
def test_two_param_groups_match_torch(name: str, kwargs: dict, problem: str, dtype: Any) -> None:
    if problem == "rosenbrock":
        problem = "mlp"
    ours = Run("gs", name, kwargs, problem, dtype, groups=True)
    theirs = Run("torch", name, kwargs, problem, dtype, groups=True)
    assert [g["lr"] for g in ours.opt.param_groups] == [kwargs["lr"], kwargs["lr"] / 10]
    np.testing.assert_allclose(ours.steps(30), theirs.steps(30), **_tolerances(dtype))


# ----------------------------------------------------------------- state dicts
@pytest.mark.parametrize(("name", "kwargs", "problem"), ALL_CASES, ids=IDS)
def test_state_dict_layout_is_torch(name: str, kwargs: dict, problem: str) -> None:
    ours = Run("gs", name, kwargs, problem, np.float64, groups=name != "LBFGS")
    theirs = Run("torch", name, kwargs, problem, np.float64, groups=name != "LBFGS")
    ours.steps(3)
    theirs.steps(3)
    a, b = ours.opt.state_dict(), theirs.opt.state_dict()
    assert sorted(a["state"]) == sorted(b["state"])
    for i in a["state"]:
        assert set(a["state"][i]) == set(b["state"][i]) - {"al"}
    for ga, gb in zip(a["param_groups"], b["param_groups"], strict=True):
        assert ga["params"] == gb["params"]
        for key, value in ga.items():
            assert key in gb and gb[key] == value, key


@pytest.mark.parametrize(("name", "kwargs", "problem"), ALL_CASES, ids=IDS)
def test_state_dict_round_trip(name: str, kwargs: dict, problem: str) -> None:
    groups = name != "LBFGS"
    first = Run("gs", name, kwargs, problem, np.float32, groups=groups)
    first.steps(7)
    saved = first.opt.state_dict()
    second = Run("gs", name, kwargs, problem, np.float32, groups=groups, start=_numpy(first.params))
    second.opt.load_state_dict(saved)
    np.testing.assert_array_equal(first.steps(10), second.steps(10))


@pytest.mark.parametrize(("name", "kwargs", "problem"), ALL_CASES, ids=IDS)
def test_load_torch_state_dict(name: str, kwargs: dict, problem: str) -> None:
    theirs = Run("torch", name, kwargs, problem, np.float64)
    theirs.steps(10)
    ours = Run("gs", name, kwargs, problem, np.float64, start=_numpy(theirs.params))
    ours.opt.load_state_dict(theirs.opt.state_dict())
    np.testing.assert_allclose(ours.steps(20), theirs.steps(20), rtol=1e-9, atol=1e-11)


def test_state_dict_does_not_share_loaded_state() -> None:
    first = Run("gs", "Adam", {"lr": 0.01}, "mlp", np.float64)
    first.steps(2)
    saved = first.opt.state_dict()
    second = Run("gs", "Adam", {"lr": 0.01}, "mlp", np.float64)
    second.opt.load_state_dict(saved)
    p0, q0 = first.params[0], second.params[0]
    assert not np.shares_memory(
        first.opt.state[p0]["exp_avg"].data, second.opt.state[q0]["exp_avg"].data
    )
    assert float(second.opt.state[q0]["step"]) == 2.0


def test_adamw_stays_decoupled_after_loading_adam_state() -> None:
    adam = Run("torch", "Adam", {"lr": 0.01, "weight_decay": 0.1}, "mlp", np.float64)
    adam.steps(2)
    ours = Run("gs", "AdamW", {"lr": 0.01, "weight_decay": 0.1}, "mlp", np.float64)
    ours.opt.load_state_dict(adam.opt.state_dict())
    assert ours.opt.param_groups[0]["decoupled_weight_decay"] is True


# ----------------------------------------------------------------- behaviour
@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_step_returns_closure_loss_and_skips_params_without_grad(name: str) -> None:
    used = Parameter(gs.Tensor(np.array([1.0, -2.0], dtype=np.float32)))
    unused = Parameter(gs.Tensor(np.array([3.0], dtype=np.float32)))
    opt = OURS[name]([used, unused], lr=0.1)

    def closure() -> gs.Tensor:
        opt.zero_grad()
        loss = (used * used).sum()
        loss.backward()
        return loss

    assert opt.step() is None
    loss = opt.step(closure)
    assert isinstance(loss, gs.Tensor)
    assert float(loss) == pytest.approx(5.0, rel=0.3)
    assert unused.grad is None and unused.data.tolist() == [3.0]
    assert not np.allclose(used.data, [1.0, -2.0])
    if name != "Adagrad":  # Adagrad creates every parameter's state up front, as PyTorch
        assert unused not in opt.state or not opt.state[unused]


def test_closure_runs_with_grad_enabled() -> None:
    w = Parameter(gs.Tensor(np.array([1.0, 2.0])))
    opt = SGD([w], lr=0.1)

    def closure() -> gs.Tensor:
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with gs.no_grad():
        opt.step(closure)
        LBFGS([w]).step(closure)
    np.testing.assert_allclose(w.data, [0.0, 0.0], atol=1e-6)


def test_zero_grad() -> None:
    w = Parameter(gs.Tensor(np.ones(3, dtype=np.float32)))
    opt = Adam([w])
    (w * w).sum().backward()
    grad = w.grad.data
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and w.grad.data is grad and not grad.any()
    opt.zero_grad()
    assert w.grad is None


def test_sgd_step_is_in_place_and_builds_no_graph() -> None:
    w = Parameter(gs.Tensor(np.ones(4, dtype=np.float32)))
    array = w.data
    opt = SGD([w], lr=0.5, momentum=0.9, nesterov=True, weight_decay=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.data is array and w.is_leaf and w.data.dtype == np.float32
    assert not np.shares_memory(opt.state[w]["momentum_buffer"].data, w.grad.data)


def test_lbfgs_reaches_rosenbrock_minimum() -> None:
    x = Parameter(gs.Tensor(np.array([-1.5, 2.0])))
    opt = LBFGS([x], line_search_fn="strong_wolfe")

    def closure() -> gs.Tensor:
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    first = opt.step(closure)
    for _ in range(5):
        opt.step(closure)
    assert float(first) > 1.0
    np.testing.assert_allclose(x.data, [1.0, 1.0], atol=1e-4)
    assert opt.state[x]["n_iter"] > 1 and opt.state[x]["func_evals"] >= opt.state[x]["n_iter"]


def test_lbfgs_stops_at_a_stationary_point() -> None:
    x = Parameter(gs.Tensor(np.array([1.0, 1.0])))
    opt = LBFGS([x])

    def closure() -> gs.Tensor:
        opt.zero_grad()
        loss = ((x - 1) ** 2).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0
    assert opt.state[x] == {"func_evals": 1, "n_iter": 0}
    assert x.data.tolist() == [1.0, 1.0]
    fresh = LBFGS([x])
    fresh.load_state_dict(LBFGS([x]).state_dict())  # an empty state loads too
    assert not fresh.state[x]


def test_adagrad_recreates_state_missing_from_a_state_dict() -> None:
    ours = Run("gs", "Adagrad", {"lr": 0.1}, "mlp", np.float64)
    saved = ours.opt.state_dict()
    saved["state"] = {}
    ours.opt.load_state_dict(saved)
    theirs = Run("torch", "Adagrad", {"lr": 0.1}, "mlp", np.float64)
    np.testing.assert_allclose(ours.steps(5), theirs.steps(5), rtol=1e-12)


# ----------------------------------------------------------------- L-BFGS's line search
def _rosenbrock_fg(z: np.ndarray) -> tuple[float, np.ndarray]:
    g = np.zeros_like(z)
    g[:-1] = -400 * z[:-1] * (z[1:] - z[:-1] ** 2) - 2 * (1 - z[:-1])
    g[1:] += 200 * (z[1:] - z[:-1] ** 2)
    return float(np.sum(100 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2)), g


def _wavy_fg(z: np.ndarray) -> tuple[float, np.ndarray]:
    f = np.sum(z**4 - 3 * z**2 + z + np.sin(5 * z))
    return float(f), 4 * z**3 - 6 * z + 1 + 5 * np.cos(5 * z)


def _cubic_fg(b: float) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """phi(z) = -z - z**2 + b z**3 in one dimension."""
    return lambda z: (float(np.sum(-z - z**2 + b * z**3)), -1 - 2 * z + 3 * b * z**2)


# (function, seed of the start and direction, first step, tolerance_change, max_ls), chosen so
# that together they run every branch: extrapolation, a cubic without minimum, running out of
# evaluations, zooming from either end, a bracket below tolerance, the Wolfe point
LINE_SEARCHES = [
    (_rosenbrock_fg, 3, 1.0, 1e-9, 25),
    (_rosenbrock_fg, 11, 1.0, 1e-9, 25),
    (_rosenbrock_fg, 0, 0.03, 30.0, 2),
    (_wavy_fg, 0, 1e-3, 1e-9, 2),
    (_wavy_fg, 5, 30.0, 1e-9, 25),
    (_cubic_fg(-1.0), None, 0.01, 1e-9, 25),
    (_cubic_fg(0.3), None, 30.0, 1e-9, 25),
]


@pytest.mark.parametrize("case", LINE_SEARCHES, ids=range(len(LINE_SEARCHES)))
def test_strong_wolfe_matches_torch(case: tuple) -> None:
    from torch.optim.lbfgs import _strong_wolfe as torch_strong_wolfe

    from gradschool.optim.lbfgs import _strong_wolfe

    fg, seed, t0, tolerance_change, max_ls = case
    if seed is None:
        x0, d = np.zeros(1), np.ones(1)
    else:
        rng = np.random.default_rng(seed)
        x0 = rng.uniform(-1.5, 1.5, 6)
        g = fg(x0)[1]
        d = -g + 0.5 * np.abs(g).mean() * rng.standard_normal(6)
    f0, g0 = fg(x0)
    assert g0.dot(d) < 0  # a descent direction

    def ours_obj(x: list, t: Any, d: np.ndarray) -> tuple[float, np.ndarray]:
        return fg(x[0] + t * d)

    def torch_obj(x: list, t: Any, d: torch.Tensor) -> tuple[float, torch.Tensor]:
        f, g = fg(x[0].numpy() + float(t) * d.numpy())
        return f, torch.from_numpy(g)

    kw = {"tolerance_change": tolerance_change, "max_ls": max_ls}
    f, g, t, evals = _strong_wolfe(ours_obj, [x0], t0, d, f0, g0, g0.dot(d), **kw)
    tf, tg, tt, tevals = torch_strong_wolfe(
        torch_obj,
        [torch.from_numpy(x0)],
        t0,
        torch.from_numpy(d),
        f0,
        torch.from_numpy(g0),
        torch.tensor(g0.dot(d)),
        **kw,
    )
    assert evals == tevals
    np.testing.assert_allclose([f, float(t)], [tf, float(tt)], rtol=1e-12)
    np.testing.assert_allclose(g, tg.numpy(), rtol=1e-12)


def test_cubic_interpolate_matches_torch() -> None:
    from torch.optim.lbfgs import _cubic_interpolate as torch_cubic

    from gradschool.optim.lbfgs import _cubic_interpolate

    rng = np.random.default_rng(0)
    for _ in range(200):
        x1, f1, g1, x2, f2, g2 = rng.standard_normal(6)
        bounds = tuple(sorted(rng.standard_normal(2))) if rng.random() < 0.5 else None
        ours = _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=bounds)
        t = [torch.tensor(v) for v in (x1, f1, g1, x2, f2, g2)]
        theirs = torch_cubic(*t, bounds=bounds)
        assert float(ours) == pytest.approx(float(theirs), rel=1e-12, abs=1e-15)


# ----------------------------------------------------------------- errors
def _p() -> list[Parameter]:
    return [Parameter(gs.Tensor(np.zeros(2, dtype=np.float32)))]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SGD(_p(), lr=-1), "Invalid learning rate: -1"),
        (lambda: SGD(_p(), momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda: SGD(_p(), weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
        (
            lambda: SGD(_p(), nesterov=True),
            "Nesterov momentum requires a momentum and zero dampening",
        ),
        (lambda: SGD(_p(), momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
        (lambda: Adagrad(_p(), lr=-1), "Invalid learning rate: -1"),
        (lambda: Adagrad(_p(), lr_decay=-1), "Invalid lr_decay value: -1"),
        (
            lambda: Adagrad(_p(), initial_accumulator_value=-1),
            "Invalid initial_accumulator_value value: -1",
        ),
        (lambda: Adagrad(_p(), eps=-1), "Invalid epsilon value: -1"),
        (lambda: RMSprop(_p(), lr=-1), "Invalid learning rate: -1"),
        (lambda: RMSprop(_p(), alpha=-0.1), "Invalid alpha value: -0.1"),
        (lambda: RMSprop(_p(), momentum=-1), "Invalid momentum value: -1"),
        (lambda: RMSprop(_p(), eps=-1), "Invalid epsilon value: -1"),
        (lambda: Adam(_p(), lr=-1), "Invalid learning rate: -1"),
        (lambda: Adam(_p(), betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (lambda: Adam(_p(), betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (lambda: Adam(_p(), eps=-1), "Invalid epsilon value: -1"),
        (lambda: Adam(_p(), betas=(0.9,)), "betas must be a pair"),
        (lambda: Adagrad(_p(), weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda: RMSprop(_p(), weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda: LBFGS(_p(), history_size=0), "Invalid history_size value: 0"),
        (lambda: AdamW(_p(), weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda: LBFGS(_p(), lr=-1), "Invalid learning rate: -1"),
        (lambda: LBFGS(_p(), line_search_fn="backtracking"), "strong_wolfe"),
        (lambda: LBFGS([{"params": _p()}, {"params": _p()}]), "parameter groups"),
        (lambda: SGD([]), "empty parameter list"),
    ],
)
def test_bad_hyperparameters(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make()


def test_lbfgs_step_needs_a_closure() -> None:
    opt = LBFGS(_p())
    with pytest.raises(TypeError, match="closure"):
        opt.step()


def test_defaults_are_torch_defaults() -> None:
    for name, cls in OURS.items():
        ours = cls(_p()).defaults
        theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
        for key, value in ours.items():
            assert theirs[key] == value, (name, key)
