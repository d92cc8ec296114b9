"""The ImageNet ResNets, ResNeXt, Wide ResNet and their plain twins: exact parameter counts,
state_dict keys and shapes equal to a torch.nn twin (torchvision's layout, written out here),
outputs and gradients equal to the twin's (small-input stem, ImageNet stem, bottleneck,
grouped bottleneck, plain), stochastic depth, zero_init_residual, shapes, errors, summary."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs
from gradschool import nn
from gradschool.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    plain18,
    plain34,
    plain50,
    plain101,
    plain152,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    wide_resnet50_2,
)
from tests.models.twin import compare_with_twin, image, n_params, randomize_bn

tnn = torch.nn


# ----------------------------------------------------------------------------- torch twin
class TorchBasic(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, downsample, groups, base_width, residual):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample, self.residual = downsample, residual

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if not self.residual:
            return self.relu(out)
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample, groups, base_width, residual):
        super().__init__()
        width = int(planes * base_width / 64) * groups
        self.conv1 = tnn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.conv2 = tnn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = tnn.BatchNorm2d(width)
        self.conv3 = tnn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample, self.residual = downsample, residual

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn3(self.conv3(self.relu(self.bn2(self.conv2(out)))))
        if not self.residual:
            return self.relu(out)
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet(tnn.Module):
    """torchvision's ResNet (v1.5), plus the small-input stem and the plain variant."""

    def __init__(self, block, layers, num_classes=1000, in_channels=3, small=False, groups=1,
                 width_per_group=64, residual=True):  # fmt: skip
        super().__init__()
        if small:
            self.conv1 = tnn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        else:
            self.conv1 = tnn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.Identity() if small else tnn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for k, (planes, n) in enumerate(zip((64, 128, 256, 512), layers, strict=True), start=1):
            stride, out_planes, stage = (1 if k == 1 else 2), planes * block.expansion, []
            down = None
            if residual and (stride != 1 or inplanes != out_planes):
                down = tnn.Sequential(
                    tnn.Conv2d(inplanes, out_planes, 1, stride, bias=False),
                    tnn.BatchNorm2d(out_planes),
                )
            for i in range(n):
                stage.append(
                    block(
                        inplanes,
                        planes,
                        stride if i == 0 else 1,
                        down if i == 0 else None,
                        groups,
                        width_per_group,
                        residual,
                    )  # fmt: skip
                )
                inplanes = out_planes
            setattr(self, f"layer{k}", tnn.Sequential(*stage))
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


TWIN = {  # factory -> (twin block, layers, groups, width_per_group, residual)
    "resnet18": (TorchBasic, [2, 2, 2, 2], 1, 64, True),
    "resnet50": (TorchBottleneck, [3, 4, 6, 3], 1, 64, True),
    "resnext50_32x4d": (TorchBottleneck, [3, 4, 6, 3], 32, 4, True),
    "plain18": (TorchBasic, [2, 2, 2, 2], 1, 64, False),
    "plain50": (TorchBottleneck, [3, 4, 6, 3], 1, 64, False),
}


def torch_twin(name, num_classes=1000, in_channels=3, small=False):
    block, layers, groups, width, residual = TWIN[name]
    return TorchResNet(block, layers, num_classes, in_channels, small, groups, width, residual)


