"""The benchmarked networks as gradschool / PyTorch twins: the same architecture in both, the
same weights (gradschool's initial state_dict loaded into the PyTorch model), checked to give
the same outputs, so that a speed ratio compares equal work.

Four networks, from cheapest to dearest per image (forward mult-adds at the benchmark's
input size):

- ``mlp``: ``gradschool.models.mlp(hidden=(512, 256))``, 784-512-256-10 on 1x28x28 (0.54M).
- ``lenet5``: ``gradschool.models.lenet5()`` on 1x28x28 (0.42M).
- ``resnet20``: ``gradschool.models.resnet_cifar.resnet20()`` on 3x32x32 (41M).
- ``vgg``: a small VGG-style net defined here for both frameworks by ``vgg_style`` (96M).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn as tnn
from torch.nn import functional as TF

import gradschool as gs
from gradschool import nn as gnn
from gradschool.models import lenet5, mlp
from gradschool.models.resnet_cifar import resnet20

__all__ = [
    "MODELS",
    "VGG_CFG",
    "ModelSpec",
    "check_agreement",
    "copy_weights",
    "make_pair",
    "torch_lenet5",
    "torch_mlp",
    "torch_resnet20",
    "vgg_style",
]

VGG_CFG: tuple[int | str, ...] = (64, "M", 128, "M", 256, 256, "M", 512, "M")


def vgg_style(
    nn: Any, cfg: tuple[int | str, ...] = VGG_CFG, num_classes: int = 10, in_channels: int = 3
) -> Any:
    """A VGG-style classifier built from ``nn`` — ``gradschool.nn`` or ``torch.nn``: the same
    code makes both twins, since gradschool keeps PyTorch's names.

    ``features``: for each number in ``cfg`` a 3x3 conv (padding 1, no bias: the batch norm
    after it has one) + BatchNorm2d + ReLU, for each ``"M"`` a 2x2 max pool; then a global
    average pool and one linear layer ``classifier``. On ``(N, 3, 32, 32)`` with the default
    ``cfg`` the maps are 64x32x32 -> 128x16x16 -> 256x8x8 (two convs) -> 512x4x4 -> 512x2x2
    -> 512; 2,147,402 parameters and 96M forward mult-adds per image
    (3*9*64*32² + 64*9*128*16² + 128*9*256*8² + 256*9*256*8² + 256*9*512*4² + 512*10).
    """

    class VGGStyle(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers, c = [], in_channels
            for v in cfg:
                if v == "M":
                    layers.append(nn.MaxPool2d(2))
                else:
                    conv = nn.Conv2d(c, v, 3, padding=1, bias=False)
                    layers += [conv, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                    c = v
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Linear(c, num_classes)

        def forward(self, x: Any) -> Any:
            return self.classifier(self.avgpool(self.features(x)).flatten(1))

    return VGGStyle()


class _TorchMLP(tnn.Module):
    def __init__(self, hidden: tuple[int, ...], in_features: int = 784, num_classes: int = 10):
        super().__init__()
        layers: list[tnn.Module] = []
        for h in hidden:
            layers += [tnn.Linear(in_features, h), tnn.ReLU()]
            in_features = h
        self.layers = tnn.Sequential(*layers, tnn.Linear(in_features, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))


def torch_mlp(hidden: tuple[int, ...] = (512, 256)) -> tnn.Module:
    """The twin of ``gradschool.models.mlp(hidden=hidden)`` (keys ``layers.{0,2,4}``)."""
    return _TorchMLP(hidden)


class _TorchLeNet5(tnn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
        )  # fmt: skip
        self.classifier = tnn.Sequential(
            tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


def torch_lenet5() -> tnn.Module:
    """The twin of ``gradschool.models.lenet5()`` (ReLU, max pooling, 28x28 input)."""
    return _TorchLeNet5()


class _TorchBasicBlock(tnn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = tnn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.stride = stride
        self.pad = (planes - in_planes) // 2 if stride != 1 or in_planes != planes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.pad is not None:  # option A: subsample, pad the new channels with zeros
            x = TF.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, self.pad, self.pad))
        return self.relu(out + x)


class _TorchResNet20(tnn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        self.relu = tnn.ReLU(inplace=True)
        in_planes = 16
        for stage, planes in enumerate((16, 32, 64), start=1):
            blocks = []
            for i in range(3):
                stride = 2 if stage > 1 and i == 0 else 1
                blocks.append(_TorchBasicBlock(in_planes, planes, stride))
                in_planes = planes
            setattr(self, f"layer{stage}", tnn.Sequential(*blocks))
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc = tnn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


def torch_resnet20() -> tnn.Module:
    """The twin of ``gradschool.models.resnet_cifar.resnet20()`` (option-A shortcuts)."""
    return _TorchResNet20()


@dataclass(frozen=True)
class ModelSpec:
    """One benchmarked network: its label, both builders, the input ``(C, H, W)`` and the
    training / inference batch sizes."""

    label: str
    build_gs: Callable[[], Any]
    build_torch: Callable[[], tnn.Module]
    input_chw: tuple[int, int, int]
    train_batch: int
    infer_batch: int = 256


MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec(
        "MLP 784-512-256-10", lambda: mlp(hidden=(512, 256)), torch_mlp, (1, 28, 28), 128
    ),
    "lenet5": ModelSpec("LeNet-5", lenet5, torch_lenet5, (1, 28, 28), 128),
    "resnet20": ModelSpec("ResNet-20", resnet20, torch_resnet20, (3, 32, 32), 64),
    "vgg": ModelSpec(
        "VGG-style (BN)", lambda: vgg_style(gnn), lambda: vgg_style(tnn), (3, 32, 32), 64
    ),
}


def copy_weights(ours: Any, theirs: tnn.Module) -> None:
    """Load gradschool model ``ours``'s parameters and buffers into ``theirs``; the two
    state_dicts must list the same keys in the same order."""
    state = ours.state_dict()
    if list(state) != list(theirs.state_dict()):
        raise ValueError(
            f"copy_weights: the state_dict keys differ: gradschool {list(state)} vs "
            f"PyTorch {list(theirs.state_dict())}"
        )
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in state.items()})


def check_agreement(ours: Any, theirs: tnn.Module, x: np.ndarray, tol: float = 1e-3) -> float:
    """Run both models on ``x`` in train mode, then in eval mode (no gradients), and raise
    ``AssertionError`` unless the outputs agree to ``tol`` (relative and absolute); return
    the largest absolute difference seen. Train mode updates both sets of BN running
    statistics the same way, so the twins stay equal."""
    worst = 0.0
    for train in (True, False):
        ours.train(train)
        theirs.train(train)
        with gs.no_grad(), torch.no_grad():
            a = ours(gs.tensor(x)).numpy()
            b = theirs(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg="train" if train else "eval")
        worst = max(worst, float(np.abs(a - b).max()))
    return worst


def make_pair(name: str, seed: int = 0) -> tuple[Any, tnn.Module]:
    """``(gradschool model, PyTorch twin)`` for ``MODELS[name]``, with equal weights."""
    gs.manual_seed(seed)
    torch.manual_seed(seed)
    spec = MODELS[name]
    ours, theirs = spec.build_gs(), spec.build_torch()
    copy_weights(ours, theirs)
    return ours, theirs
