"""Census rows for ``gradschool.nn`` layer classes and containers: negative or zero sizes for
features, kernels, strides and padding, groups that do not divide the channels, layers given
inputs of the wrong rank, channel count or dtype, and ``nn.init`` fills."""

from __future__ import annotations

import gradschool as gs
import gradschool.nn as nn
from gradschool.nn import init

from .rows import INDEX, RUNTIME, needs_gpu_free, table

t = gs.tensor


def img() -> gs.Tensor:
    return gs.randn(2, 3, 8, 8)


CONSTRUCT = table(
    "nn modules: construction",
    ("Linear negative in", lambda: nn.Linear(-1, 3), ("Linear", "in_features", "-1")),
    ("Linear negative out", lambda: nn.Linear(3, -2), ("Linear", "out_features", "-2")),
    ("Linear float in", lambda: nn.Linear(2.5, 3), ("Linear", "int", "2.5")),
    ("Linear string in", lambda: nn.Linear("3", 3), ("Linear", "'3'")),
    ("Conv2d negative out", lambda: nn.Conv2d(3, -4, 3), ("Conv2d", "out_channels", "-4")),
    ("Conv2d kernel zero", lambda: nn.Conv2d(3, 4, 0), ("Conv2d", "kernel_size", "(0, 0)")),
    ("Conv2d stride zero", lambda: nn.Conv2d(3, 4, 3, stride=0), ("Conv2d", "stride")),
    ("Conv2d negative padding", lambda: nn.Conv2d(3, 4, 3, padding=-1), ("padding", "-1")),
    ("Conv2d groups vs in", lambda: nn.Conv2d(3, 4, 3, groups=2), ("in_channels", "3 and 2")),
    ("Conv2d groups vs out", lambda: nn.Conv2d(4, 6, 3, groups=4), ("out_channels", "6 and 4")),
    ("Conv2d groups zero", lambda: nn.Conv2d(4, 4, 3, groups=0), ("groups", "got 0")),
    ("Conv2d padding_mode", lambda: nn.Conv2d(3, 4, 3, padding_mode="wrap"), "'wrap'"),
    ("Conv2d padding 'full'", lambda: nn.Conv2d(3, 4, 3, padding="full"), "'full'"),
    ("Conv2d same + stride", lambda: nn.Conv2d(3, 4, 3, padding="same", stride=2), "strided"),
    ("Conv2d dilation zero", lambda: nn.Conv2d(3, 4, 3, dilation=0), ("dilation", "(0, 0)")),
    ("Conv2d 3-d kernel", lambda: nn.Conv2d(3, 4, (3, 3, 3)), ("kernel_size", "(3, 3, 3)")),
    ("Conv1d kernel zero", lambda: nn.Conv1d(3, 4, 0), ("Conv1d", "kernel_size")),
    ("ConvTranspose2d groups", lambda: nn.ConvTranspose2d(3, 4, 3, groups=2), "ConvTranspose2d"),
    ("ConvTranspose1d kernel 0", lambda: nn.ConvTranspose1d(3, 4, 0), "ConvTranspose1d"),
    ("BatchNorm2d zero", lambda: nn.BatchNorm2d(0), ("BatchNorm2d", "num_features", "0")),
    ("LayerNorm negative dim", lambda: nn.LayerNorm((3, -1)), ("negative dimension", "-1")),
    ("GroupNorm not dividing", lambda: nn.GroupNorm(2, 3), ("GroupNorm", "(3)", "(2)")),
    ("GroupNorm zero groups", lambda: nn.GroupNorm(0, 4), ("GroupNorm", "(0)")),
    ("LocalResponseNorm 0", lambda: nn.LocalResponseNorm(0), ("LocalResponseNorm", "got 0")),
    ("Dropout p 1.5", lambda: nn.Dropout(1.5), ("Dropout", "1.5")),
    ("Dropout2d p 2", lambda: nn.Dropout2d(2), ("Dropout2d", "got 2")),
    ("StochasticDepth mode", lambda: nn.StochasticDepth(0.5, "x"), ("StochasticDepth", "'x'")),
    ("Embedding negative dim", lambda: nn.Embedding(5, -3), ("Embedding", "-3")),
    ("Embedding padding_idx", lambda: nn.Embedding(5, 3, padding_idx=5), ("padding_idx", "5")),
    ("PReLU zero", lambda: nn.PReLU(0), ("PReLU", "got 0")),
    ("Hardtanh min > max", lambda: nn.Hardtanh(1.0, -1.0), ("Hardtanh", "min_val=1.0")),
    ("GELU approximate", lambda: nn.GELU(approximate="x"), ("GELU", "'x'")),
    ("Maxout zero pieces", lambda: nn.Maxout(0), ("Maxout", "got 0")),
    ("ZeroPad2d three numbers", lambda: nn.ZeroPad2d((1, 1, 1)), ("ZeroPad2d", "4 ints")),
    ("CrossEntropyLoss reduction", lambda: nn.CrossEntropyLoss(reduction="avg"), "'avg'"),
    ("CrossEntropyLoss smoothing", lambda: nn.CrossEntropyLoss(label_smoothing=2.0), "2.0"),
    ("HuberLoss delta < 0", lambda: nn.HuberLoss(delta=-1), ("HuberLoss", "-1")),
    ("KLDivLoss reduction", lambda: nn.KLDivLoss(reduction="x"), ("KLDivLoss", "'x'")),
    ("MultiMarginLoss p 3", lambda: nn.MultiMarginLoss(p=3), ("MultiMarginLoss", "p=3")),
)

