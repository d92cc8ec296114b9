"""Every registered model, as ``gradschool train --model NAME`` builds it for Fashion-MNIST:
it builds, ``gradschool.summary`` prints it, and a wrong channel count or an image too small
for its downsampling is a ``ValueError`` naming the model (and the minimum size)."""

from __future__ import annotations

import inspect
import re

import pytest

import gradschool as gs
from gradschool.cli.runs import DATASETS, build_model, model_kwargs
from gradschool.models import MODELS, ImageClassifier

IMAGE_MODELS = sorted(name for name in MODELS if name != "mlp")


@pytest.fixture(scope="module")
def fashion_models():
    spec = DATASETS["fashion-mnist"]
    return {name: build_model(name, model_kwargs(name, spec)) for name in IMAGE_MODELS}


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_summary_prints_each_model(name, fashion_models):
    model = fashion_models[name]
    s = gs.summary(model, (1, 1, 28, 28))
    assert s.total_params == sum(p.numel() for p in model.parameters())
    assert s.total_mult_adds > 0
    text = str(s)
    assert f"Total params: {s.total_params:,}" in text and "Total mult-adds" in text


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_wrong_channels_and_too_small_inputs_are_named(name, fashion_models):
    model = fashion_models[name].eval()
    expected = rf"(?i)^{name}: expected input of shape \(N, 1, .*got \(1, 3, 28, 28\)"
    with pytest.raises(ValueError, match=expected):
        model(gs.zeros(1, 3, 28, 28))
    if isinstance(model, ImageClassifier) and model.min_input_size > 1:
        side = model.min_input_size - 1
        m = model.min_input_size
        with pytest.raises(ValueError, match=rf"^{name}: .*at least {m}x{m}"):
            model(gs.zeros(1, 1, side, side))


IMAGENET_MODELS = [
    n for n in IMAGE_MODELS if "small_input" in inspect.signature(MODELS[n]).parameters
]


@pytest.mark.parametrize("name", IMAGENET_MODELS)
def test_imagenet_stem_on_a_small_image_is_refused_at_build_time(name):
    with pytest.raises(ValueError, match=rf"^{name}: input_size 8 is too small; .*at least"):
        MODELS[name](num_classes=10, in_channels=1, input_size=8, small_input=False)


def test_every_model_is_an_image_classifier_with_its_name(fashion_models):
    for name, model in fashion_models.items():
        if name == "lenet5":
            continue  # the first rung predates the base class and checks its own input
        assert isinstance(model, ImageClassifier), name
        assert re.fullmatch(r"[a-z0-9_]+", model.name)
