"""AlexNet / ZFNet, VGG and SqueezeNet: exact parameter counts (torchvision's), state_dict keys
and PyTorch twins (the same weights loaded into a torch.nn network written out here: same
outputs and gradients, train and eval), the small-input variants on 28x28 and 32x32 images,
the smallest accepted images, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs
from gradschool import nn
from gradschool.models.alexnet import AlexNet, alexnet, zfnet
from gradschool.models.squeezenet import Fire, SqueezeNet, squeezenet1_0, squeezenet1_1
from gradschool.models.vgg import (
    VGG,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)
from tests.models.twin import compare_with_twin

tnn = torch.nn
FACTORIES = {
    f.__name__: f
    for f in (alexnet, zfnet, squeezenet1_0, squeezenet1_1)
    + (vgg11, vgg13, vgg16, vgg19, vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn)
}


@pytest.fixture
def no_init(monkeypatch):
    """Skip random initialisation (the counts depend on shapes only): building a 138M-parameter
    VGG then costs no random numbers. The init functions look ``uniform_``/``normal_`` up as
    globals, so patching the two covers kaiming_* as well."""
    monkeypatch.setattr(nn.init, "uniform_", lambda t, *a, **k: t)
    monkeypatch.setattr(nn.init, "normal_", lambda t, *a, **k: t)


def count(net):
    return sum(p.numel() for p in net.parameters())


# ----------------------------------------------------------------------------- torch twins
def _twin(features, avgpool, classifier):
    net = tnn.Module()
    net.features, net.classifier = features, classifier
    if avgpool is None:  # SqueezeNet: the pool is the classifier's last layer
        net.forward = lambda x: net.classifier(net.features(x)).flatten(1)
    else:
        net.avgpool = avgpool
        net.forward = lambda x: net.classifier(net.avgpool(net.features(x)).flatten(1))
    return net


def torch_alexnet(num_classes=1000, in_channels=3, small=False, variant="alexnet", lrn=True,
                  groups=1, dropout=0.5):  # fmt: skip
    """torchvision's AlexNet (``small=False, lrn=False``), with the paper's LRN bundled in
    front of the first two pools, ZFNet's stem, and the small-input variant."""
    if variant == "alexnet":
        widths, c1, c2 = (64, 192, 384, 256, 256), (5, 2, 2) if small else (11, 4, 2), (5, 1, 2)
        pool = {"padding": 1} if small else {}
    else:
        widths = (96, 256, 384, 384, 256)
        c1, c2 = ((7, 1, 3), (5, 2, 2)) if small else ((7, 2, 1), (5, 2, 0))
        pool = {"padding": 1} if small else {"ceil_mode": True}
    side, hidden = (2, 1024) if small else (6, 4096)

    def norm_pool():
        p = tnn.MaxPool2d(3, 2, **pool)
        return tnn.Sequential(tnn.LocalResponseNorm(5, 5e-4, 0.75, 2.0), p) if lrn else p

    w1, w2, w3, w4, w5 = widths
    features = tnn.Sequential(
        tnn.Conv2d(in_channels, w1, c1[0], c1[1], c1[2]), tnn.ReLU(inplace=True), norm_pool(),
        tnn.Conv2d(w1, w2, c2[0], c2[1], c2[2], groups=groups), tnn.ReLU(inplace=True),
        norm_pool(),
        tnn.Conv2d(w2, w3, 3, padding=1), tnn.ReLU(inplace=True),
        tnn.Conv2d(w3, w4, 3, padding=1, groups=groups), tnn.ReLU(inplace=True),
        tnn.Conv2d(w4, w5, 3, padding=1, groups=groups), tnn.ReLU(inplace=True),
        tnn.MaxPool2d(3, 2, **pool),
    )  # fmt: skip
    classifier = tnn.Sequential(
        tnn.Dropout(dropout), tnn.Linear(w5 * side * side, hidden), tnn.ReLU(inplace=True),
        tnn.Dropout(dropout), tnn.Linear(hidden, hidden), tnn.ReLU(inplace=True),
        tnn.Linear(hidden, num_classes),
    )  # fmt: skip
    return _twin(features, tnn.AdaptiveAvgPool2d((side, side)), classifier)


