"""Photometric operations on float channels-first arrays in [0, 1]: greyscale, the colour
jitters (each a blend, as torchvision defines them), RGB <-> HSV, and Gaussian blur."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...backend.device import get_array_module
from ._image import Image, chw, from_chw, max_value, to_dtype, to_float, unpack, wrap


def gray(x: Any) -> Any:
    """Luma of a float ``(..., 3, H, W)`` image as ``(..., 1, H, W)``: ITU-R 601-2 weights
    0.299 R + 0.587 G + 0.114 B, as PIL's ``convert('L')`` (the eye is most sensitive to
    green)."""
    return 0.299 * x[..., 0:1, :, :] + 0.587 * x[..., 1:2, :, :] + 0.114 * x[..., 2:3, :, :]


def check_channels(x: Any, allowed: tuple[int, ...], name: str) -> int:
    c = x.shape[-3]
    if c not in allowed:
        raise ValueError(
            f"{name}: expected an image with {' or '.join(map(str, allowed))} channels, got {c}"
        )
    return c


def to_grayscale(img: Image, num_output_channels: int, name: str) -> Image:
    """Grayscale with 1 or 3 (equal) channels; a 1-channel image comes back as a copy (a
    grayscale ``(H, W)`` array asked for 3 channels becomes ``(H, W, 3)``)."""
    if num_output_channels not in (1, 3):
        raise ValueError(f"{name}: num_output_channels must be 1 or 3, got {num_output_channels!r}")
    a, layout, t = unpack(img, name)
    x = chw(a, layout)
    if check_channels(x, (1, 3), name) == 3:
        x = to_dtype(gray(to_float(x)), a.dtype)
    else:
        x = x.copy()
    if num_output_channels == 3:
        x = get_array_module(x).broadcast_to(x, (*x.shape[:-3], 3, *x.shape[-2:]))
        layout = layout if layout != "none" else ("first" if t else "last")
    return wrap(from_chw(x, layout), t)


def color_op(
    img: Image, name: str, fn: Callable[[Any], Any], channels: tuple[int, ...] | None = (1, 3)
) -> Image:
    """Run ``fn`` on the image as float channels-first in [0, 1]; back to its dtype/layout."""
    a, layout, t = unpack(img, name)
    x = chw(a, layout)
    if channels is not None:
        check_channels(x, channels, name)
    white = max_value(a.dtype)
    if white == 1.0:
        xf = to_float(x)
    else:
        xf = x.astype(np.float32)
        xf /= np.float32(white)
    out = fn(xf)
    if white != 1.0:
        out *= np.float32(white)
    return wrap(from_chw(to_dtype(out, a.dtype), layout), t)


def blend(x: Any, y: Any, ratio: float) -> Any:
    """``ratio * x + (1 - ratio) * y`` clipped to [0, 1]: every colour jitter is one of these,
    mixing the image with black (brightness), its mean grey (contrast) or its own greyscale
    (saturation); ``ratio > 1`` extrapolates away from it."""
    xp = get_array_module(x)
    return xp.clip(ratio * x + (1.0 - ratio) * y, 0.0, 1.0)


def rgb_to_hsv(x: Any) -> Any:
    """Float RGB ``(..., 3, H, W)`` in [0, 1] to HSV with hue in [0, 1) (torchvision's maths)."""
    xp = get_array_module(x)
    r, g, b = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    maxc, minc = x.max(axis=-3), x.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    s = cr / xp.where(eqc, 1.0, maxc)
    cr = xp.where(eqc, 1.0, cr)  # grey pixels: any hue, avoid 0/0
    rc, gc, bc = (maxc - r) / cr, (maxc - g) / cr, (maxc - b) / cr
    h = xp.where(maxc == r, bc - gc, xp.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = xp.fmod(h / 6.0 + 1.0, 1.0)
    return xp.stack((h, s, maxc), axis=-3)


def hsv_to_rgb(x: Any) -> Any:
    """Inverse of ``rgb_to_hsv``: the hue picks one of six sectors of the colour wheel."""
    xp = get_array_module(x)
    h, s, v = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    i = xp.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int64) % 6
    p = xp.clip(v * (1.0 - s), 0.0, 1.0)
    q = xp.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = xp.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    r = xp.choose(i, (v, q, p, p, t, v))
    g = xp.choose(i, (t, v, v, q, p, p))
    b = xp.choose(i, (p, p, t, v, v, q))
    return xp.stack((r, g, b), axis=-3)


# The four jitters on a float channels-first image in [0, 1] (ColorJitter chains them).
def brightness_float(x: Any, f: float) -> Any:
    return blend(x, 0.0, f)


def contrast_float(x: Any, f: float) -> Any:
    lum = gray(x) if x.shape[-3] == 3 else x
    return blend(x, lum.mean(axis=(-3, -2, -1), keepdims=True), f)


def saturation_float(x: Any, f: float) -> Any:
    return x.copy() if x.shape[-3] == 1 else blend(x, gray(x), f)


def hue_float(x: Any, f: float) -> Any:
    if x.shape[-3] == 1:
        return x.copy()
    hsv = rgb_to_hsv(x)
    hsv[..., 0, :, :] = (hsv[..., 0, :, :] + f) % 1.0
    return hsv_to_rgb(hsv)


def _gaussian_kernel1d(size: int, sigma: float, dtype: Any) -> np.ndarray:
    half = (size - 1) * 0.5
    pdf = np.exp(-0.5 * (np.linspace(-half, half, size) / sigma) ** 2)
    return (pdf / pdf.sum()).astype(dtype)


def gaussian_blur_array(
    a: Any, layout: str, kernel_size: tuple[int, int], sigma: tuple[float, float]
) -> Any:
    """Blur with a separable Gaussian (``kernel_size`` and ``sigma`` in torchvision's
    ``(x, y)`` order), reflect-padded so the size stays."""
    xp = get_array_module(a)
    x = to_float(chw(a, layout))
    (kx, ky), (H, W) = kernel_size, x.shape[-2:]
    wx = _gaussian_kernel1d(kx, sigma[0], x.dtype)
    wy = _gaussian_kernel1d(ky, sigma[1], x.dtype)
    widths = [(0, 0)] * (x.ndim - 2) + [(ky // 2, ky // 2), (kx // 2, kx // 2)]
    p = xp.pad(x, widths, mode="reflect")
    rows = sum(wy[k] * p[..., k : k + H, :] for k in range(ky))  # a loop over taps, not pixels
    out = sum(wx[k] * rows[..., :, k : k + W] for k in range(kx))
    return from_chw(to_dtype(out, a.dtype), layout)
