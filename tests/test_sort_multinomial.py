"""sort, argsort, topk and multinomial (gradschool/ops/sort.py) against PyTorch.

Values and indices are compared with PyTorch's on random shapes (0-size dims, k = 0 and
k = size, negative dims), float32 and float64, with distinct values wherever PyTorch does
not fix which tied index wins (topk, stable=False); with ties, ``stable=True`` must equal
PyTorch exactly and the rest is checked by rule. Gradients go back to the chosen positions.
multinomial draws from gradschool's own generator, so its draws are checked by their
statistics, not against PyTorch's, and by the rules: distinct without replacement, zero
weights never drawn, the same draws after the same ``manual_seed``.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

import gradschool as gs
from gradschool.testing import gradcheck

torch.set_num_threads(1)

DTYPES = ["float32", "float64"]


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values without ties: a shuffled grid."""
    n = math.prod(shape)
    return ((rng.permutation(n) - n / 2) * 0.37 + 0.01).reshape(shape)


def random_cases(seed: int, count: int = 40):
    """(x, dim) pairs: 0-3 dims of sides 0-5, dim anywhere in range (negative too)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        shape = tuple(int(s) for s in rng.integers(0, 6, int(rng.integers(0, 4))))
        nd = max(len(shape), 1)
        yield distinct(rng, shape), int(rng.integers(-nd, nd)), rng


def both(x: np.ndarray, dtype: str, grad: bool = True) -> tuple[gs.Tensor, torch.Tensor]:
    a = np.asarray(x, dtype=dtype)
    return gs.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def same(ours, theirs, exact: bool = True, what: str = "") -> None:
    a = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    b = theirs.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    if exact:
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=0, err_msg=what)


def backward_both(ours, theirs, rng: np.random.Generator) -> None:
    g = rng.standard_normal(tuple(theirs.shape)).astype(str(theirs.dtype).split(".")[-1])
    ours.backward(gs.tensor(g))
    theirs.backward(torch.tensor(g))


# ---------------------------------------------------------------- sort, argsort, topk
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("stable", [False, True])
def test_sort_and_argsort_equal_torch(dtype, descending, stable):
    for x, dim, rng in random_cases(seed=1 + 2 * descending + stable):
        xg, xt = both(x, dtype)
        ours = gs.sort(xg, dim, descending, stable=stable)
        theirs = torch.sort(xt, dim=dim, descending=descending, stable=stable)
        same(ours.values, theirs.values, what=f"values {x.shape} dim {dim}")
        same(ours.indices, theirs.indices, what=f"indices {x.shape} dim {dim}")
        kw = {"dim": dim, "descending": descending, "stable": stable}
        same(xg.argsort(**kw), torch.argsort(xt, **kw), what="argsort")
        backward_both(ours.values, theirs.values, rng)
        same(xg.grad, xt.grad, what=f"grad {x.shape} dim {dim}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("largest", [True, False])
def test_topk_equals_torch(dtype, largest):
    for x, dim, rng in random_cases(seed=10 + largest, count=60):
        size = x.shape[dim] if x.ndim else 1
        for k in sorted({0, size, int(rng.integers(0, size + 1))}):
            xg, xt = both(x, dtype)
            ours = xg.topk(k, dim, largest=largest)
            theirs = torch.topk(xt, k, dim, largest=largest)
            what = f"{x.shape} k={k} dim {dim}"
            same(ours.values, theirs.values, what=f"values {what}")
            same(ours.indices, theirs.indices, what=f"indices {what}")
            backward_both(ours.values, theirs.values, rng)
            same(xg.grad, xt.grad, what=f"grad {what}")


def test_topk_sorted_false_gives_the_same_set():
    x = distinct(np.random.default_rng(0), (3, 7))
    ours = gs.topk(gs.tensor(x), 4, sorted=False)
    theirs = torch.topk(torch.tensor(x), 4, sorted=False)
    for a, b in zip(ours.values.numpy(), theirs.values.numpy(), strict=True):
        assert sorted(a) == sorted(b)


def tied(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Few distinct values with NaN, +-inf and +-0.0 (equal to each other) among them."""
    pool = np.array([0.0, -0.0, 1.0, 1.0, np.nan, np.inf, -np.inf, -2.5])
    return pool[rng.integers(0, len(pool), shape)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_with_ties_equals_torch_exactly(dtype, descending):
    """NaN is the largest value; ties (0.0 and -0.0 among them) keep their input order."""
    rng = np.random.default_rng(3 + descending)
    for _ in range(40):
        shape = tuple(int(s) for s in rng.integers(1, 7, int(rng.integers(1, 4))))
        dim = int(rng.integers(-len(shape), len(shape)))
        xg, xt = both(tied(rng, shape), dtype)
        ours = gs.sort(xg, dim=dim, descending=descending, stable=True)
        theirs = torch.sort(xt, dim=dim, descending=descending, stable=True)
        np.testing.assert_array_equal(ours.values.detach().numpy(), theirs.values.detach().numpy())
        same(ours.indices, theirs.indices, what=f"indices {shape} dim {dim}")
        kw = {"dim": dim, "descending": descending, "stable": True}
        same(gs.argsort(xg, **kw), torch.argsort(xt, **kw), what="argsort")
        backward_both(ours.values, theirs.values, rng)
        same(xg.grad, xt.grad, what="grad")


def test_nan_order_as_torch():
    x = [3.0, float("nan"), 1.0, float("nan"), 2.0, 1.0]
    ours, theirs = gs.tensor(x), torch.tensor(x)
    for kw in ({}, {"descending": True}):
        same(
            gs.sort(ours, stable=True, **kw).indices, torch.sort(theirs, stable=True, **kw).indices
        )
    np.testing.assert_array_equal(gs.topk(ours, 2).indices.numpy(), [1, 3])
    np.testing.assert_array_equal(gs.topk(ours, 3, largest=False).values.numpy(), [1.0, 1.0, 2.0])


@pytest.mark.parametrize("op", ["topk", "sort"])
def test_ties_obey_the_rule(op):
    """Where PyTorch leaves tied indices open: values equal PyTorch's, indices are distinct
    and point at equal elements, and the gradient follows the indices."""
    rng = np.random.default_rng(5)
    for _ in range(40):
        shape = tuple(int(s) for s in rng.integers(1, 6, int(rng.integers(1, 4))))
        dim = int(rng.integers(-len(shape), len(shape)))
        x = rng.integers(0, 3, shape).astype(np.float64)
        k = int(rng.integers(0, shape[dim] + 1))
        xg = gs.tensor(x, requires_grad=True)
        args = (k, dim) if op == "topk" else (dim, bool(rng.integers(2)))
        ours = getattr(gs, op)(xg, *args)
        theirs = getattr(torch, op)(torch.tensor(x), *args)
        same(ours.values, theirs.values)
        idx = ours.indices.numpy()
        np.testing.assert_array_equal(np.take_along_axis(x, idx, dim), ours.values.detach().numpy())
        rows = np.moveaxis(idx, dim, -1).reshape(-1, max(idx.shape[dim], 1))
        assert k == 0 or all(len(set(r)) == len(r) for r in rows.tolist())
        g = rng.standard_normal(idx.shape)
        ours.values.backward(gs.tensor(g))
        want = np.zeros_like(x)
        np.put_along_axis(want, idx, g, dim)
        np.testing.assert_array_equal(xg.grad.numpy(), want)


def test_integer_and_bool_tensors():
    x = np.array([[3, -1, 2, 2, 7], [0, 0, -5, 9, 1]])
    same(
        gs.sort(gs.tensor(x), stable=True).indices, torch.sort(torch.tensor(x), stable=True).indices
    )
    same(gs.topk(gs.tensor(x), 2).values, torch.topk(torch.tensor(x), 2).values)
    b = np.array([True, False, True, False])
    for kw in ({}, {"descending": True}):
        ours, theirs = (
            gs.sort(gs.tensor(b), stable=True, **kw),
            torch.sort(torch.tensor(b), stable=True, **kw),
        )
        same(ours.values, theirs.values)
        same(ours.indices, theirs.indices)
    assert gs.sort(gs.tensor(x)).values.dtype == gs.int64


def test_zero_dim_and_results():
    x = gs.tensor(2.5, requires_grad=True)
    for k in (0, 1):
        values, indices = gs.topk(x, k)
        assert values.shape == () and indices.shape == () and int(indices) == 0
    values, indices = x.sort(dim=-1)
    assert float(values) == 2.5 and indices.dtype == gs.int64
    values.backward()
    assert float(x.grad) == 1.0
    result = gs.topk(gs.tensor([1.0, 3.0, 2.0]), 2)
    assert result.values is result[0] and result.indices is result[1]
    assert repr(result).startswith("ValuesIndices(values=tensor([3., 2.])")


def test_gradcheck():
    rng = np.random.default_rng(7)
    x = gs.tensor(distinct(rng, (3, 5)), dtype=gs.float64, requires_grad=True)
    assert gradcheck(lambda t: gs.sort(t, 0, True).values, [x])
    assert gradcheck(lambda t: gs.topk(t, 2, dim=1, largest=False).values, [x])
    assert gradcheck(lambda t: t.topk(3).values * t.sort(stable=True).values[:, :3], [x])


def test_sort_inside_a_graph():
    """The gradient of topk's values only reaches the chosen positions (and adds up with
    other uses of the input)."""
    x = gs.tensor([[1.0, 5.0, 3.0], [4.0, 0.0, 2.0]], requires_grad=True)
    (x.topk(1).values.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 2, 1], [2, 1, 1]])


