"""Learning-rate schedules against ``torch.optim.lr_scheduler``: the same optimiser setup
(three param groups with different rates) driven by both for 60 steps gives the same rates
(and momenta / betas for ``OneCycleLR``) to the last bit; resuming through ``state_dict`` (also
after a JSON round trip, and from PyTorch's own state_dict) or ``last_epoch`` continues the
same curve; ``ReduceLROnPlateau`` follows scripted metric sequences; errors and warnings.
"""

from __future__ import annotations

import copy
import json
import math
import warnings

import numpy as np
import pytest
import torch

import gradschool as gs
from gradschool.optim import lr_scheduler as ours
from gradschool.optim.optimizer import Optimizer

theirs = torch.optim.lr_scheduler
STEPS = 60
LRS = (0.1, 0.05, 0.3)


class _SGD(Optimizer):
    """A stand-in with SGD's hyperparameters (the schedules only read and write groups)."""

    def __init__(self, params, lr=0.1, momentum=0.0):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.data -= group["lr"] * p.grad.data


class _Adam(_SGD):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999)):
        Optimizer.__init__(self, params, {"lr": lr, "betas": betas})


def _optimizers(kind="sgd", lrs=LRS):
    groups_t = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    groups_g = [{"params": [gs.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "adam":
        return torch.optim.Adam(groups_t, lr=1e-3), _Adam(groups_g, lr=1e-3)
    return torch.optim.SGD(groups_t, lr=0.1, momentum=0.9), _SGD(groups_g, lr=0.1, momentum=0.9)


def _snapshot(opt, sched):
    """Everything a schedule sets: last lrs, group lrs, and momentum or beta1."""
    lrs = [float(v) for v in sched.get_last_lr()]
    groups = [
        (g["lr"], g.get("momentum"), g["betas"][0] if "betas" in g else None)
        for g in opt.param_groups
    ]
    return lrs, groups


# (name, optimizer kind, factory(module, optimizer) -> scheduler)
CASES = [
    ("step", "sgd", lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    ("multistep", "sgd", lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3)),
    ("exponential", "sgd", lambda m, o: m.ExponentialLR(o, gamma=0.93)),
    ("cosine", "sgd", lambda m, o: m.CosineAnnealingLR(o, T_max=STEPS)),
    ("cosine_periodic", "sgd", lambda m, o: m.CosineAnnealingLR(o, T_max=17, eta_min=0.001)),
    ("lambda", "sgd", lambda m, o: m.LambdaLR(o, lambda e: 0.97**e + 1 / (e + 1))),
    (
        "lambda_per_group",
        "sgd",
        lambda m, o: m.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1 + e, lambda e: e // 10]),
    ),
    ("linear", "sgd", lambda m, o: m.LinearLR(o)),
    ("linear_decay", "sgd", lambda m, o: m.LinearLR(o, 1.0, 0.05, total_iters=40)),
    ("onecycle", "sgd", lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5, 2.0], total_steps=STEPS)),
    (
        "onecycle_linear",
        "sgd",
        lambda m, o: m.OneCycleLR(
            o, 0.8, epochs=6, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear"
        ),
    ),
    (
        "onecycle_three_phase",
        "sgd",
        lambda m, o: m.OneCycleLR(
            o, 1.0, total_steps=STEPS, three_phase=True, base_momentum=[0.8, 0.85, 0.7]
        ),
    ),
    ("onecycle_adam", "adam", lambda m, o: m.OneCycleLR(o, 0.01, total_steps=STEPS)),
    (
        "onecycle_no_momentum",
        "sgd",
        lambda m, o: m.OneCycleLR(o, 0.5, total_steps=STEPS, cycle_momentum=False),
    ),
    (
        "sequential_warmup_cosine",
        "sgd",
        lambda m, o: m.SequentialLR(
            o, [m.LinearLR(o, 0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=50)], [5]
        ),
    ),
]
IDS = [c[0] for c in CASES]


def _run(opt, sched, steps):
    out = [_snapshot(opt, sched)]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(_snapshot(opt, sched))
    return out


@pytest.mark.parametrize(("name", "kind", "make"), CASES, ids=IDS)
def test_matches_pytorch(name, kind, make):
    topt, gopt = _optimizers(kind)
    tsched, gsched = make(theirs, topt), make(ours, gopt)
    assert _run(gopt, gsched, STEPS) == _run(topt, tsched, STEPS)  # bit for bit
    assert gsched.last_epoch == tsched.last_epoch
    for tg, gg in zip(topt.param_groups, gopt.param_groups, strict=True):
        assert gg["initial_lr"] == tg["initial_lr"]


@pytest.mark.parametrize(("name", "kind", "make"), CASES, ids=IDS)
def test_state_dict_keys_match_pytorch(name, kind, make):
    topt, gopt = _optimizers(kind)
    tstate, gstate = make(theirs, topt).state_dict(), make(ours, gopt).state_dict()
    assert set(gstate) == set(tstate)
    assert "optimizer" not in gstate


@pytest.mark.parametrize(("name", "kind", "make"), CASES, ids=IDS)
@pytest.mark.parametrize("source", ["gradschool_json", "pytorch"])
def test_resume_from_state_dict(name, kind, make, source):
    """Stop after 23 steps, rebuild optimizer and scheduler, load both states, go on: the
    curve is the uninterrupted PyTorch curve."""
    topt, gopt = _optimizers(kind)
    tsched, gsched = make(theirs, topt), make(ours, gopt)
    expected = _run(topt, tsched, STEPS)
    _run(gopt, gsched, 23)
    if source == "pytorch":  # PyTorch's own checkpoint of the same run loads into gradschool
        topt2, _ = _optimizers(kind)
        tsched2 = make(theirs, topt2)
        _run(topt2, tsched2, 23)
        opt_state, sched_state = topt2.state_dict(), tsched2.state_dict()
    else:  # a checkpoint is plain data: it survives JSON
        opt_state = gopt.state_dict()
        sched_state = json.loads(json.dumps(gsched.state_dict()))
    _, fresh = _optimizers(kind, lrs=(9.0, 9.0, 9.0))
    resumed = make(ours, fresh)  # scheduler first, then the states (PyTorch's order)
    fresh.load_state_dict(opt_state)
    resumed.load_state_dict(sched_state)
    assert _snapshot(fresh, resumed) == expected[23]
    assert _run(fresh, resumed, STEPS - 23) == expected[23:]


RESUMABLE = [c for c in CASES if not c[0].startswith(("onecycle", "sequential"))]


@pytest.mark.parametrize(("name", "kind", "make"), RESUMABLE, ids=[c[0] for c in RESUMABLE])
def test_last_epoch_argument(name, kind, make):
    """Constructing with ``last_epoch=k`` (groups carrying ``initial_lr``) behaves as PyTorch."""
    topt, gopt = _optimizers(kind)
    for opt in (topt, gopt):
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"] * 2
    k = 10
    tsched = _with_last_epoch(make, theirs, topt, k)
    gsched = _with_last_epoch(make, ours, gopt, k)
    assert gsched.last_epoch == tsched.last_epoch
    assert _run(gopt, gsched, 50) == _run(topt, tsched, 50)


def _with_last_epoch(make, module, opt, k):
    """The case's factory, with ``last_epoch=k`` added to the scheduler's constructor."""

    class Patched:
        def __getattr__(self, name):
            cls = getattr(module, name)
            return lambda *a, **kw: cls(*a, last_epoch=k, **kw)

    return make(Patched(), opt)


def test_closed_forms_match_pytorch():
    """``step(epoch)`` (deprecated) uses the closed form, as PyTorch does."""
    makers = [c for c in CASES if c[0] in ("step", "multistep", "exponential", "cosine", "linear")]
    for _, kind, make in makers:
        topt, gopt = _optimizers(kind)
        tsched, gsched = make(theirs, topt), make(ours, gopt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 9, 31, 7):
                topt.step()
                gopt.step()
                tsched.step(epoch)
                gsched.step(epoch)
                assert gsched.get_last_lr() == tsched.get_last_lr()


def test_cosine_reaches_eta_min_and_follows_closed_form():
    _, opt = _optimizers()
    sched = ours.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for t in range(1, 11):
        opt.step()
        sched.step()
        closed = [0.01 + (b - 0.01) * (1 + math.cos(math.pi * t / 10)) / 2 for b in LRS]
        np.testing.assert_allclose(sched.get_last_lr(), closed, rtol=1e-12)
    np.testing.assert_allclose(sched.get_last_lr(), [0.01] * 3, rtol=1e-12)


# ----------------------------------------------------------------- ReduceLROnPlateau
def test_plateau_by_hand():
    _, opt = _optimizers(lrs=(1.0,))
    sched = ours.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    lrs = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4]:
        sched.step(gs.tensor(float(metric)))  # a one-element tensor works as a metric
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25]


