"""The classification ladder of the course, one file per architecture, each a function
returning an ``nn.Module`` (torchvision's style: ``lenet5()``, ``mlp()``) and the class behind
it. ``get_model(name, **kwargs)`` builds one by name (what ``gradschool train --model``
uses); ``MODELS`` is the registry it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..nn import Module
from .lenet import LeNet5, lenet5
from .mlp import MLP, mlp

__all__ = ["MLP", "MODELS", "LeNet5", "get_model", "lenet5", "mlp"]

MODELS: dict[str, Callable[..., Module]] = {
    "lenet5": lenet5,
    "mlp": mlp,
}


def get_model(name: str, **kwargs: Any) -> Module:
    """Build the model registered as ``name`` with ``kwargs`` (e.g.
    ``get_model("lenet5", num_classes=10)``); raises ``ValueError`` listing the known names."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)
