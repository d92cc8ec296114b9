"""Parity rows for indexing, gather/scatter and masked_fill (gradschool/ops/index.py)."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

import gradschool as gs

from .harness import Const, OpSpec, Sample, broadcastable, integers, shapes, values


def lead(min_first: int = 1, max_rest: int = 3):
    """A shape whose first dim has at least ``min_first`` elements."""

    def strategy(draw):
        return (draw(st.integers(min_first, 4)), *draw(shapes(0, max_rest)))

    return strategy


def int_sample(draw):
    shape = lead()(draw)
    n = shape[0]
    return Sample([values(draw, shape), draw(st.integers(-n, n - 1))])


def int_pair_sample(draw):
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 4)), *draw(shapes(0, 1)))
    return Sample(
        [values(draw, shape), draw(st.integers(0, shape[0] - 1)), draw(st.integers(-shape[1], -1))]
    )


def _slice(draw):
    bound = st.one_of(st.none(), st.integers(-5, 5))
    return slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3])))


def slice_sample(draw):
    shape = draw(shapes(1, 3))
    return Sample([values(draw, shape), tuple(_slice(draw) for _ in shape)])


def neg_step_sample(draw):
    shape = draw(shapes(1, 3))
    bound = st.one_of(st.none(), st.integers(-5, 5))
    s = slice(draw(bound), draw(bound), draw(st.sampled_from([-1, -2, -3])))
    return Sample([values(draw, shape), s])


def _torch_neg_step(x, s):
    """PyTorch slices only with positive steps: pick the same rows with an index tensor."""
    return x[torch.as_tensor(np.arange(x.shape[0])[s].copy(), dtype=torch.int64)]


def none_ellipsis_sample(draw):
    shape = (*draw(shapes(0, 2)), draw(st.integers(1, 4)))
    key = draw(
        st.sampled_from(
            [
                (None, Ellipsis, 0),
                (Ellipsis, None),
                (Ellipsis, slice(None, None, 2), None),
                (None, Ellipsis, -1, None),
                Ellipsis,
                None,
            ]
        )
    )
    return Sample([values(draw, shape), key])


def mask_sample(draw):
    shape = draw(shapes(1, 3))
    k = draw(st.integers(1, len(shape)))
    return Sample([values(draw, shape), Const(values(draw, shape[:k]) > 0)])


def index_array_sample(draw):
    shape = lead()(draw)
    n = shape[0]
    idx = integers(draw, draw(shapes(1, 2, 0, 5)), -n, n)  # repeats and negatives
    return Sample([values(draw, shape), idx])


def mixed_sample(draw):
    """An index array after a slice, and two index arrays around a slice (dims go first)."""
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3)))
    i = integers(draw, (draw(st.integers(0, 5)),), 0, shape[1])
    j = integers(draw, (draw(st.integers(1, 3)), 1), 0, shape[0])
    k = integers(draw, (1, draw(st.integers(0, 3))), -shape[2], shape[2])
    return Sample([values(draw, shape), i, j, k])


def list_sample(draw):
    shape = lead(2)(draw)
    return Sample([values(draw, shape)])


def setitem_basic(x, v, key):
    y = x * 1
    y[key] = v
    return y


def setitem_basic_sample(draw):
    shape = lead(2)(draw)
    key = (slice(0, 2), *(_slice(draw) for _ in shape[1:]))
    target = np.empty(shape)[key].shape
    vshape = target[draw(st.integers(0, len(target))) :]  # broadcasts into the target
    return Sample([values(draw, shape), values(draw, vshape), key])


def setitem_array(x, v, i):
    y = x * 1
    y[1:, i] = v
    return y


def setitem_array_sample(draw):
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 5)), *draw(shapes(0, 1)))
    # unique positions: with repeats the written value is unspecified in PyTorch
    i = np.asarray(draw(st.permutations(range(shape[1]))))[: draw(st.integers(0, shape[1]))]
    target = np.empty(shape)[1:, i].shape
    return Sample([values(draw, shape), values(draw, target), i])


def setitem_mask(x, m, v):
    y = x * 2
    y[m] = v
    return y


def setitem_mask_sample(draw):
    shape = draw(shapes(1, 3))
    return Sample(
        [values(draw, shape), Const(values(draw, shape) > 0), draw(st.sampled_from([0.5, -1.0]))]
    )


def setitem_0d(x, v):
    y = x.sin()
    y[0] = v
    return y


def setitem_0d_sample(draw):
    return Sample([values(draw, lead()(draw)), values(draw, ())])


def gather_sample(draw):
    shape = draw(shapes(1, 3))
    d = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[d]
    ishape = [draw(st.integers(0, s)) for s in shape]
    ishape[d] = draw(st.integers(0, 4)) if n else 0
    return Sample([values(draw, shape), d, integers(draw, tuple(ishape), 0, max(n, 1))])


def index_select_sample(draw):
    shape = draw(shapes(1, 3))
    d = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[d]
    idx = integers(draw, (draw(st.integers(0, 5)) if n else 0,), 0, max(n, 1))
    return Sample([values(draw, shape), d, idx])


def scatter_add_sample(draw):
    shape = draw(shapes(1, 3))
    d = draw(st.integers(0, len(shape) - 1))
    n = shape[d]
    ishape = [draw(st.integers(0, s)) for s in shape]
    ishape[d] = draw(st.integers(0, 4)) if n else 0
    # src as large as index: torch's backward fails for a larger src (gradschool's doesn't,
    # see tests/test_index_errors.py)
    sshape = tuple(ishape)
    idx = integers(draw, tuple(ishape), 0, max(n, 1))
    return Sample([values(draw, shape), d, idx, values(draw, sshape)])


def masked_fill_sample(draw):
    (sx, sm), _ = draw(broadcastable(2))
    value = draw(st.sampled_from([0.0, -2.5, 7]))
    return Sample([values(draw, sx), Const(values(draw, sm) > 0), value])


def masked_fill_tensor_sample(draw):
    shape = draw(shapes(0, 3))
    return Sample([values(draw, shape), Const(values(draw, shape) > 0), values(draw, ())])


def masked_select_sample(draw):
    (sx, sm), _ = draw(broadcastable(2, max_dims=3))
    return Sample([values(draw, sx), Const(values(draw, sm) > 0)])


def take_along_dim_sample(draw):
    shape = draw(shapes(1, 3, 1))
    d = draw(st.integers(0, len(shape) - 1))
    ishape = [draw(st.sampled_from([1, s])) for s in shape]
    ishape[d] = draw(st.integers(0, 4))
    return Sample([values(draw, shape), integers(draw, tuple(ishape), 0, shape[d]), d])


def take_flat_sample(draw):
    shape = draw(shapes(0, 3, 1))
    n = int(np.prod(shape))
    return Sample([values(draw, shape), integers(draw, draw(shapes(0, 2)), 0, n)])


SPECS = [
    OpSpec("getitem_int", lambda x, i: x[i], lambda x, i: x[i], int_sample),
    OpSpec("getitem_int_pair", lambda x, i, j: x[i, j], lambda x, i, j: x[i, j], int_pair_sample),
    OpSpec("getitem_slices", lambda x, k: x[k], lambda x, k: x[k], slice_sample),
    OpSpec("getitem_neg_step", lambda x, s: x[s], _torch_neg_step, neg_step_sample),
    OpSpec("getitem_none_ellipsis", lambda x, k: x[k], lambda x, k: x[k], none_ellipsis_sample),
    OpSpec("getitem_mask", lambda x, m: x[m], lambda x, m: x[m], mask_sample),
    OpSpec("getitem_index_array", lambda x, i: x[i], lambda x, i: x[i], index_array_sample),
    OpSpec("getitem_list", lambda x: x[[0, 0, -1, 1]], lambda x: x[[0, 0, -1, 1]], list_sample),
    OpSpec("getitem_mixed", lambda x, i, j, k: x[:, i], lambda x, i, j, k: x[:, i], mixed_sample),
    OpSpec(
        "getitem_mixed_split",
        lambda x, i, j, k: x[j, 1:, k],
        lambda x, i, j, k: x[j, 1:, k],
        mixed_sample,
    ),
    OpSpec("setitem_basic", setitem_basic, setitem_basic, setitem_basic_sample),
    OpSpec("setitem_index_array", setitem_array, setitem_array, setitem_array_sample),
    OpSpec("setitem_mask_scalar", setitem_mask, setitem_mask, setitem_mask_sample),
    OpSpec("setitem_0d_value", setitem_0d, setitem_0d, setitem_0d_sample),
    OpSpec("gather", gs.gather, torch.gather, gather_sample),
    OpSpec("index_select", gs.index_select, torch.index_select, index_select_sample),
    OpSpec("scatter_add", gs.scatter_add, torch.scatter_add, scatter_add_sample),
    OpSpec("masked_fill", gs.masked_fill, torch.masked_fill, masked_fill_sample),
    OpSpec(
        "masked_fill_tensor_value", gs.masked_fill, torch.masked_fill, masked_fill_tensor_sample
    ),
    OpSpec("masked_select", gs.masked_select, torch.masked_select, masked_select_sample),
    OpSpec("take_along_dim", gs.take_along_dim, torch.take_along_dim, take_along_dim_sample),
    OpSpec("take_along_dim_flat", gs.take_along_dim, torch.take_along_dim, take_flat_sample),
]
