"""Layer rows: activations, softmax family, Maxout, Linear, Embedding, distances, flatten /
identity, and dropout / stochastic depth where they are deterministic (eval, p = 0 or 1).

Inputs come from the parity samplers of ``specs_nn_activation`` (which keep values away
from kinks), the layer's constructor arguments from their keyword arguments; ``inplace``
is drawn where the layer has it, and the layer runs in train or eval mode, once or twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st

import gradschool.nn as nn
from tests.fuzz.layers import Layer, LayerCase, targets
from tests.fuzz.specs_extra import away_from_zero, torch_stochastic_depth
from tests.parity import specs_nn_activation as act
from tests.parity.harness import Sample, integers, shapes, values


def layer_case(
    sampler: Callable[[Any], Sample], inplace: bool = False, **fixed: Any
) -> Callable[[Any], LayerCase]:
    """A parity sampler's ``Sample([x], kwargs)`` as a layer call: its kwargs (plus
    ``fixed``) construct the layer, ``x`` is the input; train/eval and 1-2 calls drawn."""

    def sample(draw: Any) -> LayerCase:
        s = sampler(draw)
        kwargs = {**s.kwargs, **fixed}
        if inplace:
            kwargs["inplace"] = draw(st.booleans())
        return LayerCase(kwargs, s.args, draw(st.booleans()), draw(st.integers(1, 2)))

    return sample


def dim_case(sampler: Callable[[Any], Sample]) -> Callable[[Any], LayerCase]:
    """``Sample([x, dim])`` as ``Layer(dim=dim)(x)``."""

    def sample(draw: Any) -> LayerCase:
        s = sampler(draw)
        return LayerCase({"dim": s.args[1]}, [s.args[0]], draw(st.booleans()))

    return sample


def softplus_case(draw: Any) -> LayerCase:
    beta = draw(st.sampled_from([1.0, 2.0, 0.5]))
    threshold = draw(st.sampled_from([20.0, 1.0, 3.0]))
    # away from the switch to the linear branch at beta * x = threshold
    x = act._avoid(values(draw, draw(shapes(max_dims=3)), -6, 6), (threshold / beta,), 0.05)
    return LayerCase({"beta": beta, "threshold": threshold}, [x], draw(st.booleans()))


def prelu_case(draw: Any) -> LayerCase:
    shape = draw(shapes(min_dims=1, max_dims=4, max_side=3))
    per_channel = len(shape) >= 2 and shape[1] > 0 and draw(st.booleans())
    x = act._avoid(values(draw, shape), (0.0,), 0.05)
    kwargs = {"num_parameters": shape[1] if per_channel else 1}
    return LayerCase(kwargs, [x], draw(st.booleans()))


def maxout_case(draw: Any) -> LayerCase:
    s = act.maxout_sample()(draw)
    x, k, d = s.args
    return LayerCase({"num_pieces": k, "dim": d}, [x], draw(st.booleans()))


class TorchMaxout(torch.nn.Module):
    """PyTorch has no Maxout layer: the max over groups of ``num_pieces`` along ``dim``."""

    def __init__(self, num_pieces: int, dim: int = 1) -> None:
        super().__init__()
        self.num_pieces, self.dim = num_pieces, dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return act.torch_maxout(x, self.num_pieces, self.dim)


class TorchStochasticDepth(torch.nn.Module):
    """torchvision.ops.StochasticDepth (torchvision is not installed here)."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch_stochastic_depth(x, self.p, self.mode, self.training)


def linear_case(draw: Any) -> LayerCase:
    lead = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    fin, fout = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    kwargs = {"in_features": fin, "out_features": fout, "bias": draw(st.booleans())}
    return LayerCase(kwargs, [values(draw, lead + (fin,))], draw(st.booleans()))


def embedding_case(draw: Any) -> LayerCase:
    v, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    idx = integers(draw, draw(shapes(max_dims=2, max_side=4)), 0, v)
    kwargs = {
        "num_embeddings": v,
        "embedding_dim": d,
        "padding_idx": draw(st.one_of(st.none(), st.integers(-v, v - 1))),
        "scale_grad_by_freq": draw(st.booleans()),
    }
    if draw(st.booleans()):
        kwargs["max_norm"] = draw(st.sampled_from([0.5, 1.0]))
        kwargs["norm_type"] = draw(st.sampled_from([1.0, 2.0, 3.0]))
    return LayerCase(kwargs, [idx], draw(st.booleans()), draw(st.integers(1, 2)))


def pair_case(sampler: Callable[[Any], Sample]) -> Callable[[Any], LayerCase]:
    def sample(draw: Any) -> LayerCase:
        s = sampler(draw)
        return LayerCase(dict(s.kwargs), s.args, draw(st.booleans()))

    return sample


def flatten_case(draw: Any) -> LayerCase:
    shape = draw(shapes(min_dims=1, max_dims=4))
    nd = len(shape)
    a = draw(st.integers(-nd, nd - 1))
    b = draw(st.integers(a % nd, nd - 1))
    return LayerCase({"start_dim": a, "end_dim": b}, [values(draw, shape)])


