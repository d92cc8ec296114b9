"""Padding layers (CS231n L5: zero padding around a convolution's input; reflection and
replication borders for image-to-image models): the Module form of ``F.pad``.

``padding`` is an int (the same on every side) or a tuple in ``F.pad``'s order: ``(left,
right)`` for the 1d layers, ``(left, right, top, bottom)`` for the 2d ones. No parameters;
the stored ``padding`` tuple and ``extra_repr`` are PyTorch's.
"""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ..module import Module

__all__ = [
    "ConstantPad1d",
    "ConstantPad2d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "CircularPad1d",
    "CircularPad2d",
]


def _sides(padding: Any, n: int, name: str) -> tuple[int, ...]:
    """``padding`` as a tuple of ``n`` ints (an int is used for every side)."""
    if isinstance(padding, int) and not isinstance(padding, bool):
        return (padding,) * n
    if isinstance(padding, (tuple, list)) and len(padding) == n:
        return tuple(padding)
    raise ValueError(f"{name}: padding must be an int or a tuple of {n} ints, got {padding!r}")


class _ConstantPadNd(Module):
    n = 2

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__()
        self.padding = _sides(padding, self.n, type(self).__name__)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``: (*, W) -> (*, W + left + right).

    >>> import gradschool.nn as nn
    >>> nn.ConstantPad1d(2, 3.5)
    ConstantPad1d(padding=(2, 2), value=3.5)
    """


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``: (*, H, W) -> (*, H + top + bottom,
    W + left + right).

    >>> import gradschool.nn as nn
    >>> nn.ConstantPad2d((1, 1, 2, 0), 3.5)
    ConstantPad2d(padding=(1, 1, 2, 0), value=3.5)
    """

    n = 4


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros: (*, W) -> (*, W + left + right).

    >>> import gradschool.nn as nn
    >>> nn.ZeroPad1d(2)
    ZeroPad1d((2, 2))
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros (CS231n L5: "zero-pad the border"): (*, H, W) ->
    (*, H + top + bottom, W + left + right).

    >>> import gradschool.nn as nn
    >>> nn.ZeroPad2d(1)
    ZeroPad2d((1, 1, 1, 1))
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ModePadNd(Module):
    n = 2
    mode = "reflect"

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _sides(padding, self.n, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Mirror the last dim at its edges (the edge itself not repeated): (N, C, W) or (C, W)
    -> (…, W + left + right); each pad must be smaller than W.

    >>> import gradschool.nn as nn
    >>> nn.ReflectionPad1d(2)
    ReflectionPad1d((2, 2))
    """


class ReflectionPad2d(_ModePadNd):
    """Mirror H and W at their edges: (N, C, H, W) or (C, H, W) -> (…, H + top + bottom,
    W + left + right); each pad must be smaller than its dim.

    >>> import gradschool.nn as nn
    >>> nn.ReflectionPad2d(1)
    ReflectionPad2d((1, 1, 1, 1))
    """

    n = 4


class ReplicationPad1d(_ModePadNd):
    """Repeat the edge values of the last dim: (N, C, W) or (C, W) -> (…, W + left + right).

    >>> import gradschool.nn as nn
    >>> nn.ReplicationPad1d((1, 2))
    ReplicationPad1d((1, 2))
    """

    mode = "replicate"


class ReplicationPad2d(_ModePadNd):
    """Repeat the edge rows and columns: (N, C, H, W) or (C, H, W) -> (…, H + top + bottom,
    W + left + right).

    >>> import gradschool.nn as nn
    >>> nn.ReplicationPad2d(1)
    ReplicationPad2d((1, 1, 1, 1))
    """

    n = 4
    mode = "replicate"


class CircularPad1d(_ModePadNd):
    """Wrap the last dim around: (N, C, W) or (C, W) -> (…, W + left + right).

    >>> import gradschool.nn as nn
    >>> nn.CircularPad1d(1)
    CircularPad1d((1, 1))
    """

    mode = "circular"


class CircularPad2d(_ModePadNd):
    """Wrap H and W around (a torus): (N, C, H, W) or (C, H, W) -> (…, H + top + bottom,
    W + left + right).

    >>> import gradschool.nn as nn
    >>> nn.CircularPad2d(1)
    CircularPad2d((1, 1, 1, 1))
    """

    n = 4
    mode = "circular"
