"""Ops that move elements around without computing new values (CS231n L4: "copy gates").

Their backward moves the gradient back the same way: a reshape's gradient is reshaped back, a
permute's is permuted by the inverse, an expand's is summed over the expanded dimensions, a
``cat``'s is split, and a ``repeat``'s is summed over the copies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..autograd.function import Function
from ..backend.device import get_array_module
from ..tensor import Tensor
from ._util import normalize_dim, normalize_dims, promote_all, sum_to

__all__ = [
    "reshape",
    "view",
    "view_as",
    "reshape_as",
    "flatten",
    "unflatten",
    "squeeze",
    "unsqueeze",
    "permute",
    "transpose",
    "swapaxes",
    "swapdims",
    "t",
    "expand",
    "expand_as",
    "broadcast_to",
    "broadcast_tensors",
    "repeat",
    "cat",
    "concat",
    "concatenate",
    "stack",
    "narrow",
    "split",
    "chunk",
    "unbind",
    "flip",
]


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and shape[0].__class__ in (tuple, list):
        return tuple(shape[0])
    return shape


class Reshape(Function):
    def forward(self, x: Any, shape: tuple[int, ...]) -> Any:
        self.src = x.shape
        try:
            return x.reshape(shape)
        except (ValueError, TypeError):
            raise ValueError(
                f"reshape: shape {list(shape)} is invalid for input of size {x.size}"
            ) from None

    def backward(self, g: Any) -> tuple[Any]:
        return (g.reshape(self.src),)


class Permute(Function):
    def forward(self, x: Any, dims: tuple[int, ...]) -> Any:
        self.dims = dims
        try:
            return x.transpose(dims)
        except ValueError:  # NumPy's "repeated axis in transpose"
            raise ValueError(f"permute: duplicate dims are not allowed, got {dims}") from None

    def backward(self, g: Any) -> tuple[Any]:
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return (g.transpose(inverse),)


class Expand(Function):
    def forward(self, x: Any, shape: tuple[int, ...]) -> Any:
        self.src = x.shape
        return get_array_module(x).broadcast_to(x, shape)

    def backward(self, g: Any) -> tuple[Any]:
        return (sum_to(g, self.src),)


class Repeat(Function):
    def forward(self, x: Any, reps: tuple[int, ...]) -> Any:
        if len(reps) < x.ndim:
            raise ValueError(
                f"repeat: number of repeat dims ({len(reps)}) can not be smaller than the number "
                f"of tensor dims ({x.ndim})"
            )
        self.xshape = x.shape
        self.src = (1,) * (len(reps) - x.ndim) + x.shape
        self.reps = reps
        return get_array_module(x).tile(x, reps)

    def backward(self, g: Any) -> tuple[Any]:
        # view the output as (r0, s0, r1, s1, ...) and sum over the repeat axes
        split = []
        for r, s in zip(self.reps, self.src, strict=True):
            split += [r, s]
        g = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return (g.reshape(self.xshape),)


class Cat(Function):
    def forward(self, *xs: Any, dim: int = 0) -> Any:
        if len({x.dtype for x in xs}) > 1 or len({x.__class__ for x in xs}) > 1:
            xs = promote_all(*xs)
        # PyTorch skips 1-d empty tensors in cat (a legacy rule): they get an empty gradient
        self.legacy = [x.ndim == 1 and x.shape[0] == 0 and len(xs) > 1 for x in xs]
        parts = [x for x, skip in zip(xs, self.legacy, strict=True) if not skip] or xs[:1]
        self.dim = dim
        self.sizes = [x.shape[dim] for x in parts]
        return get_array_module(xs[0]).concatenate(parts, axis=dim)

    def backward(self, g: Any) -> tuple[Any, ...]:
        pieces, start = [], 0
        index = [slice(None)] * g.ndim
        for size in self.sizes:
            index[self.dim] = slice(start, start + size)
            pieces.append(g[tuple(index)])
            start += size
        it = iter(pieces)
        xp = get_array_module(g)
        return tuple(xp.zeros(0, dtype=g.dtype) if skip else next(it) for skip in self.legacy)


class Stack(Function):
    def forward(self, *xs: Any, dim: int = 0) -> Any:
        xs = (
            promote_all(*xs)
            if len({x.dtype for x in xs}) > 1 or len({x.__class__ for x in xs}) > 1
            else xs
        )
        self.dim = dim
        return get_array_module(xs[0]).stack(xs, axis=dim)

    def backward(self, g: Any) -> tuple[Any, ...]:
        return tuple(g.take(i, axis=self.dim) for i in range(g.shape[self.dim]))


class Narrow(Function):
    """The slice ``start : start + length`` of one dimension."""

    def forward(self, x: Any, dim: int, start: int, length: int) -> Any:
        self.src, self.dtype = x.shape, x.dtype
        self.index = (slice(None),) * dim + (slice(start, start + length),)
        return x[self.index]

    def backward(self, g: Any) -> tuple[Any]:
        out = get_array_module(g).zeros(self.src, dtype=g.dtype)
        out[self.index] = g
        return (out,)


class Flip(Function):
    def forward(self, x: Any, dims: tuple[int, ...]) -> Any:
        self.dims = dims
        return get_array_module(x).flip(x, dims).copy()

    def backward(self, g: Any) -> tuple[Any]:
        return (get_array_module(g).flip(g, self.dims),)


# ---------------------------------------------------------------- public functions
def reshape(input: Tensor, *shape: Any) -> Tensor:  # noqa: A002
    """The same elements in a new shape; one dimension may be -1 (inferred)."""
    shape = _shape_arg(shape)
    if shape == input.data.shape:
        return input
    if min(shape, default=0) < -1:  # NumPy would read any negative size as -1
        raise ValueError(f"reshape: invalid shape dimension {min(shape)} in {list(shape)}")
    return Reshape.apply(input, shape)


view = reshape


def view_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return reshape(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return reshape(input, other.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    """Merge dimensions ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W) with start_dim=1."""
    shape = input.data.shape
    if input.data.ndim == 0:
        return reshape(input, (1,))
    s = normalize_dim(start_dim, len(shape), "flatten")
    e = normalize_dim(end_dim, len(shape), "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
    return reshape(input, shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :])


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:  # noqa: A002
    """Split dimension ``dim`` into ``sizes`` (the inverse of flatten)."""
    shape = input.data.shape
    d = normalize_dim(dim, len(shape), "unflatten")
    sizes = tuple(sizes)
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) == 1 and known and shape[d] % known == 0:
        # -1 is inferred from dim's own size, as PyTorch does: left to reshape, a zero-size
        # dimension elsewhere would make it ambiguous ([3, -1, 0] for 0 values)
        sizes = tuple(shape[d] // known if s == -1 else s for s in sizes)
    return reshape(input, shape[:d] + sizes + shape[d + 1 :])


def squeeze(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:  # noqa: A002
    """Remove size-1 dimensions (all of them, or those in ``dim`` that have size 1)."""
    shape = input.data.shape
    dims = normalize_dims(dim, len(shape), "squeeze")
    keep = [s for i, s in enumerate(shape) if s != 1 or (dims is not None and i not in dims)]
    return reshape(input, tuple(keep))


def unsqueeze(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    """Insert a size-1 dimension at ``dim`` (negative counts from the new end)."""
    shape = input.data.shape
    d = normalize_dim(dim, len(shape) + 1, "unsqueeze")
    return reshape(input, shape[:d] + (1,) + shape[d:])


def permute(input: Tensor, *dims: Any) -> Tensor:  # noqa: A002
    """Reorder dimensions: ``x.permute(0, 2, 3, 1)`` turns NCHW into NHWC."""
    dims = _shape_arg(dims)
    nd = input.data.ndim
    if len(dims) != nd:
        raise ValueError(
            f"permute: expected {nd} dims for a {nd}-d tensor, got {len(dims)}: {dims}"
        )
    return Permute.apply(input, tuple(normalize_dim(d, nd, "permute") for d in dims))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """Swap two dimensions."""
    nd = input.data.ndim
    if nd < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    perm = list(range(nd))
    a = dim0 if 0 <= dim0 < nd else normalize_dim(dim0, nd, "transpose")
    b = dim1 if 0 <= dim1 < nd else normalize_dim(dim1, nd, "transpose")
    perm[a], perm[b] = perm[b], perm[a]
    return Permute.apply(input, tuple(perm))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:  # noqa: A002
    """Transpose a tensor of at most 2 dimensions."""
    if input.data.ndim > 2:
        raise ValueError(
            f"t: expects a tensor with <= 2 dimensions, but self is {input.data.ndim}D"
        )
    return transpose(input, 0, -1) if input.data.ndim == 2 else input


def _T(input: Tensor) -> Tensor:  # noqa: A002, N802
    nd = input.data.ndim
    return input if nd < 2 else Permute.apply(input, tuple(range(nd - 1, -1, -1)))


def _mT(input: Tensor) -> Tensor:  # noqa: A002, N802
    return transpose(input, -2, -1)


def expand(input: Tensor, *sizes: Any) -> Tensor:  # noqa: A002
    """Broadcast size-1 dimensions to ``sizes`` without copying (-1 keeps a size)."""
    sizes = _shape_arg(sizes)
    shape = input.data.shape
    if len(sizes) < len(shape):
        raise ValueError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        own = shape[i - lead] if i >= lead else None
        if s == -1:
            if own is None:
                raise ValueError(
                    f"expand: -1 is not allowed in a leading, non-existing dimension {i}"
                )
            s = own
        if own is not None and own != 1 and own != s:
            raise ValueError(
                f"expand: the expanded size of the tensor ({s}) must match the existing size "
                f"({own}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. "
                f"Tensor sizes: {list(shape)}"
            )
        target.append(s)
    target = tuple(target)
    return input if target == shape else Expand.apply(input, target)


def expand_as(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return expand(input, other.shape)


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:  # noqa: A002
    """Broadcast ``input`` to ``size`` (NumPy's rules)."""
    return expand(input, tuple(size))


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    shapes = [tuple(t.shape) for t in _tensor_list(tensors, "broadcast_tensors")]
    try:
        shape = get_array_module(tensors[0].data).broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"broadcast_tensors: shapes {', '.join(map(str, shapes))} cannot be broadcast together"
        ) from None
    return tuple(expand(t, shape) for t in tensors)


