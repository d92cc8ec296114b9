"""The ImageNet ResNets (He, Zhang, Ren & Sun 2015, "Deep Residual Learning for Image
Recognition"), their descendants ResNeXt (Xie et al. 2017) and Wide ResNet (Zagoruyko &
Komodakis 2016), and plain twins without shortcuts (CS231n L9 "CNN Architectures"; CSC321 L12).

A residual block learns a *correction* ``F(x)`` to its input, ``y = relu(x + F(x))``: if the
best thing a block can do is nothing, driving ``F`` to zero is easy, and the gradient reaches
early layers through the identity path undiminished. This is what lets 152 layers train
where a plain stack of 34 already trains *worse* than one of 18 (the paper's figure 4).

Layout (torchvision's, so its weights load by name), sizes for a 224x224 image::

    conv1 7x7/2 -> 64, bn1, relu    (N, 64, 112, 112)   (224 + 2*3 - 7) // 2 + 1 = 112
    maxpool 3x3/2                   (N, 64, 56, 56)
    layer1: blocks at 64            (N, 64 * e, 56, 56)
    layer2: blocks at 128, first /2 (N, 128 * e, 28, 28)
    layer3: blocks at 256, first /2 (N, 256 * e, 14, 14)
    layer4: blocks at 512, first /2 (N, 512 * e, 7, 7)
    avgpool (global), fc            (N, num_classes)

``e`` is the block's ``expansion``: 1 for ``BasicBlock`` (two 3x3 convs; ResNet-18/34) and
4 for ``Bottleneck`` (1x1 reduce, 3x3, 1x1 expand; ResNet-50/101/152). A bottleneck at 256
channels costs 1x1 256->64, 3x3 64->64, 1x1 64->256: 69,632 weights, against 1,179,648 for
two 3x3 convs at 256, which is why ResNet-50 (25.6M parameters) is barely larger than
ResNet-34 (21.8M). The stride of a bottleneck sits on its 3x3 conv ("ResNet v1.5", as in
torchvision). Where a block changes the shape, the shortcut is a projection, ``downsample``
= 1x1 conv (stride 2) + BN (the paper's option B). Total stride 32, so the ImageNet stem
needs images of at least 32x32 (a 1x1 map after layer4).

Small-input variant (``small_input=True``, the default when ``input_size < 64``): the common
CIFAR adaptation. The stem is a 3x3 stride-1 conv and the max-pool is an ``Identity``, so a
32x32 image reaches layer1 at 32x32 instead of 8x8; the same four stages and blocks follow
(maps 32, 16, 8, 4; or 28, 14, 7, 4 for Fashion-MNIST). Total stride 8: at least 8x8
images. Only ``conv1.weight`` changes shape; every other tensor is the ImageNet one. The
price is compute: layer1 now runs at full resolution, about 0.46G mult-adds per 28x28 image
for ResNet-18 (1.8G for ResNet-18 at 224).

ResNeXt (``resnext50_32x4d``) splits the bottleneck's 3x3 conv into 32 groups of 4 channels
per 64 planes (width 128 at stage 1); Wide ResNet-50-2 doubles the bottleneck width.

Plain twins (``plain18`` ... ``plain152``): the same stacks with the residual add removed,
``y = relu(F(x))``. A plain net has no shortcut at all, so it has no ``downsample``
projection either: the block's own convs already change the shape. Its parameters are the
ResNet's minus those of the projections (``plain18``: 11,515,688 = 11,689,512 - 173,824).

Stochastic depth (Huang et al. 2016): ``stochastic_depth_prob=p`` drops the residual branch
of block ``l`` of ``L`` (counted over all stages, from 1) with probability ``p * l / L`` in
training, per example (``StochasticDepth(p_l, "row")`` before the add), so the network is
shallower on average; evaluation uses every block (the identity). ``zero_init_residual``
starts every block's last BN scale at zero, so each block starts as the identity (Goyal et
al. 2017).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..nn import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Identity,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    StochasticDepth,
    init,
)
from ..tensor import Tensor
from ._base import ImageClassifier, check_positive_int, resolve_small_input

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "plain18",
    "plain34",
    "plain50",
    "plain101",
    "plain152",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "wide_resnet50_2",
]


def _conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1) -> Conv2d:
    return Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, groups=groups, bias=False)


def _conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> Conv2d:
    return Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class BasicBlock(Module):
    """Two 3x3 conv-BN layers and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x))``
    with ``s`` the identity or ``downsample``. ``(N, inplanes, H, W)`` -> ``(N, planes,
    H / stride, W / stride)``. ``residual=False`` drops the add (a plain block);
    ``drop_prob > 0`` puts a ``StochasticDepth(drop_prob, "row")`` on the branch."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        residual: bool = True,
        drop_prob: float = 0.0,
    ) -> None:
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError(
                f"BasicBlock: only groups=1 and base_width=64 are supported, got groups={groups}, "
                f"base_width={base_width} (use Bottleneck for ResNeXt / Wide ResNet)"
            )
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = BatchNorm2d(planes)
        self.relu = ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = BatchNorm2d(planes)
        self.downsample = downsample
        self.stride, self.residual = stride, residual
        self.stochastic_depth = StochasticDepth(drop_prob, "row") if drop_prob > 0 else None

    def forward(self, x: Tensor) -> Tensor:
        """``(N, inplanes, H, W)`` -> ``(N, planes, H / stride, W / stride)``."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return _merge(self, out, x)


class Bottleneck(Module):
    """1x1 reduce, 3x3 (strided, grouped), 1x1 expand, each with BN, plus a shortcut.
    ``(N, inplanes, H, W)`` -> ``(N, planes * 4, H / stride, W / stride)``; the inner width
    is ``planes * base_width / 64 * groups`` (ResNeXt, Wide ResNet). ``residual`` and
    ``drop_prob`` as in ``BasicBlock``."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        residual: bool = True,
        drop_prob: float = 0.0,
    ) -> None:
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = _conv1x1(inplanes, width)
        self.bn1 = BatchNorm2d(width)
        self.conv2 = _conv3x3(width, width, stride, groups)
        self.bn2 = BatchNorm2d(width)
        self.conv3 = _conv1x1(width, planes * self.expansion)
        self.bn3 = BatchNorm2d(planes * self.expansion)
        self.relu = ReLU(inplace=True)
        self.downsample = downsample
        self.stride, self.residual = stride, residual
        self.stochastic_depth = StochasticDepth(drop_prob, "row") if drop_prob > 0 else None

    def forward(self, x: Tensor) -> Tensor:
        """``(N, inplanes, H, W)`` -> ``(N, planes * 4, H / stride, W / stride)``."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return _merge(self, out, x)


def _merge(block: BasicBlock | Bottleneck, out: Tensor, x: Tensor) -> Tensor:
    """The end every block shares: ``relu(branch + shortcut)``, or ``relu(branch)`` if plain."""
    if not block.residual:
        return block.relu(out)
    if block.stochastic_depth is not None:
        out = block.stochastic_depth(out)  # drops the branch only: the shortcut always passes
    identity = x if block.downsample is None else block.downsample(x)
    return block.relu(out + identity)


class ResNet(ImageClassifier):
    """A ResNet (``residual=True``) or its plain twin, torchvision's layout.

    ``block`` is ``BasicBlock`` or ``Bottleneck``, ``layers`` the number of blocks of the
    four stages (``[2, 2, 2, 2]`` for ResNet-18). Input ``(N, in_channels, H, W)`` with
    ``H, W >= 32`` (ImageNet stem) or ``>= 8`` (small-input stem), output ``(N,
    num_classes)`` logits. state_dict keys: ``conv1``, ``bn1``, ``layer{1-4}.{i}.conv{1,2[,3]}``,
    ``layer{1-4}.{i}.bn{1,2[,3]}``, ``layer{1-4}.0.downsample.{0,1}`` (ResNets only), ``fc``.

    >>> import gradschool as gs
    >>> net = resnet18(num_classes=10, in_channels=1, input_size=28)  # small-input stem
    >>> tuple(net(gs.randn(2, 1, 28, 28)).shape)
    (2, 10)
    """

    has_small_input_variant = True

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: Sequence[int],
        num_classes: int = 1000,
        in_channels: int = 3,
        input_size: int = 224,
        small_input: bool | None = None,
        zero_init_residual: bool = False,
        groups: int = 1,
        width_per_group: int = 64,
        residual: bool = True,
        stochastic_depth_prob: float = 0.0,
        name: str | None = None,
    ) -> None:
        if block not in (BasicBlock, Bottleneck):
            raise TypeError(f"ResNet: block must be BasicBlock or Bottleneck, got {block!r}")
        layers = list(layers)
        if len(layers) != 4 or any(isinstance(n, bool) or not isinstance(n, int) for n in layers):
            raise ValueError(f"ResNet: layers must be 4 block counts, got {layers!r}")
        depth = (2 if block is BasicBlock else 3) * sum(layers) + 2
        name = name or f"{'resnet' if residual else 'plain'}{depth}"
        check_positive_int(name, "input_size", input_size)
        if small_input not in (None, True, False):
            raise TypeError(f"{name}: small_input must be True, False or None, got {small_input!r}")
        small = resolve_small_input(small_input, input_size)
        super().__init__(name, num_classes, in_channels, input_size, 8 if small else 32)
        for n in layers:
            check_positive_int(name, "each entry of layers", n)
        check_positive_int(name, "groups", groups)
        check_positive_int(name, "width_per_group", width_per_group)
        if (
            isinstance(stochastic_depth_prob, bool)
            or not isinstance(stochastic_depth_prob, (int, float))
            or not 0.0 <= stochastic_depth_prob < 1.0
        ):
            raise ValueError(
                f"{name}: stochastic_depth_prob must be a number in [0, 1), "
                f"got {stochastic_depth_prob!r}"
            )
        if not residual and stochastic_depth_prob > 0:
            raise ValueError(f"{name}: stochastic depth needs the residual shortcuts")
        if not residual and zero_init_residual:
            # a plain block whose last BN scale is zero outputs relu(0): the net would be dead
            raise ValueError(f"{name}: zero_init_residual needs the residual shortcuts")
        self.block, self.layers, self.small_input = block, layers, small
        self.groups, self.base_width, self.residual = groups, width_per_group, residual
        self.stochastic_depth_prob = stochastic_depth_prob

        if small:  # 3x3/1 and no pool: a 32x32 image keeps its resolution into layer1
            self.conv1 = Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = BatchNorm2d(64)
        self.relu = ReLU(inplace=True)
        self.maxpool = Identity() if small else MaxPool2d(3, stride=2, padding=1)
        self.inplanes, self._built, self._total = 64, 0, sum(layers)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.fc = Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, Conv2d):  # He et al.'s initialisation, as torchvision
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, BatchNorm2d):
                init.ones_(m.weight)
                init.zeros_(m.bias)
        if zero_init_residual:  # each residual block starts as the identity
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    init.zeros_(m.bn3.weight)
                elif isinstance(m, BasicBlock):
                    init.zeros_(m.bn2.weight)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> Sequential:
        """One stage: ``blocks`` blocks at ``planes``, the first one strided; a projection
        shortcut where the shape changes (ResNets only)."""
        block, out_planes = self.block, planes * self.block.expansion
        downsample = None
        if self.residual and (stride != 1 or self.inplanes != out_planes):
            downsample = Sequential(
                _conv1x1(self.inplanes, out_planes, stride), BatchNorm2d(out_planes)
            )
        stage = []
        for i in range(blocks):
            self._built += 1  # the linear decay rule: block l of L drops with p * l / L
            stage.append(
                block(
                    self.inplanes,
                    planes,
                    stride if i == 0 else 1,
                    downsample if i == 0 else None,
                    self.groups,
                    self.base_width,
                    self.residual,
                    self.stochastic_depth_prob * self._built / self._total,
                )
            )
            self.inplanes = out_planes
        return Sequential(*stage)

    def forward(self, x: Tensor) -> Tensor:
        """``(N, in_channels, H, W)`` -> ``(N, num_classes)`` logits."""
        self.check_input(x)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))

    def extra_repr(self) -> str:
        extra = f", groups={self.groups}" if self.groups != 1 else ""
        extra += f", width_per_group={self.base_width}" if self.base_width != 64 else ""
        if self.stochastic_depth_prob:
            extra += f", stochastic_depth_prob={self.stochastic_depth_prob}"
        return (
            f"block={self.block.__name__}, layers={self.layers}, residual={self.residual}, "
            f"small_input={self.small_input}{extra}, " + super().extra_repr()
        )


def _factory(
    name: str,
    block: type[BasicBlock] | type[Bottleneck],
    layers: list[int],
    doc: str,
    residual: bool = True,
    groups: int = 1,
    width_per_group: int = 64,
) -> Callable[..., ResNet]:
    def build(
        num_classes: int = 1000,
        in_channels: int = 3,
        input_size: int = 224,
        small_input: bool | None = None,
        stochastic_depth_prob: float = 0.0,
        zero_init_residual: bool = False,
    ) -> ResNet:
        return ResNet(
            block,
            layers,
            num_classes,
            in_channels,
            input_size,
            small_input,
            zero_init_residual,
            groups,
            width_per_group,
            residual,
            stochastic_depth_prob,
            name,
        )

    build.__name__ = build.__qualname__ = name
    build.__doc__ = (
        f"{doc}: ``(N, in_channels, H, W)`` -> ``(N, num_classes)``. ``small_input=None`` picks "
        "the 3x3/1 stem without max-pool when ``input_size < 64``. See ``ResNet``."
    )
    return build


resnet18 = _factory("resnet18", BasicBlock, [2, 2, 2, 2], "ResNet-18 (11,689,512 parameters)")
resnet34 = _factory("resnet34", BasicBlock, [3, 4, 6, 3], "ResNet-34 (21,797,672 parameters)")
resnet50 = _factory("resnet50", Bottleneck, [3, 4, 6, 3], "ResNet-50 (25,557,032 parameters)")
resnet101 = _factory("resnet101", Bottleneck, [3, 4, 23, 3], "ResNet-101 (44,549,160 parameters)")
resnet152 = _factory("resnet152", Bottleneck, [3, 8, 36, 3], "ResNet-152 (60,192,808 parameters)")
resnext50_32x4d = _factory(
    "resnext50_32x4d",
    Bottleneck,
    [3, 4, 6, 3],
    "ResNeXt-50 32x4d: 32 groups of 4 channels per 64 planes (25,028,904 parameters)",
    groups=32,
    width_per_group=4,
)
wide_resnet50_2 = _factory(
    "wide_resnet50_2",
    Bottleneck,
    [3, 4, 6, 3],
    "Wide ResNet-50-2: bottlenecks twice as wide (68,883,240 parameters)",
    width_per_group=128,
)
plain18 = _factory(
    "plain18", BasicBlock, [2, 2, 2, 2], "Plain twin of ResNet-18 (no shortcuts)", False
)
plain34 = _factory(
    "plain34", BasicBlock, [3, 4, 6, 3], "Plain twin of ResNet-34 (no shortcuts)", False
)
plain50 = _factory(
    "plain50", Bottleneck, [3, 4, 6, 3], "Plain twin of ResNet-50 (no shortcuts)", False
)
plain101 = _factory(
    "plain101", Bottleneck, [3, 4, 23, 3], "Plain twin of ResNet-101 (no shortcuts)", False
)
plain152 = _factory(
    "plain152", Bottleneck, [3, 8, 36, 3], "Plain twin of ResNet-152 (no shortcuts)", False
)
