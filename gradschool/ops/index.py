"""Indexing: reading and writing parts of a tensor, and the gather / scatter family.

Indexing is CS231n L4's "mux" gate: each output element is a copy of one input element, so
the backward routes each upstream gradient back to the element it came from. With basic
indexing (ints, slices, ``None``, ``...``) every element is picked at most once and the
backward is a plain assignment into zeros; an integer index array may pick one element many
times, so its backward must *add* the repeated contributions (``np.add.at``). ``gather`` and
``scatter_add`` are the same pair seen from the two sides: gather's backward is a
scatter-add, scatter-add's backward (for ``src``) is a gather.

Writing (``x[idx] = v``) follows PyTorch: under ``no_grad``, or when no gradient is involved,
it writes into the tensor's memory; on a leaf that requires grad it is an error; otherwise it
is recorded as a new node, whose inputs are the old version of the tensor (gradient: upstream
with zeros where it was overwritten) and the value (gradient: upstream at those positions).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state
from ..backend.device import get_array_module
from ..tensor import Tensor
from ._util import LEAF_INPLACE, add_at, axis_order, become, new_array, normalize_dim, sum_to
from .shape import expand

__all__ = [
    "gather",
    "index_select",
    "scatter_add",
    "masked_fill",
    "masked_select",
    "take_along_dim",
]

# the kind of an index: no index arrays, only boolean arrays (each element picked at most
# once), or integer arrays (elements may repeat, so the backward must accumulate)
BASIC, MASK, ADVANCED = 0, 1, 2

_BAD_KEY = (
    "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
    "indices"
)


# ---------------------------------------------------------------- parsing an index
def _index_array(k: Any, xp: Any) -> tuple[Any, int]:
    """An index array (from a Tensor, array or list) on ``xp``'s device, and its kind."""
    a = k.data if isinstance(k, Tensor) else k
    if not hasattr(a, "dtype") or (xp is not np and a.__class__ is np.ndarray):
        a = xp.asarray(a)
        if a.size == 0 and a.dtype.kind == "f":
            a = a.astype(np.int64)  # x[[]] picks nothing
    kind = a.dtype.kind
    if kind == "b":
        return a, MASK
    if kind == "u" and a.dtype.itemsize == 1:
        return a.astype(bool), MASK  # PyTorch reads a uint8 index as a mask
    if kind in "iu":
        if a.ndim == 0:
            return int(a), BASIC  # a 0-d integer tensor indexes like an int
        return a, ADVANCED
    raise IndexError(
        f"index: tensors used as indices must be long, int, byte or bool tensors, got {a.dtype}"
    )


def _parse_key(key: Any, xp: Any = np) -> tuple[Any, int]:
    """The key as a tuple NumPy can index with (Tensors unwrapped), and its kind."""
    c = key.__class__
    if c is int or c is slice or key is None or key is Ellipsis:
        return key, BASIC
    if c is not tuple:
        key = (key,)
    out: list[Any] = []
    kind = BASIC
    for k in key:
        c = k.__class__
        if c is int or c is slice or k is None or k is Ellipsis:
            out.append(k)
        elif c is bool or c is np.bool_:
            out.append(bool(k))  # True adds a dim of size 1, False one of size 0
            kind = max(kind, MASK)
        elif isinstance(k, (int, np.integer)):
            out.append(int(k))
        elif (
            isinstance(k, (Tensor, list, tuple))
            or hasattr(k, "__array_interface__")
            or hasattr(k, "__cuda_array_interface__")
        ):
            a, kk = _index_array(k, xp)
            out.append(a)
            kind = max(kind, kk)
        else:
            raise IndexError(f"index: {_BAD_KEY} (got {type(k).__name__})")
    return tuple(out), kind


def _index_error(err: IndexError, op: str) -> IndexError:
    msg = str(err).replace("axis", "dimension").replace("array", "tensor")
    return IndexError(msg if msg.startswith(op + ":") else f"{op}: {msg}")


# ---------------------------------------------------------------- reading and writing
class Index(Function):
    """``x[key]``: a view for basic keys, a copy for index arrays."""

    op_name = "index"

    def forward(self, x: Any, key: Any, kind: int) -> Any:
        self.src, self.key, self.kind, self.order = x.shape, key, kind, axis_order(x)
        try:
            return x[key]
        except IndexError as err:
            raise _index_error(err, "index") from None

    def backward(self, g: Any) -> tuple[Any]:
        out = new_array(get_array_module(g), self.src, g.dtype, self.order, 0)
        if self.kind == ADVANCED:
            add_at(out, self.key, g)  # an element picked twice gets both gradients
        else:
            out[self.key] = g
        return (out,)


