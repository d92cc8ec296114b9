"""Parity rows for convolutions (gradschool/nn/functional/conv.py).

Each sampler draws a valid configuration — channels divisible by ``groups``, an input at
least as large as the dilated kernel after padding, an ``output_padding`` smaller than the
stride or the dilation — with sizes kept small so that coordinate-wise gradcheck stays fast.
"""

from __future__ import annotations

import warnings

import torch
from hypothesis import strategies as st

import gradschool.nn.functional as F

from .harness import OpSpec, Sample, values


def _config(draw, nd: int, transposed: bool, same: bool = False):
    """Shapes and options of one convolution: returns (x_shape, w_shape, bias?, kwargs)."""
    groups = draw(st.sampled_from([1, 1, 2]))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3)) for _ in range(nd)]
    dilation = [draw(st.integers(1, 2)) for _ in range(nd)]
    stride = [1] * nd if same else [draw(st.integers(1, 3)) for _ in range(nd)]
    eff = [d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]
    kwargs = {}
    if transposed:
        padding = [draw(st.integers(0, 1)) for _ in range(nd)]
        out_pad = [
            draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
        ]
        # the output, (L-1)*s - 2p + eff + op, must be positive: L >= 1 and eff > 2p suffice
        padding = [min(p, (e - 1) // 2) for p, e in zip(padding, eff, strict=True)]
        spatial = [draw(st.integers(1, 4)) for _ in range(nd)]
        kwargs["output_padding"] = _maybe_int(draw, out_pad)
    elif same:
        padding = draw(st.sampled_from(["same", "valid"]))
        spatial = [draw(st.integers(e, e + 2)) for e in eff]
    else:
        padding = [draw(st.integers(0, 2)) for _ in range(nd)]
        spatial = [
            draw(st.integers(max(1, e - 2 * p), max(1, e - 2 * p) + 3))
            for e, p in zip(eff, padding, strict=True)
        ]
    if not same:
        kwargs["stride"] = _maybe_int(draw, stride)
        padding = _maybe_int(draw, padding)
    kwargs["padding"] = padding
    kwargs["dilation"] = _maybe_int(draw, dilation)
    kwargs["groups"] = groups
    c_in = groups * cg
    w_shape = (c_in, og, *kernel) if transposed else (groups * og, cg, *kernel)
    c_out = groups * og
    batched = draw(st.integers(0, 4)) > 0  # now and then an unbatched (C, ...) input
    x_shape = ((n,) if batched else ()) + (c_in, *spatial)
    return x_shape, w_shape, c_out, draw(st.booleans()), kwargs


def _maybe_int(draw, values_):
    """A tuple of equal values is sometimes passed as the plain int, as users write it."""
    if len(set(values_)) == 1 and draw(st.booleans()):
        return values_[0]
    return tuple(values_)


def conv_sample(nd: int, transposed: bool = False, same: bool = False):
    def sample(draw):
        x_shape, w_shape, c_out, bias, kwargs = _config(draw, nd, transposed, same)
        args = [values(draw, x_shape, -1, 1), values(draw, w_shape, -1, 1)]
        if bias:
            args.append(values(draw, (c_out,), -1, 1))
        return Sample(args, kwargs)

    return sample


def conv_positional(draw):
    """``conv2d(x, w, b, stride, padding, dilation, groups)`` with every option positional."""
    x_shape, w_shape, c_out, _, kw = _config(draw, 2, False)
    args = [values(draw, x_shape, -1, 1), values(draw, w_shape, -1, 1), None]
    return Sample(args + [kw["stride"], kw["padding"], kw["dilation"], kw["groups"]])


def _quiet(fn):
    """``fn`` without PyTorch's warning that 'same' with an even kernel pads a copy."""

    def call(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args, **kwargs)

    return call


def _tol(spec: OpSpec) -> OpSpec:
    spec.atol32 = 5e-5  # sums of up to ~40 float32 products
    return spec


SPECS = [
    _tol(OpSpec("conv2d", F.conv2d, torch.nn.functional.conv2d, conv_sample(2))),
    _tol(
        OpSpec(
            "conv2d_same", F.conv2d, _quiet(torch.nn.functional.conv2d), conv_sample(2, same=True)
        )
    ),
    _tol(OpSpec("conv2d_positional", F.conv2d, torch.nn.functional.conv2d, conv_positional)),
    _tol(OpSpec("conv1d", F.conv1d, torch.nn.functional.conv1d, conv_sample(1))),
    _tol(
        OpSpec(
            "conv1d_same", F.conv1d, _quiet(torch.nn.functional.conv1d), conv_sample(1, same=True)
        )
    ),
    _tol(
        OpSpec(
            "conv_transpose2d",
            F.conv_transpose2d,
            torch.nn.functional.conv_transpose2d,
            conv_sample(2, transposed=True),
        )
    ),
    _tol(
        OpSpec(
            "conv_transpose1d",
            F.conv_transpose1d,
            torch.nn.functional.conv_transpose1d,
            conv_sample(1, transposed=True),
        )
    ),
]
