"""GoogLeNet (Inception v1) and DenseNet-121: exact parameter counts, torchvision's
state_dict keys, PyTorch twins written here in torch.nn (same weights: same outputs and
gradients, train and eval mode), the auxiliary classifiers and their loss, the small-input
variants, the minimum input sizes (measured against PyTorch) and the errors."""

from __future__ import annotations

import doctest
import functools
import importlib
from collections import OrderedDict

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn.functional as F
from gradschool.models.densenet import DenseNet, densenet121
from gradschool.models.googlenet import (
    GoogLeNet,
    GoogLeNetOutputs,
    Inception,
    InceptionNaive,
    googlenet,
    googlenet_loss,
    inception_costs,
)
from tests.models.twin import compare_with_twin

tnn = torch.nn


# ----------------------------------------------------------------------------- torch twins
class TorchBasicConv2d(tnn.Module):
    def __init__(self, cin, cout, **kwargs):
        super().__init__()
        self.conv = tnn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = tnn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class TorchInception(tnn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pool_proj, k=3):
        super().__init__()
        self.branch1 = TorchBasicConv2d(cin, c1, kernel_size=1)
        self.branch2 = tnn.Sequential(
            TorchBasicConv2d(cin, c3r, kernel_size=1),
            TorchBasicConv2d(c3r, c3, kernel_size=3, padding=1),
        )
        self.branch3 = tnn.Sequential(
            TorchBasicConv2d(cin, c5r, kernel_size=1),
            TorchBasicConv2d(c5r, c5, kernel_size=k, padding=k // 2),
        )
        self.branch4 = tnn.Sequential(
            tnn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
            TorchBasicConv2d(cin, pool_proj, kernel_size=1),
        )
        self.out_channels = c1 + c3 + c5 + pool_proj

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class TorchInceptionAux(tnn.Module):
    def __init__(self, cin, num_classes, dropout, conv_channels, hidden):
        super().__init__()
        self.conv = TorchBasicConv2d(cin, conv_channels, kernel_size=1)
        self.fc1 = tnn.Linear(16 * conv_channels, hidden)
        self.fc2 = tnn.Linear(hidden, num_classes)
        self.dropout = tnn.Dropout(dropout)

    def forward(self, x):
        x = self.conv(torch.nn.functional.adaptive_avg_pool2d(x, (4, 4))).flatten(1)
        return self.fc2(self.dropout(torch.relu(self.fc1(x))))


CONFIG = [
    (64, 96, 128, 16, 32, 32),
    (128, 128, 192, 32, 96, 64),
    (192, 96, 208, 16, 48, 64),
    (160, 112, 224, 24, 64, 64),
    (128, 128, 256, 24, 64, 64),
    (112, 144, 288, 32, 64, 64),
    (256, 160, 320, 32, 128, 128),
    (256, 160, 320, 32, 128, 128),
    (384, 192, 384, 48, 128, 128),
]
NAMES = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]


class TorchGoogLeNet(tnn.Module):
    """torchvision's GoogLeNet (written out), with our small stem and width multiplier."""

    def __init__(
        self, num_classes=1000, in_channels=3, small=False, width=1.0, aux=False, k=3,
        dropout=0.2, dropout_aux=0.7,
    ):  # fmt: skip
        super().__init__()

        def c(n):
            return max(1, round(n * width))

        if small:
            self.conv1 = TorchBasicConv2d(in_channels, c(64), kernel_size=3, padding=1)
            self.maxpool1 = tnn.Identity()
        else:
            self.conv1 = TorchBasicConv2d(in_channels, c(64), kernel_size=7, stride=2, padding=3)
            self.maxpool1 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = TorchBasicConv2d(c(64), c(64), kernel_size=1)
        self.conv3 = TorchBasicConv2d(c(64), c(192), kernel_size=3, padding=1)
        self.maxpool2 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        ch, aux_in = c(192), {}
        for name, cfg in zip(NAMES, CONFIG, strict=True):
            m = TorchInception(ch, *map(c, cfg), k=k)
            setattr(self, "inception" + name, m)
            ch = aux_in[name] = m.out_channels
            if name == "3b":
                self.maxpool3 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
            if name == "4e":
                self.maxpool4 = tnn.MaxPool2d(2, stride=2, ceil_mode=True)
        if aux:
            self.aux1 = TorchInceptionAux(aux_in["4a"], num_classes, dropout_aux, c(128), c(1024))
            self.aux2 = TorchInceptionAux(aux_in["4d"], num_classes, dropout_aux, c(128), c(1024))
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.dropout = tnn.Dropout(dropout)
        self.fc = tnn.Linear(ch, num_classes)

    def forward(self, x):
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.inception4a(self.maxpool3(self.inception3b(self.inception3a(x))))
        with_aux = self.training and self.aux1 is not None
        aux1 = self.aux1(x) if with_aux else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if with_aux else None
        x = self.inception5b(self.inception5a(self.maxpool4(self.inception4e(x))))
        x = self.fc(self.dropout(self.avgpool(x).flatten(1)))
        return (x, aux2, aux1) if with_aux else x