def repeat(input: Tensor, *sizes: Any) -> Tensor:  # noqa: A002
    """Tile ``input``: ``x.repeat(2, 3)`` repeats rows twice and columns three times."""
    return Repeat.apply(input, _shape_arg(sizes))


def _tensor_list(tensors: Any, op: str) -> list[Tensor]:
    """``tensors`` as a non-empty list of Tensors, else a TypeError / ValueError naming ``op``."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}: expected a sequence of Tensors, got a Tensor (e.g. {op}([a, b]))")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {type(x).__name__} at position {i}")
    return tensors


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; all other sizes must match."""
    tensors = _tensor_list(tensors, "cat")
    legacy = [x.data.ndim == 1 and x.data.shape[0] == 0 for x in tensors]
    ref = next((x.data.shape for x, skip in zip(tensors, legacy, strict=True) if not skip), (0,))
    d = normalize_dim(dim, len(ref), "cat")
    for i, x in enumerate(tensors):
        s = x.data.shape
        if legacy[i]:
            continue
        if len(s) != len(ref) or s[:d] + s[d + 1 :] != ref[:d] + ref[d + 1 :]:
            raise ValueError(
                f"cat: sizes of tensors must match except in dimension {d}; tensor 0 has shape "
                f"{tuple(ref)} but tensor {i} has shape {tuple(s)}"
            )
    return Cat.apply(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    ref = tensors[0].data.shape
    for i, x in enumerate(tensors):
        if x.data.shape != ref:
            raise ValueError(
                f"stack: expects each tensor to be equal size, but got {tuple(ref)} at entry 0 "
                f"and {tuple(x.data.shape)} at entry {i}"
            )
    return Stack.apply(*tensors, dim=normalize_dim(dim, len(ref) + 1, "stack"))


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """Elements ``start .. start+length-1`` along ``dim``."""
    d = normalize_dim(dim, input.data.ndim, "narrow")
    size = input.data.shape[d]
    if start < 0:
        start += size
    if not (0 <= start and length >= 0 and start + length <= size):
        raise ValueError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size})"
        )
    return Narrow.apply(input, d, start, length)


