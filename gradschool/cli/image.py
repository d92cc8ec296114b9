"""Turning an image file into what a trained model expects (``gradschool predict``).

A PNG of any size and colour type becomes a uint8 array shaped like one training image —
``(S, S)`` for a grey model, ``(S, S, 3)`` for a colour one — which then goes through the
very transform the training data went through (``ToTensor`` and ``Normalize`` with the run's
mean and standard deviation). The steps:

1. transparency is composited over black (the background of MNIST-style data);
2. colour becomes grey by luminance (ITU-R 601: 0.299 R + 0.587 G + 0.114 B), or grey is
   repeated into three channels;
3. the image is resized to ``S x S``: first averaged down by a whole factor (a box filter, so
   a large photo does not alias), then bilinearly interpolated (half-pixel centres, as
   ``F.interpolate(mode="bilinear", align_corners=False)``);
4. optionally inverted: MNIST and Fashion-MNIST draw light objects on a black background, so
   a dark drawing on white paper must be flipped before the model can recognise it.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["resize_bilinear", "prepare_image"]


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a float image ``(H, W)`` or ``(H, W, C)`` to ``(height, width[, C])``.

    A whole-factor box filter first shrinks images more than twice too large (anti-aliasing),
    then bilinear interpolation with half-pixel centres maps it onto the target grid.
    """
    img = np.asarray(image, dtype=np.float32)
    squeeze = img.ndim == 2
    if squeeze:
        img = img[:, :, None]
    h, w = img.shape[:2]
    fy, fx = max(h // (2 * height), 1), max(w // (2 * width), 1)
    if fy > 1 or fx > 1:  # box filter: average fy x fx blocks (crop the ragged edge)
        h2, w2 = (h // fy) * fy, (w // fx) * fx
        img = img[:h2, :w2].reshape(h2 // fy, fy, w2 // fx, fx, -1).mean(axis=(1, 3))
        h, w = img.shape[:2]
    # source coordinate of each target pixel centre, clamped to the image
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    out = top * (1 - wy) + bottom * wy
    return out[:, :, 0] if squeeze else out


def prepare_image(
    path: str | os.PathLike[str],
    in_channels: int,
    size: int,
    invert: str = "auto",
    dark_background: bool = False,
) -> tuple[np.ndarray, str]:
    """Read the PNG at ``path`` and make it one uint8 training-like image: ``(size, size)``
    when ``in_channels == 1``, else ``(size, size, in_channels)``.

    ``invert``: ``"yes"``, ``"no"`` or ``"auto"`` (invert when the model was trained on light
    objects on black, ``dark_background``, and the image's border is mostly light).
    Returns the array and a short description of what was done.
    """
    from ..io.png import read_png

    raw = read_png(path)  # raises ValueError naming the file for a bad PNG
    img = raw.astype(np.float32)
    if img.ndim == 2:
        img = img[:, :, None]
    notes = [f"{raw.shape[1]}x{raw.shape[0]}"]
    if img.shape[2] in (2, 4):  # composite over black: colour * alpha
        img = img[:, :, :-1] * (img[:, :, -1:] / 255.0)
        notes.append("alpha over black")
    if in_channels == 1 and img.shape[2] == 3:
        img = img @ np.array([0.299, 0.587, 0.114], np.float32)[:, None]
        notes.append("to grey")
    elif in_channels == 3 and img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
        notes.append("grey to RGB")
    elif img.shape[2] != in_channels:
        raise ValueError(
            f"{path}: cannot turn an image with {img.shape[2]} channels into the model's {in_channels}"
        )
    img = resize_bilinear(img, size, size)
    notes.append(f"resized to {size}x{size}")
    if invert not in ("auto", "yes", "no"):
        raise ValueError(f"invert must be 'auto', 'yes' or 'no', got {invert!r}")
    if invert == "auto" and dark_background:
        border = np.concatenate(
            [img[0].ravel(), img[-1].ravel(), img[:, 0].ravel(), img[:, -1].ravel()]
        )
        flip = float(border.mean()) > 127.5
    else:
        flip = invert == "yes"
    if flip:
        img = 255.0 - img
        notes.append("inverted (the model was trained on light objects on black)")
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return (out[:, :, 0] if in_channels == 1 else out), ", ".join(notes)
