"""Census rows for ``gradschool.nn.functional``: convolutions, pooling, resampling and
padding, activations, dropout, embeddings, distances, normalisation, and the losses (class
targets out of range, float targets, NaN probabilities, mismatched shapes)."""

from __future__ import annotations

import numpy as np

import gradschool as gs
import gradschool.nn.functional as F

from .rows import INDEX, table

t = gs.tensor


def img() -> gs.Tensor:
    return gs.randn(2, 3, 8, 8)


def w() -> gs.Tensor:
    return gs.randn(4, 3, 3, 3)


def scores() -> gs.Tensor:
    return gs.randn(4, 3)


def labels() -> gs.Tensor:
    return t([0, 1, 2, 1])


CONV = table(
    "nn.functional: convolution",
    ("conv2d 2-d input", lambda: F.conv2d(gs.randn(8, 8), w()), ("conv2d", "4-D", "(8, 8)")),
    ("conv2d channel mismatch", lambda: F.conv2d(gs.randn(2, 5, 8, 8), w()), ("3 channels", "5")),
    ("conv2d 3-d weight", lambda: F.conv2d(img(), gs.randn(4, 3, 3)), ("4-D weight", "(4, 3, 3)")),
    ("conv2d bias size", lambda: F.conv2d(img(), w(), gs.randn(5)), ("bias", "(4,)", "(5,)")),
    ("conv2d stride zero", lambda: F.conv2d(img(), w(), stride=0), ("stride", "got 0")),
    ("conv2d negative padding", lambda: F.conv2d(img(), w(), padding=-1), ("padding", "-1")),
    ("conv2d dilation zero", lambda: F.conv2d(img(), w(), dilation=0), ("dilation", "got 0")),
    ("conv2d groups zero", lambda: F.conv2d(img(), w(), groups=0), ("groups", "got 0")),
    ("conv2d groups not dividing", lambda: F.conv2d(img(), w(), groups=2), ("6 channels", "3")),
    ("conv2d kernel > input", lambda: F.conv2d(gs.randn(1, 3, 2, 2), w()), ("larger", "(2, 2)")),
    ("conv2d padding 'full'", lambda: F.conv2d(img(), w(), padding="full"), ("'full'", "same")),
    ("conv2d same with stride", lambda: F.conv2d(img(), w(), padding="same", stride=2), "same"),
    ("conv2d float64 input", lambda: F.conv2d(img().double(), w()), ("same dtype", "float64")),
    ("conv2d int input", lambda: F.conv2d(gs.ones(1, 3, 8, 8, dtype=gs.int64), w()), "int64"),
    ("conv2d stride of 3", lambda: F.conv2d(img(), w(), stride=(1, 1, 1)), ("2 ints", "(1, 1, 1)")),
    ("conv2d float stride", lambda: F.conv2d(img(), w(), stride=1.5), ("stride", "1.5")),
    ("conv2d NumPy input", lambda: F.conv2d(np.ones((1, 3, 8, 8)), w()), ("Tensor", "ndarray")),
    (
        "conv1d channel mismatch",
        lambda: F.conv1d(gs.randn(2, 5, 8), gs.randn(4, 3, 3)),
        ("conv1d", "3 channels", "5"),
    ),
    ("conv1d kernel > input", lambda: F.conv1d(gs.randn(2, 3, 2), gs.randn(4, 3, 3)), "larger"),
    (
        "conv_transpose2d channels",
        lambda: F.conv_transpose2d(gs.randn(2, 5, 4, 4), gs.randn(3, 4, 3, 3)),
        ("conv_transpose2d", "3 channels"),
    ),
    (
        "conv_transpose2d output_padding",
        lambda: F.conv_transpose2d(gs.randn(2, 3, 4, 4), gs.randn(3, 4, 3, 3), output_padding=1),
        ("output_padding", "stride"),
    ),
    (
        "conv_transpose1d 4-d input",
        lambda: F.conv_transpose1d(gs.randn(2, 3, 4, 4), gs.randn(3, 4, 3)),
        ("conv_transpose1d", "4-D"),
    ),
    ("conv2d_naive channels", lambda: F.conv2d_naive(gs.randn(2, 5, 8, 8), w()), "conv2d_naive"),
    ("conv2d_naive stride zero", lambda: F.conv2d_naive(img(), w(), stride=0), "stride"),
    ("linear features", lambda: F.linear(gs.randn(2, 5), gs.randn(4, 3)), ("linear", "5", "3")),
    ("linear bias size", lambda: F.linear(gs.randn(2, 3), gs.randn(4, 3), gs.randn(5)), "(5,)"),
    ("linear 0-d input", lambda: F.linear(t(1.0), gs.randn(4, 3)), ("linear", "()")),
    ("linear int input", lambda: F.linear(gs.ones(2, 3, dtype=gs.int64), gs.randn(4, 3)), "int64"),
)

