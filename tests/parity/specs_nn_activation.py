"""Parity rows for ``gradschool.nn.functional``'s activations, ``linear``, ``embedding`` /
``one_hot`` and the distances (activation.py, linear.py, sparse.py, distance.py).

Rows named ``*_kinks`` put inputs exactly on the kinks (0 for ReLU, 0 and 6 for ReLU6, ...)
to check PyTorch's derivative choices there; they skip ``gradcheck``, whose centred
differences are meaningless at a kink. The other rows keep their inputs away from kinks.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import strategies as st

import gradschool as gs
from gradschool.nn import functional as F

from .harness import OpSpec, Sample, broadcastable, distinct, integers, shapes, values


# ---------------------------------------------------------------- samplers
def _avoid(x: np.ndarray, points: tuple[float, ...], d: float) -> np.ndarray:
    """Push values within ``d`` of any of ``points`` out to distance ``d``."""
    for p in points:
        x = np.where(np.abs(x - p) < d, p + np.where(x >= p, d, -d) + (x - p), x)
    return x


def _kinks(draw, x: np.ndarray, points: tuple[float, ...]) -> np.ndarray:
    """Set about a third of the values exactly onto the kinks."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = x.copy()
    on = rng.random(x.shape) < 0.35
    x[on] = rng.choice(np.asarray(points, dtype=np.float64), size=int(on.sum()))
    return x


def unary(low=-3.0, high=3.0, avoid=(), kinks=(), **kwargs):
    def sample(draw):
        shape = draw(shapes(max_dims=3))
        x = _avoid(values(draw, shape, low, high), avoid, 0.05)
        if kinks:
            x = _kinks(draw, x, kinks)
        return Sample([x], dict(kwargs))

    return sample


def prelu_sample(draw):
    if draw(st.booleans()):
        shape = draw(shapes(min_dims=2, max_dims=4, max_side=3))
        wshape = draw(st.sampled_from([(shape[1],), (1,), ()]))
    else:
        shape = draw(shapes(min_dims=1, max_dims=1))
        wshape = draw(st.sampled_from([(1,), ()]))
    x = _avoid(values(draw, shape), (0.0,), 0.05)
    return Sample([x, values(draw, wshape, -1.0, 1.0)])


def with_dim(min_dims=0):
    def sample(draw):
        shape = draw(shapes(min_dims=min_dims, max_dims=3))
        nd = max(len(shape), 1)
        return Sample([values(draw, shape), draw(st.integers(-nd, nd - 1))])

    return sample


def maxout_sample(ties: bool = False):
    def sample(draw):
        shape = list(draw(shapes(min_dims=1, max_dims=3, max_side=3)))
        k = draw(st.integers(1, 3))
        d = draw(st.integers(-len(shape), len(shape) - 1))
        shape[d] *= k
        shape = tuple(shape)
        if ties:  # few distinct values: many ties inside a group
            x = integers(draw, shape, -2, 2).astype(np.float64)
        else:
            x = distinct(draw, shape)
        return Sample([x, k, d])

    return sample


