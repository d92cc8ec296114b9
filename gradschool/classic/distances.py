"""Distance matrices for k-nearest neighbours (CS231n lecture 2: image classification, kNN).

A nearest-neighbour classifier compares every test image with every training image, so its
whole cost is one matrix: ``dists[i, j]``, the distance between test row ``X[i]`` and training
row ``Y[j]`` (images flattened to vectors of D pixels). Two distances are taught:

* **L1 (Manhattan)**, ``sum_d |x_d - y_d|``: every pixel's difference counts as much as its
  size. It depends on the coordinate axes (rotate the data and the distances change).
* **L2 (Euclidean)**, ``sqrt(sum_d (x_d - y_d)^2)``: large differences count more than many
  small ones, and it does not depend on the axes. For kNN the square root can be skipped: it
  is monotone, so it never changes which training rows are nearest.

Each comes three ways, as in the assignment, to show **why we vectorise**: the arithmetic is
the same, but the two-loop version runs ``M * N`` small NumPy calls (each a few microseconds
of interpreter overhead to do ~D flops), the one-loop version ``M`` medium ones, and the
no-loop version hands all of it to compiled code at once. For L2 the no-loop version turns the
work into one matrix multiply through

    ||x - y||^2 = ||x||^2 - 2 x.y + ||y||^2

so it runs at the speed of BLAS (GEMM), typically hundreds of times faster than two loops
(``benchmarks/knn_distances.py`` measures it). The price is round-off: when ``x`` and ``y``
are close, the small difference comes out of the cancellation of two large numbers, and it
can even come out slightly negative. So it is computed in float64 and clipped at 0 before the
square root (``sqrt(-1e-12)`` would be NaN). L1 has no such trick; its no-loop version
broadcasts ``X[:, None, :] - Y[None, :, :]``, an ``M x N x D`` temporary, which is fast but
hungry for memory.

Memory: 10,000 test x 60,000 training distances are 4.8 GB in float64 (2.4 GB in float32),
and their temporaries would be as large again. ``pairwise_distances`` therefore works on
blocks of test rows (and, for L1, of training rows too) sized from a byte budget,
``WORKING_MEMORY`` (512 MiB): ``pairwise_distances_chunked`` yields the blocks one at a time,
so a kNN search never holds more than one block.

All functions take ``X`` (M, D) and ``Y`` (N, D) array-likes and return float64 arrays.

>>> import numpy as np
>>> X = np.array([[0.0, 0.0], [3.0, 4.0]])
>>> l2_distances_no_loops(X, X)
array([[0., 5.],
       [5., 0.]])
>>> l1_distances_no_loops(X, X)
array([[0., 7.],
       [7., 0.]])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = [
    "WORKING_MEMORY",
    "l1_distances_no_loops",
    "l1_distances_one_loop",
    "l1_distances_two_loops",
    "l2_distances_no_loops",
    "l2_distances_one_loop",
    "l2_distances_two_loops",
    "pairwise_distances",
    "pairwise_distances_chunked",
    "squared_l2_distances",
]

WORKING_MEMORY = 512 * 2**20
"""Bytes of temporaries one block of ``pairwise_distances_chunked`` may use (512 MiB)."""

L1_TILE_BYTES = 4 * 2**20
"""Bytes of the ``|x - y|`` temporary of one tile of the blocked L1 distances (4 MiB)."""


def _check_pair(X: Any, Y: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``X`` and ``Y`` as 2-D float64 arrays with the same number of columns."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(
            f"{name}: expected X (M, D) and Y (N, D) as 2-D arrays (flatten images first, "
            f"e.g. X.reshape(len(X), -1)); got shapes {X.shape} and {Y.shape}"
        )
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"{name}: X and Y must have the same number of features (columns); got X "
            f"{X.shape} with {X.shape[1]} and Y {Y.shape} with {Y.shape[1]}"
        )
    return X, Y


# --------------------------------------------------------------------------- L2


def l2_distances_two_loops(X: Any, Y: Any) -> np.ndarray:
    """L2 distances with a Python loop over test rows and one over training rows.

    The definition, one pair at a time: readable, and the reference the others are tested
    against, but ``M * N`` NumPy calls make it the slowest by far.
    """
    X, Y = _check_pair(X, Y, "l2_distances_two_loops")
    dists = np.empty((X.shape[0], Y.shape[0]))
    for i in range(X.shape[0]):
        for j in range(Y.shape[0]):
            dists[i, j] = np.sqrt(np.sum((X[i] - Y[j]) ** 2))
    return dists


def l2_distances_one_loop(X: Any, Y: Any) -> np.ndarray:
    """L2 distances with one loop: each test row against all training rows by broadcasting."""
    X, Y = _check_pair(X, Y, "l2_distances_one_loop")
    dists = np.empty((X.shape[0], Y.shape[0]))
    for i in range(X.shape[0]):
        dists[i] = np.sqrt(np.sum((Y - X[i]) ** 2, axis=1))
    return dists


def squared_l2_distances(
    X: Any, Y: Any, X_sq_norms: np.ndarray | None = None, Y_sq_norms: np.ndarray | None = None
) -> np.ndarray:
    """Squared L2 distances by ``||x||^2 - 2 x.y + ||y||^2``: one GEMM, clipped at 0.

    Pass ``Y_sq_norms`` (``(Y * Y).sum(1)``) to reuse them across calls with the same ``Y``
    (a kNN model computes its training rows' norms once, at ``fit``).
    """
    X, Y = _check_pair(X, Y, "squared_l2_distances")
    if X_sq_norms is None:
        X_sq_norms = np.einsum("ij,ij->i", X, X)
    if Y_sq_norms is None:
        Y_sq_norms = np.einsum("ij,ij->i", Y, Y)
    d = X @ Y.T  # the GEMM: all M * N dot products at once
    d *= -2.0
    d += X_sq_norms[:, None]  # (||x||^2 - 2 x.y) + ||y||^2, in place: no M x N temporaries
    d += Y_sq_norms[None, :]
    np.maximum(d, 0.0, out=d)  # round-off can make a tiny distance slightly negative
    return d


def l2_distances_no_loops(X: Any, Y: Any) -> np.ndarray:
    """L2 distances with no Python loop: ``sqrt(||x||^2 - 2 x.y + ||y||^2)``, one GEMM."""
    return np.sqrt(squared_l2_distances(X, Y))


# --------------------------------------------------------------------------- L1


def l1_distances_two_loops(X: Any, Y: Any) -> np.ndarray:
    """L1 distances one pair at a time (the reference)."""
    X, Y = _check_pair(X, Y, "l1_distances_two_loops")
    dists = np.empty((X.shape[0], Y.shape[0]))
    for i in range(X.shape[0]):
        for j in range(Y.shape[0]):
            dists[i, j] = np.sum(np.abs(X[i] - Y[j]))
    return dists


def l1_distances_one_loop(X: Any, Y: Any) -> np.ndarray:
    """L1 distances with one loop: each test row against all training rows by broadcasting."""
    X, Y = _check_pair(X, Y, "l1_distances_one_loop")
    dists = np.empty((X.shape[0], Y.shape[0]))
    for i in range(X.shape[0]):
        dists[i] = np.sum(np.abs(Y - X[i]), axis=1)
    return dists


def l1_distances_no_loops(X: Any, Y: Any) -> np.ndarray:
    """L1 distances by broadcasting ``X[:, None, :] - Y[None, :, :]`` (an M x N x D temporary).

    There is no GEMM trick for L1, and the temporary takes ``8 * M * N * D`` bytes (500 test
    x 5,000 training 784-pixel images: 15.7 GB), so for large inputs use
    ``pairwise_distances(X, Y, p=1)``, which applies this expression block by block.
    """
    X, Y = _check_pair(X, Y, "l1_distances_no_loops")
    return np.abs(X[:, None, :] - Y[None, :, :]).sum(axis=2)


# --------------------------------------------------------------------------- in blocks


def _block_rows(n_cols: int, bytes_per_entry: int, chunk_size: int | None) -> int:
    """Rows per block: ``chunk_size`` if given, else as many as fit ``WORKING_MEMORY``."""
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
            raise TypeError(f"chunk_size must be a positive int or None; got {chunk_size!r}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int or None; got {chunk_size}")
        return int(chunk_size)
    return max(1, WORKING_MEMORY // max(1, n_cols * bytes_per_entry))


def _check_p(p: Any, name: str) -> int:
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"{name}: p must be 1 (L1, Manhattan) or 2 (L2, Euclidean); got {p!r}")
    return int(p)


def _l1_block(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """L1 distances by broadcasting over tiles of test x training rows whose ``|x - y|``
    temporary stays within ``L1_TILE_BYTES``: small enough to stay in the CPU cache, which
    makes it several times faster than one huge temporary."""
    out = np.empty((X.shape[0], Y.shape[0]))
    ti = min(X.shape[0], 32)
    tj = max(1, L1_TILE_BYTES // (16 * ti * max(1, X.shape[1])))
    for i in range(0, X.shape[0], ti):
        Xi = X[i : i + ti, None, :]
        for j in range(0, Y.shape[0], tj):
            diff = Xi - Y[None, j : j + tj, :]
            np.abs(diff, out=diff)
            out[i : i + ti, j : j + tj] = diff.sum(axis=2)
    return out


def pairwise_distances_chunked(
    X: Any,
    Y: Any,
    p: int = 2,
    chunk_size: int | None = None,
    squared: bool = False,
    Y_sq_norms: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Yield the distance matrix between ``X`` and ``Y`` a block of test rows at a time.

    Each block is ``dists[start : start + rows]`` for consecutive ``start``, float64, with
    ``rows = chunk_size`` or, when ``chunk_size`` is None, as many rows as keep the block and
    its temporaries within ``WORKING_MEMORY``. ``squared=True`` (L2 only) skips the square
    root, which kNN does not need. ``Y_sq_norms`` reuses precomputed ``(Y * Y).sum(1)``.
    """
    p = _check_p(p, "pairwise_distances_chunked")
    X, Y = _check_pair(X, Y, "pairwise_distances_chunked")
    if squared and p != 2:
        raise ValueError("pairwise_distances_chunked: squared=True is for p=2 (L2) only")
    # a block, its row selection (argpartition's int64s) and a comparison: ~24 bytes an entry
    rows = _block_rows(Y.shape[0], 24, chunk_size)
    if p == 2 and Y_sq_norms is None:
        Y_sq_norms = np.einsum("ij,ij->i", Y, Y)
    for start in range(0, X.shape[0], rows):
        Xb = X[start : start + rows]
        if p == 1:
            yield _l1_block(Xb, Y)
            continue
        d = squared_l2_distances(Xb, Y, Y_sq_norms=Y_sq_norms)
        yield d if squared else np.sqrt(d, out=d)


def pairwise_distances(
    X: Any,
    Y: Any | None = None,
    p: int = 2,
    chunk_size: int | None = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """The (M, N) L1 (``p=1``) or L2 (``p=2``) distance matrix, computed a block at a time.

    Temporaries stay within ``WORKING_MEMORY`` whatever the size; the result itself is
    ``M * N`` entries of ``dtype`` (float64, or float32 to halve it: each block is still
    computed in float64, then rounded once). ``Y=None`` means ``Y = X``.
    """
    p = _check_p(p, "pairwise_distances")
    if Y is None:
        Y = X
    X, Y = _check_pair(X, Y, "pairwise_distances")
    out = np.empty((X.shape[0], Y.shape[0]), dtype=dtype)
    start = 0
    for block in pairwise_distances_chunked(X, Y, p=p, chunk_size=chunk_size):
        out[start : start + block.shape[0]] = block
        start += block.shape[0]
    return out
