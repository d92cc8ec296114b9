"""Matrix products: ``matmul`` (``@``), ``mm``, ``bmm``, ``mv``, ``dot``, ``outer`` and ``einsum``.

The matrix-multiply gate (CS231n L4, "Backprop with matrices"): for ``Y = A B`` with upstream
``dY``, ``dA = dY Bᵀ`` and ``dB = Aᵀ dY`` — each gradient has the shape of its input, which is
the quickest check that the transposes are right. Batched products broadcast the leading
(batch) dims, so their gradients are summed back over the broadcast dims. Everything runs on
``matmul`` of the arrays (BLAS), with no Python loop over the batch.

``einsum``'s backward is an einsum too: the gradient of operand ``i`` contracts the upstream
gradient with all the other operands into operand ``i``'s subscripts. Two wrinkles: a
subscript that appears only in operand ``i`` was summed away, so its gradient is broadcast
back; a subscript repeated within operand ``i`` (``'ii->i'``) read a diagonal, so its
gradient is written back onto that diagonal of zeros.
"""

from __future__ import annotations

import math
import string
from collections import Counter
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..backend.device import get_array_module
from ..tensor import Tensor
from ._util import promote, promote_all, sum_to

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "einsum"]

# PyTorch's C names for dtypes, which its dtype-mismatch messages use
_C_NAMES = {
    "float16": "Half",
    "float32": "float",
    "float64": "double",
    "int8": "signed char",
    "int16": "short",
    "int32": "int",
    "int64": "long",
    "uint8": "unsigned char",
    "bool": "bool",
}


def _c_name(dt: Any) -> str:
    return _C_NAMES.get(str(dt), str(dt))


def _swap(x: Any) -> Any:
    return x.swapaxes(-1, -2)


# ---------------------------------------------------------------- matmul
class Matmul(Function):
    """``a @ b`` with NumPy's (and PyTorch's) rules for 1-D and batched operands."""

    def forward(self, a: Any, b: Any, op: str = "matmul") -> Any:
        _check_matmul(a, b, op)
        self.saved = (a, b)
        return _matmul(a, b)

    def backward(self, g: Any) -> tuple[Any, Any]:
        a, b = self.saved
        xp = get_array_module(g)
        # work with matrices: a 1-D a is a row (1, k), a 1-D b a column (k, 1)
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        if a.ndim == 1 and b.ndim == 1:
            g2 = g.reshape(1, 1)
        elif a.ndim == 1:
            g2 = xp.expand_dims(g, -2)
        elif b.ndim == 1:
            g2 = xp.expand_dims(g, -1)
        else:
            g2 = g
        ga = gb = None
        if self.needs_input_grad[0]:
            if a2.ndim == 2 and g2.ndim > 2:
                # one matrix a shared by the whole batch: fold the batch into the product
                m, n, k = g2.shape[-2], g2.shape[-1], b2.shape[-2]
                cols = math.prod(g2.shape[:-2]) * n
                gm = xp.moveaxis(g2, -2, 0).reshape(m, cols)
                bm = xp.moveaxis(xp.broadcast_to(b2, g2.shape[:-2] + (k, n)), -2, 0)
                ga2 = gm @ bm.reshape(k, cols).T
            else:
                ga2 = sum_to(_matmul(g2, _swap(b2)), a2.shape)
            ga = ga2.reshape(a.shape)
        if self.needs_input_grad[1]:
            if b2.ndim == 2 and g2.ndim > 2:
                # one matrix b shared by the whole batch (nn.Linear on (N, L, C)): fold it
                k, n = a2.shape[-1], g2.shape[-1]
                rows = math.prod(g2.shape[:-1])
                gb2 = a2.reshape(rows, k).T @ g2.reshape(rows, n)
            else:
                gb2 = sum_to(xp.matmul(_swap(a2), g2), b2.shape)
            gb = gb2.reshape(b.shape)
        return ga, gb


def _matmul(a: Any, b: Any) -> Any:
    """``matmul`` of arrays; a batch times one matrix is folded into a single 2-D product
    (one GEMM instead of NumPy's loop over the batch)."""
    if a.ndim > 2 and b.ndim <= 2:
        rows = math.prod(a.shape[:-1])
        out = get_array_module(a).matmul(a.reshape(rows, a.shape[-1]), b)
        return out.reshape(a.shape[:-1] + b.shape[1:])
    return get_array_module(a).matmul(a, b)


