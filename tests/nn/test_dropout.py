"""Dropout: inverted scaling in training, identity in evaluation, the gradient through the
mask, whole-channel masks for dropout2d, seeding, in-place use, and the errors.

A random op cannot match PyTorch's draws, so its deterministic cases (evaluation, p = 0,
p = 1) are parity rows in tests/parity/specs_nn_norm.py and the random ones are checked here
by their properties.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn as nn
import gradschool.nn.functional as F


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_train_scales_kept_units_and_preserves_the_mean(p):
    gs.manual_seed(0)
    x = gs.ones(200, 500)
    y = F.dropout(x, p=p).numpy()
    assert y.dtype == np.float32
    kept = y != 0
    np.testing.assert_allclose(y[kept], np.float32(1 / (1 - p)), rtol=1e-6)
    n = y.size
    assert abs((1 - kept.mean()) - p) < 5 * math.sqrt(p * (1 - p) / n)  # dropped fraction ~ p
    assert abs(y.mean() - 1.0) < 5 * math.sqrt(p / (1 - p) / n)  # the expected value is kept


@pytest.mark.parametrize("dtype", [gs.float32, gs.float64])
def test_dropout_gradient_is_mask_over_keep_probability(dtype):
    gs.manual_seed(1)
    p = 0.4
    x = gs.randn(30, 40, dtype=dtype, requires_grad=True)
    y = F.dropout(x, p=p)
    g = np.random.default_rng(0).standard_normal(x.shape).astype(x.data.dtype)
    y.backward(gs.tensor(g))
    mask = y.detach().numpy() != 0
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.numpy(), g * mask / (1 - p), rtol=1e-6)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() * mask / (1 - p), rtol=1e-6)
    assert not mask.all() and mask.any()


def test_dropout_eval_and_p0_are_identity():
    x = gs.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout2d(gs.randn(2, 3, 4, 4), 0.5, training=False).shape == (2, 3, 4, 4)
    y = F.dropout(x, 0.0, training=True)
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())
    drop = nn.Dropout(0.7)
    drop.eval()
    assert drop(x) is x
    drop.train()
    assert (drop(x).detach().numpy() == 0).any()


def test_dropout_p1_drops_everything():
    x = gs.randn(6, 7, requires_grad=True)
    y = F.dropout(x, 1.0)
    y.sum().backward()
    assert not y.detach().numpy().any() and not x.grad.numpy().any()
    assert np.isfinite(y.detach().numpy()).all()


def test_dropout_repeats_under_manual_seed():
    x = gs.randn(50, 50)
    gs.manual_seed(123)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    gs.manual_seed(123)
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("shape", [(8, 16, 5, 5), (8, 16, 7)])
def test_dropout2d_drops_whole_channels(shape):
    gs.manual_seed(0)
    p = 0.5
    x = gs.tensor(np.random.default_rng(0).uniform(1, 2, shape), requires_grad=True)
    y = F.dropout2d(x, p)
    y.backward(gs.ones(*shape))
    out = y.detach().numpy().reshape(shape[0], shape[1], -1)
    dropped = (out == 0).all(axis=2)
    kept = np.isclose(out, x.detach().numpy().reshape(out.shape) / (1 - p)).all(axis=2)
    assert (dropped | kept).all(), "every channel is either dropped or kept whole"
    assert dropped.any() and kept.any()
    grad = x.grad.numpy().reshape(out.shape)
    expected = np.broadcast_to(np.where(dropped[..., None], 0.0, 1 / (1 - p)), grad.shape)
    np.testing.assert_allclose(grad, expected)


def test_dropout_inplace():
    # outside autograd: writes into the input's array
    x = gs.ones(10, 10)
    data = x.data
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and x.data is data and (data == 0).any()
    # on a non-leaf inside the graph: the tensor takes the result and the gradient flows
    a = gs.ones(10, 10, requires_grad=True)
    h = a * 1.0
    out = nn.Dropout(0.5, inplace=True)(h)
    assert out is h
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), h.detach().numpy())
    # on a leaf that requires grad: refused, as in PyTorch
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.dropout(gs.ones(3, requires_grad=True), 0.5, inplace=True)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_probability_out_of_range(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(gs.ones(3), p)
    with pytest.raises(ValueError, match="dropout2d: dropout probability"):
        F.dropout2d(gs.ones(2, 3, 4, 4), p)
    with pytest.raises(ValueError, match="Dropout: dropout probability"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="Dropout2d: dropout probability"):
        nn.Dropout2d(p)


def test_dropout_errors():
    with pytest.raises(TypeError, match="dropout: expected input to be a Tensor"):
        F.dropout(np.ones(3))
    with pytest.raises(TypeError, match="dropout: p must be a number"):
        F.dropout(gs.ones(3), "0.5")
    with pytest.raises(ValueError, match=r"dropout2d: expected an input of shape \(N, C, H, W\)"):
        F.dropout2d(gs.ones(3))


def test_dropout_modules_repr_and_state():
    for ours, theirs in [
        (nn.Dropout(), torch.nn.Dropout()),
        (nn.Dropout(0.2, inplace=True), torch.nn.Dropout(0.2, inplace=True)),
        (nn.Dropout2d(0.3), torch.nn.Dropout2d(0.3)),
    ]:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == [] and list(ours.parameters()) == []
