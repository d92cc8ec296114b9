"""Layer rows for the recurrent layers: ``RNN`` (tanh, relu), ``LSTM`` (with and without
``proj_size``), ``GRU``, the cells ``RNNCell`` (tanh, relu), ``LSTMCell``, ``GRUCell``, and the
packing utilities of ``nn.utils.rnn``, against their PyTorch twins.

A layer case draws a configuration -- 1-3 layers, one or two directions, ``batch_first``,
bias or not, an LSTM's ``proj_size``, h0 (and c0) given or zeros, train mode (dropout 0) or
eval mode (dropout between layers, which eval switches off) -- and an input: a padded
batch (sometimes of 0 sequences), an unbatched sequence, or a packed batch of random
lengths (1 to T: PyTorch refuses 0), sorted (``enforce_sorted=True``) or not, packed from
a padded tensor or from a list (``pack_sequence``). The input, h0 and c0 come in any of
``check``'s memory layouts. Both modules get the same random weights (U(-1, 1) by
state_dict); outputs (a packed output's data, batch sizes and permutations, or its padded
form with a ``total_length`` and ``padding_value``), h_n and c_n are compared, then a
random cotangent on a random non-empty subset of them (many-to-one: h_n alone) is
backpropagated through both, and every gradient compared: input, h0, c0, each parameter.

A cell case runs 1-3 steps, feeding each step's state to the next (a decoder's loop).

The relu RNN has a kink at 0: a pre-activation within float32 rounding of 0 would take
the other branch on one side. The case's pre-activations are computed in float64 here
(``relu_margin``, the layer's recurrence written out) and the arrays are drawn again
until every one is at least ``MARGIN`` from 0; tolerances stay the layers' own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.utils.rnn as TR
from hypothesis import strategies as st

import gradschool as gs
import gradschool.nn as nn
import gradschool.nn.utils.rnn as R
from tests.fuzz.check import Case, compare, compare_leaves, layout_for, make_input
from tests.fuzz.layers import _compare_params

MARGIN = 1e-3  # |pre-activation| of a relu RNN, far above float32 rounding (~1e-6 here)
KINDS = {  # target name: (class, its extra constructor arguments)
    "RNN_tanh": ("RNN", {"nonlinearity": "tanh"}),
    "RNN_relu": ("RNN", {"nonlinearity": "relu"}),
    "LSTM": ("LSTM", {}),
    "GRU": ("GRU", {}),
}
DTYPES = {"float32": (gs.float32, torch.float32), "float64": (gs.float64, torch.float64)}


def _tol(dtype: str) -> dict[str, float]:
    return {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-7, "atol": 1e-9}


# ---------------------------------------------------------------- drawing a configuration
@dataclass
class RnnCase:
    """A drawn layer call; arrays are drawn later from the case's NumPy generator."""

    kwargs: dict[str, Any]
    steps: int
    batch: int
    input: str  # "padded", "unbatched", "packed" (from a padded tensor) or "sequence"
    lengths: list[int] | None
    enforce_sorted: bool
    hx: bool
    train: bool
    pad_output: bool
    total_length: int | None
    padding_value: float


def rnn_case(kind: str) -> Callable[[Any], RnnCase]:
    def sample(draw: Any) -> RnnCase:
        hidden = draw(st.integers(2, 5))
        layers = draw(st.integers(1, 3))
        train = draw(st.booleans())
        kwargs = {
            "input_size": draw(st.integers(1, 4)),
            "hidden_size": hidden,
            "num_layers": layers,
            "bias": draw(st.booleans()),
            "batch_first": draw(st.booleans()),
            "bidirectional": draw(st.booleans()),
            # dropout acts between layers in training only: 0 there, anything in eval
            "dropout": 0.0 if train or layers == 1 else draw(st.sampled_from([0.0, 0.5])),
        }
        if kind == "LSTM" and draw(st.booleans()):
            kwargs["proj_size"] = draw(st.integers(1, hidden - 1))
        steps = draw(st.integers(1, 5))
        mode = draw(st.sampled_from(["padded", "unbatched", "packed", "packed", "sequence"]))
        packed = mode in ("packed", "sequence")
        batch = draw(st.integers(1, 4)) if packed or draw(st.integers(0, 7)) else 0  # 0: empty
        batch = 1 if mode == "unbatched" else batch
        lengths, enforce = None, True
        if packed:
            lengths = [draw(st.integers(1, steps)) for _ in range(batch)]
            lengths[draw(st.integers(0, batch - 1))] = steps  # T is the longest length
            enforce = draw(st.booleans())
            lengths = sorted(lengths, reverse=True) if enforce else lengths
        pad = packed and draw(st.booleans())
        extra = draw(st.sampled_from([None, 0, 2])) if pad else None
        return RnnCase(
            kwargs, steps, batch, mode, lengths, enforce, draw(st.booleans()), train, pad,
            None if extra is None else steps + extra, draw(st.sampled_from([0.0, -1.5])),
        )  # fmt: skip

    return sample


