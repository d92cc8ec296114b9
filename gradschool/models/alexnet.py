"""AlexNet (Krizhevsky, Sutskever & Hinton 2012) and ZFNet (Zeiler & Fergus 2013): the
ImageNet winners that started the deep-learning era (CS231n L9 "CNN Architectures"; CSC321
L12). Five convolutions, three overlapping 3x3 / stride-2 max-pools, local response
normalisation (LRN) after the first two conv blocks, then three fully connected layers with
dropout, ReLU everywhere.

``alexnet()`` has torchvision's widths (64, 192, 384, 256, 256: the single-GPU version of the
"one weird trick" paper) and its layout, so its state_dict keys and its 61,100,840 parameters
are those of ``torchvision.models.alexnet()``. Shapes on a 224x224 image (``out = floor((in +
2p - k) / s) + 1``)::

    input                          (N, 3, 224, 224)
    conv 11x11/4 pad 2 -> 64       (N, 64, 55, 55)     64 * (3*11*11 + 1)   =     23,296
    LRN, max-pool 3x3/2            (N, 64, 27, 27)
    conv 5x5 pad 2 -> 192          (N, 192, 27, 27)   192 * (64*5*5 + 1)    =    307,392
    LRN, max-pool 3x3/2            (N, 192, 13, 13)
    conv 3x3 pad 1 -> 384          (N, 384, 13, 13)   384 * (192*3*3 + 1)   =    663,936
    conv 3x3 pad 1 -> 256          (N, 256, 13, 13)   256 * (384*3*3 + 1)   =    884,992
    conv 3x3 pad 1 -> 256          (N, 256, 13, 13)   256 * (256*3*3 + 1)   =    590,080
    max-pool 3x3/2                 (N, 256, 6, 6)
    adaptive avg-pool to 6x6       (N, 256, 6, 6)      (keeps the fc input at 9,216 for any size)
    dropout, fc -> 4096            (N, 4096)          9216*4096 + 4096      = 37,752,832
    dropout, fc -> 4096            (N, 4096)          4096*4096 + 4096      = 16,781,312
    fc -> 1000                     (N, 1000)          4096*1000 + 1000      =  4,097,000
                                                                     total    61,100,840

96% of the parameters sit in the fully connected layers, most of the compute in the convs.
The smallest image the stack accepts is 63x63 (63 -> 15 -> 7 -> 7 -> 3 -> 3 -> 1).

LRN: ``b_c = a_c / (k + alpha * sum_{c' near c} a_{c'}^2) ** beta`` over ``n = 5`` neighbouring
channels with the paper's ``k = 2, alpha = 1e-4, beta = 0.75``; ``nn.LocalResponseNorm``
divides its ``alpha`` by ``n`` (PyTorch's convention), so it is given ``5e-4``. It has no
parameters, so it is bundled with the pool that follows it (``features.2`` and ``features.5``
are ``Sequential(LocalResponseNorm, MaxPool2d)``) and every parameterised layer keeps
torchvision's index; ``lrn=False`` leaves plain pools there, as torchvision does.

``groups=2`` is the paper's two-GPU split: conv2, conv4 and conv5 only see the half of the
previous layer that lives on "their" GPU (conv3 and the fc layers talk across), i.e. grouped
convolutions that halve those three weight tensors: -153,600 (conv2), -442,368 (conv4) and
-294,912 (conv5), so 60,209,960 parameters in all.

``zfnet()``: Zeiler & Fergus visualised AlexNet's first layers, found dead and aliased filters,
and fixed them with a 7x7 / stride-2 first conv (96 channels) and a stride-2 second conv
(5x5, 256): 224 -> 110 -> 55 -> 26 -> 13 -> 13 -> 6 (pad 1 on conv1 and ceil-mode pools give
the paper's Figure 3 sizes); widths 96, 256, 384, 384, 256; 62,357,608 parameters; smallest
image 47x47.

Small-input variant (``small_input=True``, the default below 64 pixels), for 28x28 Fashion-MNIST
and 32x32 CIFAR: the same five convs (same widths), LRN, three overlapping 3x3 / stride-2 pools
and three fc layers with dropout, but a gentler stem and a narrower head:

- AlexNet: conv1 is 5x5 / stride 2 / pad 2 (not 11x11 / 4); ZFNet: conv1 is 7x7 / stride 1 /
  pad 3 and conv2 keeps its stride 2 (ZF's point: less stride at the start). The pools get
  padding 1, so each halves the map rounding up: 28 -> 14 -> 7 -> 4 -> 2 and
  32 -> 16 -> 8 -> 4 -> 2, the same maps for both datasets.
- the adaptive pool goes to 2x2 (256 * 2 * 2 = 1,024 fc inputs) and the hidden fc layers are
  1,024 wide: 4,096-wide layers on a 2x2 map would only add 20M parameters to memorise
  60,000 small images.

At 28x28 grayscale this costs about 52M mult-adds per image (alexnet; zfnet 85M), against
0.71G for alexnet at 224x224. Any image size works (the padded layers never shrink a map
below 1x1).
"""

from __future__ import annotations

from ..nn import (
    AdaptiveAvgPool2d,
    Conv2d,
    Dropout,
    Linear,
    LocalResponseNorm,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
)
from ..tensor import Tensor
from ._base import ImageClassifier, check_positive_int, resolve_small_input

__all__ = ["AlexNet", "alexnet", "zfnet"]