# ---------------------------------------------------------------- multinomial
def chi_square(counts: np.ndarray, p: np.ndarray) -> float:
    expected = counts.sum() * p
    keep = expected > 0
    return float((((counts - expected) ** 2)[keep] / expected[keep]).sum())


def test_multinomial_with_replacement_frequencies():
    gs.manual_seed(0)
    w = gs.tensor([1.0, 2.0, 0.0, 3.0, 4.0])
    draws = gs.multinomial(w, 20000, replacement=True)
    assert draws.shape == (20000,) and draws.dtype == gs.int64
    counts = np.bincount(draws.numpy(), minlength=5)
    assert counts[2] == 0  # a zero weight is never drawn
    p = w.numpy() / w.numpy().sum()
    assert chi_square(counts, p) < 25  # 3 degrees of freedom: 25 is p < 1e-4


def test_multinomial_without_replacement_is_sequential():
    """Each draw is proportional to the weights left: the first column follows p, the
    second sum_i p_i p_j / (1 - p_i); every row's draws are distinct."""
    gs.manual_seed(1)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    draws = gs.multinomial(gs.tensor(np.tile(p, (20000, 1))), 2).numpy()
    assert draws.shape == (20000, 2)
    assert (draws[:, 0] != draws[:, 1]).all()
    assert chi_square(np.bincount(draws[:, 0], minlength=4), p) < 25
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)])
    assert chi_square(np.bincount(draws[:, 1], minlength=4), second) < 25