# ----------------------------------------------------------------------------- sizes
@pytest.mark.parametrize(
    ("resnet", "count", "plain", "plain_count"),
    [
        (resnet18, 11_689_512, plain18, 11_515_688),
        (resnet34, 21_797_672, plain34, 21_623_848),
        (resnet50, 25_557_032, plain50, 22_780_456),
        (resnet101, 44_549_160, plain101, 41_772_584),
        (resnet152, 60_192_808, plain152, 57_416_232),
        (resnext50_32x4d, 25_028_904, None, None),
        (wide_resnet50_2, 68_883_240, None, None),
    ],
)
def test_parameter_counts_and_plain_twins(resnet, count, plain, plain_count):
    """Exact counts (torchvision's). A plain net has no shortcut at all, hence no
    ``downsample``: its state_dict is the ResNet's minus the projection keys (same names, same
    shapes), and its parameter count is the ResNet's minus the projections' parameters."""
    r = resnet()
    assert isinstance(r, ResNet) and r.name == resnet.__name__ and r.residual
    assert n_params(r) == count
    assert not r.small_input and r.min_input_size == 32
    if resnet is wide_resnet50_2:
        assert tuple(r.layer4[0].conv2.weight.shape) == (1024, 1024, 3, 3)  # resnet50: 512
    if plain is None:
        return
    p = plain()
    assert not p.residual and p.name == plain.__name__
    r_sd, p_sd = r.state_dict(), p.state_dict()
    assert not any("downsample" in k for k in p_sd)
    assert list(p_sd) == [k for k in r_sd if "downsample" not in k]
    assert all(tuple(p_sd[k].shape) == tuple(r_sd[k].shape) for k in p_sd)
    projections = sum(v.numel() for k, v in r.named_parameters() if "downsample" in k)
    assert n_params(p) == n_params(r) - projections == plain_count


@pytest.mark.parametrize(
    ("name", "small"),
    [(n, False) for n in sorted(TWIN)] + [("resnet18", True), ("resnet50", True)],
)
def test_state_dict_layout_is_torchvisions(name, small):
    import gradschool.models.resnet as R

    kwargs = {"small_input": small} if small else {}
    ours, theirs = getattr(R, name)(**kwargs), torch_twin(name, small=small)
    sd, sd_t = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(sd_t)
    assert all(tuple(sd[k].shape) == tuple(sd_t[k].shape) for k in sd)
    if name == "resnext50_32x4d":
        block = ours.layer1[0]
        assert isinstance(block, Bottleneck) and block.conv2.groups == 32
        assert tuple(block.conv2.weight.shape) == (128, 4, 3, 3)  # 32 groups of 4 channels
        assert "groups=32, width_per_group=4" in repr(ours).splitlines()[1]


# ----------------------------------------------------------------------------- twins
@pytest.mark.parametrize("train", [True, False])
def test_resnet18_small_twin(train):
    torch.manual_seed(0)
    ours = resnet18(num_classes=10, in_channels=1, input_size=28)
    assert ours.small_input and isinstance(ours.maxpool, nn.Identity)
    theirs = randomize_bn(torch_twin("resnet18", 10, 1, small=True))
    compare_with_twin(ours, theirs, image(2, 1, 28, 28), train=train)


@pytest.mark.parametrize("train", [True, False])
def test_resnet18_imagenet_stem_twin(train):
    """The 7x7/2 stem and the 3x3/2 max-pool, at the smallest input they allow (32x32)."""
    torch.manual_seed(1)
    ours = resnet18(num_classes=10, input_size=32, small_input=False)
    theirs = randomize_bn(torch_twin("resnet18", 10, 3, small=False))
    compare_with_twin(ours, theirs, image(2, 3, 33, 32), train=train)


@pytest.mark.parametrize("train", [True, False])
def test_resnet50_small_twin(train):
    torch.manual_seed(2)
    ours = resnet50(num_classes=10, input_size=32)
    theirs = randomize_bn(torch_twin("resnet50", 10, 3, small=True))
    compare_with_twin(ours, theirs, image(2, 3, 32, 32), train=train)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize(("groups", "width", "residual"), [(32, 4, True), (1, 64, False)])
def test_bottleneck_variants_twin(groups, width, residual, train):
    """ResNeXt's grouped bottleneck and the plain bottleneck, one block per stage to stay
    fast (the wide bottleneck is the same code at another width: its layout is tested above)."""
    torch.manual_seed(3)
    kw = {"groups": groups, "width_per_group": width, "residual": residual}
    ours = ResNet(Bottleneck, [1, 1, 1, 1], 10, 3, 16, **kw)
    theirs = randomize_bn(TorchResNet(TorchBottleneck, [1, 1, 1, 1], 10, 3, True,
                                      groups, width, residual))  # fmt: skip
    compare_with_twin(ours, theirs, image(2, 3, 16, 16), train=train)


