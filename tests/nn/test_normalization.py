"""Normalisation layers against their torch.nn twins, the graph vs closed-form batch norm
backward, running statistics over several steps, and the errors a learner sees.

Values and gradients of the functional ops are in tests/parity/specs_nn_norm.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn as nn
import gradschool.nn.functional as F
from gradschool.testing import gradcheck_directional

torch.set_num_threads(1)

DTYPES = {"float32": (gs.float32, torch.float32), "float64": (gs.float64, torch.float64)}


def tol(dtype):
    return {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-9, "atol": 1e-11}


def close(ours, theirs, dtype, what=""):
    a = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    b = theirs.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    np.testing.assert_allclose(a, b, err_msg=what, **tol(dtype))


def twins(ours, theirs, dtype):
    """Cast both modules to ``dtype`` and give ours the torch twin's (randomised) state."""
    gdt, tdt = DTYPES[dtype]
    theirs.to(tdt)
    ours.to(gdt)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=tdt))
        for name, b in theirs.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=gen, dtype=tdt))
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=gen, dtype=tdt) + 0.5)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def same_state(ours, theirs, dtype):
    """Same state_dict keys, shapes, dtypes and values."""
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    for k in b:
        if b[k].dtype.is_floating_point:
            close(a[k], b[k], dtype, k)
        else:
            np.testing.assert_array_equal(a[k].numpy(), b[k].numpy(), err_msg=k)
            assert a[k].numpy().dtype == b[k].numpy().dtype


def step(ours, theirs, x, dtype, what):
    """One forward + backward through both; compare outputs and every gradient."""
    gdt, tdt = DTYPES[dtype]
    xg = gs.tensor(x, dtype=gdt, requires_grad=True)
    xt = torch.tensor(x, dtype=tdt, requires_grad=True)
    yg, yt = ours(xg), theirs(xt)
    close(yg, yt, dtype, f"{what} output")
    g = np.random.default_rng(1).standard_normal(yt.shape)
    yg.backward(gs.tensor(g, dtype=gdt))
    yt.backward(torch.tensor(g, dtype=tdt))
    close(xg.grad, xt.grad, dtype, f"{what} input grad")
    for (name, p), (tname, tp) in zip(
        ours.named_parameters(), theirs.named_parameters(), strict=True
    ):
        assert name == tname
        close(p.grad, tp.grad, dtype, f"{what} grad of {name}")
        p.grad, tp.grad = None, None


# ---------------------------------------------------------------- batch norm
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("cls", "shape"),
    [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 5, 5))],
)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_matches_torch_over_training_steps(cls, shape, momentum, dtype):
    """Three training steps (outputs, gradients, running statistics, batch counter after
    each), then evaluation with the running statistics."""
    ours, theirs = twins(
        getattr(nn, cls)(3, momentum=momentum), getattr(torch.nn, cls)(3, momentum=momentum), dtype
    )
    rng = np.random.default_rng(0)
    for i in range(4):
        step(ours, theirs, rng.standard_normal(shape) * 2 + 1, dtype, f"train step {i}")
        same_state(ours, theirs, dtype)
    ours.eval()
    theirs.eval()
    step(ours, theirs, rng.standard_normal(shape), dtype, "eval")
    same_state(ours, theirs, dtype)  # evaluation leaves the running statistics alone


@pytest.mark.parametrize(
    "kwargs",
    [
        {"affine": False},
        {"track_running_stats": False},
        {"affine": False, "track_running_stats": False},
        {"bias": False},
        {"eps": 1e-3, "momentum": 0.5},
    ],
)
def test_batch_norm_options_match_torch(kwargs):
    ours, theirs = twins(nn.BatchNorm2d(4, **kwargs), torch.nn.BatchNorm2d(4, **kwargs), "float64")
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(0)
    for i in range(3):
        step(ours, theirs, rng.standard_normal((3, 4, 2, 3)), "float64", f"train {i}")
        same_state(ours, theirs, "float64")
    ours.eval()
    theirs.eval()
    step(ours, theirs, rng.standard_normal((2, 4, 2, 3)), "float64", "eval")


