"""Parity rows for the losses (gradschool/nn/functional/loss.py).

Class weights, ``pos_weight`` and index targets are ``Const`` (PyTorch cannot differentiate
these losses with respect to them); weights are cast to the input's dtype inside the calls,
since both libraries want them in the input's dtype. Where PyTorch gives a target gradient
(regression losses, KL, BCE, probability targets) the target is a plain array, so its
gradient is compared and gradchecked too.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch.nn.functional as TF
from hypothesis import strategies as st

import gradschool.nn.functional as F

from .harness import Const, OpSpec, Sample, shapes, values

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def _cast(w, x):
    return None if w is None else w.to(x.dtype)


def quiet(fn):
    """``fn`` with its warnings silenced (kl_div's 'mean', broadcast targets): both libraries
    warn there, on purpose; the behaviour is what is compared."""

    def call(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    return call


def _rng(draw):
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def class_input_shape(draw, max_extra=2, min_n=0):
    """``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)`` with 1 <= C <= 5."""
    c = draw(st.integers(1, 5))
    if draw(st.integers(0, 4)) == 0:
        return (c,)
    n = draw(st.integers(min_n, 4))
    extra = draw(shapes(min_dims=0, max_dims=max_extra, min_side=1, max_side=3))
    return (n, c, *extra)


def class_targets(draw, shape, ignore_index, mean):
    """Integer targets for scores of ``shape``; some set to ``ignore_index``, but never all of
    them under ``'mean'`` (0/0 = nan, which gradcheck cannot compare)."""
    rng = _rng(draw)
    c = shape[0] if len(shape) == 1 else shape[1]
    index_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    t = np.asarray(rng.integers(0, c, size=index_shape))
    if t.size and draw(st.booleans()):
        t[rng.random(index_shape) < 0.3] = ignore_index
    if mean and t.size and np.all(t == ignore_index):
        if c == 1 and ignore_index == 0:
            ignore_index = -100
        else:
            t.reshape(-1)[0] = (ignore_index + 1) % c if ignore_index >= 0 else 0
    return t, ignore_index


def weight_for(draw, c):
    return Const(values(draw, (c,), 0.2, 2.0)) if draw(st.booleans()) else None


# ---------------------------------------------------------------- classification
def ce_sample(draw):
    shape = class_input_shape(draw)
    reduction = draw(REDUCTIONS)
    ignore_index = draw(st.sampled_from([-100, 0, 1]))
    t, ignore_index = class_targets(draw, shape, ignore_index, reduction == "mean")
    c = shape[0] if len(shape) == 1 else shape[1]
    kwargs = {
        "ignore_index": ignore_index,
        "reduction": reduction,
        "label_smoothing": draw(st.sampled_from([0.0, 0.0, 0.1, 0.5])),
    }
    return Sample([values(draw, shape, -3, 3), Const(t), weight_for(draw, c)], kwargs)


def ce_extreme_sample(draw):
    s = ce_sample(draw)
    s.args[0] = s.args[0] * 3000  # scores up to 1e4: exp overflows unless the max goes first
    return s


def ce_probs_sample(draw, weight_grad=False):
    shape = class_input_shape(draw, min_n=1)  # N = 0 under 'mean' is 0/0
    c = shape[0] if len(shape) == 1 else shape[1]
    rng = _rng(draw)
    t = rng.random(shape)
    t /= np.maximum(t.sum(axis=0 if len(shape) == 1 else 1, keepdims=True), 1e-12)
    if weight_grad:
        w = values(draw, (c,), 0.2, 2.0)
    else:
        w = weight_for(draw, c)
    kwargs = {
        "reduction": draw(REDUCTIONS),
        "label_smoothing": draw(st.sampled_from([0.0, 0.2])),
    }
    return Sample([values(draw, shape, -3, 3), t, w], kwargs)


def nll_sample(draw):
    s = ce_sample(draw)
    del s.kwargs["label_smoothing"]
    s.args[0] = -values(draw, s.args[0].shape, 0.01, 5)  # log-probabilities are <= 0
    return s


def margin_sample(draw):
    c = draw(st.integers(1, 5))
    shape = (c,) if draw(st.integers(0, 3)) == 0 else (draw(st.integers(1, 5)), c)
    rng = _rng(draw)
    t = rng.integers(0, c, size=() if len(shape) == 1 else shape[:1])
    kwargs = {
        "p": draw(st.sampled_from([1, 2])),
        "margin": draw(st.sampled_from([1.0, 0.5, 2.0])),
        "reduction": draw(REDUCTIONS),
    }
    # scores on a grid: no hinge sits within gradcheck's step of its kink
    x = (rng.permutation(int(np.prod(shape))).reshape(shape) - 3) * 0.37 + 0.011
    return Sample(
        [np.asarray(x, dtype=np.float64), Const(np.asarray(t)), weight_for(draw, c)], kwargs
    )


# ---------------------------------------------------------------- binary
def broadcast_weight(draw, shape):
    """None, or a positive weight whose shape broadcasts to ``shape`` (a suffix, some 1s)."""
    if not draw(st.booleans()):
        return None
    k = draw(st.integers(0, len(shape)))
    wshape = tuple(1 if draw(st.booleans()) else s for s in shape[len(shape) - k :])
    return Const(values(draw, wshape, 0.2, 2.0))


def bce_sample(draw):
    shape = draw(shapes(max_side=4))
    return Sample(
        [values(draw, shape, 0.05, 0.95), values(draw, shape, 0, 1), broadcast_weight(draw, shape)],
        {"reduction": draw(REDUCTIONS)},
    )


def bce_logits_sample(draw, scale=3.0):
    shape = draw(shapes(max_side=4))
    return Sample(
        [
            values(draw, shape, -scale, scale),
            values(draw, shape, 0, 1),
            broadcast_weight(draw, shape),
            broadcast_weight(draw, shape),
        ],
        {"reduction": draw(REDUCTIONS)},
    )


# ---------------------------------------------------------------- regression and KL
def pointwise_sample(param=None, choices=()):
    def sample(draw):
        shape = draw(shapes(max_side=4))
        kwargs = {"reduction": draw(REDUCTIONS)}
        if param:
            kwargs[param] = draw(st.sampled_from(choices))
        # |input - target| kept >= 0.05 away from 0 and from the kinks at beta/delta
        x = values(draw, shape, -2, 2)
        d = values(draw, shape, -2, 2, away_from_zero=0.05)
        if param:
            b = kwargs[param]
            d = np.where(np.abs(np.abs(d) - b) < 0.05, d * 1.3 + np.sign(d) * 0.1, d)
        return Sample([x, np.asarray(x - d)], kwargs)

    return sample


def broadcast_pair_sample(draw):
    """Input and target of different, broadcastable shapes (PyTorch warns and broadcasts)."""
    shape = draw(shapes(min_dims=1, min_side=1, max_side=3))  # no 0/0 under 'mean'
    tshape = tuple(1 if draw(st.booleans()) else s for s in shape)[
        draw(st.integers(0, len(shape))) :
    ]
    return Sample([values(draw, shape), values(draw, tshape)], {"reduction": draw(REDUCTIONS)})


def kl_sample(draw):
    shape = draw(shapes(max_side=4))
    log_target = draw(st.booleans())
    target = values(draw, shape, -3, 0) if log_target else values(draw, shape, 0.05, 1)
    kwargs = {
        "reduction": draw(st.sampled_from(["mean", "sum", "none", "batchmean"])),
        "log_target": log_target,
    }
    return Sample([values(draw, shape, -3, 0), target], kwargs)


def kl_broadcast_sample(draw):
    s = kl_sample(draw)
    shape = s.args[0].shape
    k = draw(st.integers(0, 1)) if len(shape) and shape[0] else 0
    s.args[1] = np.asarray(s.args[1][(0,) * k])  # drop a leading dim
    return s


SPECS = [
    OpSpec(
        "cross_entropy",
        lambda x, t, w, **kw: F.cross_entropy(x, t, weight=_cast(w, x), **kw),
        lambda x, t, w, **kw: TF.cross_entropy(x, t, weight=_cast(w, x), **kw),
        ce_sample,
    ),
    OpSpec(
        "cross_entropy_extreme",
        lambda x, t, w, **kw: F.cross_entropy(x, t, weight=_cast(w, x), **kw),
        lambda x, t, w, **kw: TF.cross_entropy(x, t, weight=_cast(w, x), **kw),
        ce_extreme_sample,
        gradcheck=False,
        rtol32=1e-4,
        atol32=1e-3,
    ),
    OpSpec(
        "cross_entropy_probs",
        lambda x, t, w, **kw: F.cross_entropy(x, t, weight=_cast(w, x), **kw),
        lambda x, t, w, **kw: TF.cross_entropy(x, t, weight=_cast(w, x), **kw),
        ce_probs_sample,
    ),
    OpSpec(
        "cross_entropy_probs_weight_grad",
        lambda x, t, w, **kw: F.cross_entropy(x, t, weight=w, **kw),
        lambda x, t, w, **kw: TF.cross_entropy(x, t, weight=w, **kw),
        lambda draw: ce_probs_sample(draw, weight_grad=True),
    ),
    OpSpec(
        "nll_loss",
        lambda x, t, w, **kw: F.nll_loss(x, t, weight=_cast(w, x), **kw),
        lambda x, t, w, **kw: TF.nll_loss(x, t, weight=_cast(w, x), **kw),
        nll_sample,
    ),
    OpSpec(
        "multi_margin_loss",
        lambda x, t, w, **kw: F.multi_margin_loss(x, t, weight=_cast(w, x), **kw),
        lambda x, t, w, **kw: TF.multi_margin_loss(x, t, weight=_cast(w, x), **kw),
        margin_sample,
    ),
    OpSpec(
        "binary_cross_entropy",
        lambda x, t, w, **kw: F.binary_cross_entropy(x, t, weight=_cast(w, x), **kw),
        lambda x, t, w, **kw: TF.binary_cross_entropy(x, t, weight=_cast(w, x), **kw),
        bce_sample,
    ),
    OpSpec(
        "binary_cross_entropy_with_logits",
        lambda x, t, w, pw, **kw: F.binary_cross_entropy_with_logits(
            x, t, weight=_cast(w, x), pos_weight=_cast(pw, x), **kw
        ),
        lambda x, t, w, pw, **kw: TF.binary_cross_entropy_with_logits(
            x, t, weight=_cast(w, x), pos_weight=_cast(pw, x), **kw
        ),
        bce_logits_sample,
    ),
    OpSpec(
        "binary_cross_entropy_with_logits_extreme",
        lambda x, t, w, pw, **kw: F.binary_cross_entropy_with_logits(
            x, t, weight=_cast(w, x), **kw
        ),
        lambda x, t, w, pw, **kw: TF.binary_cross_entropy_with_logits(
            x, t, weight=_cast(w, x), **kw
        ),
        lambda draw: bce_logits_sample(draw, scale=200.0),
        gradcheck=False,
    ),
    OpSpec("mse_loss", F.mse_loss, TF.mse_loss, pointwise_sample()),
    OpSpec("l1_loss", F.l1_loss, TF.l1_loss, pointwise_sample()),
    OpSpec(
        "smooth_l1_loss",
        F.smooth_l1_loss,
        TF.smooth_l1_loss,
        pointwise_sample("beta", [0.0, 0.5, 1.0, 2.0]),
    ),
    OpSpec("huber_loss", F.huber_loss, TF.huber_loss, pointwise_sample("delta", [0.5, 1.0, 2.0])),
    OpSpec(
        "mse_loss_broadcast",
        quiet(F.mse_loss),
        quiet(TF.mse_loss),
        broadcast_pair_sample,
    ),
    OpSpec(
        "smooth_l1_loss_broadcast",
        quiet(F.smooth_l1_loss),
        quiet(TF.smooth_l1_loss),
        broadcast_pair_sample,
    ),
    OpSpec("kl_div", quiet(F.kl_div), quiet(TF.kl_div), kl_sample),
    OpSpec("kl_div_broadcast", quiet(F.kl_div), quiet(TF.kl_div), kl_broadcast_sample),
]
