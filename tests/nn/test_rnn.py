"""Recurrent layers and cells against their torch.nn twins (PyTorch's state_dict loaded by
name; outputs, final states and every gradient: input, h0/c0 and parameters), the fused
layers against the step-by-step references of rnn_naive, gradcheck in float64, dropout
between layers, and the errors a learner sees.

Packing itself (pad/pack/unpack against torch.nn.utils.rnn) is in test_rnn_utils.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as TR

import gradschool as gs
import gradschool.nn as nn
import gradschool.nn.functional as F
import gradschool.nn.utils.rnn as R
from gradschool.nn.modules.rnn import RNNBase
from gradschool.testing import gradcheck

torch.set_num_threads(1)

DTYPES = {"float32": (gs.float32, torch.float32), "float64": (gs.float64, torch.float64)}
# (class name, constructor arguments): the relu RNN and the projected LSTM are kinds of their own
KINDS = {
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "lstm_proj": ("LSTM", {"proj_size": 2}),
    "gru": ("GRU", {}),
}
# every feature in some configuration: layers, directions, batch_first, packed (sorted or
# not), no bias, no hx, unbatched input
CONFIGS = [
    {"num_layers": 1, "bidirectional": False, "batch_first": False, "input": "padded"},
    {"num_layers": 2, "bidirectional": True, "batch_first": True, "input": "padded", "hx": False},
    {"num_layers": 3, "bidirectional": False, "batch_first": False, "input": "sorted", "bias": False},
    {"num_layers": 2, "bidirectional": True, "batch_first": True, "input": "unsorted"},
    {"num_layers": 2, "bidirectional": True, "batch_first": False, "input": "unbatched"},
    {"num_layers": 1, "bidirectional": True, "batch_first": True, "input": "unbatched", "hx": False},
]  # fmt: skip


def tol(dtype):
    return {"rtol": 1e-4, "atol": 2e-5} if dtype == "float32" else {"rtol": 1e-9, "atol": 1e-11}


def close(ours, theirs, dtype, what=""):
    a = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    b = theirs.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    np.testing.assert_allclose(a, b, err_msg=what, **tol(dtype))


def twins(kind, dtype, seed, **kw):
    """(ours, theirs, sizes): torch's module with random sizes, ours loading its state_dict."""
    rng = np.random.default_rng(seed)
    size = {"input_size": int(rng.integers(1, 6)), "hidden_size": int(rng.integers(3, 7))}
    cls, extra = KINDS[kind]
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, cls)(**size, **extra, **kw).to(DTYPES[dtype][1])
    ours = getattr(nn, cls)(**size, **extra, **kw).to(DTYPES[dtype][0])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    return ours, theirs, size


def states_of(module, batch, rng, unbatched):
    """Random (h0,) or (h0, c0) arrays of PyTorch's shapes."""
    layers = module.num_layers * (2 if module.bidirectional else 1)
    shapes = [(layers, batch, module.proj_size or module.hidden_size)]
    if module.mode == "LSTM":
        shapes.append((layers, batch, module.hidden_size))
    return [rng.standard_normal(s[:1] + s[2:] if unbatched else s) for s in shapes]


def flat(result):
    """(output, h_n) or (output, (h_n, c_n)) as a flat list."""
    out, h = result
    return [out, *(h if isinstance(h, tuple) else (h,))]


