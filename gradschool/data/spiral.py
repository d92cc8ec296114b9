"""The spiral toy data of CS231n's "neural network case study": K arms, not linearly separable.

A linear classifier gets about 50% on three arms; a two-layer net with a ReLU hidden layer
gets close to 100%, which is the point of the example.
"""

from __future__ import annotations

import numpy as np


def make_spiral(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points on ``n_classes`` interleaved spiral arms.

    Returns ``X`` of shape ``(n_per_class * n_classes, 2)`` (float32) and ``y`` of shape
    ``(n_per_class * n_classes,)`` (int64 class labels).
    """
    if n_per_class < 1 or n_classes < 1:
        raise ValueError(
            f"make_spiral: expected n_per_class >= 1 and n_classes >= 1, got {n_per_class}, {n_classes}"
        )
    rng = np.random.default_rng(seed)
    X = np.zeros((n_per_class * n_classes, 2), dtype=np.float32)
    y = np.zeros(n_per_class * n_classes, dtype=np.int64)
    for k in range(n_classes):
        idx = slice(n_per_class * k, n_per_class * (k + 1))
        r = np.linspace(0.0, 1.0, n_per_class)
        t = (
            np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class)
            + rng.standard_normal(n_per_class) * noise
        )
        X[idx] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[idx] = k
    return X, y
