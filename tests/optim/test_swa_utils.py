"""Weight averaging against ``torch.optim.swa_utils``: a small net with batch norm and its
``torch.nn`` twin get the same weights at every step; the averaged parameters and buffers
(equal weights, EMA through ``avg_fn`` and ``multi_avg_fn``, with and without
``use_buffers``) equal PyTorch's after several updates; ``update_bn`` recomputes the same
statistics; ``SWALR`` gives PyTorch's rates and resumes from a JSON ``state_dict``.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn as nn
from gradschool.optim import swa_utils as ours
from gradschool.optim.optimizer import Optimizer

theirs = torch.optim.swa_utils
RNG = np.random.default_rng(0)


def _net(m):
    return m.Sequential(m.Linear(4, 8), m.BatchNorm1d(8), m.ReLU(), m.Linear(8, 3))


def _random_state(model):
    """New random values for every parameter and buffer (one SGD 'step' of the walk)."""
    state = {}
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            state[k] = np.array(RNG.integers(0, 50), dtype=np.int64)
        elif k.endswith("running_var"):
            state[k] = RNG.uniform(0.5, 2.0, v.shape).astype(np.float32)
        else:
            state[k] = RNG.standard_normal(v.shape).astype(np.float32)
    return state


def _load(gmodel, tmodel, state):
    gmodel.load_state_dict(state)
    tmodel.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})


def _assert_same_state(gmodel, tmodel, exact):
    tstate = tmodel.state_dict()
    gstate = gmodel.state_dict()
    assert list(gstate) == list(tstate)
    for k, v in gstate.items():
        expected = tstate[k].numpy()
        assert v.numpy().dtype == expected.dtype, k
        if exact or expected.dtype.kind != "f":
            np.testing.assert_array_equal(v.numpy(), expected, err_msg=k)
        else:
            np.testing.assert_allclose(v.numpy(), expected, rtol=1e-6, atol=1e-7, err_msg=k)


# (name, kwargs for gradschool, kwargs for torch, bit-exact?)
AVERAGING = [
    ("swa", {}, {}, True),
    ("swa_buffers", {"use_buffers": True}, {"use_buffers": True}, True),
    (
        "ema_avg_fn",
        {"avg_fn": ours.get_ema_avg_fn(0.9)},
        {"avg_fn": theirs.get_ema_avg_fn(0.9)},
        False,
    ),
    (
        "ema_multi",
        {"multi_avg_fn": ours.get_ema_multi_avg_fn(0.9)},
        {"multi_avg_fn": theirs.get_ema_multi_avg_fn(0.9)},
        False,
    ),
    (
        "ema_multi_buffers",
        {"multi_avg_fn": ours.get_ema_multi_avg_fn(0.3), "use_buffers": True},
        {"multi_avg_fn": theirs.get_ema_multi_avg_fn(0.3), "use_buffers": True},
        False,
    ),
    (
        "ema_avg_fn_buffers",
        {"avg_fn": ours.get_ema_avg_fn(0.999), "use_buffers": True},
        {"avg_fn": theirs.get_ema_avg_fn(0.999), "use_buffers": True},
        False,
    ),
    (
        "swa_multi",
        {"multi_avg_fn": ours.get_swa_multi_avg_fn()},
        {"multi_avg_fn": theirs.get_swa_multi_avg_fn()},
        False,
    ),
    (
        "swa_avg_fn_buffers",
        {"avg_fn": ours.get_swa_avg_fn(), "use_buffers": True},
        {"avg_fn": theirs.get_swa_avg_fn(), "use_buffers": True},
        False,
    ),
]


@pytest.mark.parametrize(("name", "gkw", "tkw", "exact"), AVERAGING, ids=[a[0] for a in AVERAGING])
def test_averaged_model_matches_pytorch(name, gkw, tkw, exact):
    gmodel, tmodel = _net(nn), _net(torch.nn)
    _load(gmodel, tmodel, _random_state(gmodel))
    gavg, tavg = ours.AveragedModel(gmodel, **gkw), theirs.AveragedModel(tmodel, **tkw)
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    for _ in range(6):
        _load(gmodel, tmodel, _random_state(gmodel))
        gavg.update_parameters(gmodel)
        tavg.update_parameters(tmodel)
        _assert_same_state(gavg, tavg, exact)
    assert int(gavg.n_averaged.item()) == 6
    gavg.eval()
    tavg.eval()
    with torch.no_grad():
        expected = tavg(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(gavg(gs.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_equal_average_is_the_mean():
    model = nn.Linear(3, 2)
    avg = ours.AveragedModel(model)
    snapshots = []
    for _ in range(5):
        model.weight.data[...] = RNG.standard_normal((2, 3))
        snapshots.append(model.weight.data.copy())
        avg.update_parameters(model)
    np.testing.assert_allclose(avg.module.weight.data, np.mean(snapshots, axis=0), rtol=1e-6)
    assert avg.module.weight.data.dtype == np.float32


def test_deepcopy_makes_an_independent_module():
    model = _net(nn)
    avg = ours.AveragedModel(model)
    for p, q in zip(avg.module.parameters(), model.parameters(), strict=True):
        assert type(p) is type(q) and p.requires_grad
        assert not np.shares_memory(p.data, q.data)
        np.testing.assert_array_equal(p.data, q.data)
    model[0].weight.data[...] = 0
    assert np.any(avg.module[0].weight.data != 0)
    assert list(avg.state_dict())[0] == "n_averaged"
    assert avg.n_averaged.dtype == gs.int64


def test_buffers_follow_the_model_without_use_buffers():
    model = _net(nn)
    avg = ours.AveragedModel(model, device="cpu")
    model.train()
    model(gs.randn(5, 4))
    avg.update_parameters(model)
    np.testing.assert_array_equal(avg.module[1].running_mean.data, model[1].running_mean.data)
    assert int(avg.module[1].num_batches_tracked.item()) == 1


def test_update_is_in_place_and_builds_no_graph():
    model = nn.Linear(3, 2)
    avg = ours.AveragedModel(model, multi_avg_fn=ours.get_ema_multi_avg_fn(0.5))
    weight = avg.module.weight
    array = weight.data
    for _ in range(3):
        avg.update_parameters(model)
    assert avg.module.weight is weight and weight.data is array
    assert weight.grad is None and weight.grad_fn is None


def test_update_bn_matches_pytorch():
    gmodel, tmodel = _net(nn), _net(torch.nn)
    _load(gmodel, tmodel, _random_state(gmodel))
    batches = [RNG.standard_normal((n, 4)).astype(np.float32) for n in (8, 5, 8, 3)]
    gloader = [(gs.tensor(b), gs.zeros(len(b))) for b in batches]  # (input, target) pairs
    tloader = [torch.from_numpy(b) for b in batches]  # bare tensors
    gmodel.eval()
    tmodel.eval()
    ours.update_bn(gloader, gmodel)
    theirs.update_bn(tloader, tmodel)
    _assert_same_state(gmodel, tmodel, exact=False)
    assert not gmodel.training and gmodel[1].momentum == 0.1
    # momentum=None makes the running mean the plain average of the batch means
    hidden = np.concatenate(batches) @ gmodel[0].weight.data.T + gmodel[0].bias.data
    batch_means = [h.mean(0) for h in np.split(hidden, [8, 13, 21])]
    np.testing.assert_allclose(
        gmodel[1].running_mean.data, np.mean(batch_means, axis=0), rtol=1e-5, atol=1e-6
    )
    ours.update_bn(gloader, nn.Linear(4, 2))  # no batch norm: nothing to do


def test_swa_in_a_training_loop():
    """SWA over the end of a noisy walk lands nearer the minimum than the last iterate."""
    target = np.array([[1.0, -2.0, 0.5]], dtype=np.float32)
    model = nn.Linear(3, 1, bias=False)
    avg = ours.AveragedModel(model)
    for _ in range(200):
        model.weight.data[...] = target + RNG.normal(0, 0.3, target.shape)
        avg.update_parameters(model)
    last = np.abs(model.weight.data - target).max()
    averaged = np.abs(avg.module.weight.data - target).max()
    assert averaged < 0.1 < last or averaged < last / 3


def test_errors():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="avg_fn or multi_avg_fn, not both"):
        ours.AveragedModel(
            model, avg_fn=ours.get_swa_avg_fn(), multi_avg_fn=ours.get_swa_multi_avg_fn()
        )
    with pytest.raises(TypeError, match="expected an nn.Module"):
        ours.AveragedModel(torch.nn.Linear(2, 2))
    avg = ours.AveragedModel(model)
    with pytest.raises(ValueError, match="the model has 1 parameters, the averaged copy has 2"):
        avg.update_parameters(nn.Linear(2, 2, bias=False))
    with pytest.raises(ValueError, match=r"shape \(3, 2\) in the model but \(2, 2\)"):
        avg.update_parameters(nn.Linear(2, 3))
    with pytest.raises(ValueError, match="decay must be in"):
        ours.get_ema_multi_avg_fn(1.5)


# ----------------------------------------------------------------- SWALR
class _SGD(Optimizer):
    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        pass


def _optimizers(lrs=(0.1, 0.05, 0.3)):
    t = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], lr=0.1
    )
    g = _SGD([{"params": [gs.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs])
    return t, g


SWALR_CASES = [
    {"swa_lr": 0.01},
    {"swa_lr": [0.01, 0.2, 0.05], "anneal_epochs": 5, "anneal_strategy": "linear"},
    {"swa_lr": 0.02, "anneal_epochs": 0},
    {"swa_lr": 0.5, "anneal_epochs": 7, "anneal_strategy": "cos"},
]


@pytest.mark.parametrize("kwargs", SWALR_CASES)
def test_swalr_matches_pytorch_and_resumes(kwargs):
    topt, gopt = _optimizers()
    tsched, gsched = theirs.SWALR(topt, **kwargs), ours.SWALR(gopt, **kwargs)
    assert set(gsched.state_dict()) == set(tsched.state_dict())
    for i in range(30):
        if i == 12:  # resume from a JSON checkpoint
            state = json.loads(json.dumps(gsched.state_dict()))
            opt_state = copy.deepcopy(gopt.state_dict())
            _, gopt = _optimizers(lrs=(9.0, 9.0, 9.0))
            gsched = ours.SWALR(gopt, swa_lr=1.0, anneal_strategy="linear")
            gopt.load_state_dict(opt_state)
            gsched.load_state_dict(state)
        topt.step()
        gopt.step()
        tsched.step()
        gsched.step()
        assert gsched.get_last_lr() == tsched.get_last_lr()
        assert [g["lr"] for g in gopt.param_groups] == [g["lr"] for g in topt.param_groups]


def test_swalr_errors():
    _, opt = _optimizers()
    with pytest.raises(ValueError, match="anneal_strategy must be 'cos' or 'linear'"):
        ours.SWALR(opt, 0.1, anneal_strategy="cosine")
    with pytest.raises(ValueError, match="anneal_epochs must be an integer >= 0, got -1"):
        ours.SWALR(opt, 0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="swa_lr must have one value per param group"):
        ours.SWALR(opt, [0.1, 0.2])
