"""Whole networks against their PyTorch twins: same state_dict keys and shapes, and with the
PyTorch weights loaded, the same outputs and gradients. Also ``gradschool.summary``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn as nn
import gradschool.nn.functional as F


def lenet(lib):
    return lib.Sequential(
        lib.Conv2d(1, 6, 5, padding=2),
        lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Conv2d(6, 16, 5),
        lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Flatten(),
        lib.Linear(16 * 5 * 5, 120),
        lib.ReLU(),
        lib.Dropout(0.5),
        lib.Linear(120, 84),
        lib.ReLU(),
        lib.Linear(84, 10),
    )


def residual_block(lib, functional):
    class BasicBlock(lib.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = lib.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = lib.BatchNorm2d(cout)
            self.conv2 = lib.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = lib.BatchNorm2d(cout)
            self.downsample = lib.Sequential(
                lib.Conv2d(cin, cout, 1, stride, bias=False), lib.BatchNorm2d(cout)
            )

        def forward(self, x):
            out = functional.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return functional.relu(out + self.downsample(x))

    return BasicBlock(4, 8, 2)


def _copy_and_compare(ours, theirs, x_np, train: bool):
    sd_ours, sd_theirs = ours.state_dict(), theirs.state_dict()
    assert list(sd_ours) == list(sd_theirs)
    for k in sd_ours:
        assert tuple(sd_ours[k].shape) == tuple(sd_theirs[k].shape), k
    ours.load_state_dict(theirs.state_dict())
    ours.train(train)
    theirs.train(train)
    x = gs.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    out, out_t = ours(x), theirs(xt)
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = np.random.default_rng(1).standard_normal(tuple(out_t.shape)).astype(np.float32)
    out.backward(gs.tensor(g))
    out_t.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    named_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), named_t[name].grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name
        )
    for (name, b), (_, bt) in zip(
        ours.state_dict().items(), theirs.state_dict().items(), strict=True
    ):
        np.testing.assert_allclose(
            b.numpy(), bt.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name
        )


def test_lenet_twin():
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    _copy_and_compare(lenet(nn), lenet(torch.nn), x, train=False)


@pytest.mark.parametrize("train", [True, False])
def test_residual_block_twin(train):
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((3, 4, 8, 8)).astype(np.float32)
    _copy_and_compare(
        residual_block(nn, F), residual_block(torch.nn, torch.nn.functional), x, train=train
    )


def test_summary_of_lenet():
    s = gs.summary(lenet(nn), (1, 1, 28, 28))
    rows = {r.name: r for r in s.rows}
    assert s.total_params == sum(p.numel() for p in lenet(torch.nn).parameters()) == 61706
    assert rows["0"].output_shape == (1, 6, 28, 28) and rows["0"].params == 6 * (5 * 5 + 1)
    assert rows["0"].mult_adds == 6 * 28 * 28 * 25
    assert rows["3"].output_shape == (1, 16, 10, 10) and rows["3"].params == 16 * (6 * 25 + 1)
    assert rows["0"].receptive_field == 5
    assert rows["2"].receptive_field == 6  # 2x2 pool on top of a 5x5 conv
    assert rows["3"].receptive_field == 6 + 4 * 2  # the jump is 2 after the pool
    assert rows["7"].mult_adds == 400 * 120 and rows["7"].receptive_field is None
    text = str(s)
    assert "Total params: 61,706" in text and "Conv2d" in text


def test_three_3x3_convs_see_like_one_7x7():
    stack = nn.Sequential(*[nn.Conv2d(8, 8, 3, padding=1, bias=False) for _ in range(3)])
    big = nn.Conv2d(8, 8, 7, padding=3, bias=False)
    s_stack, s_big = gs.summary(stack, (1, 8, 16, 16)), gs.summary(big, (1, 8, 16, 16))
    assert s_stack.rows[-1].receptive_field == s_big.rows[-1].receptive_field == 7
    assert s_stack.total_params == 27 * 8 * 8 and s_big.total_params == 49 * 8 * 8