# ---------------------------------------------------------------- the relu margin
def relu_margin(
    x: np.ndarray, lengths: list[int], h0: np.ndarray, state: dict[str, np.ndarray], rc: RnnCase
) -> float:
    """The smallest |pre-activation| of a relu RNN over ``x`` (T, B, I) time-major, each
    sequence b over its first ``lengths[b]`` steps (backwards in the reverse direction), in
    float64: the layer's recurrence written out one sequence at a time."""
    k = rc.kwargs
    dirs = 2 if k["bidirectional"] else 1
    smallest, inp = np.inf, x
    for layer in range(k["num_layers"]):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}{'_reverse' if d else ''}"
            w_ih, w_hh = state["weight_ih" + sfx], state["weight_hh" + sfx]
            bias = state["bias_ih" + sfx] + state["bias_hh" + sfx] if k["bias"] else 0.0
            out = np.zeros(inp.shape[:2] + (k["hidden_size"],))
            for b, n in enumerate(lengths):
                h = h0[layer * dirs + d, b]
                for t in range(n - 1, -1, -1) if d else range(n):
                    pre = w_ih @ inp[t, b] + w_hh @ h + bias
                    smallest = min(smallest, float(np.abs(pre).min()))
                    h = out[t, b] = np.maximum(pre, 0.0)
            outs.append(out)
        inp = np.concatenate(outs, axis=-1)
    return smallest


# ---------------------------------------------------------------- one layer case
def _twins(cls: str, kwargs: dict[str, Any], dtype: str) -> tuple[Any, Any]:
    gdt, tdt = DTYPES[dtype]
    return getattr(nn, cls)(**kwargs).to(gdt), getattr(torch.nn, cls)(**kwargs).to(tdt)


def _arrays(case: Case, rc: RnnCase, theirs: Any, kind: str) -> tuple[Any, ...]:
    """(state, x time-major (T, B, I), h0 and c0 as (L*D, B, H)), redrawn while a relu
    pre-activation is within ``MARGIN`` of 0."""
    k = rc.kwargs
    layers = k["num_layers"] * (2 if k["bidirectional"] else 1)
    h_size = k.get("proj_size") or k["hidden_size"]
    lengths = rc.lengths or [rc.steps] * rc.batch
    for _ in range(50):
        state = {
            key: case.rng.uniform(-1.0, 1.0, tuple(v.shape))
            for key, v in theirs.state_dict().items()
        }
        x = case.rng.standard_normal((rc.steps, rc.batch, k["input_size"]))
        h0 = case.rng.standard_normal((layers, rc.batch, h_size)) if rc.hx else None
        c0 = None
        if kind == "LSTM" and rc.hx:
            c0 = case.rng.standard_normal((layers, rc.batch, k["hidden_size"]))
        if kind != "RNN_relu":
            return state, x, h0, c0
        zeros = np.zeros((layers, rc.batch, h_size))
        if relu_margin(x, lengths, zeros if h0 is None else h0, state, rc) >= MARGIN:
            return state, x, h0, c0
    raise AssertionError("no relu case away from the kink in 50 draws (a fuzzer bug)")


def _flat(result: Any, rc: RnnCase, lib: str) -> list[Any]:
    """[output (or a packed output's data), h_n, (c_n)] plus a packed output's int parts."""
    out, states = result
    states = list(states) if isinstance(states, tuple) else [states]
    if rc.input not in ("packed", "sequence"):
        return [out, *states]
    utils = R if lib == "gs" else TR
    ints = [out.batch_sizes, out.sorted_indices, out.unsorted_indices]
    if rc.pad_output:
        padded, lengths = utils.pad_packed_sequence(
            out,
            batch_first=rc.kwargs["batch_first"],
            padding_value=rc.padding_value,
            total_length=rc.total_length,
        )
        return [padded, *states, lengths, *ints]
    return [out.data, *states, *ints]