POOLING = table(
    "nn.functional: pooling and resampling",
    ("max_pool2d kernel zero", lambda: F.max_pool2d(img(), 0), ("kernel_size", "got 0")),
    ("max_pool2d kernel > input", lambda: F.max_pool2d(img(), 10), ("larger", "(10, 10)")),
    ("max_pool2d padding > half", lambda: F.max_pool2d(img(), 2, padding=2), ("padding", "half")),
    ("max_pool2d stride zero", lambda: F.max_pool2d(img(), 2, stride=0), ("stride", "got 0")),
    ("max_pool2d 2-d input", lambda: F.max_pool2d(gs.randn(8, 8), 2), ("max_pool2d", "(8, 8)")),
    ("max_pool2d 5-d input", lambda: F.max_pool2d(gs.randn(1, 1, 1, 8, 8), 2), "4D"),
    ("max_pool2d dilation zero", lambda: F.max_pool2d(img(), 2, dilation=0), "dilation"),
    ("avg_pool2d kernel zero", lambda: F.avg_pool2d(img(), 0), ("avg_pool2d", "kernel_size")),
    ("avg_pool2d padding > half", lambda: F.avg_pool2d(img(), 2, padding=3), ("padding", "(3, 3)")),
    ("avg_pool2d int input", lambda: F.avg_pool2d(gs.ones(1, 1, 4, 4, dtype=gs.int64), 2), "int64"),
    ("max_pool1d 4-d input", lambda: F.max_pool1d(img(), 2), ("max_pool1d", "(2, 3, 8, 8)")),
    ("max_pool1d kernel zero", lambda: F.max_pool1d(gs.randn(2, 3, 8), 0), "kernel_size"),
    ("avg_pool1d kernel > input", lambda: F.avg_pool1d(gs.randn(2, 3, 4), 8), ("avg_pool1d", "8")),
    ("adaptive_avg negative", lambda: F.adaptive_avg_pool2d(img(), -1), ("output_size", "-1")),
    ("adaptive_avg 2-d input", lambda: F.adaptive_avg_pool2d(gs.randn(8, 8), 2), "(8, 8)"),
    ("adaptive_max three sizes", lambda: F.adaptive_max_pool2d(img(), (1, 2, 3)), "(1, 2, 3)"),
    (
        "max_unpool2d index shape",
        lambda: F.max_unpool2d(img(), gs.zeros(1, dtype=gs.int64), 2),
        ("max_unpool2d", "(1,)"),
    ),
    ("max_unpool2d float index", lambda: F.max_unpool2d(img(), img(), 2), ("indices", "float32")),
    ("max_pool2d_naive kernel 0", lambda: F.max_pool2d_naive(img(), 0), "max_pool2d_naive"),
    ("avg_pool2d_naive kernel 0", lambda: F.avg_pool2d_naive(img(), 0), "avg_pool2d_naive"),
    ("interpolate no size", lambda: F.interpolate(img()), ("interpolate", "scale_factor")),
    ("interpolate both", lambda: F.interpolate(img(), size=4, scale_factor=2), "exactly one"),
    ("interpolate cubic", lambda: F.interpolate(img(), scale_factor=2, mode="cubic"), "'cubic'"),
    ("interpolate 2-d input", lambda: F.interpolate(gs.randn(8, 8), scale_factor=2), "(8, 8)"),
    ("interpolate size zero", lambda: F.interpolate(img(), size=0), ("positive", "[0, 0]")),
    ("interpolate negative scale", lambda: F.interpolate(img(), scale_factor=-2), "[-16, -16]"),
    ("interpolate three sizes", lambda: F.interpolate(img(), size=(1, 2, 3)), "(1, 2, 3)"),
    (
        "bilinear of a 3-d input",
        lambda: F.interpolate(gs.randn(1, 2, 8), scale_factor=2, mode="bilinear"),
        ("bilinear", "4D"),
    ),
    ("nearest with align_corners", lambda: F.interpolate(img(), 2, align_corners=True), "nearest"),
    ("pad odd length", lambda: F.pad(img(), (1, 1, 1)), ("pad", "even", "3")),
    ("pad unknown mode", lambda: F.pad(img(), (1, 1), mode="wrap"), ("pad", "'wrap'")),
    ("pad too many dims", lambda: F.pad(img(), (1,) * 10), ("pad", "5 dims", "4")),
    ("pad reflect of 4-d by two", lambda: F.pad(img(), (8, 8), mode="reflect"), ("reflect", "4D")),
    ("pad replicate of 1-d", lambda: F.pad(gs.randn(8), (1, 1), mode="replicate"), "1D"),
    ("pad crops too much", lambda: F.pad(img(), (-5, -5)), ("crops too much", "-2")),
    ("pad float amounts", lambda: F.pad(img(), (1.5, 1)), ("pad", "ints", "1.5")),
)

