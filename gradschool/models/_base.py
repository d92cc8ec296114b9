"""What every image classifier of the zoo shares: checked constructor arguments and a checked
input, so a wrong channel count or an image too small for the network's downsampling fails
with a message naming the model and the minimum size, not deep inside a convolution.

A model subclasses ``ImageClassifier``, calls ``super().__init__(name, num_classes,
in_channels, input_size, min_input_size)`` first, and starts ``forward`` with
``self.check_input(x)``.
"""

from __future__ import annotations

from typing import Any

from ..nn import Module
from ..tensor import Tensor

__all__ = ["ImageClassifier", "check_positive_int", "resolve_small_input"]


def check_positive_int(model: str, name: str, value: Any) -> int:
    """``value`` if it is an int >= 1, else a ``ValueError`` naming ``model`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{model}: {name} must be a positive int, got {value!r}")
    return value


def resolve_small_input(small_input: bool | None, input_size: int, threshold: int = 64) -> bool:
    """``small_input=None`` means "decide from the image size": the small-input variant (a
    gentler stem for 28x28 or 32x32 images) when ``input_size < threshold``."""
    if small_input is None:
        return input_size < threshold
    if not isinstance(small_input, bool):
        raise TypeError(f"small_input must be True, False or None, got {small_input!r}")
    return small_input


class ImageClassifier(Module):
    """Base of the zoo's classifiers: ``(N, in_channels, H, W)`` images -> ``(N, num_classes)``
    logits, for any ``H, W >= min_input_size``.

    Attributes: ``name`` (e.g. ``"resnet20"``), ``num_classes``, ``in_channels``,
    ``input_size`` (the size it was built for) and ``min_input_size``.
    """

    # True for ImageNet networks that offer a gentler stem for 28x28 / 32x32 images
    has_small_input_variant = False

    def __init__(
        self,
        name: str,
        num_classes: int,
        in_channels: int,
        input_size: int,
        min_input_size: int,
    ) -> None:
        super().__init__()
        check_positive_int(name, "num_classes", num_classes)
        check_positive_int(name, "in_channels", in_channels)
        check_positive_int(name, "input_size", input_size)
        if input_size < min_input_size:
            raise ValueError(
                f"{name}: input_size {input_size} is too small; its downsampling needs images of "
                f"at least {min_input_size}x{min_input_size}"
                + (" (or build it with small_input=True)" if self.has_small_input_variant else "")
            )
        self.name, self.num_classes, self.in_channels = name, num_classes, in_channels
        self.input_size, self.min_input_size = input_size, min_input_size

    def check_input(self, x: Any) -> None:
        """Raise a ``ValueError`` unless ``x`` is ``(N, in_channels, H, W)`` with
        ``H, W >= min_input_size``."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{self.name}: expected a Tensor input, got {type(x).__name__}")
        shape = tuple(x.shape)
        if len(shape) != 4 or shape[1] != self.in_channels:
            raise ValueError(
                f"{self.name}: expected input of shape (N, {self.in_channels}, H, W) "
                f"({self.in_channels} input channels), got {shape}"
            )
        if min(shape[2:]) < self.min_input_size:
            raise ValueError(
                f"{self.name}: input {shape[2]}x{shape[3]} is too small; its downsampling needs "
                f"images of at least {self.min_input_size}x{self.min_input_size}"
            )

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, in_channels={self.in_channels}, "
            f"input_size={self.input_size}"
        )