class TorchDenseLayer(tnn.Module):
    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1, self.relu1 = tnn.BatchNorm2d(cin), tnn.ReLU()
        self.conv1 = tnn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2, self.relu2 = tnn.BatchNorm2d(bn_size * growth), tnn.ReLU()
        self.conv2 = tnn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, feats):
        x = self.conv1(self.relu1(self.norm1(torch.cat(feats, 1))))
        return self.conv2(self.relu2(self.norm2(x)))


class TorchDenseBlock(tnn.ModuleDict):
    def __init__(self, n, cin, bn_size, growth):
        super().__init__()
        for i in range(n):
            self.add_module(
                f"denselayer{i + 1}", TorchDenseLayer(cin + i * growth, growth, bn_size)
            )

    def forward(self, x):
        feats = [x]
        for layer in self.values():
            feats.append(layer(feats))
        return torch.cat(feats, 1)


class TorchDenseNet(tnn.Module):
    """torchvision's DenseNet (written out), with our small stem."""

    def __init__(
        self, growth=32, blocks=(6, 12, 24, 16), init_features=64, bn_size=4, num_classes=1000,
        in_channels=3, small=False,
    ):  # fmt: skip
        super().__init__()
        conv0 = (
            tnn.Conv2d(in_channels, init_features, 3, padding=1, bias=False)
            if small
            else tnn.Conv2d(in_channels, init_features, 7, stride=2, padding=3, bias=False)
        )
        self.features = tnn.Sequential(
            OrderedDict(
                conv0=conv0,
                norm0=tnn.BatchNorm2d(init_features),
                relu0=tnn.ReLU(),
                pool0=tnn.MaxPool2d(3, stride=2, padding=1),
            )
        )
        ch = init_features
        for i, n in enumerate(blocks):
            self.features.add_module(f"denseblock{i + 1}", TorchDenseBlock(n, ch, bn_size, growth))
            ch += n * growth
            if i != len(blocks) - 1:
                trans = tnn.Sequential(
                    OrderedDict(
                        norm=tnn.BatchNorm2d(ch),
                        relu=tnn.ReLU(),
                        conv=tnn.Conv2d(ch, ch // 2, 1, bias=False),
                        pool=tnn.AvgPool2d(2, stride=2),
                    )
                )
                self.features.add_module(f"transition{i + 1}", trans)
                ch //= 2
        self.features.add_module("norm5", tnn.BatchNorm2d(ch))
        self.classifier = tnn.Linear(ch, num_classes)

    def forward(self, x):
        x = torch.relu(self.features(x))
        return self.classifier(torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1))


