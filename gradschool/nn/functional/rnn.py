"""Recurrent layers over a whole sequence: the vanilla RNN, the LSTM and the GRU (CS231n L10
"Recurrent neural networks" and assignment 3's ``rnn_layers.py``; CSC321 L14-L15).

A recurrent layer applies one cell at every time step and carries a hidden state ``h`` (and,
in an LSTM, a cell state ``c``) from each step to the next. With PyTorch's weights ``W_ih``
(gates x input), ``W_hh`` (gates x hidden) and biases ``b_ih``, ``b_hh``, the cells are

    RNN   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)           (or relu)

    LSTM  i, f, g, o = split(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)  (PyTorch's gate order)
          c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
          h_t = sigmoid(o) * tanh(c_t)             proj_size > 0:  h_t = W_hr h_t

    GRU   r = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)         (gate order r, z, n)
          z = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
          n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))
          h_t = (1 - z) * n + z * h_{t-1}

Backpropagation through time is backprop on that graph unrolled over the steps: the gradient
reaching ``h_{t-1}`` is what flows back through step t's cell plus what the output at t-1
received. ``rnn_naive.py`` writes exactly this, one step at a time with Tensor ops, and lets
autograd derive the backward: read it first. This file computes the same numbers faster,
with one ``Function`` per layer and direction and a hand-written backward on arrays:

- the input projection ``W_ih x_t + b`` of all T steps is one GEMM before the loop, since
  only ``W_hh h_{t-1}`` depends on the previous step;
- a step's gates are one GEMM into the (n, 4H) block plus a few in-place elementwise passes;
- the backward walks the steps in reverse keeping each step's gate gradients ``dA``; the
  weight gradients are then one GEMM each over all steps (``dW_ih = dA^T X``,
  ``dW_hh = dA^T H_prev``), and so is the input gradient (``dX = dA W_ih``).

Sequences come as *packed rows* (``nn.utils.rnn.PackedSequence``'s layout): the inputs of
step t are the ``batch_sizes[t]`` rows after the previous steps' rows in an (N, input_size)
array, sequences sorted longest first, so at step t only the first ``batch_sizes[t]`` are
still running. A padded (T, B, I) batch is the case ``batch_sizes = [B] * T``. A sequence's
final state is its state after its own last step; the reverse direction starts each sequence
at its own last element, from h0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...autograd.function import Function
from ...backend.device import get_array_module
from ...tensor import Tensor

__all__ = ["rnn_layer", "lstm_layer", "gru_layer"]


def _sigmoid_(a: Any) -> None:
    """sigmoid in place, as 0.5 * tanh(0.5 a) + 0.5: the same function, never overflows."""
    a *= 0.5
    get_array_module(a).tanh(a, out=a)
    a *= 0.5
    a += 0.5


class _States:
    """A layer's final states. A Function has one output (the sequence of hidden states), so
    ``h_n`` and ``c_n`` leave through this box, read by ``_FinalState``, and their gradients
    come back through it (``dh``, ``dc``) to the layer's backward."""

    __slots__ = ("h", "c", "dh", "dc", "zero")

    def __init__(self) -> None:
        self.h = self.c = self.dh = self.dc = self.zero = None


class _FinalState(Function):
    """``h_n`` (``which="h"``) or ``c_n`` of the layer that made ``output``."""

    op_name = "rnn"

    def forward(self, output: Any, box: _States, which: str) -> Any:
        self.box, self.which, self.shape = box, which, output.shape
        return getattr(box, which)

    def backward(self, g: Any) -> tuple[Any]:
        key = "d" + self.which
        old = getattr(self.box, key)
        setattr(self.box, key, g if old is None else old + g)
        # the layer must run its backward even when its output got no other gradient, so
        # it is handed a zero gradient that costs no memory (and that it recognises); once
        # per backward pass, so h_n and c_n do not make the engine add two of them up
        if self.box.zero is not None:
            return (None,)
        xp = get_array_module(g)
        self.box.zero = xp.broadcast_to(xp.zeros((), g.dtype), self.shape)
        return (self.box.zero,)


