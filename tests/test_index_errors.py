"""Errors of the index and linalg ops, and the semantics of ``x[idx] = v``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs

LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation."


# ---------------------------------------------------------------- indexing errors
@pytest.mark.parametrize(
    ("key", "error", "match"),
    [
        (5, IndexError, r"index: index 5 is out of bounds for dimension 0 with size 3"),
        (-4, IndexError, r"index -4 is out of bounds for dimension 0 with size 3"),
        ((0, 0), IndexError, r"too many indices"),
        (1.0, IndexError, r"only integers, slices"),
        ("a", IndexError, r"only integers, slices"),
    ],
)
def test_getitem_errors(key, error, match):
    with pytest.raises(error, match=match):
        gs.zeros(3)[key]


def test_getitem_index_tensor_errors():
    x = gs.zeros(3)
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for dimension 0 with size 3"):
        x[gs.tensor([0, 5])]
    with pytest.raises(IndexError, match=r"must be long, int, byte or bool tensors"):
        x[gs.tensor([1.0])]
    with pytest.raises(IndexError):
        x[gs.tensor([True, False])]  # mask of the wrong length


def test_gather_family_errors():
    x = gs.zeros(3)
    with pytest.raises(
        IndexError, match=r"gather: index 3 is out of bounds for dimension 0 with size 3"
    ):
        gs.gather(x, 0, gs.tensor([3]))
    with pytest.raises(IndexError, match=r"gather: index -1 is out of bounds"):
        gs.gather(x, 0, gs.tensor([-1]))
    with pytest.raises(TypeError, match=r"gather: expected an integer"):
        gs.gather(x, 0, gs.tensor([1.0]))
    with pytest.raises(
        ValueError, match=r"gather: index tensor must have the same number of dimensions"
    ):
        gs.gather(gs.zeros(2, 2), 0, gs.tensor([0]))
    with pytest.raises(IndexError, match=r"gather: Dimension out of range"):
        gs.gather(x, 1, gs.tensor([0]))
    with pytest.raises(
        IndexError, match=r"index_select: index 7 is out of bounds for dimension 0 with size 3"
    ):
        gs.index_select(x, 0, gs.tensor([0, 7]))
    with pytest.raises(ValueError, match=r"index_select: index is supposed to be a vector"):
        gs.index_select(x, 0, gs.tensor([[0]]))
    with pytest.raises(
        IndexError, match=r"scatter_add: index 4 is out of bounds for dimension 0 with size 3"
    ):
        gs.scatter_add(x, 0, gs.tensor([4]), gs.ones(1))
    with pytest.raises(
        RuntimeError, match=r"scatter_add: expected self.dtype to be equal to src.dtype"
    ):
        gs.scatter_add(x, 0, gs.tensor([0]), gs.ones(1, dtype=gs.float64))
    with pytest.raises(TypeError, match=r"masked_fill: only supports boolean masks"):
        gs.masked_fill(x, gs.tensor([1.0, 0.0, 0.0]), 1.0)
    with pytest.raises(
        ValueError, match=r"masked_fill: only supports a 0-dimensional value tensor"
    ):
        gs.masked_fill(x, gs.tensor([True, False, False]), gs.ones(2))


# ---------------------------------------------------------------- linalg errors
def test_matmul_errors():
    with pytest.raises(
        ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4\)"
    ):
        gs.randn(2, 3) @ gs.randn(4, 5)
    with pytest.raises(ValueError, match=r"matmul: shapes \(3,\) and \(4,\) cannot be multiplied"):
        gs.matmul(gs.randn(3), gs.randn(4))
    with pytest.raises(ValueError, match=r"batch dimensions \(2,\) and \(3,\) do not broadcast"):
        gs.randn(2, 2, 3) @ gs.randn(3, 3, 4)
    with pytest.raises(ValueError, match=r"at least 1D"):
        gs.matmul(gs.tensor(1.0), gs.randn(3))
    with pytest.raises(
        RuntimeError, match=r"expected m1 and m2 to have the same dtype, but got: float != double"
    ):
        gs.randn(2, 3) @ gs.randn(3, 2, dtype=gs.float64)
    with pytest.raises(ValueError, match=r"mm: expected two 2-D matrices"):
        gs.mm(gs.randn(3), gs.randn(3, 3))
    with pytest.raises(ValueError, match=r"mm: shapes \(2, 3\) and \(2, 3\) cannot be multiplied"):
        gs.mm(gs.randn(2, 3), gs.randn(2, 3))
    with pytest.raises(ValueError, match=r"bmm: expected two 3-D tensors"):
        gs.bmm(gs.randn(2, 3), gs.randn(3, 2))
    with pytest.raises(ValueError, match=r"bmm: batch sizes must be equal"):
        gs.bmm(gs.randn(2, 3, 4), gs.randn(1, 4, 5))
    with pytest.raises(ValueError, match=r"dot: expected two 1-D tensors"):
        gs.dot(gs.randn(2, 2), gs.randn(2, 2))
    with pytest.raises(ValueError, match=r"dot: inconsistent tensor size"):
        gs.dot(gs.randn(3), gs.randn(4))
    with pytest.raises(RuntimeError, match=r"dot: expected both vectors to have same dtype"):
        gs.dot(gs.randn(3), gs.randn(3, dtype=gs.float64))
    with pytest.raises(ValueError, match=r"outer: expected two 1-D tensors"):
        gs.outer(gs.randn(2, 2), gs.randn(2))


@pytest.mark.parametrize(
    ("equation", "shapes", "match"),
    [
        ("ij,jk->ik", [(2, 3), (4, 5)], r"einsum: operands do not broadcast: subscript 'j'"),
        ("ij,jk", [(2, 3)], r"einsum: the equation 'ij,jk' names 2 operand\(s\) but 1 were given"),
        ("ij->k", [(2, 3)], r"einsum: output subscript 'k'"),
        ("ij->ii", [(2, 2)], r"einsum: output subscript 'i'"),
        ("ii->i", [(2, 3)], r"einsum: subscript 'i' is repeated in operand 0"),
        (
            "ijk->i",
            [(2, 3)],
            r"einsum: operand 0 has 2 dimension\(s\) but its subscripts 'ijk' name 3",
        ),
        ("i1->i", [(2, 3)], r"einsum: invalid subscripts"),
    ],
)
def test_einsum_errors(equation, shapes, match):
    with pytest.raises(ValueError, match=match):
        gs.einsum(equation, *[gs.randn(*s) for s in shapes])


# ---------------------------------------------------------------- __setitem__ semantics
def test_setitem_leaf_requiring_grad_raises():
    x = gs.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=LEAF_MSG):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match=LEAF_MSG):
        x.masked_fill_(gs.tensor([True, False, False]), 1.0)


def test_setitem_no_grad_writes_in_place():
    x = gs.zeros(2, 3, requires_grad=True)
    view = x.detach()
    ptr = x.data_ptr()
    with gs.no_grad():
        x[0, 1:] = gs.tensor([1.0, 2.0], dtype=gs.float64)  # cast to float32
        x[1] = 5
        x[gs.tensor([[False, True, False], [True, False, False]])] = -1.0
    assert x.data_ptr() == ptr and x.is_leaf and x.requires_grad
    assert x.dtype == gs.float32
    np.testing.assert_array_equal(x.detach().numpy(), [[0, -1, 2], [-1, 5, 5]])
    np.testing.assert_array_equal(view.numpy(), x.detach().numpy())  # shares memory


def test_setitem_without_grad_is_in_place_and_casts():
    x = gs.zeros(4, dtype=gs.int64)
    y = x[1:]  # a view, as in PyTorch
    x[1:3] = gs.tensor([1.7, 2.2])
    x[[0]] = 9
    assert x.dtype == gs.int64
    np.testing.assert_array_equal(x.numpy(), [9, 1, 2, 0])
    np.testing.assert_array_equal(y.numpy(), [1, 2, 0])


def test_setitem_nonleaf_records_the_graph():
    x = gs.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    v = gs.tensor([10.0, 20.0], requires_grad=True)
    y = x * 2
    before = y.grad_fn
    y[1:3] = v
    assert y.grad_fn is not before and not y.is_leaf
    np.testing.assert_array_equal(y.detach().numpy(), [2, 10, 20, 8])
    (y * gs.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 0, 0, 8])
    np.testing.assert_array_equal(v.grad.numpy(), [2, 3])


def test_setitem_value_requiring_grad_into_plain_tensor():
    x = gs.zeros(3)
    v = gs.tensor(2.0, requires_grad=True)
    x[gs.tensor([0, 2])] = v  # the value broadcasts: its gradient sums
    assert x.requires_grad and x.grad_fn is not None
    x.sum().backward()
    assert v.grad.item() == 2.0


def test_masked_fill_inplace():
    m = gs.tensor([True, False, True])
    x = gs.zeros(3)
    assert x.masked_fill_(m, 3.0) is x
    np.testing.assert_array_equal(x.numpy(), [3, 0, 3])
    a = gs.ones(3, requires_grad=True)
    y = a * 1
    y.masked_fill_(m, 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0, 1, 0])


# ---------------------------------------------------------------- gradients worth a direct look
def test_repeated_indices_accumulate():
    x = gs.zeros(3, 2, requires_grad=True)
    x[gs.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3, 3], [0, 0], [1, 1]])


def test_scatter_add_src_larger_than_index():
    """Elements of src beyond the index's extent get a zero gradient (torch's backward fails)."""
    x = gs.zeros(3, requires_grad=True)
    src = gs.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    out = gs.scatter_add(x, 0, gs.tensor([2, 2]), src)
    np.testing.assert_array_equal(out.detach().numpy(), [0, 0, 3])
    (out * gs.tensor([1.0, 2.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(), [5, 5, 0, 0])
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 5])


def test_float32_stays_float32():
    a = gs.randn(2, 3, 4, requires_grad=True)
    b = gs.randn(4, 5, requires_grad=True)
    for out in (
        a @ b,
        gs.einsum("bij,jk->bik", a, b),
        a[:, [0, 0]],
        gs.gather(a, 2, gs.zeros(2, 3, 1, dtype=gs.int64)),
    ):
        assert out.dtype == gs.float32
        out.sum().backward()
    assert a.grad.dtype == gs.float32 and b.grad.dtype == gs.float32


def test_rmatmul_with_an_array_on_the_left():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    b = gs.ones(3, 2, requires_grad=True)
    out = a @ b
    assert isinstance(out, gs.Tensor)
    np.testing.assert_allclose(out.detach().numpy(), a @ np.ones((3, 2), np.float32))


def test_matmul_large_batched_gradients_match_torch():
    """The folded fast paths (a 2-D operand shared by a batch) on non-trivial sizes."""
    rng = np.random.default_rng(0)
    for sa, sb in [
        ((4, 5, 6, 7), (7, 3)),
        ((6, 7), (4, 5, 7, 3)),
        ((2, 1, 6, 7), (5, 7, 3)),
        ((7,), (4, 7, 3)),
    ]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        ga, gb = gs.tensor(a, requires_grad=True), gs.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        g = rng.standard_normal(np.matmul(a, b).shape)
        (ga @ gb).backward(gs.tensor(g))
        (ta @ tb).backward(torch.tensor(g))
        np.testing.assert_allclose(ga.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gb.grad.numpy(), tb.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_einsum_operands_as_one_list_and_repeated_diagonal_grad():
    x = gs.tensor(np.arange(8.0).reshape(2, 2, 2), requires_grad=True)
    out = gs.einsum("iij->j", [x])
    np.testing.assert_array_equal(out.detach().numpy(), [0 + 6, 1 + 7])
    out.sum().backward()
    expected = np.zeros((2, 2, 2))
    expected[0, 0] = expected[1, 1] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)