@pytest.mark.parametrize("train", [True, False])
def test_plain18_small_twin(train):
    torch.manual_seed(4)
    ours = plain18(num_classes=10, in_channels=1, input_size=28)
    theirs = randomize_bn(torch_twin("plain18", 10, 1, small=True))
    compare_with_twin(ours, theirs, image(2, 1, 28, 28), train=train)


# ----------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("factory", [resnet18, resnet34, resnet50, plain18])
def test_small_input_forward_shapes(factory):
    for shape in [(2, 1, 28, 28), (2, 3, 32, 32)]:
        net = factory(num_classes=10, in_channels=shape[1], input_size=shape[2])
        assert net.small_input and net.min_input_size == 8
        assert tuple(net.conv1.weight.shape) == (64, shape[1], 3, 3)
        with gs.no_grad():
            out = net(gs.tensor(image(*shape)))
        assert tuple(out.shape) == (2, 10) and out.dtype == gs.float32


def test_small_input_choice():
    assert resnet18(input_size=32).small_input and resnet18(input_size=63).small_input
    assert not resnet18(input_size=64).small_input and not resnet18().small_input
    assert resnet18(input_size=224, small_input=True).small_input
    big = resnet18(input_size=32, small_input=False)
    assert tuple(big.conv1.weight.shape) == (64, 3, 7, 7) and isinstance(big.maxpool, nn.MaxPool2d)
    # the stage maps of the small stem at 28x28: 28, 14, 7, 4
    net = resnet18(num_classes=10, in_channels=1, input_size=28).eval()
    x = gs.zeros(1, 1, 28, 28)
    with gs.no_grad():
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        sizes = []
        for k in range(1, 5):
            x = getattr(net, f"layer{k}")(x)
            sizes.append(tuple(x.shape[1:]))
    assert sizes == [(64, 28, 28), (128, 14, 14), (256, 7, 7), (512, 4, 4)]


def test_summary_of_resnet18_small():
    net = resnet18(num_classes=10, in_channels=1, input_size=28)
    s = gs.summary(net, (1, 1, 28, 28))
    assert s.total_params == n_params(net) == 11_172_810
    assert s.total_mult_adds == 455_800_832
    rows = {r.name: r for r in s.rows}
    assert rows["conv1"].output_shape == (1, 64, 28, 28)
    assert rows["layer4.1.conv2"].output_shape == (1, 512, 4, 4)
    assert rows["fc"].output_shape == (1, 10)
    assert "Total mult-adds: 455,800,832" in str(s)


# ----------------------------------------------------------------------------- options
def test_stochastic_depth_linear_decay():
    p = 0.5
    net = resnet50(num_classes=10, input_size=32, stochastic_depth_prob=p)
    blocks = [b for k in range(1, 5) for b in getattr(net, f"layer{k}")]
    probs = [b.stochastic_depth.p for b in blocks]
    assert probs == pytest.approx([p * l / 16 for l in range(1, 17)])
    assert all(b.stochastic_depth.mode == "row" for b in blocks)
    assert "stochastic_depth_prob=0.5" in repr(net).splitlines()[1]
    assert resnet18().layer1[0].stochastic_depth is None  # off by default: nothing to run
    # no parameters: the state_dict is unchanged
    assert list(net.state_dict()) == list(resnet50(num_classes=10, input_size=32).state_dict())


def test_stochastic_depth_is_identity_in_eval():
    gs.manual_seed(0)
    dropped = resnet18(num_classes=10, input_size=32, stochastic_depth_prob=0.5).eval()
    full = resnet18(num_classes=10, input_size=32).eval()
    full.load_state_dict(dropped.state_dict())
    x = gs.tensor(image(2, 3, 32, 32))
    with gs.no_grad():
        np.testing.assert_array_equal(dropped(x).numpy(), full(x).numpy())