def _output_grad(box: _States, g: Any) -> Any:
    """The gradient of the layer's output: None when only the final states sent one."""
    zero, box.zero = box.zero, None
    return None if g is zero else g


def _start_grad(box: _States, key: str, like: Any) -> Any:
    """The gradient of a final state (zeros if it got none), taken out of the box."""
    g = getattr(box, key)
    setattr(box, key, None)
    xp = get_array_module(like)
    return xp.zeros_like(like) if g is None else xp.array(g, dtype=like.dtype)


def _weight_grads(fn: Function, dA: Any, x: Any, h_prev: Any, dA_hh: Any, w_ih: Any) -> list:
    """``dX, dW_ih, dW_hh, db_ih, db_hh`` from every step's gate gradients: one GEMM each."""
    need = fn.needs_input_grad
    k = fn.first_weight  # the position of w_ih among the Function's inputs
    return [
        dA @ w_ih if need[0] else None,
        dA.T @ x if need[k] else None,
        dA_hh.T @ h_prev if need[k + 1] else None,
        dA.sum(axis=0) if need[k + 2] else None,
        dA_hh.sum(axis=0) if need[k + 3] else None,
    ]


class RNNLayer(Function):
    """One direction of one Elman RNN layer over packed rows: ``h_t = tanh(...)`` or relu."""

    op_name = "rnn"
    first_weight = 2

    def forward(
        self,
        x: Any,
        h0: Any,
        w_ih: Any,
        w_hh: Any,
        b_ih: Any,
        b_hh: Any,
        *,
        steps: Any,
        relu: bool,
        box: _States,
    ) -> Any:
        xp = get_array_module(x)
        out = x @ w_ih.T  # W_ih x_t of every step; each row becomes h_t in place below
        if b_ih is not None:
            out += b_ih + b_hh
        h, h_prev = h0.copy(), xp.empty_like(out)
        for s, n in steps:
            a = out[s : s + n]
            h_prev[s : s + n] = h[:n]
            a += h[:n] @ w_hh.T
            if relu:
                xp.maximum(a, 0, out=a)
            else:
                xp.tanh(a, out=a)
            h[:n] = a
        self.saved = (x, w_ih, w_hh, out, h_prev)
        self.steps, self.relu, self.box, box.h = steps, relu, box, h
        return out

    def backward(self, g: Any) -> tuple[Any, ...]:
        x, w_ih, w_hh, y, h_prev = self.saved
        dy = _output_grad(self.box, g)
        dh = _start_grad(self.box, "dh", self.box.h)
        dA = get_array_module(g).empty_like(y)
        for s, n in reversed(self.steps):
            d = dh[:n]
            if dy is not None:
                d += dy[s : s + n]  # the output's gradient plus the next step's
            yt = y[s : s + n]
            d *= (yt > 0) if self.relu else (1 - yt * yt)  # relu' or tanh' = 1 - tanh^2
            dA[s : s + n] = d
            dh[:n] = d @ w_hh  # dh_{t-1}
        dx, dw_ih, dw_hh, db_ih, db_hh = _weight_grads(self, dA, x, h_prev, dA, w_ih)
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh


