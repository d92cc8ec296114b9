"""The fully connected layer ``Linear`` (CS231n L2-L4: linear classifier, two-layer net;
CSC321 L2-L6): ``y = x W^T + b`` with ``W`` of shape ``(out_features, in_features)``.

Default initialisation (PyTorch's): ``kaiming_uniform_(weight, a=sqrt(5))``, which is
U(-1/sqrt(in_features), 1/sqrt(in_features)), and the bias U(-1/sqrt(in_features),
1/sqrt(in_features)): small enough that early activations neither vanish nor explode in a
shallow net (CS231n L6 on initialisation; use ``init.kaiming_normal_`` for deep ReLU nets).
"""

from __future__ import annotations

import math
from typing import Any

from ...creation import empty
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Linear"]


class Linear(Module):
    """``y = x W^T + b``: input ``(*, in_features)`` -> output ``(*, out_features)``.

    Parameters ``weight`` ``(out_features, in_features)`` and ``bias`` ``(out_features,)``
    (None with ``bias=False``); state_dict keys ``weight`` and ``bias``, as in PyTorch.

    >>> import gradschool as gs
    >>> from gradschool import nn
    >>> fc = nn.Linear(784, 10)
    >>> fc
    Linear(in_features=784, out_features=10, bias=True)
    >>> tuple(fc(gs.randn(32, 784)).shape)
    (32, 10)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Linear: {name} must be an int, got {value!r}")
            if value < 0:
                raise ValueError(f"Linear: {name} must be non-negative, got {value}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias U(-1/sqrt(in_features), 1/sqrt(in_features))."""
        # kaiming_uniform_ with a=sqrt(5): gain sqrt(2/6), bound gain*sqrt(3/fan_in) = 1/sqrt(fan_in)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"{self!r} expected a Tensor input, got {type(input).__name__}")
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            got = "a 0-d tensor" if input.ndim == 0 else f"{input.shape[-1]}"
            raise ValueError(
                f"{self!r} expected {self.in_features} input features, got {got} "
                f"(input shape {tuple(input.shape)}; features are the last dim)"
            )
        w = self.weight.data
        if input.data.dtype != w.dtype:
            raise TypeError(
                f"{self!r} has {w.dtype} parameters but the input is {input.data.dtype}; "
                f"convert the input (x.to(gs.{w.dtype.name})) or the layer "
                f"(.to(gs.{input.data.dtype.name}))"
            )
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