def _inputs(rc: RnnCase, lib: str, x: np.ndarray, layouts: list[str], grad: bool) -> tuple:
    """The layer's input in ``lib`` (and its leaves) from x (T, B, I)."""
    bf = rc.kwargs["batch_first"]
    if rc.input == "unbatched":
        arg, leaf = make_input(x[:, 0], lib, layouts[0], grad)
        return arg, [leaf]
    if rc.input == "sequence":  # each sequence its own leaf
        pairs = [
            make_input(np.ascontiguousarray(x[:n, b]), lib, lay, grad)
            for b, (n, lay) in enumerate(zip(rc.lengths, layouts, strict=True))
        ]
        utils = R if lib == "gs" else TR
        return utils.pack_sequence([p[0] for p in pairs], rc.enforce_sorted), [p[1] for p in pairs]
    arr = np.ascontiguousarray(x.swapaxes(0, 1)) if bf else x
    arg, leaf = make_input(arr, lib, layouts[0], grad)
    if rc.input == "packed":
        utils = R if lib == "gs" else TR
        arg = utils.pack_padded_sequence(arg, rc.lengths, bf, rc.enforce_sorted)
    return arg, [leaf]


def _backward(case: Case, ours: list[Any], theirs: list[Any]) -> list[str]:
    """A random cotangent on a random non-empty subset of the differentiable results."""
    pairs = [(o, t) for o, t in zip(ours, theirs, strict=True) if t is not None and t.requires_grad]
    if any(not o.requires_grad for o, _ in pairs):
        return ["a result that requires grad in torch does not in gradschool"]
    if not pairs:
        return []
    chosen = [p for p in pairs if case.rng.random() < 0.6]
    chosen = chosen or [pairs[int(case.rng.integers(len(pairs)))]]
    case.notes.append(f"cotangents on {len(chosen)} of {len(pairs)} results")
    loss_o, loss_t = 0, 0
    for o, t in chosen:
        g = case.rng.standard_normal(tuple(t.shape)).astype(str(t.dtype).split(".")[-1])
        loss_o = loss_o + (o * gs.tensor(g)).sum()
        loss_t = loss_t + (t * torch.tensor(g)).sum()
    loss_t.backward()
    loss_o.backward()
    return []


def _compare_all(ours: list[Any], theirs: list[Any], tol: dict[str, float]) -> list[str]:
    found = []
    for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
        if t is None or o is None:
            if (t is None) != (o is None):
                found.append(f"result {i}: gradschool {o!r}, torch {t!r}")
            continue
        found.append(compare(o, t, f"result {i}", **tol))
    return [f for f in found if f]


def run_rnn(kind: str, case: Case) -> list[str]:
    rc: RnnCase = case.sample(rnn_case(kind))
    dtype = case.choice(DTYPES)
    grad = case.rng.random() < 0.9
    cls, extra = KINDS[kind]
    ours_m, theirs_m = _twins(cls, {**rc.kwargs, **extra}, dtype)
    if list(ours_m.state_dict()) != list(theirs_m.state_dict()):
        return [f"state_dict keys {list(ours_m.state_dict())} != {list(theirs_m.state_dict())}"]
    state, x, h0, c0 = _arrays(case, rc, theirs_m, kind)
    theirs_m.load_state_dict({k: torch.tensor(v.astype(dtype)) for k, v in state.items()})
    ours_m.load_state_dict({k: gs.tensor(v.astype(dtype)) for k, v in state.items()})
    ours_m.train(rc.train)
    theirs_m.train(rc.train)
    if not grad:
        ours_m.requires_grad_(False)
        theirs_m.requires_grad_(False)
    x = x.astype(dtype)
    n_inputs = len(rc.lengths) if rc.input == "sequence" else 1
    shape = (x.shape[0], x.shape[2]) if rc.input == "unbatched" else x.shape
    layouts = [layout_for(case, shape) for _ in range(n_inputs)]
    states = [s.astype(dtype) for s in (h0, c0) if s is not None]
    if rc.input == "unbatched":
        states = [s[:, 0] for s in states]
    s_layouts = [layout_for(case, s.shape) for s in states]
    case.notes += [dtype, "train" if rc.train else "eval", f"{rc}", f"grad={grad}"]
    case.notes += [f"layouts={layouts + s_layouts}"]
    results = {}
    for lib in ("torch", "gs"):
        arg, leaves = _inputs(rc, lib, x, layouts, grad)
        pairs = [make_input(s, lib, lay, grad) for s, lay in zip(states, s_layouts, strict=True)]
        hx = [p[0] for p in pairs]
        hx_arg = None if not hx else (tuple(hx) if kind == "LSTM" else hx[0])
        module = ours_m if lib == "gs" else theirs_m
        results[lib] = (_flat(module(arg, hx_arg), rc, lib), leaves + [p[1] for p in pairs])
    (ours, gs_leaves), (theirs, th_leaves) = results["gs"], results["torch"]
    tol = _tol(dtype)
    found = _compare_all(ours, theirs, tol)
    if grad and not found:
        found += _backward(case, ours, theirs)
        found += compare_leaves(gs_leaves, th_leaves, layouts + s_layouts, True, **tol)
        found += _compare_params(ours_m, theirs_m, **tol)
    found += compare_leaves(gs_leaves, th_leaves, layouts + s_layouts, False, **tol)
    return [f for f in found if f]