FORWARD = table(
    "nn modules: forward",
    ("Linear wrong features", lambda: nn.Linear(4, 2)(gs.randn(2, 3)), ("4 input features", "3")),
    ("Linear int input", lambda: nn.Linear(4, 2)(gs.ones(2, 4, dtype=gs.int64)), "int64"),
    ("Linear list input", lambda: nn.Linear(4, 2)([1.0, 2, 3, 4]), ("Tensor", "list")),
    ("Conv2d grey into RGB", lambda: nn.Conv2d(3, 4, 3)(gs.randn(2, 1, 8, 8)), ("3 input", "1")),
    ("Conv2d 3-d batch", lambda: nn.Conv2d(3, 4, 3)(gs.randn(2, 3, 8)), ("Conv2d", "channels")),
    ("Conv2d image too small", lambda: nn.Conv2d(3, 4, 5)(gs.randn(2, 3, 3, 3)), "larger"),
    ("Conv1d channels", lambda: nn.Conv1d(3, 4, 3)(gs.randn(2, 4, 8)), ("Conv1d", "got 4")),
    ("ConvTranspose2d channels", lambda: nn.ConvTranspose2d(3, 4, 3)(gs.randn(2, 4, 5, 5)), "4"),
    (
        "ConvTranspose2d output_padding",
        lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)(img()),
        ("output_padding", "(2, 2)"),
    ),
    ("BatchNorm2d channels", lambda: nn.BatchNorm2d(4)(img()), ("BatchNorm2d(4)", "got 3")),
    ("BatchNorm2d 2-d input", lambda: nn.BatchNorm2d(3)(gs.randn(2, 3)), ("4D", "(2, 3)")),
    ("BatchNorm1d 4-d input", lambda: nn.BatchNorm1d(3)(img()), ("BatchNorm1d", "4D")),
    ("BatchNorm1d channels", lambda: nn.BatchNorm1d(3)(gs.randn(4, 5)), ("3 channels", "5")),
    ("BatchNorm1d batch of one", lambda: nn.BatchNorm1d(3)(gs.randn(1, 3)), "more than 1 value"),
    ("BatchNorm2d one 1x1 image", lambda: nn.BatchNorm2d(3)(gs.randn(1, 3, 1, 1)), "(1, 3, 1, 1)"),
    ("BatchNorm3d 4-d input", lambda: nn.BatchNorm3d(3)(img()), ("BatchNorm3d", "5D")),
    ("LayerNorm shape", lambda: nn.LayerNorm(5)(img()), ("layer_norm", "[5]")),
    ("GroupNorm channels", lambda: nn.GroupNorm(2, 4)(img()), ("GroupNorm(2, 4)", "got 3")),
    ("InstanceNorm2d 2-d input", lambda: nn.InstanceNorm2d(3)(gs.randn(2, 3)), "InstanceNorm2d"),
    ("InstanceNorm2d channels", lambda: nn.InstanceNorm2d(4, affine=True)(img()), "4 channels"),
    ("LocalResponseNorm 1-d", lambda: nn.LocalResponseNorm(2)(gs.randn(3)), "(3,)"),
    ("MaxPool2d kernel zero", lambda: nn.MaxPool2d(0)(img()), ("max_pool2d", "kernel_size")),
    ("MaxPool2d negative kernel", lambda: nn.MaxPool2d(-2)(img()), ("max_pool2d", "-2")),
    ("MaxPool2d kernel > image", lambda: nn.MaxPool2d(10)(img()), ("max_pool2d", "larger")),
    ("AvgPool2d padding > half", lambda: nn.AvgPool2d(2, padding=2)(img()), ("avg_pool2d", "half")),
    ("AdaptiveAvgPool2d -1", lambda: nn.AdaptiveAvgPool2d(-1)(img()), ("output_size", "-1")),
    ("Embedding index 5 of 5", lambda: nn.Embedding(5, 3)(t([5])), ("index 5", "5"), INDEX),
    ("Embedding float indices", lambda: nn.Embedding(5, 3)(t([1.0])), ("embedding", "float32")),
    ("PReLU channels", lambda: nn.PReLU(4)(img()), ("PReLU", "4 channels")),
    ("LeakyReLU string slope", lambda: nn.LeakyReLU("a")(img()), ("leaky_relu", "slope", "'a'")),
    ("Softmax dim 5", lambda: nn.Softmax(dim=5)(img()), ("softmax", "got 5"), INDEX),
    ("Flatten dim 5", lambda: nn.Flatten(5)(img()), ("flatten", "got 5"), INDEX),
    ("Unflatten wrong sizes", lambda: nn.Unflatten(1, (2, 2))(img()), ("reshape", "384")),
    ("Upsample without sizes", lambda: nn.Upsample()(img()), ("interpolate", "exactly one")),
    ("Upsample cubic", lambda: nn.Upsample(scale_factor=2, mode="cubic")(img()), "'cubic'"),
    ("Upsample bilinear 3-d", lambda: nn.Upsample(scale_factor=2, mode="bilinear")(img()[0]), "4D"),
    ("ZeroPad2d crops too much", lambda: nn.ZeroPad2d(-5)(img()), ("crops too much",)),
    ("ReflectionPad2d too wide", lambda: nn.ReflectionPad2d(8)(img()), ("reflect", "size 8")),
    ("ReplicationPad1d 4-d", lambda: nn.ReplicationPad1d(1)(img()), ("replicate", "4D")),
    ("CircularPad2d too wide", lambda: nn.CircularPad2d(9)(img()), ("circular", "(9, 9)")),
    ("MSELoss shapes", lambda: nn.MSELoss()(gs.randn(3), gs.randn(4)), ("mse_loss", "(4,)")),
    ("BCELoss of 2.0", lambda: nn.BCELoss()(gs.full((2,), 2.0), gs.ones(2)), "between 0 and 1"),
    (
        "NLLLoss weight size",
        lambda: nn.NLLLoss(weight=gs.ones(2))(gs.randn(4, 3), t([0, 1, 2, 0])),
        ("nll_loss", "(3,)", "(2,)"),
    ),
    ("CosineSimilarity dim", lambda: nn.CosineSimilarity(dim=4)(img(), img()), "got 4", INDEX),
)