class LSTMLayer(Function):
    """One direction of one LSTM layer over packed rows (gates i, f, g, o; optional W_hr)."""

    op_name = "lstm"
    first_weight = 3

    def forward(
        self,
        x: Any,
        h0: Any,
        c0: Any,
        w_ih: Any,
        w_hh: Any,
        b_ih: Any,
        b_hh: Any,
        w_hr: Any,
        *,
        steps: Any,
        box: _States,
    ) -> Any:
        xp, H = get_array_module(x), c0.shape[1]
        gates = x @ w_ih.T  # (N, 4H): W_ih x_t of every step at once
        if b_ih is not None:
            gates += b_ih + b_hh
        n_rows, dt = x.shape[0], x.dtype
        h, c = h0.copy(), c0.copy()  # row b: sequence b's state so far
        out = xp.empty((n_rows, h0.shape[1]), dt)
        h_prev, c_prev = xp.empty_like(out), xp.empty((n_rows, H), dt)
        tanh_c = xp.empty((n_rows, H), dt)
        h_full = None if w_hr is None else xp.empty((n_rows, H), dt)  # h_t before W_hr
        for s, n in steps:
            rows = slice(s, s + n)
            h_prev[rows], c_prev[rows] = h[:n], c[:n]
            a = gates[rows]
            a += h[:n] @ w_hh.T
            _sigmoid_(a[:, : 2 * H])  # i, f
            xp.tanh(a[:, 2 * H : 3 * H], out=a[:, 2 * H : 3 * H])  # g
            _sigmoid_(a[:, 3 * H :])  # o
            i, f, gg, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            ct = c[:n]
            ct *= f
            ct += i * gg  # c_t = f c_{t-1} + i g
            tc = xp.tanh(ct, out=tanh_c[rows])
            if w_hr is None:
                h[:n] = xp.multiply(o, tc, out=out[rows])  # h_t = o tanh(c_t)
            else:
                xp.multiply(o, tc, out=h_full[rows])
                h[:n] = out[rows] = h_full[rows] @ w_hr.T  # the projection r_t = W_hr h_t
        self.saved = (x, w_ih, w_hh, w_hr, gates, h_prev, c_prev, tanh_c, h_full)
        self.steps, self.box, box.h, box.c = steps, box, h, c
        return out

    def backward(self, g: Any) -> tuple[Any, ...]:
        x, w_ih, w_hh, w_hr, gates, h_prev, c_prev, tanh_c, h_full = self.saved
        xp, H = get_array_module(g), tanh_c.shape[1]
        dy = _output_grad(self.box, g)
        dh = _start_grad(self.box, "dh", self.box.h)
        dc = _start_grad(self.box, "dc", self.box.c)
        dA = xp.empty_like(gates)  # dLoss/d(pre-activation gates), every step
        dr = None if w_hr is None else xp.empty((x.shape[0], w_hr.shape[0]), x.dtype)
        for s, n in reversed(self.steps):
            rows = slice(s, s + n)
            dht = dh[:n]
            if dy is not None:
                dht += dy[rows]  # the output's gradient plus the next step's
            if w_hr is not None:
                dr[rows] = dht
                dht = dht @ w_hr
            a, d, tc = gates[rows], dA[rows], tanh_c[rows]
            i, f, gg, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            dct = dc[:n]
            dct += dht * o * (1 - tc * tc)  # through h_t = o tanh(c_t)
            d[:, :H] = dct * gg * i * (1 - i)  # sigmoid' = s (1 - s)
            d[:, H : 2 * H] = dct * c_prev[rows] * f * (1 - f)
            d[:, 2 * H : 3 * H] = dct * i * (1 - gg * gg)  # tanh' = 1 - tanh^2
            d[:, 3 * H :] = dht * tc * o * (1 - o)
            dct *= f  # dc_{t-1}
            dh[:n] = d @ w_hh  # dh_{t-1}
        dx, dw_ih, dw_hh, db_ih, db_hh = _weight_grads(self, dA, x, h_prev, dA, w_ih)
        dw_hr = dr.T @ h_full if w_hr is not None and self.needs_input_grad[7] else None
        return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh, dw_hr


