"""Transfer learning tools on LeNet-5, the MLP and ResNet-20: finding and replacing the head,
freezing (gradients reach only the trainable parameters, frozen ones never move, frozen batch
norm keeps its running statistics), and loading a backbone from another model's weights."""

import numpy as np
import pytest

import gradschool as gs
from gradschool import nn
from gradschool.models.lenet import lenet5
from gradschool.models.mlp import mlp
from gradschool.models.resnet_cifar import resnet20
from gradschool.models.transfer import (
    freeze,
    freeze_backbone,
    head_name,
    load_backbone,
    replace_head,
    trainable_parameters,
    unfreeze,
)
from gradschool.nn import functional as F
from gradschool.optim.adam import Adam
from gradschool.optim.sgd import SGD


def _models():
    gs.manual_seed(0)
    return {
        "lenet5": (lenet5(num_classes=10, input_size=16), (2, 1, 16, 16), "classifier.4"),
        "mlp": (mlp(in_features=64, hidden=(32, 16), num_classes=10), (2, 64), "layers.4"),
        "resnet20": (resnet20(num_classes=10, in_channels=1, input_size=8), (2, 1, 8, 8), "fc"),
    }


MODELS = ["lenet5", "mlp", "resnet20"]


def _weights(model):
    return {k: v.data.copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", MODELS)
def test_head_name_and_replace_head(name):
    model, shape, head = _models()[name]
    assert head_name(model) == head
    keys = list(model.state_dict())
    old = model.get_submodule(head)
    new = replace_head(model, 4)
    assert model.get_submodule(head) is new and new is not old
    assert isinstance(new, nn.Linear) and (new.in_features, new.out_features) == (
        old.in_features,
        4,
    )
    assert list(model.state_dict()) == keys  # same keys, same order (Sequential order kept)
    assert model.num_classes == 4
    assert tuple(model(gs.randn(*shape)).shape) == (2, 4)


def test_head_rules_for_other_layouts():
    class DenseNetLike(nn.Module):  # classifier is itself the Linear
        def __init__(self):
            super().__init__()
            self.features = nn.Conv2d(1, 8, 3)
            self.classifier = nn.Linear(8, 10)

    class SqueezeNetLike(nn.Module):  # the head is a 1x1 conv inside classifier
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU())
            self.classifier = nn.Sequential(
                nn.Dropout(0.5), nn.Conv2d(8, 10, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1)
            )

        def forward(self, x):
            return self.classifier(self.features(x)).flatten(1)

    assert head_name(DenseNetLike()) == "classifier"
    net = SqueezeNetLike()
    assert head_name(net) == "classifier.1"
    new = replace_head(net, 3)
    assert isinstance(new, nn.Conv2d) and new.kernel_size == (1, 1) and new.out_channels == 3
    assert isinstance(net.classifier[1], nn.Conv2d) and isinstance(net.classifier[2], nn.ReLU)
    assert tuple(net(gs.randn(2, 1, 6, 6)).shape) == (2, 3)
    with pytest.raises(ValueError, match="no Linear or 1x1 Conv2d"):
        head_name(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        replace_head(net, 0)
    with pytest.raises(TypeError, match="freeze: expected"):
        freeze(3)


@pytest.mark.parametrize("name", MODELS)
def test_frozen_backbone_gets_no_gradient_and_never_moves(name):
    model, shape, head = _models()[name]
    replace_head(model, 3)
    trainable = freeze_backbone(model)
    head_params = list(model.get_submodule(head).parameters())
    assert trainable == head_params and trainable_parameters(model) == head_params
    frozen = [p for p in model.parameters() if not p.requires_grad]
    assert len(frozen) == len(list(model.parameters())) - len(head_params)
    before = _weights(model)
    # weight decay and momentum would move a frozen weight if the optimiser saw it
    for opt in (
        SGD(trainable_parameters(model), lr=0.1, momentum=0.9, weight_decay=1e-2),
        Adam(trainable_parameters(model), lr=0.01),
    ):
        for _ in range(3):
            model.train()
            x, y = gs.randn(*shape), gs.tensor(np.array([0, 2]))
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            assert all(p.grad is None for p in frozen)
            assert all(p.grad is not None for p in trainable)
            opt.step()
    after = _weights(model)
    prefix = head + "."
    for k in before:  # buffers included: frozen batch norm keeps its running statistics
        if k.startswith(prefix):
            assert not np.array_equal(before[k], after[k]), k
        else:
            np.testing.assert_array_equal(before[k], after[k], err_msg=k)
    unfreeze(model)
    assert len(trainable_parameters(model)) == len(list(model.parameters()))


def test_frozen_batch_norm_evaluates_even_in_train_mode():
    gs.manual_seed(0)
    model = resnet20(num_classes=4, in_channels=1, input_size=8)
    x = gs.randn(4, 1, 8, 8)
    model.train()
    model(x)  # some running statistics that differ from the initial ones
    freeze_backbone(model)
    model.eval()
    expected = model(x).data.copy()
    stats = _weights(model)
    model.train()
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(model.bn1.running_mean.data, stats["bn1.running_mean"])
    assert int(model.bn1.num_batches_tracked.item()) == int(stats["bn1.num_batches_tracked"])
    # unfrozen, it follows train() again and updates its statistics
    unfreeze(model)
    model.train()
    model(x)
    assert not np.array_equal(model.bn1.running_mean.data, stats["bn1.running_mean"])
    # bn_eval=False: PyTorch's bare behaviour, statistics still adapt
    freeze(model, bn_eval=False)
    model.train()
    mean = model.bn1.running_mean.data.copy()
    model(gs.randn(4, 1, 8, 8) + 1.0)
    assert not np.array_equal(model.bn1.running_mean.data, mean)
    assert trainable_parameters(model) == []


def test_freeze_parameters_and_modules_selectively():
    model, _, _ = _models()["lenet5"]
    frozen = freeze(model.features)
    assert len(frozen) == 4 and not any(p.requires_grad for p in model.features.parameters())
    assert all(p.requires_grad for p in model.classifier.parameters())
    freeze([model.classifier[0].weight, model.classifier[0].bias])
    assert len(trainable_parameters(model)) == 4
    unfreeze(model.features[0].parameters())
    assert len(trainable_parameters(model)) == 6


@pytest.mark.parametrize("name", MODELS)
def test_load_backbone_skips_a_head_of_another_width(name):
    source, shape, head = _models()[name]
    target, _, _ = _models()[name]
    replace_head(target, 5)
    gs.manual_seed(1)
    for p in source.parameters():  # make the source differ from the target everywhere
        p.data[...] = gs.randn(*p.shape).data
    fresh_head = _weights(target.get_submodule(head))
    skipped = load_backbone(target, source.state_dict())
    assert skipped == [f"{head}.bias", f"{head}.weight"]
    src, got = _weights(source), _weights(target)
    for k in got:
        if k.startswith(head + "."):
            np.testing.assert_array_equal(got[k], fresh_head[k.split(".")[-1]])
        else:
            np.testing.assert_array_equal(got[k], src[k], err_msg=k)


def test_load_backbone_head_rules_and_strictness():
    source, _, _ = _models()["lenet5"]
    target, _, _ = _models()["lenet5"]
    gs.manual_seed(1)
    for p in source.parameters():
        p.data[...] = gs.randn(*p.shape).data
    weights = source.state_dict()
    assert load_backbone(target, weights) == []  # same width: the head loads too
    np.testing.assert_array_equal(
        target.classifier[4].weight.data, weights["classifier.4.weight"].data
    )
    other, _, _ = _models()["lenet5"]
    skipped = load_backbone(other, weights, include_head=False)
    assert skipped == ["classifier.4.bias", "classifier.4.weight"]
    assert not np.array_equal(other.classifier[4].weight.data, weights["classifier.4.weight"].data)
    replace_head(other, 3)
    with pytest.raises(ValueError, match="include_head=True, but the head 'classifier.4'"):
        load_backbone(other, weights, include_head=True)
    # numpy arrays work too; weights of another architecture are refused by name
    as_arrays = {k: v.data for k, v in mlp(in_features=256, num_classes=3).state_dict().items()}
    with pytest.raises(ValueError, match=r"features.0.weight \(missing\)"):
        load_backbone(other, as_arrays)
    wide = lenet5(num_classes=3, in_channels=3, input_size=16)
    with pytest.raises(ValueError, match=r"features.0.weight \(shape \(6, 3, 5, 5\), model"):
        load_backbone(other, wide.state_dict())
    skipped = load_backbone(other, wide.state_dict(), strict=False)
    assert skipped == ["features.0.weight"]
