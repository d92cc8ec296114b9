"""A long, skinny matrix product in slices, each a call of BLAS's ``cblas_?gemm`` from a
compiled loop (numba; see ``backend/jit.py``).

OpenBLAS multiplies a product of at most 10^6 multiply-adds without packing its operands
first (its "small matrix" kernels, on AVX-512 cores). A convolution's products are long and
skinny — (positions x 144) @ (144 x 16) in ResNet-20's first stage — and packed whole, the
packing costs about a third of the product. Cut into slices under the limit they are not
packed at all (``conv.py``, ``_slice_rows``). From Python each slice is a ``np.matmul`` call
of ~2 µs that needs the GIL, so two threads slicing at once queue for it; here the loop runs
compiled, without the GIL, and calls ``cblas_sgemm`` / ``cblas_dgemm`` through their
addresses in NumPy's OpenBLAS (the ``scipy_openblas`` wheel's 64-bit-integer entry points;
where they are not found, ``conv.py`` slices with ``np.matmul``).
"""

from __future__ import annotations

import ctypes
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["NO_TRANS", "TRANS", "entry_points", "gemm_slices", "operand"]

_ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112  # cblas enum values


@intrinsic
def _cblas_gemm(
    typingctx: Any,
    fn: Any,
    trans_a: Any,
    trans_b: Any,
    m: Any,
    n: Any,
    k: Any,
    alpha: Any,
    a: Any,
    lda: Any,
    b: Any,
    ldb: Any,
    beta: Any,
    c: Any,
    ldc: Any,
) -> Any:
    """Call the ``cblas_?gemm`` at address ``fn`` (row-major; 64-bit integers; ``alpha`` and
    ``beta`` float32 for sgemm, float64 for dgemm; ``a``, ``b``, ``c`` addresses)."""
    i64 = types.int64
    sig = types.void(i64, i64, i64, i64, i64, i64, alpha, i64, i64, i64, i64, alpha, i64, i64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i32, l64 = ir.IntType(32), ir.IntType(64)
        real = ir.FloatType() if signature.args[6] == types.float32 else ir.DoubleType()
        ptr = real.as_pointer()
        fn_type = ir.FunctionType(
            ir.VoidType(),
            [i32, i32, i32, l64, l64, l64, real, ptr, l64, ptr, l64, real, ptr, l64],
        )
        (fn_, ta, tb, m_, n_, k_, al, a_, lda_, b_, ldb_, be, c_, ldc_) = args
        call = [
            ir.Constant(i32, _ROW_MAJOR),
            builder.trunc(ta, i32),
            builder.trunc(tb, i32),
            m_,
            n_,
            k_,
            al,
            builder.inttoptr(a_, ptr),
            lda_,
            builder.inttoptr(b_, ptr),
            ldb_,
            be,
            builder.inttoptr(c_, ptr),
            ldc_,
        ]
        builder.call(builder.inttoptr(fn_, fn_type.as_pointer()), call)
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(nogil=True, cache=True)
def gemm_slices(
    fn: int,
    over_k: bool,
    total: int,
    rows: int,
    m: int,
    n: int,
    k: int,
    a: Any,
    b: Any,
    c: Any,
    one: Any,
    beta: Any,
) -> None:
    """``C = A @ B + beta*C`` in slices of ``rows`` along M (``over_k`` false: the slices are
    separate products) or along K (``over_k``: they are summed into C, so ``beta`` is 1
    after the first). ``a``, ``b``, ``c`` are int64 arrays ``(address, ld, trans, step)``:
    ``step`` bytes further along the sliced axis; ``total`` is that axis' length (``m`` or
    ``k`` stands for one slice's); ``one`` is 1 in the dtype of ``beta``."""
    for s in range(0, total, rows):
        size = min(rows, total - s)
        if over_k:
            mm, kk, bb = m, size, beta if s == 0 else one
        else:
            mm, kk, bb = size, k, beta
        _cblas_gemm(
            fn,
            a[2],
            b[2],
            mm,
            n,
            kk,
            one,
            a[0] + s * a[3],
            a[1],
            b[0] + s * b[3],
            b[1],
            bb,
            c[0] + s * c[3],
            c[1],
        )


def operand(x: Any, axis: int) -> np.ndarray | None:
    """``(address, ld, trans, step)`` of a 2-D NumPy array for ``cblas_?gemm`` (row-major):
    ``trans`` when it is the transpose of a row-major matrix; ``step``, the bytes from one
    index to the next along ``axis`` (the sliced one; -1 for none). ``None`` when neither
    axis has unit stride."""
    size = x.itemsize
    s0, s1 = x.strides
    if s1 == size and s0 % size == 0 and s0 >= 0:
        ld, trans = max(s0 // size, x.shape[1], 1), NO_TRANS
    elif s0 == size and s1 % size == 0 and s1 >= 0:
        ld, trans = max(s1 // size, x.shape[0], 1), TRANS
    else:
        return None
    step = 0 if axis < 0 else x.strides[axis]
    return np.array((x.ctypes.data, ld, trans, step), dtype=np.int64)


def entry_points(path: str) -> dict[Any, int]:
    """``{np.float32: address of cblas_sgemm, np.float64: ... dgemm}`` in the OpenBLAS at
    ``path``, where it has the ``scipy_openblas`` 64-bit-integer entry points; else ``{}``."""
    try:
        lib = ctypes.CDLL(path)
        found = {
            np.dtype(np.float32): lib.scipy_cblas_sgemm64_,
            np.dtype(np.float64): lib.scipy_cblas_dgemm64_,
        }
    except (OSError, AttributeError):
        return {}
    return {dtype: ctypes.cast(fn, ctypes.c_void_p).value for dtype, fn in found.items()}