class IndexPut(Function):
    """``x[key] = value`` recorded out of place: a copy of ``x`` with ``value`` written in."""

    op_name = "setitem"

    def forward(self, x: Any, value: Any, key: Any, kind: int) -> Any:
        out = x.copy()
        _write(out, key, value)
        self.key = key
        self.vshape = getattr(value, "shape", None)
        self.vdtype = getattr(value, "dtype", None)
        return out

    def backward(self, g: Any) -> tuple[Any, Any]:
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = g.copy()
            gx[self.key] = 0  # what was overwritten no longer reaches the output
        if self.needs_input_grad[1]:
            gv = g[self.key]
            shape = self.vshape
            if len(shape) > gv.ndim:  # NumPy drops a value's leading size-1 dims
                gv = gv.reshape((1,) * (len(shape) - gv.ndim) + gv.shape)
            gv = sum_to(gv, shape).astype(self.vdtype, copy=False)
        return gx, gv


def _write(dest: Any, key: Any, value: Any) -> None:
    try:
        dest[key] = value
    except IndexError as err:
        raise _index_error(err, "setitem") from None
    except ValueError as err:
        raise ValueError(f"setitem: {err}") from None


def _getitem(self: Tensor, key: Any) -> Tensor:
    """``x[key]`` with ints, slices, ``None``, ``...``, boolean masks and integer index arrays."""
    k, kind = _parse_key(key, get_array_module(self.data))
    return Index.apply(self, key=k, kind=kind)


def _setitem(self: Tensor, key: Any, value: Any) -> None:
    """``x[key] = value``: in place, or recorded in the graph when a gradient must flow."""
    k, kind = _parse_key(key, get_array_module(self.data))
    if isinstance(value, (list, tuple)):
        value = get_array_module(self.data).asarray(value)
    value_grad = isinstance(value, Tensor) and value._requires_grad
    if not _grad_state.enabled or not (self._requires_grad or value_grad):
        _write(self.data, k, value.data if isinstance(value, Tensor) else value)
        return
    if self.grad_fn is None and self._requires_grad:
        raise RuntimeError(LEAF_INPLACE)
    # the node's first input is the old version of self: apply reads its edge before the swap
    become(self, IndexPut.apply(self, value, key=k, kind=kind))


# ---------------------------------------------------------------- gather / scatter
def _as_index(index: Any, op: str, like: Tensor) -> Any:
    """The raw integer array of an index argument (a Tensor, array or list) on ``like``'s
    device."""
    a = index.data if isinstance(index, Tensor) else index
    xp = get_array_module(like.data)
    if not hasattr(a, "dtype") or (xp is not np and a.__class__ is np.ndarray):
        a = xp.asarray(a)
        if a.size == 0:
            a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected an integer (int64) index tensor, got dtype {a.dtype}")
    return a


def _check_range(index: Any, size: int, dim: int, op: str) -> None:
    if index.size:
        lo, hi = int(index.min()), int(index.max())
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            raise IndexError(
                f"{op}: index {bad} is out of bounds for dimension {dim} with size {size}"
            )


def _crop(x: Any, shape: tuple[int, ...], skip: int | None = None) -> Any:
    """``x`` cut down to ``shape`` in every dimension but ``skip`` (a view)."""
    if all(s == t or i == skip for i, (s, t) in enumerate(zip(x.shape, shape, strict=True))):
        return x
    return x[tuple(slice(None) if i == skip else slice(0, s) for i, s in enumerate(shape))]


def _scatter_add_into(out: Any, dim: int, index: Any, src: Any) -> None:
    """``out[..., index[i, j, k], ...] += src[i, j, k]`` along ``dim`` (``out`` C-contiguous).

    Works on flat positions, so the accumulation is one 1-D ``add.at`` (NumPy's fast path).
    """
    if index.size == 0:
        return
    xp = get_array_module(out)
    nd = out.ndim
    strides = [1] * nd
    for i in range(nd - 2, -1, -1):
        strides[i] = strides[i + 1] * out.shape[i + 1]
    flat = index.astype(np.int64) * strides[dim]
    for i in range(nd):
        if i != dim and index.shape[i] > 1:
            along = [1] * nd
            along[i] = index.shape[i]
            flat = flat + (xp.arange(index.shape[i]) * strides[i]).reshape(along)
    flat = xp.broadcast_to(flat, index.shape)
    add_at(out.reshape(-1), flat.reshape(-1), src.reshape(-1))


