"""Sorting and selecting: ``sort``, ``argsort``, ``topk``, and ``multinomial`` sampling.

``sort`` is a permutation of each row along ``dim``, so it is a *mux* gate like indexing
(CS231n L4): every output element is a copy of one input element, and the backward routes
each upstream gradient back to the position it came from (zeros elsewhere, for ``topk``,
whose output keeps only k of them). The indices are int64 and carry no gradient.

PyTorch's order, which NumPy's does not give directly: NaN counts as larger than every
number (last in ascending order, first in descending order and in ``topk``), and
``stable=True`` keeps tied elements in their input order in *both* directions. Descending
order is therefore not ``-x`` sorted (NaN would stay last) nor an ascending sort reversed
(ties would come out reversed): the row is reversed, sorted stably, and the result reversed
back. gradschool always sorts stably, which is a valid answer for ``stable=False`` too;
which tied index ``topk`` or an unstable sort returns is not part of PyTorch's contract.

``multinomial`` lives here because drawing without replacement is a top-k: each category
gets the key ``E / w`` (E exponential), and the k smallest keys are a draw of k distinct
categories, each next one with probability proportional to its weight among those left
(the exponential's memorylessness; PyTorch uses the same trick). With replacement, uniform
draws are looked up in each row's cumulative distribution.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..backend.device import get_array_module, to_device
from ..backend.random import Generator, rng_of
from ..tensor import Tensor
from ._util import normalize_dim
from .reduce import ValuesIndices

__all__ = ["sort", "argsort", "topk", "multinomial"]

_INT64 = np.dtype(np.int64)


# ---------------------------------------------------------------- helpers
def _array(input: Any, op: str) -> Any:  # noqa: A002
    """The array of ``input``, or a TypeError naming the op when it is not a Tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return input.data


def _int(value: Any, op: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    return int(value)


def _flag(value: Any, op: str, name: str) -> bool:
    if value is None and name == "stable":  # PyTorch accepts stable=None as False
        return False
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}(): argument '{name}' must be bool, not {type(value).__name__}")
    return bool(value)


def _order(x: Any, axis: int, descending: bool) -> Any:
    """Indices (int64) that sort ``x`` stably along ``axis``, NaN as the largest value."""
    xp = get_array_module(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable").astype(_INT64, copy=False)
    # reversed, sorted ascending, reversed back: descending with ties in input order
    n = x.shape[axis]
    rev = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return (n - 1) - xp.flip(rev, axis).astype(_INT64, copy=False)


class Sort(Function):
    """The elements at ``index`` along ``axis`` (sort's values). Each position is picked
    once, so the backward writes the gradients back there (zeros elsewhere, for topk)."""

    def forward(self, x: Any, *, index: Any, axis: int) -> Any:
        self.shape, self.axis = x.shape, axis
        self.saved = (index,)
        return get_array_module(x).take_along_axis(x, index, axis=axis)

    def backward(self, g: Any) -> tuple[Any]:
        (index,) = self.saved
        xp = get_array_module(g)
        out = xp.zeros(self.shape, dtype=g.dtype)
        xp.put_along_axis(out, index, g, axis=self.axis)
        return (out,)


class Topk(Sort):
    """topk's values: the first k of a sort (its own name in the graph, as PyTorch's)."""


def _sorted(input: Any, dim: Any, descending: Any, stable: Any, op: str, k: Any = None) -> Any:  # noqa: A002
    """``(values, indices)`` of ``input`` sorted along ``dim``; the first ``k`` with ``k``."""
    x = _array(input, op)
    axis = normalize_dim(_int(dim, op, "dim"), x.ndim, op)
    descending = _flag(descending, op, "largest" if op == "topk" else "descending")
    _flag(stable, op, "stable")
    if x.dtype.kind == "c":
        raise TypeError(f"{op}(): complex tensors have no order, got {x.dtype}")
    size = x.shape[axis] if x.ndim else 1
    if k is not None:
        k = _int(k, op, "k")
        if x.dtype.kind == "b":  # as PyTorch's CPU kernel
            raise TypeError(f"{op}(): expected a numeric tensor, got bool; convert it (x.int())")
        if not 0 <= k <= size:
            raise ValueError(
                f"{op}(): selected index k out of range: k must be in [0, {size}] (the size of "
                f"dim {dim} of the input of shape {tuple(x.shape)}), got {k}"
            )
    xp, fn = get_array_module(x), (Sort if k is None else Topk)
    if x.ndim == 0:  # one element: itself, at index 0 (PyTorch returns it even for k=0)
        values = fn.apply(input.reshape(1), index=xp.zeros(1, dtype=_INT64), axis=0)
        return ValuesIndices(values.reshape(()), Tensor._make(xp.zeros((), dtype=_INT64)))
    index = _order(x, axis, descending)
    if k is not None and k < size:
        index = xp.ascontiguousarray(xp.take(index, xp.arange(k), axis=axis))
    values = fn.apply(input, index=index, axis=axis)
    return ValuesIndices(values, Tensor._make(index))


# ---------------------------------------------------------------- the ops
def sort(
    input: Tensor,  # noqa: A002
    dim: int = -1,
    descending: bool = False,
    *,
    stable: bool = False,
) -> ValuesIndices:
    """``(values, indices)``: the elements along ``dim`` in ascending order (``descending``:
    largest first), and where each came from. NaN sorts as the largest value. Ties keep
    their input order (always: ``stable=True`` guarantees it, as in PyTorch). The gradient
    of ``values`` goes back to the positions in ``indices``.

    >>> import gradschool as gs
    >>> gs.sort(gs.tensor([3.0, 1.0, 2.0]), descending=True)
    ValuesIndices(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1]))
    """
    return _sorted(input, dim, descending, stable, "sort")


def argsort(
    input: Tensor,  # noqa: A002
    dim: int = -1,
    descending: bool = False,
    *,
    stable: bool = False,
) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (``sort(...).indices``); int64.

    >>> import gradschool as gs
    >>> gs.argsort(gs.tensor([[3.0, 1.0, 2.0]]))
    tensor([[1, 2, 0]])
    """
    return _sorted(input, dim, descending, stable, "argsort").indices


def topk(
    input: Tensor,  # noqa: A002
    k: int,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,  # noqa: A002
) -> ValuesIndices:
    """``(values, indices)`` of the ``k`` largest elements along ``dim`` (``largest=False``:
    the smallest), largest first. NaN counts as the largest value. ``sorted=False`` allows
    any order in PyTorch; here they come sorted either way. Which of tied elements is
    chosen is not fixed by PyTorch's contract. The gradient goes back to the chosen positions.

    >>> import gradschool as gs
    >>> gs.topk(gs.tensor([1.0, 5.0, 3.0, 4.0]), 2)
    ValuesIndices(values=tensor([5., 4.]), indices=tensor([1, 3]))
    """
    _flag(sorted, "topk", "sorted")
    return _sorted(input, dim, largest, False, "topk", k=k)


def _weights(input: Any) -> np.ndarray:  # noqa: A002
    """``multinomial``'s weights as float64 rows (R, n) on the host, checked as PyTorch."""
    op = "multinomial"
    x = _array(input, op)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{op}(): expected a floating point tensor of weights, got {x.dtype}; "
            "convert it first (x.float())"
        )
    if x.ndim not in (1, 2):
        raise ValueError(
            f"{op}(): prob_dist must be 1 or 2 dim, got a {x.ndim}-D tensor of shape "
            f"{tuple(x.shape)}"
        )
    if x.shape[-1] == 0:
        raise ValueError(f"{op}(): expected at least one category, got shape {tuple(x.shape)}")
    w = np.asarray(to_device(x, "cpu"), dtype=np.float64).reshape(-1, x.shape[-1])
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ValueError(
            f"{op}(): probability tensor contains either `inf`, `nan` or element < 0, got "
            f"{w.reshape(x.shape)[np.unravel_index(np.argmax(bad), x.shape)]} at index "
            f"{tuple(int(i) for i in np.unravel_index(np.argmax(bad), x.shape))}"
        )
    empty = ~(w > 0).any(axis=1)  # (a sum could overflow: 1e308 + 1e308)
    if empty.any():
        row = int(np.argmax(empty))
        raise ValueError(
            f"{op}(): invalid multinomial distribution (sum of probabilities <= 0): expected "
            f"some positive weight in every row, got all zeros in row {row}"
        )
    return w


