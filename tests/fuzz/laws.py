"""Targets checked against laws instead of PyTorch's exact answer, where PyTorch's answer is
not fixed: max pooling with ties, and dropout / stochastic depth with a random mask.

**Ties.** PyTorch's documentation does not say which of several equal maxima in a pooling
window gets the gradient (or the index), so neither is compared with PyTorch's. What it
does fix is compared: the values equal PyTorch's, each returned index points into its own
window at an element equal to the window's max, and the gradient is each window's dy
routed to exactly one such element — checked from the indices, and (float64, no indices)
by decoding a dy of distinct powers of two. The same law is run on PyTorch's own answer,
so a wrong law fails loudly instead of passing everything.

**Dropout.** With 0 < p < 1 the mask is random: y is 0 or x / (1 - p) element by element
(channel by channel for dropout2d, sample by sample for stochastic depth), dx = dy * y / x,
and on large inputs the share of zeros is within 6 sigma of p.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as TF  # noqa: N812
from hypothesis import strategies as st

import gradschool as gs
import gradschool.nn.functional as F
from tests.fuzz.check import Case, compare, layout_for, make_input, unview
from tests.parity import specs_nn_pooling as pl
from tests.parity.harness import Sample, integers, values


# ---------------------------------------------------------------- windows
def _windows(size: int, out: int, k: int, s: int, p: int, d: int) -> np.ndarray:
    """(out, size) bool: which inputs each output's window covers along one axis."""
    m = np.zeros((out, size), dtype=bool)
    for o in range(out):
        for j in range(k):
            i = o * s - p + j * d
            if 0 <= i < size:
                m[o, i] = True
    return m