def _metrics(seed):
    rng = np.random.default_rng(seed)
    scripted = [1.0, 0.9, 0.9, 0.95, 0.89995, 0.7, 0.71, 0.72, 0.73, 0.74, 0.69, 0.69, 0.6899]
    walk = 0.69 + np.cumsum(rng.normal(0, 0.02, STEPS - len(scripted)))
    return scripted + walk.tolist()


PLATEAU = [
    {},
    {"patience": 0, "factor": 0.5},
    {"patience": 2, "cooldown": 2, "factor": 0.5},
    {"mode": "max", "patience": 1, "factor": 0.7},
    {"threshold_mode": "abs", "threshold": 0.01, "patience": 1, "factor": 0.5},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.005, "patience": 1},
    {"patience": 0, "factor": 0.5, "min_lr": [0.02, 0.001, 0.1]},
    {"patience": 0, "factor": 0.5, "min_lr": 0.01, "eps": 0.01},
]


@pytest.mark.parametrize("kwargs", PLATEAU)
@pytest.mark.parametrize("seed", [0, 1])
def test_plateau_matches_pytorch(kwargs, seed):
    topt, gopt = _optimizers()
    tsched = theirs.ReduceLROnPlateau(topt, **kwargs)
    gsched = ours.ReduceLROnPlateau(gopt, **kwargs)
    assert set(gsched.state_dict()) == set(tsched.state_dict())
    for i, metric in enumerate(_metrics(seed)):
        if i == 30:  # resume halfway through a JSON checkpoint
            state = json.loads(json.dumps(gsched.state_dict()))
            _, fresh = _optimizers(lrs=(9.0, 9.0, 9.0))
            fresh.load_state_dict(gopt.state_dict())
            gopt, gsched = fresh, ours.ReduceLROnPlateau(fresh, mode="max")
            gsched.load_state_dict(state)
        tsched.step(metric)
        gsched.step(metric)
        assert gsched.get_last_lr() == tsched.get_last_lr()
        assert [g["lr"] for g in gopt.param_groups] == [g["lr"] for g in topt.param_groups]
        assert (gsched.best, gsched.num_bad_epochs, gsched.cooldown_counter) == (
            tsched.best,
            tsched.num_bad_epochs,
            tsched.cooldown_counter,
        )