VGG_CFGS = {  # torchvision's lists
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M"] + ([256] * 4 + ["M"]) + ([512] * 4 + ["M"]) * 2,
}


def torch_vgg(cfg="A", batch_norm=False, num_classes=1000, in_channels=3, small=False,
              dropout=0.5, width=1.0):  # fmt: skip
    """torchvision's VGG (``small=False``); small: ceil-mode pools and a 512-512 head."""
    layers, c = [], in_channels
    for v in VGG_CFGS[cfg]:
        if v == "M":
            layers.append(tnn.MaxPool2d(2, 2, ceil_mode=small))
            continue
        v = max(1, round(v * width))
        layers += [tnn.Conv2d(c, v, 3, padding=1)]
        layers += [tnn.BatchNorm2d(v)] if batch_norm else []
        layers += [tnn.ReLU(inplace=True)]
        c = v
    side, hidden = (1, c) if small else (7, 4096)
    classifier = tnn.Sequential(
        tnn.Linear(c * side * side, hidden), tnn.ReLU(True), tnn.Dropout(dropout),
        tnn.Linear(hidden, hidden), tnn.ReLU(True), tnn.Dropout(dropout),
        tnn.Linear(hidden, num_classes),
    )  # fmt: skip
    return _twin(tnn.Sequential(*layers), tnn.AdaptiveAvgPool2d((side, side)), classifier)


class TorchFire(tnn.Module):
    def __init__(self, inplanes, squeeze, e1, e3):
        super().__init__()
        self.squeeze, self.squeeze_activation = tnn.Conv2d(inplanes, squeeze, 1), tnn.ReLU(True)
        self.expand1x1, self.expand1x1_activation = tnn.Conv2d(squeeze, e1, 1), tnn.ReLU(True)
        self.expand3x3 = tnn.Conv2d(squeeze, e3, 3, padding=1)
        self.expand3x3_activation = tnn.ReLU(True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        a = self.expand1x1_activation(self.expand1x1(x))
        return torch.cat([a, self.expand3x3_activation(self.expand3x3(x))], 1)


def torch_squeezenet(version="1_0", num_classes=1000, in_channels=3, small=False, dropout=0.5):
    """torchvision's SqueezeNet (``small=False``); small: a stride-1, "same"-padded stem."""
    pool = lambda: tnn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
    if version == "1_0":
        stem = (
            tnn.Conv2d(in_channels, 96, 7, padding=3)
            if small
            else tnn.Conv2d(in_channels, 96, 7, stride=2)
        )
        body = [pool(), TorchFire(96, 16, 64, 64), TorchFire(128, 16, 64, 64),
                TorchFire(128, 32, 128, 128), pool(), TorchFire(256, 32, 128, 128),
                TorchFire(256, 48, 192, 192), TorchFire(384, 48, 192, 192),
                TorchFire(384, 64, 256, 256), pool(), TorchFire(512, 64, 256, 256)]  # fmt: skip
    else:
        stem = tnn.Conv2d(in_channels, 64, 3, padding=1 if small else 0, stride=1 if small else 2)
        body = [pool(), TorchFire(64, 16, 64, 64), TorchFire(128, 16, 64, 64), pool(),
                TorchFire(128, 32, 128, 128), TorchFire(256, 32, 128, 128), pool(),
                TorchFire(256, 48, 192, 192), TorchFire(384, 48, 192, 192),
                TorchFire(384, 64, 256, 256), TorchFire(512, 64, 256, 256)]  # fmt: skip
    features = tnn.Sequential(stem, tnn.ReLU(True), *body)
    classifier = tnn.Sequential(
        tnn.Dropout(dropout), tnn.Conv2d(512, num_classes, 1), tnn.ReLU(True),
        tnn.AdaptiveAvgPool2d((1, 1)),
    )  # fmt: skip
    return _twin(features, None, classifier)


def images(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def randomise_bn_statistics(net):
    """Eval-mode batch norm should use non-trivial running statistics."""
    gen = torch.Generator().manual_seed(0)
    for m in net.modules():
        if isinstance(m, tnn.BatchNorm2d):
            m.running_mean.copy_(0.1 * torch.randn(m.num_features, generator=gen))
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=gen))
            with torch.no_grad():  # and non-trivial affine parameters
                m.weight.copy_(1 + 0.1 * torch.randn(m.num_features, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.num_features, generator=gen))


