"""The CIFAR ResNets of the ResNet paper (He, Zhang, Ren & Sun 2015, section 4.2) and their
plain twins: the experiment behind the course's "degradation" claim (CS231n L9 "CNN
Architectures"; CSC321 L12): a deeper *plain* network trains to a *higher* training error
than a shallower one, while the same network with identity shortcuts does not.

Depth ``6n + 2``: a 3x3 convolution to 16 channels, three stages of ``n`` basic blocks at 16,
32 and 64 channels (the first block of stages 2 and 3 halves the map with stride 2), global
average pooling and one fully connected layer::

    input                       (N, C, 32, 32)
    conv 3x3 -> 16, BN, ReLU    (N, 16, 32, 32)
    layer1: n blocks            (N, 16, 32, 32)
    layer2: n blocks, stride 2  (N, 32, 16, 16)
    layer3: n blocks, stride 2  (N, 64, 8, 8)
    global average pool, fc     (N, num_classes)

A basic block is ``relu(x + bn(conv(relu(bn(conv(x))))))``. Where the shape changes the
shortcut is the paper's option A: subsample by 2 and pad the new channels with zeros (no
parameters), so ``resnet20`` has 269,722 parameters (0.27M) and ``resnet110`` 1,727,962
(1.7M), the paper's figures. ``shortcut="B"`` uses a 1x1 convolution + BN projection instead.
A plain twin (``plain20`` ...) is the same stack without the shortcuts.

Stochastic depth (Huang et al. 2016): ``stochastic_depth_prob=p`` drops block ``l`` of ``L``
with probability ``p * l / L`` during training (the linear decay rule; 0.5 in the paper).
"""

from __future__ import annotations

from collections.abc import Callable

from ..nn import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Linear,
    Module,
    ReLU,
    Sequential,
    StochasticDepth,
    init,
)
from ..nn import functional as F
from ..tensor import Tensor
from ._base import ImageClassifier

__all__ = [
    "CifarBasicBlock",
    "CifarResNet",
    "plain20",
    "plain32",
    "plain44",
    "plain56",
    "plain110",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
    "resnet110",
]


class CifarBasicBlock(Module):
    """Two 3x3 conv-BN layers with an identity shortcut around them (or none when
    ``residual=False``). Input ``(N, in_planes, H, W)``, output ``(N, planes, H/stride,
    W/stride)``."""

    def __init__(
        self,
        in_planes: int,
        planes: int,
        stride: int = 1,
        residual: bool = True,
        shortcut: str = "A",
        drop_prob: float = 0.0,
    ) -> None:
        super().__init__()
        self.conv1 = Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(planes)
        self.conv2 = Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2d(planes)
        self.relu = ReLU(inplace=True)
        self.residual, self.shortcut = residual, shortcut
        self.stochastic_depth = StochasticDepth(drop_prob) if drop_prob > 0 else None
        # option A pads channels and subsamples: no parameters; option B projects
        self.pad = (planes - in_planes) // 2 if stride != 1 or in_planes != planes else None
        self.stride = stride
        if residual and shortcut == "B" and self.pad is not None:
            self.downsample = Sequential(
                Conv2d(in_planes, planes, 1, stride=stride, bias=False), BatchNorm2d(planes)
            )
        else:
            self.downsample = None

    def _identity(self, x: Tensor) -> Tensor:
        if self.downsample is not None:
            return self.downsample(x)
        if self.pad is None:
            return x
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad, self.pad))

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if not self.residual:
            return self.relu(out)
        if self.stochastic_depth is not None:
            out = self.stochastic_depth(out)
        return self.relu(out + self._identity(x))


