"""The compiled slicing of skinny products (``_gemm_slices.py``): ``cblas_?gemm`` called per
slice from a numba loop, against one NumPy product, in both slicing modes."""

from __future__ import annotations

import numpy as np
import pytest

from gradschool.backend import jit, threads

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="needs numba")


@pytest.fixture
def slices():
    """The module and the cblas entry points of NumPy's OpenBLAS; skip where there are none."""
    module = pytest.importorskip("gradschool.nn.functional._gemm_slices")
    libraries = threads.blas_libraries()
    entry = module.entry_points(libraries[0][0]) if len(libraries) == 1 else {}
    if not entry:
        pytest.skip("no 64-bit cblas entry points in NumPy's BLAS")
    return module, entry


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_slices_along_the_rows_give_one_product(slices, dtype):
    module, entry = slices
    rng = np.random.default_rng(0)
    a = rng.standard_normal((27, 1001)).astype(dtype).T  # (1001, 27), read transposed
    b = rng.standard_normal((27, 5)).astype(dtype)
    out = np.full((1001, 3, 5), np.nan, dtype)[:, 1]  # row-major with a longer row stride
    ops = [module.operand(a, 0), module.operand(b, -1), module.operand(out, 0)]
    assert ops[0][2] == module.TRANS and ops[2][2] == module.NO_TRANS
    one = np.dtype(dtype).type(1)
    module.gemm_slices(entry[np.dtype(dtype)], False, 1001, 64, 0, 5, 27, *ops, one, one * 0)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize(("dtype", "beta"), [(np.float32, 1.0), (np.float64, 0.0)])
def test_slices_along_the_sum_add_up(slices, dtype, beta):
    module, entry = slices
    rng = np.random.default_rng(1)
    a = rng.standard_normal((1000, 12)).astype(dtype).T  # (12, 1000): the sum runs over 1000
    b = rng.standard_normal((1000, 7)).astype(dtype)
    c = rng.standard_normal((12, 7)).astype(dtype)
    want = a @ b + beta * c
    ops = [module.operand(a, 1), module.operand(b, 0), module.operand(c, -1)]
    one = np.dtype(dtype).type(1)
    module.gemm_slices(entry[np.dtype(dtype)], True, 1000, 96, 12, 7, 0, *ops, one, one * beta)
    np.testing.assert_allclose(c, want, rtol=1e-4 if dtype == np.float32 else 1e-11)


def test_operand_refuses_what_blas_cannot_read(slices):
    module, _ = slices
    x = np.zeros((6, 8), np.float32)
    assert module.operand(x[:, ::2], 0) is None  # no unit stride either way
    assert module.operand(x[::-1], 0) is None  # a negative stride
    assert list(module.operand(x, 0)[1:]) == [8, module.NO_TRANS, 32]
    assert list(module.operand(x.T, 1)[1:]) == [8, module.TRANS, 32]
