"""From dataset arrays to network inputs: ``ToTensor`` and ``Normalize`` (CS231n L6, "data
preprocessing": scale to [0, 1], then subtract the per-channel mean and divide by the std)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...tensor import Tensor
from . import _image
from . import functional as F

__all__ = ["Normalize", "ToTensor"]


class ToTensor:
    """A NumPy image ``(H, W)`` / ``(H, W, C)`` -> a ``(C, H, W)`` Tensor.

    uint8 in [0, 255] becomes float32 in [0, 1]; other dtypes keep their values (as in
    torchvision). A uint8 gradschool Tensor ``(H, W)`` / ``(H, W, C)`` is read the same way.
    ``apply_batch`` turns ``(N, H, W)`` / ``(N, H, W, C)`` into ``(N, C, H, W)`` in one pass.

    >>> import numpy as np
    >>> ToTensor()(np.full((2, 2, 3), 255, np.uint8)).shape
    (3, 2, 2)
    """

    def __call__(self, pic: Any) -> Tensor:
        return F._to_tensor(pic, "ToTensor")

    def apply_batch(self, batch: Any) -> Tensor:
        if isinstance(batch, Tensor):
            if batch.data.dtype != np.uint8:
                raise TypeError(
                    f"ToTensor.apply_batch: a Tensor batch must be uint8 (N, H, W) / (N, H, W, C), "
                    f"got {batch.dtype!r}; a float Tensor is already a batch of tensor images"
                )
            a = batch.data
        else:
            a = np.asarray(batch)
        return Tensor._make(_image.to_tensor_array(a, "ToTensor.apply_batch", batch=True))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a float Tensor ``(..., C, H, W)``.

    ``mean`` and ``std`` hold one value per channel (or one for all). ``inplace=True`` writes
    into the input. ``apply_batch`` takes ``(N, C, H, W)``.

    >>> import gradschool as gs
    >>> Normalize((0.5,), (0.5,))(gs.ones(1, 2, 2)).tolist()
    [[[1.0, 1.0], [1.0, 1.0]]]
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        try:
            m = np.asarray(mean, dtype=np.float64).reshape(-1)
            s = np.asarray(std, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise TypeError(
                f"Normalize: mean and std must be sequences of numbers, got mean={mean!r}, "
                f"std={std!r}"
            ) from None
        if m.size == 0 or s.size == 0 or (m.size != s.size and 1 not in (m.size, s.size)):
            raise ValueError(
                f"Normalize: mean and std need one value per channel (the same number of each, "
                f"or a single value), got mean={mean!r} ({m.size}) and std={std!r} ({s.size})"
            )
        if (s == 0).any():
            raise ValueError(
                f"Normalize: std must not contain 0 (division by zero), got std={std!r}"
            )
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        return F._normalize(tensor, self.mean, self.std, self.inplace, "Normalize")

    def apply_batch(self, batch: Tensor) -> Tensor:
        if isinstance(batch, Tensor) and batch.ndim != 4:
            raise ValueError(
                f"Normalize.apply_batch: expected a batch (N, C, H, W), got shape {batch.shape}"
            )
        return F._normalize(batch, self.mean, self.std, self.inplace, "Normalize.apply_batch")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"
