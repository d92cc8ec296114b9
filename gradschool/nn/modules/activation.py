"""Activation layers (CS231n L6 "Activation functions"; CSC321 L3-L5): the Module form of
``gradschool.nn.functional``'s activations, for ``Sequential`` models.

Names, arguments, defaults, attributes and ``extra_repr`` are PyTorch's. Only ``PReLU``
learns something (its negative slopes, state_dict key ``weight``). ``Maxout`` goes beyond
PyTorch: the course's maxout unit, a max over groups of features.
"""

from __future__ import annotations

import warnings
from typing import Any

from ...creation import empty
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = [
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "SELU",
    "GELU",
    "SiLU",
    "Softplus",
    "Hardtanh",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Softmin",
    "Maxout",
]


def _inplace_repr(inplace: bool, first: bool = False) -> str:
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class ReLU(Module):
    """``max(0, x)`` elementwise; any shape (CS231n L6: the default nonlinearity).

    >>> import gradschool as gs
    >>> from gradschool import nn
    >>> nn.ReLU()(gs.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, first=True)


class Hardtanh(Module):
    """``clip(x, min_val, max_val)``, gradient 1 strictly inside; any shape."""

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ) -> None:
        super().__init__()
        if min_value is not None or max_value is not None:
            warnings.warn(
                "keyword arguments min_value and max_value are deprecated, use min_val and "
                "max_val instead",
                FutureWarning,
                stacklevel=2,
            )
            min_val = min_val if min_value is None else min_value
            max_val = max_val if max_value is None else max_value
        if not max_val > min_val:
            raise ValueError(
                f"{type(self).__name__}: max_val must be greater than min_val, got "
                f"min_val={min_val}, max_val={max_val}"
            )
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_repr(self.inplace)}"


class ReLU6(Hardtanh):
    """``min(max(0, x), 6)``; any shape (MobileNet)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.relu6(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, first=True)


class LeakyReLU(Module):
    """``max(0, x) + negative_slope * min(0, x)``; any shape (CS231n L6: fixes dead ReLUs)."""

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_repr(self.inplace)}"


class PReLU(Module):
    """Parametric ReLU (He et al. 2015; CS231n L6): ``max(0, x) + a * min(0, x)`` with the
    slope ``a`` learned, one shared (``num_parameters=1``) or one per channel
    (``num_parameters=C`` for input ``(N, C, *)``). Parameter ``weight``: ``(num_parameters,)``,
    initialised to ``init``. Do not use weight decay on it.
    """

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int):
            raise TypeError(f"PReLU: num_parameters must be an int, got {num_parameters!r}")
        if num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be positive, got {num_parameters}")
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if self.num_parameters != 1 and isinstance(input, Tensor):
            channels = input.shape[1] if input.ndim > 1 else 1
            if channels != self.num_parameters:
                raise ValueError(
                    f"PReLU({self.extra_repr()}) expected {self.num_parameters} channels "
                    f"(dim 1 of the input), got input of shape {tuple(input.shape)}"
                )
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise; any shape (CS231n L6)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_repr(self.inplace)}"


class SELU(Module):
    """Scaled ELU with the self-normalising constants (Klambauer et al. 2017); any shape.
    Pair it with ``kaiming_normal_(w, nonlinearity='linear')`` initialisation."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.selu(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, first=True)


class GELU(Module):
    """``x * Phi(x)`` (``Phi`` the normal CDF; ``approximate='tanh'`` for the tanh formula);
    any shape. The MLP nonlinearity of transformers (BERT, GPT, ViT)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)`` (swish); any shape."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, first=True)


class Softplus(Module):
    """``log(1 + exp(beta x)) / beta`` (``x`` where ``beta x > threshold``); any shape."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``; any shape (CS231n L6: saturates, not zero-centred)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.sigmoid(input)


class Tanh(Module):
    """``tanh(x)``; any shape (CS231n L6: zero-centred, still saturates)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.tanh(input)


class _SoftmaxNd(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxNd):
    """Probabilities along ``dim`` (each slice sums to 1); shape unchanged (CS231n L3)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmax(input, self.dim, _stacklevel=5)


class LogSoftmax(_SoftmaxNd):
    """Log-probabilities along ``dim``; shape unchanged. Feed it to ``NLLLoss``."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.log_softmax(input, self.dim, _stacklevel=5)


class Softmin(_SoftmaxNd):
    """``softmax(-x)`` along ``dim``; shape unchanged."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmin(input, self.dim, _stacklevel=5)


class Maxout(Module):
    """Maxout unit (Goodfellow et al. 2013; CS231n L6), beyond PyTorch: the maximum over
    groups of ``num_pieces`` consecutive features along ``dim``.
    ``(N, C, *) -> (N, C / num_pieces, *)``; put it after a layer with ``num_pieces`` times
    as many outputs: ``Sequential(Linear(784, 2 * 256), Maxout(2))`` is 256 maxout units.
    """

    def __init__(self, num_pieces: int, dim: int = 1) -> None:
        super().__init__()
        if isinstance(num_pieces, bool) or not isinstance(num_pieces, int):
            raise TypeError(f"Maxout: num_pieces must be an int, got {num_pieces!r}")
        if num_pieces < 1:
            raise ValueError(f"Maxout: num_pieces must be positive, got {num_pieces}")
        self.num_pieces, self.dim = num_pieces, dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.maxout(input, self.num_pieces, self.dim)

    def extra_repr(self) -> str:
        return f"num_pieces={self.num_pieces}, dim={self.dim}"
