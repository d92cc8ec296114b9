"""GoogLeNet (Inception v1; Szegedy et al. 2014, "Going deeper with convolutions"), the
ILSVRC 2014 winner of CS231n L9 "CNN Architectures" (CSC321 L12): 22 layers with weights
but only 6.6M parameters (AlexNet: 61M), because its building block, the *Inception
module*, runs 1x1, 3x3 and 5x5 convolutions and a 3x3 max pool side by side and shrinks the
channels with 1x1 "bottleneck" convolutions first. There are no big fully connected layers:
global average pooling feeds one Linear layer.

The naive module and the bottleneck module (the course's argument; see ``inception_costs``).
On a 28x28x256 input, the naive module with 128 1x1, 192 3x3 and 96 5x5 filters costs
``28*28 * (256*128 + 9*256*192 + 25*256*96)`` = 854M mult-adds and, since the pool branch
passes all 256 channels through, outputs 128+192+96+256 = 672 channels: the depth can only
grow from module to module. Putting 1x1 convs to 64 channels before the 3x3 and 5x5 convs
and after the pool gives 480 channels for 271M mult-adds and 0.35M parameters instead of
1.09M (the lecture slide prints a total of 358M for these same six terms; they sum to 271M).

The network (ImageNet, 224x224; torchvision's layout and names)::

    conv1 7x7/2 -> 64, maxpool1 3x3/2     (N, 64, 56, 56)
    conv2 1x1 -> 64, conv3 3x3 -> 192     (N, 192, 56, 56)
    maxpool2 3x3/2                        (N, 192, 28, 28)
    inception3a, 3b                       (N, 480, 28, 28)
    maxpool3 3x3/2                        (N, 480, 14, 14)
    inception4a (-> aux1), 4b, 4c,
    4d (-> aux2), 4e                      (N, 832, 14, 14)
    maxpool4 2x2/2                        (N, 832, 7, 7)
    inception5a, 5b                       (N, 1024, 7, 7)
    avgpool, dropout(0.2), fc             (N, num_classes)

Every convolution is a ``BasicConv2d`` (conv without bias + BatchNorm(eps=0.001) + ReLU),
torchvision's version: batch norm (Ioffe & Szegedy, 2015) came months after the paper, which
used biases and local response normalisation.
The max pools use ``ceil_mode=True`` (the paper's Caffe sizes: 112 -> 56, not 55).

torchvision's quirk, kept by default: the "5x5" branch (``branch3``) of torchvision's
Inception uses a 3x3 convolution (a known bug it keeps so that its ImageNet weights still
load). That is what gives exactly 6,624,904 parameters (``aux_logits=False``, 1000 classes)
and 1.5G mult-adds at 224x224; ``branch3_kernel_size=5`` builds the paper's 5x5 convolutions
(7,005,832 parameters). torchvision's ImageNet weights load by name; they were trained with
its ``transform_input=True``, a per-channel re-normalisation to apply to the images yourself.

Auxiliary classifiers (``aux_logits=True``): two small heads on inception4a and 4d (average
pool to 4x4, 1x1 conv to 128, fc 2048 -> 1024, ReLU, dropout 0.7, fc), only used in
training to push gradient into the middle of the deep network; in training mode the forward
returns ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`` and ``googlenet_loss`` adds
their losses with the paper's weight 0.3. In eval mode it returns the logits alone.

Small-input variant (28x28 Fashion-MNIST, 32x32 CIFAR): the ImageNet stem divides the image
by 8 before inception3a (224 -> 28); on a 28x28 image that would leave 4x4 maps for
inception3a and 1x1 for inception5. The small stem is ``conv1`` 3x3 stride 1 (no 7x7/2,
no ``maxpool1``), ``conv2`` and ``conv3`` as before, and ``maxpool2``, so inception3a..5b run
on 14x14, 7x7 and 4x4 maps (16, 8, 4 for 32x32), like the three stages of a CIFAR ResNet.
At full width inception3a..5b would still cost about 265M mult-adds per 28x28 image, so the
small variant also halves every channel count by default (``width=0.5``; ``width=1.0``
gives the full-width modules, 354M): 89M mult-adds per 28x28 image and 113M per 32x32 one
(``gradschool.summary``), 1.4M parameters for 10 classes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..nn import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Identity,
    Linear,
    MaxPool2d,
    Module,
    Sequential,
    init,
)
from ..nn import functional as F
from ..ops import cat
from ..tensor import Tensor
from ._base import ImageClassifier, resolve_small_input

__all__ = [
    "BasicConv2d",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "Inception",
    "InceptionAux",
    "InceptionNaive",
    "googlenet",
    "googlenet_loss",
    "inception_costs",
]


class GoogLeNetOutputs(NamedTuple):
    """What a GoogLeNet with ``aux_logits=True`` returns in training mode: three
    ``(N, num_classes)`` logits (torchvision's order: main, aux2 from 4d, aux1 from 4a)."""

    logits: Tensor
    aux_logits2: Tensor | None
    aux_logits1: Tensor | None


class BasicConv2d(Module):
    """Conv (no bias: BN's shift replaces it) + BatchNorm(eps=0.001) + ReLU.
    ``(N, in_channels, H, W)`` -> ``(N, out_channels, H', W')``; ``kwargs`` go to ``Conv2d``."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs: Any) -> None:
        super().__init__()
        self.conv = Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(Module):
    """The Inception module with 1x1 bottlenecks: four branches on the same input,
    concatenated along channels. ``(N, in_channels, H, W)`` -> ``(N, out_channels, H, W)``
    with ``out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj``.

    - ``branch1``: 1x1 conv -> ``ch1x1``
    - ``branch2``: 1x1 conv -> ``ch3x3red``, 3x3 conv -> ``ch3x3``
    - ``branch3``: 1x1 conv -> ``ch5x5red``, ``branch3_kernel_size`` conv -> ``ch5x5``
      (3x3 as torchvision by default; 5 for the paper's 5x5)
    - ``branch4``: 3x3 max pool (stride 1), 1x1 conv -> ``pool_proj``
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
        branch3_kernel_size: int = 3,
    ) -> None:
        super().__init__()
        if branch3_kernel_size not in (3, 5):
            raise ValueError(
                f"Inception: branch3_kernel_size must be 3 (torchvision) or 5 (the paper), "
                f"got {branch3_kernel_size!r}"
            )
        k = branch3_kernel_size
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=k, padding=k // 2),
        )
        self.branch4 = Sequential(
            MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: Tensor) -> Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return cat([branch(x) for branch in branches], 1)


