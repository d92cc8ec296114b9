"""The CIFAR ResNets (6n + 2) and their plain twins: the paper's parameter counts, a torch.nn
twin with option-A shortcuts (subsample by 2, zero-pad the new channels) and option B,
outputs and gradients equal in train and eval mode, stochastic depth, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradschool as gs
from gradschool.models.resnet_cifar import (
    CifarBasicBlock,
    CifarResNet,
    plain20,
    plain32,
    plain44,
    plain56,
    plain110,
    resnet20,
    resnet32,
    resnet44,
    resnet56,
    resnet110,
)
from tests.models.twin import compare_with_twin, image, n_params, randomize_bn

tnn = torch.nn


# ----------------------------------------------------------------------------- torch twin
class TorchCifarBlock(tnn.Module):
    def __init__(self, in_planes, planes, stride, residual, shortcut):
        super().__init__()
        self.conv1 = tnn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.residual, self.stride, self.extra = residual, stride, planes - in_planes
        self.downsample = None
        if residual and shortcut == "B" and (stride != 1 or in_planes != planes):
            self.downsample = tnn.Sequential(
                tnn.Conv2d(in_planes, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes)
            )

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if not self.residual:
            return self.relu(out)
        if self.downsample is not None:
            shortcut = self.downsample(x)
        elif self.stride != 1 or self.extra:  # option A: every other pixel, zero channels
            half = self.extra // 2
            shortcut = TF.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, half, half))
        else:
            shortcut = x
        return self.relu(out + shortcut)


class TorchCifarResNet(tnn.Module):
    def __init__(self, depth=20, num_classes=10, in_channels=3, residual=True, shortcut="A"):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = tnn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        self.relu = tnn.ReLU(inplace=True)
        in_planes = 16
        for k, planes in enumerate((16, 32, 64), start=1):
            blocks = []
            for i in range(n):
                stride = 2 if k > 1 and i == 0 else 1
                blocks.append(TorchCifarBlock(in_planes, planes, stride, residual, shortcut))
                in_planes = planes
            setattr(self, f"layer{k}", tnn.Sequential(*blocks))
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc = tnn.Linear(64, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ----------------------------------------------------------------------------- sizes
@pytest.mark.parametrize(
    ("resnet", "plain", "count"),
    [
        (resnet20, plain20, 269_722),
        (resnet32, plain32, 464_154),
        (resnet44, plain44, 658_586),
        (resnet56, plain56, 853_018),
        (resnet110, plain110, 1_727_962),
    ],
)
def test_parameter_counts(resnet, plain, count):
    """Option A shortcuts have no parameters, so a ResNet and its plain twin are the same
    size and have the same state_dict keys."""
    r, p = resnet(), plain()
    assert isinstance(r, CifarResNet) and r.name == resnet.__name__ and p.name == plain.__name__
    assert n_params(r) == n_params(p) == count
    assert list(r.state_dict()) == list(p.state_dict())
    assert not any("downsample" in k for k in r.state_dict())
    # option B adds a 1x1 conv + BN where the shape changes: 16->32 and 32->64
    b = resnet(shortcut="B")
    assert n_params(b) == count + (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)
    assert list(b.state_dict()) == list(TorchCifarResNet(r.depth, shortcut="B").state_dict())
    assert n_params(plain(shortcut="B")) == count  # a plain net has no shortcut to project


def test_state_dict_layout_and_shapes():
    net = resnet20(num_classes=10, in_channels=1, input_size=28)
    sd, sd_t = net.state_dict(), TorchCifarResNet(20, 10, 1).state_dict()
    assert list(sd) == list(sd_t)
    assert all(tuple(sd[k].shape) == tuple(sd_t[k].shape) for k in sd)
    for shape in [(2, 1, 28, 28), (2, 3, 32, 32)]:
        net = resnet20(in_channels=shape[1], input_size=shape[2])
        with gs.no_grad():
            assert tuple(net(gs.tensor(image(*shape))).shape) == (2, 10)


# ----------------------------------------------------------------------------- twins
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize(
    ("depth", "residual", "shortcut"),
    [(20, True, "A"), (20, False, "A"), (20, True, "B")],
)
def test_twin(depth, residual, shortcut, train):
    torch.manual_seed(0)
    ours = CifarResNet(depth, 10, 1, 28, residual=residual, shortcut=shortcut)
    theirs = randomize_bn(TorchCifarResNet(depth, 10, 1, residual, shortcut))
    compare_with_twin(ours, theirs, image(2, 1, 28, 28), train=train)


def test_option_a_shortcut():
    """Where a block halves the map, the shortcut is x subsampled by 2 with zero channels
    padded on both sides: 8 + 16 + 8 for 16 -> 32."""
    block = CifarBasicBlock(16, 32, stride=2)
    x = gs.tensor(image(2, 16, 7, 7))
    y = block._identity(x).numpy()
    assert y.shape == (2, 32, 4, 4)
    np.testing.assert_array_equal(y[:, 8:24], x.numpy()[:, :, ::2, ::2])
    assert not y[:, :8].any() and not y[:, 24:].any()


# ----------------------------------------------------------------------------- stochastic depth
def test_stochastic_depth_linear_decay_and_eval():
    net = resnet20(stochastic_depth_prob=0.5)
    blocks = [b for k in (1, 2, 3) for b in getattr(net, f"layer{k}")]
    assert [b.stochastic_depth.p for b in blocks] == pytest.approx(
        [0.5 * l / 9 for l in range(1, 10)]
    )
    assert all(b.stochastic_depth.mode == "row" for b in blocks)
    assert resnet20().layer1[0].stochastic_depth is None
    full = resnet20()
    full.load_state_dict(net.state_dict())
    x = gs.tensor(image(2, 3, 32, 32))
    net.eval()
    full.eval()
    with gs.no_grad():
        np.testing.assert_array_equal(net(x).numpy(), full(x).numpy())


def test_stochastic_depth_drops_whole_rows_in_train():
    block = resnet20(stochastic_depth_prob=0.5).layer3[2]  # the last block: p = 0.5
    assert block.stochastic_depth.p == 0.5
    block.train()
    x = gs.tensor(image(8, 64, 8, 8))
    kinds = set()
    for seed in range(10):
        gs.manual_seed(seed)
        with gs.no_grad():
            out = block(x).numpy()
            branch = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x))))).numpy()
        for i in range(8):
            if np.allclose(out[i], np.maximum(x.numpy()[i], 0)):
                kinds.add("dropped")
            else:
                kept = np.maximum(x.numpy()[i] + branch[i] / 0.5, 0)
                np.testing.assert_allclose(out[i], kept, rtol=1e-5, atol=1e-5)
                kinds.add("kept")
    assert kinds == {"dropped", "kept"}


# ----------------------------------------------------------------------------- errors
def test_errors():
    with pytest.raises(ValueError, match=r"resnet21: depth must be 6n \+ 2 with n >= 1"):
        CifarResNet(depth=21)
    with pytest.raises(ValueError, match="resnet2: depth must be 6n"):
        CifarResNet(depth=2)
    with pytest.raises(ValueError, match="resnet20: shortcut must be 'A' or 'B', got 'C'"):
        resnet20(shortcut="C")
    with pytest.raises(
        ValueError, match=r"resnet20: stochastic_depth_prob must be a number in \[0, 1\)"
    ):
        resnet20(stochastic_depth_prob=1.0)
    with pytest.raises(ValueError, match="plain20: stochastic depth needs the residual"):
        plain20(stochastic_depth_prob=0.1)
    with pytest.raises(ValueError, match=r"resnet20: input_size 3 is too small.*at least 4x4"):
        resnet20(input_size=3)
    with pytest.raises(ValueError, match="resnet20: num_classes must be a positive int, got 0"):
        resnet20(num_classes=0)
    with pytest.raises(
        ValueError, match=r"resnet20: expected input of shape \(N, 1, H, W\).*got \(2, 3, 28, 28\)"
    ):
        resnet20(in_channels=1, input_size=28)(gs.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"plain32: input 3x3 is too small.*at least 4x4"):
        plain32()(gs.randn(1, 3, 3, 3))