# ----------------------------------------------------------------------------- counts
@pytest.mark.parametrize(
    ("factory", "kwargs", "expected"),
    [
        (alexnet, {}, 61_100_840),
        (alexnet, {"lrn": False}, 61_100_840),
        (alexnet, {"groups": 2}, 61_100_840 - 153_600 - 442_368 - 294_912),
        (zfnet, {}, 62_357_608),
        (vgg11, {}, 132_863_336),
        (vgg13, {}, 133_047_848),
        (vgg16, {}, 138_357_544),
        (vgg19, {}, 143_667_240),
        (vgg11_bn, {}, 132_868_840),
        (vgg13_bn, {}, 133_053_736),
        (vgg16_bn, {}, 138_365_992),
        (vgg19_bn, {}, 143_678_248),
        (squeezenet1_0, {}, 1_248_424),
        (squeezenet1_1, {}, 1_235_496),
    ],
)
def test_parameter_counts(no_init, factory, kwargs, expected):
    net = factory(**kwargs)
    assert count(net) == expected
    assert not net.small_input and net.input_size == 224 and net.num_classes == 1000


def test_alexnet_layout_matches_torchvision(no_init):
    with torch.device("meta"):  # keys and shapes only: no memory for 61M parameters
        plain = torch_alexnet(lrn=False)
        split = torch_alexnet(groups=2)
    for ours, theirs in (
        (alexnet(lrn=False), plain),
        (alexnet(), plain),
        (alexnet(groups=2), split),
    ):
        shapes = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == shapes
        assert list(ours.state_dict()) == list(shapes)
    net = alexnet()
    assert isinstance(net.features[2][0], nn.LocalResponseNorm)
    assert isinstance(net.features[2][1], nn.MaxPool2d) and net.features[5][0].size == 5
    assert isinstance(alexnet(lrn=False).features[2], nn.MaxPool2d)
    assert tuple(alexnet(groups=2).features[3].weight.shape) == (192, 32, 5, 5)
    assert "lrn=True, groups=1" in repr(net)


def test_vgg_layout_matches_torchvision(no_init):
    for cfg, bn, factory in (("A", True, vgg11_bn), ("D", False, vgg16), ("E", True, vgg19_bn)):
        with torch.device("meta"):
            theirs = torch_vgg(cfg, bn)
        shapes = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        ours = factory()
        assert list(ours.state_dict()) == list(shapes)
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == shapes
    assert isinstance(vgg16().classifier[6], nn.Linear) and vgg16().avgpool.output_size == (7, 7)