def multinomial(
    input: Tensor,  # noqa: A002
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """``num_samples`` category indices drawn from each row of non-negative weights
    ``input`` (1-D: (n,) -> (num_samples,); 2-D: (R, n) -> (R, num_samples)); the weights
    need not sum to one. Without ``replacement`` each row's draws are distinct (so
    ``num_samples <= n``). Draws come from gradschool's generator (``manual_seed``), or
    ``generator``; int64, no gradient.

    >>> import gradschool as gs
    >>> _ = gs.manual_seed(0)
    >>> gs.multinomial(gs.tensor([0.0, 1.0, 0.0]), 1)
    tensor([1])
    """
    op = "multinomial"
    n_draw = _int(num_samples, op, "num_samples")
    replacement = _flag(replacement, op, "replacement")
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(
            f"{op}(): generator must be a gradschool.Generator, not {type(generator).__name__}"
        )
    w = _weights(input)
    rows, n = w.shape
    if n_draw <= 0:
        raise ValueError(f"{op}(): cannot sample n_sample <= 0 samples, got num_samples={n_draw}")
    if not replacement and n_draw > n:
        raise ValueError(
            f"{op}(): cannot sample n_sample > prob_dist.size(-1) samples without replacement: "
            f"expected num_samples <= {n} categories, got {n_draw}"
        )
    rng = rng_of(generator)
    if replacement:
        # each row over its max first: weights of 1e308 must not sum to inf
        cdf = np.cumsum(w / w.max(axis=1, keepdims=True), axis=1)
        cdf /= cdf[:, -1:]  # the last is exactly 1, so u < 1 always finds a category
        u = rng.random((rows, n_draw))
        out = np.empty((rows, n_draw), dtype=np.int64)
        for r in range(rows):  # u in [cdf[i-1], cdf[i]) picks i: a zero weight's is empty
            out[r] = np.searchsorted(cdf[r], u[r], side="right")
    else:
        e = rng.standard_exponential((rows, n))
        with np.errstate(divide="ignore"):  # log(E / w) in logs: no overflow for a tiny w
            keys = np.log(e) - np.log(w)  # a zero weight's key is +inf
        # the smallest keys win; zero weights only once the others run out, in random order
        out = np.lexsort((e, keys), axis=-1)[:, :n_draw]
    out = out.astype(_INT64).reshape(input.shape[:-1] + (n_draw,))
    return Tensor._make(to_device(out, input.device))


TENSOR_METHODS = {
    "sort": sort,
    "argsort": argsort,
    "topk": topk,
    "multinomial": multinomial,
}