def torch_maxout(x, k, d):
    groups = x.unflatten(d, (x.shape[d] // k, k))
    return groups.max(d + 1 if d >= 0 else d).values


def linear_broadcast(x, w, b=None):
    """PyTorch's ``linear`` folds a >2-D input to 2-D before adding the bias, so a bias of
    shape (L, out) -- outside its documented (out,) -- fails there although it broadcasts
    against the (..., L, out) result; ``x @ w.T + b`` is the same function."""
    y = x @ (w.T if w.ndim == 2 else w)
    return y if b is None else y + b


def linear_sample(vec: bool = False, broadcast_bias: bool = False):
    def sample(draw):
        lead = draw(shapes(min_dims=1 if vec else 0, max_dims=2, max_side=3))
        if broadcast_bias:
            lead = draw(shapes(min_dims=2, max_dims=2, min_side=1, max_side=3))
        fin = draw(st.integers(0, 4))
        fout = draw(st.integers(0, 4))
        x = values(draw, lead + (fin,))
        w = values(draw, (fin,) if vec else (fout, fin))
        if vec:  # PyTorch takes no bias with a weight vector
            b = None
        elif broadcast_bias:
            b = values(draw, draw(st.sampled_from([(1,), (lead[-1], fout), (1, fout)])))
        else:
            b = values(draw, (fout,)) if draw(st.booleans()) else None
        return Sample([x, w, b])

    return sample


def embedding_sample(padding: bool = False, max_norm: bool = False):
    def sample(draw):
        v = draw(st.integers(1, 5))
        d = draw(st.integers(0 if not max_norm else 1, 3))
        idx = integers(draw, draw(shapes(max_dims=2, max_side=4)), 0, v)
        # the padding row's gradient is 0 by design, not the derivative: no gradcheck there
        pad = draw(st.one_of(st.none(), st.integers(-v, v - 1))) if padding else None
        kw = {"padding_idx": pad, "scale_grad_by_freq": draw(st.booleans())}
        if max_norm:
            kw["max_norm"] = draw(st.sampled_from([0.5, 1.0]))
            kw["norm_type"] = draw(st.sampled_from([1.0, 2.0, 3.0]))
        return Sample([idx, values(draw, (v, d))], kw)

    return sample


def one_hot_sample(draw):
    shape = draw(shapes(min_dims=0, max_dims=3, min_side=1))
    idx = integers(draw, shape, 0, 5)
    n = draw(st.sampled_from([-1, int(idx.max()) + 1, int(idx.max()) + 3]))
    return Sample([idx, n])


def normalize_sample(p_values=(2.0, 1.0, 3.0), min_side=0):
    def sample(draw):
        shape = draw(shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=3))
        x = _avoid(values(draw, shape), (0.0,), 0.1)
        nd = len(shape)
        return Sample(
            [x], {"p": draw(st.sampled_from(p_values)), "dim": draw(st.integers(-nd, nd - 1))}
        )

    return sample


def pair_sample(zeros: bool = False):
    def sample(draw):
        (sa, sb), out = draw(broadcastable(2, min_dims=1, max_dims=3, max_side=3))
        # away from 0: a tiny vector's float32 gradient is rounding noise around its true value
        a, b = values(draw, sa, away_from_zero=0.25), values(draw, sb, away_from_zero=0.25)
        if zeros:  # exactly-zero vectors, whose norms are below eps
            if draw(st.booleans()):
                a[...] = 0.0
            else:
                a[:1] = 0.0
        nd = len(out)
        return Sample([a, b], {"dim": draw(st.integers(-nd, nd - 1)), "eps": 1e-8})

    return sample


def distance_sample(p_values=(2.0, 1.0, 3.0), min_side=0):
    def sample(draw):
        (sa, sb), _ = draw(broadcastable(2, min_dims=0, max_dims=3, min_side=min_side, max_side=3))
        return Sample(
            [values(draw, sa), values(draw, sb)],
            {"p": draw(st.sampled_from(p_values)), "keepdim": draw(st.booleans())},
        )

    return sample


def op(name, gs_fn, torch_fn, sample, **kw):
    return OpSpec("nn_" + name, gs_fn, torch_fn, sample, **kw)


SPECS = [
    # ------------------------------------------------------------ the ReLU family
    op("relu", F.relu, TF.relu, unary(avoid=(0.0,))),
    op("relu_kinks", F.relu, TF.relu, unary(kinks=(0.0,)), gradcheck=False),
    op("relu6", F.relu6, TF.relu6, unary(-3, 9, avoid=(0.0, 6.0))),
    op("relu6_kinks", F.relu6, TF.relu6, unary(-3, 9, kinks=(0.0, 6.0)), gradcheck=False),
    op(
        "hardtanh",
        F.hardtanh,
        TF.hardtanh,
        unary(avoid=(-0.5, 1.5), min_val=-0.5, max_val=1.5),
    ),
    op(
        "hardtanh_kinks",
        F.hardtanh,
        TF.hardtanh,
        unary(kinks=(-1.0, 1.0)),
        gradcheck=False,
    ),
    op("leaky_relu", F.leaky_relu, TF.leaky_relu, unary(avoid=(0.0,))),
    op(
        "leaky_relu_slope",
        F.leaky_relu,
        TF.leaky_relu,
        unary(avoid=(0.0,), negative_slope=0.2),
    ),
    op(
        "leaky_relu_steep",
        F.leaky_relu,
        TF.leaky_relu,
        unary(avoid=(0.0,), negative_slope=1.5),
    ),
    op(
        "leaky_relu_negative",
        F.leaky_relu,
        TF.leaky_relu,
        unary(avoid=(0.0,), negative_slope=-0.3),
    ),
    op(
        "leaky_relu_kinks",
        F.leaky_relu,
        TF.leaky_relu,
        unary(kinks=(0.0,), negative_slope=0.2),
        gradcheck=False,
    ),
    op("prelu", F.prelu, TF.prelu, prelu_sample),
    op("elu", F.elu, TF.elu, unary(avoid=(0.0,))),
    op("elu_alpha", F.elu, TF.elu, unary(-6, 3, avoid=(0.0,), alpha=0.5)),
    op("elu_kinks", F.elu, TF.elu, unary(kinks=(0.0,), alpha=2.0), gradcheck=False),
    op("selu", F.selu, TF.selu, unary(-6, 3, avoid=(0.0,))),
    op("selu_kinks", F.selu, TF.selu, unary(kinks=(0.0,)), gradcheck=False),
    # ------------------------------------------------------------ smooth gates
    op("gelu", F.gelu, TF.gelu, unary(-4, 4)),
    op("gelu_wide", F.gelu, TF.gelu, unary(-12, 12), gradcheck=False),
    op("gelu_tanh", F.gelu, TF.gelu, unary(-4, 4, approximate="tanh")),
    op("gelu_tanh_wide", F.gelu, TF.gelu, unary(-12, 12, approximate="tanh"), gradcheck=False),
    op("silu", F.silu, TF.silu, unary(-6, 6)),
    op("silu_extreme", F.silu, TF.silu, unary(-200, 200), gradcheck=False),
    op("softplus", F.softplus, TF.softplus, unary(-6, 6)),
    op(
        "softplus_beta",
        F.softplus,
        TF.softplus,
        unary(-3, 3, avoid=(0.5,), beta=2.0, threshold=1.0),
    ),
    op("softplus_extreme", F.softplus, TF.softplus, unary(-200, 200), gradcheck=False),
    op("sigmoid", F.sigmoid, TF.sigmoid, unary(-6, 6)),
    op("tanh", F.tanh, TF.tanh, unary(-4, 4)),
    # ------------------------------------------------------------ softmax family
    op("softmax", F.softmax, TF.softmax, with_dim()),
    op(
        "softmax_dtype",
        lambda x, d: F.softmax(x, d, dtype=gs.float64),
        lambda x, d: TF.softmax(x, d, dtype=torch.float64),
        with_dim(),
    ),
    op("log_softmax", F.log_softmax, TF.log_softmax, with_dim()),
    op("softmin", F.softmin, TF.softmin, with_dim()),
    op(
        "softmin_dtype",
        lambda x, d: F.softmin(x, d, dtype=gs.float64),
        lambda x, d: TF.softmin(x, d, dtype=torch.float64),
        with_dim(),
    ),
    # ------------------------------------------------------------ maxout
    op("maxout", F.maxout, torch_maxout, maxout_sample()),
    op("maxout_ties", F.maxout, torch_maxout, maxout_sample(ties=True), gradcheck=False),
    # ------------------------------------------------------------ linear
    op("linear", F.linear, TF.linear, linear_sample()),
    op("linear_vector_weight", F.linear, TF.linear, linear_sample(vec=True)),
    op("linear_bias_broadcast", F.linear, linear_broadcast, linear_sample(broadcast_bias=True)),
    # ------------------------------------------------------------ embeddings
    op("embedding", F.embedding, TF.embedding, embedding_sample()),
    op(
        "embedding_padding",
        F.embedding,
        TF.embedding,
        embedding_sample(padding=True),
        gradcheck=False,
    ),
    op(
        "embedding_max_norm",
        F.embedding,
        TF.embedding,
        embedding_sample(padding=True, max_norm=True),
        gradcheck=False,
    ),
    op("one_hot", F.one_hot, TF.one_hot, one_hot_sample, grad=False),
    # ------------------------------------------------------------ distances
    op("normalize", F.normalize, TF.normalize, normalize_sample()),
    op("normalize_inf", F.normalize, TF.normalize, normalize_sample((float("inf"),), min_side=1)),
    op("cosine_similarity", F.cosine_similarity, TF.cosine_similarity, pair_sample()),
    op(
        "cosine_similarity_zeros",
        F.cosine_similarity,
        TF.cosine_similarity,
        pair_sample(zeros=True),
        gradcheck=False,
    ),
    op("pairwise_distance", F.pairwise_distance, TF.pairwise_distance, distance_sample()),
    op(
        "pairwise_distance_inf",
        F.pairwise_distance,
        TF.pairwise_distance,
        distance_sample((float("inf"),), min_side=1),
    ),
]