# ----------------------------------------------------------------- behaviour
def test_warns_when_scheduler_steps_before_optimizer():
    _, opt = _optimizers()
    sched = ours.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    _, opt = _optimizers()
    sched = ours.StepLR(opt, 3)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
        sched.get_last_lr()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_tracked_step_follows_deepcopy():
    """The wrapped ``optimizer.step`` of a deep copy steps the copy, not the original."""
    p = gs.ones(2, requires_grad=True)
    opt = _SGD([p], lr=1.0)
    ours.ExponentialLR(opt, 0.5)
    twin = copy.deepcopy(opt)
    q = twin.param_groups[0]["params"][0]
    q.grad = gs.ones(2)
    twin.step()
    assert p.data.tolist() == [1.0, 1.0] and q.data.tolist() == [0.0, 0.0]
    assert twin.step.__doc__ == _SGD.step.__doc__


def test_tensor_learning_rate_is_updated_in_place():
    lr = gs.tensor(0.1, dtype=gs.float64)
    opt = _SGD([gs.zeros(2, requires_grad=True)], lr=lr)
    sched = ours.StepLR(opt, step_size=1, gamma=0.5)
    last = sched.get_last_lr()[0]
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and float(lr) == 0.05
    assert float(last) == 0.1  # get_last_lr returns copies, never the optimizer's tensor


def test_lambda_state_dict_skips_functions_keeps_callable_objects():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.n)

    _, opt = _optimizers(lrs=(1.0, 1.0))
    sched = ours.LambdaLR(opt, [lambda e: 1.0, Warmup(4)])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"n": 4}]
    _, opt2 = _optimizers(lrs=(1.0, 1.0))
    other = ours.LambdaLR(opt2, [lambda e: 2.0, Warmup(10)])
    other.load_state_dict(state)
    assert other.lr_lambdas[1].n == 4 and other.lr_lambdas[0](0) == 2.0