CONTAINERS = table(
    "nn modules: containers and Module",
    ("Sequential of a number", lambda: nn.Sequential(nn.ReLU(), 3), ("int", "Module")),
    ("Sequential index 3 of 1", lambda: nn.Sequential(nn.ReLU())[3], ("index 3", "1"), INDEX),
    ("ModuleList of a number", lambda: nn.ModuleList([3]), ("int", "Module")),
    ("ModuleList append string", lambda: nn.ModuleList().append("a"), ("str", "Module")),
    ("ModuleDict of a number", lambda: nn.ModuleDict({"a": 3}), ("int", "Module")),
    ("add_module a number", lambda: nn.Module().add_module("a", 3), ("int", "Module")),
    ("register_buffer a number", lambda: nn.Module().register_buffer("a", 3), ("buffer", "'a'")),
    (
        "register_parameter a tensor",
        lambda: nn.Module().register_parameter("a", gs.ones(2)),
        ("parameter", "'a'"),
    ),
    ("Module without forward", lambda: nn.Module()(gs.ones(1)), ("forward",)),
    ("train with a string", lambda: nn.Linear(2, 2).train("yes"), ("training mode", "boolean")),
    ("to an int dtype", lambda: nn.Linear(2, 2).to(gs.int64), ("floating point", "int64")),
    ("to tpu", lambda: nn.Linear(2, 2).to("tpu"), ("device", "'tpu'")),
    ("apply a number", lambda: nn.Linear(2, 2).apply(3), ("'int'", "callable")),
    ("summary of a number", lambda: gs.summary(3, (4, 3)), ("summary", "Module", "int")),
    ("summary wrong input", lambda: gs.summary(nn.Linear(3, 2), (4, 5)), ("3 input features",)),
)
CONTAINERS += table(
    "nn modules: containers and Module",
    (
        "to cuda without a GPU",
        needs_gpu_free(lambda: nn.Linear(2, 2).to("cuda")),
        ("cuda", "CuPy"),
        RUNTIME,
    ),
)

