"""Layer rows: every loss class, from the parity samplers of ``specs_nn_loss``.

The functional samplers give ``[input, target, weight, (pos_weight)]`` and keyword
arguments; here the weights and keyword arguments construct the loss (class weights become
a buffer, so they also appear in its state_dict) and input and target are the call's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st

import gradschool.nn as nn
from tests.fuzz.layers import Layer, LayerCase, targets
from tests.parity import specs_nn_loss as ls
from tests.parity.harness import Sample

T = torch.nn


def loss_case(
    sampler: Callable[[Any], Sample], weights: tuple[str, ...] = ()
) -> Callable[[Any], LayerCase]:
    """``Sample([x, t, *weights], kwargs)`` as ``Loss(weight=..., **kwargs)(x, t)``; a
    ``None`` weight is left out (the default)."""

    def sample(draw: Any) -> LayerCase:
        s = sampler(draw)
        kwargs = dict(s.kwargs)
        for name, w in zip(weights, s.args[2:], strict=False):
            if w is not None:
                kwargs[name] = w
        return LayerCase(kwargs, s.args[:2], draw(st.booleans()))

    return sample


def _keep(layers: list[Layer]) -> list[Layer]:
    """The weights are the sampler's (positive): not replaced by random state."""
    for layer in layers:
        layer.randomize = False
    return layers


W = ("weight",)
LAYERS = _keep(
    [
        Layer(
            "CrossEntropyLoss", nn.CrossEntropyLoss, T.CrossEntropyLoss, loss_case(ls.ce_sample, W)
        ),
        Layer(
            "CrossEntropyLoss_probs",
            nn.CrossEntropyLoss,
            T.CrossEntropyLoss,
            loss_case(ls.ce_probs_sample, W),
        ),
        Layer("NLLLoss", nn.NLLLoss, T.NLLLoss, loss_case(ls.nll_sample, W)),
        Layer(
            "MultiMarginLoss", nn.MultiMarginLoss, T.MultiMarginLoss, loss_case(ls.margin_sample, W)
        ),
        Layer("BCELoss", nn.BCELoss, T.BCELoss, loss_case(ls.bce_sample, W)),
        Layer(
            "BCEWithLogitsLoss",
            nn.BCEWithLogitsLoss,
            T.BCEWithLogitsLoss,
            loss_case(ls.bce_logits_sample, ("weight", "pos_weight")),
        ),
        Layer("MSELoss", nn.MSELoss, T.MSELoss, loss_case(ls.pointwise_sample())),
        Layer("L1Loss", nn.L1Loss, T.L1Loss, loss_case(ls.pointwise_sample())),
        Layer(
            "SmoothL1Loss",
            nn.SmoothL1Loss,
            T.SmoothL1Loss,
            loss_case(ls.pointwise_sample("beta", [0.0, 0.5, 1.0, 2.0])),
        ),
        Layer(
            "HuberLoss",
            nn.HuberLoss,
            T.HuberLoss,
            loss_case(ls.pointwise_sample("delta", [0.5, 1.0, 2.0])),
        ),
        Layer("KLDivLoss", nn.KLDivLoss, T.KLDivLoss, loss_case(ls.kl_sample)),
    ]
)

TARGETS = targets(LAYERS)
