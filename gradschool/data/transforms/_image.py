"""The two kinds of image the transforms take, and moving between them.

- a NumPy array as datasets store it (PIL's layout): ``(H, W)`` grayscale or ``(H, W, C)``,
  usually uint8 in [0, 255];
- a gradschool Tensor in the network's layout: ``(C, H, W)``, ``(..., C, H, W)`` (one set of
  parameters for all the leading dimensions, as in torchvision) or ``(H, W)``; float images
  are in [0, 1].

Every op returns the kind, layout and dtype it got. Flips, crops and padding index the array
in its own layout (``AXES`` says where H, W and C are); ops that interpolate or mix channels
view it channels-first (``chw``: a transpose, no copy), compute in floating point (float32 for
integer images, rounded back by ``to_dtype``) and return to the layout (``from_chw``). A batch
is the same with a leading N: ``(N, H, W)`` / ``(N, H, W, C)`` arrays, ``(N, C, H, W)`` Tensors.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any

import numpy as np

from ...backend.device import get_array_module
from ...backend.dtype import get_default_dtype
from ...tensor import Tensor

Image = Any  # np.ndarray (H, W) / (H, W, C), or Tensor (..., C, H, W) / (H, W)


class InterpolationMode(StrEnum):
    """How resampling ops read between pixels (torchvision's enum; plain strings work too)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"


def interpolation_mode(mode: Any, name: str) -> InterpolationMode:
    """``mode`` (an InterpolationMode, torchvision's enum or a string) as InterpolationMode."""
    try:
        return InterpolationMode(mode.value if isinstance(mode, Enum) else mode)
    except ValueError:
        raise ValueError(
            f"{name}: interpolation must be one of 'nearest', 'nearest-exact', 'bilinear', "
            f"got {mode!r}"
        ) from None


# (channel, height, width) axes of each layout, counted from the end so that a leading batch
# dimension changes nothing. "none" is a grayscale image without a channel axis.
AXES = {"first": (-3, -2, -1), "last": (-1, -3, -2), "none": (None, -2, -1)}


def unpack(img: Image, name: str, batch: bool = False) -> tuple[Any, str, bool]:
    """``(array, layout, is_tensor)`` of an image, or of a batch when ``batch``: NumPy
    ``(N, H, W)`` / ``(N, H, W, C)`` or a Tensor ``(N, C, H, W)``."""
    if isinstance(img, Tensor):
        a = img.data
        if (batch and a.ndim != 4) or a.ndim < 2:
            want = "(N, C, H, W)" if batch else "(C, H, W), (..., C, H, W) or (H, W)"
            raise ValueError(f"{name}: expected a tensor image {want}, got shape {tuple(a.shape)}")
        return a, ("first" if a.ndim >= 3 else "none"), True
    if isinstance(img, np.ndarray) or hasattr(img, "__array_interface__"):
        a = np.asarray(img)
        n = 3 if batch else 2
        if a.ndim not in (n, n + 1):
            want = "(N, H, W) or (N, H, W, C)" if batch else "(H, W) or (H, W, C)"
            raise ValueError(f"{name}: expected a NumPy image {want}, got shape {a.shape}")
        return a, ("none" if a.ndim == n else "last"), False
    raise TypeError(
        f"{name}: expected a NumPy image (H, W) / (H, W, C) or a gradschool Tensor (C, H, W), "
        f"got {type(img).__name__}"
    )


def wrap(a: Any, is_tensor: bool) -> Image:
    return Tensor._make(a) if is_tensor else a


def dims(a: Any, layout: str) -> tuple[int, int, int]:
    """``(C, H, W)`` of an array in ``layout``."""
    c, h, w = AXES[layout]
    return (1 if c is None else a.shape[c]), a.shape[h], a.shape[w]


def chw(a: Any, layout: str) -> Any:
    """A channels-first view ``(..., C, H, W)`` (no copy)."""
    if layout == "last":
        return get_array_module(a).moveaxis(a, -1, -3)
    return a[..., None, :, :] if layout == "none" else a


def from_chw(x: Any, layout: str) -> Any:
    """Back from channels-first to ``layout``, as a contiguous array."""
    xp = get_array_module(x)
    if layout == "last":
        x = xp.moveaxis(x, -3, -1)
    elif layout == "none":
        x = x[..., 0, :, :]
    return xp.ascontiguousarray(x)


def max_value(dtype: Any) -> float:
    """The value of white: 1.0 for float images, 255 for uint8."""
    return 1.0 if np.dtype(dtype).kind == "f" else float(np.iinfo(dtype).max)


def to_float(x: Any) -> Any:
    """Float32 for integer (and float16) images; float32/float64 stay as they are."""
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float32)


def to_dtype(x: Any, dtype: Any) -> Any:
    """Back to the image's dtype; integer images are rounded and clipped to their range."""
    if x.dtype == dtype:
        return x
    if np.dtype(dtype).kind in "iu":
        xp = get_array_module(x)
        info = np.iinfo(dtype)
        x = xp.clip(xp.rint(x), info.min, info.max)
    return x.astype(dtype)


def index(ndim: int, layout: str, h: slice, w: slice) -> tuple[slice, ...]:
    idx = [slice(None)] * ndim
    _, h_ax, w_ax = AXES[layout]
    idx[h_ax], idx[w_ax] = h, w
    return tuple(idx)


def fill_value(fill: Any, a: Any, layout: str, name: str) -> Any:
    """``fill`` (a number or one value per channel) in ``a``'s dtype, shaped to broadcast over
    a block of the image."""
    c_ax = AXES[layout][0]
    channels = 1 if c_ax is None else a.shape[c_ax]
    f = np.asarray(0 if fill is None else fill, dtype=np.float64).reshape(-1)
    if f.size != 1 and f.size != channels:
        raise ValueError(
            f"{name}: fill must be a number or one value per channel ({channels}), got {fill!r}"
        )
    f = to_dtype(f, a.dtype)
    if f.size == 1:
        return f[0]
    f = get_array_module(a).asarray(f)
    return f.reshape(-1, 1, 1) if layout == "first" else f


def to_tensor_array(a: Any, name: str, batch: bool = False) -> Any:
    """``(.., H, W)`` / ``(.., H, W, C)`` -> contiguous ``(.., C, H, W)``; uint8 scaled to
    float in [0, 1] (the default float dtype), other dtypes kept as they are (torchvision)."""
    n = 3 if batch else 2
    if a.ndim not in (n, n + 1):
        want = "(N, H, W) or (N, H, W, C)" if batch else "(H, W) or (H, W, C)"
        raise ValueError(f"{name}: expected an image {want}, got shape {tuple(a.shape)}")
    xp = get_array_module(a)
    x = a[..., None, :, :] if a.ndim == n else xp.moveaxis(a, -1, -3)
    if a.dtype != np.uint8:
        return xp.ascontiguousarray(x)
    out = xp.empty(x.shape, dtype=get_default_dtype().np)
    xp.divide(x, 255, out=out, dtype=out.dtype)  # one pass: cast, transpose and scale
    return out
