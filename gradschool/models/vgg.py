"""VGG (Simonyan & Zisserman 2014, "Very Deep Convolutional Networks for Large-Scale Image
Recognition"): depth from one rule, repeated (CS231n L9 "CNN Architectures"; CSC321 L12).

Every convolution is 3x3 / stride 1 / pad 1 (the map keeps its size), every pool 2x2 /
stride 2 (the map halves), and the width doubles after each pool up to 512. A stack of two
3x3 convs sees 5x5 and three see 7x7, like one big filter, with fewer weights (3 * 9C^2 =
27C^2 against 49C^2 for C channels in and out) and more non-linearities.

The networks of the paper's Table 1, one column each: five stages of 3x3 convs, a max-pool
after each stage (``_CONFIGS`` below lists the conv widths per stage)::

    config   A (vgg11)   B (vgg13)   D (vgg16)      E (vgg19)        map at 224x224 input
    stage 1  64          64 64       64 64          64 64            224 -> pool -> 112
    stage 2  128         128 128     128 128        128 128          112 -> pool -> 56
    stage 3  256 256     256 256     256 256 256    256 256 256 256   56 -> pool -> 28
    stage 4  512 512     512 512     512 512 512    512 512 512 512   28 -> pool -> 14
    stage 5  512 512     512 512     512 512 512    512 512 512 512   14 -> pool -> 7
    then     adaptive avg-pool to 7x7, fc 25,088 -> 4096, fc 4096 -> 4096, fc 4096 -> 1000
             (ReLU and dropout after the first two)

The layout is torchvision's (``features.N``: conv, [BN,] ReLU, ..., pool; ``avgpool``;
``classifier.{0,3,6}``), so the counts are torchvision's: vgg11 132,863,336, vgg13
133,047,848, vgg16 138,357,544, vgg19 143,667,240 parameters, of which the first fc layer
alone holds 25,088 * 4,096 + 4,096 = 102,764,544. ``vgg11_bn`` ... add a batch norm after
every conv (the later torchvision models; the paper trained A first and initialised the
deeper ones from it instead): 132,868,840, 133,053,736, 138,365,992 and 143,678,248. The
smallest image is 32x32 (five floor-mode pools: 32 -> 1). vgg16 costs 15.5G mult-adds at
224x224.

Small-input variant (``small_input=True``, the default below 64 pixels), for 28x28
Fashion-MNIST and 32x32 CIFAR: the same conv stack, with two changes.

- The five pools round up (``ceil_mode=True``): 28 -> 14 -> 7 -> 4 -> 2 -> 1 and
  32 -> 16 -> 8 -> 4 -> 2 -> 1. With floor-mode pools a 28x28 image would already be 1x1
  after four of them and the fifth would fail; rounding up keeps all five stages and every
  ``features.N`` index of the ImageNet network, and any image size works.
- The head is 512 -> 512 -> 512 -> ``num_classes`` (the same three fc layers with ReLU and
  dropout at ``classifier.{0,3,6}``) after an adaptive average pool to 1x1: 4096-wide fc
  layers on a 1x1 map would add 19M parameters for no gain.

At 28x28 grayscale the small ``vgg11_bn`` costs 134M mult-adds per image (153M at 32x32
RGB), vgg13 192M, vgg16 268M, vgg19 344M (batch norm adds none). ``width`` multiplies every
conv width (and the small head's): ``vgg16_bn(10, 1, 28, width=0.5)`` costs 67M, a quarter;
the default ``width=1.0`` gives the paper's widths.
"""

from __future__ import annotations

from collections.abc import Callable

from ..nn import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    init,
)
from ..tensor import Tensor
from ._base import ImageClassifier, resolve_small_input

__all__ = [
    "VGG",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
]

# Table 1 of the paper: the conv widths of each of the five stages; a 2x2 max-pool ends each
_CONFIGS: dict[str, tuple[tuple[int, ...], ...]] = {
    "A": ((64,), (128,), (256, 256), (512, 512), (512, 512)),  # VGG-11
    "B": ((64, 64), (128, 128), (256, 256), (512, 512), (512, 512)),  # VGG-13
    "D": ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),  # VGG-16
    "E": (
        (64, 64),
        (128, 128),
        (256, 256, 256, 256),
        (512, 512, 512, 512),
        (512, 512, 512, 512),
    ),  # VGG-19
}
_DEPTHS = {"A": 11, "B": 13, "D": 16, "E": 19}