def unflatten_case(draw: Any) -> LayerCase:
    shape = list(draw(shapes(min_dims=1, max_dims=3, min_side=1)))
    d = draw(st.integers(0, len(shape) - 1))
    k = draw(st.integers(1, 3))
    shape[d] *= k
    return LayerCase(
        {"dim": d, "unflattened_size": (k, shape[d] // k)}, [values(draw, tuple(shape))]
    )


def dropout_case(min_dims: int = 1) -> Callable[[Any], LayerCase]:
    """Deterministic dropout: eval with any p, train with p = 0 (identity) or 1 (zeros)."""

    def sample(draw: Any) -> LayerCase:
        train = draw(st.booleans())
        p = draw(st.sampled_from([0.0, 1.0] if train else [0.0, 0.3, 0.5, 1.0]))
        shape = draw(shapes(min_dims=min_dims, max_dims=4))
        kwargs = {"p": p, "inplace": draw(st.booleans())}
        return LayerCase(kwargs, [values(draw, shape)], train, draw(st.integers(1, 2)))

    return sample


def stochastic_depth_case(draw: Any) -> LayerCase:
    train = draw(st.booleans())
    p = draw(st.sampled_from([0.0, 1.0] if train else [0.0, 0.2, 1.0]))
    kwargs = {"p": p, "mode": draw(st.sampled_from(["row", "batch"]))}
    return LayerCase(kwargs, [values(draw, draw(shapes(min_dims=1)))], train)


def identity_case(draw: Any) -> LayerCase:
    return LayerCase({}, [values(draw, draw(shapes()))], draw(st.booleans()))


u = act.unary
T = torch.nn
LAYERS = [
    Layer("ReLU", nn.ReLU, T.ReLU, layer_case(u(avoid=(0.0,)), inplace=True)),
    Layer("ReLU6", nn.ReLU6, T.ReLU6, layer_case(u(-3, 9, avoid=(0.0, 6.0)), inplace=True)),
    Layer(
        "Hardtanh",
        nn.Hardtanh,
        T.Hardtanh,
        layer_case(u(avoid=(-0.5, 1.5), min_val=-0.5, max_val=1.5), inplace=True),
    ),
    Layer(
        "LeakyReLU",
        nn.LeakyReLU,
        T.LeakyReLU,
        layer_case(u(avoid=(0.0,), negative_slope=0.2), inplace=True),
    ),
    Layer("PReLU", nn.PReLU, T.PReLU, prelu_case),
    Layer("ELU", nn.ELU, T.ELU, layer_case(u(-6, 3, avoid=(0.0,), alpha=0.7), inplace=True)),
    Layer("SELU", nn.SELU, T.SELU, layer_case(u(-6, 3, avoid=(0.0,)), inplace=True)),
    Layer("GELU", nn.GELU, T.GELU, layer_case(u(-4, 4), approximate="none")),
    Layer("GELU_tanh", nn.GELU, T.GELU, layer_case(u(-4, 4), approximate="tanh")),
    Layer("SiLU", nn.SiLU, T.SiLU, layer_case(u(-6, 6), inplace=True)),
    Layer("Softplus", nn.Softplus, T.Softplus, softplus_case),
    Layer("Sigmoid", nn.Sigmoid, T.Sigmoid, layer_case(u(-6, 6))),
    Layer("Tanh", nn.Tanh, T.Tanh, layer_case(u(-4, 4))),
    Layer("Softmax", nn.Softmax, T.Softmax, dim_case(act.with_dim())),
    Layer("LogSoftmax", nn.LogSoftmax, T.LogSoftmax, dim_case(act.with_dim())),
    Layer("Softmin", nn.Softmin, T.Softmin, dim_case(act.with_dim())),
    Layer("Maxout", nn.Maxout, TorchMaxout, maxout_case),
    Layer("Linear", nn.Linear, T.Linear, linear_case),
    Layer("Embedding", nn.Embedding, T.Embedding, embedding_case),
    Layer(
        "CosineSimilarity",
        nn.CosineSimilarity,
        T.CosineSimilarity,
        pair_case(away_from_zero(act.pair_sample())),
    ),
    Layer(
        "PairwiseDistance",
        nn.PairwiseDistance,
        T.PairwiseDistance,
        pair_case(act.distance_sample()),
    ),
    Layer("Flatten", nn.Flatten, T.Flatten, flatten_case),
    Layer("Unflatten", nn.Unflatten, T.Unflatten, unflatten_case),
    Layer("Identity", nn.Identity, T.Identity, identity_case),
    Layer("Dropout", nn.Dropout, T.Dropout, dropout_case()),
    Layer("Dropout2d", nn.Dropout2d, T.Dropout2d, dropout_case(min_dims=3)),
    Layer("StochasticDepth", nn.StochasticDepth, TorchStochasticDepth, stochastic_depth_case),
]

TARGETS = targets(LAYERS)