def randomise_bn(net):
    """Non-trivial BN affine parameters and running statistics, so eval mode tests them."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
                m.running_mean.copy_(0.2 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(1 + 0.5 * torch.rand(m.running_var.shape, generator=g))
    return net


def images(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def n_params(net):
    return sum(p.numel() for p in net.parameters())


@functools.cache
def full_size(name):
    """The ImageNet-size models, built once (only built: no forward pass at 224x224)."""
    return {
        "googlenet": googlenet,
        "googlenet_aux": functools.partial(googlenet, aux_logits=True),
        "googlenet_5x5": functools.partial(googlenet, branch3_kernel_size=5),
        "densenet121": densenet121,
    }[name]()


# ----------------------------------------------------------------------------- counts, keys
def test_parameter_counts():
    assert n_params(full_size("googlenet")) == 6_624_904  # torchvision's, aux_logits=False
    assert n_params(full_size("googlenet_aux")) == 13_004_888
    assert n_params(full_size("googlenet_5x5")) == 7_005_832  # the paper's 5x5 convs
    assert n_params(full_size("densenet121")) == 7_978_856


def test_state_dict_keys_and_shapes_match_torchvision_layout():
    for ours, theirs in (
        (full_size("googlenet_aux"), TorchGoogLeNet(aux=True)),
        (full_size("googlenet"), TorchGoogLeNet()),
        (full_size("googlenet_5x5"), TorchGoogLeNet(k=5)),
        (full_size("densenet121"), TorchDenseNet()),
    ):
        sd, sd_t = ours.state_dict(), theirs.state_dict()
        assert list(sd) == list(sd_t)
        assert all(tuple(sd[k].shape) == tuple(sd_t[k].shape) for k in sd)
    keys = list(full_size("googlenet_aux").state_dict())
    for key in (
        "conv1.conv.weight",
        "conv1.bn.running_var",
        "inception3a.branch1.conv.weight",
        "inception3a.branch2.1.conv.weight",
        "inception5b.branch4.1.bn.num_batches_tracked",
        "aux1.conv.conv.weight",
        "aux2.fc2.bias",
        "fc.weight",
    ):
        assert key in keys
    keys = list(full_size("densenet121").state_dict())
    assert keys[:2] == ["features.conv0.weight", "features.norm0.weight"]
    assert "features.denseblock1.denselayer1.norm1.weight" in keys
    assert "features.denseblock4.denselayer16.conv2.weight" in keys
    assert "features.transition3.conv.weight" in keys
    assert keys[-2:] == ["classifier.weight", "classifier.bias"]


# ----------------------------------------------------------------------------- Inception
@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("k", [3, 5])
def test_inception_module_twin(train, k):
    torch.manual_seed(0)
    theirs = randomise_bn(TorchInception(12, 8, 6, 10, 4, 6, 5, k=k))
    ours = Inception(12, 8, 6, 10, 4, 6, 5, branch3_kernel_size=k)
    (out,) = compare_with_twin(ours, theirs, images((2, 12, 7, 7)), train=train)
    assert tuple(out.shape) == (2, 29, 7, 7) and ours.out_channels == 29


def test_inception_naive_and_costs():
    naive = InceptionNaive(12, 8, 10, 6)
    assert naive.out_channels == 8 + 10 + 6 + 12  # the pool branch keeps every input channel
    assert tuple(naive(gs.randn(2, 12, 5, 5)).shape) == (2, 36, 5, 5)
    costs = inception_costs()  # CS231n L9's example: 854M vs 271M mult-adds
    assert costs["naive"] == {"params": 1_090_368, "mult_adds": 854_196_224, "out_channels": 672}
    assert costs["bottleneck"] == {"params": 347_328, "mult_adds": 271_351_808, "out_channels": 480}
    # the analytic mult-adds are what gradschool.summary measures
    small = inception_costs(in_channels=16, size=6, ch1x1=8, ch3x3red=4, ch3x3=8, ch5x5red=4,
                            ch5x5=6, pool_proj=4)  # fmt: skip
    for name, module in (
        ("naive", InceptionNaive(16, 8, 8, 6)),
        ("bottleneck", Inception(16, 8, 4, 8, 4, 6, 4, branch3_kernel_size=5)),
    ):
        s = gs.summary(module, (1, 16, 6, 6))
        assert s.total_mult_adds == small[name]["mult_adds"]
        assert s.total_params == small[name]["params"]


def test_doctests():
    # by path: ``gradschool.models.googlenet`` is the factory function, not the module
    for module in (
        importlib.import_module("gradschool.models.googlenet"),
        importlib.import_module("gradschool.models.densenet"),
    ):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0


# ----------------------------------------------------------------------------- GoogLeNet
def test_small_googlenet_twin_eval():
    torch.manual_seed(0)
    theirs = randomise_bn(TorchGoogLeNet(10, 1, small=True, width=0.5))
    ours = googlenet(num_classes=10, in_channels=1, input_size=28)
    assert isinstance(ours, GoogLeNet) and ours.small_input and ours.width == 0.5
    compare_with_twin(ours, theirs, images((2, 1, 28, 28)))


def test_small_googlenet_twin_train_with_aux():
    torch.manual_seed(0)
    theirs = TorchGoogLeNet(7, 3, small=True, width=0.25, aux=True, dropout=0.0, dropout_aux=0.0)
    ours = googlenet(7, 3, 32, aux_logits=True, width=0.25, dropout=0.0, dropout_aux=0.0)
    outs = compare_with_twin(ours, theirs, images((2, 3, 32, 32)), train=True)
    assert [tuple(o.shape) for o in outs] == [(2, 7)] * 3


def test_imagenet_stem_googlenet_twin_at_its_minimum_size():
    """15x15 is the smallest image torch's GoogLeNet accepts (14x14 fails), and ours agrees."""
    torch.manual_seed(0)
    theirs = randomise_bn(TorchGoogLeNet(5, 3, width=0.125, k=5))
    ours = googlenet(5, 3, 15, small_input=False, width=0.125, branch3_kernel_size=5)
    assert ours.min_input_size == 15
    compare_with_twin(ours, theirs, images((2, 3, 15, 15)))
    with pytest.raises(RuntimeError):
        theirs(torch.zeros(1, 3, 14, 14))
    with pytest.raises(ValueError, match="at least 15x15"):
        ours(gs.zeros(1, 3, 14, 14))
    small = googlenet(5, 3, 4, width=0.125)  # the small stem needs 4x4 (3x3 fails in torch)
    small_t = TorchGoogLeNet(5, 3, small=True, width=0.125)
    compare_with_twin(small, small_t, images((2, 3, 4, 4)))
    with pytest.raises(RuntimeError):
        small_t(torch.zeros(1, 3, 3, 3))


