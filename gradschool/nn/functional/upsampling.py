"""Upsampling: ``interpolate`` resizes feature maps (nearest and linear/bilinear).

CS231n L11 (segmentation): "in-network upsampling" for the decoder of a fully convolutional
network, next to unpooling (``max_unpool2d``) and transposed convolution; CSC321 L11. Also
the resizing of images and masks in data pipelines.

- ``nearest``: output pixel ``j`` copies input pixel ``floor(j * in / out)`` (PyTorch's rule,
  computed in float32 as PyTorch does; ``nearest-exact`` uses ``floor((j + 0.5) * in / out)``,
  the pixel whose centre is nearest).
- ``linear`` / ``bilinear``: output pixel ``j`` sits at source coordinate
  ``(j + 0.5) * in / out - 0.5`` (``align_corners=False``: pixels are squares, corners of the
  squares line up) or ``j * (in - 1) / (out - 1)`` (``align_corners=True``: the centres of
  the corner pixels line up), and blends its two neighbours ``x[i0] * (1 - t) + x[i1] * t``.

Both are separable, so a 2-D resize is a 1-D resize along W and then along H: each one gather
of the neighbours (``take``) and one blend, vectorised over everything else. The backward is the
matching scatter-add: every input pixel collects the gradient of the outputs it fed, with
their weights.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...autograd.function import Function
from ...backend.device import get_array_module
from ...tensor import Tensor
from .padding import AxisMap, Gather, gather_axis, scatter_axis

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear")
_LINEAR_DIMS = {"linear": 1, "bilinear": 2}


class Nearest(Gather):
    """Nearest resizing: a gather along each axis; the backward adds up the copies."""

    op_name = "interpolate"


class Blend(Function):
    """Linear resampling along one axis: ``y[j] = x[i0[j]] * w0[j] + x[i1[j]] * w1[j]``."""

    op_name = "interpolate"

    def forward(
        self, x: Any, axis: int = -1, i0: Any = None, i1: Any = None, w1: Any = None
    ) -> Any:
        xp = get_array_module(x)
        size = x.shape[x.ndim + axis]
        w1 = xp.asarray(w1.reshape((-1,) + (1,) * (-axis - 1)))
        w0 = 1 - w1  # computed in the input's dtype, as PyTorch's lambda0 = 1 - lambda1
        self.maps = (AxisMap(axis, size, i0), AxisMap(axis, size, i1))
        self.saved = (w0, w1)
        left = gather_axis(x, self.maps[0])
        left *= w0
        right = gather_axis(x, self.maps[1])
        right *= w1
        left += right
        return left

    def backward(self, g: Any) -> tuple[Any]:
        w0, w1 = self.saved
        gx = scatter_axis(g * w0, self.maps[0])
        gx += scatter_axis(g * w1, self.maps[1])
        return (gx,)


# ---------------------------------------------------------------- source coordinates
def _nearest_index(
    size: int, out: int, scale: float | None, exact: bool, keep_same: bool
) -> np.ndarray:
    """PyTorch's nearest source index for each output position (float32 arithmetic).

    ``keep_same``: an axis whose size is kept is copied unchanged whatever the scale_factor
    (PyTorch's 2-D kernel does this; its 1-D forward does not, though its 1-D backward does).
    """
    j = np.arange(out)
    if keep_same and not exact and out == size:
        return j
    if scale is not None and scale > 0:
        ratio = np.float32(1.0 / scale)  # the user's factor, not out / in
    else:
        ratio = np.float32(size) / np.float32(out)
    if exact:
        src = ((j + 0.5) * np.float64(ratio)).astype(np.float32)
    else:
        src = j.astype(np.float32) * ratio
    return np.minimum(np.floor(src).astype(np.int64), size - 1)


def _linear_weights(
    size: int, out: int, scale: float | None, align_corners: bool, dtype: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two neighbours ``i0, i1`` and the weight ``w1`` of ``i1`` for each output position,
    computed in the input's float dtype like PyTorch's CPU kernel."""
    dt = np.dtype(dtype).type
    j = np.arange(out).astype(dt)
    if align_corners:
        ratio = dt(size - 1) / dt(out - 1) if out > 1 else dt(0)
        src = ratio * j
    else:
        if scale is not None and scale > 0:
            ratio = dt(1.0 / scale)
        else:
            ratio = dt(size) / dt(out)
        src = np.maximum(ratio * (j + dt(0.5)) - dt(0.5), dt(0))  # clamp before the first centre
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    i1 = i0 + (i0 < size - 1)
    w1 = np.clip(src - i0.astype(dt), dt(0), dt(1)).astype(dt)
    return i0, i1, w1


# ---------------------------------------------------------------- the functional API
def _spatial(value: Any, n: int, name: str, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """``value`` (a number or one per spatial dim) as one per spatial dim."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(
                f"interpolate: {name} must have one entry per spatial dim ({n} for an input of "
                f"spatial size {list(shape)}), got {tuple(value)}"
            )
        return tuple(value)
    return (value,) * n


def interpolate(
    input: Tensor,  # noqa: A002
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of (N, C, L) or (N, C, H, W) to ``size`` or by
    ``scale_factor`` (CS231n L11 in-network upsampling).

    ``mode``: ``"nearest"`` (3D/4D), ``"nearest-exact"`` (3D/4D), ``"linear"`` (3D) or
    ``"bilinear"`` (4D). The output size is ``size``, or ``floor(in * scale_factor)``; the
    given ``scale_factor`` is also what maps output to source coordinates, unless
    ``recompute_scale_factor=True`` (then ``in / out``). ``align_corners`` (linear modes only)
    aligns the centres of the corner pixels instead of their outer corners.

    >>> import gradschool as gs
    >>> import gradschool.nn.functional as F
    >>> F.interpolate(gs.tensor([[[1.0, 2.0]]]), scale_factor=2)
    tensor([[[1., 1., 2., 2.]]])
    >>> F.interpolate(gs.tensor([[[1.0, 2.0]]]), size=4, mode="linear")
    tensor([[[1.0000, 1.2500, 1.7500, 2.0000]]])
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(
            f"{op}: mode must be one of {', '.join(_MODES)} (others are not implemented), "
            f"got {mode!r}"
        )
    if antialias:
        raise ValueError(f"{op}: antialias=True is not implemented")
    x = input.data
    linear = mode in _LINEAR_DIMS
    if not linear and align_corners is not None:
        raise ValueError(
            f"{op}: align_corners can only be set with the interpolating modes "
            f"(linear, bilinear), not with mode {mode!r}"
        )
    allowed = (_LINEAR_DIMS[mode] + 2,) if linear else (3, 4)
    if x.ndim not in allowed:
        want = " or ".join(f"{d}D" for d in allowed)
        raise ValueError(
            f"{op}: mode {mode!r} expects a {want} input (N, C, spatial...), "
            f"got shape {tuple(x.shape)}"
        )
    if x.dtype.kind != "f" and linear:
        raise TypeError(f"{op}: mode {mode!r} needs a floating point input, got {x.dtype}")
    n = x.ndim - 2
    spatial = tuple(int(v) for v in x.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(
                f"{op}: recompute_scale_factor is not meaningful with an explicit size"
            )
        out = _spatial(size, n, "size", spatial)
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in out):
            raise TypeError(f"{op}: size must be an int or a tuple of ints, got {size!r}")
        out = tuple(int(v) for v in out)
        scales: tuple[Any, ...] = (None,) * n
    else:
        factors = _spatial(scale_factor, n, "scale_factor", spatial)
        if not all(isinstance(f, (int, float, np.number)) for f in factors):
            raise TypeError(f"{op}: scale_factor must be a number or a tuple, got {scale_factor!r}")
        out = tuple(math.floor(float(s) * float(f)) for s, f in zip(spatial, factors, strict=True))
        scales = (None,) * n if recompute_scale_factor else tuple(float(f) for f in factors)
    if min(out) <= 0 or min(spatial) <= 0:
        raise ValueError(
            f"{op}: input and output sizes must be positive, got input {list(spatial)} and "
            f"output {list(out)}"
        )
    axes = range(-1, -n - 1, -1)  # W first, then H
    sizes = zip(axes, reversed(spatial), reversed(out), reversed(scales), strict=True)
    if not linear:
        exact = mode == "nearest-exact"
        maps = tuple(
            AxisMap(axis, s, _nearest_index(s, o, f, exact, keep_same=n == 2))
            for axis, s, o, f in sizes
        )
        return Nearest.apply(input, maps=maps)
    result = input
    for axis, s, o, f in sizes:
        if o == s:
            continue  # PyTorch copies an axis whose size is kept, whatever the scale_factor
        i0, i1, w1 = _linear_weights(s, o, f, bool(align_corners), x.dtype)
        result = Blend.apply(result, axis=axis, i0=i0, i1=i1, w1=w1)
    return result if result is not input else Nearest.apply(input, maps=())  # a copy


def upsample(
    input: Tensor,  # noqa: A002
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """PyTorch's older name for ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """``interpolate(..., mode="nearest")`` (PyTorch's older name)."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:  # noqa: A002
    """``interpolate(..., mode="bilinear", align_corners=True)`` (PyTorch's older name)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