# ----------------------------------------------------------------------------- twins
@pytest.mark.parametrize(
    ("kwargs", "shape", "train"),
    [
        ({"num_classes": 10, "in_channels": 1, "input_size": 28}, (2, 1, 28, 28), False),
        ({"num_classes": 10, "in_channels": 1, "input_size": 28, "dropout": 0.0},
         (2, 1, 28, 28), True),
        ({"num_classes": 7, "input_size": 32, "groups": 2, "dropout": 0.0}, (2, 3, 32, 32), True),
        ({"num_classes": 10, "input_size": 32, "lrn": False}, (2, 3, 32, 32), False),
        ({"num_classes": 10, "input_size": 32, "variant": "zfnet"}, (2, 3, 32, 32), False),
        ({"num_classes": 5, "in_channels": 1, "input_size": 28, "variant": "zfnet",
          "groups": 2, "dropout": 0.0}, (2, 1, 28, 28), True),
        ({"num_classes": 10, "input_size": 63, "small_input": False}, (1, 3, 63, 63), False),
        ({"num_classes": 10, "input_size": 47, "variant": "zfnet"}, (1, 3, 47, 47), False),
    ],
)  # fmt: skip
def test_alexnet_twin(no_init, kwargs, shape, train):
    torch.manual_seed(0)
    ours = AlexNet(**kwargs)
    twin_kwargs = {k: v for k, v in kwargs.items() if k not in ("input_size", "small_input")}
    theirs = torch_alexnet(small=ours.small_input, **twin_kwargs)
    # the ImageNet heads: outputs only (their 54M gradients are slow to compare)
    compare_with_twin(ours, theirs, images(shape), train=train, backward=ours.small_input)


@pytest.mark.parametrize(
    ("cfg", "bn", "kwargs", "shape", "train"),
    [
        ("A", True, {"dropout": 0.0}, (2, 1, 28, 28), True),
        ("A", True, {}, (2, 1, 28, 28), False),
        ("A", True, {"width": 0.25, "dropout": 0.0}, (2, 3, 32, 32), True),
        ("B", False, {"width": 0.5}, (2, 3, 32, 32), False),
        ("D", True, {"width": 0.25}, (2, 1, 28, 28), False),
    ],
)
def test_vgg_twin(cfg, bn, kwargs, shape, train):
    torch.manual_seed(0)
    n, c, size = shape[0], shape[1], shape[2]
    ours = VGG(cfg, num_classes=10, in_channels=c, input_size=size, batch_norm=bn, **kwargs)
    assert ours.small_input
    theirs = torch_vgg(cfg, bn, num_classes=10, in_channels=c, small=True, **kwargs)
    if not train:
        randomise_bn_statistics(theirs)
    compare_with_twin(ours, theirs, images(shape), train=train)
    if train:  # one more step: ours and theirs keep agreeing with updated statistics
        ours.eval()
        theirs.eval()
        x = images((n, c, size, size), seed=3)
        np.testing.assert_allclose(
            ours(gs.tensor(x)).detach().numpy(),
            theirs(torch.tensor(x)).detach().numpy(),
            rtol=1e-4,
            atol=1e-4,
        )


@pytest.mark.parametrize(
    ("version", "kwargs", "shape", "train"),
    [
        ("1_0", {"num_classes": 10}, (2, 3, 32, 32), False),
        ("1_0", {"num_classes": 10, "in_channels": 1, "dropout": 0.0}, (2, 1, 28, 28), True),
        ("1_1", {"num_classes": 10, "in_channels": 1}, (2, 1, 28, 28), False),
        ("1_1", {"num_classes": 4, "dropout": 0.0}, (2, 3, 32, 32), True),
        ("1_1", {"num_classes": 10, "small_input": False}, (2, 3, 17, 17), False),
        ("1_0", {"num_classes": 10, "small_input": False}, (1, 3, 21, 21), False),
    ],
)
def test_squeezenet_twin(version, kwargs, shape, train):
    torch.manual_seed(0)
    ours = SqueezeNet(version, input_size=shape[2], **kwargs)
    twin_kwargs = {k: v for k, v in kwargs.items() if k != "small_input"}
    theirs = torch_squeezenet(version, small=ours.small_input, **twin_kwargs)
    # the final ReLU zeroes most of the tiny initial logits: make them positive for the test
    with torch.no_grad():
        theirs.classifier[1].bias.fill_(0.1)
    compare_with_twin(ours, theirs, images(shape), train=train)


