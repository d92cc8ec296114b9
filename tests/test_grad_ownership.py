"""A leaf keeps its first gradient without a copy when nothing else holds the array (the
engine's ``_sole_owner`` test, PyTorch's "steal"), and copies it whenever something might."""

from __future__ import annotations

import sys
import weakref

import numpy as np
import pytest

import gradschool as gs
from gradschool.autograd import engine
from gradschool.nn import functional as F

steals = pytest.mark.skipif(not engine._CAN_STEAL, reason="CPython <= 3.13 only")


class Fresh(gs.autograd.Function):
    """Doubles; its backward makes a new array and remembers it only weakly."""

    made: list[weakref.ref] = []

    def forward(self, x):
        return x * 2

    def backward(self, g):
        out = np.ascontiguousarray(g * 2)
        Fresh.made.append(weakref.ref(out))
        return (out,)


class Cached(gs.autograd.Function):
    """Identity whose backward hands out an array it keeps (as a cache of constants would)."""

    cache: dict[tuple[int, ...], np.ndarray] = {}

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return (Cached.cache.setdefault(g.shape, np.ones(g.shape, g.dtype)),)


@steals
def test_a_fresh_gradient_is_kept_not_copied():
    a = gs.randn(3, 4, requires_grad=True)
    Fresh.apply(a).sum().backward()
    assert a.grad.data is Fresh.made[-1]()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 4), 2.0, np.float32))


@steals
def test_linear_weight_gradient_is_kept_and_correct():
    w = gs.randn(5, 4, requires_grad=True)
    x = gs.randn(3, 4)
    F.linear(x, w).sum().backward()
    assert w.grad.data.base is not None  # the GEMM's own result, reshaped, not a copy
    np.testing.assert_allclose(w.grad.numpy(), np.tile(x.numpy().sum(0), (5, 1)), rtol=1e-6)


def test_one_array_for_two_leaves_is_copied():
    a = gs.randn(3, requires_grad=True)
    b = gs.randn(3, requires_grad=True)
    (a + b).sum().backward()  # add's backward hands the same array to both
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data += 1
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(3, np.float32))


def test_an_array_the_backward_keeps_is_copied():
    a = gs.randn(2, 3, requires_grad=True)
    Cached.apply(a).sum().backward()
    assert not np.shares_memory(a.grad.data, Cached.cache[(2, 3)])
    a.grad.data *= 5
    np.testing.assert_array_equal(Cached.cache[(2, 3)], np.ones((2, 3), np.float32))


def test_the_gradient_of_a_leaf_is_not_shared_with_a_node():
    # y = a * 1 passes its upstream gradient through; it must not alias a's grad
    a = gs.randn(4, requires_grad=True)
    h = a * 3
    (h + a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.full(4, 4.0, np.float32))


def test_accumulating_into_a_kept_gradient():
    w = gs.randn(5, 4, requires_grad=True)
    x = gs.randn(3, 4)
    F.linear(x, w).sum().backward()
    first = w.grad.numpy().copy()
    F.linear(x, w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first, rtol=1e-6)


def test_a_retained_graph_keeps_its_saved_arrays_intact():
    w = gs.randn(4, 4, requires_grad=True)
    y = (w @ w).sum()
    y.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    w.grad.data[...] = 0  # must not reach anything the graph kept
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), first, rtol=1e-6)


def test_only_cpython_up_to_3_13_steals():
    expected = sys.implementation.name == "cpython" and sys.version_info < (3, 14)
    assert engine._CAN_STEAL is expected


def test_a_new_grad_has_the_leafs_layout():
    # PyTorch's gradient layout contract: .grad's strides follow the leaf's
    cl = np.ascontiguousarray(np.ones((2, 3, 4, 16), np.float32)).transpose(0, 3, 1, 2)
    x = gs.tensor(cl, requires_grad=True)
    F.conv2d(x, gs.ones(4, 16, 3, 3), padding=1).sum().backward()
    assert x.grad.data.strides == x.data.strides
    y = gs.randn(2, 16, 3, 4, requires_grad=True)
    (y.transpose(1, 3) * 2).sum().backward()  # the op's gradient is a transposed view
    assert y.grad.data.flags.c_contiguous
    np.testing.assert_array_equal(y.grad.numpy(), np.full((2, 16, 3, 4), 2.0, np.float32))


class Seen(gs.autograd.Function):
    """Identity that remembers which arrays its backward was handed and made."""

    handed: list[int] = []
    made: list[int] = []

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        Seen.handed.append(id(g))
        out = g * 1
        Seen.made.append(id(out))
        return (out,)


@steals
def test_a_node_with_two_consumers_sums_its_gradients_in_place():
    """A residual block's input gets the gradients of both paths: the second is added into
    the first (nothing else holds it), so the node's backward is handed that same array."""
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((3, 4))
    x = gs.tensor(xa, requires_grad=True)
    h = Seen.apply(x)  # a node with two consumers, each making a fresh gradient
    Seen.handed.clear()
    Seen.made.clear()
    (Seen.apply(h) + Seen.apply(h) * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 4), 4.0))
    # the backwards of the two consumers ran first; h's was handed the first one's array
    assert len(Seen.handed) == 3 and Seen.handed[2] in Seen.made[:2]


def test_a_gradient_handed_to_two_inputs_is_not_summed_into():
    """Add hands one array to both of its inputs; when both lead to one node the sum must
    not be written into that shared array (the other entry still holds it)."""
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((3, 4))
    y = gs.tensor(xa, requires_grad=True)
    hy = Fresh.apply(y)
    (hy + hy + hy).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), np.full((3, 4), 6.0))
    z = gs.tensor(xa, requires_grad=True)
    hz = Seen.apply(z)
    s = hz + hz
    (s * s).sum().backward()  # d/dz (2z)^2 = 8z
    np.testing.assert_allclose(z.grad.numpy(), 8 * xa)