class InceptionNaive(Module):
    """The naive Inception module of the paper (its figure 2a), kept to show why the
    bottlenecks are needed: 1x1, 3x3 and 5x5 convs and a 3x3 max pool (stride 1) side by
    side, concatenated. ``(N, in_channels, H, W)`` -> ``(N, out_channels, H, W)`` with
    ``out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels``: the pool branch keeps every input
    channel, so stacked naive modules can only get deeper, and the 3x3 and 5x5 convs act on
    all ``in_channels``. Convs are ``BasicConv2d`` like ``Inception``'s, so the two differ only
    by the bottlenecks (see ``inception_costs``).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = BasicConv2d(in_channels, ch3x3, kernel_size=3, padding=1)
        self.branch3 = BasicConv2d(in_channels, ch5x5, kernel_size=5, padding=2)
        self.branch4 = MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True)
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels

    def forward(self, x: Tensor) -> Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return cat([branch(x) for branch in branches], 1)


def _conv_mult_adds(module: Module, size: int) -> int:
    """Mult-adds of every conv in a module whose convs all keep an ``size x size`` map."""
    total = 0
    for m in module.modules():
        if isinstance(m, Conv2d):
            out_c, in_c, kh, kw = m.weight.shape
            total += out_c * in_c * kh * kw * size * size
    return total


def inception_costs(
    in_channels: int = 256,
    size: int = 28,
    ch1x1: int = 128,
    ch3x3red: int = 64,
    ch3x3: int = 192,
    ch5x5red: int = 64,
    ch5x5: int = 96,
    pool_proj: int = 64,
) -> dict[str, dict[str, int]]:
    """Parameters, conv mult-adds and output channels of the naive Inception module and of
    the bottleneck one with the same input and the same 1x1/3x3/5x5 branch widths, on an
    ``(N, in_channels, size, size)`` input (the 5x5 branch as in the paper). The defaults are
    CS231n L9's example:

    >>> costs = inception_costs()
    >>> costs["naive"]
    {'params': 1090368, 'mult_adds': 854196224, 'out_channels': 672}
    >>> costs["bottleneck"]
    {'params': 347328, 'mult_adds': 271351808, 'out_channels': 480}
    """
    naive = InceptionNaive(in_channels, ch1x1, ch3x3, ch5x5)
    bottleneck = Inception(
        in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, branch3_kernel_size=5
    )
    return {
        name: {
            "params": sum(p.numel() for p in m.parameters()),
            "mult_adds": _conv_mult_adds(m, size),
            "out_channels": m.out_channels,
        }
        for name, m in (("naive", naive), ("bottleneck", bottleneck))
    }


class InceptionAux(Module):
    """An auxiliary classifier: ``(N, in_channels, H, W)`` -> ``(N, num_classes)`` by
    adaptive average pooling to 4x4, a 1x1 ``BasicConv2d`` to ``conv_channels`` (128),
    flatten (``16 * conv_channels``), ``fc1`` to ``hidden`` (1024), ReLU, dropout and ``fc2``."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        dropout: float = 0.7,
        conv_channels: int = 128,
        hidden: int = 1024,
    ) -> None:
        super().__init__()
        self.conv = BasicConv2d(in_channels, conv_channels, kernel_size=1)
        self.fc1 = Linear(16 * conv_channels, hidden)
        self.fc2 = Linear(hidden, num_classes)
        self.dropout = Dropout(p=dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4))).flatten(1)
        return self.fc2(self.dropout(F.relu(self.fc1(x), inplace=True)))