def split(
    tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    d = normalize_dim(dim, tensor.data.ndim, "split")
    size = tensor.data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size > 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, size - s) for s in range(0, size, step)] if size else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise ValueError(
                f"split: split_with_sizes expects split_sizes to sum exactly to {size} "
                f"(input tensor's size at dimension {d}), but got split_sizes={sizes}"
            )
    out, start = [], 0
    for s in sizes:
        out.append(Narrow.apply(tensor, d, start, s))
        start += s
    return tuple(out)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """At most ``chunks`` pieces of equal size (the last may be smaller) along ``dim``."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be greater than 0, got {chunks}")
    size = input.data.shape[normalize_dim(dim, input.data.ndim, "chunk")]
    if size == 0:
        return split(input, [0] * chunks, dim)  # PyTorch gives ``chunks`` empty pieces
    return split(input, -(-size // chunks), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """The slices along ``dim``, with that dimension removed."""
    d = normalize_dim(dim, input.data.ndim, "unbind")
    return tuple(squeeze(p, d) for p in split(input, 1, d)) if input.data.shape[d] else ()


def flip(input: Tensor, dims: int | Sequence[int]) -> Tensor:  # noqa: A002
    """Reverse the order of elements along ``dims``."""
    return Flip.apply(input, normalize_dims(dims, input.data.ndim, "flip") or ())


TENSOR_METHODS = {
    "reshape": reshape,
    "view": view,
    "view_as": view_as,
    "reshape_as": reshape_as,
    "flatten": flatten,
    "unflatten": unflatten,
    "squeeze": squeeze,
    "unsqueeze": unsqueeze,
    "permute": permute,
    "transpose": transpose,
    "swapaxes": transpose,
    "t": t,
    "T": property(_T),
    "mT": property(_mT),
    "expand": expand,
    "expand_as": expand_as,
    "broadcast_to": broadcast_to,
    "repeat": repeat,
    "narrow": narrow,
    "split": split,
    "chunk": chunk,
    "unbind": unbind,
    "flip": flip,
}
