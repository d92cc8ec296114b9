"""Output positions grouped by the kernel taps that read inside the image (zero skipping).

With padding, a window at the border of the image hangs over it: at an 8x8 output of a 3x3
convolution with padding 1, 28 of the 64 positions read some padding, and 16% of im2col's
multiply-adds are by zeros (31% at 4x4). PyTorch's direct kernels skip them; a plain im2col
does not. Here the output positions are split into a few rectangles ("classes"), each read
by one rectangle of taps, so each class can get its own columns and its own product with
only those taps' rows of W:

    3x3, padding 1          taps read
    +---+-----------+---+
    |       top     |     rows 1-2 of the kernel, all 3 columns (the corners' outer
    +---+-----------+---+     column is still padding: 2 zeros in 6, kept)
    | l |  middle   | r |  middle: all 9 taps; l / r: all rows, columns 1-2 / 0-1
    +---+-----------+---+
    |     bottom    |     rows 0-1, all columns
    +---+-----------+---+

Rows of the output are first grouped by the kernel rows that read inside the image; the
group read by every kernel row (the middle) is then split the same way by columns; the
others keep every column, so a class never holds fewer than a full image row. Fewer, larger
classes keep each product big enough to run at BLAS's speed.
"""

from __future__ import annotations

from typing import NamedTuple

Pair = tuple[int, int]


class PositionClass(NamedTuple):
    """Output rows ``rows[0]:rows[1]`` x columns ``cols[0]:cols[1]``, read by kernel rows
    ``taps_h[0]:taps_h[1]`` x columns ``taps_w[0]:taps_w[1]``."""

    rows: Pair
    cols: Pair
    taps_h: Pair
    taps_w: Pair


def _groups(size: int, out: int, k: int, pad_before: int) -> list[tuple[Pair, Pair]]:
    """``[((first, stop) outputs, (first, stop) taps)]``: consecutive outputs of a stride-1,
    undilated convolution along one axis grouped by the taps that read inside the input
    (input ``o + t - pad_before`` for tap ``t``)."""
    groups: list[tuple[Pair, Pair]] = []
    for o in range(out):
        taps = (max(0, pad_before - o), min(k, size + pad_before - o))
        if groups and groups[-1][1] == taps:
            groups[-1] = ((groups[-1][0][0], o + 1), taps)
        else:
            groups.append(((o, o + 1), taps))
    return groups


def position_classes(in_hw: Pair, kernel: Pair, pads: Pair, out_hw: Pair) -> list[PositionClass]:
    """The classes of a stride-1, undilated convolution of an ``in_hw`` input padded by
    ``pads`` = (top, left) before, with ``out_hw`` outputs (see the module docstring). Every
    output position is in exactly one class."""
    (h, w), (kh, kw), (top, left), (oh, ow) = in_hw, kernel, pads, out_hw
    classes = []
    for rows, taps_h in _groups(h, oh, kh, top):
        if taps_h == (0, kh):
            for cols, taps_w in _groups(w, ow, kw, left):
                classes.append(PositionClass(rows, cols, taps_h, taps_w))
        else:
            classes.append(PositionClass(rows, (0, ow), taps_h, (0, kw)))
    return classes


def multiply_adds(classes: list[PositionClass]) -> int:
    """Taps read per input channel and output channel, summed over the output positions: the
    multiply-adds of the classes' products, per channel pair."""
    return sum(
        (c.rows[1] - c.rows[0])
        * (c.cols[1] - c.cols[0])
        * (c.taps_h[1] - c.taps_h[0])
        * (c.taps_w[1] - c.taps_w[0])
        for c in classes
    )
