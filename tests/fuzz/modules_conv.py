"""Layer rows: convolutions (every ``padding_mode``), pooling, unpooling, padding and
upsampling layers, and two small networks (``Sequential``) in train and eval mode.

Geometries come from the parity samplers (``specs_nn_conv._config``,
``specs_nn_pooling.pool_sample`` ...), which draw them valid by construction; max pooling
gets distinct values (ties are ``laws.py``'s business).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st

import gradschool.nn as nn
from tests.fuzz.layers import Layer, LayerCase, targets
from tests.fuzz.specs_extra import upsample_sample
from tests.parity import specs_nn_conv as cv
from tests.parity import specs_nn_pooling as pl
from tests.parity.harness import Sample, distinct, values

T = torch.nn


# ---------------------------------------------------------------- convolutions
def conv_case(nd: int, transposed: bool) -> Callable[[Any], LayerCase]:
    def sample(draw: Any) -> LayerCase:
        x_shape, w_shape, c_out, bias, kw = cv._config(draw, nd, transposed, same=False)
        kwargs = {
            "in_channels": w_shape[0] if transposed else w_shape[1] * kw["groups"],
            "out_channels": c_out,
            "kernel_size": w_shape[2:],
            "bias": bias,
            **kw,
        }
        pads = kw["padding"] if isinstance(kw["padding"], tuple) else (kw["padding"],) * nd
        spatial = x_shape[-nd:]
        if not transposed and draw(st.booleans()):
            # reflect needs each padding below its side, circular at most the side
            mode = draw(st.sampled_from(["reflect", "replicate", "circular"]))
            if all(p < s for p, s in zip(pads, spatial, strict=True)):
                kwargs["padding_mode"] = mode
        x = values(draw, x_shape, -1, 1)
        return LayerCase(kwargs, [x], draw(st.booleans()))

    return sample


# ---------------------------------------------------------------- pooling
def pool_case(nd: int, kind: str) -> Callable[[Any], LayerCase]:
    base = pl.pool_sample(nd, kind)

    def sample(draw: Any) -> LayerCase:
        s = base(draw)
        return LayerCase(dict(s.kwargs), s.args, draw(st.booleans()))

    return sample


def adaptive_case(kind: str) -> Callable[[Any], LayerCase]:
    base = pl.adaptive_sample(kind)

    def sample(draw: Any) -> LayerCase:
        s = base(draw)
        return LayerCase({"output_size": s.args[1], **s.kwargs}, [s.args[0]])

    return sample


def unpool_case(draw: Any) -> LayerCase:
    s = pl.unpool_sample(draw)
    kh, kw = s.kwargs["kernel_size"]
    inputs = s.args + ([s.kwargs["output_size"]] if "output_size" in s.kwargs else [])
    return LayerCase({"kernel_size": (kh, kw)}, inputs)


# ---------------------------------------------------------------- padding, upsampling
def pad_case(mode: str, nd: int, value: bool = False) -> Callable[[Any], LayerCase]:
    """A padding layer's sides from ``pad_sample`` (batched or not, crops included)."""
    geometry = pl.pad_sample("replicate" if mode == "constant" else mode)

    def sample(draw: Any) -> LayerCase:
        for _ in range(20):  # pad_sample draws 1 or 2 padded dims; keep those with nd
            s = geometry(draw)
            if len(s.args[1]) == 2 * nd:
                break
        else:
            s = Sample([values(draw, (1, 2) + (3,) * nd), (1,) * (2 * nd)])
        kwargs: dict[str, Any] = {"padding": s.args[1]}
        if value:
            kwargs["value"] = draw(st.sampled_from([0.0, 1.5, -2.0]))
        return LayerCase(kwargs, [s.args[0]])

    return sample


def upsample_case(mode: str) -> Callable[[Any], LayerCase]:
    base = pl.interpolate_sample(mode)

    def sample(draw: Any) -> LayerCase:
        s = base(draw)
        return LayerCase(dict(s.kwargs), s.args)

    return sample


def fixed_upsample_case(kind: str) -> Callable[[Any], LayerCase]:
    base = upsample_sample(kind)

    def sample(draw: Any) -> LayerCase:
        s = base(draw)
        return LayerCase(dict(s.kwargs), s.args)

    return sample


