"""Hand-made image features: histograms of oriented gradients and of colour (CS231n §1).

Before networks learnt their own features, image classification was two steps: turn each image
into a vector that describes it better than raw pixels do, then train a linear classifier on
those vectors. CS231n assignment 1 ("features.ipynb") does exactly this with two descriptors:

* **HOG** (histogram of oriented gradients, Dalal & Triggs 2005) captures *texture and shape*
  and ignores colour: the image is made grey, its gradient is taken at every pixel, the image
  is cut into cells of ``cell_size x cell_size`` pixels, and each cell gets a 9-bin histogram of
  gradient orientations (0-180 degrees), each pixel voting with its gradient magnitude. The
  feature is every cell's histogram, laid end to end.
* **Colour histogram** captures *colour* and ignores shape: the image is converted to HSV
  (hue, saturation, value) and the hue of its pixels is histogrammed.

``extract_features(imgs, [hog_feature, color_histogram_hsv])`` stacks both for every image.
A linear SVM on these features beats one on raw pixels by a wide margin on CIFAR-10 (the
assignment's point); on Fashion-MNIST see ``benchmarks/hog_svm_fashion_mnist.py``.

These follow the assignment's code, including its quirks, kept so results match it:

* grey is ``0.299 R + 0.587 G + 0.144 B`` (the assignment's weights; the ITU-R 601 luma uses
  0.114 for blue);
* the gradients are forward differences (``np.diff``), zero in the last column/row;
* the orientation is ``arctan2(gy, gx) + 90`` degrees and only orientations in ``(0, 180)``
  are binned, so a gradient pointing "left" (``gx < 0``) casts no vote;
* each cell's histogram is the *mean* of the votes over the cell (the assignment takes a
  uniform filter and samples it at the cell centres, which is the same thing; here it is a
  reshape and a mean, with no SciPy); pixels past the last whole cell are dropped;
* the features are ordered (column of cells, row of cells, orientation), as the assignment's
  transpose leaves them;
* ``color_histogram_hsv`` multiplies the histogram by the bin width even when
  ``normalized=False``.

``hog_feature`` and ``color_histogram_hsv`` take one image, as the assignment's do;
``hog_features`` and ``color_histograms_hsv`` take a batch and are the same computation
vectorised over it (no Python loop over images or pixels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "rgb2gray",
    "rgb_to_hsv",
    "hog_feature",
    "hog_features",
    "color_histogram_hsv",
    "color_histograms_hsv",
    "extract_features",
]

ORIENTATIONS = 9  # gradient-orientation bins over 0-180 degrees


# ----------------------------------------------------------------- colour spaces
def rgb2gray(rgb: Any) -> np.ndarray:
    """Grey level of RGB pixels ``(..., 3)`` with the assignment's weights (0.299, 0.587, 0.144)."""
    rgb = np.asarray(rgb)
    return np.dot(rgb[..., :3], [0.299, 0.587, 0.144])


def rgb_to_hsv(rgb: Any) -> np.ndarray:
    """RGB values in ``[0, 1]``, shape ``(..., 3)``, to HSV in ``[0, 1]`` (as
    ``matplotlib.colors.rgb_to_hsv``).

    V is the largest channel, S the spread ``(max - min) / max``, and H says which channel is
    largest and how far the other two pull away from it: red at 0, green at 1/3, blue at 2/3
    (a grey pixel has H = S = 0).
    """
    arr = np.asarray(rgb)
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ValueError(
            f"rgb_to_hsv: expected RGB values of shape (..., 3), got shape {arr.shape}"
        )
    arr = arr.astype(np.promote_types(arr.dtype, np.float32), copy=False)
    if arr.size and (arr.max() > 1 or arr.min() < 0):
        raise ValueError(
            f"rgb_to_hsv: RGB values must lie in [0, 1], got values in [{arr.min()}, {arr.max()}]"
        )
    v = arr.max(-1)
    delta = v - arr.min(-1)
    s = np.divide(delta, v, out=np.zeros_like(delta), where=v > 0)
    safe = np.where(delta > 0, delta, 1)
    r, g, b = arr[..., 0], arr[..., 1], arr[..., 2]
    h = np.zeros_like(v)
    # the later cases win ties, as in matplotlib: blue over green over red
    h = np.where(r == v, (g - b) / safe, h)
    h = np.where(g == v, 2.0 + (b - r) / safe, h)
    h = np.where(b == v, 4.0 + (r - g) / safe, h)
    h = np.where(delta > 0, h, 0)
    h = (h / 6.0) % 1.0
    return np.stack([h, s, v], axis=-1)


# ----------------------------------------------------------------- HOG
def _check_cell_size(cell_size: int, h: int, w: int, name: str) -> int:
    if isinstance(cell_size, bool) or not isinstance(cell_size, int | np.integer) or cell_size < 1:
        raise ValueError(f"{name}: cell_size must be a positive integer, got {cell_size!r}")
    if h < cell_size or w < cell_size:
        raise ValueError(
            f"{name}: a {h}x{w} image holds no whole {cell_size}x{cell_size} cell; "
            "use a smaller cell_size"
        )
    return int(cell_size)


