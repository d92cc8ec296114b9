"""The fuzzer's own ``OpSpec`` rows: the differentiable ops the parity rows leave out.

Rounding ops (PyTorch's outputs take a zero gradient, gradschool's are constants by design,
so each is compared beside a differentiable term), copies and dtype casts, view aliases,
``Tensor.where``, in-place methods and ``inplace=True`` on a non-leaf (PyTorch's rules:
recomputed out of place in the graph), ``stochastic_depth`` where it is deterministic, the deprecated ``upsample*`` aliases, the
naive reference loops (``*_naive``, tested here against PyTorch, not only against the fast
ops), and "big" rows sized past the thresholds where gradschool switches to its compiled
kernels (``MIN_SIZE`` = 32768 values for ReLU, batch norm and layout copies; a max pool's
compiled loop wants channels-last input with >= 8 channels or 2x2 windows).

``patch`` adjusts two parity rows for fuzzing (see there): one draws arguments PyTorch
itself rejects, the other inputs so small that float32 rounding alone fails it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as TF  # noqa: N812
from hypothesis import strategies as st

import gradschool as gs
import gradschool.nn.functional as F
from tests.parity import specs_arithmetic as ar
from tests.parity import specs_nn_conv as cv
from tests.parity import specs_nn_pooling as pl
from tests.parity import specs_shape as sh
from tests.parity.harness import Const, OpSpec, Sample, broadcastable, distinct, shapes, values

Sampler = Callable[[Any], Sample]  # a parity sampler: hypothesis' draw -> Sample


# ---------------------------------------------------------------- samplers
def unary(
    low: float = -2.0, high: float = 2.0, min_dims: int = 0, max_dims: int = 4, **kw: Any
) -> Sampler:
    def sample(draw: Any) -> Sample:
        shape = draw(shapes(min_dims=min_dims, max_dims=max_dims))
        return Sample([values(draw, shape, low, high)], dict(kw))

    return sample


def away_from_half(draw: Any) -> Sample:
    """Values never within 0.05 of a rounding boundary (k + 0.5) or of an integer (floor,
    ceil), where float32 rounding of the input would flip the answer."""
    x = values(draw, draw(shapes()), -4.0, 4.0)
    frac = x - np.floor(x)
    x = np.where(np.abs(frac - 0.5) < 0.05, x + 0.1, x)
    frac = x - np.floor(x)
    return Sample([np.where((frac < 0.05) | (frac > 0.95), x + 0.2, x)])


def pair(draw: Any) -> Sample:
    (sa, sb), _ = draw(broadcastable(2))
    return Sample([values(draw, sa), values(draw, sb, away_from_zero=0.5)])


def same_shape_pair(draw: Any) -> Sample:
    shape = draw(shapes())
    return Sample([values(draw, shape), values(draw, shape, away_from_zero=0.5)])


def like_shape(draw: Any) -> Sample:
    """x and a second tensor with x's element count, for reshape_as / view_as."""
    shape = draw(shapes(min_dims=1))
    n = int(np.prod(shape))
    other = (n,) if draw(st.booleans()) or n == 0 else (1, n)
    return Sample([values(draw, shape), Const(np.zeros(other))])


def expand_as_sample(draw: Any) -> Sample:
    (sa, _), out = draw(broadcastable(2))
    return Sample([values(draw, sa), Const(np.zeros(out))])