class CifarResNet(ImageClassifier):
    """A ``6n + 2``-layer CIFAR ResNet (``residual=True``) or its plain twin.

    Input ``(N, in_channels, H, W)`` with ``H, W >= 4`` (32x32 CIFAR, 28x28 Fashion-MNIST),
    output ``(N, num_classes)`` logits. state_dict keys: ``conv1``, ``bn1``,
    ``layer{1,2,3}.{i}.conv{1,2}``, ``layer{1,2,3}.{i}.bn{1,2}``, ``fc``.

    >>> import gradschool as gs
    >>> net = resnet20()
    >>> tuple(net(gs.randn(2, 3, 32, 32)).shape)
    (2, 10)
    >>> sum(p.numel() for p in net.parameters())
    269722
    """

    def __init__(
        self,
        depth: int = 20,
        num_classes: int = 10,
        in_channels: int = 3,
        input_size: int = 32,
        residual: bool = True,
        shortcut: str = "A",
        stochastic_depth_prob: float = 0.0,
        name: str | None = None,
    ) -> None:
        name = name or f"{'resnet' if residual else 'plain'}{depth}"
        super().__init__(name, num_classes, in_channels, input_size, min_input_size=4)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or depth % 6 != 2:
            raise ValueError(
                f"{name}: depth must be 6n + 2 with n >= 1 (20, 32, ...), got {depth!r}"
            )
        if shortcut not in ("A", "B"):
            raise ValueError(f"{name}: shortcut must be 'A' or 'B', got {shortcut!r}")
        if (
            isinstance(stochastic_depth_prob, bool)
            or not isinstance(stochastic_depth_prob, (int, float))
            or not 0.0 <= stochastic_depth_prob < 1.0
        ):
            raise ValueError(
                f"{name}: stochastic_depth_prob must be a number in [0, 1), got {stochastic_depth_prob!r}"
            )
        if stochastic_depth_prob > 0 and not residual:
            raise ValueError(f"{name}: stochastic depth needs the residual shortcuts")
        self.depth, self.residual, self.shortcut = depth, residual, shortcut
        self.stochastic_depth_prob = stochastic_depth_prob
        n = (depth - 2) // 6
        self.conv1 = Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = BatchNorm2d(16)
        self.relu = ReLU(inplace=True)
        blocks, total = 0, 3 * n
        in_planes = 16
        for stage, planes in enumerate((16, 32, 64), start=1):
            layer = []
            for i in range(n):
                blocks += 1
                layer.append(
                    CifarBasicBlock(
                        in_planes,
                        planes,
                        stride=2 if stage > 1 and i == 0 else 1,
                        residual=residual,
                        shortcut=shortcut,
                        drop_prob=stochastic_depth_prob * blocks / total,
                    )
                )
                in_planes = planes
            setattr(self, f"layer{stage}", Sequential(*layer))
        self.avgpool = AdaptiveAvgPool2d(1)
        self.fc = Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, Conv2d):  # He et al.'s initialisation, as in the paper
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        """``(N, in_channels, H, W)`` -> ``(N, num_classes)`` logits."""
        self.check_input(x)
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))

    def extra_repr(self) -> str:
        extra = f", shortcut={self.shortcut!r}" if self.residual else ""
        if self.stochastic_depth_prob:
            extra += f", stochastic_depth_prob={self.stochastic_depth_prob}"
        return f"depth={self.depth}, residual={self.residual}{extra}, " + super().extra_repr()


def _factory(depth: int, residual: bool) -> Callable[..., CifarResNet]:
    name = f"{'resnet' if residual else 'plain'}{depth}"

    def build(
        num_classes: int = 10,
        in_channels: int = 3,
        input_size: int = 32,
        shortcut: str = "A",
        stochastic_depth_prob: float = 0.0,
    ) -> CifarResNet:
        return CifarResNet(
            depth, num_classes, in_channels, input_size, residual, shortcut, stochastic_depth_prob
        )

    build.__name__ = build.__qualname__ = name
    build.__doc__ = (
        f"The {depth}-layer CIFAR ResNet of He et al. (2015)"
        if residual
        else f"The {depth}-layer plain twin of the CIFAR ResNet (no shortcuts)"
    ) + ": ``(N, in_channels, H, W)`` -> ``(N, num_classes)``. See ``CifarResNet``."
    return build


resnet20 = _factory(20, True)
resnet32 = _factory(32, True)
resnet44 = _factory(44, True)
resnet56 = _factory(56, True)
resnet110 = _factory(110, True)
plain20 = _factory(20, False)
plain32 = _factory(32, False)
plain44 = _factory(44, False)
plain56 = _factory(56, False)
plain110 = _factory(110, False)
