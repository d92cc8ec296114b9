"""Recurrent layers one time step at a time, the way the course writes them (CS231n L10 and
assignment 3's ``rnn_step_forward`` / ``rnn_forward`` / ``lstm_step_forward``; CSC321
L14-L15).

A cell is a few lines of ordinary Tensor ops: two matrix products, the gate nonlinearities,
the state update. A layer is a Python loop that feeds each step's input and the previous
state to the cell. Backpropagation through time needs no code of its own: the loop builds
the unrolled graph, and autograd walks it backwards, from the last step to the first. These
are the references that ``rnn.py``'s fused layers are tested against: read them first.

Arguments and results are those of ``rnn_layer``, ``lstm_layer`` and ``gru_layer``:
packed rows (N, input_size) with ``batch_sizes[t]`` rows at step t, longest sequence first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...ops.arithmetic import relu, sigmoid, tanh
from ...ops.shape import cat, chunk
from ...tensor import Tensor
from .rnn import _check, _steps

__all__ = [
    "rnn_cell_naive",
    "lstm_cell_naive",
    "gru_cell_naive",
    "rnn_layer_naive",
    "lstm_layer_naive",
    "gru_layer_naive",
]


def _affine(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    return x @ w.T if b is None else x @ w.T + b


def rnn_cell_naive(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One step of a vanilla RNN: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_cell_naive: unknown nonlinearity {nonlinearity!r}")
    a = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    return relu(a) if nonlinearity == "relu" else tanh(a)


def lstm_cell_naive(
    x: Tensor,
    h: Tensor,
    c: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One step of an LSTM: ``(h_t, c_t)``.

    The four gates come from one affine map of ``x_t`` and ``h_{t-1}``: the input gate ``i``
    (how much to write), the forget gate ``f`` (how much of the old cell to keep), the
    candidate ``g`` and the output gate ``o``. The cell is updated additively, which is why
    gradients flow along it over many steps (CSC321 L15)."""
    a = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    i, f, g, o = chunk(a, 4, dim=1)
    i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
    c = f * c + i * g
    h = o * tanh(c)
    if w_hr is not None:
        h = h @ w_hr.T  # proj_size > 0: a smaller recurrent state (Sak et al. 2014)
    return h, c


def gru_cell_naive(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One step of a GRU (Cho et al. 2014), PyTorch's variant: the reset gate ``r`` scales
    ``W_hn h + b_hn`` after the product. ``z`` interpolates between the old state and the
    candidate ``n``."""
    xr, xz, xn = chunk(_affine(x, w_ih, b_ih), 3, dim=1)
    hr, hz, hn = chunk(_affine(h, w_hh, b_hh), 3, dim=1)
    r = sigmoid(xr + hr)
    z = sigmoid(xz + hz)
    n = tanh(xn + r * hn)
    return (1 - z) * n + z * h


def _unroll(
    step: Callable[..., tuple[Tensor, ...]],
    input: Tensor,  # noqa: A002
    batch_sizes: Any,
    states: tuple[Tensor, ...],
    reverse: bool,
) -> tuple[Tensor, ...]:
    """Run ``step(x_t, *states) -> states`` over the sequence; the output at t is the first
    state. Only the first ``batch_sizes[t]`` sequences take step t; the others keep their
    state, so each sequence ends with the state after its own last step."""
    outputs: list[Tensor] = []
    for s, n in _steps(batch_sizes, reverse):
        running = tuple(st[:n] for st in states)
        new = step(input[s : s + n], *running)
        states = tuple(
            cat([a, b[n:]]) if n < b.shape[0] else a for a, b in zip(new, states, strict=True)
        )
        outputs.append(new[0])
    if reverse:
        outputs.reverse()  # back into the input's row order
    return (cat(outputs), *states)


def rnn_layer_naive(
    input: Tensor,  # noqa: A002
    batch_sizes: Any,
    hx: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """``rnn_layer`` as a loop over ``rnn_cell_naive``: ``(output, h_n)``."""
    states = [("hx", hx, weight_hh.shape[0])]
    _check("rnn_layer_naive", input, batch_sizes, states, weight_ih, weight_hh, bias_ih, bias_hh, 1)

    def step(x: Tensor, h: Tensor) -> tuple[Tensor]:
        return (rnn_cell_naive(x, h, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity),)

    out, h = _unroll(step, input, batch_sizes, (hx,), reverse)
    return out, h


def lstm_layer_naive(
    input: Tensor,  # noqa: A002
    batch_sizes: Any,
    hx: Tensor,
    cx: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    weight_hr: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """``lstm_layer`` as a loop over ``lstm_cell_naive``: ``(output, h_n, c_n)``."""
    hidden = weight_hh.shape[0] // 4
    proj = hidden if weight_hr is None else weight_hr.shape[0]
    states = [("hx", hx, proj), ("cx", cx, hidden)]
    _check(
        "lstm_layer_naive", input, batch_sizes, states, weight_ih, weight_hh, bias_ih, bias_hh, 4
    )

    def step(x: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        return lstm_cell_naive(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr)

    out, h, c = _unroll(step, input, batch_sizes, (hx, cx), reverse)
    return out, h, c


def gru_layer_naive(
    input: Tensor,  # noqa: A002
    batch_sizes: Any,
    hx: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """``gru_layer`` as a loop over ``gru_cell_naive``: ``(output, h_n)``."""
    states = [("hx", hx, weight_hh.shape[0] // 3)]
    _check("gru_layer_naive", input, batch_sizes, states, weight_ih, weight_hh, bias_ih, bias_hh, 3)

    def step(x: Tensor, h: Tensor) -> tuple[Tensor]:
        return (gru_cell_naive(x, h, weight_ih, weight_hh, bias_ih, bias_hh),)

    out, h = _unroll(step, input, batch_sizes, (hx,), reverse)
    return out, h
