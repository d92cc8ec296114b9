"""LeNet-5 and the MLP: shapes, parameter counts, state_dict names, PyTorch twins (the same
weights loaded into both: same outputs and gradients), the model registry, and a training
sanity check (LeNet-5 memorises 64 random images with random labels)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn.functional as F
from gradschool import nn
from gradschool.models import MLP, MODELS, LeNet5, get_model, lenet5, mlp
from tests.models.twin import compare_with_twin


def torch_lenet(num_classes=10, in_channels=1, input_size=28, activation="relu"):
    """The course's LeNet-5 in torch.nn, laid out as ours (features / classifier)."""
    tnn = torch.nn
    act, pool = (tnn.ReLU, tnn.MaxPool2d) if activation == "relu" else (tnn.Tanh, tnn.AvgPool2d)
    side = 5 if input_size in (28, 32) else ((input_size - 4) // 2 - 4) // 2
    net = tnn.Module()
    net.features = tnn.Sequential(
        tnn.Conv2d(in_channels, 6, 5, padding=2 if input_size == 28 else 0),
        act(),
        pool(2),
        tnn.Conv2d(6, 16, 5),
        act(),
        pool(2),
    )
    net.classifier = tnn.Sequential(
        tnn.Linear(16 * side * side, 120), act(), tnn.Linear(120, 84), act(),
        tnn.Linear(84, num_classes),
    )  # fmt: skip
    net.forward = lambda x: net.classifier(net.features(x).flatten(1))
    return net


def torch_mlp(in_features=784, hidden=(256, 128), num_classes=10, dropout=0.0, batch_norm=False):
    tnn, layers, width = torch.nn, [], in_features
    for h in hidden:
        layers += [tnn.Linear(width, h)] + ([tnn.BatchNorm1d(h)] if batch_norm else [])
        layers += [tnn.ReLU()] + ([tnn.Dropout(dropout)] if dropout else [])
        width = h
    net = tnn.Module()
    net.layers = tnn.Sequential(*layers, tnn.Linear(width, num_classes))
    net.forward = lambda x: net.layers(x.flatten(1))
    return net


# ----------------------------------------------------------------------------- LeNet-5
def test_lenet5_shapes_names_and_parameter_count():
    net = lenet5()
    assert isinstance(net, LeNet5) and isinstance(net, nn.Module)
    assert isinstance(net.features, nn.Sequential) and isinstance(net.classifier, nn.Sequential)
    out = net(gs.randn(3, 1, 28, 28))
    assert tuple(out.shape) == (3, 10) and out.dtype == gs.float32
    assert sum(p.numel() for p in net.parameters()) == 61706
    assert list(net.state_dict()) == [
        f"{block}.{i}.{kind}"
        for block, idx in (("features", (0, 3)), ("classifier", (0, 2, 4)))
        for i in idx
        for kind in ("weight", "bias")
    ]
    feats = net.features(gs.randn(1, 1, 28, 28))
    assert tuple(feats.shape) == (1, 16, 5, 5)  # 28x28 padded by 2 behaves as 32x32


def test_lenet5_options():
    original = lenet5(input_size=32, activation="tanh")  # the 1998 network
    assert isinstance(original.features[1], nn.Tanh) and isinstance(
        original.features[2], nn.AvgPool2d
    )
    assert original.features[0].padding == (0, 0)
    assert sum(p.numel() for p in original.parameters()) == 61706
    assert tuple(original(gs.randn(2, 1, 32, 32)).shape) == (2, 10)
    cifar = lenet5(num_classes=100, in_channels=3, input_size=32)
    assert tuple(cifar(gs.randn(2, 3, 32, 32)).shape) == (2, 100)
    assert sum(p.numel() for p in cifar.parameters()) == 61706 + 2 * 150 + 90 * 85
    small = lenet5(input_size=20)  # 20 -> 16 -> 8 -> 4 -> 2: a 16*2*2 classifier input
    assert small.classifier[0].in_features == 64
    assert "activation='relu'" in repr(lenet5())


def test_lenet5_errors():
    with pytest.raises(ValueError, match="unknown activation 'sigmoid'"):
        lenet5(activation="sigmoid")
    with pytest.raises(ValueError, match="too small"):
        lenet5(input_size=12)
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        lenet5(num_classes=0)
    with pytest.raises(
        ValueError, match=r"expected input of shape \(N, 1, 28, 28\), got \(2, 1, 32, 32\)"
    ):
        lenet5()(gs.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"got \(1, 28, 28\)"):
        lenet5()(gs.randn(1, 28, 28))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"activation": "tanh", "input_size": 32}, {"num_classes": 7, "in_channels": 3}],
)
def test_lenet5_twin(kwargs):
    torch.manual_seed(0)
    size = kwargs.get("input_size", 28)
    x = np.random.default_rng(0).standard_normal((4, kwargs.get("in_channels", 1), size, size))
    compare_with_twin(lenet5(**kwargs), torch_lenet(**kwargs), x.astype(np.float32))


