"""Census rows for the model zoo (``gradschool.models``): unknown names, constructor
arguments out of range, inputs with the wrong channels, rank or size (``ImageClassifier``'s
checks), and transfer-learning helpers given the wrong things."""

from __future__ import annotations

import gradschool as gs
import gradschool.models as M
from gradschool.models import transfer

from .rows import table


def batch(c: int, size: int = 32) -> gs.Tensor:
    return gs.randn(1, c, size, size)


CASES = table(
    "models",
    ("unknown name", lambda: M.get_model("resnet9000"), ("unknown model", "'resnet9000'")),
    ("unknown keyword", lambda: M.get_model("resnet20", foo=1), ("resnet20", "'foo'")),
    ("resnet20 0 classes", lambda: M.resnet20(num_classes=0), ("resnet20", "num_classes", "0")),
    ("resnet20 0 channels", lambda: M.resnet20(in_channels=0), ("resnet20", "in_channels", "0")),
    ("resnet20 2x2 images", lambda: M.resnet20(input_size=2), ("resnet20", "too small", "4x4")),
    ("resnet20 grey input", lambda: M.resnet20()(batch(1)), ("resnet20", "(N, 3, H, W)", "1")),
    ("resnet20 unbatched", lambda: M.resnet20()(gs.randn(3, 32, 32)), ("resnet20", "(3, 32, 32)")),
    ("resnet20 2x2 input", lambda: M.resnet20()(batch(3, 2)), ("resnet20", "2x2", "4x4")),
    ("resnet20 list input", lambda: M.resnet20()([1]), ("resnet20", "Tensor", "list")),
    ("resnet20 shortcut C", lambda: M.resnet20(shortcut="C"), ("shortcut", "'C'")),
    ("resnet20 drop 1.5", lambda: M.resnet20(stochastic_depth_prob=1.5), "stochastic_depth_prob"),
    ("CifarResNet depth 21", lambda: M.CifarResNet(depth=21), ("6n + 2", "21")),
    ("resnet18 grey input", lambda: M.resnet18(input_size=32)(batch(1)), ("resnet18", "3 input")),
    (
        "resnet18 16x16 without small_input",
        lambda: M.resnet18(input_size=16, small_input=False),
        ("resnet18", "16", "small_input=True"),
    ),
    ("resnet18 small_input 'yes'", lambda: M.resnet18(small_input="yes"), ("small_input", "'yes'")),
    ("LeNet5 RGB input", lambda: M.lenet5()(batch(3, 28)), ("LeNet5", "(N, 1, 28, 28)")),
    ("LeNet5 32x32 input", lambda: M.lenet5()(batch(1)), ("LeNet5", "(1, 1, 32, 32)")),
    ("LeNet5 gelu", lambda: M.lenet5(activation="gelu"), ("LeNet5", "'gelu'")),
    ("LeNet5 8x8 images", lambda: M.lenet5(input_size=8), ("LeNet5", "input_size 8")),
    ("LeNet5 0 classes", lambda: M.lenet5(num_classes=0), ("LeNet5", "num_classes", "0")),
    ("MLP wrong features", lambda: M.mlp()(gs.randn(2, 100)), ("MLP", "784", "(2, 100)")),
    ("MLP unbatched", lambda: M.mlp()(gs.randn(784)), ("MLP", "(784,)")),
    ("MLP dropout 1", lambda: M.mlp(dropout=1.0), ("MLP", "dropout", "1.0")),
    ("MLP hidden 0", lambda: M.mlp(hidden=(0,)), ("MLP", "hidden=(0,)")),
    ("MLP swish", lambda: M.mlp(activation="swish"), ("MLP", "'swish'")),
    ("vgg11 grey input", lambda: M.vgg11(input_size=32)(batch(1)), ("vgg11", "3 input channels")),
    ("squeezenet grey input", lambda: M.squeezenet1_1(input_size=32)(batch(1)), "squeezenet1_1"),
    (
        "googlenet grey input",
        lambda: M.googlenet(input_size=32)(batch(1)),
        ("googlenet", "3 input"),
    ),
    ("densenet121 grey input", lambda: M.densenet121(input_size=32)(batch(1)), "densenet121"),
    ("densenet121 8x8 input", lambda: M.densenet121(input_size=32)(batch(3, 8)), ("8x8", "15x15")),
    ("squeezenet 4x4 input", lambda: M.squeezenet1_1(input_size=32)(batch(3, 4)), ("4x4", "8x8")),
    (
        "replace_head 0 classes",
        lambda: transfer.replace_head(M.resnet20(), 0),
        ("replace_head", "0"),
    ),
    ("head of a ReLU", lambda: transfer.replace_head(gs.nn.ReLU(), 3), ("head_name", "ReLU")),
    ("freeze a number", lambda: transfer.freeze(3), ("freeze", "Module", "int")),
    (
        "load_backbone of a path",
        lambda: transfer.load_backbone(M.resnet20(), "runs/x/best.safetensors"),
        ("load_backbone", "state_dict", "str"),
    ),
    (
        "load_backbone of another model",
        lambda: transfer.load_backbone(M.resnet20(), M.lenet5().state_dict()),
        ("load_backbone", "conv1.weight", "missing"),
    ),
)
