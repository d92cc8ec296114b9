"""Putting transforms together: ``Compose``, ``RandomApply``, ``Lambda`` (torchvision's).

A pipeline is a list of callables applied in order, e.g. the CIFAR-10 training recipe of
CS231n lecture 7::

    Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(),
             Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import _checks

__all__ = ["Compose", "Lambda", "RandomApply"]


def _lines(name: str, transforms: Sequence[Any], head: str = "") -> str:
    """torchvision's layout: the name, then one member per indented line."""
    body = "".join(f"\n    {t}" for t in transforms)
    return f"{name}({head}{body}\n)"


class Compose:
    """Apply ``transforms`` one after the other: ``Compose([f, g])(x) == g(f(x))``.

    ``apply_batch`` exists when every member has one: the whole batch then goes through each
    transform once, vectorised, instead of image by image.

    >>> from gradschool.data import transforms as T
    >>> T.Compose([T.CenterCrop(2), T.ToTensor()])
    Compose(
        CenterCrop(size=(2, 2))
        ToTensor()
    )
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {t!r}")
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    @property
    def apply_batch(self) -> Callable[[Any], Any]:
        """The batch fast path; missing (``hasattr`` is False) unless every member has one."""
        for t in self.transforms:
            if not hasattr(t, "apply_batch"):
                raise AttributeError(
                    f"Compose.apply_batch: {type(t).__name__} has no batch version; apply the "
                    f"pipeline one image at a time"
                )
        return self._apply_batch

    def _apply_batch(self, batch: Any) -> Any:
        for t in self.transforms:
            batch = t.apply_batch(batch)
        return batch

    def __repr__(self) -> str:
        return _lines(type(self).__name__, self.transforms)


class RandomApply:
    """Apply all of ``transforms`` with probability ``p``, else none (e.g. SimCLR's
    ``RandomApply([ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8)``)."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]], p: float = 0.5) -> None:
        for t in transforms:
            if not callable(t):
                raise TypeError(f"RandomApply: every transform must be callable, got {t!r}")
        self.transforms = transforms
        self.p = _checks.check_prob(p, "RandomApply")

    def __call__(self, img: Any) -> Any:
        if self.p < _checks.rng().random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return _lines(type(self).__name__, self.transforms, f"\n    p={self.p}")


class Lambda:
    """Wrap any function of one image as a transform, e.g. ``Lambda(lambda x: x * 2)``."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(
                f"Lambda: argument lambd should be callable, got {type(lambd).__name__!r}"
            )
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
