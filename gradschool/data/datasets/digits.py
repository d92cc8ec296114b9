"""Digits: scikit-learn's 1,797 handwritten digits, 8x8 pixels in 17 grey levels (UCI's
optical-recognition set) — small enough to train an MLP or run kNN in seconds (CS231n L2's
nearest-neighbour and linear-classifier exercises on data that fits on a slide).

Needs scikit-learn (imported only when the dataset is built): ``pip install scikit-learn``.
There is no official split: use ``random_split`` for a validation set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...tensor import Tensor
from ._files import ArrayDataset

__all__ = ["Digits"]


class Digits(ArrayDataset):
    """scikit-learn's ``load_digits`` as a dataset of ``(image, label)`` pairs.

    ``data`` is float32 ``(1797, 8, 8)`` scaled to ``[0, 1]`` (the 0..16 grey levels / 16),
    ``targets`` int64 ``(1797,)``. ``ds[i]`` is ``(transform(data[i]), label)`` or, with no
    transform, a float32 ``(1, 8, 8)`` Tensor ready for a ``Conv2d`` (or ``Flatten`` for an MLP).
    """

    classes = [str(d) for d in range(10)]

    def __init__(
        self,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
    ) -> None:
        try:
            from sklearn.datasets import load_digits
        except ImportError as err:
            raise ImportError(
                "Digits needs scikit-learn, which is not installed: pip install 'gradschool[digits]' (or pip install scikit-learn)"
            ) from err
        bunch = load_digits()
        self.data = (np.asarray(bunch.images, dtype=np.float32) / np.float32(16.0)).reshape(
            -1, 8, 8
        )
        self.targets = np.asarray(bunch.target, dtype=np.int64)
        self.transform = transform
        self.target_transform = target_transform

    def _raw(self, x: np.ndarray) -> Tensor:
        # (8, 8) -> (1, 8, 8); a batch (B, 8, 8) -> (B, 1, 8, 8): a channel axis for conv nets
        return Tensor._make(np.expand_dims(x, -3))

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}
