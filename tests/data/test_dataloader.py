"""The data pipeline against ``torch.utils.data``: DataLoader batches (len, drop_last, the last
partial batch, sequential order), shuffling that repeats under ``manual_seed`` or a Generator
and resumes from a saved generator state, the fast ``__getitems__`` path equal to the slow
per-sample path, ``default_collate`` on nested structures, samplers, ``random_split``, the
datasets' containers, and PyTorch's errors for conflicting options."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import gradschool as gs
from gradschool.data.dataloader import DataLoader, default_collate, default_convert
from gradschool.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from gradschool.data.sampler import (
    BatchSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def _np(x):
    """gradschool / torch outputs as nested NumPy (dtypes kept) for comparison."""
    if isinstance(x, gs.Tensor | torch.Tensor):
        return x.numpy()
    if isinstance(x, dict):
        return {k: _np(v) for k, v in x.items()}
    if isinstance(x, tuple | list):
        return type(x)(_np(v) for v in x) if not hasattr(x, "_fields") else tuple(map(_np, x))
    return x


def _same(a, b):
    a, b = _np(a), _np(b)
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), (a, b)
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), (type(a), type(b))
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert a == b


def _pair(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64) % 4
    return TensorDataset(gs.tensor(X), gs.tensor(y)), tud.TensorDataset(
        torch.tensor(X), torch.tensor(y)
    )


class Items(Dataset):
    """A plain map-style dataset (no ``__getitems__``): the slow path."""

    def __init__(self, n=10):
        self.X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
        self.calls = 0

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        self.calls += 1
        return gs.tensor(self.X[i]), int(i) % 4


def _slow(b):  # a custom collate_fn disables the fast path
    return default_collate(b)


# ---------------------------------------------------------------- sequential batches vs torch
@pytest.mark.parametrize("n", [1, 7, 10])
@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_match_torch(n, batch_size, drop_last):
    ours, theirs = _pair(n)
    a = DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    b = tud.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(a) == len(b)
    got, want = list(a), list(b)
    assert len(got) == len(want) == len(a)
    for x, y in zip(got, want, strict=True):
        _same(x, y)  # [X (B, 3) float32, y (B,) int64], the last one partial unless dropped


def test_batch_size_none_converts_like_torch():
    ours, theirs = _pair(4)
    for a, b in zip(
        DataLoader(ours, batch_size=None), tud.DataLoader(theirs, batch_size=None), strict=True
    ):
        _same(list(a), list(b))
    arrays = [(np.ones(2, np.float32), 3)] * 2
    for a, b in zip(
        DataLoader(arrays, batch_size=None), tud.DataLoader(arrays, batch_size=None), strict=True
    ):
        _same(a, b)  # arrays become tensors, numbers stay numbers, tuples become lists


def test_plain_dataset_and_list_datasets():
    ds = Items(7)
    batches = list(DataLoader(ds, batch_size=3))
    assert [len(b[1]) for b in batches] == [3, 3, 1] and ds.calls == 7
    np.testing.assert_array_equal(batches[2][0].numpy(), ds.X[6:])
    assert batches[0][1].dtype == gs.int64


# ---------------------------------------------------------------- shuffling and determinism
def _order(loader):
    return np.concatenate([b[1].numpy() for b in loader]).tolist()


def test_shuffle_repeats_under_manual_seed():
    ds = TensorDataset(gs.arange(50), gs.arange(50))
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    gs.manual_seed(3)
    e1, e2 = _order(loader), _order(loader)
    gs.manual_seed(3)
    assert _order(loader) == e1 and _order(loader) == e2
    assert sorted(e1) == list(range(50)) and e1 != e2 != list(range(50))  # fresh each epoch


def test_shuffle_with_generator_and_resume():
    ds = TensorDataset(gs.arange(30), gs.arange(30))
    g = gs.Generator().manual_seed(7)
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=g)
    before = gs.get_rng_state()
    e1 = _order(loader)
    assert gs.get_rng_state() == before  # the loader's own generator, not the default one
    state = g.get_state()  # what a checkpoint saves at an epoch boundary
    e2 = _order(loader)
    g.set_state(state)
    assert _order(loader) == e2 != e1
    loader2 = DataLoader(ds, batch_size=4, shuffle=True, generator=gs.Generator().manual_seed(7))
    assert _order(loader2) == e1


def test_order_is_drawn_at_first_next_not_at_iter():
    ds = TensorDataset(gs.arange(20), gs.arange(20))
    loader = DataLoader(ds, batch_size=5, shuffle=True)
    gs.manual_seed(0)
    want = _order(loader)
    gs.manual_seed(0)
    it = iter(loader)
    gs.manual_seed(0)  # reseeding after iter() still decides the order, as in PyTorch
    assert np.concatenate([b[1].numpy() for b in it]).tolist() == want


# ---------------------------------------------------------------- the fast path
class Half:
    """A transform with a vectorised ``apply_batch`` (as ToTensor / Normalize will have)."""

    def __init__(self):
        self.batches = 0

    def __call__(self, x):
        return gs.tensor(x.astype(np.float32) / 2)

    def apply_batch(self, x):
        self.batches += 1
        return x.astype(np.float32) / 2


def _array_dataset(transform=None, target_transform=None):
    from gradschool.data.datasets.spiral import Spiral

    return Spiral(n_per_class=9, transform=transform, target_transform=target_transform)


@pytest.mark.parametrize(
    "make",
    [
        lambda: _pair(23)[0],
        lambda: Subset(_pair(23)[0], list(range(22, 0, -1))),
        lambda: Subset(Items(23), [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9]),
        lambda: Subset(Subset(_pair(23)[0], list(range(1, 23))), list(range(0, 20, 2))),
        lambda: _array_dataset(),
        lambda: _array_dataset(Half()),
        lambda: _array_dataset(lambda x: gs.tensor(x * 3), lambda y: float(y)),
        lambda: Subset(_array_dataset(Half(), lambda y: y + 1), list(range(0, 27, 3))),
    ],
    ids=[
        "tensor",
        "subset",
        "subset_plain",
        "subset_of_subset",
        "array",
        "apply_batch",
        "per_item",
        "subset_array",
    ],
)
@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_path_equals_slow_path(make, shuffle):
    ds = make()
    assert callable(ds.__getitems__)
    for drop_last in (False, True):
        gs.manual_seed(11)
        fast = list(DataLoader(ds, batch_size=4, shuffle=shuffle, drop_last=drop_last))
        gs.manual_seed(11)
        slow = list(
            DataLoader(ds, batch_size=4, shuffle=shuffle, drop_last=drop_last, collate_fn=_slow)
        )
        assert len(fast) == len(slow) > 0
        for a, b in zip(fast, slow, strict=True):
            _same(a, b)


def test_fast_path_fetches_a_batch_at_once():
    transform = Half()
    ds = _array_dataset(transform)
    calls = []
    orig = type(ds).__getitem__
    type(ds).__getitem__ = lambda self, i: calls.append(i) or orig(self, i)
    try:
        batches = list(DataLoader(ds, batch_size=10))
    finally:
        type(ds).__getitem__ = orig
    assert calls == [] and transform.batches == len(batches) == 3
    assert batches[0][0].dtype == gs.float32 and batches[0][0].shape == (10, 2)


# ---------------------------------------------------------------- default_collate
Point = namedtuple("Point", ["x", "y"])


@pytest.mark.parametrize(
    "batch",
    [
        [1, 2, 3],
        [1.5, 2.0],
        [True, False],
        [np.float32(1), np.float32(2)],
        [np.int32(1), np.int32(2)],
        [np.zeros((2, 3), np.float64), np.ones((2, 3), np.float64)],
        [np.zeros(2, np.uint8), np.ones(2, np.uint8)],
        ["a", "b"],
        [(np.ones(2, np.float32), 1), (np.zeros(2, np.float32), 2)],
        [[1, 2.5], [3, 4.5]],
        [{"img": np.ones(3, np.float32), "meta": {"id": 1, "name": "x"}}] * 3,
        [Point(1, 2.0), Point(3, 4.0)],
        [{"pair": (1, [2.0, np.int64(3)])}, {"pair": (4, [5.0, np.int64(6)])}],
    ],
)
def test_default_collate_matches_torch(batch):
    _same(default_collate(batch), tud.default_collate(batch))


def test_default_collate_tensors_and_errors():
    out = default_collate([(gs.zeros(2, 3), gs.tensor(1)), (gs.ones(2, 3), gs.tensor(0))])
    assert isinstance(out, list) and out[0].shape == (2, 2, 3) and out[1].shape == (2,)
    with pytest.raises(ValueError, match="equal size"):
        default_collate([gs.zeros(2), gs.zeros(3)])
    with pytest.raises(ValueError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert_matches_torch():
    for data in [np.ones(3, np.float32), (np.ones(2), 1), {"a": np.int64(3)}, [1.0, "s"]]:
        _same(default_convert(data), tud.default_convert(data))


# ---------------------------------------------------------------- samplers
def test_samplers_match_torch_semantics():
    assert list(SequentialSampler(range(4))) == list(tud.SequentialSampler(range(4)))
    seq = SequentialSampler(range(10))
    for bs in (1, 3, 5, 12):
        for dl in (False, True):
            a, b = BatchSampler(seq, bs, dl), tud.BatchSampler(range(10), bs, dl)
            assert list(a) == list(b) and len(a) == len(b)
            # a generic iterable goes through the item-by-item path: same lists
            assert list(BatchSampler(range(10), bs, dl)) == list(b)
    gs.manual_seed(0)
    r = RandomSampler(range(7), num_samples=17)
    out = list(r)
    assert len(r) == len(out) == 17
    assert sorted(out[:7]) == sorted(out[7:14]) == list(range(7))  # whole permutations first
    rr = list(RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(rr) == 50 and set(rr) <= {0, 1, 2}
    s = list(SubsetRandomSampler([5, 7, 9, 11]))
    assert sorted(s) == [5, 7, 9, 11]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200))
    assert set(w) == {1, 3} and w.count(3) > w.count(1)
    w2 = list(WeightedRandomSampler([1.0, 1.0, 0.0, 1.0], 3, replacement=False))
    assert sorted(w2) == [0, 1, 3]


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.RandomSampler(range(3), replacement=1),
        lambda m: m.RandomSampler(range(3), num_samples=0),
        lambda m: m.RandomSampler([]),
        lambda m: m.BatchSampler(range(3), 0, False),
        lambda m: m.BatchSampler(range(3), True, False),
        lambda m: m.BatchSampler(range(3), 2, 1),
        lambda m: m.WeightedRandomSampler([1.0, 2.0], 0),
        lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2),
    ],
)
def test_sampler_errors_as_torch(make):
    with pytest.raises((ValueError, TypeError)) as theirs:
        make(tud)
    with pytest.raises(type(theirs.value)):
        make(gs.data.sampler)


# ---------------------------------------------------------------- DataLoader errors
class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class TStream(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sampler": [0, 1], "shuffle": True},
        {"batch_sampler": [[0]], "batch_size": 2},
        {"batch_sampler": [[0]], "shuffle": True},
        {"batch_sampler": [[0]], "sampler": [0]},
        {"batch_sampler": [[0]], "drop_last": True},
        {"batch_size": None, "drop_last": True},
        {"batch_size": 0},
        {"num_workers": -1},
        {"prefetch_factor": 2},
        {"persistent_workers": True},
    ],
)
def test_conflicting_options_raise_like_torch(kwargs):
    ours, theirs = _pair(4)
    with pytest.raises(ValueError):
        tud.DataLoader(theirs, **kwargs)
    with pytest.raises(ValueError):
        DataLoader(ours, **kwargs)


def test_iterable_dataset():
    for bs, dl in [(3, False), (3, True), (5, False), (None, False)]:
        a = DataLoader(Stream(10), batch_size=bs, drop_last=dl)
        b = tud.DataLoader(TStream(10), batch_size=bs, drop_last=dl)
        assert len(a) == len(b)
        _same(list(a), list(b))
    for kw in ({"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}):
        with pytest.raises(ValueError, match="IterableDataset"):
            DataLoader(Stream(3), **kw)


def test_attributes_frozen_and_custom_samplers():
    ours, _ = _pair(10)
    loader = DataLoader(ours, batch_size=3)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 4
    loader.num_workers = 2  # not frozen
    custom = DataLoader(ours, batch_sampler=[[9, 0], [5]])
    assert len(custom) == 2
    assert [b[1].tolist() for b in custom] == [[1, 0], [1]]
    ordered = DataLoader(ours, batch_size=4, sampler=[9, 8, 7, 6, 5])
    assert len(ordered) == 2 and ordered.batch_sampler.batch_size == 4
    np.testing.assert_array_equal(next(iter(ordered))[0].numpy()[:, 0], [27, 24, 21, 18])


# ---------------------------------------------------------------- datasets and random_split
def test_tensor_dataset():
    X, y = gs.randn(5, 2), gs.arange(5)
    ds = TensorDataset(X, y)
    assert len(ds) == 5 and ds[2][1].item() == 2
    np.testing.assert_array_equal(ds[2][0].numpy(), X.numpy()[2])
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(gs.zeros(3), gs.zeros(4))
    with pytest.raises(TypeError, match="expected Tensors"):
        TensorDataset([1, 2, 3])
    w = gs.randn(4, 2, requires_grad=True)
    assert TensorDataset(w)[1][0].requires_grad  # rows of a grad tensor stay in the graph


def test_concat_dataset_matches_torch():
    a = ConcatDataset([Items(3), Items(4)]) + Items(2)
    b = tud.ConcatDataset([list(range(3)), list(range(4))]) + list(range(2))
    assert len(a) == len(b) == 9
    assert [a[i][1] for i in range(-9, 9)] == [b[i] % 4 for i in range(-9, 9)]
    with pytest.raises(ValueError, match="exceed dataset length"):
        a[-10]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


@pytest.mark.parametrize(
    "n, lengths",
    [(10, [3, 7]), (10, [0.3, 0.7]), (10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (5, [1, 1, 3])],
)
def test_random_split_sizes_and_disjointness(n, lengths):
    ours = random_split(
        TensorDataset(gs.arange(n)), lengths, generator=gs.Generator().manual_seed(0)
    )
    theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    seen = sorted(i for s in ours for i in s.indices)
    assert seen == list(range(n))  # disjoint and covering
    again = random_split(
        TensorDataset(gs.arange(n)), lengths, generator=gs.Generator().manual_seed(0)
    )
    assert [s.indices for s in again] == [s.indices for s in ours]
    assert [s[0][0].item() for s in ours if len(s)] == [s.indices[0] for s in ours if len(s)]


def test_random_split_errors():
    ds = TensorDataset(gs.arange(5))
    with pytest.raises(ValueError, match="does not equal"):
        random_split(ds, [2, 2])
    with pytest.raises(ValueError, match="fractions summing to 1"):
        random_split(ds, [0.5, 0.4])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(TensorDataset(gs.arange(2)), [1.0, 0.0])


def test_subset_fast_path_follows_changed_indices_and_grad():
    ds, _ = _pair(10)
    sub = Subset(ds, [0, 1])
    sub.indices = [9, 8, 7]
    assert sub.__getitems__([0, 2])[1].tolist() == [1, 3]
    sub.indices.append(6)
    assert sub.__getitems__([3])[0].numpy()[0, 0] == 18
    w = gs.randn(4, 2, requires_grad=True)
    batch = next(iter(DataLoader(TensorDataset(w), batch_size=4, collate_fn=_slow)))
    batch[0].sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.ones((4, 2), np.float32))
