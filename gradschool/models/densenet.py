"""DenseNet (Huang, Liu, van der Maaten & Weinberger 2017, "Densely connected convolutional
networks"), the "other ways to connect layers" of CS231n L9 "CNN Architectures" (CSC321
L12): inside a dense block every layer receives the concatenation of *all* earlier feature
maps of the block and adds ``growth_rate`` (k) new channels to it. A ResNet adds a layer's
output to its input; a DenseNet concatenates it, so later layers (and the classifier) see
every earlier feature directly, gradients reach early layers through short paths, and each
layer can stay narrow (k = 32 channels) because it reuses what came before.

A dense layer is DenseNet-BC's bottleneck: BN-ReLU-conv 1x1 to ``bn_size * k`` (128)
channels, then BN-ReLU-conv 3x3 to k channels (pre-activation order). Layer ``i`` of a block
entered with ``c`` channels sees ``c + (i - 1) k`` of them; the block leaves with
``c + L k``. Between blocks a transition (BN-ReLU-conv 1x1 halving the channels, 2x2
average pool) halves the map. DenseNet-121 (ImageNet, 224x224; torchvision's layout)::

    conv0 7x7/2 -> 64, norm0, relu0, pool0 3x3/2     (N, 64, 56, 56)
    denseblock1: 6 layers,  64 + 6*32 = 256          (N, 256, 56, 56)
    transition1: 1x1 -> 128, avg pool 2x2            (N, 128, 28, 28)
    denseblock2: 12 layers, 128 + 12*32 = 512        (N, 512, 28, 28)
    transition2                                      (N, 256, 14, 14)
    denseblock3: 24 layers, 256 + 24*32 = 1024       (N, 1024, 14, 14)
    transition3                                      (N, 512, 7, 7)
    denseblock4: 16 layers, 512 + 16*32 = 1024       (N, 1024, 7, 7)
    norm5, ReLU, global average pool, classifier     (N, num_classes)

121 = 1 (conv0) + 2 * (6 + 12 + 24 + 16) (two convs per dense layer) + 3 (transitions)
+ 1 (classifier) layers with weights; 7,978,856 parameters, 2.8G mult-adds at 224x224.

Small-input variant (28x28 Fashion-MNIST, 32x32 CIFAR): the ImageNet stem divides the image
by 4 before the first block, and the three transitions by 8 more; a 28x28 image would not
survive that (at least 29x29 is needed). The small stem is ``conv0`` 3x3 stride 1 and the
same ``pool0``, so the four blocks run on 14, 7, 3 and 1 (16, 8, 4, 2 for 32x32) maps:
155M mult-adds per 28x28 image and 222M per 32x32 one (``gradschool.summary``), with all
four blocks and their 58 dense layers kept. ``growth_rate=12`` (the paper's CIFAR value) or
a shorter ``block_config`` makes it cheaper still.
"""

from __future__ import annotations

from collections import OrderedDict

from ..nn import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Linear,
    MaxPool2d,
    Module,
    ModuleDict,
    ReLU,
    Sequential,
    init,
)
from ..nn import functional as F
from ..ops import cat
from ..tensor import Tensor
from ._base import ImageClassifier, check_positive_int, resolve_small_input

__all__ = ["DenseNet", "densenet121"]


class _DenseLayer(Module):
    """BN-ReLU-conv 1x1 (``bn_size * growth_rate``) then BN-ReLU-conv 3x3 (``growth_rate``).
    Takes the list of the block's feature maps so far (``(N, c_j, H, W)`` each, channels
    summing to ``num_input_features``) and returns the ``(N, growth_rate, H, W)`` new ones."""

    def __init__(
        self, num_input_features: int, growth_rate: int, bn_size: int, drop_rate: float
    ) -> None:
        super().__init__()
        self.norm1 = BatchNorm2d(num_input_features)
        self.relu1 = ReLU(inplace=True)
        self.conv1 = Conv2d(num_input_features, bn_size * growth_rate, 1, bias=False)
        self.norm2 = BatchNorm2d(bn_size * growth_rate)
        self.relu2 = ReLU(inplace=True)
        self.conv2 = Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, prev_features: Tensor | list[Tensor]) -> Tensor:
        if isinstance(prev_features, Tensor):
            prev_features = [prev_features]
        x = cat(prev_features, 1)  # the dense connectivity: every earlier map as input
        x = self.conv1(self.relu1(self.norm1(x)))
        x = self.conv2(self.relu2(self.norm2(x)))
        if self.drop_rate > 0:
            x = F.dropout(x, p=self.drop_rate, training=self.training)
        return x


class _DenseBlock(ModuleDict):
    """``num_layers`` dense layers (``denselayer1`` ...): ``(N, num_input_features, H, W)``
    -> ``(N, num_input_features + num_layers * growth_rate, H, W)``."""

    def __init__(
        self,
        num_layers: int,
        num_input_features: int,
        bn_size: int,
        growth_rate: int,
        drop_rate: float,
    ) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(
                num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate
            )
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return cat(features, 1)


class _Transition(Sequential):
    """BN-ReLU-conv 1x1 to ``num_output_features``, 2x2 average pool:
    ``(N, num_input_features, H, W)`` -> ``(N, num_output_features, H // 2, W // 2)``."""

    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.add_module("norm", BatchNorm2d(num_input_features))
        self.add_module("relu", ReLU(inplace=True))
        self.add_module("conv", Conv2d(num_input_features, num_output_features, 1, bias=False))
        self.add_module("pool", AvgPool2d(kernel_size=2, stride=2))