# (widths, conv1 (kernel, stride, padding), conv2 (kernel, stride, padding), pool kwargs,
#  avgpool side, fc width, smallest input) for each variant and input regime
_SPECS = {
    ("alexnet", False): (
        (64, 192, 384, 256, 256), (11, 4, 2), (5, 1, 2), {}, 6, 4096, 63
    ),
    ("alexnet", True): (
        (64, 192, 384, 256, 256), (5, 2, 2), (5, 1, 2), {"padding": 1}, 2, 1024, 1
    ),
    ("zfnet", False): (
        (96, 256, 384, 384, 256), (7, 2, 1), (5, 2, 0), {"ceil_mode": True}, 6, 4096, 47
    ),
    ("zfnet", True): (
        (96, 256, 384, 384, 256), (7, 1, 3), (5, 2, 2), {"padding": 1}, 2, 1024, 1
    ),
}  # fmt: skip


class AlexNet(ImageClassifier):
    """AlexNet (``variant="alexnet"``) or ZFNet (``variant="zfnet"``): ``features`` (five
    convs with ReLU, LRN + max-pool after the first two, a max-pool after the last),
    ``avgpool`` (adaptive, to 6x6; 2x2 in the small-input variant) and ``classifier``
    (dropout, fc, ReLU, dropout, fc, ReLU, fc).

    Input ``(N, in_channels, H, W)`` with ``H, W >= min_input_size`` (63 for AlexNet, 47 for
    ZFNet, 1 for the small-input variants), output ``(N, num_classes)`` logits. state_dict
    keys are torchvision's: ``features.{0,3,6,8,10}``, ``classifier.{1,4,6}`` (weight, bias).

    >>> import gradschool as gs
    >>> net = AlexNet(num_classes=10, in_channels=1, input_size=28)
    >>> tuple(net(gs.randn(2, 1, 28, 28)).shape)
    (2, 10)
    >>> sum(p.numel() for p in AlexNet().parameters())
    61100840
    """

    has_small_input_variant = True

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        input_size: int = 224,
        small_input: bool | None = None,
        lrn: bool = True,
        groups: int = 1,
        dropout: float = 0.5,
        variant: str = "alexnet",
    ) -> None:
        if variant not in ("alexnet", "zfnet"):
            raise ValueError(f"AlexNet: variant must be 'alexnet' or 'zfnet', got {variant!r}")
        small = resolve_small_input(small_input, input_size)
        widths, c1, c2, pool, side, hidden, min_size = _SPECS[variant, small]
        super().__init__(variant, num_classes, in_channels, input_size, min_size)
        check_positive_int(variant, "groups", groups)
        if any(w % groups for w in widths):
            raise ValueError(
                f"{variant}: groups must divide every conv width {widths}, got groups={groups}"
            )
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise TypeError(f"{variant}: dropout must be a float, got {dropout!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{variant}: dropout must be a probability in [0, 1], got {dropout}")
        self.small_input, self.lrn, self.groups, self.dropout = small, bool(lrn), groups, dropout

        def norm_pool() -> Module:
            # LRN then pool, as in the paper; bundled so the conv indices stay torchvision's
            pool_layer = MaxPool2d(3, 2, **pool)
            if not lrn:
                return pool_layer
            return Sequential(LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0), pool_layer)

        w1, w2, w3, w4, w5 = widths
        self.features = Sequential(
            Conv2d(in_channels, w1, c1[0], stride=c1[1], padding=c1[2]),
            ReLU(inplace=True),
            norm_pool(),
            # groups=2: the paper's conv2, conv4, conv5 see only their own GPU's half
            Conv2d(w1, w2, c2[0], stride=c2[1], padding=c2[2], groups=groups),
            ReLU(inplace=True),
            norm_pool(),
            Conv2d(w2, w3, 3, padding=1),
            ReLU(inplace=True),
            Conv2d(w3, w4, 3, padding=1, groups=groups),
            ReLU(inplace=True),
            Conv2d(w4, w5, 3, padding=1, groups=groups),
            ReLU(inplace=True),
            MaxPool2d(3, 2, **pool),
        )
        self.avgpool = AdaptiveAvgPool2d((side, side))
        self.classifier = Sequential(
            Dropout(dropout),
            Linear(w5 * side * side, hidden),
            ReLU(inplace=True),
            Dropout(dropout),
            Linear(hidden, hidden),
            ReLU(inplace=True),
            Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        """``(N, in_channels, H, W)`` -> ``(N, num_classes)`` logits."""
        self.check_input(x)
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))

    def extra_repr(self) -> str:
        return (
            f"small_input={self.small_input}, lrn={self.lrn}, groups={self.groups}, "
            f"dropout={self.dropout}, " + super().extra_repr()
        )


def alexnet(
    num_classes: int = 1000,
    in_channels: int = 3,
    input_size: int = 224,
    small_input: bool | None = None,
    lrn: bool = True,
    groups: int = 1,
    dropout: float = 0.5,
) -> AlexNet:
    """AlexNet with torchvision's widths and keys (61,100,840 parameters at 1000 classes;
    60,209,960 with ``groups=2``, the paper's two-GPU split): ``(N, in_channels, H, W)`` ->
    ``(N, num_classes)``. ``small_input`` (default: ``input_size < 64``) gives the 28x28 /
    32x32 variant. See ``AlexNet``."""
    return AlexNet(num_classes, in_channels, input_size, small_input, lrn, groups, dropout)


def zfnet(
    num_classes: int = 1000,
    in_channels: int = 3,
    input_size: int = 224,
    small_input: bool | None = None,
    lrn: bool = True,
    groups: int = 1,
    dropout: float = 0.5,
) -> AlexNet:
    """ZFNet (Zeiler & Fergus 2013): AlexNet with a 7x7 / stride-2 first conv (96 channels)
    and a 5x5 / stride-2 second conv (62,357,608 parameters at 1000 classes):
    ``(N, in_channels, H, W)`` -> ``(N, num_classes)``. See ``AlexNet``."""
    return AlexNet(
        num_classes, in_channels, input_size, small_input, lrn, groups, dropout, variant="zfnet"
    )