def test_fire_module():
    fire = Fire(96, 16, 64, 64)
    assert count(fire) == 16 * 97 + 64 * 17 + 64 * (9 * 16 + 1) == 11_920
    assert tuple(fire(gs.randn(2, 96, 5, 5)).shape) == (2, 128, 5, 5)
    assert list(fire.state_dict())[::2] == [
        "squeeze.weight",
        "expand1x1.weight",
        "expand3x3.weight",
    ]


# ----------------------------------------------------------------------------- small input
# forward mult-adds of one 28x28 grayscale image, as the module docstrings state them
MULT_ADDS_28 = {
    "alexnet": 51_683_584,
    "zfnet": 85_446_144,
    "squeezenet1_0": 41_228_800,
    "squeezenet1_1": 15_130_624,
    "vgg11": 134_281_216,
    "vgg13": 192_083_968,
    "vgg16": 268_171_264,
    "vgg19": 344_258_560,
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_small_input_shapes_and_summary(name):
    factory = FACTORIES[name]
    gray = factory(num_classes=10, in_channels=1, input_size=28)  # small_input chosen: 28 < 64
    assert gray.small_input and gray.has_small_input_variant and gray.name == name
    rgb = factory(num_classes=10, in_channels=3, input_size=32, small_input=True)
    for net, shape in ((gray, (2, 1, 28, 28)), (rgb, (2, 3, 32, 32))):
        net.eval()
        with gs.no_grad():
            out = net(gs.randn(*shape))
        assert tuple(out.shape) == (2, 10) and out.dtype == gs.float32
        assert np.isfinite(out.numpy()).all()
    table = gs.summary(gray, (1, 1, 28, 28))
    assert table.total_params == count(gray)
    assert table.total_mult_adds == MULT_ADDS_28[name.removesuffix("_bn")]
    assert "Total mult-adds" in str(table)
    assert tuple(table.rows[-1].output_shape) in ((1, 10), (1, 10, 1, 1))


def test_vgg_small_variant_details():
    net = vgg11_bn(num_classes=10, in_channels=1, input_size=28)
    pools = [m for m in net.features if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 5 and all(p.ceil_mode for p in pools)  # 28 -> 14 -> 7 -> 4 -> 2 -> 1
    assert [m.out_features for m in net.classifier if isinstance(m, nn.Linear)] == [512, 512, 10]
    assert tuple(net.features(gs.randn(1, 1, 28, 28)).shape) == (1, 512, 1, 1)
    half = vgg11_bn(num_classes=10, in_channels=1, input_size=28, width=0.5)
    assert half.features[0].out_channels == 32 and half.classifier[0].in_features == 256
    assert gs.summary(half, (1, 1, 28, 28)).total_mult_adds < 40_000_000
    assert "width=0.5" in repr(half)


def test_small_alexnet_and_squeezenet_maps():
    assert tuple(alexnet(10, 1, 28).features(gs.randn(1, 1, 28, 28)).shape) == (1, 256, 2, 2)
    assert tuple(alexnet(10, 3, 32).features(gs.randn(1, 3, 32, 32)).shape) == (1, 256, 2, 2)
    assert tuple(zfnet(10, 1, 28).features(gs.randn(1, 1, 28, 28)).shape) == (1, 256, 2, 2)
    sq = squeezenet1_1(10, 1, 28)
    assert tuple(sq.features(gs.randn(1, 1, 28, 28)).shape) == (1, 512, 3, 3)
    assert sq.features[0].stride == (1, 1) and squeezenet1_0(10, 1, 28).features[0].padding == (
        3,
        3,
    )


# ----------------------------------------------------------------------------- sizes, errors
@pytest.mark.parametrize(
    ("name", "small", "minimum"),
    [
        ("alexnet", False, 63),
        ("zfnet", False, 47),
        ("vgg11", False, 32),
        ("squeezenet1_0", False, 21),
        ("squeezenet1_1", False, 17),
        ("squeezenet1_0", True, 8),
        ("squeezenet1_1", True, 8),
        ("alexnet", True, 1),
        ("vgg11", True, 1),
    ],
)
def test_smallest_input(no_init, name, small, minimum):
    """The minimum each model states is the true one: torch's twin of its conv stack runs at
    ``minimum`` and fails one pixel below."""
    with torch.device("meta"):
        if name.startswith("vgg"):
            features = torch_vgg("A", small=small).features
        elif name.startswith("squeezenet"):
            features = torch_squeezenet(name[-3:], small=small).features
        else:
            features = torch_alexnet(small=small, variant=name).features
    assert min(features(torch.empty(1, 3, minimum, minimum)).shape[2:]) >= 1
    if minimum > 1:
        with pytest.raises(RuntimeError):
            features(torch.empty(1, 3, minimum - 1, minimum - 1))
    net = FACTORIES[name](input_size=minimum, small_input=small)
    assert net.min_input_size == minimum
    if minimum > 1:
        with pytest.raises(ValueError, match=rf"^{name}: input_size {minimum - 1} is too small"):
            FACTORIES[name](input_size=minimum - 1, small_input=small)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_too_small_for_imagenet_stem(name):
    minimum = {"alexnet": 63, "zfnet": 47, "squeezenet1_0": 21, "squeezenet1_1": 17}.get(name, 32)
    with pytest.raises(
        ValueError,
        match=rf"^{name}: input_size 16 is too small; .* at least {minimum}x{minimum} "
        r"\(or build it with small_input=True\)$",
    ):
        FACTORIES[name](num_classes=10, in_channels=1, input_size=16, small_input=False)


def test_input_errors():
    net = squeezenet1_1(num_classes=10, in_channels=1, input_size=28)
    with pytest.raises(ValueError, match=r"^squeezenet1_1: expected input of shape \(N, 1, H, W\)"):
        net(gs.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"^squeezenet1_1: input 7x7 is too small; .* 8x8$"):
        net(gs.randn(2, 1, 7, 7))
    small_vgg = vgg11_bn(num_classes=10, in_channels=1, input_size=28, width=0.25)
    with pytest.raises(ValueError, match=r"^vgg11_bn: expected input of shape \(N, 1, H, W\)"):
        small_vgg(gs.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"^alexnet: expected input .* got \(1, 28, 28\)"):
        alexnet(10, 1, 28)(gs.randn(1, 28, 28))


def test_imagenet_input_too_small_at_forward(no_init):
    net = alexnet(num_classes=10)
    with pytest.raises(ValueError, match=r"^alexnet: input 62x62 is too small; .* 63x63$"):
        net(gs.randn(1, 3, 62, 62))


def test_argument_errors(no_init):
    with pytest.raises(ValueError, match=r"^alexnet: groups must divide every conv width"):
        alexnet(groups=3)
    with pytest.raises(ValueError, match=r"^zfnet: groups must be a positive int, got 0"):
        zfnet(groups=0)
    with pytest.raises(ValueError, match=r"^alexnet: dropout must be a probability in \[0, 1\]"):
        alexnet(input_size=28, dropout=1.5)
    with pytest.raises(ValueError, match="AlexNet: variant must be 'alexnet' or 'zfnet'"):
        AlexNet(variant="lenet")
    with pytest.raises(ValueError, match=r"^vgg16: width must be a positive channel multiplier"):
        vgg16(input_size=28, width=0)
    with pytest.raises(TypeError, match=r"^vgg11_bn: dropout must be a float"):
        vgg11_bn(input_size=28, dropout="0.5")
    with pytest.raises(ValueError, match=r"VGG: config must be one of A, B, D, E"):
        VGG("C")
    with pytest.raises(ValueError, match=r"SqueezeNet: version must be '1_0' or '1_1'"):
        SqueezeNet("1_2")
    with pytest.raises(ValueError, match=r"^squeezenet1_0: num_classes must be a positive int"):
        squeezenet1_0(num_classes=0)
    with pytest.raises(TypeError, match="small_input must be True, False or None"):
        vgg11(small_input="yes")
