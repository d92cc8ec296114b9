"""``DataLoader``: minibatches from a dataset (CS231n L6-L7: minibatch SGD needs a stream of
shuffled batches), with ``torch.utils.data.DataLoader``'s arguments, defaults and semantics.

    for xb, yb in DataLoader(train_set, batch_size=64, shuffle=True):
        ...  # xb: (64, ...) Tensor, yb: (64,) Tensor; the last batch may be shorter

How a batch is made. The batch sampler yields lists of indices. With the default collate
function and a dataset that defines ``__getitems__(indices)`` (``TensorDataset``, ``Subset``,
the array-backed datasets), the whole batch comes from that one call: one fancy-index per
array. Otherwise each sample is fetched with ``dataset[i]`` and the list is merged by
``collate_fn`` (``default_collate`` stacks tensors and arrays, turns numbers into tensors, and
recurses into tuples, lists and dicts). Both paths give the same batches.

Determinism and resuming. With ``shuffle=True`` the order of an epoch is drawn when its
iteration starts (the first ``next``), from ``generator`` if given, else from gradschool's
default generator: ``gradschool.manual_seed(s)`` fixes every epoch's order, and a run resumed
from a checkpoint sees the same orders if it restores the generator's state
(``generator.get_state()`` / ``set_state``, or ``gradschool.get_rng_state()`` /
``set_rng_state``) saved at an epoch boundary. The loader draws nothing else.

``num_workers``: batches are always made in the main process (NumPy's fancy indexing is
already fast, and a single process keeps the random draws of transforms in a fixed order);
``num_workers``, ``pin_memory``, ``timeout`` and the worker options are accepted and checked
as in PyTorch so that scripts port unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..backend.device import get_array_module
from ..backend.dtype import from_numpy_dtype
from ..backend.random import Generator
from ..ops.shape import stack
from ..tensor import Tensor
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]

_COLLATE_ERR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _array_to_tensor(a: np.ndarray, op: str) -> Tensor:
    try:
        from_numpy_dtype(a.dtype)
    except TypeError as err:
        raise TypeError(f"{op}: cannot make a tensor from a NumPy array: {err}") from None
    return Tensor._make(a)


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch, recursively (PyTorch's ``default_collate``).

    - Tensors of shape ``S`` -> one Tensor ``(B, *S)`` (stacked);
    - NumPy arrays -> stacked into a Tensor of the same dtype; NumPy scalars -> a ``(B,)``
      Tensor of their dtype;
    - Python ints -> int64 ``(B,)``, floats -> float64 ``(B,)``, bools -> bool ``(B,)``;
    - strings and bytes -> left as a list;
    - dicts -> a dict of collated values per key; namedtuples -> the same namedtuple;
      tuples -> a *list* of collated fields (as PyTorch); lists -> a list.

    >>> default_collate([(gradschool.zeros(3), 0), (gradschool.ones(3), 1)])
    [tensor([[0., 0., 0.],
            [1., 1., 1.]]), tensor([0, 1])]
    """
    if len(batch) == 0:
        raise ValueError("default_collate: got an empty batch; a batch needs at least one sample")
    elem = batch[0]
    if isinstance(elem, Tensor):
        shape = elem.shape
        for i, b in enumerate(batch):
            if not isinstance(b, Tensor) or b.shape != shape:
                got = b.shape if isinstance(b, Tensor) else type(b).__name__
                raise ValueError(
                    f"default_collate: stack expects each tensor to be equal size, but got "
                    f"{shape} at entry 0 and {got} at entry {i}"
                )
        if any(b.requires_grad for b in batch):
            return stack(batch)  # keep the graph, as torch.stack would
        xp = get_array_module(elem.data)
        return Tensor._make(xp.stack([b.data for b in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USOV":
            raise TypeError(_COLLATE_ERR.format(elem.dtype))
        shapes = {np.shape(b) for b in batch}
        if len(shapes) != 1:
            raise ValueError(
                f"default_collate: stack expects each array to be equal size, got shapes "
                f"{sorted(shapes)}"
            )
        return _array_to_tensor(np.stack(batch), "default_collate")
    if isinstance(elem, np.generic) and not isinstance(elem, np.str_ | np.bytes_):
        return _array_to_tensor(np.array(batch), "default_collate")
    if isinstance(elem, bool | float | int):
        kind = (
            np.bool_
            if isinstance(elem, bool)
            else np.float64
            if isinstance(elem, float)
            else np.int64
        )
        try:
            return Tensor._make(np.array(batch, dtype=kind))
        except (TypeError, ValueError):  # a string or a list among the numbers
            raise TypeError(
                f"default_collate: entry 0 is a {type(elem).__name__}, but the batch holds "
                f"{', '.join(sorted({type(b).__name__ for b in batch}))}; every sample's field "
                "must be of the same kind"
            ) from None
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise ValueError(
                "default_collate: each element in list of batch should be of equal size, got "
                f"sizes {[len(b) for b in batch]}"
            )
        fields = [default_collate(list(s)) for s in zip(*batch, strict=True)]
        if isinstance(elem, tuple):
            return fields  # PyTorch returns a list for tuples
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_COLLATE_ERR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays (and scalars) inside ``data`` into Tensors, without batching (what
    ``DataLoader`` applies when ``batch_size=None``)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "USOV" else _array_to_tensor(data, "default_convert")
    if isinstance(data, np.generic) and not isinstance(data, np.str_ | np.bytes_):
        return _array_to_tensor(np.asarray(data), "default_convert")
    if isinstance(data, Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


class _InfiniteConstantSampler(Sampler):
    """The sampler of a stream (``IterableDataset``): no indices to give."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """Iterates over ``dataset`` in batches (``torch.utils.data.DataLoader``).

    ``batch_size=None`` turns batching off (each sample is only converted to tensors).
    ``shuffle=True`` visits a fresh random permutation each epoch; ``sampler`` (an iterable of
    indices) and ``batch_sampler`` (an iterable of index lists) replace the default order, and
    are mutually exclusive with the options they replace, as in PyTorch. ``drop_last`` drops the
    last incomplete batch. ``len(loader)`` is the number of batches.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable[Any] | None = None,
        batch_sampler: Sampler | Iterable[list[Any]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                f"multiprocessing, got num_workers={num_workers!r}"
            )
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got timeout={timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            if shuffle not in (False, None):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, but "
                    f"got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, but "
                    f"got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                    f"but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )

        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr in _FROZEN and getattr(self, "_initialized", False):
            raise ValueError(
                f"{attr} attribute should not be set after {type(self).__name__} is initialized"
            )
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, IterableDataset):
            return self._iter_stream()
        return self._iter_map()

    def _iter_map(self) -> Iterator[Any]:
        dataset, collate = self.dataset, self.collate_fn
        if not self._auto_collation:
            for index in self.sampler:
                yield collate(dataset[index])
            return
        getitems = getattr(dataset, "__getitems__", None)
        if callable(getitems) and collate is default_collate:
            # the fast path: the dataset builds the collated batch itself
            for indices in self.batch_sampler:  # type: ignore[union-attr]
                yield getitems(indices)
            return
        for indices in self.batch_sampler:  # type: ignore[union-attr]
            yield collate([dataset[i] for i in indices])

    def _iter_stream(self) -> Iterator[Any]:
        items, collate = iter(self.dataset), self.collate_fn  # type: ignore[call-overload]
        if not self._auto_collation:
            for item in items:
                yield collate(item)
            return
        bs = self.batch_size
        while True:
            batch = list(itertools.islice(items, bs))
            if not batch or (self.drop_last and len(batch) < bs):  # type: ignore[operator]
                return
            yield collate(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)  # type: ignore[arg-type]