def test_stochastic_depth_drops_whole_rows_in_train():
    """Each example's branch is dropped (output ``relu(x)``) or kept and scaled by
    ``1 / (1 - p)`` (output ``relu(x + branch / (1 - p))``), as a whole."""
    net = resnet18(num_classes=10, input_size=32, stochastic_depth_prob=0.5)
    block = net.layer4[1]  # the last block: p = 0.5 * 8 / 8
    p = block.stochastic_depth.p
    assert p == 0.5
    block.train()
    x = gs.tensor(image(8, 512, 4, 4))
    kinds = set()
    for seed in range(10):
        gs.manual_seed(seed)
        with gs.no_grad():
            out = block(x).numpy()
            branch = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x))))).numpy()
        for i in range(8):
            if np.allclose(out[i], np.maximum(x.numpy()[i], 0)):
                kinds.add("dropped")
            else:
                kept = np.maximum(x.numpy()[i] + branch[i] / (1 - p), 0)
                np.testing.assert_allclose(out[i], kept, rtol=1e-5, atol=1e-5)
                kinds.add("kept")
    assert kinds == {"dropped", "kept"}


def test_zero_init_residual():
    net = resnet18(num_classes=10, input_size=32, zero_init_residual=True)
    assert all(float(np.abs(b.bn2.weight.detach().numpy()).max()) == 0 for b in net.layer1)
    assert float(np.abs(net.layer1[0].bn1.weight.detach().numpy()).min()) == 1.0
    bottleneck = resnet50(num_classes=10, input_size=32, zero_init_residual=True).layer3[1]
    assert float(np.abs(bottleneck.bn3.weight.detach().numpy()).max()) == 0
    block = net.layer2[1].eval()  # an identity-shortcut block starts as relu(x) = x for x >= 0
    x = gs.tensor(np.abs(image(2, 128, 4, 4)))
    with gs.no_grad():
        np.testing.assert_array_equal(block(x).numpy(), x.numpy())
    default = resnet18(num_classes=10, input_size=32).layer1[0].bn2.weight.detach().numpy()
    assert np.all(default == 1.0)


# ----------------------------------------------------------------------------- errors
def test_errors():
    with pytest.raises(ValueError, match=r"resnet18: input_size 28 is too small.*at least 32x32"):
        resnet18(input_size=28, small_input=False)
    with pytest.raises(ValueError, match=r"resnet50: input_size 4 is too small.*at least 8x8"):
        resnet50(input_size=4)
    with pytest.raises(
        ValueError, match=r"resnet18: expected input of shape \(N, 1, H, W\).*got \(2, 3, 28, 28\)"
    ):
        resnet18(num_classes=10, in_channels=1, input_size=28)(gs.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"plain18: input 4x4 is too small.*at least 8x8"):
        plain18(input_size=32)(gs.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"resnet34: input 16x16 is too small.*at least 32x32"):
        resnet34(input_size=224)(gs.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match="resnet18: num_classes must be a positive int, got 0"):
        resnet18(num_classes=0)
    with pytest.raises(ValueError, match="resnet18: in_channels must be a positive int"):
        resnet18(in_channels=2.5)
    with pytest.raises(TypeError, match="resnet18: small_input must be True, False or None"):
        resnet18(small_input="yes")
    with pytest.raises(ValueError, match=r"resnet18: stochastic_depth_prob must be .* got 1.0"):
        resnet18(stochastic_depth_prob=1.0)
    with pytest.raises(ValueError, match="plain34: stochastic depth needs the residual"):
        plain34(stochastic_depth_prob=0.2)
    with pytest.raises(ValueError, match="plain18: zero_init_residual needs the residual"):
        plain18(zero_init_residual=True)
    with pytest.raises(TypeError, match="ResNet: block must be BasicBlock or Bottleneck"):
        ResNet(nn.Conv2d, [2, 2, 2, 2])
    with pytest.raises(ValueError, match=r"ResNet: layers must be 4 block counts, got \[2, 2\]"):
        ResNet(BasicBlock, [2, 2])
    with pytest.raises(ValueError, match="resnet14: each entry of layers must be a positive int"):
        ResNet(BasicBlock, [2, 2, 2, 0])
    with pytest.raises(ValueError, match="BasicBlock: only groups=1 and base_width=64"):
        ResNet(BasicBlock, [2, 2, 2, 2], groups=32)
    with pytest.raises(TypeError):
        resnet18(depth=20)