LAYERS = table(
    "nn.functional: activations, dropout, embeddings",
    ("hardtanh min > max", lambda: F.hardtanh(scores(), 1.0, -1.0), ("hardtanh", "min_val=1.0")),
    ("prelu weight count", lambda: F.prelu(scores(), gs.ones(2)), ("prelu", "2 elements", "3")),
    ("prelu 4-d weight count", lambda: F.prelu(img(), gs.ones(4)), ("prelu", "4 elements")),
    ("elu string alpha", lambda: F.elu(scores(), alpha="a"), ("elu", "alpha", "'a'")),
    ("softplus beta None", lambda: F.softplus(scores(), beta=None), ("softplus", "beta", "None")),
    ("gelu approximate", lambda: F.gelu(scores(), approximate="fast"), ("gelu", "'fast'")),
    ("relu of a list", lambda: F.relu([1.0, -2.0]), ("relu", "Tensor", "list")),
    ("softmax dim out of range", lambda: F.softmax(img(), dim=5), ("softmax", "got 5"), INDEX),
    ("log_softmax of ints", lambda: F.log_softmax(t([1, 2]), 0), ("log_softmax", "int64")),
    ("maxout zero pieces", lambda: F.maxout(scores(), 0), ("maxout", "got 0")),
    ("maxout not dividing", lambda: F.maxout(scores(), 2), ("maxout", "num_pieces=2")),
    ("dropout p 1.5", lambda: F.dropout(scores(), 1.5), ("dropout", "between 0 and 1", "1.5")),
    ("dropout p negative", lambda: F.dropout(scores(), -0.1), ("dropout", "-0.1")),
    ("dropout of ints", lambda: F.dropout(t([1, 2]), 0.5), ("dropout", "int64")),
    ("stochastic_depth mode", lambda: F.stochastic_depth(scores(), 0.5, mode="x"), "'row'"),
    ("stochastic_depth p 2", lambda: F.stochastic_depth(scores(), 2.0, mode="row"), "2.0"),
    ("embedding float indices", lambda: F.embedding(t([0.0]), gs.randn(5, 3)), "float32"),
    ("embedding index 7 of 5", lambda: F.embedding(t([7]), gs.randn(5, 3)), "index 7", INDEX),
    ("embedding index -1", lambda: F.embedding(t([-1]), gs.randn(5, 3)), "index -1", INDEX),
    ("embedding 1-d weight", lambda: F.embedding(t([0]), gs.randn(5)), ("2-D", "(5,)")),
    ("embedding padding_idx", lambda: F.embedding(t([0]), gs.randn(5, 3), padding_idx=9), "9"),
    ("one_hot negative class", lambda: F.one_hot(t([-1, 0])), ("one_hot", "non-negative", "-1")),
    ("one_hot class >= num", lambda: F.one_hot(t([5]), 3), ("one_hot", "num_classes=3", "5")),
    ("one_hot float input", lambda: F.one_hot(t([1.0])), ("one_hot", "float32")),
    (
        "cosine_similarity shapes",
        lambda: F.cosine_similarity(scores(), gs.randn(4, 5)),
        ("cosine_similarity", "(4, 5)"),
    ),
    ("cosine_similarity dim", lambda: F.cosine_similarity(scores(), scores(), dim=3), "3", INDEX),
    ("pairwise_distance shapes", lambda: F.pairwise_distance(scores(), gs.randn(4, 5)), "(4, 5)"),
    ("pairwise_distance p string", lambda: F.pairwise_distance(scores(), scores(), p="a"), "'a'"),
    ("normalize dim", lambda: F.normalize(scores(), dim=3), ("normalize", "got 3"), INDEX),
    (
        "layer_norm shape",
        lambda: F.layer_norm(img(), (5,)),
        ("layer_norm", "[5]", "(2, 3, 8, 8)"),
    ),
    (
        "batch_norm one value per channel",
        lambda: F.batch_norm(gs.randn(1, 3), None, None, training=True),
        ("more than 1 value", "(1, 3)"),
    ),
    (
        "local_response_norm 1-d",
        lambda: F.local_response_norm(gs.randn(3), 2),
        ("local_response_norm", "(3,)"),
    ),
)