def test_batch_norm_state_dict_and_buffers():
    ours, theirs = nn.BatchNorm2d(5), torch.nn.BatchNorm2d(5)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in ours.named_buffers()] == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert ours.num_batches_tracked.dtype == gs.int64
    assert ours.running_mean.dtype == gs.float32
    # the running statistics are updated in place: the buffer arrays stay the same objects
    mean = ours.running_mean.data
    ours(gs.randn(4, 5, 3, 3))
    assert ours.running_mean.data is mean
    assert int(ours.num_batches_tracked) == 1
    assert not np.allclose(mean, 0)


def test_batch_norm_float32_stays_float32():
    bn = nn.BatchNorm2d(3)
    x = gs.randn(4, 3, 2, 2, requires_grad=True)
    y = bn(x)
    y.sum().backward()
    assert y.dtype == gs.float32 and x.grad.dtype == gs.float32
    assert bn.weight.grad.dtype == gs.float32 and bn.running_var.dtype == gs.float32


def test_batch_norm_normalises():
    """Training output: zero mean and unit (biased) variance per channel, gamma=1, beta=0."""
    x = gs.randn(16, 3, 4, 4, dtype=gs.float64) * 5 + 3
    y = nn.BatchNorm2d(3).double()(x).detach().numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 3, 4, 5)])
def test_batch_norm_graph_equals_closed_form(shape, training):
    """The course's check: backward through the graph == the simplified closed form, and
    both update the running statistics the same way."""
    rng = np.random.default_rng(0)
    x0, w0, b0 = rng.standard_normal(shape), rng.standard_normal(3), rng.standard_normal(3)
    g = rng.standard_normal(shape)
    results = []
    for fn in (F.batch_norm, F.batch_norm_graph):
        x = gs.tensor(x0, requires_grad=True)
        w = gs.tensor(w0, requires_grad=True)
        b = gs.tensor(b0, requires_grad=True)
        rm, rv = gs.tensor(rng.standard_normal(3) * 0), gs.tensor(np.ones(3))
        y = fn(x, rm, rv, w, b, training=training, momentum=0.3)
        y.backward(gs.tensor(g))
        results.append([y.detach(), x.grad, w.grad, b.grad, rm, rv])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_gradcheck_big_input():
    x = gs.randn(16, 8, 6, 6, dtype=gs.float64, requires_grad=True)
    w = gs.randn(8, dtype=gs.float64, requires_grad=True)
    b = gs.randn(8, dtype=gs.float64, requires_grad=True)
    fn = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    assert gradcheck_directional(fn, (x, w, b))


def test_batch_norm_errors():
    bn = nn.BatchNorm2d(16)
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16\) expected 16 channels, got 3"):
        bn(gs.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16\) expected 4D .* got 3D"):
        bn(gs.randn(16, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\) expected 2D .* got 4D"):
        nn.BatchNorm1d(3)(gs.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(gs.randn(1, 3))
    nn.BatchNorm1d(3).eval()(gs.randn(1, 3))  # fine in evaluation
    with pytest.raises(TypeError, match="BatchNorm2d"):
        bn(np.zeros((2, 16, 3, 3)))
    x = gs.randn(4, 3)
    with pytest.raises(ValueError, match=r"batch_norm: expected running_mean of shape \(3,\)"):
        F.batch_norm(x, gs.zeros(4), gs.ones(4))
    with pytest.raises(ValueError, match="evaluation mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"batch_norm: expected weight of shape \(3,\)"):
        F.batch_norm(x, None, None, gs.ones(2), training=True)
    with pytest.raises(ValueError, match="batch_norm: expected an input of shape"):
        F.batch_norm(gs.randn(4), None, None, training=True)
    with pytest.raises(TypeError, match="batch_norm: expected a floating point input"):
        F.batch_norm(gs.tensor([[1, 2], [3, 4]]), None, None, training=True)


# ---------------------------------------------------------------- layer, group, instance, LRN
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda m: m.LayerNorm(6), (4, 6)),
        (lambda m: m.LayerNorm((3, 4, 5)), (2, 3, 4, 5)),
        (lambda m: m.LayerNorm(5, elementwise_affine=False), (2, 3, 5)),
        (lambda m: m.LayerNorm(5, bias=False), (2, 3, 5)),
        (lambda m: m.GroupNorm(2, 6), (3, 6, 4, 4)),
        (lambda m: m.GroupNorm(3, 3, affine=False), (2, 3, 5)),
        (lambda m: m.GroupNorm(1, 4), (2, 4, 3, 3)),
        (lambda m: m.InstanceNorm2d(3), (2, 3, 4, 4)),
        (lambda m: m.InstanceNorm2d(3, affine=True), (2, 3, 4, 5)),
        (lambda m: m.InstanceNorm2d(3, affine=True), (3, 4, 5)),  # unbatched
        (lambda m: m.InstanceNorm1d(3, affine=True), (2, 3, 7)),
        (lambda m: m.LocalResponseNorm(3), (2, 6, 4, 4)),
        (lambda m: m.LocalResponseNorm(4, alpha=0.5, beta=1.2, k=2.0), (2, 5, 3)),
        (lambda m: m.BatchNorm3d(3), (2, 3, 2, 3, 2)),
    ],
)
def test_layers_match_torch(make, shape, dtype):
    ours, theirs = twins(make(nn), make(torch.nn), dtype)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    rng = np.random.default_rng(0)
    for i in range(2):
        step(ours, theirs, rng.standard_normal(shape) * 3, dtype, f"train {i}")
    ours.eval()
    theirs.eval()
    step(ours, theirs, rng.standard_normal(shape), dtype, "eval")


