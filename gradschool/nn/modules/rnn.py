"""Recurrent layer classes: ``RNN``, ``LSTM``, ``GRU`` and the single-step ``RNNCell``,
``LSTMCell``, ``GRUCell`` (CS231n L10; CSC321 L14-L15), PyTorch's in every name, argument,
shape and state_dict key, so a PyTorch state_dict loads by name.

A layer stacks ``num_layers`` recurrent layers, each over the whole sequence (the next one
reads the previous one's outputs, with ``dropout`` between them in training mode), each
optionally ``bidirectional`` (a second pass from the last step to the first, its outputs
concatenated to the first's). Layer k, direction ``_reverse``, holds ``weight_ih_l{k}``
(gates * hidden_size, input), ``weight_hh_l{k}`` (gates * hidden_size, hidden), the biases
``bias_ih_l{k}`` and ``bias_hh_l{k}``, and for an LSTM with ``proj_size > 0`` the projection
``weight_hr_l{k}`` (proj_size, hidden_size); gates is 1, 4 (i, f, g, o) or 3 (r, z, n).
Every weight starts U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch.

The single-step cells are in ``rnn_cell.py``. The input is (T, B, input_size) (``batch_first``: (B, T, input_size)), an unbatched
(T, input_size), or a ``nn.utils.rnn.PackedSequence``; the result is ``(output, h_n)``
(``(output, (h_n, c_n))`` for an LSTM) with h_n of shape (num_layers * directions, B, H).
The maths is in ``nn.functional.rnn`` (and its step-by-step twin ``rnn_naive``).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from ...creation import empty, zeros
from ...ops.index import index_select
from ...ops.shape import cat, stack, unbind
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _layer_fns(naive: bool) -> dict[str, Any]:
    """The function that runs one layer in one direction, per mode: the fused ones, or the
    step-by-step references (for tests and for reading)."""
    sfx = "_naive" if naive else ""
    rnn = getattr(F, "rnn_layer" + sfx)
    return {
        "RNN_TANH": lambda *a, **k: rnn(*a, nonlinearity="tanh", **k),
        "RNN_RELU": lambda *a, **k: rnn(*a, nonlinearity="relu", **k),
        "LSTM": getattr(F, "lstm_layer" + sfx),
        "GRU": getattr(F, "gru_layer" + sfx),
    }


def _check_size(name: str, what: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: {what} should be of type int, got: {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: {what} must be greater than zero, got {value}")


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters, their checks and the loop
    over layers and directions. ``mode`` is ``"RNN_TANH"``, ``"RNN_RELU"``, ``"LSTM"`` or
    ``"GRU"``."""

    naive: bool = False  # True: every layer and cell runs the references of rnn_naive instead

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: Unrecognized RNN mode: {mode}")
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1  # type: ignore[operator]
        ):
            raise ValueError(
                f"{name}: dropout should be a number in range [0, 1] representing the "
                f"probability of an element being zeroed, got {dropout!r}"
            )
        if dropout > 0 and num_layers == 1:  # type: ignore[operator]
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )
        for what, flag in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(flag, bool):
                raise TypeError(
                    f"{name}: {what} should be of type bool, got: {type(flag).__name__}"
                )
        _check_size(name, "input_size", input_size, 1)
        _check_size(name, "hidden_size", hidden_size, 1)
        _check_size(name, "num_layers", num_layers, 1)
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(
                f"{name}: proj_size should be a positive integer or zero to disable "
                f"projections, got {proj_size!r}"
            )
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError(
                f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU"
            )
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        gate_size, real_hidden = _GATES[mode] * hidden_size, proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                shapes = {
                    "weight_ih": (gate_size, layer_input),
                    "weight_hh": (gate_size, real_hidden),
                }
                if bias:
                    shapes |= {"bias_ih": (gate_size,), "bias_hh": (gate_size,)}
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for key, shape in shapes.items():
                    names.append(f"{key}_l{layer}{'_reverse' if direction else ''}")
                    setattr(self, names[-1], Parameter(empty(*shape, dtype=dtype, device=device)))
                self._flat_weights_names += names
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op, as PyTorch's is off cuDNN (kept so PyTorch scripts run unchanged)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        for key, default in (("num_layers", 1), ("bias", True), ("batch_first", False)):
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ----------------------------------------------------------------- forward
    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:  # noqa: A002
        name, lstm = type(self).__name__, self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        if packed:
            x, batch_sizes, sorted_indices, unsorted_indices = input
            if x.ndim != 2:
                raise ValueError(f"{name}: input must have 2 dimensions, got {x.ndim}")
            batch_sizes = np.asarray(batch_sizes.data).astype(np.int64)
            batch, steps, unbatched = int(batch_sizes[0]), len(batch_sizes), False
        else:
            if not isinstance(input, Tensor):
                raise TypeError(
                    f"{name}: expected a Tensor or a PackedSequence, got {type(input).__name__}"
                )
            if input.ndim not in (2, 3):
                raise ValueError(
                    f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead "
                    f"(input shape {input.shape})"
                )
            unbatched, sorted_indices = input.ndim == 2, None
            x = input.unsqueeze(0 if self.batch_first else 1) if unbatched else input
            if self.batch_first:
                x = x.transpose(0, 1)  # time-major: step t's rows are consecutive
            steps, batch = x.shape[0], x.shape[1]
            x = x.reshape(steps * batch, x.shape[2])
            batch_sizes = np.full(steps, batch, np.int64)
        self._check_input(x)
        h0, c0 = self._initial_states(hx, x, batch, unbatched)
        if sorted_indices is not None:  # the caller's batch order -> longest first
            h0 = index_select(h0, 1, sorted_indices)
            c0 = None if c0 is None else index_select(c0, 1, sorted_indices)
        out, h_n, c_n = self._layers(x, batch_sizes, h0, c0)
        if packed:
            if unsorted_indices is not None:
                h_n = index_select(h_n, 1, unsorted_indices)
                c_n = None if c_n is None else index_select(c_n, 1, unsorted_indices)
            output: Any = PackedSequence(out, input.batch_sizes, sorted_indices, unsorted_indices)
        else:
            output = out.reshape(steps, batch, out.shape[1])
            if self.batch_first:
                output = output.transpose(0, 1)
            if unbatched:
                output = output.squeeze(0 if self.batch_first else 1)
                h_n = h_n.squeeze(1)
                c_n = None if c_n is None else c_n.squeeze(1)
        return output, ((h_n, c_n) if lstm else h_n)

    def _check_input(self, x: Tensor) -> None:
        name, w = type(self).__name__, self.weight_ih_l0
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {x.shape[-1]}"
            )
        if x.dtype != w.dtype:
            raise ValueError(
                f"{name}: input dtype ({x.dtype}) does not match weight dtype ({w.dtype}). "
                f"Convert input: input.to({w.dtype}), or convert model: model.to({x.dtype})"
            )

    def _initial_states(
        self, hx: Any, x: Tensor, batch: int, unbatched: bool
    ) -> tuple[Tensor, Tensor | None]:
        """h0 (and c0): zeros when ``hx`` is None, else checked against PyTorch's shapes."""
        name, lstm = type(self).__name__, self.mode == "LSTM"
        layers = self.num_layers * (2 if self.bidirectional else 1)
        shape_h = (layers, batch, self.proj_size or self.hidden_size)
        shape_c = (layers, batch, self.hidden_size)
        if hx is None:
            h0 = zeros(*shape_h, dtype=x.dtype, device=x.device)
            return h0, (zeros(*shape_c, dtype=x.dtype, device=x.device) if lstm else None)
        states = tuple(hx) if lstm and isinstance(hx, (tuple, list)) else (hx,)
        if len(states) != (2 if lstm else 1) or not all(isinstance(s, Tensor) for s in states):
            want = "a tuple (h0, c0) of Tensors" if lstm else "a Tensor"
            raise TypeError(f"{name}: hx must be {want}, got {type(hx).__name__}")
        rank = 2 if unbatched else 3
        if any(s.ndim != rank for s in states):
            what = "hx and cx" if lstm else "hx"
            dims = ", ".join(f"{s.ndim}-D" for s in states)
            kind = "unbatched 2-D" if unbatched else "batched 3-D"
            raise ValueError(
                f"{name}: For {kind} input, {what} should also be {rank}-D but got ({dims}) tensors"
            )
        if unbatched:
            states = tuple(s.unsqueeze(1) for s in states)
        for i, (s, shape) in enumerate(zip(states, (shape_h, shape_c), strict=False)):
            if s.shape != shape:
                label = f"hidden[{i}]" if lstm else "hidden"
                raise ValueError(f"{name}: Expected {label} size {shape}, got {list(s.shape)}")
            if s.dtype != x.dtype:
                raise ValueError(f"{name}: hx is {s.dtype} but the input is {x.dtype}")
        return states[0], (states[1] if lstm else None)

    def _layers(
        self, x: Tensor, batch_sizes: Any, h0: Tensor, c0: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Run every layer and direction over the packed rows ``x``: (output, h_n, c_n)."""
        run = _layer_fns(self.naive)[self.mode]
        directions = 2 if self.bidirectional else 1
        h0s, c0s = unbind(h0, 0), (None if c0 is None else unbind(c0, 0))
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                sfx = f"_l{layer}{'_reverse' if direction else ''}"
                w = [
                    getattr(self, key + sfx, None)
                    for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                ]
                states = (h0s[k],) if c0s is None else (h0s[k], c0s[k])
                extra = {} if c0s is None else {"weight_hr": getattr(self, "weight_hr" + sfx, None)}
                out, *final = run(x, batch_sizes, *states, *w, reverse=bool(direction), **extra)
                outs.append(out)
                h_n.append(final[0])
                if c0s is not None:
                    c_n.append(final[1])
            x = outs[0] if directions == 1 else cat(outs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)  # between layers, not after the last
        return x, stack(h_n), (stack(c_n) if c_n else None)


class RNN(RNNBase):
    """An Elman RNN, ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (``nonlinearity=
    "relu"``: relu), over a sequence; ``(output, h_n)``.

    >>> import gradschool as gs
    >>> from gradschool import nn
    >>> rnn = nn.RNN(10, 20, num_layers=2)
    >>> output, h_n = rnn(gs.randn(5, 3, 10))
    >>> tuple(output.shape), tuple(h_n.shape)
    ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
            num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype,
        )  # fmt: skip
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """A long short-term memory layer (Hochreiter & Schmidhuber 1997) over a sequence;
    ``(output, (h_n, c_n))``. With ``proj_size > 0`` the hidden state is projected to
    proj_size by ``weight_hr_l{k}`` (h_n and output have proj_size columns, c_n hidden_size).

    >>> import gradschool as gs
    >>> from gradschool import nn
    >>> lstm = nn.LSTM(10, 20, batch_first=True)
    >>> output, (h_n, c_n) = lstm(gs.randn(3, 5, 10))
    >>> tuple(output.shape), tuple(h_n.shape), tuple(c_n.shape)
    ((3, 5, 20), (1, 3, 20), (1, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, proj_size, device, dtype,
        )  # fmt: skip


class GRU(RNNBase):
    """A gated recurrent unit layer (Cho et al. 2014) over a sequence; ``(output, h_n)``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, 0, device, dtype,
        )  # fmt: skip
