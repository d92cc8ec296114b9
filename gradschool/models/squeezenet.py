"""SqueezeNet (Iandola, Han, Moskewicz, Ashraf, Dally & Keutzer 2016): AlexNet-level ImageNet
accuracy with 50x fewer parameters (CS231n L9 "CNN Architectures", the efficient-networks
part; CSC321 L12).

Three ideas: replace most 3x3 filters by 1x1 (9x fewer weights each), feed the remaining 3x3
filters few channels, and downsample late so the convolutions see large maps. All three live
in the **Fire module**: a 1x1 "squeeze" conv to ``s`` channels, then two "expand" convs side by
side, ``e1`` 1x1 filters and ``e3`` 3x3 filters, concatenated to ``e1 + e3`` channels (with
``s < e1 + e3``). Its parameters are ``s * (C + 1) + e1 * (s + 1) + e3 * (9s + 1)``: fire2 of
``squeezenet1_0`` (C=96, s=16, e1=e3=64) has 1,552 + 1,088 + 9,280 = 11,920.

The head has no fully connected layer: dropout, a 1x1 conv to ``num_classes`` channels, ReLU,
and a global average pool (as in Network in Network). Layout and counts are torchvision's::

    squeezenet1_0 (1,248,424 params)          squeezenet1_1 (1,235,496 params)
    conv 7x7/2 -> 96      224 -> 109          conv 3x3/2 -> 64      224 -> 111
    max-pool 3x3/2 (ceil)     -> 54           max-pool 3x3/2 (ceil)     -> 55
    fire2..fire4 (128, 128, 256)              fire2, fire3 (128, 128)
    max-pool 3x3/2 (ceil)     -> 27           max-pool 3x3/2 (ceil)     -> 27
    fire5..fire8 (256, 384, 384, 512)         fire4, fire5 (256, 256)
    max-pool 3x3/2 (ceil)     -> 13           max-pool 3x3/2 (ceil)     -> 13
    fire9 (512)                               fire6..fire9 (384, 384, 512, 512)
    dropout, conv 1x1 -> num_classes, ReLU, global average pool: (N, num_classes)

Version 1.1 moves the pools earlier and starts with a 3x3 conv: the same accuracy for 2.4x
less compute (349M against 819M mult-adds at 224x224). A ceil-mode pool needs at least 2
pixels, so the smallest images are 21x21 (1.0) and 17x17 (1.1).

Small-input variant (``small_input=True``, the default below 64 pixels), for 28x28
Fashion-MNIST and 32x32 CIFAR: the first conv keeps its kernel and width but has stride 1 and
"same" padding (7x7 pad 3, or 3x3 pad 1), so only the three pools downsample:
28 -> 14 -> 7 -> 3 and 32 -> 16 -> 8 -> 4. The Fire modules and the head are unchanged (the
head has no size-dependent layer). At 28x28 grayscale squeezenet1_0 costs 41M mult-adds per
image and squeezenet1_1 15M (64M and 24M at 32x32 RGB); the smallest image is 8x8.
"""

from __future__ import annotations

from ..nn import (
    AdaptiveAvgPool2d,
    Conv2d,
    Dropout,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    init,
)
from ..ops import cat
from ..tensor import Tensor
from ._base import ImageClassifier, resolve_small_input