LOSSES = table(
    "nn.functional: losses",
    ("cross_entropy class 3 of 3", lambda: F.cross_entropy(scores(), t([0, 1, 3, 1])), "3", INDEX),
    ("cross_entropy class -2", lambda: F.cross_entropy(scores(), t([0, -2, 1, 1])), "-2", INDEX),
    ("cross_entropy float labels", lambda: F.cross_entropy(scores(), t([0.0, 1, 2, 1])), "long()"),
    ("cross_entropy probs shape", lambda: F.cross_entropy(scores(), gs.rand(4, 2)), "(4, 2)"),
    ("cross_entropy label count", lambda: F.cross_entropy(scores(), t([0, 1])), ("(4,)", "(2,)")),
    ("cross_entropy int probs", lambda: F.cross_entropy(scores(), t([[0] * 3] * 4)), "floating"),
    ("cross_entropy 0-d input", lambda: F.cross_entropy(t(1.0), t(0)), ("cross_entropy", "()")),
    ("cross_entropy int scores", lambda: F.cross_entropy(t([[1, 2]]), t([0])), "floating point"),
    ("cross_entropy weight size", lambda: F.cross_entropy(scores(), labels(), gs.ones(2)), "(3,)"),
    (
        "cross_entropy reduction",
        lambda: F.cross_entropy(scores(), labels(), reduction="avg"),
        ("reduction", "'avg'"),
    ),
    (
        "cross_entropy smoothing 1.5",
        lambda: F.cross_entropy(scores(), labels(), label_smoothing=1.5),
        ("label_smoothing", "1.5"),
    ),
    ("cross_entropy list labels", lambda: F.cross_entropy(scores(), [0, 1, 2, 1]), "list"),
    ("cross_entropy NumPy labels", lambda: F.cross_entropy(scores(), labels().numpy()), "ndarray"),
    (
        "cross_entropy map labels",
        lambda: F.cross_entropy(gs.randn(2, 3, 4, 4), gs.zeros(2, 3, 3, dtype=gs.int64)),
        ("(2, 4, 4)", "(2, 3, 3)"),
    ),
    ("nll_loss class 5 of 3", lambda: F.nll_loss(scores(), t([0, 1, 5, 1])), "5", INDEX),
    ("nll_loss float labels", lambda: F.nll_loss(scores(), scores()), ("nll_loss", "float32")),
    ("mse_loss shapes", lambda: F.mse_loss(scores(), gs.randn(3, 4)), ("mse_loss", "(3, 4)")),
    ("mse_loss of ints", lambda: F.mse_loss(t([1, 2]), t([1, 2])), ("mse_loss", "int64")),
    ("mse_loss number target", lambda: F.mse_loss(scores(), 1.0), ("mse_loss", "float")),
    ("mse_loss reduction", lambda: F.mse_loss(scores(), scores(), reduction="max"), "'max'"),
    ("l1_loss shapes", lambda: F.l1_loss(scores(), gs.randn(5)), ("l1_loss", "(5,)")),
    ("smooth_l1 beta < 0", lambda: F.smooth_l1_loss(scores(), scores(), beta=-1.0), "beta"),
    ("huber delta 0", lambda: F.huber_loss(scores(), scores(), delta=0.0), ("huber_loss", "0.0")),
    (
        "binary_cross_entropy 1.5",
        lambda: F.binary_cross_entropy(gs.full((4,), 1.5), gs.ones(4)),
        ("between 0 and 1", "with_logits"),
    ),
    (
        "binary_cross_entropy NaN",
        lambda: F.binary_cross_entropy(gs.full((4,), float("nan")), gs.ones(4)),
        ("binary_cross_entropy", "between 0 and 1", "nan"),
    ),
    (
        "binary_cross_entropy shapes",
        lambda: F.binary_cross_entropy(gs.rand(4), gs.rand(3)),
        ("(4,)", "(3,)"),
    ),
    (
        "bce_with_logits shapes",
        lambda: F.binary_cross_entropy_with_logits(gs.randn(4), gs.rand(4, 1)),
        ("(4,)", "(4, 1)"),
    ),
    (
        "bce_with_logits pos_weight",
        lambda: F.binary_cross_entropy_with_logits(scores(), scores(), pos_weight=gs.ones(2)),
        ("pos_weight", "(2,)"),
    ),
    ("kl_div shapes", lambda: F.kl_div(scores(), gs.rand(3, 4)), ("kl_div", "(3, 4)")),
    ("kl_div reduction", lambda: F.kl_div(scores(), scores(), reduction="x"), "batchmean"),
    ("multi_margin class 9", lambda: F.multi_margin_loss(scores(), t([0, 1, 9, 1])), "9", INDEX),
    ("multi_margin p 3", lambda: F.multi_margin_loss(scores(), labels(), p=3), ("p == 1", "p=3")),
    (
        "multi_margin string margin",
        lambda: F.multi_margin_loss(scores(), labels(), margin="a"),
        ("multi_margin_loss", "margin", "'a'"),
    ),
    ("multi_margin float labels", lambda: F.multi_margin_loss(scores(), scores()), "float32"),
)

CASES = CONV + POOLING + LAYERS + LOSSES