class GRULayer(Function):
    """One direction of one GRU layer over packed rows (gates r, z, n as in PyTorch)."""

    op_name = "gru"
    first_weight = 2

    def forward(
        self,
        x: Any,
        h0: Any,
        w_ih: Any,
        w_hh: Any,
        b_ih: Any,
        b_hh: Any,
        *,
        steps: Any,
        box: _States,
    ) -> Any:
        xp, H = get_array_module(x), h0.shape[1]
        gates = x @ w_ih.T  # (N, 3H): W_ih x_t + b_ih of every step; becomes r, z, n
        if b_ih is not None:
            gates += b_ih
        h = h0.copy()
        out = xp.empty((x.shape[0], H), x.dtype)
        h_prev = xp.empty_like(out)
        hn = xp.empty_like(out)  # W_hn h_{t-1} + b_hn, which r multiplies
        for s, n in steps:
            rows, hp = slice(s, s + n), h[:n]
            h_prev[rows] = hp
            gh = hp @ w_hh.T
            if b_hh is not None:
                gh += b_hh
            a = gates[rows]
            a[:, : 2 * H] += gh[:, : 2 * H]
            _sigmoid_(a[:, : 2 * H])
            r, z, nt = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
            hn[rows] = gh[:, 2 * H :]
            nt += r * gh[:, 2 * H :]
            xp.tanh(nt, out=nt)
            ht = xp.subtract(hp, nt, out=out[rows])
            ht *= z
            ht += nt  # (1 - z) n + z h_{t-1} = n + z (h_{t-1} - n)
            h[:n] = ht
        self.saved = (x, w_ih, w_hh, gates, h_prev, hn)
        self.steps, self.box, box.h = steps, box, h
        return out

    def backward(self, g: Any) -> tuple[Any, ...]:
        x, w_ih, w_hh, gates, h_prev, hn = self.saved
        xp, H = get_array_module(g), hn.shape[1]
        dy = _output_grad(self.box, g)
        dh = _start_grad(self.box, "dh", self.box.h)
        dA, dA_hh = xp.empty_like(gates), xp.empty_like(gates)  # into W_ih x and W_hh h
        for s, n in reversed(self.steps):
            rows = slice(s, s + n)
            dht = dh[:n]
            if dy is not None:
                dht += dy[rows]
            a, d, dhh = gates[rows], dA[rows], dA_hh[rows]
            r, z, nt = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
            dn = dht * (1 - z) * (1 - nt * nt)  # through n = tanh(.)
            d[:, 2 * H :] = dn
            dhh[:, 2 * H :] = dn * r
            d[:, :H] = dn * hn[rows] * r * (1 - r)
            d[:, H : 2 * H] = dht * (h_prev[rows] - nt) * z * (1 - z)
            dhh[:, : 2 * H] = d[:, : 2 * H]
            dh[:n] = dht * z + dhh @ w_hh
        dx, dw_ih, dw_hh, db_ih, db_hh = _weight_grads(self, dA, x, h_prev, dA_hh, w_ih)
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh


# ---------------------------------------------------------------- public functions
Steps = tuple[tuple[int, int], ...]


def _steps(batch_sizes: Any, reverse: bool) -> Steps:
    """``(first row, rows)`` of each step, in the order the layer visits them."""
    sizes = [int(b) for b in np.asarray(getattr(batch_sizes, "data", batch_sizes)).reshape(-1)]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist() if sizes else []
    steps = tuple(zip(starts, sizes, strict=True))
    return steps[::-1] if reverse else steps


