"""Module, Parameter, containers, init and utils: PyTorch's semantics."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn as nn
from gradschool.nn import init
from gradschool.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


class Affine(nn.Module):
    def __init__(self, n: int, m: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(gs.randn(m, n))
        self.bias = nn.Parameter(gs.zeros(m))
        self.register_buffer("calls", gs.zeros(1))
        self.register_buffer("scratch", gs.zeros(1), persistent=False)

    def forward(self, x):
        self.calls.data += 1
        return x @ self.weight.T + self.bias


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(Affine(4, 8), nn.Identity(), Affine(8, 3))
        self.heads = nn.ModuleList([Affine(3, 2), Affine(3, 2)])
        self.named = nn.ModuleDict({"a": Affine(2, 1)})

    def forward(self, x):
        h = self.body(x)
        return self.named["a"](self.heads[0](h) + self.heads[1](h))


def test_registration_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
        "heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias",
        "named.a.weight", "named.a.bias",
    ]  # fmt: skip
    keys = list(net.state_dict())
    assert "body.0.calls" in keys and "body.0.scratch" not in keys
    assert len(list(net.parameters())) == 10
    assert [n for n, _ in net.named_modules()][:3] == ["", "body", "body.0"]
    assert len(list(net.children())) == 3
    assert net.get_submodule("body.2") is net.body[2]


def test_shared_parameter_listed_once():
    a = Affine(2, 2)
    seq = nn.Sequential(a, a)
    assert len(list(seq.parameters())) == 2


def test_train_eval_and_requires_grad():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_forward_backward_zero_grad():
    net = Net()
    out = net(gs.randn(5, 4)).sum()
    out.backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
    sd = a.state_dict()
    sd.pop("body.0.bias")
    with pytest.raises(RuntimeError, match='Missing key.*"body.0.bias"'):
        b.load_state_dict(sd)
    result = b.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["body.0.bias"]
    sd = a.state_dict()
    sd["body.0.weight"] = gs.zeros(3, 3)
    with pytest.raises(RuntimeError, match="size mismatch for body.0.weight"):
        b.load_state_dict(sd)


def test_load_torch_state_dict_and_same_keys():
    class GsMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(gs.zeros(3, 4))

    tm = torch.nn.Module()
    tm.weight = torch.nn.Parameter(torch.randn(3, 4))
    g = GsMLP()
    g.load_state_dict(tm.state_dict())
    np.testing.assert_allclose(g.weight.detach().numpy(), tm.weight.detach().numpy())


def test_hooks_and_repr():
    net = Net()
    seen = []
    handle = net.body.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    net(gs.randn(2, 4))
    handle.remove()
    net(gs.randn(2, 4))
    assert seen == [(2, 3)]
    pre = net.body.register_forward_pre_hook(lambda m, i: (i[0] * 0,))
    out = net.body(gs.ones(1, 4))
    pre.remove()
    np.testing.assert_allclose(
        out.detach().numpy(), net.body[2].bias.detach().numpy()[None] + 0 * out.detach().numpy()
    )
    text = repr(nn.Sequential(nn.Identity(), nn.Flatten()))
    assert text == "Sequential(\n  (0): Identity()\n  (1): Flatten(start_dim=1, end_dim=-1)\n)"
    assert repr(nn.Parameter(gs.ones(1))).startswith("Parameter containing:\ntensor([1.]")


def test_sequential_api():
    s = nn.Sequential(OrderedDict([("a", nn.Identity()), ("b", nn.Flatten())]))
    assert isinstance(s[1], nn.Flatten) and len(s) == 2 and isinstance(s[:1], nn.Sequential)
    s.append(nn.Identity())
    assert list(s._modules) == ["a", "b", "2"]
    x = gs.randn(2, 3, 4)
    assert s(x).shape == (2, 12)


def test_to_dtype_moves_parameters_and_buffers():
    net = Net().double()
    assert all(p.dtype == gs.float64 for p in net.parameters())
    assert all(b.dtype == gs.float64 for b in net.buffers())
    net.float()
    assert all(p.dtype == gs.float32 for p in net.parameters())


def test_init_matches_torch_statistics():
    gs.manual_seed(0)
    w = gs.empty(256, 128, 3, 3)
    t = torch.empty(256, 128, 3, 3)
    fan_in = 128 * 9
    init.kaiming_uniform_(w, a=math.sqrt(5))
    assert abs(w.numpy().max() - 1 / math.sqrt(fan_in)) < 1e-3
    for fn, tfn, kw in [
        (
            init.kaiming_normal_,
            torch.nn.init.kaiming_normal_,
            {"mode": "fan_out", "nonlinearity": "relu"},
        ),
        (init.xavier_uniform_, torch.nn.init.xavier_uniform_, {"gain": 2.0}),
        (init.xavier_normal_, torch.nn.init.xavier_normal_, {}),
        (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, {}),
    ]:
        fn(w, **kw)
        tfn(t, **kw)
        assert abs(w.numpy().std() - t.numpy().std()) / t.numpy().std() < 0.02, fn.__name__
    for name in ("linear", "sigmoid", "tanh", "relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2)
    )
    q = init.orthogonal_(gs.empty(6, 4))
    np.testing.assert_allclose(q.numpy().T @ q.numpy(), np.eye(4), atol=1e-5)
    z = init.zeros_(gs.empty(3))
    assert not z.numpy().any()
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(gs.empty(3))


def test_clip_grad_norm_matches_torch():
    rng = np.random.default_rng(0)
    arrays = [
        rng.standard_normal((3, 4)).astype(np.float32),
        rng.standard_normal(5).astype(np.float32),
    ]
    ours = [nn.Parameter(gs.tensor(a)) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    for o, t, a in zip(ours, theirs, arrays, strict=True):
        o.grad = gs.tensor(a * 10)
        t.grad = torch.tensor(a * 10)
    for norm_type in (2.0, 1.0, float("inf")):
        n1 = clip_grad_norm_(ours, 1.0, norm_type)
        n2 = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
        assert n1.item() == pytest.approx(n2.item(), rel=1e-5)
        for o, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-5)
    clip_grad_value_(ours, 0.01)
    assert np.abs(ours[0].grad.numpy()).max() <= 0.01
    vec = parameters_to_vector(ours)
    assert vec.shape == (17,)
    vector_to_parameters(vec * 0, ours)
    assert not ours[1].detach().numpy().any()


def test_reassigning_a_child_keeps_its_place():
    """As in PyTorch: replacing ``seq[0]`` (or a head) keeps the forward order and the keys."""
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    seq[0] = nn.Linear(2, 3)
    seq.add_module("2", nn.Linear(3, 5))
    assert list(seq._modules) == ["0", "1", "2"]
    assert tuple(seq(gs.randn(1, 2)).shape) == (1, 5)
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