# ---------------------------------------------------------------- cells, over a few steps
CELLS = {
    "RNNCell_tanh": ("RNNCell", {"nonlinearity": "tanh"}),
    "RNNCell_relu": ("RNNCell", {"nonlinearity": "relu"}),
    "LSTMCell": ("LSTMCell", {}),
    "GRUCell": ("GRUCell", {}),
}


def cell_case(draw: Any) -> dict[str, Any]:
    return {
        "kwargs": {
            "input_size": draw(st.integers(1, 4)),
            "hidden_size": draw(st.integers(1, 5)),
            "bias": draw(st.booleans()),
        },
        "batch": draw(st.sampled_from([None, 0, 1, 2, 3, 4])),  # None: unbatched
        "hx": draw(st.booleans()),
        "steps": draw(st.integers(1, 3)),
    }


def _cell_arrays(case: Case, c: dict[str, Any], theirs: Any, kind: str) -> tuple[Any, ...]:
    """(state, the steps' inputs, [h0(, c0)]); a relu cell's drawn again while a
    pre-activation is within ``MARGIN`` of 0."""
    k = c["kwargs"]
    lead = () if c["batch"] is None else (c["batch"],)
    n_states = (2 if kind == "LSTMCell" else 1) if c["hx"] else 0
    for _ in range(50):
        state = {
            key: case.rng.uniform(-1.0, 1.0, tuple(v.shape))
            for key, v in theirs.state_dict().items()
        }
        xs = [case.rng.standard_normal(lead + (k["input_size"],)) for _ in range(c["steps"])]
        hx = [case.rng.standard_normal(lead + (k["hidden_size"],)) for _ in range(n_states)]
        if kind != "RNNCell_relu":
            return state, xs, hx
        h, smallest = (hx[0] if hx else np.zeros(lead + (k["hidden_size"],))), np.inf
        bias = state["bias_ih"] + state["bias_hh"] if k["bias"] else 0.0
        for x in xs:
            pre = x @ state["weight_ih"].T + h @ state["weight_hh"].T + bias
            smallest = min(smallest, float(np.abs(pre).min(initial=np.inf)))
            h = np.maximum(pre, 0.0)
        if smallest >= MARGIN:
            return state, xs, hx
    raise AssertionError("no relu case away from the kink in 50 draws (a fuzzer bug)")


def run_cell(kind: str, case: Case) -> list[str]:
    c = case.sample(cell_case)
    dtype = case.choice(DTYPES)
    grad = case.rng.random() < 0.9
    cls, extra = CELLS[kind]
    ours_m, theirs_m = _twins(cls, {**c["kwargs"], **extra}, dtype)
    if list(ours_m.state_dict()) != list(theirs_m.state_dict()):
        return [f"state_dict keys {list(ours_m.state_dict())} != {list(theirs_m.state_dict())}"]
    state, xs, hx = _cell_arrays(case, c, theirs_m, kind)
    theirs_m.load_state_dict({k: torch.tensor(v.astype(dtype)) for k, v in state.items()})
    ours_m.load_state_dict({k: gs.tensor(v.astype(dtype)) for k, v in state.items()})
    if not grad:
        ours_m.requires_grad_(False)
        theirs_m.requires_grad_(False)
    arrays = [a.astype(dtype) for a in xs + hx]
    layouts = [layout_for(case, a.shape) for a in arrays]
    case.notes += [dtype, f"{c}", f"grad={grad}", f"layouts={layouts}"]
    results = {}
    for lib in ("torch", "gs"):
        pairs = [make_input(a, lib, lay, grad) for a, lay in zip(arrays, layouts, strict=True)]
        args = [p[0] for p in pairs]
        xs_in, state_in = args[: len(xs)], args[len(xs) :]
        h = None if not state_in else (tuple(state_in) if kind == "LSTMCell" else state_in[0])
        module, outs = (ours_m if lib == "gs" else theirs_m), []
        for x in xs_in:  # each step's state feeds the next, as in a decoder's loop
            h = module(x, h)
            outs += list(h) if isinstance(h, tuple) else [h]
        results[lib] = (outs, [p[1] for p in pairs])
    (ours, gs_leaves), (theirs, th_leaves) = results["gs"], results["torch"]
    tol = _tol(dtype)
    found = _compare_all(ours, theirs, tol)
    if grad and not found:
        found += _backward(case, ours, theirs)
        found += compare_leaves(gs_leaves, th_leaves, layouts, True, **tol)
        found += _compare_params(ours_m, theirs_m, **tol)
    found += compare_leaves(gs_leaves, th_leaves, layouts, False, **tol)
    return [f for f in found if f]