class Gather(Function):
    def forward(self, x: Any, index: Any, dim: int) -> Any:
        self.src, self.dim = x.shape, dim
        self.saved = (index,)
        return get_array_module(x).take_along_axis(_crop(x, index.shape, dim), index, axis=dim)

    def backward(self, g: Any) -> tuple[Any, None]:
        (index,) = self.saved
        out = get_array_module(g).zeros(self.src, dtype=g.dtype)
        _scatter_add_into(out, self.dim, index, g)
        return out, None


class IndexSelect(Function):
    op_name = "index_select"

    def forward(self, x: Any, index: Any, dim: int) -> Any:
        self.src, self.dim = x.shape, dim
        self.saved = (index,)
        return get_array_module(x).take(x, index, axis=dim)

    def backward(self, g: Any) -> tuple[Any, None]:
        (index,) = self.saved
        out = get_array_module(g).zeros(self.src, dtype=g.dtype)
        add_at(out, (slice(None),) * self.dim + (index,), g)
        return out, None


class ScatterAdd(Function):
    op_name = "scatter_add"

    def forward(self, x: Any, index: Any, src: Any, dim: int) -> Any:
        self.dim, self.src_shape = dim, src.shape
        self.saved = (index,)
        out = x.copy()  # C-contiguous
        _scatter_add_into(out, dim, index, _crop(src, index.shape))
        return out

    def backward(self, g: Any) -> tuple[Any, None, Any]:
        (index,) = self.saved
        gsrc = None
        if self.needs_input_grad[2]:
            xp = get_array_module(g)
            picked = xp.take_along_axis(_crop(g, index.shape, self.dim), index, axis=self.dim)
            if picked.shape == self.src_shape:
                gsrc = picked
            else:  # src elements beyond the index's extent were never added
                gsrc = xp.zeros(self.src_shape, dtype=g.dtype)
                gsrc[tuple(slice(0, s) for s in index.shape)] = picked
        return g, None, gsrc


class MaskedFill(Function):
    op_name = "masked_fill"

    def forward(self, x: Any, mask: Any, value: Any) -> Any:
        xp = get_array_module(x)
        self.xshape = x.shape
        self.vdtype = getattr(value, "dtype", None)
        self.saved = (mask,)
        v = value.astype(x.dtype) if hasattr(value, "dtype") else x.dtype.type(value)
        return xp.where(mask, v, x)

    def backward(self, g: Any) -> tuple[Any, None, Any]:
        (mask,) = self.saved
        xp = get_array_module(g)
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = sum_to(xp.where(mask, 0, g), self.xshape)
        if self.needs_input_grad[2]:
            gv = xp.asarray(xp.where(mask, g, 0).sum(), dtype=self.vdtype)
        return gx, None, gv


