"""Parity rows for the shape ops (gradschool/ops/shape.py)."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

import gradschool as gs

from .harness import OpSpec, Sample, shapes, values


def with_dims(fn, min_dims=1, max_dims=4):
    """A sampler that draws a shape and passes it, with ``draw``, to ``fn`` for extra args."""

    def sample(draw):
        shape = draw(shapes(min_dims=min_dims, max_dims=max_dims))
        x = values(draw, shape)
        args, kwargs = fn(draw, shape)
        return Sample([x, *args], kwargs)

    return sample


def reshape_args(draw, shape):
    n = int(np.prod(shape))
    divisors = [d for d in range(1, n + 1) if n % d == 0] or [1]
    d = draw(st.sampled_from(divisors))
    new = [d, -1] if n else [0, 3]
    return [tuple(new)], {}


def permutation(draw, shape):
    return [tuple(draw(st.permutations(range(len(shape)))))], {}


def two_dims(draw, shape):
    nd = len(shape)
    return [draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1))], {}


def one_dim(draw, shape):
    nd = len(shape)
    return [draw(st.integers(-nd, nd - 1))], {}


def new_dim(draw, shape):
    nd = len(shape)
    return [draw(st.integers(-nd - 1, nd))], {}


def expand_args(draw, shape):
    target = tuple(draw(st.integers(1, 3)) if s == 1 else s for s in shape)
    return [(draw(st.integers(1, 2)), *target)], {}


def repeat_args(draw, shape):
    extra = draw(st.integers(0, 1))
    return [tuple(draw(st.integers(1, 3)) for _ in range(len(shape) + extra))], {}


def dims_subset(draw, shape):
    dims = draw(st.lists(st.integers(0, len(shape) - 1), unique=True, min_size=1))
    return [tuple(dims)], {}


def split_args(draw, shape):
    d = draw(st.integers(0, len(shape) - 1))
    return [draw(st.integers(1, 4)), d], {}


def chunk_args(draw, shape):
    d = draw(st.integers(0, len(shape) - 1))
    return [draw(st.integers(1, 4)), d], {}


def cat_sample(draw):
    shape = draw(shapes(min_dims=1))
    d = draw(st.integers(0, len(shape) - 1))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        s[d] = draw(st.integers(0, 3))
        parts.append(values(draw, tuple(s)))
    return Sample([parts, d])


def stack_sample(draw):
    shape = draw(shapes())
    d = draw(st.integers(-len(shape) - 1, len(shape)))
    return Sample([[values(draw, shape) for _ in range(draw(st.integers(1, 3)))], d])


def flatten_args(draw, shape):
    nd = len(shape)
    a = draw(st.integers(0, nd - 1))
    return [a, draw(st.integers(a, nd - 1))], {}


def squeeze_shape(draw):
    shape = tuple(draw(st.sampled_from([1, 1, 2, 3])) for _ in range(draw(st.integers(0, 4))))
    return Sample([values(draw, shape)])


SPECS = [
    OpSpec(
        "reshape", lambda x, s: x.reshape(s), lambda x, s: x.reshape(s), with_dims(reshape_args, 0)
    ),
    OpSpec("view", lambda x, s: x.view(*s), lambda x, s: x.reshape(*s), with_dims(reshape_args, 0)),
    OpSpec("flatten", gs.flatten, torch.flatten, with_dims(flatten_args)),
    OpSpec("squeeze", lambda x: x.squeeze(), lambda x: x.squeeze(), squeeze_shape),
    OpSpec("squeeze_dim", gs.squeeze, torch.squeeze, with_dims(one_dim)),
    OpSpec("unsqueeze", gs.unsqueeze, torch.unsqueeze, with_dims(new_dim, 0)),
    OpSpec(
        "permute", lambda x, p: x.permute(*p), lambda x, p: x.permute(p), with_dims(permutation, 0)
    ),
    OpSpec("transpose", gs.transpose, torch.transpose, with_dims(two_dims)),
    OpSpec("T_2d", lambda x: x.T, lambda x: x.T, with_dims(lambda d, s: ([], {}), 2, 2)),
    OpSpec(
        "expand", lambda x, s: x.expand(*s), lambda x, s: x.expand(*s), with_dims(expand_args, 0)
    ),
    OpSpec(
        "broadcast_to",
        lambda x, s: gs.broadcast_to(x, s),
        lambda x, s: torch.broadcast_to(x, s),
        with_dims(expand_args, 0),
    ),
    OpSpec(
        "repeat", lambda x, r: x.repeat(*r), lambda x, r: x.repeat(r), with_dims(repeat_args, 0)
    ),
    OpSpec("cat", gs.cat, torch.cat, cat_sample),
    OpSpec("stack", gs.stack, torch.stack, stack_sample),
    OpSpec("split", gs.split, torch.split, with_dims(split_args)),
    OpSpec(
        "split_sections",
        lambda x: gs.split(x, [x.shape[0] // 2, x.shape[0] - x.shape[0] // 2]),
        lambda x: torch.split(x, [x.shape[0] // 2, x.shape[0] - x.shape[0] // 2]),
        with_dims(lambda d, s: ([], {}), 1),
    ),
    OpSpec("chunk", gs.chunk, torch.chunk, with_dims(chunk_args)),
    OpSpec("flip", gs.flip, torch.flip, with_dims(dims_subset)),
    OpSpec(
        "narrow",
        lambda x: x.narrow(0, 0, x.shape[0] // 2),
        lambda x: x.narrow(0, 0, x.shape[0] // 2),
        with_dims(lambda d, s: ([], {}), 1),
    ),
    OpSpec("unbind", gs.unbind, torch.unbind, with_dims(one_dim)),
]