def test_multinomial_rows_and_zero_weights():
    gs.manual_seed(2)
    w = np.zeros((6, 8))
    for r in range(6):  # row r: weight only on r..r+2
        w[r, r : r + 3] = [1.0, 2.0, 3.0]
    draws = gs.multinomial(gs.tensor(w, dtype=gs.float32), 3).numpy()
    for r, row in enumerate(draws):
        assert sorted(row) == [r, r + 1, r + 2]
    full = gs.multinomial(gs.tensor(w[0]), 8).numpy()  # all of them: a permutation
    assert sorted(full) == list(range(8)) and set(full[:3]) == {0, 1, 2}  # zeros come last
    huge = gs.tensor([1e308, 1e308, 0.0], dtype=gs.float64)  # their sum overflows
    assert set(gs.multinomial(huge, 50, True).numpy()) == {0, 1}
    tiny = gs.tensor([1e-320, 1.0, 0.0, 0.0], dtype=gs.float64)  # 1 / w overflows
    assert sorted(gs.multinomial(tiny, 2).numpy()) == [0, 1]
    for dtype in (gs.float16, gs.float64):
        assert gs.multinomial(gs.ones(3, dtype=dtype), 2).dtype == gs.int64
    empty = gs.multinomial(gs.ones(0, 3), 2, True)
    assert empty.shape == (0, 2)
    x = gs.ones(4, requires_grad=True)
    assert not x.multinomial(2).requires_grad