def compare(ours, theirs, x, states, dtype, lengths=None, enforce_sorted=True, what=""):
    """One forward and backward through both with the same random weights on every result;
    outputs, final states and all gradients must agree. ``lengths``: pack the input."""
    gdt, tdt = DTYPES[dtype]
    xg, xt = (
        gs.tensor(x, dtype=gdt, requires_grad=True),
        torch.tensor(x, dtype=tdt, requires_grad=True),
    )
    sg = [gs.tensor(s, dtype=gdt, requires_grad=True) for s in states]
    st = [torch.tensor(s, dtype=tdt, requires_grad=True) for s in states]
    args_g, args_t = [xg], [xt]
    if lengths is not None:
        bf, es = ours.batch_first, enforce_sorted
        args_g = [R.pack_padded_sequence(xg, lengths, batch_first=bf, enforce_sorted=es)]
        args_t = [TR.pack_padded_sequence(xt, lengths, batch_first=bf, enforce_sorted=es)]
    if states:
        args_g.append(sg[0] if len(sg) == 1 else tuple(sg))
        args_t.append(st[0] if len(st) == 1 else tuple(st))
    rg, rt = flat(ours(*args_g)), flat(theirs(*args_t))
    if lengths is not None:
        assert isinstance(rg[0], R.PackedSequence)
        np.testing.assert_array_equal(rg[0].batch_sizes.numpy(), rt[0].batch_sizes.numpy())
        rg[0] = R.pad_packed_sequence(rg[0], batch_first=ours.batch_first)[0]
        rt[0] = TR.pad_packed_sequence(rt[0], batch_first=theirs.batch_first)[0]
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal(tuple(t.shape)) for t in rt]
    for name, a, b in zip(["output", "h_n", "c_n"], rg, rt, strict=False):
        close(a, b, dtype, f"{what} {name}")
    sum((a * gs.tensor(w, dtype=gdt)).sum() for a, w in zip(rg, weights, strict=True)).backward()
    sum((b * torch.tensor(w, dtype=tdt)).sum() for b, w in zip(rt, weights, strict=True)).backward()
    close(xg.grad, xt.grad, dtype, f"{what} input grad")
    for i, (a, b) in enumerate(zip(sg, st, strict=True)):
        close(a.grad, b.grad, dtype, f"{what} grad of {'hc'[i]}0")
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        close(p.grad, q.grad, dtype, f"{what} grad of {name}")


def sample(module, config, seed):
    """An input, its initial states and packing lengths for ``config``."""
    rng = np.random.default_rng(seed + 100)
    steps, batch = int(rng.integers(2, 6)), int(rng.integers(1, 5))
    unbatched = config["input"] == "unbatched"
    shape = (steps, module.input_size) if unbatched else (steps, batch, module.input_size)
    if module.batch_first and not unbatched:
        shape = (batch, steps, module.input_size)
    x = rng.standard_normal(shape)
    states = states_of(module, batch, rng, unbatched) if config.get("hx", True) else []
    lengths = None
    if config["input"] in ("sorted", "unsorted"):
        lengths = sorted(rng.integers(1, steps + 1, batch).tolist(), reverse=True)
        lengths[0] = steps
        if config["input"] == "unsorted":
            lengths = rng.permutation(lengths).tolist()
    return x, states, lengths


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("c", range(len(CONFIGS)))
def test_layer_equals_torch(kind, dtype, c):
    config = CONFIGS[c]
    kw = {
        k: config[k] for k in ("num_layers", "bidirectional", "batch_first", "bias") if k in config
    }
    ours, theirs, _ = twins(kind, dtype, seed=c, **kw)
    x, states, lengths = sample(ours, config, seed=c)
    es = config["input"] != "unsorted"
    compare(ours, theirs, x, states, dtype, lengths, es, f"{kind} {config}")


@pytest.mark.parametrize("kind", KINDS)
def test_naive_reference_equals_fast(kind, monkeypatch):
    """The same module run by the fused layers and by the step-by-step references."""
    config = CONFIGS[3]  # two layers, both directions, unsorted packed input
    fast, theirs, _ = twins(kind, "float64", seed=7, num_layers=2, bidirectional=True)
    x, states, lengths = sample(fast, {**config, "input": "unsorted"}, seed=7)
    compare(fast, theirs, x, states, "float64", lengths, False, "fast")
    monkeypatch.setattr(RNNBase, "naive", True)
    fast.zero_grad()
    theirs.zero_grad()
    compare(fast, theirs, x, states, "float64", lengths, False, "naive")


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu", "lstm", "lstm_proj", "gru"])
def test_layer_functions_gradcheck(kind, reverse):
    """Every input of one layer function over packed rows with batch_sizes [3, 2, 1]."""
    rng = np.random.default_rng(3)
    hidden, inp, proj = 3, 2, 2 if kind == "lstm_proj" else 0
    gates = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "lstm_proj": 4, "gru": 3}[kind]
    out_size = proj or hidden

    def t(*shape):
        return gs.tensor(rng.standard_normal(shape), requires_grad=True)

    x, h0, c0 = t(6, inp), t(3, out_size), t(3, hidden)
    w = [t(gates * hidden, inp), t(gates * hidden, out_size), t(gates * hidden), t(gates * hidden)]
    if kind == "rnn_relu":  # keep pre-activations away from relu's kink
        w[2].data += 2.0
    bs = [3, 2, 1]
    if kind.startswith("lstm"):
        extra = [t(proj, hidden)] if proj else []

        def fn(x, h0, c0, *w):
            return F.lstm_layer(x, bs, h0, c0, *w[:4], *w[4:], reverse=reverse)

        assert gradcheck(fn, [x, h0, c0, *w, *extra])
    else:
        layer = F.gru_layer if kind == "gru" else F.rnn_layer
        opts = {} if kind == "gru" else {"nonlinearity": kind[4:]}
        assert gradcheck(lambda *a: layer(a[0], bs, *a[1:], reverse=reverse, **opts), [x, h0, *w])


