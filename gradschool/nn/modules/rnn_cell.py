"""The recurrent cells ``RNNCell``, ``LSTMCell`` and ``GRUCell``: one time step of ``RNN``,
``LSTM`` and ``GRU`` (CS231n L10 and assignment 3's ``rnn_step_forward``; CSC321 L14-L15), for
loops the caller writes (a decoder feeding back its own samples, attention). PyTorch's
arguments, shapes and parameters: ``weight_ih`` (gates * hidden_size, input_size),
``weight_hh`` (gates * hidden_size, hidden_size), ``bias_ih`` and ``bias_hh``, all
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)); inputs (B, input_size) or unbatched
(input_size,); a missing ``hx`` is zeros. A cell runs the layer functions of
``nn.functional.rnn`` over one step.
"""

from __future__ import annotations

import math
from typing import Any

from ...creation import empty, zeros
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .rnn import RNNBase, _check_size

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` (gates * hidden_size, input_size), ``weight_hh``
    (gates * hidden_size, hidden_size), ``bias_ih``, ``bias_hh``; U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        name = type(self).__name__
        _check_size(name, "input_size", input_size, 1)
        _check_size(name, "hidden_size", hidden_size, 1)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(gates, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(gates, hidden_size, dtype=dtype, device=device))
        for key in ("bias_ih", "bias_hh"):
            p = Parameter(empty(gates, dtype=dtype, device=device)) if bias else None
            self.register_parameter(key, p)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step_args(self, input: Tensor, hx: Any, count: int) -> tuple[Tensor, list[Tensor], bool]:  # noqa: A002
        """The input as (B, input_size), the ``count`` states as (B, hidden_size) (zeros when
        ``hx`` is None), and whether the input was unbatched; PyTorch's checks."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.input_size:
            raise ValueError(
                f"{name}: input has inconsistent input_size: got {x.shape[1]} expected {self.input_size}"
            )
        if x.dtype != self.weight_ih.dtype:
            raise ValueError(
                f"{name}: input dtype ({x.dtype}) does not match weight dtype ({self.weight_ih.dtype})"
            )
        if hx is None:
            zero = zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
            return x, [zero] * count, unbatched
        states = list(hx) if count > 1 and isinstance(hx, (tuple, list)) else [hx]
        if len(states) != count or not all(isinstance(s, Tensor) for s in states):
            raise TypeError(
                f"{name}: hx must be {'a tuple (h, c) of Tensors' if count > 1 else 'a Tensor'}"
            )
        for i, s in enumerate(states):
            label = f"hx[{i}]" if count > 1 else "hidden"
            if s.ndim != input.ndim:
                raise ValueError(
                    f"{name}: Expected {label} to be {input.ndim}D like the input, got {s.ndim}D instead"
                )
            s2 = s.unsqueeze(0) if unbatched else s
            if s2.shape[0] != x.shape[0]:
                raise ValueError(
                    f"{name}: Input batch size {x.shape[0]} doesn't match hidden{i} batch size {s2.shape[0]}"
                )
            if s2.shape[1] != self.hidden_size:
                raise ValueError(
                    f"{name}: hidden{i} has inconsistent hidden_size: got {s2.shape[1]}, expected {self.hidden_size}"
                )
            states[i] = s2
        return x, states, unbatched

    def _weights(self) -> tuple[Any, ...]:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or relu)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), unbatched = self._step_args(input, hx, 1)
        fn = F.rnn_layer_naive if RNNBase.naive else F.rnn_layer
        h, _ = fn(x, [x.shape[0]], h, *self._weights(), nonlinearity=self.nonlinearity)
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One step of an LSTM: ``(h', c')`` from ``x`` and ``(h, c)``."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True,
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        x, (h, c), unbatched = self._step_args(input, hx, 2)
        fn = F.lstm_layer_naive if RNNBase.naive else F.lstm_layer
        h, _, c = fn(x, [x.shape[0]], h, c, *self._weights())  # one step: output = h_n
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One step of a GRU: ``h'`` from ``x`` and ``h``."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True,
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), unbatched = self._step_args(input, hx, 1)
        fn = F.gru_layer_naive if RNNBase.naive else F.gru_layer
        h, _ = fn(x, [x.shape[0]], h, *self._weights())
        return h.squeeze(0) if unbatched else h