def test_aux_outputs_and_loss():
    gs.manual_seed(0)
    net = googlenet(num_classes=10, in_channels=1, input_size=28, aux_logits=True, width=0.25)
    x, y = gs.randn(2, 1, 28, 28), gs.tensor(np.array([3, 7]))
    out = net(x)  # training mode
    assert isinstance(out, GoogLeNetOutputs)
    assert out._fields == ("logits", "aux_logits2", "aux_logits1")
    assert all(tuple(o.shape) == (2, 10) for o in out)
    loss = googlenet_loss(out, y)
    expected = sum(
        w
        * torch.nn.functional.cross_entropy(torch.tensor(o.detach().numpy()), torch.tensor([3, 7]))
        for w, o in ((1.0, out.logits), (0.3, out.aux_logits1), (0.3, out.aux_logits2))
    )
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-5)
    weighted = googlenet_loss(out, y, aux_weight=1.0)
    hand = sum(F.cross_entropy(o, y).item() for o in out)
    np.testing.assert_allclose(weighted.item(), hand, rtol=1e-5)
    loss.backward()  # the aux heads receive gradient
    assert np.abs(net.aux1.fc2.weight.grad.numpy()).sum() > 0
    net.eval()
    logits = net(x)
    assert isinstance(logits, gs.Tensor) and tuple(logits.shape) == (2, 10)
    np.testing.assert_allclose(
        googlenet_loss(logits, y).item(), F.cross_entropy(logits, y).item(), rtol=1e-6
    )
    assert not isinstance(googlenet(10, 1, 28, width=0.25)(x), tuple)  # no aux: a Tensor


# ----------------------------------------------------------------------------- DenseNet
@pytest.mark.parametrize("train", [False, True])
def test_small_densenet_twin(train):
    torch.manual_seed(0)
    theirs = randomise_bn(
        TorchDenseNet(8, (2, 3), 16, 2, num_classes=10, in_channels=1, small=True)
    )
    ours = densenet121(10, 1, 28, growth_rate=8, block_config=(2, 3), num_init_features=16,
                       bn_size=2)  # fmt: skip
    assert isinstance(ours, DenseNet) and ours.small_input
    compare_with_twin(ours, theirs, images((2, 1, 28, 28)), train=train)


def test_densenet_minimum_sizes_match_torch():
    """Four blocks: 29x29 for the ImageNet stem, 15x15 for the small one (one less fails)."""
    for small, size in ((False, 29), (True, 15)):
        torch.manual_seed(0)
        theirs = randomise_bn(TorchDenseNet(4, (1, 1, 1, 1), 8, 2, 5, 3, small=small))
        ours = DenseNet(4, (1, 1, 1, 1), 8, 2, num_classes=5, input_size=size, small_input=small)
        assert ours.min_input_size == size
        compare_with_twin(ours, theirs, images((2, 3, size, size)))
        with pytest.raises(RuntimeError):
            theirs(torch.zeros(1, 3, size - 1, size - 1))
        with pytest.raises(ValueError, match=f"at least {size}x{size}"):
            ours(gs.zeros(1, 3, size - 1, size - 1))