CELLS = {"rnn_tanh": ("RNNCell", {}), "rnn_relu": ("RNNCell", {"nonlinearity": "relu"}),
         "lstm": ("LSTMCell", {}), "gru": ("GRUCell", {})}  # fmt: skip


@pytest.mark.parametrize("naive", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", CELLS)
def test_cell_equals_torch(kind, dtype, naive, monkeypatch):
    monkeypatch.setattr(RNNBase, "naive", naive)
    gdt, tdt = DTYPES[dtype]
    cls, extra = CELLS[kind]
    rng = np.random.default_rng(5)
    for batch, with_hx, bias in ((4, True, True), (None, True, False), (3, False, True)):
        torch.manual_seed(0)
        theirs = getattr(torch.nn, cls)(3, 5, bias=bias, **extra).to(tdt)
        ours = getattr(nn, cls)(3, 5, bias=bias, **extra).to(gdt)
        ours.load_state_dict(theirs.state_dict())
        assert repr(ours) == repr(theirs)
        lead = () if batch is None else (batch,)
        arrays = [rng.standard_normal((*lead, 3))]
        arrays += [rng.standard_normal((*lead, 5)) for _ in range(2 if kind == "lstm" else 1)]
        if not with_hx:
            arrays = arrays[:1]
        xg = [gs.tensor(a, dtype=gdt, requires_grad=True) for a in arrays]
        xt = [torch.tensor(a, dtype=tdt, requires_grad=True) for a in arrays]
        hg = tuple(xg[1:]) if kind == "lstm" and with_hx else (xg[1] if with_hx else None)
        ht = tuple(xt[1:]) if kind == "lstm" and with_hx else (xt[1] if with_hx else None)
        rg, rt = ours(xg[0], hg), theirs(xt[0], ht)
        rg, rt = (rg, rt) if kind == "lstm" else ((rg,), (rt,))
        weights = [rng.standard_normal(tuple(r.shape)) for r in rt]
        for a, b in zip(rg, rt, strict=True):
            close(a, b, dtype, f"{cls} output")
        sum(
            (a * gs.tensor(w, dtype=gdt)).sum() for a, w in zip(rg, weights, strict=True)
        ).backward()
        sum(
            (b * torch.tensor(w, dtype=tdt)).sum() for b, w in zip(rt, weights, strict=True)
        ).backward()
        for a, b in zip(xg, xt, strict=True):
            close(a.grad, b.grad, dtype, f"{cls} input/state grad")
        for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            close(p.grad, q.grad, dtype, f"{cls} grad of {n}")


def test_init_and_parameter_names():
    lstm = nn.LSTM(4, 9, num_layers=2, bidirectional=True, proj_size=3)
    theirs = torch.nn.LSTM(4, 9, num_layers=2, bidirectional=True, proj_size=3)
    ours_sd, theirs_sd = lstm.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert [tuple(v.shape) for v in ours_sd.values()] == [
        tuple(v.shape) for v in theirs_sd.values()
    ]
    bound = 1 / math.sqrt(9)
    values = np.concatenate([p.detach().numpy().ravel() for p in lstm.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.02  # U(-b, b) has std b / sqrt(3)
    assert [len(w) for w in lstm.all_weights] == [5] * 4
    assert list(nn.GRUCell(2, 3, bias=False).state_dict()) == ["weight_ih", "weight_hh"]


@pytest.mark.parametrize("naive", [False, True])
def test_empty_batch_as_torch(naive, monkeypatch):
    """A batch of 0 sequences (T, 0, I) gives empty results and zero gradients, as in
    PyTorch (found by tests/fuzz: batch_sizes [0, 0] used to be refused)."""
    monkeypatch.setattr(RNNBase, "naive", naive)
    for kind in KINDS:
        ours, theirs, size = twins(kind, "float64", seed=4, num_layers=2, bidirectional=True)
        x = np.zeros((3, 0, size["input_size"]))
        xg, xt = gs.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        rg, rt = flat(ours(xg)), flat(theirs(xt))
        for a, b in zip(rg, rt, strict=True):
            close(a, b, "float64", f"{kind} empty batch")
        sum(r.sum() for r in rg).backward()
        sum(r.sum() for r in rt).backward()
        close(xg.grad, xt.grad, "float64", f"{kind} input grad")
        for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            close(p.grad, q.grad, "float64", f"{kind} grad of {n}")
    for cls, extra in CELLS.values():
        cell = getattr(nn, cls)(3, 4, **extra)
        out = cell(gs.zeros(0, 3))
        assert all(o.shape == (0, 4) for o in (out if isinstance(out, tuple) else (out,)))


def test_final_states_alone_get_gradients():
    """Many-to-one: only h_n and c_n are used, so the output sequence gets no gradient; a
    retained graph walked twice accumulates twice."""
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 4, num_layers=2).double()
    ours = nn.LSTM(3, 4, num_layers=2).double()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    xg, xt = gs.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for module, inp in ((ours, xg), (theirs, xt)):
        _, (h_n, c_n) = module(inp)
        loss = h_n[-1].sum() + 2 * c_n.sum()
        loss.backward(retain_graph=True)
        loss.backward()
    close(xg.grad, xt.grad, "float64", "input grad")
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        close(p.grad, q.grad, "float64", n)


def test_dropout_between_layers_not_after_last(monkeypatch):
    """Dropout runs on the outputs of all layers but the last, in training mode only: it
    drops about p of them and scales the rest by 1 / (1 - p)."""
    seen = []
    real = F.dropout

    def spy(x, p, training=True, inplace=False):
        y = real(x, p, training, inplace)
        seen.append((x.detach().numpy(), y.detach().numpy(), p, training))
        return y

    monkeypatch.setattr(F, "dropout", spy)
    gs.manual_seed(0)
    lstm = nn.LSTM(8, 64, num_layers=3, dropout=0.25, bidirectional=True)
    x = gs.randn(20, 8, 8)
    lstm.eval()
    eval_out = lstm(x)[0].detach().numpy()
    assert seen == []
    np.testing.assert_allclose(lstm(x)[0].detach().numpy(), eval_out)  # eval: deterministic
    lstm.train()
    train_out = lstm(x)[0].detach().numpy()
    assert len(seen) == 2  # after layers 0 and 1, not after layer 2
    for before, after, p, training in seen:
        assert p == 0.25 and training and before.shape == (160, 128)
        dropped = after == 0
        assert abs(dropped.mean() - 0.25) < 0.02
        np.testing.assert_allclose(after[~dropped], before[~dropped] / 0.75, rtol=1e-6)
    assert (train_out != 0).all()  # the last layer's output is not dropped
    assert not np.allclose(train_out, eval_out)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(2, 3, dropout=0.5)


def err(fn, match):
    with pytest.raises(ValueError, match=match):
        fn()


def test_errors():
    x = gs.randn(5, 3, 4)
    lstm, gru, rnn = nn.LSTM(4, 6, num_layers=2), nn.GRU(4, 6), nn.RNN(4, 6, batch_first=True)
    err(lambda: lstm(gs.randn(5, 3, 4, 1)), r"LSTM: Expected input to be 2D or 3D, got 4D")
    err(lambda: gru(gs.randn(5)), r"GRU: Expected input to be 2D or 3D, got 1D")
    err(
        lambda: lstm(gs.randn(5, 3, 7)),
        r"LSTM: input.size\(-1\) must be equal to input_size. Expected 4, got 7",
    )
    err(lambda: rnn(gs.randn(3, 5, 2)), r"RNN: input.size\(-1\) .* Expected 4, got 2")
    err(
        lambda: gru(x, gs.zeros(1, 2, 6)), r"GRU: Expected hidden size \(1, 3, 6\), got \[1, 2, 6\]"
    )
    err(
        lambda: rnn(x.transpose(0, 1), gs.zeros(1, 3, 5)),
        r"RNN: Expected hidden size \(1, 3, 6\), got \[1, 3, 5\]",
    )
    err(
        lambda: lstm(x, (gs.zeros(2, 3, 6), gs.zeros(1, 3, 6))),
        r"LSTM: Expected hidden\[1\] size \(2, 3, 6\), got \[1, 3, 6\]",
    )
    err(
        lambda: lstm(x, (gs.zeros(2, 3, 5), gs.zeros(2, 3, 6))),
        r"LSTM: Expected hidden\[0\] size \(2, 3, 6\)",
    )
    err(
        lambda: gru(x, gs.zeros(3, 6)),
        r"GRU: For batched 3-D input, hx should also be 3-D but got \(2-D\)",
    )
    err(
        lambda: gru(gs.randn(5, 4), gs.zeros(1, 3, 6)),
        r"GRU: For unbatched 2-D input, hx should also be 2-D",
    )
    err(
        lambda: lstm(R.pack_sequence([gs.randn(3, 5)])),
        r"LSTM: input.size\(-1\) must be equal to input_size. Expected 4, got 5",
    )
    err(
        lambda: lstm(x.double()),
        r"LSTM: input dtype \(gradschool.float64\) does not match weight dtype \(gradschool.float32\)",
    )
    err(lambda: nn.LSTM(4, 3, proj_size=3), "proj_size has to be smaller than hidden_size")
    err(lambda: nn.GRU(4, 3, dropout=1.5), "dropout should be a number in range")
    err(lambda: nn.RNN(4, 0), "hidden_size must be greater than zero")
    err(lambda: nn.RNN(4, 3, nonlinearity="sigmoid"), "Unknown nonlinearity 'sigmoid'")
    cell, lstm_cell = nn.GRUCell(4, 6), nn.LSTMCell(4, 6)
    err(lambda: cell(gs.randn(2, 3, 4)), r"GRUCell: Expected input to be 1D or 2D, got 3D")
    err(
        lambda: cell(gs.randn(2, 5)),
        r"GRUCell: input has inconsistent input_size: got 5 expected 4",
    )
    err(
        lambda: cell(gs.randn(2, 4), gs.zeros(3, 6)),
        r"GRUCell: Input batch size 2 doesn't match hidden0 batch size 3",
    )
    err(
        lambda: cell(gs.randn(2, 4), gs.zeros(2, 5)),
        r"GRUCell: hidden0 has inconsistent hidden_size: got 5, expected 6",
    )
    err(
        lambda: lstm_cell(gs.randn(2, 4), (gs.zeros(2, 6), gs.zeros(2, 7))),
        r"LSTMCell: hidden1 has inconsistent hidden_size: got 7",
    )
    err(
        lambda: lstm_cell(gs.randn(4), (gs.zeros(2, 6), gs.zeros(6))),
        r"LSTMCell: Expected hx\[0\] to be 1D",
    )
    err(
        lambda: F.gru_layer(
            gs.randn(6, 4), [3, 2, 2], gs.zeros(3, 6), gru.weight_ih_l0, gru.weight_hh_l0
        ),
        "batch_sizes sum to 7",
    )
    err(
        lambda: F.rnn_layer(
            gs.randn(6, 4), [2, 3, 1], gs.zeros(2, 6), rnn.weight_ih_l0, rnn.weight_hh_l0
        ),
        "non-increasing",
    )
    with pytest.raises(TypeError, match=r"LSTM: hx must be a tuple \(h0, c0\)"):
        lstm(x, gs.zeros(2, 3, 6))