def test_lenet5_memorises_random_labels():
    """The 'overfit a small batch first' check of CS231n L7: 61,706 parameters memorise 64
    random images with random labels, by SGD with momentum written out by hand."""
    gs.manual_seed(0)
    rng = np.random.default_rng(0)
    net = lenet5()
    x = gs.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    y = gs.tensor(rng.integers(0, 10, 64))
    params = list(net.parameters())
    velocity = [np.zeros_like(p.data) for p in params]
    lr, momentum, losses = 0.1, 0.9, []
    for _ in range(100):
        loss = F.cross_entropy(net(x), y)
        net.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)  # keeps the large step from killing ReLUs
        with gs.no_grad():
            for p, v in zip(params, velocity, strict=True):
                v *= momentum
                v -= lr * p.grad.data
                p.data += v  # in place on the arrays: no graph is built
        losses.append(loss.item())
        if losses[-1] < 0.1:
            break
    assert losses[0] > 2.0 and min(losses) < 0.1, losses[::10]
    assert (net(x).argmax(dim=1) == y).float().mean().item() == 1.0


# ----------------------------------------------------------------------------- MLP
def test_mlp_shapes_and_parameter_count():
    net = mlp()
    assert isinstance(net, MLP)
    assert tuple(net(gs.randn(5, 1, 28, 28)).shape) == (5, 10)  # flattened first
    assert tuple(net(gs.randn(5, 784)).shape) == (5, 10)
    assert sum(p.numel() for p in net.parameters()) == 784 * 256 + 256 + 256 * 128 + 128 + 1290
    assert list(net.state_dict())[::2] == ["layers.0.weight", "layers.2.weight", "layers.4.weight"]
    one = mlp(in_features=2, hidden=(100,), num_classes=3, activation="tanh")
    assert sum(p.numel() for p in one.parameters()) == 2 * 100 + 100 + 100 * 3 + 3
    assert isinstance(one.layers[1], nn.Tanh)
    linear = mlp(hidden=())  # no hidden layer: softmax regression
    assert len(linear.layers) == 1 and tuple(linear(gs.randn(2, 784)).shape) == (2, 10)
    full = mlp(batch_norm=True, dropout=0.5)
    kinds = [type(m).__name__ for m in full.layers]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Dropout"] * 2 + ["Linear"]


def test_mlp_errors():
    with pytest.raises(ValueError, match="unknown activation 'swish'; known: elu, gelu"):
        mlp(activation="swish")
    with pytest.raises(ValueError, match="dropout"):
        mlp(dropout=1.5)
    with pytest.raises(ValueError, match="positive ints"):
        mlp(hidden=(256, 0))
    with pytest.raises(ValueError, match=r"784 values per example, got shape \(2, 3, 32, 32\)"):
        mlp()(gs.randn(2, 3, 32, 32))


@pytest.mark.parametrize(
    ("kwargs", "train"),
    [({}, True), ({"batch_norm": True}, True), ({"batch_norm": True, "dropout": 0.3}, False)],
)
def test_mlp_twin(kwargs, train):
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(np.float32)
    ours, theirs = mlp(hidden=(64, 32), **kwargs), torch_mlp(hidden=(64, 32), **kwargs)
    compare_with_twin(ours, theirs, x, train=train)
    if kwargs.get("batch_norm"):  # running statistics updated alike in train mode
        for (name, b), bt in zip(ours.named_buffers(), theirs.buffers(), strict=True):
            np.testing.assert_allclose(b.numpy(), bt.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


# ----------------------------------------------------------------------------- registry
def test_get_model():
    assert {"lenet5", "mlp", "resnet20", "plain20", "vgg11_bn", "googlenet"} <= set(MODELS)
    assert isinstance(get_model("lenet5"), LeNet5)
    net = get_model("mlp", hidden=(32,), num_classes=4)
    assert isinstance(net, MLP) and net.num_classes == 4
    with pytest.raises(ValueError, match=r"^unknown model 'foo'; known models: alexnet, "):
        get_model("foo")
    with pytest.raises(TypeError):
        get_model("lenet5", depth=3)