def test_errors_name_the_problem():
    _, opt = _optimizers()
    with pytest.raises(TypeError, match="gradschool.optim.Optimizer.*torch.optim.sgd.SGD"):
        ours.StepLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), 3)
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 0"):
        ours.StepLR(opt, 0)
    with pytest.raises(ValueError, match="T_max must be positive"):
        ours.CosineAnnealingLR(opt, 0)
    with pytest.raises(ValueError, match="expected 3 lr_lambdas.*got 2"):
        ours.LambdaLR(opt, [lambda e: 1, lambda e: 1])
    with pytest.raises(ValueError, match="start_factor must be in"):
        ours.LinearLR(opt, start_factor=0)
    with pytest.raises(KeyError, match="initial_lr"):
        ours.ExponentialLR(_optimizers()[1], 0.9, last_epoch=3)
    with pytest.raises(ValueError, match="total_steps or both epochs and steps_per_epoch"):
        ours.OneCycleLR(opt, 0.1)
    with pytest.raises(ValueError, match="max_lr must have one value per param group"):
        ours.OneCycleLR(opt, [0.1, 0.2], total_steps=10)
    with pytest.raises(ValueError, match="pct_start"):
        ours.OneCycleLR(opt, 0.1, total_steps=10, pct_start=2)
    plain = Optimizer([gs.zeros(1, requires_grad=True)], {"lr": 0.1})
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        ours.OneCycleLR(plain, 0.1, total_steps=10)
    _, opt = _optimizers()
    one = ours.OneCycleLR(opt, 0.1, total_steps=3)
    with pytest.raises(ValueError, match="tried to step 4 times, but total_steps is 3"):
        for _ in range(4):
            opt.step()
            one.step()
    with pytest.raises(ValueError, match="factor must be < 1.0"):
        ours.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'minimum'"):
        ours.ReduceLROnPlateau(opt, mode="minimum")
    with pytest.raises(ValueError, match="expected 3 min_lrs"):
        ours.ReduceLROnPlateau(opt, min_lr=[0.1])
    with pytest.raises(ValueError, match="one milestone fewer"):
        ours.SequentialLR(opt, [ours.StepLR(opt, 2)], [3])


def test_tracked_step_holds_no_reference_cycle():
    import gc
    import weakref

    gc.disable()
    try:
        opt = _SGD([gs.zeros(2, requires_grad=True)])
        ours.StepLR(opt, 3)
        alive = weakref.ref(opt)
        del opt
        assert alive() is None  # freed by reference counting alone
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("opt_name", "make"),
    [
        ("SGD", lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=40)),
        ("Adam", lambda m, o: m.OneCycleLR(o, max_lr=0.05, total_steps=40, three_phase=True)),
        ("SGD", lambda m, o: m.CosineAnnealingLR(o, T_max=15)),
    ],
)
def test_schedules_drive_the_real_optimizers(opt_name, make):
    """End to end: the scheduled rates (and cycled momentum) reach the update rule, and the
    weights follow PyTorch's over 40 steps on a least-squares problem."""
    optim_module = pytest.importorskip(f"gradschool.optim.{opt_name.lower()}")
    rng = np.random.default_rng(1)
    a, b, w0 = rng.standard_normal((8, 3)), rng.standard_normal(8), rng.standard_normal(3)
    kwargs = {"lr": 0.1, "momentum": 0.9} if opt_name == "SGD" else {"lr": 0.01}
    tw = torch.tensor(w0, requires_grad=True)
    gw = gs.tensor(w0, dtype=gs.float64, requires_grad=True)
    topt = getattr(torch.optim, opt_name)([tw], **kwargs)
    gopt = getattr(optim_module, opt_name)([gw], **kwargs)
    tsched, gsched = make(theirs, topt), make(ours, gopt)
    ta, tb, ga, gb = (
        torch.tensor(a),
        torch.tensor(b),
        gs.tensor(a, dtype=gs.float64),
        gs.tensor(b, dtype=gs.float64),
    )
    for _ in range(40):
        for opt, w, x, y in ((topt, tw, ta, tb), (gopt, gw, ga, gb)):
            opt.zero_grad()
            ((x @ w - y) ** 2).mean().backward()
            opt.step()
        tsched.step()
        gsched.step()
        assert gsched.get_last_lr() == tsched.get_last_lr()
    np.testing.assert_allclose(gw.detach().numpy(), tw.detach().numpy(), rtol=1e-10)
