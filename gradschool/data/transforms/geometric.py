"""Geometric augmentation (CS231n L7 "data augmentation"): flips, crops, rescales, rotations.

Each changes where pixels are, not what the picture shows, so the label stays true: a cat
mirrored or shifted by four pixels is still a cat. ``RandomCrop(32, padding=4)`` with
``RandomHorizontalFlip()`` is the classic CIFAR-10 recipe; ``RandomResizedCrop(224)`` the
ImageNet one. Random parameters come from gradschool's generator, so ``gradschool.manual_seed``
repeats the augmentation exactly.

The flips and crops (and the deterministic ``Pad``, ``CenterCrop``, ``Resize``) also have
``apply_batch``: a whole batch ``(N, H, W)`` / ``(N, H, W, C)`` array or ``(N, C, H, W)``
Tensor at once, with each image's random choice drawn for all of them together, and the same
draws (and so the same result) as applying the transform image by image.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...backend.device import get_array_module
from . import _checks, _geometry, _image
from ._image import InterpolationMode

__all__ = [
    "CenterCrop",
    "Pad",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
]


class _RandomFlip:
    _horizontal = True

    def __init__(self, p: float = 0.5) -> None:
        self.p = _checks.check_prob(p, type(self).__name__)

    def __call__(self, img: Any) -> Any:
        if _checks.rng().random() < self.p:
            a, layout, t = _image.unpack(img, type(self).__name__)
            return _image.wrap(_geometry.flip_array(a, layout, self._horizontal), t)
        return img

    def apply_batch(self, batch: Any) -> Any:
        a, layout, t = _image.unpack(batch, f"{type(self).__name__}.apply_batch", batch=True)
        xp = get_array_module(a)
        chosen = np.flatnonzero(_checks.rng().random(a.shape[0]) < self.p)
        out = a.copy()
        if chosen.size:
            idx = xp.asarray(chosen)
            out[idx] = xp.flip(a[idx], axis=_image.AXES[layout][2 if self._horizontal else 1])
        return _image.wrap(out, t)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror the image left-right with probability ``p``."""

    _horizontal = True


class RandomVerticalFlip(_RandomFlip):
    """Mirror the image top-bottom with probability ``p`` (for images with no "up", such as
    satellite or microscope pictures)."""

    _horizontal = False


class Pad:
    """Pad each side by ``padding`` (an int, ``(left/right, top/bottom)`` or ``(left, top,
    right, bottom)``) with ``fill`` or by the ``edge``/``reflect``/``symmetric`` modes."""

    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        self._ltrb = _checks.parse_padding(padding, "Pad")
        self.padding = padding
        self.fill = _checks.check_fill(fill, "Pad")
        self.padding_mode = _checks.check_padding_mode(padding_mode, "Pad")

    def __call__(self, img: Any) -> Any:
        a, layout, t = _image.unpack(img, "Pad")
        return _image.wrap(
            _geometry.pad_array(a, layout, self._ltrb, self.fill, self.padding_mode, "Pad"), t
        )

    def apply_batch(self, batch: Any) -> Any:
        a, layout, t = _image.unpack(batch, "Pad.apply_batch", batch=True)
        return _image.wrap(
            _geometry.pad_array(a, layout, self._ltrb, self.fill, self.padding_mode, "Pad"), t
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
            f"padding_mode={self.padding_mode})"
        )