# (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) of each module, the paper's table 1
_INCEPTION_CONFIG = {
    "inception3a": (64, 96, 128, 16, 32, 32),
    "inception3b": (128, 128, 192, 32, 96, 64),
    "inception4a": (192, 96, 208, 16, 48, 64),
    "inception4b": (160, 112, 224, 24, 64, 64),
    "inception4c": (128, 128, 256, 24, 64, 64),
    "inception4d": (112, 144, 288, 32, 64, 64),
    "inception4e": (256, 160, 320, 32, 128, 128),
    "inception5a": (256, 160, 320, 32, 128, 128),
    "inception5b": (384, 192, 384, 48, 128, 128),
}


class GoogLeNet(ImageClassifier):
    """GoogLeNet / Inception v1 (see the module docstring for the layer table).

    Input ``(N, in_channels, H, W)``; output ``(N, num_classes)`` logits, or in training
    mode with ``aux_logits=True`` a ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``.
    Images must be at least 15x15 for the ImageNet stem, 4x4 for the small one.
    ``width`` multiplies every channel count (conv stem, the inception modules' branches and
    the auxiliary heads; rounded, at least 1); ``None`` means 1.0 for the ImageNet stem and
    0.5 for the small one. state_dict keys are torchvision's: ``conv1.conv``, ``conv1.bn``,
    ..., ``inception3a.branch1.conv``, ``inception3a.branch2.0.conv``, ..., ``aux1.conv``,
    ``aux1.fc1``, ..., ``fc``.

    >>> import gradschool as gs
    >>> net = googlenet(num_classes=10, in_channels=1, input_size=28)
    >>> tuple(net(gs.randn(2, 1, 28, 28)).shape)
    (2, 10)
    >>> sum(p.numel() for p in googlenet().parameters())
    6624904
    """

    has_small_input_variant = True

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        input_size: int = 224,
        small_input: bool | None = None,
        aux_logits: bool = False,
        dropout: float = 0.2,
        dropout_aux: float = 0.7,
        width: float | None = None,
        branch3_kernel_size: int = 3,
    ) -> None:
        small = resolve_small_input(small_input, input_size)
        # smallest image whose maps stay >= 1 through every pool (measured against PyTorch)
        super().__init__("googlenet", num_classes, in_channels, input_size, 4 if small else 15)
        if width is None:
            width = 0.5 if small else 1.0
        if isinstance(width, bool) or not isinstance(width, (int, float)) or width <= 0:
            raise ValueError(f"googlenet: width must be a positive number, got {width!r}")
        for name, p in (("dropout", dropout), ("dropout_aux", dropout_aux)):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"googlenet: {name} must be in [0, 1), got {p!r}")
        self.small_input, self.aux_logits, self.width = small, aux_logits, float(width)

        def c(channels: int) -> int:
            return max(1, round(channels * width))

        if small:  # 3x3 stride 1 and no maxpool1: only maxpool2 halves the map before 3a
            self.conv1 = BasicConv2d(in_channels, c(64), kernel_size=3, padding=1)
            self.maxpool1 = Identity()
        else:
            self.conv1 = BasicConv2d(in_channels, c(64), kernel_size=7, stride=2, padding=3)
            self.maxpool1 = MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(c(64), c(64), kernel_size=1)
        self.conv3 = BasicConv2d(c(64), c(192), kernel_size=3, padding=1)
        self.maxpool2 = MaxPool2d(3, stride=2, ceil_mode=True)
        channels, aux_in = c(192), {}
        for name, config in _INCEPTION_CONFIG.items():
            module = Inception(channels, *map(c, config), branch3_kernel_size=branch3_kernel_size)
            setattr(self, name, module)
            channels = module.out_channels
            aux_in[name] = channels
            if name == "inception3b":
                self.maxpool3 = MaxPool2d(3, stride=2, ceil_mode=True)
            elif name == "inception4e":
                self.maxpool4 = MaxPool2d(2, stride=2, ceil_mode=True)
        if aux_logits:
            self.aux1 = InceptionAux(
                aux_in["inception4a"], num_classes, dropout_aux, c(128), c(1024)
            )
            self.aux2 = InceptionAux(
                aux_in["inception4d"], num_classes, dropout_aux, c(128), c(1024)
            )
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.dropout = Dropout(p=dropout)
        self.fc = Linear(channels, num_classes)
        for m in self.modules():  # torchvision's init (its init_weights=True)
            if isinstance(m, (Conv2d, Linear)):
                init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
            elif isinstance(m, BatchNorm2d):
                init.ones_(m.weight)
                init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor | GoogLeNetOutputs:
        """``(N, in_channels, H, W)`` -> ``(N, num_classes)`` logits, or
        ``GoogLeNetOutputs`` in training mode with ``aux_logits=True``."""
        self.check_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        with_aux = self.training and self.aux1 is not None
        aux1 = self.aux1(x) if with_aux else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if with_aux else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(self.avgpool(x).flatten(1)))
        return GoogLeNetOutputs(x, aux2, aux1) if with_aux else x

    def extra_repr(self) -> str:
        return (
            f"small_input={self.small_input}, width={self.width}, "
            f"aux_logits={self.aux_logits}, " + super().extra_repr()
        )


