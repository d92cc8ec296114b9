"""Argument checks shared by the transforms, and the one source of their randomness.

Every check raises an error that names the transform, what it expected and what it got, so a
learner sees ``RandomCrop: padding must be non-negative, got -2`` instead of a NumPy error from
deep inside an op.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...backend.random import rng_of

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def rng() -> np.random.Generator:
    """gradschool's default generator, fetched at call time so ``manual_seed`` (which replaces
    it) always takes effect: augmentation repeats exactly under a seed."""
    return rng_of(None)


def randint(gen: np.random.Generator, n: int) -> int:
    """A uniform integer in ``[0, n)`` made from one double, so that a batch's draws
    (``floor(gen.random(size) * n)``) repeat the per-image draws exactly."""
    return min(int(gen.random() * n), n - 1)


def is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def setup_size(size: Any, name: str, what: str = "size") -> tuple[int, int]:
    """``size`` as ``(h, w)``: an int means a square, a sequence holds one or two ints."""
    if is_int(size):
        hw = (int(size), int(size))
    elif isinstance(size, Sequence) and len(size) in (1, 2) and all(is_int(s) for s in size):
        hw = (int(size[0]), int(size[-1]))
    else:
        raise ValueError(
            f"{name}: {what} must be an int or a sequence (h, w) of two ints, got {size!r}"
        )
    if min(hw) <= 0:
        raise ValueError(f"{name}: {what} must be positive, got {size!r}")
    return hw


def check_prob(p: Any, name: str) -> float:
    if not is_number(p):
        raise TypeError(f"{name}: p must be a number, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: probability p must be in [0, 1], got {p}")
    return p


def parse_padding(padding: Any, name: str) -> tuple[int, int, int, int]:
    """torchvision's padding forms as ``(left, top, right, bottom)``: one int for all four
    sides, two for (left/right, top/bottom), four for each side."""
    if is_int(padding):
        pads = [int(padding)] * 4
    elif isinstance(padding, Sequence) and all(is_int(v) for v in padding):
        if len(padding) not in (1, 2, 4):
            raise ValueError(
                f"{name}: padding must be an int or a sequence of 1, 2 or 4 ints, got a "
                f"sequence of {len(padding)}: {padding!r}"
            )
        pads = [int(v) for v in padding] * (4 // len(padding))
    else:
        raise TypeError(f"{name}: padding must be an int or a sequence of ints, got {padding!r}")
    if min(pads) < 0:
        raise ValueError(f"{name}: padding must be non-negative, got {padding!r}")
    return pads[0], pads[1], pads[2], pads[3]


def check_fill(fill: Any, name: str) -> Any:
    ok = is_number(fill) or (
        isinstance(fill, Sequence) and len(fill) > 0 and all(is_number(v) for v in fill)
    )
    if not ok:
        raise TypeError(f"{name}: fill must be a number or a sequence of numbers, got {fill!r}")
    return fill


def check_padding_mode(mode: Any, name: str) -> str:
    if mode not in PADDING_MODES:
        raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, got {mode!r}")
    return mode


def check_range(
    value: Any,
    name: str,
    what: str,
    center: float = 1.0,
    bound: tuple[float, float] = (0, np.inf),
    clip_low: bool = True,
) -> tuple[float, float]:
    """A number ``d`` as ``(center - d, center + d)`` (the low end clipped at 0 when
    ``clip_low``) or an explicit ``(min, max)``, as ColorJitter and RandomRotation take them."""
    if is_number(value):
        if value < 0:
            raise ValueError(
                f"{name}: if {what} is a single number it must be non-negative, got {value}"
            )
        lo, hi = center - float(value), center + float(value)
        if clip_low:
            lo = max(lo, 0.0)
    elif isinstance(value, Sequence) and len(value) == 2 and all(is_number(v) for v in value):
        lo, hi = float(value[0]), float(value[1])
    else:
        raise TypeError(
            f"{name}: {what} must be a number or a sequence of two numbers, got {value!r}"
        )
    if not bound[0] <= lo <= hi <= bound[1]:
        raise ValueError(
            f"{name}: {what} must satisfy {bound[0]} <= min <= max <= {bound[1]}, got {value!r}"
        )
    return lo, hi