INIT = table(
    "nn.init",
    ("uniform_ a > b", lambda: init.uniform_(gs.ones(3), 1, 0), ("uniform_", "from=1", "to=0")),
    ("kaiming of a vector", lambda: init.kaiming_uniform_(gs.ones(3)), ("fan in", "2 dimensions")),
    ("kaiming mode", lambda: init.kaiming_normal_(gs.ones(3, 3), mode="x"), ("Mode x", "fan_in")),
    ("gain of swish", lambda: init.calculate_gain("swish"), ("calculate_gain", "'swish'")),
    ("gain with string slope", lambda: init.calculate_gain("leaky_relu", "a"), "negative_slope"),
    ("xavier of a vector", lambda: init.xavier_uniform_(gs.ones(3)), ("fan in",)),
    ("eye_ of 3-d", lambda: init.eye_(gs.ones(2, 2, 2)), ("eye_", "2 dimensions", "3")),
    ("dirac_ of 2-d", lambda: init.dirac_(gs.ones(2, 2)), ("dirac_", "3, 4, or 5")),
    ("orthogonal_ of a vector", lambda: init.orthogonal_(gs.ones(3)), ("orthogonal_", "2 or more")),
    ("normal_ std < 0", lambda: init.normal_(gs.ones(3), 0, -1), ("normal_", "std", "-1")),
    ("trunc_normal_ a > b", lambda: init.trunc_normal_(gs.ones(3), a=2, b=-2), ("a=2", "b=-2")),
    (
        "trunc_normal_ far window",
        lambda: init.trunc_normal_(gs.ones(3), a=100, b=101),
        ("trunc_normal_", "[100, 101]"),
    ),
    ("constant_ of a list", lambda: init.constant_([1.0], 0.0), ("constant_", "Tensor", "list")),
    (
        "vector_to_parameters size",
        lambda: nn.utils.vector_to_parameters(gs.ones(3), nn.Linear(3, 2).parameters()),
        ("vector_to_parameters", "3", "8"),
    ),
    (
        "vector_to_parameters 2-d",
        lambda: nn.utils.vector_to_parameters(gs.ones(2, 4), nn.Linear(3, 2).parameters()),
        ("vector_to_parameters", "1-D"),
    ),
)

CASES = CONSTRUCT + FORWARD + CONTAINERS + INIT
