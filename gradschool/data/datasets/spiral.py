"""Spiral: the toy data of CS231n's "neural network case study" as a dataset of
``(point, label)`` pairs — ``n_classes`` interleaved arms in 2-D that no linear classifier
separates, which a two-layer ReLU net fits almost perfectly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..spiral import make_spiral
from ._files import ArrayDataset

__all__ = ["Spiral"]


class Spiral(ArrayDataset):
    """``make_spiral(n_per_class, n_classes, noise, seed)`` wrapped as a dataset.

    ``data`` is float32 ``(n_per_class * n_classes, 2)``, ``targets`` int64; ``ds[i]`` is
    ``(Tensor (2,), int label)``. The points depend only on ``seed`` (not on
    ``gradschool.manual_seed``), so every run sees the same data.
    """

    def __init__(
        self,
        n_per_class: int = 100,
        n_classes: int = 3,
        noise: float = 0.2,
        seed: int = 0,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
    ) -> None:
        self.data, self.targets = make_spiral(n_per_class, n_classes, noise, seed)
        self.n_classes = n_classes
        self.classes = [str(k) for k in range(n_classes)]
        self.transform = transform
        self.target_transform = target_transform