__all__ = ["Fire", "SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


class Fire(Module):
    """Squeeze (1x1 conv to ``squeeze_planes``, ReLU), then expand: 1x1 and 3x3 convs side by
    side, each with a ReLU, concatenated along the channels.

    Input ``(N, inplanes, H, W)``, output ``(N, expand1x1_planes + expand3x3_planes, H, W)``.
    state_dict keys: ``squeeze``, ``expand1x1``, ``expand3x3`` (weight, bias).
    """

    def __init__(
        self, inplanes: int, squeeze_planes: int, expand1x1_planes: int, expand3x3_planes: int
    ) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = Conv2d(inplanes, squeeze_planes, 1)
        self.squeeze_activation = ReLU(inplace=True)
        self.expand1x1 = Conv2d(squeeze_planes, expand1x1_planes, 1)
        self.expand1x1_activation = ReLU(inplace=True)
        self.expand3x3 = Conv2d(squeeze_planes, expand3x3_planes, 3, padding=1)
        self.expand3x3_activation = ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, inplanes, H, W)`` -> ``(N, expand1x1_planes + expand3x3_planes, H, W)``."""
        x = self.squeeze_activation(self.squeeze(x))
        return cat(
            [
                self.expand1x1_activation(self.expand1x1(x)),
                self.expand3x3_activation(self.expand3x3(x)),
            ],
            1,
        )


# (first conv width, kernel, ImageNet stride; what follows it: "M" a 3x3 / stride-2 ceil-mode
#  max-pool, (s, e) a Fire module with s squeeze and e + e expand channels; ImageNet minimum)
_VERSIONS = {
    "1_0": (96, 7, 2, ["M", (16, 64), (16, 64), (32, 128), "M",
                       (32, 128), (48, 192), (48, 192), (64, 256), "M", (64, 256)], 21),
    "1_1": (64, 3, 2, ["M", (16, 64), (16, 64), "M", (32, 128), (32, 128), "M",
                       (48, 192), (48, 192), (64, 256), (64, 256)], 17),
}  # fmt: skip


class SqueezeNet(ImageClassifier):
    """SqueezeNet ``version`` ``"1_0"`` or ``"1_1"``: ``features`` (conv, ReLU, then Fire
    modules and ceil-mode max-pools) and ``classifier`` (dropout, 1x1 conv to
    ``num_classes``, ReLU, global average pool).

    Input ``(N, in_channels, H, W)`` with ``H, W >= min_input_size`` (21 for 1.0, 17 for 1.1,
    8 for the small-input variants), output ``(N, num_classes)`` logits. state_dict keys are
    torchvision's: ``features.0``, ``features.{i}.{squeeze,expand1x1,expand3x3}``,
    ``classifier.1``.

    >>> import gradschool as gs
    >>> net = SqueezeNet("1_1", num_classes=10, in_channels=1, input_size=28)
    >>> tuple(net(gs.randn(2, 1, 28, 28)).shape)
    (2, 10)
    >>> sum(p.numel() for p in SqueezeNet("1_1").parameters())
    1235496
    """

    has_small_input_variant = True

    def __init__(
        self,
        version: str = "1_0",
        num_classes: int = 1000,
        in_channels: int = 3,
        input_size: int = 224,
        small_input: bool | None = None,
        dropout: float = 0.5,
    ) -> None:
        if version not in _VERSIONS:
            raise ValueError(f"SqueezeNet: version must be '1_0' or '1_1', got {version!r}")
        name = f"squeezenet{version}"
        width, kernel, stride, body, min_size = _VERSIONS[version]
        small = resolve_small_input(small_input, input_size)
        super().__init__(name, num_classes, in_channels, input_size, 8 if small else min_size)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise TypeError(f"{name}: dropout must be a float, got {dropout!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout}")
        self.version, self.small_input, self.dropout = version, small, dropout

        # small input: stride 1 and "same" padding, so only the three pools downsample
        stem = (
            Conv2d(in_channels, width, kernel, padding=kernel // 2)
            if small
            else Conv2d(in_channels, width, kernel, stride=stride)
        )
        layers: list[Module] = [stem, ReLU(inplace=True)]
        channels = width
        for item in body:
            if item == "M":
                layers.append(MaxPool2d(3, 2, ceil_mode=True))
            else:
                squeeze, expand = item
                layers.append(Fire(channels, squeeze, expand, expand))
                channels = 2 * expand
        self.features = Sequential(*layers)
        final_conv = Conv2d(channels, num_classes, 1)
        self.classifier = Sequential(
            Dropout(dropout), final_conv, ReLU(inplace=True), AdaptiveAvgPool2d((1, 1))
        )
        # torchvision's initialisation: small logits at the start, He-uniform elsewhere
        for m in self.modules():
            if isinstance(m, Conv2d):
                if m is final_conv:
                    init.normal_(m.weight, 0.0, 0.01)
                else:
                    init.kaiming_uniform_(m.weight)
                init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, in_channels, H, W)`` -> ``(N, num_classes)`` logits."""
        self.check_input(x)
        return self.classifier(self.features(x)).flatten(1)

    def extra_repr(self) -> str:
        return f"version={self.version!r}, small_input={self.small_input}, " + super().extra_repr()


def squeezenet1_0(
    num_classes: int = 1000,
    in_channels: int = 3,
    input_size: int = 224,
    small_input: bool | None = None,
    dropout: float = 0.5,
) -> SqueezeNet:
    """SqueezeNet 1.0 (1,248,424 parameters at 1000 classes): ``(N, in_channels, H, W)`` ->
    ``(N, num_classes)``. ``small_input`` (default: ``input_size < 64``) gives the 28x28 /
    32x32 variant. See ``SqueezeNet``."""
    return SqueezeNet("1_0", num_classes, in_channels, input_size, small_input, dropout)


def squeezenet1_1(
    num_classes: int = 1000,
    in_channels: int = 3,
    input_size: int = 224,
    small_input: bool | None = None,
    dropout: float = 0.5,
) -> SqueezeNet:
    """SqueezeNet 1.1 (1,235,496 parameters at 1000 classes; 2.4x cheaper than 1.0):
    ``(N, in_channels, H, W)`` -> ``(N, num_classes)``. See ``SqueezeNet``."""
    return SqueezeNet("1_1", num_classes, in_channels, input_size, small_input, dropout)