def _check_matmul(a: Any, b: Any, op: str) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{op}: expected m1 and m2 to have the same dtype, but got: {_c_name(a.dtype)} != "
            f"{_c_name(b.dtype)}"
        )
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"{op}: both arguments to {op} need to be at least 1D, but they are {a.ndim}D and "
            f"{b.ndim}D"
        )
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        raise ValueError(
            f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({ka} != {kb})"
        )
    if a.ndim > 2 and b.ndim > 2 and a.shape[:-2] != b.shape[:-2]:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(
                f"{op}: batch dimensions {tuple(a.shape[:-2])} and {tuple(b.shape[:-2])} do "
                f"not broadcast (shapes {tuple(a.shape)} and {tuple(b.shape)})"
            ) from None


class Outer(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.dtypes = a.dtype, b.dtype
        a, b = promote(a, b)
        self.saved = (a, b)
        return a[:, None] * b[None, :]

    def backward(self, g: Any) -> tuple[Any, Any]:
        a, b = self.saved
        ga = (g @ b).astype(self.dtypes[0], copy=False) if self.needs_input_grad[0] else None
        gb = (a @ g).astype(self.dtypes[1], copy=False) if self.needs_input_grad[1] else None
        return ga, gb


def _arrays(a: Any, b: Any, op: str) -> tuple[Any, Any]:
    """The data of two operands, lists and arrays accepted beside Tensors."""
    out = []
    for x in (a, b):
        if not isinstance(x, Tensor):
            t = Tensor(x)
            if t.data.dtype.kind not in "biuf":  # a string would fail later as "float != <U1"
                raise TypeError(f"{op}: expected Tensors or numbers, got {type(x).__name__} {x!r}")
            x = t
        out.append(x)
    return out[0], out[1]


def matmul(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Matrix product with broadcasting: 1-D·1-D is a dot product, a 1-D operand is a row
    (left) or column (right) vector, and leading batch dims broadcast.

    >>> a, b = gradschool.ones(5, 2, 3), gradschool.ones(3, 4)
    >>> (a @ b).shape
    (5, 2, 4)
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        input, other = _arrays(input, other, "matmul")
    return Matmul.apply(input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """The product of two matrices (2-D only; use ``matmul`` to broadcast)."""
    input, mat2 = _arrays(input, mat2, "mm")
    if input.data.ndim != 2 or mat2.data.ndim != 2:
        raise ValueError(
            f"mm: expected two 2-D matrices, got {input.data.ndim}-D and {mat2.data.ndim}-D "
            f"(shapes {tuple(input.shape)} and {tuple(mat2.shape)})"
        )
    return Matmul.apply(input, mat2, op="mm")


def bmm(input: Tensor, mat2: Tensor) -> Tensor:  # noqa: A002
    """Batched matrix product ``(b, n, m) @ (b, m, p) -> (b, n, p)`` (no broadcasting)."""
    input, mat2 = _arrays(input, mat2, "bmm")
    sa, sb = input.data.shape, mat2.data.shape
    if len(sa) != 3 or len(sb) != 3:
        raise ValueError(
            f"bmm: expected two 3-D tensors, got {len(sa)}-D and {len(sb)}-D (shapes "
            f"{tuple(sa)} and {tuple(sb)})"
        )
    if sa[0] != sb[0]:
        raise ValueError(
            f"bmm: batch sizes must be equal, got shapes {tuple(sa)} and {tuple(sb)} "
            f"({sa[0]} != {sb[0]})"
        )
    return Matmul.apply(input, mat2, op="bmm")


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    """Matrix-vector product ``(n, m) @ (m,) -> (n,)``."""
    input, vec = _arrays(input, vec, "mv")
    if input.data.ndim != 2 or vec.data.ndim != 1:
        raise ValueError(
            f"mv: expected a 2-D matrix and a 1-D vector, got shapes {tuple(input.shape)} and "
            f"{tuple(vec.shape)}"
        )
    return Matmul.apply(input, vec, op="mv")


def dot(input: Tensor, tensor: Tensor) -> Tensor:  # noqa: A002
    """The inner product of two 1-D tensors of the same length (a 0-d tensor)."""
    input, tensor = _arrays(input, tensor, "dot")
    a, b = input.data, tensor.data
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(
            f"dot: expected two 1-D tensors, got {a.ndim}-D and {b.ndim}-D (shapes "
            f"{tuple(a.shape)} and {tuple(b.shape)})"
        )
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"dot: expected both vectors to have same dtype, but found {_c_name(a.dtype)} and "
            f"{_c_name(b.dtype)}"
        )
    if a.shape != b.shape:
        raise ValueError(
            f"dot: inconsistent tensor size, expected tensors of the same size, got {a.shape[0]} "
            f"and {b.shape[0]}"
        )
    return Matmul.apply(input, tensor, op="dot")


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """``out[i, j] = input[i] * vec2[j]`` for 1-D tensors."""
    input, vec2 = _arrays(input, vec2, "outer")
    if input.data.ndim != 1 or vec2.data.ndim != 1:
        raise ValueError(
            f"outer: expected two 1-D tensors, got shapes {tuple(input.shape)} and "
            f"{tuple(vec2.shape)}"
        )
    return Outer.apply(input, vec2)


def _rmatmul(self: Tensor, other: Any) -> Tensor:
    return matmul(other, self)


# ---------------------------------------------------------------- einsum
_LETTERS = string.ascii_letters


def _parse_einsum(
    equation: str, shapes: list[tuple[int, ...]]
) -> tuple[list[str], str, dict[str, int]]:
    """Subscripts per operand and for the output with ``...`` spelled out as spare letters,
    and the (broadcast) size of each letter."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum: the equation {equation!r} names {len(terms)} operand(s) but "
            f"{len(shapes)} were given"
        )
    for t in [*terms, rhs] if arrow else terms:
        if t.count("...") > 1 or any(c not in _LETTERS for c in t.replace("...", "")):
            raise ValueError(
                f"einsum: invalid subscripts {t!r} in {equation!r}: use letters and at most "
                "one '...' per operand"
            )
    spare = [c for c in _LETTERS if c not in eq]
    n_ell = 0
    for i, (t, shape) in enumerate(zip(terms, shapes, strict=True)):
        named = len(t) - 3 if "..." in t else len(t)
        if len(shape) < named or ("..." not in t and len(shape) != named):
            raise ValueError(
                f"einsum: operand {i} has {len(shape)} dimension(s) but its subscripts {t!r} "
                f"name {named}"
            )
        n_ell = max(n_ell, len(shape) - named)
    ell = "".join(spare[:n_ell])
    full = []
    for t, shape in zip(terms, shapes, strict=True):
        k = len(shape) - (len(t) - 3)  # the dims this operand's '...' covers
        full.append(t.replace("...", ell[n_ell - k :] if k else "") if "..." in t else t)
    if arrow:
        out = rhs.replace("...", ell)
        for c in out:
            if out.count(c) > 1 or not any(c in t for t in full):
                raise ValueError(
                    f"einsum: output subscript {c!r} in {equation!r} appears more than once or "
                    "in no operand"
                )
    else:  # implicit output: '...' first, then the letters seen once, in alphabetical order
        counts = Counter("".join(t.replace("...", "") for t in terms))
        single = sorted(c for c, n in counts.items() if n == 1)
        out = (ell if any("..." in t for t in terms) else "") + "".join(single)
    sizes: dict[str, int] = {}
    for i, (t, shape) in enumerate(zip(full, shapes, strict=True)):
        own: dict[str, int] = {}
        for c, s in zip(t, shape, strict=True):
            if own.setdefault(c, s) != s:
                raise ValueError(
                    f"einsum: subscript {c!r} is repeated in operand {i} but the sizes don't "
                    f"match, {own[c]} != {s}"
                )
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = s
            elif s not in (1, prev):
                raise ValueError(
                    f"einsum: operands do not broadcast: subscript {c!r} has size {prev} in one "
                    f"operand and {s} in operand {i} (shapes {[tuple(x) for x in shapes]})"
                )
    return full, out, sizes


def _contract(terms: list[str], arrays: list[Any], out: str) -> Any:
    """``einsum`` of arrays whose subscripts are all letters: matmul when it is a matrix
    product of two operands, else NumPy's einsum."""
    xp = get_array_module(arrays[0])
    if len(arrays) == 1:
        t = terms[0]
        if len(set(t)) == len(t) and sorted(t) == sorted(out):
            return arrays[0] if t == out else arrays[0].transpose([t.index(c) for c in out])
    elif len(arrays) == 2:
        r = _pair(terms[0], arrays[0], terms[1], arrays[1], out)
        if r is not None:
            return r
    return xp.einsum(",".join(terms) + "->" + out, *arrays, optimize=len(arrays) > 2)


def _pair(ta: str, a: Any, tb: str, b: Any, out: str) -> Any:
    """Two operands contracted as one batched matmul ``(*batch, L, C) @ (*batch, C, R)``,
    or None when that does not apply (diagonals, broadcasting, no matrix product)."""
    if len(set(ta)) != len(ta) or len(set(tb)) != len(tb):
        return None
    shared = [c for c in ta if c in tb]
    if any(a.shape[ta.index(c)] != b.shape[tb.index(c)] for c in shared):
        return None
    # a letter in one operand only and not in the output is summed away first
    drop = [i for i, c in enumerate(ta) if c not in tb and c not in out]
    if drop:
        a, ta = a.sum(axis=tuple(drop)), "".join(c for c in ta if c in tb or c in out)
    drop = [i for i, c in enumerate(tb) if c not in ta and c not in out]
    if drop:
        b, tb = b.sum(axis=tuple(drop)), "".join(c for c in tb if c in ta or c in out)
    batch = [c for c in out if c in ta and c in tb]
    left = [c for c in out if c in ta and c not in tb]
    right = [c for c in out if c in tb and c not in ta]
    inner = [c for c in ta if c in tb and c not in out]
    size = {**dict(zip(ta, a.shape, strict=True)), **dict(zip(tb, b.shape, strict=True))}
    L, R = math.prod(size[c] for c in left), math.prod(size[c] for c in right)
    if L <= 1 and R <= 1:
        return None  # no matrix product to hand to BLAS
    bshape = tuple(size[c] for c in batch)
    C = math.prod(size[c] for c in inner)
    a2 = a.transpose([ta.index(c) for c in batch + left + inner]).reshape(bshape + (L, C))
    b2 = b.transpose([tb.index(c) for c in batch + inner + right]).reshape(bshape + (C, R))
    r = get_array_module(a).matmul(a2, b2)
    r = r.reshape(bshape + tuple(size[c] for c in left) + tuple(size[c] for c in right))
    have = batch + left + right
    return r if have == list(out) else r.transpose([have.index(c) for c in out])


def _onto_diagonal(g: Any, term: str, uniq: str, shape: tuple[int, ...]) -> Any:
    """Zeros of ``shape`` with ``g`` (indexed by ``uniq``) written onto the diagonals that the
    repeated letters of ``term`` name (the reverse of reading ``'ii->i'``)."""
    xp = get_array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    strides = [sum(out.strides[k] for k, t in enumerate(term) if t == c) for c in uniq]
    view = xp.lib.stride_tricks.as_strided(out, shape=g.shape, strides=strides)
    view[...] = g
    return out


class Einsum(Function):
    def forward(self, *arrays: Any, terms: list[str], out: str, sizes: dict[str, int]) -> Any:
        self.dtypes = [a.dtype for a in arrays]
        if len(set(self.dtypes)) > 1:
            arrays = promote_all(*arrays)
        self.terms, self.out, self.sizes = terms, out, sizes
        self.saved = arrays
        return _contract(terms, list(arrays), out)

    def backward(self, g: Any) -> tuple[Any, ...]:
        arrays, terms = self.saved, self.terms
        xp = get_array_module(g)
        grads: list[Any] = []
        for i, t in enumerate(terms):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            other_t = [self.out] + [u for j, u in enumerate(terms) if j != i]
            other_a = [g] + [a for j, a in enumerate(arrays) if j != i]
            seen = set("".join(other_t))
            uniq = "".join(dict.fromkeys(t))
            target = "".join(c for c in uniq if c in seen)
            grad = _contract(other_t, other_a, target)
            own = dict(zip(t, arrays[i].shape, strict=True))
            # letters only this operand has were summed away: they come back as size 1 ...
            it = iter(grad.shape)
            grad = grad.reshape(tuple(next(it) if c in seen else 1 for c in uniq))
            # ... then every letter is brought to this operand's own size
            axes = tuple(k for k, c in enumerate(uniq) if own[c] == 1 and grad.shape[k] != 1)
            if axes:
                grad = grad.sum(axis=axes, keepdims=True)
            want = tuple(own[c] for c in uniq)
            if grad.shape != want:
                grad = xp.broadcast_to(grad, want)
            if len(uniq) < len(t):
                grad = _onto_diagonal(grad, t, uniq, arrays[i].shape)
            grads.append(grad.astype(self.dtypes[i], copy=False))
        return tuple(grads)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation: ``einsum('bij,bjk->bik', a, b)`` is a batched matmul.

    Letters name dimensions; a letter in several operands is multiplied along, a letter left
    out of the output (after ``->``) is summed over. Without ``->`` the output is the letters
    seen once, in alphabetical order. ``...`` stands for broadcast leading dimensions, and a
    letter repeated in one operand reads a diagonal (``'ii->i'``). The operands may also be
    given as one list.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: expected at least one operand")
    ts = [x if isinstance(x, Tensor) else Tensor(x) for x in operands]
    terms, out, sizes = _parse_einsum(equation, [x.data.shape for x in ts])
    return Einsum.apply(*ts, terms=terms, out=out, sizes=sizes)


TENSOR_METHODS = {
    "__matmul__": matmul,
    "__rmatmul__": _rmatmul,
    "matmul": matmul,
    "mm": mm,
    "bmm": bmm,
    "mv": mv,
    "dot": dot,
    "outer": outer,
}
