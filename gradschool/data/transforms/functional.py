"""Image operations behind the transforms: torchvision's ``transforms.functional``.

Data augmentation (CS231n lecture 7, "Regularization: data augmentation"; CSC321 "improving
generalization") trains on random, label-preserving changes of each image -- flips, crops,
rescales, colour shifts, rotations -- so the network sees a new variant of every image each
epoch and cannot memorise pixels. This file holds the deterministic operations; the transform
classes draw the random parameters and call them.

An image comes in one of two kinds, and every op returns the kind, layout and dtype it got:

- a NumPy array as datasets store it (PIL's layout): ``(H, W)`` grayscale or ``(H, W, C)``,
  usually uint8 in [0, 255];
- a gradschool Tensor in the network's layout: ``(C, H, W)``, ``(..., C, H, W)`` (one set of
  parameters for all the leading dimensions, as in torchvision) or ``(H, W)``; float images
  are in [0, 1].

Flips, crops and padding index the array in its own layout. Ops that interpolate or mix
channels view it channels-first (a transpose, no copy), compute in floating point (float32 for
integer images, rounded back at the end) and return to the original layout. Nothing here is
recorded by autograd: transforms prepare data, they are not part of the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...backend.device import get_array_module
from ...tensor import Tensor
from . import _checks
from ._geometry import (
    center_crop_array,
    crop_array,
    flip_array,
    pad_array,
    resize_array,
    resized_output_size,
    rotate_array,
)
from ._image import (
    Image,
    InterpolationMode,
    dims,
    interpolation_mode,
    to_tensor_array,
    unpack,
    wrap,
)
from ._photometric import (
    brightness_float,
    color_op,
    contrast_float,
    gaussian_blur_array,
    hue_float,
    saturation_float,
    to_grayscale,
)

__all__ = [
    "InterpolationMode",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "center_crop",
    "crop",
    "gaussian_blur",
    "get_dimensions",
    "hflip",
    "normalize",
    "pad",
    "resize",
    "resized_crop",
    "rgb_to_grayscale",
    "rotate",
    "to_tensor",
    "vflip",
]


def get_dimensions(img: Image) -> list[int]:
    """``[channels, height, width]`` of an image (torchvision's ``get_dimensions``)."""
    a, layout, _ = unpack(img, "get_dimensions")
    return list(dims(a, layout))


def hflip(img: Image) -> Image:
    """Mirror left-right (the last axis of a tensor, W of an HWC array)."""
    a, layout, t = unpack(img, "hflip")
    return wrap(flip_array(a, layout, True), t)


def vflip(img: Image) -> Image:
    """Mirror top-bottom."""
    a, layout, t = unpack(img, "vflip")
    return wrap(flip_array(a, layout, False), t)


def pad(img: Image, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Image:
    """Pad every side: ``padding`` is an int (all sides), ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``; shape ``(.., H, W, ..)`` -> ``(.., H + t + b, W + l + r, ..)``."""
    ltrb = _checks.parse_padding(padding, "pad")
    _checks.check_padding_mode(padding_mode, "pad")
    a, layout, t = unpack(img, "pad")
    return wrap(pad_array(a, layout, ltrb, fill, padding_mode), t)


def crop(img: Image, top: int, left: int, height: int, width: int) -> Image:
    """The ``(height, width)`` window whose top-left pixel is ``(top, left)``."""
    a, layout, t = unpack(img, "crop")
    return wrap(crop_array(a, layout, top, left, height, width), t)


def center_crop(img: Image, output_size: Any) -> Image:
    """The central ``output_size`` window (an int for a square, or ``(h, w)``)."""
    size = _checks.setup_size(output_size, "center_crop", "output_size")
    a, layout, t = unpack(img, "center_crop")
    return wrap(center_crop_array(a, layout, size), t)


def resize(
    img: Image,
    size: Any,
    interpolation: Any = InterpolationMode.BILINEAR,
    max_size: int | None = None,
    antialias: bool | None = True,
) -> Image:
    """Resize to ``size``: an int is the new shorter side (aspect ratio kept), ``(h, w)`` is
    exact. Bilinear equals ``torch.nn.functional.interpolate(mode='bilinear',
    align_corners=False, antialias=antialias)``; ``antialias`` only changes shrinking."""
    mode = interpolation_mode(interpolation, "resize")
    a, layout, t = unpack(img, "resize")
    _, H, W = dims(a, layout)
    out_size = resized_output_size(H, W, size, max_size, "resize")
    if out_size == (H, W):
        return img
    return wrap(resize_array(a, layout, out_size, mode, bool(antialias)), t)


def resized_crop(
    img: Image,
    top: int,
    left: int,
    height: int,
    width: int,
    size: Any,
    interpolation: Any = InterpolationMode.BILINEAR,
    antialias: bool | None = True,
) -> Image:
    """Crop the ``(height, width)`` window at ``(top, left)``, then resize it to ``size``."""
    mode = interpolation_mode(interpolation, "resized_crop")
    a, layout, t = unpack(img, "resized_crop")
    a = crop_array(a, layout, top, left, height, width)
    out_size = resized_output_size(height, width, size, None, "resized_crop")
    if out_size != (height, width):
        a = resize_array(a, layout, out_size, mode, bool(antialias))
    return wrap(a, t)


def rotate(
    img: Image,
    angle: float,
    interpolation: Any = InterpolationMode.NEAREST,
    expand: bool = False,
    center: Sequence[float] | None = None,
    fill: Any = None,
) -> Image:
    """Rotate counter-clockwise by ``angle`` degrees about the centre (or ``center``, in
    pixels ``(x, y)``); ``expand`` grows the output to hold the whole rotated image. Pixels
    from outside the input are 0, or ``fill``."""
    mode = interpolation_mode(interpolation, "rotate")
    if mode is InterpolationMode.NEAREST_EXACT:
        raise ValueError(
            "rotate: interpolation must be 'nearest' or 'bilinear', got 'nearest-exact'"
        )
    a, layout, t = unpack(img, "rotate")
    return wrap(rotate_array(a, layout, float(angle), mode, expand, center, fill), t)


def gaussian_blur(img: Image, kernel_size: Any, sigma: Any = None) -> Image:
    """Gaussian blur (odd ``kernel_size`` and ``sigma`` given as ``(x, y)``, as torchvision);
    ``sigma`` defaults to ``0.15 * k + 0.35`` per axis."""
    ks = _checks.setup_size(kernel_size, "gaussian_blur", "kernel_size")  # (x, y)
    if ks[0] % 2 == 0 or ks[1] % 2 == 0:
        raise ValueError(
            f"gaussian_blur: kernel_size must be odd and positive, got {kernel_size!r}"
        )
    if sigma is None:
        sig = tuple(k * 0.15 + 0.35 for k in ks)
    else:
        sig = (sigma, sigma) if _checks.is_number(sigma) else tuple(sigma)
        if len(sig) == 1:
            sig = (sig[0], sig[0])
        if len(sig) != 2 or min(sig) <= 0:
            raise ValueError(f"gaussian_blur: sigma must be positive, got {sigma!r}")
    a, layout, t = unpack(img, "gaussian_blur")
    return wrap(gaussian_blur_array(a, layout, ks, (float(sig[0]), float(sig[1]))), t)


def rgb_to_grayscale(img: Image, num_output_channels: int = 1) -> Image:
    """Grayscale (0.299 R + 0.587 G + 0.114 B) with 1 or 3 equal channels."""
    return to_grayscale(img, num_output_channels, "rgb_to_grayscale")


def _check_factor(factor: Any, name: str, what: str) -> float:
    if not _checks.is_number(factor) or factor < 0:
        raise ValueError(f"{name}: {what} must be a non-negative number, got {factor!r}")
    return float(factor)


def adjust_brightness(img: Image, brightness_factor: float) -> Image:
    """Scale every pixel by ``brightness_factor`` (0 black, 1 unchanged, 2 twice as bright)."""
    f = _check_factor(brightness_factor, "adjust_brightness", "brightness_factor")
    return color_op(img, "adjust_brightness", lambda x: brightness_float(x, f), channels=None)


def adjust_contrast(img: Image, contrast_factor: float) -> Image:
    """Blend with the mean grey level (0 solid grey, 1 unchanged, 2 double contrast)."""
    f = _check_factor(contrast_factor, "adjust_contrast", "contrast_factor")
    return color_op(img, "adjust_contrast", lambda x: contrast_float(x, f))


def adjust_saturation(img: Image, saturation_factor: float) -> Image:
    """Blend with the greyscale image (0 grey, 1 unchanged, 2 doubly saturated)."""
    f = _check_factor(saturation_factor, "adjust_saturation", "saturation_factor")
    return color_op(img, "adjust_saturation", lambda x: saturation_float(x, f))


def adjust_hue(img: Image, hue_factor: float) -> Image:
    """Rotate the hue by ``hue_factor`` turns of the colour wheel (in [-0.5, 0.5]), through
    HSV: hue shifts, saturation and value stay."""
    if not _checks.is_number(hue_factor) or not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"adjust_hue: hue_factor must be in [-0.5, 0.5], got {hue_factor!r}")
    return color_op(img, "adjust_hue", lambda x: hue_float(x, float(hue_factor)))


def to_tensor(pic: Any) -> Tensor:
    """A NumPy image ``(H, W)`` / ``(H, W, C)`` (or a uint8 Tensor in that layout, or a PIL
    image) as a ``(C, H, W)`` Tensor; uint8 becomes float32 in [0, 1]."""
    return _to_tensor(pic, "to_tensor")


def _to_tensor(pic: Any, name: str) -> Tensor:
    if isinstance(pic, Tensor):
        if pic.data.dtype != np.uint8:
            raise TypeError(
                f"{name}: a Tensor input must be a uint8 image (H, W) / (H, W, C), got "
                f"{pic.dtype!r}; a float Tensor is already a tensor image (C, H, W)"
            )
        a = pic.data
    elif isinstance(pic, np.ndarray) or hasattr(pic, "__array_interface__"):
        a = np.asarray(pic)
    else:
        raise TypeError(
            f"{name}: pic should be a NumPy array (H, W) / (H, W, C) or a PIL image, got "
            f"{type(pic).__name__}"
        )
    return Tensor._make(to_tensor_array(a, name))


def normalize(
    tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False
) -> Tensor:
    """``(x - mean[c]) / std[c]`` for each channel ``c`` of a float ``(..., C, H, W)`` Tensor
    (CS231n L6 "data preprocessing": zero-centred, unit-scale inputs)."""
    return _normalize(tensor, mean, std, inplace, "normalize")


def _normalize(tensor: Tensor, mean: Any, std: Any, inplace: bool, name: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"{name}: expected a float Tensor (..., C, H, W) (put ToTensor() first), got "
            f"{type(tensor).__name__}"
        )
    a = tensor.data
    if a.dtype.kind != "f":
        raise TypeError(f"{name}: expected a float tensor, got {tensor.dtype!r} (use ToTensor())")
    if a.ndim < 3:
        raise ValueError(
            f"{name}: expected a tensor image of shape (..., C, H, W), got shape {tuple(a.shape)}"
        )
    xp = get_array_module(a)
    c = a.shape[-3]
    stats = []
    for what, v in (("mean", mean), ("std", std)):
        arr = np.asarray(v, dtype=a.dtype).reshape(-1)
        if arr.size not in (1, c):
            raise ValueError(
                f"{name}: {what} must have 1 or {c} values (one per channel) for an image "
                f"with {c} channels, got {arr.size}: {v!r}"
            )
        stats.append(xp.asarray(arr.reshape(-1, 1, 1)))
    m, s = stats
    if bool((s == 0).any()):
        raise ValueError(
            f"{name}: std evaluated to zero after conversion to {tensor.dtype!r}, leading to "
            f"division by zero: std = {std!r}"
        )
    out = a if inplace else xp.empty_like(a)
    xp.subtract(a, m, out=out)
    xp.divide(out, s, out=out)
    return tensor if inplace else Tensor._make(out)