@pytest.mark.parametrize("momentum", [0.1, None])
def test_instance_norm_running_stats_match_torch(momentum):
    kw = {"affine": True, "track_running_stats": True, "momentum": momentum}
    ours, theirs = twins(nn.InstanceNorm2d(3, **kw), torch.nn.InstanceNorm2d(3, **kw), "float64")
    rng = np.random.default_rng(0)
    for i in range(3):
        step(ours, theirs, rng.standard_normal((4, 3, 3, 4)) + 2, "float64", f"train {i}")
        same_state(ours, theirs, "float64")
    ours.eval()
    theirs.eval()
    step(ours, theirs, rng.standard_normal((2, 3, 3, 4)), "float64", "eval (running stats)")


def test_layer_norm_gradcheck_big_input():
    x = gs.randn(8, 10, 32, dtype=gs.float64, requires_grad=True)
    w = gs.randn(32, dtype=gs.float64, requires_grad=True)
    b = gs.randn(32, dtype=gs.float64, requires_grad=True)
    assert gradcheck_directional(lambda x, w, b: F.layer_norm(x, 32, w, b), (x, w, b))


def test_normalization_errors():
    with pytest.raises(ValueError, match=r"layer_norm: given normalized_shape=\[4\]"):
        nn.LayerNorm(4)(gs.randn(2, 3))
    with pytest.raises(ValueError, match="num_channels .6. must be divisible by num_groups .4."):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 6\) expected .* 6 channels, got 4"):
        nn.GroupNorm(2, 6)(gs.randn(2, 4, 3))
    with pytest.raises(ValueError, match="group_norm: expected the number of channels"):
        F.group_norm(gs.randn(2, 6, 3), 4)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(gs.randn(2, 3, 1, 1))
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(3\) expected 3 channels, got 4"):
        nn.InstanceNorm2d(3, affine=True)(gs.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(3\) expected 3D .* got 2D"):
        nn.InstanceNorm2d(3)(gs.randn(3, 3))
    with pytest.raises(ValueError, match="local_response_norm: expected 3D or higher"):
        nn.LocalResponseNorm(2)(gs.randn(2, 3))
    with pytest.raises(ValueError, match="LocalResponseNorm: size must be a positive int"):
        nn.LocalResponseNorm(0)
    with pytest.raises(ValueError, match="eps must be non-negative"):
        F.layer_norm(gs.randn(2, 3), 3, eps=-1.0)


def test_empty_batch_matches_torch():
    """An empty batch gives an empty output and leaves the running statistics alone."""
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    x = gs.zeros(0, 3, 2, 2, requires_grad=True)
    y = ours(x)
    y.sum().backward()
    assert tuple(y.shape) == tuple(theirs(torch.zeros(0, 3, 2, 2)).shape)
    assert x.grad.shape == (0, 3, 2, 2)
    same_state(ours, theirs, "float32")
    assert F.layer_norm(gs.zeros(0, 4), 4).shape == (0, 4)
    assert F.group_norm(gs.zeros(0, 4, 3), 2).shape == (0, 4, 3)