# ---------------------------------------------------------------- small networks
def smooth_net(lib: Any, c: int, k: int, n_out: int, side: int) -> Any:
    """Conv -> BatchNorm -> SiLU -> AvgPool -> Dropout -> Flatten -> Linear: no kinks and no
    ties anywhere, so float32 rounding cannot flip a gradient. The conv has no bias, as
    before a batch norm in practice: in training its gradient is exactly 0, a sum of terms
    that cancel, and float32 rounding would be all that is compared."""
    out = side // 2
    return lib.Sequential(
        lib.Conv2d(c, 4, k, padding=k // 2, bias=False),
        lib.BatchNorm2d(4),
        lib.SiLU(),
        lib.AvgPool2d(2),
        lib.Dropout(0.0),
        lib.Flatten(),
        lib.Linear(4 * out * out, n_out),
    )


def relu_net(lib: Any, c: int, k: int, n_out: int, side: int) -> Any:
    """Conv -> BatchNorm -> ReLU -> MaxPool -> Flatten -> Linear, run in float64 only: a
    ReLU input or a pooling window pair within float32 rounding of a kink or tie would flip
    a gradient; in float64 that is about 1e-13 likely."""
    out = side // 2
    return lib.Sequential(
        lib.Conv2d(c, 4, k, padding=k // 2, bias=False),
        lib.BatchNorm2d(4),
        lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Flatten(),
        lib.Linear(4 * out * out, n_out),
    )


def net_case(draw: Any) -> LayerCase:
    c, side = draw(st.integers(1, 3)), draw(st.integers(2, 6))
    kwargs = {"c": c, "k": draw(st.sampled_from([1, 3])), "n_out": draw(st.integers(1, 4))}
    kwargs["side"] = side
    x = distinct(draw, (draw(st.integers(2, 3)), c, side, side), scale=0.05)
    return LayerCase(kwargs, [x], draw(st.booleans()), draw(st.integers(1, 2)))


def _pair(fn: Callable[..., Any]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    return (lambda **kw: fn(nn, **kw)), (lambda **kw: fn(T, **kw))


CONV_TOL = {"atol32": 5e-5}  # sums of up to ~40 float32 products (as specs_nn_conv)
LAYERS = [
    Layer("Conv1d", nn.Conv1d, T.Conv1d, conv_case(1, False), **CONV_TOL),
    Layer("Conv2d", nn.Conv2d, T.Conv2d, conv_case(2, False), **CONV_TOL),
    Layer("ConvTranspose1d", nn.ConvTranspose1d, T.ConvTranspose1d, conv_case(1, True), **CONV_TOL),
    Layer("ConvTranspose2d", nn.ConvTranspose2d, T.ConvTranspose2d, conv_case(2, True), **CONV_TOL),
    Layer("MaxPool1d", nn.MaxPool1d, T.MaxPool1d, pool_case(1, "max")),
    Layer("MaxPool2d", nn.MaxPool2d, T.MaxPool2d, pool_case(2, "max")),
    Layer("AvgPool1d", nn.AvgPool1d, T.AvgPool1d, pool_case(1, "avg")),
    Layer("AvgPool2d", nn.AvgPool2d, T.AvgPool2d, pool_case(2, "avg")),
    Layer("AdaptiveAvgPool2d", nn.AdaptiveAvgPool2d, T.AdaptiveAvgPool2d, adaptive_case("avg")),
    Layer("AdaptiveMaxPool2d", nn.AdaptiveMaxPool2d, T.AdaptiveMaxPool2d, adaptive_case("max")),
    Layer("MaxUnpool2d", nn.MaxUnpool2d, T.MaxUnpool2d, unpool_case),
    Layer("ConstantPad1d", nn.ConstantPad1d, T.ConstantPad1d, pad_case("constant", 1, True)),
    Layer("ConstantPad2d", nn.ConstantPad2d, T.ConstantPad2d, pad_case("constant", 2, True)),
    Layer("ZeroPad1d", nn.ZeroPad1d, T.ZeroPad1d, pad_case("constant", 1)),
    Layer("ZeroPad2d", nn.ZeroPad2d, T.ZeroPad2d, pad_case("constant", 2)),
    Layer("ReflectionPad1d", nn.ReflectionPad1d, T.ReflectionPad1d, pad_case("reflect", 1)),
    Layer("ReflectionPad2d", nn.ReflectionPad2d, T.ReflectionPad2d, pad_case("reflect", 2)),
    Layer("ReplicationPad1d", nn.ReplicationPad1d, T.ReplicationPad1d, pad_case("replicate", 1)),
    Layer("ReplicationPad2d", nn.ReplicationPad2d, T.ReplicationPad2d, pad_case("replicate", 2)),
    Layer("CircularPad1d", nn.CircularPad1d, T.CircularPad1d, pad_case("circular", 1)),
    Layer("CircularPad2d", nn.CircularPad2d, T.CircularPad2d, pad_case("circular", 2)),
    Layer("Upsample_nearest", nn.Upsample, T.Upsample, upsample_case("nearest")),
    Layer("Upsample_nearest_exact", nn.Upsample, T.Upsample, upsample_case("nearest-exact")),
    Layer("Upsample_linear", nn.Upsample, T.Upsample, upsample_case("linear")),
    Layer("Upsample_bilinear", nn.Upsample, T.Upsample, upsample_case("bilinear")),
    Layer(
        "UpsamplingNearest2d",
        nn.UpsamplingNearest2d,
        T.UpsamplingNearest2d,
        fixed_upsample_case("nearest"),
    ),
    Layer(
        "UpsamplingBilinear2d",
        nn.UpsamplingBilinear2d,
        T.UpsamplingBilinear2d,
        fixed_upsample_case("bilinear"),
    ),
    Layer("Sequential_smooth_net", *_pair(smooth_net), net_case, atol32=1e-4),
    Layer("Sequential_relu_net", *_pair(relu_net), net_case, dtypes=("float64",)),
]

TARGETS = targets(LAYERS)