class RandomCrop:
    """A ``size`` window at a uniformly random position, after optional ``padding``.

    ``pad_if_needed`` pads an image smaller than ``size`` (by the shortfall on *both* sides,
    as torchvision does). Shapes: ``(H, W, C) -> (h, w, C)``, ``(C, H, W) -> (C, h, w)``.
    """

    def __init__(
        self,
        size: Any,
        padding: Any = None,
        pad_if_needed: bool = False,
        fill: Any = 0,
        padding_mode: str = "constant",
    ) -> None:
        name = type(self).__name__
        self.size = _checks.setup_size(size, name)
        self._ltrb = None if padding is None else _checks.parse_padding(padding, name)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = _checks.check_fill(fill, name)
        self.padding_mode = _checks.check_padding_mode(padding_mode, name)

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a random crop (to crop, say, an image and its
        segmentation mask alike)."""
        a, layout, _ = _image.unpack(img, "RandomCrop.get_params")
        _, H, W = _image.dims(a, layout)
        return RandomCrop._draw(H, W, tuple(output_size))

    @staticmethod
    def _draw(H: int, W: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
        th, tw = size
        if H < th or W < tw:
            raise ValueError(
                f"RandomCrop: required crop size {(th, tw)} is larger than the input image size "
                f"{(H, W)}; pass padding= or pad_if_needed=True"
            )
        if (H, W) == (th, tw):
            return 0, 0, H, W
        gen = _checks.rng()
        return _checks.randint(gen, H - th + 1), _checks.randint(gen, W - tw + 1), th, tw

    def _pad(self, a: Any, layout: str) -> Any:
        name = type(self).__name__
        if self._ltrb is not None:
            a = _geometry.pad_array(a, layout, self._ltrb, self.fill, self.padding_mode, name)
        _, H, W = _image.dims(a, layout)
        th, tw = self.size
        if self.pad_if_needed and W < tw:
            a = _geometry.pad_array(
                a, layout, (tw - W, 0, tw - W, 0), self.fill, self.padding_mode, name
            )
        if self.pad_if_needed and H < th:
            a = _geometry.pad_array(
                a, layout, (0, th - H, 0, th - H), self.fill, self.padding_mode, name
            )
        return a

    def __call__(self, img: Any) -> Any:
        a, layout, t = _image.unpack(img, type(self).__name__)
        a = self._pad(a, layout)
        _, H, W = _image.dims(a, layout)
        top, left, h, w = self._draw(H, W, self.size)
        return _image.wrap(_geometry.crop_array(a, layout, top, left, h, w), t)

    def apply_batch(self, batch: Any) -> Any:
        a, layout, t = _image.unpack(batch, f"{type(self).__name__}.apply_batch", batch=True)
        a = self._pad(a, layout)
        n, (_, H, W), (th, tw) = a.shape[0], _image.dims(a, layout), self.size
        if H < th or W < tw or (H, W) == (th, tw):
            self._draw(H, W, self.size)  # raises for too small; draws nothing for equal
            return _image.wrap(a.copy(), t)
        u = _checks.rng().random((n, 2))  # row-major: top, left of image 0, then image 1, ...
        top = np.minimum((u[:, 0] * (H - th + 1)).astype(np.int64), H - th)
        left = np.minimum((u[:, 1] * (W - tw + 1)).astype(np.int64), W - tw)
        return _image.wrap(_gather_windows(a, layout, top, left, th, tw), t)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


def _gather_windows(
    a: Any, layout: str, top: np.ndarray, left: np.ndarray, th: int, tw: int
) -> Any:
    """Image ``k``'s ``th x tw`` window at ``(top[k], left[k])``, for all ``k`` in one gather.

    A strided view lists every window of every image without copying (as im2col does for
    convolution); indexing it with ``(k, top, left)`` copies out just the chosen ones, already
    contiguous in the batch's layout.
    """
    xp = get_array_module(a)
    k, top, left = xp.arange(a.shape[0]), xp.asarray(top), xp.asarray(left)
    s = a.strides
    if layout == "first":  # (N, C, H, W) -> windows (N, C, H', W', th, tw)
        n, c, H, W = a.shape
        shape, strides = (n, c, H - th + 1, W - tw + 1, th, tw), (*s, s[2], s[3])
        return xp.lib.stride_tricks.as_strided(a, shape, strides)[k, :, top, left]
    # (N, H, W[, C]) -> windows (N, H', W', th, tw[, C])
    n, H, W = a.shape[:3]
    shape = (n, H - th + 1, W - tw + 1, th, tw, *a.shape[3:])
    strides = (s[0], s[1], s[2], s[1], s[2], *s[3:])
    return xp.lib.stride_tricks.as_strided(a, shape, strides)[k, top, left]


class CenterCrop:
    """The central ``size`` window (zero-padded first if the image is smaller)."""

    def __init__(self, size: Any) -> None:
        self.size = _checks.setup_size(size, type(self).__name__)

    def __call__(self, img: Any) -> Any:
        a, layout, t = _image.unpack(img, type(self).__name__)
        return _image.wrap(_geometry.center_crop_array(a, layout, self.size), t)

    def apply_batch(self, batch: Any) -> Any:
        a, layout, t = _image.unpack(batch, f"{type(self).__name__}.apply_batch", batch=True)
        return _image.wrap(_geometry.center_crop_array(a, layout, self.size), t)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


def _check_resize_size(size: Any, max_size: Any, name: str) -> None:
    if _checks.is_int(size) or (isinstance(size, Sequence) and len(size) == 1):
        side = size if _checks.is_int(size) else size[0]
        if not _checks.is_int(side) or side <= 0:
            raise ValueError(f"{name}: size must be a positive int, got {size!r}")
        if max_size is not None and (not _checks.is_int(max_size) or max_size <= side):
            raise ValueError(
                f"{name}: max_size must be an int greater than size ({side}), got {max_size!r}"
            )
    else:
        _checks.setup_size(size, name)
        if max_size is not None:
            raise ValueError(
                f"{name}: max_size should only be passed if size specifies the length of the "
                f"smaller edge (an int), got size={size!r}"
            )


class Resize:
    """Rescale to ``size``: an int is the new shorter side (keeping the aspect ratio, the
    longer side capped at ``max_size``), ``(h, w)`` is exact.

    Bilinear equals ``torch.nn.functional.interpolate(mode='bilinear', align_corners=False,
    antialias=antialias)``; antialias (the default, as torchvision) averages over every input
    pixel when shrinking, instead of reading only the nearest four.
    """

    def __init__(
        self,
        size: Any,
        interpolation: Any = InterpolationMode.BILINEAR,
        max_size: int | None = None,
        antialias: bool | None = True,
    ) -> None:
        _check_resize_size(size, max_size, type(self).__name__)
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = _image.interpolation_mode(interpolation, type(self).__name__)

    def __call__(self, img: Any) -> Any:
        return self._resize(img, type(self).__name__, batch=False)

    def apply_batch(self, batch: Any) -> Any:
        return self._resize(batch, f"{type(self).__name__}.apply_batch", batch=True)

    def _resize(self, img: Any, name: str, batch: bool) -> Any:
        a, layout, t = _image.unpack(img, name, batch=batch)
        _, H, W = _image.dims(a, layout)
        size = _geometry.resized_output_size(H, W, self.size, self.max_size, name)
        if size == (H, W):
            return img  # as torchvision: nothing to do
        return _image.wrap(
            _geometry.resize_array(a, layout, size, self.interpolation, bool(self.antialias)), t
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value}, "
            f"max_size={self.max_size}, antialias={self.antialias})"
        )


def _check_pair(value: Any, name: str, what: str) -> tuple[float, float]:
    if (
        not isinstance(value, Sequence)
        or len(value) != 2
        or not all(_checks.is_number(v) and v > 0 for v in value)
    ):
        raise ValueError(
            f"{name}: {what} must be a sequence (min, max) of two positive numbers, got {value!r}"
        )
    if value[0] > value[1]:
        warnings.warn(f"{name}: {what} should be of kind (min, max), got {value!r}", stacklevel=3)
    return float(value[0]), float(value[1])


class RandomResizedCrop:
    """A random window of random area (``scale`` of the image) and aspect ratio (``ratio``,
    drawn log-uniformly), resized to ``size`` -- the "Inception" crop used for ImageNet.

    torchvision's draw: ten tries for a window that fits, else the whole image cropped to the
    nearest allowed aspect ratio.
    """

    def __init__(
        self,
        size: Any,
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
        interpolation: Any = InterpolationMode.BILINEAR,
        antialias: bool | None = True,
    ) -> None:
        name = type(self).__name__
        self.size = _checks.setup_size(size, name)
        self.scale = _check_pair(scale, name, "scale")
        self.ratio = _check_pair(ratio, name, "ratio")
        self.interpolation = _image.interpolation_mode(interpolation, name)
        self.antialias = antialias

    @staticmethod
    def get_params(
        img: Any, scale: Sequence[float], ratio: Sequence[float]
    ) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a random window (torchvision's algorithm)."""
        a, layout, _ = _image.unpack(img, "RandomResizedCrop.get_params")
        _, height, width = _image.dims(a, layout)
        area = height * width
        gen = _checks.rng()
        log_ratio = (np.log(ratio[0]), np.log(ratio[1]))
        for _ in range(10):
            target_area = area * gen.uniform(scale[0], scale[1])
            aspect = float(np.exp(gen.uniform(log_ratio[0], log_ratio[1])))
            w = int(round(np.sqrt(target_area * aspect)))
            h = int(round(np.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return (
                    _checks.randint(gen, height - h + 1),
                    _checks.randint(gen, width - w + 1),
                    h,
                    w,
                )
        in_ratio = width / height  # fallback: a central crop of the closest allowed shape
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            w, h = int(round(height * max(ratio))), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img: Any) -> Any:
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        a, layout, t = _image.unpack(img, type(self).__name__)
        a = _geometry.crop_array(a, layout, top, left, h, w)
        if (h, w) != self.size:
            a = _geometry.resize_array(
                a, layout, self.size, self.interpolation, bool(self.antialias)
            )
        return _image.wrap(a, t)

    def __repr__(self) -> str:
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (
            f"{type(self).__name__}(size={self.size}, scale={scale}, ratio={ratio}, "
            f"interpolation={self.interpolation.value}, antialias={self.antialias})"
        )


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``degrees`` (``d`` means ``(-d, d)``),
    counter-clockwise about the centre (or ``center``, ``(x, y)`` in pixels).

    Sampling is ``nearest`` (default, as torchvision) or ``bilinear``; pixels that come from
    outside the image take ``fill``; ``expand`` enlarges the output to hold the whole image.
    """

    def __init__(
        self,
        degrees: Any,
        interpolation: Any = InterpolationMode.NEAREST,
        expand: bool = False,
        center: Sequence[float] | None = None,
        fill: Any = 0,
    ) -> None:
        name = type(self).__name__
        lo, hi = _checks.check_range(
            degrees, name, "degrees", center=0.0, bound=(-np.inf, np.inf), clip_low=False
        )
        self.degrees = [lo, hi]
        self.interpolation = _image.interpolation_mode(interpolation, name)
        if self.interpolation is InterpolationMode.NEAREST_EXACT:
            raise ValueError(
                f"{name}: interpolation must be 'nearest' or 'bilinear', got 'nearest-exact'"
            )
        if center is not None and (
            not isinstance(center, Sequence)
            or len(center) != 2
            or not all(isinstance(c, numbers.Real) for c in center)
        ):
            raise ValueError(
                f"{name}: center must be a sequence (x, y) of two numbers, got {center!r}"
            )
        self.expand, self.center = expand, center
        self.fill = _checks.check_fill(fill, name) if fill is not None else None

    @staticmethod
    def get_params(degrees: Sequence[float]) -> float:
        """An angle drawn uniformly from ``[degrees[0], degrees[1]]``."""
        return float(_checks.rng().uniform(float(degrees[0]), float(degrees[1])))

    def __call__(self, img: Any) -> Any:
        a, layout, t = _image.unpack(img, type(self).__name__)
        angle = self.get_params(self.degrees)
        out = _geometry.rotate_array(
            a, layout, angle, self.interpolation, self.expand, self.center, self.fill
        )
        return _image.wrap(out, t)

    def __repr__(self) -> str:
        s = f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation.value}, expand={self.expand}"
        if self.center is not None:
            s += f", center={self.center}"
        if self.fill is not None:
            s += f", fill={self.fill}"
        return s + ")"
