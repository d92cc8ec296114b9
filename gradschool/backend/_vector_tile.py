"""The compiled form of ``layout.transpose_tile``: a square tile transposed in vector registers.

A transpose moves every value to a new place, and a loop that moves one value at a time
spends two instructions per value, however well its tiles fit in the cache. Here a tile of
W x W values (W = one 64-byte vector: 16 float32 or 8 float64) is loaded as W vectors, one
per source row, transposed by log2(W) rounds of two-vector shuffles and stored as W vectors,
one per destination row: about a quarter of an instruction per value. Round ``b`` exchanges
bit ``b`` of the row index with bit ``b`` of the column index; after every bit has been
exchanged, value (i, j) sits at (j, i). LLVM turns each shuffle into one AVX-512
``vpermt2ps`` (or a pair of AVX2 shuffles on older cores).

Importing this module registers the implementation with numba (``numba.extending.overload``),
and ``layout.transpose_values`` as a function compiled kernels may call
(``register_jitable``): a kernel that calls them is compiled with them
(``jit.kernel(uses=...)``), and the kernel run as plain Python calls the readable loops in
``layout.py``.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload, register_jitable

from . import layout

VECTOR_BYTES = 64


@intrinsic
def _vector_transpose(
    typingctx: Any, src: Any, src_at: Any, src_stride: Any, dst: Any, dst_at: Any, dst_stride: Any
) -> Any:
    """``dst[dst_at + j*dst_stride + i] = src[src_at + i*src_stride + j]`` for i, j < W, with
    W values per 64-byte vector, for contiguous 1-D float arrays."""
    sig = types.void(src, types.intp, types.intp, dst, types.intp, types.intp)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        src_type, dst_type = signature.args[0], signature.args[3]
        elem = context.get_data_type(src_type.dtype)
        size = context.get_abi_sizeof(elem)
        width = VECTOR_BYTES // size
        vector, masks = ir.VectorType(elem, width), ir.VectorType(ir.IntType(32), width)

        def rows(array_type: Any, array: Any, at: Any, stride: Any) -> list[Any]:
            view = context.make_array(array_type)(context, builder, array)
            first = cgutils.get_item_pointer(context, builder, array_type, view, [at])
            return [
                builder.bitcast(
                    builder.gep(first, [builder.mul(stride, ir.Constant(stride.type, i))]),
                    vector.as_pointer(),
                )
                for i in range(width)
            ]

        values = [builder.load(p, align=size) for p in rows(src_type, args[0], args[1], args[2])]
        bit = width // 2
        while bit:
            # row i takes its own values where column bit `bit` is 0, its partner's (row
            # i|bit, column j^bit) where it is 1; the partner the mirror image
            low = [j if j & bit == 0 else width + (j ^ bit) for j in range(width)]
            high = [j ^ bit if j & bit == 0 else width + j for j in range(width)]
            for i in range(width):
                if i & bit == 0:
                    a, b = values[i], values[i | bit]
                    values[i] = builder.shuffle_vector(a, b, ir.Constant(masks, low))
                    values[i | bit] = builder.shuffle_vector(a, b, ir.Constant(masks, high))
            bit //= 2
        for value, p in zip(values, rows(dst_type, args[3], args[4], args[5]), strict=True):
            builder.store(value, p, align=size)
        return context.get_dummy_value()

    return sig, codegen


@overload(layout.transpose_tile, jit_options={"nogil": True})
def _transpose_tile(
    src: Any, src_at: Any, src_stride: Any, dst: Any, dst_at: Any, dst_stride: Any
) -> Any:
    contiguous = all(
        isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" for a in (src, dst)
    )
    floats = (types.float32, types.float64)
    if contiguous and src.dtype == dst.dtype and src.dtype in floats:
        # (numba wants the same parameters as the typing function's, annotations included)
        def vector(
            src: Any, src_at: Any, src_stride: Any, dst: Any, dst_at: Any, dst_stride: Any
        ) -> None:
            _vector_transpose(src, src_at, src_stride, dst, dst_at, dst_stride)

        return vector
    return None  # any other array: no implementation (the kernels pass only these)


register_jitable(layout.transpose_values)
