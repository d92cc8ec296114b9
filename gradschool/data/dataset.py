"""Datasets: what a training loop indexes into (CS231n L6-L7 "training neural networks": the
data side of minibatch SGD), with ``torch.utils.data``'s classes and semantics.

A map-style ``Dataset`` answers ``len(ds)`` and ``ds[i]`` (one sample, usually an
``(input, label)`` tuple). ``TensorDataset`` wraps tensors that share a first dimension;
``Subset`` and ``random_split`` carve out index sets (a validation split); ``ConcatDataset``
chains datasets end to end. ``IterableDataset`` is a stream with no random access.

The fast path. A dataset whose samples live in arrays may define ``__getitems__(indices)``
that returns a *whole batch* at once — exactly what ``default_collate([ds[i] for i in
indices])`` would return, built with one fancy-index per array instead of one ``__getitem__``
per sample. ``DataLoader`` uses it whenever no custom ``collate_fn`` is given. (PyTorch's
``__getitems__`` returns the list of samples and collates afterwards; here it returns the
collated batch, which is the point of it. ``TensorDataset``, ``Subset`` and the array-backed
datasets of ``gradschool.data.datasets`` define it.)
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..backend.random import Generator, rng_of
from ..tensor import Tensor

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
]


class Dataset:
    """A map-style dataset: subclasses implement ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of Dataset should implement __getitem__"
        )

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses implement ``__iter__`` (no indexing, no sampler).

    ``DataLoader`` groups consecutive items into batches of ``batch_size``.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of IterableDataset should implement __iter__"
        )


def _index_array(indices: Any) -> np.ndarray:
    """Indices (a list, range or array of ints) as an integer array for fancy indexing."""
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        if idx.size == 0:
            return idx.astype(np.intp)
        raise TypeError(
            f"__getitems__: expected integer indices, got an array of dtype {idx.dtype}"
        )
    return idx


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first dimension.

    ``TensorDataset(X, y)[i] == (X[i], y[i])``; with ``X`` of shape ``(N, ...)`` and ``y`` of
    shape ``(N,)``. NumPy arrays are accepted too (wrapped without a copy).
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor, got none")
        wrapped = []
        for i, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = Tensor._make(t)
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: expected Tensors (or NumPy arrays), got "
                    f"{type(t).__name__} at position {i}"
                )
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {i} is 0-d; every tensor needs a first dimension"
                )
            wrapped.append(t)
        sizes = [t.shape[0] for t in wrapped]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(
                f"TensorDataset: size mismatch between tensors: every tensor must have the same "
                f"first dimension, got {sizes}"
            )
        self.tensors: tuple[Tensor, ...] = tuple(wrapped)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        # rows of tensors that do not require grad are plain views (no graph to build)
        return tuple(
            t[index] if t.requires_grad else Tensor._make(t.data[index]) for t in self.tensors
        )

    def __getitems__(self, indices: Sequence[int]) -> list[Tensor]:
        """The batch ``[X[indices], y[indices], ...]``: one fancy-index per tensor."""
        idx = _index_array(indices)
        return [t[idx] if t.requires_grad else Tensor._make(t.data[idx]) for t in self.tensors]

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (in that order)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        self._idx, self._idx_of = _index_array(indices), indices  # maps a whole batch at once

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: Sequence[int]) -> Any:
        """A whole batch: the inner dataset's ``__getitems__`` if it has one, else collated."""
        if self._idx_of is not self.indices or len(self._idx) != len(self.indices):
            self._idx, self._idx_of = _index_array(self.indices), self.indices  # reassigned
        inner = self._idx[_index_array(indices)].tolist()
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems(inner)
        from .dataloader import default_collate  # here: dataloader.py imports this file

        return default_collate([self.dataset[i] for i in inner])

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets chained end to end: index ``i`` falls into the first dataset whose cumulative
    size exceeds it (``cumulative_sizes`` holds the running totals)."""

    @staticmethod
    def cumsum(sequence: Sequence[Any]) -> list[int]:
        out, total = [], 0
        for d in sequence:
            total += len(d)
            out.append(total)
        return out

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError(
                    f"ConcatDataset: absolute value of index should not exceed dataset length "
                    f"{len(self)}, got {idx}"
                )
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which == len(self.datasets):
            raise IndexError(
                f"ConcatDataset: index {idx} is out of range for a dataset of length {len(self)}"
            )
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: Generator | None = None,
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing to 1 (each split
    gets ``floor(frac * n)`` and the remainder is dealt round-robin, as PyTorch does). The
    permutation comes from ``generator`` (the default generator when None, so
    ``gradschool.manual_seed`` fixes the split).

    >>> train, val = random_split(TensorDataset(gradschool.arange(10)), [0.8, 0.2])
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(dataset)
    lengths = list(lengths)
    for x in lengths:
        if isinstance(x, bool) or not isinstance(x, int | float | np.number):
            raise TypeError(
                f"random_split: lengths must be ints or fractions, got {x!r} in {lengths!r}"
            )
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(
                    f"random_split: fraction at index {i} is not between 0 and 1, got {frac}"
                )
            sizes.append(int(math.floor(n * frac)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.",
                    stacklevel=2,
                )
        lengths = sizes
    for i, size in enumerate(lengths):
        if not isinstance(size, int | np.integer) or size < 0:
            raise ValueError(
                f"random_split: lengths must be non-negative ints (or fractions summing to 1), "
                f"got {size!r} at index {i}"
            )
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of "
            f"the input dataset ({n})"
        )
    perm = rng_of(generator).permutation(n).tolist()
    out, offset = [], 0
    for size in lengths:
        out.append(Subset(dataset, perm[offset : offset + size]))
        offset += size
    return out