def hog_features(images: Any, cell_size: int = 8) -> np.ndarray:
    """HOG features of a batch: ``images`` is ``(N, H, W)`` grey or ``(N, H, W, 3)`` RGB;
    returns ``(N, (W // cell_size) * (H // cell_size) * 9)`` float64.

    The assignment's ``hog_feature`` on every image, as whole-array operations.
    """
    ims = np.asarray(images)
    if ims.ndim == 4 and ims.shape[-1] == 3:
        ims = rgb2gray(ims)
    elif ims.ndim != 3:
        raise ValueError(
            f"hog_features: expected a batch of grey (N, H, W) or RGB (N, H, W, 3) images, "
            f"got shape {ims.shape}"
        )
    ims = ims.astype(np.float64, copy=False)  # np.diff on uint8 would wrap around
    n, h, w = ims.shape
    c = _check_cell_size(cell_size, h, w, "hog_features")

    # 1. the gradient: forward differences, zero in the last column (gx) and row (gy)
    gx = np.zeros_like(ims)
    gy = np.zeros_like(ims)
    gx[:, :, :-1] = np.diff(ims, axis=2)
    gy[:, :-1, :] = np.diff(ims, axis=1)
    magnitude = np.sqrt(gx**2 + gy**2)
    orientation = np.arctan2(gy, gx + 1e-15) * (180 / np.pi) + 90  # degrees, in [-90, 270]

    # 2. which of the 9 bins of 20 degrees each pixel votes in: bin i holds [20 i, 20 (i + 1)),
    #    and an orientation of exactly 0 or outside [0, 180) casts no vote (the assignment's rule)
    edges = 180 / ORIENTATIONS * np.arange(ORIENTATIONS + 1)
    bins = np.searchsorted(edges, orientation, side="right") - 1
    votes = (bins >= 0) & (bins < ORIENTATIONS) & (orientation > 0)

    # 3. each cell's histogram: the mean vote over its c x c pixels (whole cells only)
    ny, nx = h // c, w // c
    bins, votes, magnitude = (a[:, : ny * c, : nx * c] for a in (bins, votes, magnitude))
    hist = np.zeros((n, ny, nx, ORIENTATIONS))
    for i in range(ORIENTATIONS):  # a loop over the 9 bins, as the assignment's
        weight = np.where(votes & (bins == i), magnitude, 0.0)
        hist[..., i] = weight.reshape(n, ny, c, nx, c).mean(axis=(2, 4))
    # ordered (column of cells, row of cells, orientation), as the assignment's transpose
    return hist.transpose(0, 2, 1, 3).reshape(n, -1)


def hog_feature(im: Any, cell_size: int = 8) -> np.ndarray:
    """HOG feature of one image, ``(H, W)`` grey or ``(H, W, 3)`` RGB: a vector of
    ``(W // cell_size) * (H // cell_size) * 9`` numbers (81 for 28x28 images with the course's
    8x8 cells, 441 with 4x4 cells).

    >>> hog_feature(np.zeros((32, 32, 3))).shape
    (144,)
    """
    im = np.asarray(im)
    if not (im.ndim == 2 or (im.ndim == 3 and im.shape[-1] == 3)):
        raise ValueError(
            f"hog_feature: expected one grey (H, W) or RGB (H, W, 3) image, got shape {im.shape}"
            " (hog_features takes a batch)"
        )
    return hog_features(im[None], cell_size)[0]