def _check(
    op: str, x: Tensor, batch_sizes: Any, states: Sequence[tuple[str, Any, int]],
    w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None, gates: int,
) -> None:  # fmt: skip
    """The errors a direct caller sees (the layer classes check their own arguments first):
    ``states`` are ``(name, tensor, columns)``, h0 first."""
    for name, t in (
        ("input", x),
        ("weight_ih", w_ih),
        ("weight_hh", w_hh),
        *(s[:2] for s in states),
    ):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if x.ndim != 2:
        raise ValueError(f"{op}: expected packed rows (N, input_size), got shape {x.shape}")
    hidden = w_hh.shape[0] // gates
    if w_ih.shape != (gates * hidden, x.shape[1]) or w_hh.shape != (gates * hidden, states[0][2]):
        raise ValueError(
            f"{op}: weights of shapes {w_ih.shape} and {w_hh.shape} do not fit an input of "
            f"{x.shape[1]} features (expected ({gates} * hidden_size, {x.shape[1]}) and "
            f"({gates} * hidden_size, {states[0][2]}))"
        )
    sizes = [b for _, b in _steps(batch_sizes, False)]
    empty_batch = bool(sizes) and not any(sizes)  # (T, 0, I): PyTorch returns empty results
    if not sizes or sizes != sorted(sizes, reverse=True) or (min(sizes) <= 0 and not empty_batch):
        raise ValueError(f"{op}: batch_sizes must be positive and non-increasing, got {sizes}")
    if sum(sizes) != x.shape[0]:
        raise ValueError(f"{op}: batch_sizes sum to {sum(sizes)}; the input has {x.shape[0]} rows")
    for name, t, size in states:
        if t.shape != (sizes[0], size):
            raise ValueError(f"{op}: expected {name} of shape {(sizes[0], size)}, got {t.shape}")
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{op}: pass both bias_ih and bias_hh, or neither")
    for t in (w_hh, b_ih, b_hh, *(s[1] for s in states)):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(f"{op}: input is {x.dtype} but a weight or state is {t.dtype}")


def rnn_layer(
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
    """One direction of one Elman RNN layer: ``(output, h_n)``.

    ``input`` holds packed rows (N, input_size) with ``batch_sizes`` rows per step (a padded
    (T, B, I) batch reshaped to (T * B, I) with ``[B] * T``); ``hx`` is h0, (batch_sizes[0],
    hidden_size); ``output`` is (N, hidden_size) in the same rows; ``reverse`` runs the steps
    from last to first.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_layer: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
    H = weight_hh.shape[-1]
    _check(
        "rnn_layer", input, batch_sizes, [("hx", hx, H)], weight_ih, weight_hh, bias_ih, bias_hh, 1
    )
    box = _States()
    steps, relu = _steps(batch_sizes, reverse), nonlinearity == "relu"
    out = RNNLayer.apply(
        input, hx, weight_ih, weight_hh, bias_ih, bias_hh, steps=steps, relu=relu, box=box
    )
    return out, _FinalState.apply(out, box, "h")


def lstm_layer(
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
    """One direction of one LSTM layer: ``(output, h_n, c_n)``. As ``rnn_layer``, plus the
    cell state ``cx`` (batch_sizes[0], hidden_size) and, with ``proj_size > 0``, the projection
    ``weight_hr`` (proj_size, hidden_size): then ``hx``, ``output`` and ``h_n`` have proj_size
    columns."""
    H = weight_hh.shape[0] // 4
    P = H if weight_hr is None else weight_hr.shape[0]
    states = [("hx", hx, P), ("cx", cx, H)]
    _check("lstm_layer", input, batch_sizes, states, weight_ih, weight_hh, bias_ih, bias_hh, 4)
    if weight_hr is not None and weight_hr.shape != (P, H):
        raise ValueError(
            f"lstm_layer: weight_hr of shape {weight_hr.shape} is not (proj_size, {H})"
        )
    box = _States()
    steps = _steps(batch_sizes, reverse)
    out = LSTMLayer.apply(
        input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, steps=steps, box=box
    )
    return out, _FinalState.apply(out, box, "h"), _FinalState.apply(out, box, "c")


def gru_layer(
    input: Tensor,  # noqa: A002
    batch_sizes: Any,
    hx: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One direction of one GRU layer: ``(output, h_n)``; arguments as ``rnn_layer``."""
    H = weight_hh.shape[-1]
    _check(
        "gru_layer", input, batch_sizes, [("hx", hx, H)], weight_ih, weight_hh, bias_ih, bias_hh, 3
    )
    box = _States()
    steps = _steps(batch_sizes, reverse)
    out = GRULayer.apply(input, hx, weight_ih, weight_hh, bias_ih, bias_hh, steps=steps, box=box)
    return out, _FinalState.apply(out, box, "h")