class VGG(ImageClassifier):
    """A VGG network: ``features`` (five stages of 3x3 conv [+ BN] + ReLU, each ending in a
    2x2 max-pool), ``avgpool`` (adaptive, to 7x7; 1x1 in the small-input variant) and
    ``classifier`` (fc, ReLU, dropout, fc, ReLU, dropout, fc).

    ``config`` is a column of the paper's Table 1 (``"A"``, ``"B"``, ``"D"``, ``"E"``).
    Input ``(N, in_channels, H, W)`` with ``H, W >= 32`` (any size for the small-input
    variant), output ``(N, num_classes)`` logits.

    >>> import gradschool as gs
    >>> net = VGG("A", num_classes=10, in_channels=1, input_size=28, batch_norm=True)
    >>> tuple(net(gs.randn(2, 1, 28, 28)).shape)
    (2, 10)
    >>> sum(p.numel() for p in net.parameters())  # 138,357,544 for VGG("D") at 224x224
    9755274
    """

    has_small_input_variant = True

    def __init__(
        self,
        config: str = "D",
        num_classes: int = 1000,
        in_channels: int = 3,
        input_size: int = 224,
        small_input: bool | None = None,
        batch_norm: bool = False,
        dropout: float = 0.5,
        width: float = 1.0,
    ) -> None:
        if config not in _CONFIGS:
            raise ValueError(
                f"VGG: config must be one of {', '.join(_CONFIGS)} (the paper's Table 1), "
                f"got {config!r}"
            )
        name = f"vgg{_DEPTHS[config]}" + ("_bn" if batch_norm else "")
        small = resolve_small_input(small_input, input_size)
        super().__init__(name, num_classes, in_channels, input_size, 1 if small else 32)
        for arg, value in (("dropout", dropout), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name}: {arg} must be a float, got {value!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout}")
        if width <= 0:
            raise ValueError(f"{name}: width must be a positive channel multiplier, got {width}")
        self.config, self.small_input, self.batch_norm = config, small, bool(batch_norm)
        self.dropout, self.width = dropout, width

        layers: list[Module] = []
        channels = in_channels
        for stage in _CONFIGS[config]:
            for planes in stage:
                planes = max(1, round(planes * width))
                layers.append(Conv2d(channels, planes, 3, padding=1))
                if batch_norm:
                    layers.append(BatchNorm2d(planes))
                layers.append(ReLU(inplace=True))
                channels = planes
            # rounding up keeps a 28x28 image alive through all five pools
            layers.append(MaxPool2d(2, 2, ceil_mode=small))
        self.features = Sequential(*layers)
        side, hidden = (1, channels) if small else (7, 4096)
        self.avgpool = AdaptiveAvgPool2d((side, side))
        self.classifier = Sequential(
            Linear(channels * side * side, hidden),
            ReLU(inplace=True),
            Dropout(dropout),
            Linear(hidden, hidden),
            ReLU(inplace=True),
            Dropout(dropout),
            Linear(hidden, num_classes),
        )
        # torchvision's initialisation (He et al. for the convs, small normal for the fc)
        for m in self.modules():
            if isinstance(m, Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                init.zeros_(m.bias)
            elif isinstance(m, BatchNorm2d):
                init.ones_(m.weight)
                init.zeros_(m.bias)
            elif isinstance(m, Linear):
                init.normal_(m.weight, 0.0, 0.01)
                init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, in_channels, H, W)`` -> ``(N, num_classes)`` logits."""
        self.check_input(x)
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))

    def extra_repr(self) -> str:
        extra = f", width={self.width}" if self.width != 1.0 else ""
        return (
            f"config={self.config!r}, batch_norm={self.batch_norm}, "
            f"small_input={self.small_input}{extra}, " + super().extra_repr()
        )


def _factory(config: str, batch_norm: bool) -> Callable[..., VGG]:
    name = f"vgg{_DEPTHS[config]}" + ("_bn" if batch_norm else "")

    def build(
        num_classes: int = 1000,
        in_channels: int = 3,
        input_size: int = 224,
        small_input: bool | None = None,
        dropout: float = 0.5,
        width: float = 1.0,
    ) -> VGG:
        return VGG(
            config, num_classes, in_channels, input_size, small_input, batch_norm, dropout, width
        )

    build.__name__ = build.__qualname__ = name
    build.__doc__ = (
        f"VGG-{_DEPTHS[config]} (configuration {config} of Simonyan & Zisserman)"
        + (" with batch norm after every conv" if batch_norm else "")
        + ": ``(N, in_channels, H, W)`` -> ``(N, num_classes)``. ``small_input`` (default: "
        "``input_size < 64``) gives the 28x28 / 32x32 variant; ``width`` scales the channels. "
        "See ``VGG``."
    )
    return build


vgg11 = _factory("A", False)
vgg13 = _factory("B", False)
vgg16 = _factory("D", False)
vgg19 = _factory("E", False)
vgg11_bn = _factory("A", True)
vgg13_bn = _factory("B", True)
vgg16_bn = _factory("D", True)
vgg19_bn = _factory("E", True)