def googlenet(
    num_classes: int = 1000,
    in_channels: int = 3,
    input_size: int = 224,
    small_input: bool | None = None,
    aux_logits: bool = False,
    dropout: float = 0.2,
    dropout_aux: float = 0.7,
    width: float | None = None,
    branch3_kernel_size: int = 3,
) -> GoogLeNet:
    """GoogLeNet / Inception v1: ``(N, in_channels, H, W)`` -> ``(N, num_classes)``.
    ``small_input=None`` picks the small-input stem (and ``width=0.5``) below 64x64 images.
    See ``GoogLeNet`` and the module docstring."""
    return GoogLeNet(
        num_classes,
        in_channels,
        input_size,
        small_input,
        aux_logits,
        dropout,
        dropout_aux,
        width,
        branch3_kernel_size,
    )


def googlenet_loss(
    outputs: Tensor | GoogLeNetOutputs, target: Tensor, aux_weight: float = 0.3
) -> Tensor:
    """The paper's training loss: ``cross_entropy(logits) + aux_weight * (cross_entropy(aux1)
    + cross_entropy(aux2))`` for ``GoogLeNetOutputs``; plain cross entropy for ``(N, C)``
    logits (eval mode or ``aux_logits=False``). ``target``: ``(N,)`` class indices."""
    if not isinstance(outputs, GoogLeNetOutputs):
        return F.cross_entropy(outputs, target)
    loss = F.cross_entropy(outputs.logits, target)
    for aux in (outputs.aux_logits1, outputs.aux_logits2):
        if aux is not None:
            loss = loss + aux_weight * F.cross_entropy(aux, target)
    return loss
