"""Parity rows for pooling, unpooling, interpolation and padding
(gradschool/nn/functional/pooling.py, upsampling.py, padding.py).

Max pooling draws values without ties (a tie has no single gradient, and finite differences
would straddle it). Geometries are drawn valid by construction: kernel, stride, padding
(at most half the kernel) and dilation first, then an input at least as large as the dilated
kernel minus the padding.
"""

from __future__ import annotations

import math

import numpy as np
import torch.nn.functional as TF  # noqa: N812
from hypothesis import strategies as st

import gradschool.nn.functional as F

from .harness import Const, OpSpec, Sample, distinct, integers, values


def _lead(draw, batched: bool | None = None) -> tuple[int, ...]:
    """(N, C) or, sometimes, just (C,) for an unbatched input; N may be 0."""
    if batched is None:
        batched = draw(st.integers(0, 4)) > 0
    c = draw(st.integers(1, 2))
    return (draw(st.integers(0, 2)), c) if batched else (c,)


def _axis(draw, dilation: bool, stride: bool) -> tuple[dict, int]:
    """One spatial axis: (kernel, stride, padding, dilation) and a fitting input length;
    without ``stride`` it is the kernel size (the default)."""
    k = draw(st.integers(1, 3))
    s = draw(st.integers(1, 3)) if stride else k
    p = draw(st.integers(0, k // 2))
    d = draw(st.integers(1, 2)) if dilation else 1
    span = d * (k - 1) + 1
    size = draw(st.integers(max(1, span - 2 * p), 6))
    return {"k": k, "s": s, "p": p, "d": d}, size


def _covered(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> bool:
    """Whether every window holds at least one input element (a dilated window can lie wholly
    in the padding; PyTorch then returns -inf and an out-of-plane index)."""
    span = d * (k - 1) + 1
    out = (size + 2 * p - span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return all(any(0 <= j * s - p + o * d < size for o in range(k)) for j in range(out))


def pool_sample(nd: int, kind: str):
    """``kind``: "max" (dilation, return_indices, distinct values) or "avg"
    (count_include_pad, divisor_override)."""

    def sample(draw):
        stride = draw(st.booleans())
        axes = [_axis(draw, dilation=kind == "max", stride=stride) for _ in range(nd)]
        ceil = draw(st.booleans())
        if not all(_covered(n, ceil=ceil, **a) for a, n in axes):
            axes = [({**a, "d": 1}, max(n, a["k"] - 2 * a["p"])) for a, n in axes]

        def arg(key):
            return axes[0][0][key] if nd == 1 else tuple(a[key] for a, _ in axes)

        kwargs = {"kernel_size": arg("k"), "padding": arg("p"), "ceil_mode": ceil}
        if stride:
            kwargs["stride"] = arg("s")
        shape = _lead(draw) + tuple(n for _, n in axes)
        if kind == "max":
            kwargs["dilation"] = arg("d")
            kwargs["return_indices"] = draw(st.booleans())
            return Sample([distinct(draw, shape)], kwargs)
        kwargs["count_include_pad"] = draw(st.booleans())
        if nd == 2 and draw(st.integers(0, 3)) == 0:
            kwargs["divisor_override"] = draw(st.integers(1, 5))
        return Sample([values(draw, shape)], kwargs)

    return sample


def simple_pool_sample(draw):
    """The everyday case: kernel 2 (stride 2) or 3 (stride 2, padding 1) on a batch."""
    k, s, p = draw(st.sampled_from([(2, 2, 0), (3, 2, 1), (2, 1, 0)]))
    shape = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 3)),
        draw(st.integers(2, 6)),
        draw(st.integers(2, 6)),
    )
    return Sample([distinct(draw, shape), k, s, p])


def adaptive_sample(kind: str):
    def sample(draw):
        shape = _lead(draw) + (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
        size = st.integers(1, 5)
        out = draw(
            st.one_of(size, st.tuples(st.one_of(size, st.none()), st.one_of(size, st.none())))
        )
        if kind == "max":
            return Sample([distinct(draw, shape), out], {"return_indices": draw(st.booleans())})
        return Sample([values(draw, shape), out])

    return sample


def unpool_sample(draw):
    """Values and valid, distinct indices as ``max_pool2d(kernel = stride)`` would give them,
    sometimes with an ``output_size`` a little larger than the default."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    lead = _lead(draw)
    h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    out_h, out_w = h * kh, w * kw
    extra = (draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1)))
    row = np.arange(h)[:, None] * kh + integers(draw, lead + (h, w), 0, kh)
    col = np.arange(w) * kw + integers(draw, lead + (h, w), 0, kw)
    indices = (row * (out_w + extra[1]) + col).astype(np.int64)
    kwargs = {"kernel_size": (kh, kw)}
    if any(extra):
        kwargs["output_size"] = (out_h + extra[0], out_w + extra[1])
    return Sample([values(draw, lead + (h, w)), Const(indices)], kwargs)


def interpolate_sample(mode: str):
    def sample(draw):
        nd = {"linear": 1, "bilinear": 2}.get(mode) or draw(st.integers(1, 2))
        shape = (draw(st.integers(0, 2)), draw(st.integers(1, 2))) + tuple(
            draw(st.integers(1, 5)) for _ in range(nd)
        )
        kwargs: dict = {"mode": mode}
        if mode in ("linear", "bilinear"):
            kwargs["align_corners"] = draw(st.booleans())
        if draw(st.booleans()):
            sizes = tuple(draw(st.integers(1, 9)) for _ in range(nd))
            kwargs["size"] = sizes if nd == 2 and draw(st.booleans()) else sizes[0]
        else:
            factor = st.sampled_from([0.5, 0.75, 1.5, 2.0, 2.5, 3.0])
            factors = [draw(factor) for _ in range(nd)]
            # at least one output pixel; PyTorch's 1-D nearest backward disagrees with its own
            # forward when a scale_factor keeps the size, so 1-D scales always change it
            factors = [
                f if math.floor(n * f) >= 1 and (nd == 2 or math.floor(n * f) != n) else 2.0
                for n, f in zip(shape[2:], factors, strict=True)
            ]
            kwargs["scale_factor"] = factors[0] if nd == 1 else tuple(factors)
            kwargs["recompute_scale_factor"] = draw(st.booleans())
        return Sample([values(draw, shape)], kwargs)

    return sample


def pad_sample(mode: str):
    def sample(draw):
        n = draw(st.integers(1, 2)) if mode != "constant" else draw(st.integers(1, 3))
        if mode == "constant":
            shape = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(n, 4))))
        else:
            shape = _lead(draw) + tuple(draw(st.integers(1, 4)) for _ in range(n))
        pads = []
        for size in reversed(shape[-n:]):  # last dim first, as F.pad reads them
            lo = -(size // 2)  # crop at most half from each side
            hi = {"reflect": size - 1, "circular": size // 2}.get(mode, 3)
            before = draw(st.integers(lo, hi))
            least = lo if mode == "constant" else max(lo, 1 - size - before)  # keep 1 element
            pads += [before, draw(st.integers(least, hi))]
        kwargs = {"mode": mode}
        if mode == "constant" and draw(st.booleans()):
            kwargs["value"] = draw(st.sampled_from([0.0, 1.5, -2.0]))
        return Sample([values(draw, shape), tuple(pads)], kwargs)

    return sample


SPECS = [
    OpSpec("max_pool1d", F.max_pool1d, TF.max_pool1d, pool_sample(1, "max")),
    OpSpec("max_pool2d", F.max_pool2d, TF.max_pool2d, pool_sample(2, "max")),
    OpSpec(
        "max_pool2d_positional",
        lambda x, k, s, p: F.max_pool2d(x, k, s, p),
        lambda x, k, s, p: TF.max_pool2d(x, k, s, p),
        simple_pool_sample,
    ),
    OpSpec("avg_pool1d", F.avg_pool1d, TF.avg_pool1d, pool_sample(1, "avg")),
    OpSpec("avg_pool2d", F.avg_pool2d, TF.avg_pool2d, pool_sample(2, "avg")),
    OpSpec(
        "adaptive_avg_pool2d", F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, adaptive_sample("avg")
    ),
    OpSpec(
        "adaptive_max_pool2d", F.adaptive_max_pool2d, TF.adaptive_max_pool2d, adaptive_sample("max")
    ),
    OpSpec("max_unpool2d", F.max_unpool2d, TF.max_unpool2d, unpool_sample),
    OpSpec("interpolate_nearest", F.interpolate, TF.interpolate, interpolate_sample("nearest")),
    OpSpec(
        "interpolate_nearest_exact",
        F.interpolate,
        TF.interpolate,
        interpolate_sample("nearest-exact"),
    ),
    OpSpec("interpolate_linear", F.interpolate, TF.interpolate, interpolate_sample("linear")),
    OpSpec("interpolate_bilinear", F.interpolate, TF.interpolate, interpolate_sample("bilinear")),
    OpSpec("pad_constant", F.pad, TF.pad, pad_sample("constant")),
    OpSpec("pad_reflect", F.pad, TF.pad, pad_sample("reflect")),
    OpSpec("pad_replicate", F.pad, TF.pad, pad_sample("replicate")),
    OpSpec("pad_circular", F.pad, TF.pad, pad_sample("circular")),
]