# ---------------------------------------------------------------- nn.utils.rnn
def utils_case(draw: Any) -> dict[str, Any]:
    batch = draw(st.integers(1, 4))
    lengths = [draw(st.integers(1, 5)) for _ in range(batch)]
    return {
        "lengths": lengths,
        "features": draw(st.sampled_from([(), (1,), (3,), (2, 2)])),
        "batch_first": draw(st.booleans()),
        "padding_side": draw(st.sampled_from(["right", "left"])),
        "padding_value": draw(st.sampled_from([0.0, -2.0])),
        "enforce_sorted": draw(st.booleans()),
        "unpack_batch_first": draw(st.booleans()),
        "total_length": draw(st.sampled_from([None, 0, 3])),
    }


def _utils_chain(u: dict[str, Any], lib: str, seqs: list[Any]) -> list[Any]:
    """pad_sequence -> pack_padded_sequence -> pad_packed_sequence, unpack and unpad: every
    result along the way."""
    utils = R if lib == "gs" else TR
    bf, lengths = u["batch_first"], u["lengths"]
    if u["enforce_sorted"]:  # sorted longest first, as enforce_sorted wants
        order = sorted(range(len(seqs)), key=lambda b: -lengths[b])
        seqs, lengths = [seqs[b] for b in order], [lengths[b] for b in order]
    padded_side = utils.pad_sequence(seqs, bf, u["padding_value"], u["padding_side"])
    padded = utils.pad_sequence(seqs, bf, u["padding_value"])
    packed = utils.pack_padded_sequence(padded, lengths, bf, u["enforce_sorted"])
    total = None if u["total_length"] is None else max(lengths) + u["total_length"]
    ubf = u["unpack_batch_first"]
    back, back_lengths = utils.pad_packed_sequence(packed, ubf, u["padding_value"], total)
    # (PyTorch's unpad_sequence transposes its argument in place when not batch_first)
    unpadded = utils.unpad_sequence(back.clone(), back_lengths, ubf)
    unpacked = utils.unpack_sequence(utils.pack_sequence(seqs, u["enforce_sorted"]))
    ints = [packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices, back_lengths]
    return [padded_side, packed.data, back, *unpadded, *unpacked, *ints]


def run_utils(case: Case) -> list[str]:
    u = case.sample(utils_case)
    dtype = case.choice(DTYPES)
    arrays = [case.rng.standard_normal((n, *u["features"])).astype(dtype) for n in u["lengths"]]
    layouts = [layout_for(case, a.shape) for a in arrays]
    case.notes += [dtype, f"{u}", f"layouts={layouts}"]
    results = {}
    for lib in ("torch", "gs"):
        pairs = [make_input(a, lib, lay, True) for a, lay in zip(arrays, layouts, strict=True)]
        results[lib] = (_utils_chain(u, lib, [p[0] for p in pairs]), [p[1] for p in pairs])
    (ours, gs_leaves), (theirs, th_leaves) = results["gs"], results["torch"]
    tol = _tol(dtype)
    found = _compare_all(ours, theirs, tol)
    if not found:
        found += _backward(case, ours, theirs)
        found += compare_leaves(gs_leaves, th_leaves, layouts, True, **tol)
    return [f for f in found if f]


TARGETS: dict[str, Callable[[Case], list[str]]] = {
    **{f"nn.rnn.{k}": (lambda case, k=k: run_rnn(k, case)) for k in KINDS},
    **{f"nn.rnn.{k}": (lambda case, k=k: run_cell(k, case)) for k in CELLS},
    "nn.rnn.utils": run_utils,
}