# ----------------------------------------------------------------------------- small inputs
@pytest.mark.parametrize("build", [googlenet, densenet121])
@pytest.mark.parametrize("in_channels,size", [(1, 28), (3, 32)])
def test_small_input_shapes_and_summary(build, in_channels, size):
    net = build(num_classes=10, in_channels=in_channels, input_size=size)
    assert net.small_input
    gs.manual_seed(0)
    net.eval()
    with gs.no_grad():
        out = net(gs.randn(2, in_channels, size, size))
    assert tuple(out.shape) == (2, 10)
    s = gs.summary(net, (1, in_channels, size, size))
    assert s.total_params == n_params(net)
    assert s.rows[-1].output_shape == (1, 10)
    expected = {  # the mult-adds quoted in the docstrings
        ("googlenet", 28): 88_615_872,
        ("googlenet", 32): 113_488_896,
        ("densenet121", 28): 154_954_752,
        ("densenet121", 32): 223_422_464,
    }
    assert s.total_mult_adds == expected[(net.name, size)]


def test_small_input_resolution():
    assert not full_size("googlenet").small_input
    assert not full_size("densenet121").small_input
    assert googlenet(input_size=64).small_input is False
    assert googlenet(input_size=63).small_input is True
    big_stem = googlenet(input_size=32, small_input=False)
    assert big_stem.width == 1.0 and big_stem.conv1.conv.kernel_size == (7, 7)
    assert googlenet(input_size=224, small_input=True).conv1.conv.kernel_size == (3, 3)
    assert densenet121(input_size=32).features.conv0.kernel_size == (3, 3)
    assert "small_input=True" in repr(googlenet(input_size=28, width=0.25))


# ----------------------------------------------------------------------------- errors
def test_errors():
    with pytest.raises(ValueError, match=r"googlenet: input_size 14 is too small.*15x15"):
        googlenet(input_size=14, small_input=False)
    with pytest.raises(ValueError, match=r"densenet121: input_size 28 is too small.*29x29"):
        densenet121(input_size=28, small_input=False)
    with pytest.raises(ValueError, match=r"googlenet: input_size 3 is too small.*4x4"):
        googlenet(input_size=3)
    with pytest.raises(ValueError, match=r"densenet121: input_size 14 is too small.*15x15"):
        densenet121(input_size=14)
    net = googlenet(num_classes=10, in_channels=1, input_size=28, width=0.25)
    with pytest.raises(ValueError, match=r"googlenet: expected input of shape \(N, 1, H, W\)"):
        net(gs.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"googlenet: input 3x3 is too small.*4x4"):
        net(gs.randn(2, 1, 3, 3))
    dense = densenet121(10, 1, 28, block_config=(1, 1), growth_rate=4, num_init_features=8)
    with pytest.raises(ValueError, match=r"densenet121: expected input of shape \(N, 1, H, W\)"):
        dense(gs.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match="googlenet: width must be a positive number, got 0"):
        googlenet(width=0)
    with pytest.raises(ValueError, match="branch3_kernel_size must be 3 .* or 5 .*, got 7"):
        googlenet(branch3_kernel_size=7)
    with pytest.raises(ValueError, match="googlenet: dropout must be in"):
        googlenet(dropout=1.0)
    with pytest.raises(ValueError, match="googlenet: num_classes must be a positive int"):
        googlenet(num_classes=0)
    with pytest.raises(ValueError, match=r"densenet121: block_config must be .*, got \(\)"):
        densenet121(block_config=())
    with pytest.raises(ValueError, match="densenet121: growth_rate must be a positive int"):
        densenet121(growth_rate=0)
    with pytest.raises(ValueError, match="densenet121: drop_rate must be in"):
        densenet121(drop_rate=-0.1)
    with pytest.raises(TypeError, match="small_input must be True, False or None"):
        densenet121(small_input="yes")


def test_densenet_drop_rate_is_active_only_in_training():
    gs.manual_seed(0)
    net = densenet121(10, 1, 28, block_config=(1,), growth_rate=4, num_init_features=8,
                      drop_rate=0.5)  # fmt: skip
    x = gs.randn(2, 1, 28, 28)
    net.eval()
    a, b = net(x).detach().numpy(), net(x).detach().numpy()
    np.testing.assert_array_equal(a, b)
    net.train()
    c, d = net(x).detach().numpy(), net(x).detach().numpy()
    assert not np.allclose(c, d)
