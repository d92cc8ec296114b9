"""Photometric augmentation (CS231n L7 "data augmentation: color jitter"): change the colours,
keep the geometry. A network that must recognise a cat under any lighting learns shapes, not
the exact brightness of the training photos. Random parameters come from gradschool's
generator, so ``gradschool.manual_seed`` repeats them exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _checks, _image, _photometric

__all__ = ["ColorJitter", "GaussianBlur", "Grayscale", "RandomGrayscale"]

_JITTERS = (
    _photometric.brightness_float,
    _photometric.contrast_float,
    _photometric.saturation_float,
    _photometric.hue_float,
)


class ColorJitter:
    """Randomly change brightness, contrast, saturation and hue, in a random order.

    Each argument is ``d`` (a factor drawn from ``[max(0, 1 - d), 1 + d]``; for ``hue``
    from ``[-d, d]``, ``d <= 0.5``) or an explicit ``(min, max)``. As in torchvision:
    brightness multiplies the image, contrast blends it with its mean grey level, saturation
    with its greyscale version, and hue rotates it round the colour wheel (through HSV).
    Works on float images in [0, 1] and uint8 ones (computed in float, rounded back once).
    """

    def __init__(
        self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0, hue: Any = 0
    ) -> None:
        self.brightness = self._check(brightness, "brightness")
        self.contrast = self._check(contrast, "contrast")
        self.saturation = self._check(saturation, "saturation")
        self.hue = self._check(hue, "hue", center=0.0, bound=(-0.5, 0.5), clip_low=False)

    @staticmethod
    def _check(
        value: Any,
        what: str,
        center: float = 1.0,
        bound: tuple[float, float] = (0.0, np.inf),
        clip_low: bool = True,
    ) -> tuple[float, float] | None:
        lo, hi = _checks.check_range(value, "ColorJitter", what, center, bound, clip_low)
        return None if lo == hi == center else (lo, hi)  # None: leave this property alone

    @staticmethod
    def get_params(
        brightness: Sequence[float] | None,
        contrast: Sequence[float] | None,
        saturation: Sequence[float] | None,
        hue: Sequence[float] | None,
    ) -> tuple[np.ndarray, float | None, float | None, float | None, float | None]:
        """A random order of the four jitters and a factor for each one in use."""
        gen = _checks.rng()
        order = gen.permutation(4)
        factors = [
            None if r is None else float(gen.uniform(r[0], r[1]))
            for r in (brightness, contrast, saturation, hue)
        ]
        return (order, *factors)

    def __call__(self, img: Any) -> Any:
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)

        def jitter(x: Any) -> Any:
            for i in order:
                if factors[i] is not None:
                    x = _JITTERS[i](x, factors[i])
            return x

        # brightness alone works on any number of channels; the others need 1 or 3
        channels = None if self.contrast is self.saturation is self.hue is None else (1, 3)
        return _photometric.color_op(img, "ColorJitter", jitter, channels)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
            f"saturation={self.saturation}, hue={self.hue})"
        )


class Grayscale:
    """Convert to grayscale (0.299 R + 0.587 G + 0.114 B) with 1 or 3 equal channels."""

    def __init__(self, num_output_channels: int = 1) -> None:
        if num_output_channels not in (1, 3):
            raise ValueError(
                f"Grayscale: num_output_channels must be 1 or 3, got {num_output_channels!r}"
            )
        self.num_output_channels = num_output_channels

    def __call__(self, img: Any) -> Any:
        return _photometric.to_grayscale(img, self.num_output_channels, "Grayscale")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale:
    """With probability ``p``, convert to grayscale keeping the number of channels (a colour
    image stays 3-channel, with R = G = B = 0.299 R + 0.587 G + 0.114 B)."""

    def __init__(self, p: float = 0.1) -> None:
        self.p = _checks.check_prob(p, type(self).__name__)

    def __call__(self, img: Any) -> Any:
        a, layout, _ = _image.unpack(img, "RandomGrayscale")
        channels = _image.dims(a, layout)[0]
        if _checks.rng().random() < self.p:
            return _photometric.to_grayscale(img, 3 if channels == 3 else 1, "RandomGrayscale")
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class GaussianBlur:
    """Blur with a Gaussian of odd ``kernel_size`` (``k`` or ``(kx, ky)``) and a standard
    deviation drawn uniformly from ``sigma`` (``(min, max)``, or one fixed value) -- the
    blur of SimCLR's augmentations."""

    def __init__(self, kernel_size: Any, sigma: Any = (0.1, 2.0)) -> None:
        name = type(self).__name__
        self.kernel_size = _checks.setup_size(kernel_size, name, "kernel_size")
        if self.kernel_size[0] % 2 == 0 or self.kernel_size[1] % 2 == 0:
            raise ValueError(f"{name}: kernel_size must be odd and positive, got {kernel_size!r}")
        if _checks.is_number(sigma):
            if sigma <= 0:
                raise ValueError(
                    f"{name}: if sigma is a single number it must be positive, got {sigma}"
                )
            sigma = (float(sigma), float(sigma))
        elif (
            isinstance(sigma, Sequence)
            and len(sigma) == 2
            and all(_checks.is_number(s) for s in sigma)
        ):
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError(
                    f"{name}: sigma must be positive and of the form (min, max), got {sigma!r}"
                )
        else:
            raise ValueError(
                f"{name}: sigma must be a number or a sequence (min, max), got {sigma!r}"
            )
        self.sigma = tuple(float(s) for s in sigma)

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        return float(_checks.rng().uniform(sigma_min, sigma_max))

    def __call__(self, img: Any) -> Any:
        s = self.get_params(self.sigma[0], self.sigma[1])
        a, layout, t = _image.unpack(img, type(self).__name__)
        return _image.wrap(_photometric.gaussian_blur_array(a, layout, self.kernel_size, (s, s)), t)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"