def unflatten_sample(draw: Any) -> Sample:
    shape = list(draw(shapes(min_dims=1, max_dims=3)))
    d = draw(st.integers(0, len(shape) - 1))
    a = draw(st.integers(1, 3))
    shape[d] *= a
    sizes = (a, -1) if draw(st.booleans()) and shape[d] else (a, shape[d] // a)
    return Sample([values(draw, tuple(shape)), d, sizes])


def two_dims(draw: Any) -> Sample:
    shape = draw(shapes(min_dims=1))
    nd = len(shape)
    return Sample(
        [values(draw, shape), draw(st.integers(-nd, nd - 1)), draw(st.integers(0, nd - 1))]
    )


def broadcast_three(draw: Any) -> Sample:
    (sa, sb, sc), _ = draw(broadcastable(3))
    return Sample([values(draw, sa), values(draw, sb), values(draw, sc)])


def mask_pair(draw: Any) -> Sample:
    (sx, sm), _ = draw(broadcastable(2))
    if len(sm) > len(sx) or any(m not in (x, 1) for m, x in zip(sm[::-1], sx[::-1], strict=False)):
        sm = sx  # in place, the mask must broadcast to x itself
    return Sample([values(draw, sx), Const(values(draw, sm) > 0)])


def scatter_sample(draw: Any) -> Sample:
    """scatter_add_ into a copy of x: index and src as large as each other (see specs_index)."""
    shape = draw(shapes(1, 3, 1))
    d = draw(st.integers(0, len(shape) - 1))
    ishape = tuple(draw(st.integers(0, s)) for s in shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    idx = rng.integers(0, shape[d], size=ishape)
    return Sample([values(draw, shape), d, Const(idx), values(draw, ishape)])


def stochastic_depth_sample(draw: Any) -> Sample:
    shape = draw(shapes(min_dims=1, max_dims=4))
    p, training = draw(st.sampled_from([(0.0, True), (1.0, True), (0.5, False), (0.0, False)]))
    mode = draw(st.sampled_from(["row", "batch"]))
    return Sample([values(draw, shape), p, mode, training])


def torch_stochastic_depth(x: Any, p: float, mode: str, training: bool) -> Any:
    """torchvision.ops.stochastic_depth (not installed here), for the deterministic p."""
    if not training or p == 0.0:
        return x
    size = [x.shape[0]] + [1] * (x.ndim - 1) if mode == "row" else [1] * x.ndim
    noise = torch.empty(size, dtype=x.dtype).bernoulli_(1.0 - p)
    return x * (noise / (1.0 - p) if p < 1.0 else noise)


def upsample_sample(kind: str) -> Sampler:
    """``upsample_nearest`` / ``upsample_bilinear``: 4-D input, a size or an integer factor."""

    def sample(draw: Any) -> Sample:
        shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *draw(shapes(2, 2, 1, 4)))
        if draw(st.booleans()):
            return Sample([values(draw, shape)], {"size": (draw(st.integers(1, 6)),) * 2})
        return Sample([values(draw, shape)], {"scale_factor": draw(st.integers(1, 3))})

    return sample


def upsample_any(draw: Any) -> Sample:
    """``interpolate``'s arguments less ``recompute_scale_factor``, which upsample lacks."""
    s = pl.interpolate_sample(draw(st.sampled_from(["nearest", "linear", "bilinear"])))(draw)
    s.kwargs.pop("recompute_scale_factor", None)
    return s


def naive_pool(kind: str) -> Sampler:
    """The 2-D pool rows' arguments, always batched (the naive loops want (N, C, H, W))."""
    base = pl.pool_sample(2, kind)

    def sample(draw: Any) -> Sample:
        s = base(draw)
        x = s.args[0]
        s.args[0] = x[None] if x.ndim == 3 else x
        return s

    return sample


def naive_conv(transposed: bool) -> Sampler:
    base = cv.conv_sample(2, transposed=transposed)

    def sample(draw: Any) -> Sample:
        s = base(draw)
        x = s.args[0]
        s.args[0] = x[None] if x.ndim == 3 else x
        return s

    return sample


# ---------------------------------------------------------------- big rows (compiled paths)
def big_relu(draw: Any) -> Sample:
    n = draw(st.integers(32768, 40000))
    x = values(draw, (n,), -2, 2, away_from_zero=1e-3)
    return Sample([x.reshape(-1, 8) if n % 8 == 0 and draw(st.booleans()) else x])


def big_batch_norm(training: bool) -> Sampler:
    """(N, C, H, W) with >= 32768 values of order 1 (the weight's gradient sums thousands of
    products per channel: float32 rounding of that sum is what ``atol32`` allows)."""

    def sample(draw: Any) -> Sample:
        n, c = draw(st.sampled_from([2, 4])), draw(st.sampled_from([16, 32]))
        h = draw(st.integers(-(-1024 // (n * c)), 40))  # n * c * h * 32 >= 32768
        x = values(draw, (n, c, h, 32))
        mean, var = values(draw, (c,)), values(draw, (c,), 0.5, 2.0)
        w = values(draw, (c,)) if draw(st.booleans()) else None
        return Sample([x, Stats2(mean, var), w, values(draw, (c,))], {"training": training})

    return sample


@dataclasses.dataclass
class Stats2:
    """Running statistics made per call in the input's dtype (as specs_nn_norm.Stats)."""

    mean: np.ndarray
    var: np.ndarray


def _bn(fn: Callable[..., Any], lib: str) -> Callable[..., Any]:
    def call(x: Any, stats: Stats2, w: Any, b: Any, **kw: Any) -> Any:
        new = gs.tensor if lib == "gs" else torch.tensor
        dt = x.dtype
        rm, rv = new(stats.mean, dtype=dt), new(stats.var, dtype=dt)
        return fn(x, rm, rv, w, b, **kw)

    return call


def big_conv(draw: Any) -> Sample:
    """A ResNet-like 3x3 convolution (one group: the compiled im2col and sliced GEMMs)."""
    n, cin, cout = draw(st.integers(1, 4)), draw(st.sampled_from([3, 8, 16])), 16
    h, w = draw(st.integers(6, 14)), draw(st.integers(6, 14))
    k, stride = draw(st.sampled_from([(3, 1), (3, 2), (1, 1), (5, 1)]))
    kw = {"padding": k // 2, "stride": stride}
    args = [values(draw, (n, cin, h, w), -1, 1), values(draw, (cout, cin, k, k), -0.3, 0.3)]
    return Sample(args + [values(draw, (cout,), -1, 1)], kw)


def wide_max_pool(draw: Any) -> Sample:
    """>= 8 channels (the compiled loop's general case), or 2x2 windows, no ties."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(8, 12))
    k, s, p = draw(st.sampled_from([(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)]))
    shape = (n, c, draw(st.integers(k, 9)), draw(st.integers(k, 9)))
    return Sample([distinct(draw, shape)], {"kernel_size": k, "stride": s, "padding": p})


def big_layout(draw: Any) -> Sample:
    """A copy between the layouts of >= 32768 values (``backend/layout.py``)."""
    n, c = draw(st.integers(1, 2)), draw(st.sampled_from([16, 32]))
    return Sample([values(draw, (n, c, 32, draw(st.integers(32, 40))))])


# ---------------------------------------------------------------- in place, on a non-leaf
def inplace(method: str, *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """``y = x * 1; y.method_(...)`` in both libraries (a leaf that requires grad refuses)."""

    def call(x: Any, *more: Any) -> Any:
        y = x * 1
        getattr(y, method)(*more, *args, **kwargs)
        return y

    return call


def functional_inplace(
    gs_fn: Callable[..., Any], torch_fn: Callable[..., Any], **kwargs: Any
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def pair_(lib_fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(x: Any) -> Any:
            y = x * 1
            lib_fn(y, **kwargs)
            return y

        return call

    return pair_(gs_fn), pair_(torch_fn)


def both(fn: Callable[..., Any]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``fn(library, *args)`` as a (gradschool, PyTorch) pair of calls."""
    return (lambda *a: fn(gs, *a)), (lambda *a: fn(torch, *a))


def _row(
    name: str, gs_fn: Callable[..., Any], torch_fn: Callable[..., Any], sample: Sampler, **kw: Any
) -> OpSpec:
    return OpSpec(name, gs_fn, torch_fn, sample, **kw)


KINK = {"away": 0.05}
SPECS = [
    # rounding: PyTorch gives a zero gradient, gradschool none (its output is a constant,
    # by design: "no gradient"), so each is compared beside a differentiable term
    _row("ceil", *both(lambda m, x: x * 2 + m.ceil(x)), away_from_half),
    _row("floor", *both(lambda m, x: x * 2 + m.floor(x)), away_from_half),
    _row("round", *both(lambda m, x: x * 2 + m.round(x)), away_from_half),
    _row("sign", *both(lambda m, x: x * 2 + m.sign(x)), ar.unary(away=0.05)),
    # copies and casts (the gradient comes back in the input's dtype)
    _row("clone", gs.clone, torch.clone, unary()),
    _row("contiguous", lambda x: x.contiguous(), lambda x: x.contiguous(), unary()),
    _row("to_float64", lambda x: x.to(gs.float64), lambda x: x.to(torch.float64), unary()),
    _row("to_float32", lambda x: x.float(), lambda x: x.float(), unary()),
    _row("double", lambda x: x.double() * 2, lambda x: x.double() * 2, unary()),
    _row(
        "type_as",
        lambda x, o: x.type_as(o),
        lambda x, o: x.type_as(o),
        lambda d: Sample([values(d, d(shapes())), Const(np.zeros(1, np.float32))]),
    ),
    # view aliases
    _row("reshape_as", lambda x, o: x.reshape_as(o), lambda x, o: x.reshape_as(o), like_shape),
    _row("view_as", lambda x, o: x.view_as(o), lambda x, o: x.reshape_as(o), like_shape),
    _row("expand_as", lambda x, o: x.expand_as(o), lambda x, o: x.expand_as(o), expand_as_sample),
    _row("unflatten", gs.unflatten, torch.unflatten, unflatten_sample),
    _row("swapaxes", gs.swapaxes, torch.swapaxes, two_dims),
    _row("swapdims", gs.swapdims, torch.swapdims, two_dims),
    _row("t", gs.t, torch.t, unary(max_dims=2)),
    _row("mT", lambda x: x.mT, lambda x: x.mT, unary(min_dims=2)),
    _row("broadcast_tensors", gs.broadcast_tensors, torch.broadcast_tensors, broadcast_three),
    _row("concat", gs.concat, torch.concat, sh.cat_sample),
    _row("concatenate", gs.concatenate, torch.concatenate, sh.cat_sample),
    _row("clip", lambda x: x.clip(-0.5, 0.7), lambda x: x.clip(-0.5, 0.7), unary()),
    _row(
        "sub_alpha",
        lambda a, b: gs.sub(a, b, alpha=-1.5),
        lambda a, b: torch.sub(a, b, alpha=-1.5),
        pair,
    ),
    _row(
        "where_method",
        lambda a, b: a.where(a > 0, b),
        lambda a, b: a.where(a > 0, b),
        ar.binary(),
    ),
    _row(
        "where_scalar",
        lambda a, b: gs.where(a > 0, a, 0.5),
        lambda a, b: torch.where(a > 0, a, 0.5),
        pair,
    ),
    # in-place methods on a non-leaf, and inplace=True
    _row("add_", inplace("add_", alpha=0.5), inplace("add_", alpha=0.5), same_shape_pair),
    _row("sub_", inplace("sub_"), inplace("sub_"), same_shape_pair),
    _row("mul_", inplace("mul_"), inplace("mul_"), same_shape_pair),
    _row("div_", inplace("div_"), inplace("div_"), same_shape_pair),
    _row("pow_", inplace("pow_", 2), inplace("pow_", 2), unary()),
    _row("neg_", inplace("neg_"), inplace("neg_"), unary()),
    _row("exp_", inplace("exp_"), inplace("exp_"), unary()),
    _row("sigmoid_", inplace("sigmoid_"), inplace("sigmoid_"), unary()),
    _row("tanh_", inplace("tanh_"), inplace("tanh_"), unary()),
    _row("relu_method_", inplace("relu_"), inplace("relu_"), ar.unary(**KINK)),
    _row("clamp_", inplace("clamp_", -0.5, 0.7), inplace("clamp_", -0.5, 0.7), unary()),
    _row("zero_", inplace("zero_"), inplace("zero_"), unary()),
    _row("fill_", inplace("fill_", 1.5), inplace("fill_", 1.5), unary()),
    _row("copy_", inplace("copy_"), inplace("copy_"), same_shape_pair),
    _row(
        "masked_fill_",
        inplace("masked_fill_", value=-1.5),
        inplace("masked_fill_", value=-1.5),
        mask_pair,
    ),
    _row("scatter_add_", inplace("scatter_add_"), inplace("scatter_add_"), scatter_sample),
    _row("relu_", *functional_inplace(F.relu_, TF.relu_), ar.unary(**KINK)),
    _row("elu_", *functional_inplace(F.elu_, TF.elu_, alpha=0.7), ar.unary(**KINK)),
    _row("hardtanh_", *functional_inplace(F.hardtanh_, TF.hardtanh_), unary(-0.95, 0.95)),
    _row(
        "leaky_relu_",
        *functional_inplace(F.leaky_relu_, TF.leaky_relu_, negative_slope=0.2),
        ar.unary(**KINK),
    ),
    _row("relu_inplace_arg", *functional_inplace(F.relu, TF.relu, inplace=True), ar.unary(**KINK)),
    _row(
        "dropout_eval_inplace",
        *functional_inplace(F.dropout, TF.dropout, p=0.4, training=False, inplace=True),
        unary(),
    ),
    # deterministic stochastic depth, the deprecated upsampling aliases
    _row("stochastic_depth", F.stochastic_depth, torch_stochastic_depth, stochastic_depth_sample),
    _row("upsample_nearest", F.upsample_nearest, TF.upsample_nearest, upsample_sample("nearest")),
    _row(
        "upsample_bilinear", F.upsample_bilinear, TF.upsample_bilinear, upsample_sample("bilinear")
    ),
    _row("upsample", F.upsample, TF.upsample, upsample_any),
    # the naive reference loops
    _row("conv2d_naive", F.conv2d_naive, TF.conv2d, naive_conv(False), atol32=5e-5),
    _row(
        "conv_transpose2d_naive",
        F.conv_transpose2d_naive,
        TF.conv_transpose2d,
        naive_conv(True),
        atol32=5e-5,
    ),
    _row("max_pool2d_naive", F.max_pool2d_naive, TF.max_pool2d, naive_pool("max")),
    _row("avg_pool2d_naive", F.avg_pool2d_naive, TF.avg_pool2d, naive_pool("avg")),
    # big: the compiled kernels
    _row("big_relu", gs.relu, torch.relu, big_relu),
    _row(
        "big_batch_norm_train",
        _bn(F.batch_norm, "gs"),
        _bn(TF.batch_norm, "torch"),
        big_batch_norm(True),
        atol32=1e-3,
    ),
    _row(
        "big_batch_norm_eval",
        _bn(F.batch_norm, "gs"),
        _bn(TF.batch_norm, "torch"),
        big_batch_norm(False),
        atol32=1e-3,
    ),
    _row("big_conv2d", F.conv2d, TF.conv2d, big_conv, atol32=1e-4),
    _row("wide_max_pool2d", F.max_pool2d, TF.max_pool2d, wide_max_pool),
    _row("big_layout_copy", lambda x: x.contiguous() * 2, lambda x: x.contiguous() * 2, big_layout),
]


def away_from_zero(sampler: Sampler, d: float = 0.25) -> Sampler:
    """``sampler`` with its float arrays' non-zero values pushed at least ``d`` from 0.

    The gradient of a cosine similarity along a short dimension is a difference of two
    terms of size 1/|x|, about 0 for a 1-element dimension: at |x| = 0.004 float32 rounding
    of those terms (ulp(256) = 3e-5) exceeds the tolerance, with no difference in the
    code. Exact zeros stay (the ``_zeros`` row is about norms below eps)."""

    def sample(draw: Any) -> Sample:
        s = sampler(draw)
        for i, a in enumerate(s.args):
            if isinstance(a, np.ndarray) and a.dtype.kind == "f":
                near = (a != 0) & (np.abs(a) < d)
                s.args[i] = np.where(near, a + np.copysign(d, a), a)
        return s

    return sample