def test_multinomial_is_reproducible():
    w = gs.tensor([[0.5, 1.0, 2.0, 0.0, 3.0]] * 3)
    gs.manual_seed(42)
    a = gs.multinomial(w, 3).numpy(), gs.multinomial(w, 10, replacement=True).numpy()
    gs.manual_seed(42)
    b = w.multinomial(3).numpy(), w.multinomial(10, True).numpy()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    gen = gs.Generator().manual_seed(7)
    state = gs.get_rng_state()
    c = gs.multinomial(w, 4, generator=gen).numpy()
    assert gs.get_rng_state() == state  # the default generator was not used
    np.testing.assert_array_equal(c, gs.multinomial(w, 4, generator=gs.Generator().manual_seed(7)))


# ---------------------------------------------------------------- errors
X = gs.tensor([[1.0, 2.0, 3.0]])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: gs.sort([1.0, 2.0]), TypeError, r"sort\(\): argument 'input' must be a Tensor"),
        (lambda: gs.sort(X, 2), IndexError, r"sort: Dimension out of range .* got 2"),
        (lambda: gs.sort(X, 0.5), TypeError, r"sort\(\): argument 'dim' must be int, not float"),
        (lambda: gs.sort(X, descending="yes"), TypeError, r"'descending' must be bool"),
        (lambda: gs.argsort(X, -3), IndexError, r"argsort: Dimension out of range"),
        (lambda: gs.topk(X, 4), ValueError, r"topk\(\): selected index k out of range.*\[0, 3\].*got 4"),
        (lambda: gs.topk(X, -1), ValueError, r"k must be in \[0, 3\].*got -1"),
        (lambda: gs.topk(X, 1.0), TypeError, r"topk\(\): argument 'k' must be int, not float"),
        (lambda: gs.topk(X, 1, dim=2), IndexError, r"topk: Dimension out of range"),
        (lambda: gs.topk(gs.tensor([True]), 1), TypeError, r"topk\(\).*bool"),
        (lambda: gs.topk(gs.tensor(1.0), 2), ValueError, r"k must be in \[0, 1\]"),
        (lambda: gs.multinomial(X, 4), ValueError, r"multinomial\(\): cannot sample n_sample > prob_dist.size\(-1\).*3 categories, got 4"),
        (lambda: gs.multinomial(X, 0, True), ValueError, r"n_sample <= 0.*got num_samples=0"),
        (lambda: gs.multinomial(X, 2.0), TypeError, r"'num_samples' must be int, not float"),
        (lambda: gs.multinomial(gs.tensor([1.0, -1.0]), 1), ValueError, r"element < 0, got -1.0 at index \(1,\)"),
        (lambda: gs.multinomial(gs.tensor([1.0, math.inf]), 1), ValueError, r"`inf`, `nan`.*got inf"),
        (lambda: gs.multinomial(gs.tensor([[1.0, 0.0], [math.nan, 1.0]]), 1), ValueError, r"got nan at index \(1, 0\)"),
        (lambda: gs.multinomial(gs.tensor([[1.0, 0.0], [0.0, 0.0]]), 1), ValueError, r"sum of probabilities <= 0.*row 1"),
        (lambda: gs.multinomial(gs.ones(2, 2, 2), 1), ValueError, r"prob_dist must be 1 or 2 dim, got a 3-D tensor of shape \(2, 2, 2\)"),
        (lambda: gs.multinomial(gs.tensor(1.0), 1), ValueError, r"1 or 2 dim, got a 0-D"),
        (lambda: gs.multinomial(gs.tensor([1, 2]), 1), TypeError, r"multinomial\(\): expected a floating point tensor.*int64"),
        (lambda: gs.multinomial(gs.ones(2, 0), 1, True), ValueError, r"at least one category, got shape \(2, 0\)"),
        (lambda: gs.multinomial([0.5, 0.5], 1), TypeError, r"argument 'input' must be a Tensor, not list"),
        (lambda: gs.multinomial(X, 1, generator=torch.Generator()), TypeError, r"gradschool.Generator"),
    ],
)  # fmt: skip
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_the_methods_are_bound():
    for name in ("sort", "argsort", "topk", "multinomial"):
        assert getattr(gs.Tensor, name) is getattr(gs, name)
    assert sys.modules["gradschool.ops.sort"].__all__ == ["sort", "argsort", "topk", "multinomial"]