def _adaptive_windows(size: int, out: int) -> np.ndarray:
    m = np.zeros((out, size), dtype=bool)
    for o in range(out):
        m[o, (o * size) // out : -(-((o + 1) * size) // out)] = True
    return m


def _routing_errors(x: np.ndarray, y: np.ndarray, idx: np.ndarray, masks: list[np.ndarray]) -> str:
    """'' when every index lies in its output's window and points at a max there. ``x``
    is (P, *in), ``y`` and ``idx`` (P, *out); ``masks`` per spatial axis."""
    spatial = x.shape[1:]
    pos = np.unravel_index(idx.astype(np.int64), spatial)
    grids = np.indices(y.shape[1:])
    inside = np.ones(y.shape, dtype=bool)
    for axis, m in enumerate(masks):
        inside &= m[grids[axis][None], pos[axis]]
    picked = x.reshape(x.shape[0], -1)[np.arange(x.shape[0])[:, None], idx.reshape(len(x), -1)]
    at_max = picked.reshape(y.shape) == y
    if not inside.all():
        return f"index outside its window at {np.argwhere(~inside)[:3].tolist()}"
    if not at_max.all():
        return f"index not at the window's max at {np.argwhere(~at_max)[:3].tolist()}"
    return ""


def _routed(shape: tuple[int, ...], idx: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The gradient each dy routed to its index would give: (P, *in)."""
    out = np.zeros((shape[0], math.prod(shape[1:])), dtype=g.dtype)
    planes = np.broadcast_to(np.arange(shape[0])[:, None], (shape[0], idx[0].size))
    np.add.at(out, (planes, idx.reshape(shape[0], -1)), g.reshape(shape[0], -1))
    return out.reshape(shape)


def _decoded_errors(x: np.ndarray, y: np.ndarray, grad: np.ndarray, masks: list[np.ndarray]) -> str:
    """With dy = 2**j at output j of each plane, each input's gradient spells which outputs
    sent it theirs: every output must be spelled by exactly one input, in its window and
    at its max (float64, at most 52 outputs a plane)."""
    planes, flat_x, flat_y = np.arange(x.shape[0]), x.reshape(len(x), -1), y.reshape(len(y), -1)
    bits = grad.reshape(len(x), -1)
    if not np.array_equal(bits, np.round(bits)) or bits.min() < 0:
        return "the gradient is not a sum of whole dy's"
    code = bits.astype(np.int64)
    for j in range(flat_y.shape[1]):
        sent = (code >> j) & 1
        if not np.all(sent.sum(axis=1) == 1):
            return f"output {j}'s dy reached {sent.sum(axis=1).tolist()} inputs (one each)"
        winner = sent.argmax(axis=1)
        out_pos = np.unravel_index(j, y.shape[1:])
        in_pos = np.unravel_index(winner, x.shape[1:])
        inside = all(m[o, i].all() for m, o, i in zip(masks, out_pos, in_pos, strict=True))
        if not inside or not np.array_equal(flat_x[planes, winner], flat_y[:, j]):
            return f"output {j}'s dy went to a non-maximum or outside its window"
    return ""


# ---------------------------------------------------------------- tied max pooling
def _pool_ties_sample(nd: int, adaptive: bool, wide: bool) -> Callable[[Any], Sample]:
    """The parity geometry with values in {0, 1, 2} (ties everywhere; sometimes all equal);
    wide: >= 8 channels at most 7 a side (the compiled loop, <= 49 outputs a plane)."""
    base = pl.adaptive_sample("max") if adaptive else pl.pool_sample(nd, "max")

    def sample(draw: Any) -> Sample:
        s = base(draw)
        shape = s.args[0].shape
        if wide:
            shape = (draw(st.integers(1, 2)), draw(st.integers(8, 10))) + tuple(
                min(n, 7) for n in shape[-nd:]
            )
        top = draw(st.sampled_from([1, 3, 3]))  # 1: every value equal
        s.args[0] = integers(draw, shape, 0, top).astype(np.float64)
        s.kwargs.pop("return_indices", None)
        return s

    return sample


def _masks(sample: Sample, nd: int, adaptive: bool, out_shape: tuple[int, ...]) -> list[np.ndarray]:
    """The window masks (``_windows``) of the sample's pool, one per spatial axis."""
    x = sample.args[0]
    if adaptive:
        return [_adaptive_windows(n, o) for n, o in zip(x.shape[-2:], out_shape[-2:], strict=True)]
    kw = sample.kwargs

    def per_axis(key: str, default: Any) -> list[int]:
        v = kw.get(key, default)
        v = kw["kernel_size"] if v is None else v
        return list(v) if isinstance(v, tuple) else [v] * nd

    ks, ss, ps, ds = (
        per_axis(k, d)
        for k, d in (("kernel_size", 1), ("stride", None), ("padding", 0), ("dilation", 1))
    )
    return [
        _windows(n, o, k, s, p, d)
        for n, o, k, s, p, d in zip(x.shape[-nd:], out_shape[-nd:], ks, ss, ps, ds, strict=True)
    ]


def run_pool_ties(
    nd: int, adaptive: bool = False, wide: bool = False
) -> Callable[[Case], list[str]]:
    """A target: the drawn pool over tied values, gradschool's answer checked by the laws
    (see the module docstring), PyTorch's values compared exactly."""
    sampler = _pool_ties_sample(nd, adaptive, wide)
    name = "adaptive_max_pool2d" if adaptive else f"max_pool{nd}d"

    def run(case: Case) -> list[str]:
        s = case.sample(sampler)
        dtype = case.choice(["float32", "float64"])
        indices = dtype == "float32" or case.rng.random() < 0.5
        x = s.args[0].astype(dtype)
        layout = layout_for(case, x.shape)
        case.notes += [dtype, f"layout={layout}", f"return_indices={indices}"]
        extra = s.args[1:]
        th_fn, gs_fn = getattr(TF, name), getattr(F, name)
        t_out = th_fn(torch.tensor(x), *extra, **s.kwargs, return_indices=True)
        arg, leaf = make_input(x, "gs", layout, True)
        ours = gs_fn(arg, *extra, **s.kwargs, return_indices=indices)
        y = ours[0] if indices else ours
        found = [compare(y, t_out[0], "output 0", rtol=0, atol=0)]
        p = math.prod(x.shape[:-nd]) if x.ndim > nd else 1
        xp = x.reshape((p,) + x.shape[-nd:])
        yt = t_out[0].numpy().reshape((p,) + tuple(t_out[0].shape[-nd:]))
        if yt.size == 0:  # an empty batch: the values' shapes were all there was
            return [f for f in found if f]
        masks = _masks(s, nd, adaptive, yt.shape)
        law = _routing_errors(xp, yt, t_out[1].numpy().reshape(yt.shape), masks)
        if law:
            return [f"PyTorch's own answer breaks the law (a fuzzer bug): {law}"]
        if indices:
            idx = ours[1].numpy().reshape(yt.shape)
            found.append(_routing_errors(xp, yt, idx, masks))
            g = case.rng.standard_normal(yt.shape).astype(dtype)
            y.backward(gs.tensor(g.reshape(y.shape)))
            grad, skipped = unview(leaf.grad, layout)
            if skipped is not None and np.any(skipped):
                found.append("grad reached the elements a strided view skips")
            want = _routed(xp.shape, idx, g)
            tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12}
            found.append(
                compare(grad.reshape(xp.shape), want, "grad (routed by its indices)", **tol)
            )
        elif yt[0].size <= 52:
            g = np.broadcast_to(2.0 ** np.arange(yt[0].size).reshape(yt.shape[1:]), yt.shape)
            y.backward(gs.tensor(np.ascontiguousarray(g).reshape(y.shape)))
            grad, _ = unview(leaf.grad, layout)
            found.append(_decoded_errors(xp, yt, grad.reshape(xp.shape), masks))
        return [f for f in found if f]

    return run


# ---------------------------------------------------------------- random dropout
def _dropout_sample(draw: Any) -> Sample:
    kind = draw(st.sampled_from(["dropout", "dropout2d", "stochastic_depth", "Dropout"]))
    big = draw(st.booleans())
    shape = (64, 8, 5, 5) if big else tuple(draw(st.integers(1, 3)) for _ in range(4))
    p = draw(st.sampled_from([0.1, 0.3, 0.5, 0.8]))
    x = values(draw, shape, away_from_zero=0.1)
    return Sample([x, kind, p], {"inplace": draw(st.booleans())})


def run_dropout(case: Case) -> list[str]:
    s = case.sample(_dropout_sample)
    x, kind, p = s.args
    dtype = case.choice(["float32", "float64"])
    case.notes += [dtype, kind, f"p={p}"]
    leaf = gs.tensor(x.astype(dtype), requires_grad=True)
    inp = leaf * 1 if s.kwargs["inplace"] else leaf
    if kind == "stochastic_depth":
        y = F.stochastic_depth(inp, p, "row", True)
    elif kind == "Dropout":
        y = gs.nn.Dropout(p, inplace=s.kwargs["inplace"]).train()(inp)
    else:
        y = getattr(F, kind)(inp, p, True, s.kwargs["inplace"])
    ratio = y.detach().numpy().astype(np.float64) / x.astype(dtype)
    kept = ratio != 0
    found = []
    tol = 1e-6 if dtype == "float32" else 1e-12
    if not np.allclose(ratio[kept], 1 / (1 - p), rtol=tol):
        found.append(f"kept values are not x / (1 - p): ratios {np.unique(ratio)[:5]}")
    unit = {"dropout2d": x.shape[2:], "stochastic_depth": x.shape[1:]}.get(kind, ())
    if unit:
        flat = kept.reshape(kept.shape[: x.ndim - len(unit)] + (-1,))
        if not np.all(flat.all(axis=-1) | ~flat.any(axis=-1)):
            found.append(
                f"{kind} does not drop whole {'channels' if kind == 'dropout2d' else 'samples'}"
            )
    units = kept.size // max(1, math.prod(unit))
    if units >= 400:
        share, sigma = 1 - kept.mean(), math.sqrt(p * (1 - p) / units)
        if abs(share - p) > 6 * sigma:
            found.append(f"dropped {share:.3f} of the values, p = {p}")
    g = case.rng.standard_normal(x.shape).astype(dtype)
    y.backward(gs.tensor(g))
    want = g * kept / (1 - p)
    found.append(compare(leaf.grad, want.astype(dtype), "grad", rtol=100 * tol, atol=0))
    return [f for f in found if f]


TARGETS = {
    "ties.max_pool1d": run_pool_ties(1),
    "ties.max_pool2d": run_pool_ties(2),
    "ties.max_pool2d_wide": run_pool_ties(2, wide=True),
    "ties.adaptive_max_pool2d": run_pool_ties(2, adaptive=True),
    "law.dropout": run_dropout,
}
