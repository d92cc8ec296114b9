"""Geometric operations on raw image arrays (see ``_image`` for the layouts): flips, padding,
crops, resizing (PyTorch's bilinear / nearest maths) and rotation (torchvision's grid)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from ...backend.device import get_array_module
from . import _checks
from ._image import (
    AXES,
    InterpolationMode,
    chw,
    dims,
    fill_value,
    from_chw,
    index,
    to_dtype,
    to_float,
)


def flip_array(a: Any, layout: str, horizontal: bool) -> Any:
    xp = get_array_module(a)
    return xp.ascontiguousarray(xp.flip(a, axis=AXES[layout][2 if horizontal else 1]))


def pad_array(
    a: Any,
    layout: str,
    ltrb: Sequence[int],
    fill: Any = 0,
    mode: str = "constant",
    name: str = "pad",
) -> Any:
    """Pad the H and W axes by ``(left, top, right, bottom)``. The modes are torchvision's
    (and NumPy's); padding the row ``1 2 3`` by 2 on each side gives
    ``constant``: ``f f 1 2 3 f f`` (``fill``), ``edge``: ``1 1 1 2 3 3 3``,
    ``reflect``: ``3 2 1 2 3 2 1`` (mirror about the border pixel) and
    ``symmetric``: ``2 1 1 2 3 3 2`` (mirror about the border itself)."""
    left, top, right, bottom = ltrb
    xp = get_array_module(a)
    _, h_ax, w_ax = AXES[layout]
    if mode != "constant":
        widths = [(0, 0)] * a.ndim
        widths[h_ax], widths[w_ax] = (top, bottom), (left, right)
        return xp.pad(a, widths, mode=mode)
    H, W = a.shape[h_ax], a.shape[w_ax]
    shape = list(a.shape)
    shape[h_ax] += top + bottom
    shape[w_ax] += left + right
    out = xp.empty(shape, dtype=a.dtype)
    value = fill_value(fill, a, layout, name)
    full = slice(None)
    # write the four borders and the middle: every element once, no full-size fill pass
    out[index(a.ndim, layout, slice(0, top), full)] = value
    out[index(a.ndim, layout, slice(top + H, None), full)] = value
    out[index(a.ndim, layout, full, slice(0, left))] = value
    out[index(a.ndim, layout, full, slice(left + W, None))] = value
    out[index(a.ndim, layout, slice(top, top + H), slice(left, left + W))] = a
    return out


def crop_array(a: Any, layout: str, top: int, left: int, height: int, width: int) -> Any:
    """The ``height x width`` window at ``(top, left)``; the part outside the image (if any)
    is zeros, as torchvision's ``crop`` does."""
    _, H, W = dims(a, layout)
    bottom, right = top + height, left + width
    if 0 <= top and 0 <= left and bottom <= H and right <= W:
        window = a[index(a.ndim, layout, slice(top, bottom), slice(left, right))]
        return get_array_module(a).ascontiguousarray(window)
    pl = min(max(-left, 0), width)
    pt = min(max(-top, 0), height)
    pr = min(max(right - W, 0), width - pl)
    pb = min(max(bottom - H, 0), height - pt)
    inside = a[
        index(
            a.ndim,
            layout,
            slice(min(max(top, 0), H), min(max(bottom, 0), H)),
            slice(min(max(left, 0), W), min(max(right, 0), W)),
        )
    ]
    return pad_array(inside, layout, (pl, pt, pr, pb))


def center_crop_array(a: Any, layout: str, size: tuple[int, int]) -> Any:
    th, tw = size
    _, H, W = dims(a, layout)
    if th > H or tw > W:  # too small: pad with zeros around it first, as torchvision does
        pl, pt = max(tw - W, 0) // 2, max(th - H, 0) // 2
        pr, pb = (max(tw - W, 0) + 1) // 2, (max(th - H, 0) + 1) // 2
        a = pad_array(a, layout, (pl, pt, pr, pb))
        _, H, W = dims(a, layout)
    # Python's round (half to even), as torchvision
    return crop_array(a, layout, int(round((H - th) / 2.0)), int(round((W - tw) / 2.0)), th, tw)


def resized_output_size(
    h: int, w: int, size: Any, max_size: int | None, name: str
) -> tuple[int, int]:
    """torchvision's rule: an int (or a one-element sequence) is the new shorter side, the
    longer one keeping the aspect ratio (truncated) and capped at ``max_size``; ``(h, w)`` is
    the size itself."""
    if _checks.is_int(size) or (isinstance(size, Sequence) and len(size) == 1):
        short_new = int(size if _checks.is_int(size) else size[0])
        if short_new <= 0:
            raise ValueError(f"{name}: size must be positive, got {size!r}")
        short, long = (w, h) if w <= h else (h, w)
        long_new = int(short_new * long / short)
        if max_size is not None:
            if max_size <= short_new:
                raise ValueError(
                    f"{name}: max_size = {max_size} must be strictly greater than the requested "
                    f"size for the smaller edge size = {size!r}"
                )
            if long_new > max_size:
                short_new, long_new = int(max_size * short_new / long_new), max_size
        return (long_new, short_new) if w <= h else (short_new, long_new)
    if max_size is not None:
        raise ValueError(
            f"{name}: max_size should only be passed if size specifies the length of the "
            f"smaller edge, i.e. size should be an int or a sequence of length 1; got {size!r}"
        )
    return _checks.setup_size(size, name)


@lru_cache(maxsize=128)
def linear_weights(n_in: int, n_out: int, antialias: bool) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix of linear-interpolation weights along one axis, so that
    resizing is two matrix products: ``W_h @ image @ W_w.T``.

    Without antialias: PyTorch's ``align_corners=False`` -- output pixel ``i`` reads the
    input at ``(i + 0.5) * n_in / n_out - 0.5``, clamped at the borders. With antialias and a
    shrinking axis: PIL's (and PyTorch's ``antialias=True``) triangle filter stretched over
    ``scale = n_in / n_out`` input pixels, so every input pixel contributes (no aliasing).
    """
    scale = n_in / n_out
    w = np.zeros((n_out, n_in))
    if antialias and scale > 1.0:
        center = scale * (np.arange(n_out) + 0.5)
        xmin = np.maximum(np.trunc(center - scale + 0.5), 0)[:, None]
        xmax = np.minimum(np.trunc(center + scale + 0.5), n_in)[:, None]
        j = np.arange(n_in)[None, :]
        w = np.maximum(1.0 - np.abs((j - center[:, None] + 0.5) / scale), 0.0)
        w *= (j >= xmin) & (j < xmax)
        w /= w.sum(axis=1, keepdims=True)
        w.flags.writeable = False  # cached: shared by every call
        return w
    src = np.maximum((np.arange(n_out) + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = np.clip(src - i0, 0.0, 1.0)
    rows = np.arange(n_out)
    np.add.at(w, (rows, i0), 1.0 - lam)
    np.add.at(w, (rows, i1), lam)
    w.flags.writeable = False
    return w


def nearestindex(n_in: int, n_out: int, exact: bool) -> np.ndarray:
    """PyTorch's ``nearest`` (``floor(i * scale)``) or ``nearest-exact``
    (``floor((i + 0.5) * scale)``) source index of each output pixel, in float32 as PyTorch."""
    scale = np.float32(n_in / n_out)
    i = np.arange(n_out, dtype=np.float32) + np.float32(0.5 if exact else 0.0)
    return np.minimum(np.floor(i * scale).astype(np.int64), n_in - 1)


def resize_array(
    a: Any, layout: str, size: tuple[int, int], mode: InterpolationMode, antialias: bool
) -> Any:
    xp = get_array_module(a)
    x = chw(a, layout)
    (H, W), (oh, ow) = x.shape[-2:], size
    if mode is InterpolationMode.BILINEAR:
        xf = to_float(x)
        wh = xp.asarray(linear_weights(H, oh, antialias), dtype=xf.dtype)
        wwt = xp.asarray(linear_weights(W, ow, antialias).T, dtype=xf.dtype)
        # separable: along H then along W (or the cheaper order), each one matmul
        out = (wh @ xf) @ wwt if oh * W <= H * ow else wh @ (xf @ wwt)
        out = to_dtype(out, a.dtype)
    else:
        exact = mode is InterpolationMode.NEAREST_EXACT
        ih = xp.asarray(nearestindex(H, oh, exact))
        iw = xp.asarray(nearestindex(W, ow, exact))
        out = x[..., ih[:, None], iw]
    return from_chw(out, layout)


def _rotation_matrix(angle: float, cx: float, cy: float) -> list[float]:
    """torchvision's inverse affine matrix for a rotation by ``angle`` degrees (counter-
    clockwise) about ``(cx, cy)`` (relative to the image centre): it maps each output pixel
    back to the input point it reads."""
    rot = math.radians(-angle)
    m = [math.cos(rot), math.sin(rot), 0.0, -math.sin(rot), math.cos(rot), 0.0]
    m[2] += m[0] * -cx + m[1] * -cy + cx
    m[5] += m[3] * -cx + m[4] * -cy + cy
    return m


def _expanded_size(m: list[float], w: int, h: int) -> tuple[int, int]:
    """``(width, height)`` that holds the whole rotated image (torchvision's / PIL's rule)."""
    corners = np.array(
        [[-0.5 * w, -0.5 * h], [-0.5 * w, 0.5 * h], [0.5 * w, 0.5 * h], [0.5 * w, -0.5 * h]]
    )
    pts = corners @ np.array([[m[0], m[3]], [m[1], m[4]]]) + np.array([m[2], m[5]])
    lo, hi = pts.min(axis=0) + (0.5 * w, 0.5 * h), pts.max(axis=0) + (0.5 * w, 0.5 * h)
    tol = 1e-4  # so that 1e-15 of rounding error does not add a whole pixel
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def grid_sample_array(
    x: Any, xs: np.ndarray, ys: np.ndarray, mode: InterpolationMode, fill: Any
) -> Any:
    """Read ``x (..., C, H, W)`` at pixel coordinates ``(xs, ys)`` (each ``(oh, ow)``), as
    ``torch.nn.functional.grid_sample(padding_mode='zeros', align_corners=False)``.

    With a ``fill`` (one value per channel, shaped ``(C, 1, 1)``), torchvision also samples a
    channel of ones: it tells how much of each output pixel came from inside the image, and
    the rest is blended with ``fill`` (bilinear) or replaced by it (nearest).
    """
    xp = get_array_module(x)
    H, W = x.shape[-2:]
    if mode is not InterpolationMode.BILINEAR:
        xi, yi = np.rint(xs).astype(np.int64), np.rint(ys).astype(np.int64)  # half to even
        inside = xp.asarray((xi >= 0) & (xi < W) & (yi >= 0) & (yi < H))
        out = x[..., xp.asarray(yi.clip(0, H - 1)), xp.asarray(xi.clip(0, W - 1))]
        return xp.where(inside, out, xp.zeros((), x.dtype) if fill is None else fill)
    x0, y0 = np.floor(xs), np.floor(ys)
    fx, fy = xs - x0, ys - y0
    out, mask = None, 0.0
    for dy, wy in ((0, 1.0 - fy), (1, fy)):
        for dx, wx in ((0, 1.0 - fx), (1, fx)):
            xi, yi = (x0 + dx).astype(np.int64), (y0 + dy).astype(np.int64)
            w = wy * wx * ((xi >= 0) & (xi < W) & (yi >= 0) & (yi < H))
            w = xp.asarray(w, dtype=x.dtype)
            term = w * x[..., xp.asarray(yi.clip(0, H - 1)), xp.asarray(xi.clip(0, W - 1))]
            out = term if out is None else out + term
            mask = mask + w
    if fill is not None:
        out = out * mask + (1.0 - mask) * fill
    return out


def rotate_array(
    a: Any,
    layout: str,
    angle: float,
    mode: InterpolationMode,
    expand: bool = False,
    center: Sequence[float] | None = None,
    fill: Any = None,
) -> Any:
    x = chw(a, layout)
    H, W = x.shape[-2:]
    cx, cy = (0.0, 0.0) if center is None else (center[0] - 0.5 * W, center[1] - 0.5 * H)
    m = _rotation_matrix(angle, cx, cy)
    ow, oh = _expanded_size(m, W, H) if expand else (W, H)
    # output pixel centres relative to the output's centre, mapped back into the input
    xo = np.arange(ow) - 0.5 * ow + 0.5
    yo = (np.arange(oh) - 0.5 * oh + 0.5)[:, None]
    xs = m[0] * xo + m[1] * yo + m[2] + 0.5 * W - 0.5
    ys = m[3] * xo + m[4] * yo + m[5] + 0.5 * H - 0.5
    xf = to_float(x) if mode is InterpolationMode.BILINEAR else x
    f = None if fill is None else fill_value(fill, xf, "first", "rotate")
    out = grid_sample_array(xf, xs, ys, mode, f)
    return from_chw(to_dtype(out, a.dtype), layout)