# ----------------------------------------------------------------- colour histogram
def color_histograms_hsv(
    images: Any, nbin: int = 10, xmin: float = 0, xmax: float = 255, normalized: bool = True
) -> np.ndarray:
    """Hue histograms of a batch: ``images`` is ``(N, H, W, 3)`` RGB or ``(N, H, W)`` grey with
    values in ``[0, xmax]``; returns ``(N, nbin)``.

    Each image's pixels are converted to HSV (scaled to ``[0, xmax]``) and their hue is counted
    in ``nbin`` equal bins over ``[xmin, xmax]`` (the last bin closed, values outside dropped, as
    ``np.histogram``). With ``normalized`` the counts are divided by their total (each row sums
    to 1); without, they are multiplied by the bin width (the assignment's code).

    A grey image has no hue (every pixel would land in the first bin), so for grey images the
    histogram is of the **value** channel: the grey levels themselves.
    """
    ims = np.asarray(images)
    if ims.ndim == 4 and ims.shape[-1] == 3:
        channel = rgb_to_hsv(ims / xmax)[..., 0] * xmax
    elif ims.ndim == 3:
        channel = ims / xmax  # V of a grey pixel is the grey level
        if channel.size and (channel.max() > 1 or channel.min() < 0):
            raise ValueError(
                f"color_histograms_hsv: pixel values must lie in [0, xmax={xmax}], got values in "
                f"[{ims.min()}, {ims.max()}]"
            )
        channel = channel * xmax
    else:
        raise ValueError(
            f"color_histograms_hsv: expected a batch of RGB (N, H, W, 3) or grey (N, H, W) "
            f"images, got shape {ims.shape}"
        )
    if isinstance(nbin, bool) or not isinstance(nbin, int | np.integer) or nbin < 1:
        raise ValueError(f"color_histograms_hsv: nbin must be a positive integer, got {nbin!r}")
    edges = np.linspace(xmin, xmax, nbin + 1)
    values = channel.reshape(len(ims), -1)
    idx = np.searchsorted(edges, values, side="right") - 1
    idx[values == edges[-1]] = nbin - 1  # the last bin is closed on the right
    inside = (idx >= 0) & (idx < nbin)
    rows = np.broadcast_to(np.arange(len(ims))[:, None], idx.shape)
    flat = (rows * nbin + idx)[inside]
    counts = np.bincount(flat, minlength=len(ims) * nbin).reshape(len(ims), nbin)
    counts = counts.astype(np.float64)
    if not normalized:
        return counts * np.diff(edges)
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty histogram is NaN, as NumPy's
        return counts / counts.sum(axis=1, keepdims=True)


def color_histogram_hsv(
    im: Any, nbin: int = 10, xmin: float = 0, xmax: float = 255, normalized: bool = True
) -> np.ndarray:
    """Hue histogram of one image, ``(H, W, 3)`` RGB (or ``(H, W)`` grey: a histogram of its
    grey levels), as a vector of ``nbin`` numbers; see ``color_histograms_hsv``.

    >>> color_histogram_hsv(np.full((4, 4, 3), [255, 0, 0])).tolist()  # pure red: hue 0
    [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    im = np.asarray(im)
    if not (im.ndim == 2 or (im.ndim == 3 and im.shape[-1] == 3)):
        raise ValueError(
            f"color_histogram_hsv: expected one RGB (H, W, 3) or grey (H, W) image, got shape "
            f"{im.shape} (color_histograms_hsv takes a batch)"
        )
    return color_histograms_hsv(im[None], nbin, xmin, xmax, normalized)[0]


# ----------------------------------------------------------------- many features, many images
def extract_features(
    imgs: Any,
    feature_fns: Sequence[Callable[[Any], Any]],
    verbose: bool = False,
    batch_size: int | None = None,
) -> np.ndarray:
    """The features of every image, side by side: ``(N, F)`` where ``F`` is the sum of the
    lengths of what the functions return.

    As the assignment: each function in ``feature_fns`` takes one image (``imgs[i]``, squeezed)
    and returns a 1-D vector; the images are processed one at a time. With ``batch_size``, each
    function instead takes a batch ``imgs[i : i + batch_size]`` and returns ``(n, F_j)`` (e.g.
    ``hog_features``, ``color_histograms_hsv``): the same numbers, far faster.
    """
    imgs = np.asarray(imgs)
    n = len(imgs)
    if not feature_fns:
        raise ValueError("extract_features: feature_fns is empty; pass at least one function")
    if n == 0:
        return np.zeros((0, 0))
    if batch_size is not None:
        if batch_size < 1:
            raise ValueError(f"extract_features: batch_size must be positive, got {batch_size}")
        chunks = []
        for start in range(0, n, batch_size):
            batch = imgs[start : start + batch_size]
            parts = [np.asarray(fn(batch), dtype=np.float64) for fn in feature_fns]
            for fn, p in zip(feature_fns, parts, strict=True):
                if p.ndim != 2 or len(p) != len(batch):
                    raise ValueError(
                        f"extract_features: with batch_size, {_name(fn)} must return "
                        f"({len(batch)}, F) for a batch of {len(batch)}, got shape {p.shape}"
                    )
            chunks.append(np.hstack(parts))
            if verbose:
                print(f"Done extracting features for {start + len(batch)} / {n} images")
        return np.vstack(chunks)

    # the first image fixes each function's feature length
    first = []
    for fn in feature_fns:
        feats = np.asarray(fn(imgs[0].squeeze()))
        if feats.ndim != 1:
            raise ValueError(
                f"extract_features: feature functions must return a 1-D vector; {_name(fn)} "
                f"returned shape {feats.shape}"
            )
        first.append(feats)
    dims = [f.size for f in first]
    out = np.zeros((n, sum(dims)))
    out[0] = np.hstack(first)
    for i in range(1, n):
        idx = 0
        for fn, dim in zip(feature_fns, dims, strict=True):
            out[i, idx : idx + dim] = fn(imgs[i].squeeze())
            idx += dim
        if verbose and i % 1000 == 999:
            print(f"Done extracting features for {i + 1} / {n} images")
    return out


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", None) or repr(fn)