# ---------------------------------------------------------------- public functions
def gather(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for ``dim=1``; ``out`` has ``index``'s shape.

    >>> x = gradschool.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> gradschool.gather(x, 1, gradschool.tensor([[0, 0], [1, 0]]))
    tensor([[1., 1.],
            [4., 3.]])
    """
    idx = _as_index(index, "gather", input)
    nd = input.data.ndim
    if nd == 0:
        if idx.ndim > 1:
            raise ValueError(f"gather: a 0-d input needs a 0-d or 1-d index, got {idx.ndim}-d")
        normalize_dim(dim, 0, "gather")
        return gather(input.reshape(1), 0, idx.reshape(-1)).reshape(idx.shape)
    d = normalize_dim(dim, nd, "gather")
    shape = input.data.shape
    if idx.ndim != nd:
        raise ValueError(
            f"gather: index tensor must have the same number of dimensions as input tensor "
            f"({idx.ndim} vs {nd})"
        )
    for i in range(nd):
        if i != d and idx.shape[i] > shape[i]:
            raise ValueError(
                f"gather: size does not match at dimension {i}: expected index "
                f"{list(idx.shape)} to be no larger than input {list(shape)} apart from "
                f"dimension {d}"
            )
    _check_range(idx, shape[d], d, "gather")
    return Gather.apply(input, idx, dim=d)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002
    """The slices ``index[0], index[1], ...`` of ``input`` along ``dim`` (repeats allowed)."""
    idx = _as_index(index, "index_select", input)
    if idx.ndim > 1:
        raise ValueError(f"index_select: index is supposed to be a vector, got {idx.ndim}-d")
    idx = idx.reshape(-1)
    if input.data.ndim == 0:
        normalize_dim(dim, 0, "index_select")
        if idx.size != 1:
            raise ValueError(f"index_select: a 0-d input needs one index, got {idx.size}")
        return index_select(input.reshape(1), 0, idx).reshape(())
    d = normalize_dim(dim, input.data.ndim, "index_select")
    _check_range(idx, input.data.shape[d], d, "index_select")
    return IndexSelect.apply(input, idx, dim=d)


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``out[..., index[i, j], ...] += src[i, j]`` along ``dim``."""
    idx = _as_index(index, "scatter_add", input)
    if not isinstance(src, Tensor):
        src = Tensor._make(get_array_module(input.data).asarray(src))
    x, s = input.data, src.data
    nd = x.ndim
    if nd == 0 and idx.ndim == 0 and s.ndim == 0:
        normalize_dim(dim, 0, "scatter_add")
        return scatter_add(input.reshape(1), 0, idx.reshape(1), src.reshape(1)).reshape(())
    d = normalize_dim(dim, nd, "scatter_add")
    if x.dtype != s.dtype:
        raise RuntimeError(
            f"scatter_add: expected self.dtype to be equal to src.dtype, got {x.dtype} and "
            f"{s.dtype}"
        )
    if not idx.ndim == s.ndim == nd:
        raise ValueError(
            f"scatter_add: index, input and src must have the same number of dimensions, got "
            f"{idx.ndim}, {nd} and {s.ndim}"
        )
    for i in range(nd):
        if idx.shape[i] > s.shape[i] or (i != d and idx.shape[i] > x.shape[i]):
            raise ValueError(
                f"scatter_add: expected index {list(idx.shape)} to be no larger than src "
                f"{list(s.shape)}, and no larger than input {list(x.shape)} apart from "
                f"dimension {d}"
            )
    _check_range(idx, x.shape[d], d, "scatter_add")
    return ScatterAdd.apply(input, idx, src, dim=d)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:  # noqa: A002
    """``value`` where ``mask`` is True, ``input`` elsewhere (``mask`` broadcasts)."""
    m = mask.data if isinstance(mask, Tensor) else mask
    if not hasattr(m, "dtype"):
        m = get_array_module(input.data).asarray(m)
    if m.dtype.kind != "b":
        raise TypeError(
            f"masked_fill: only supports boolean masks, but got mask with dtype {m.dtype}"
        )
    if isinstance(value, Tensor):
        if value.data.ndim != 0:
            raise ValueError(
                f"masked_fill: only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.data.ndim} dimension(s)"
            )
    elif not isinstance(value, (int, float, bool, np.number, np.bool_)):
        raise TypeError(
            f"masked_fill: value must be a number or a 0-d tensor, got {type(value).__name__}"
        )
    return MaskedFill.apply(input, m, value)


def masked_select(input: Tensor, mask: Any) -> Tensor:  # noqa: A002
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (both broadcast)."""
    m = mask.data if isinstance(mask, Tensor) else get_array_module(input.data).asarray(mask)
    if m.dtype.kind != "b":
        raise TypeError(f"masked_select: expected a boolean mask, got dtype {m.dtype}")
    xp = get_array_module(input.data)
    try:
        shape = xp.broadcast_shapes(input.data.shape, m.shape)
    except ValueError:
        raise ValueError(
            f"masked_select: mask of shape {tuple(m.shape)} does not broadcast with input of "
            f"shape {tuple(input.data.shape)}"
        ) from None
    x = expand(input, shape)
    return Index.apply(x, key=xp.broadcast_to(m, shape), kind=MASK)


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    """Pick ``input``'s values at ``indices`` along ``dim`` (the two broadcast elsewhere);
    with ``dim=None`` both are flattened first."""
    idx = _as_index(indices, "take_along_dim", input)
    if dim is None:
        return gather(input.reshape(-1), 0, idx.reshape(-1))
    nd = input.data.ndim
    if idx.ndim != nd:
        raise ValueError(
            f"take_along_dim: input and indices should have the same number of dimensions, "
            f"but got {nd} and {idx.ndim}"
        )
    d = normalize_dim(dim, nd, "take_along_dim")
    xp = get_array_module(idx)
    a, b = list(input.data.shape), list(idx.shape)
    a[d] = b[d] = 1
    try:
        common = list(xp.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise ValueError(
            f"take_along_dim: input {tuple(input.data.shape)} and indices {tuple(idx.shape)} "
            f"do not broadcast apart from dimension {d}"
        ) from None
    common[d] = input.data.shape[d]
    x = expand(input, tuple(common))
    common[d] = idx.shape[d]
    return gather(x, d, xp.broadcast_to(idx, tuple(common)))


TENSOR_METHODS = {
    "__getitem__": _getitem,
    "__setitem__": _setitem,
    "gather": gather,
    "index_select": index_select,
    "scatter_add": scatter_add,
    "masked_fill": masked_fill,
    "masked_select": masked_select,
    "take_along_dim": take_along_dim,
}