class DenseNet(ImageClassifier):
    """A DenseNet-BC (see the module docstring): ``(N, in_channels, H, W)`` ->
    ``(N, num_classes)`` logits. ``block_config`` gives the number of dense layers per block
    (one transition between consecutive blocks), ``growth_rate`` the channels each layer adds,
    ``bn_size * growth_rate`` the bottleneck width, ``drop_rate`` the dropout after each
    layer. Images must be at least ``2 ** (len(block_config) + 1) - 3`` pixels a side for the
    ImageNet stem (29 for 4 blocks), ``2 ** len(block_config) - 1`` for the small one (15).
    state_dict keys are torchvision's: ``features.conv0``, ``features.norm0``,
    ``features.denseblock1.denselayer1.norm1``, ..., ``features.transition1.conv``, ...,
    ``features.norm5``, ``classifier``.

    >>> import gradschool as gs
    >>> net = densenet121(num_classes=10, in_channels=1, input_size=28, block_config=(2, 2))
    >>> tuple(net(gs.randn(2, 1, 28, 28)).shape)
    (2, 10)
    >>> sum(p.numel() for p in densenet121().parameters())
    7978856
    """

    has_small_input_variant = True

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: tuple[int, ...] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        drop_rate: float = 0.0,
        num_classes: int = 1000,
        in_channels: int = 3,
        input_size: int = 224,
        small_input: bool | None = None,
        name: str = "densenet",
    ) -> None:
        small = resolve_small_input(small_input, input_size)
        blocks = tuple(block_config) if isinstance(block_config, (tuple, list)) else ()
        if not blocks or not all(isinstance(b, int) and b >= 1 for b in blocks):
            raise ValueError(
                f"{name}: block_config must be a non-empty sequence of positive ints, "
                f"got {block_config!r}"
            )
        # the map must stay >= 1 pixel through the stem's halvings and the transitions'
        n_halvings = len(blocks) - 1 + (1 if small else 2)
        min_size = 2**n_halvings - 1 if small else 2**n_halvings - 3
        super().__init__(name, num_classes, in_channels, input_size, min_size)
        for arg, value in (
            ("growth_rate", growth_rate),
            ("num_init_features", num_init_features),
            ("bn_size", bn_size),
        ):
            check_positive_int(name, arg, value)
        if not 0.0 <= drop_rate < 1.0:
            raise ValueError(f"{name}: drop_rate must be in [0, 1), got {drop_rate!r}")
        self.small_input, self.growth_rate, self.block_config = small, growth_rate, blocks
        if small:  # 3x3 stride 1: the first block sees the image at half size, not a quarter
            conv0 = Conv2d(in_channels, num_init_features, 3, padding=1, bias=False)
        else:
            conv0 = Conv2d(in_channels, num_init_features, 7, stride=2, padding=3, bias=False)
        self.features = Sequential(
            OrderedDict(
                [
                    ("conv0", conv0),
                    ("norm0", BatchNorm2d(num_init_features)),
                    ("relu0", ReLU(inplace=True)),
                    ("pool0", MaxPool2d(kernel_size=3, stride=2, padding=1)),
                ]
            )
        )
        num_features = num_init_features
        for i, num_layers in enumerate(blocks):
            block = _DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(blocks) - 1:
                self.features.add_module(
                    f"transition{i + 1}", _Transition(num_features, num_features // 2)
                )
                num_features //= 2
        self.features.add_module("norm5", BatchNorm2d(num_features))
        self.classifier = Linear(num_features, num_classes)
        for m in self.modules():  # torchvision's init
            if isinstance(m, Conv2d):
                init.kaiming_normal_(m.weight)
            elif isinstance(m, BatchNorm2d):
                init.ones_(m.weight)
                init.zeros_(m.bias)
            elif isinstance(m, Linear):
                init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, in_channels, H, W)`` -> ``(N, num_classes)`` logits."""
        self.check_input(x)
        x = F.relu(self.features(x), inplace=True)
        return self.classifier(F.adaptive_avg_pool2d(x, (1, 1)).flatten(1))

    def extra_repr(self) -> str:
        return (
            f"growth_rate={self.growth_rate}, block_config={self.block_config}, "
            f"small_input={self.small_input}, " + super().extra_repr()
        )


def densenet121(
    num_classes: int = 1000,
    in_channels: int = 3,
    input_size: int = 224,
    small_input: bool | None = None,
    growth_rate: int = 32,
    block_config: tuple[int, ...] = (6, 12, 24, 16),
    num_init_features: int = 64,
    bn_size: int = 4,
    drop_rate: float = 0.0,
) -> DenseNet:
    """DenseNet-121: ``(N, in_channels, H, W)`` -> ``(N, num_classes)``; 7,978,856 parameters
    with the defaults. ``small_input=None`` picks the small-input stem below 64x64 images.
    See ``DenseNet`` and the module docstring."""
    return DenseNet(
        growth_rate,
        block_config,
        num_init_features,
        bn_size,
        drop_rate,
        num_classes,
        in_channels,
        input_size,
        small_input,
        name="densenet121",
    )
