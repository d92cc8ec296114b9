"""``ops._util.sum_rows`` and ``add_to_rows``: the folded bias gradient and bias add."""

from __future__ import annotations

import numpy as np
import pytest

from gradschool.ops._util import add_to_rows, sum_rows


@pytest.mark.parametrize(
    "shape", [(100352, 6), (12800, 16), (1000, 7), (5, 3), (1, 4), (0, 3), (130, 600)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_equals_numpy_sum(shape, dtype):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    exact = a.astype(np.float64).sum(axis=0)
    got = sum_rows(a)
    assert got.shape == (shape[1],) and got.dtype == dtype
    np.testing.assert_allclose(got, exact, rtol=1e-5, atol=1e-3 if dtype == np.float32 else 1e-9)


def test_more_accurate_than_a_sequential_sum():
    a = np.full((1 << 20, 2), 0.1, np.float32)
    exact = 0.1 * (1 << 20)
    assert abs(sum_rows(a)[0] - exact) < abs(a.sum(axis=0)[0] - exact)


def test_a_strided_input_is_summed_too():
    a = np.random.default_rng(1).standard_normal((50, 8))[:, ::2]
    np.testing.assert_allclose(sum_rows(a), a.sum(axis=0))


@pytest.mark.parametrize("shape", [(100352, 6), (12800, 16), (1000, 7), (5, 3), (130, 600), (0, 4)])
def test_add_to_rows_equals_broadcasting(shape):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape).astype(np.float32)
    row = rng.standard_normal(shape[1]).astype(np.float32)
    expected = a + row
    add_to_rows(a, row)
    np.testing.assert_array_equal(a, expected)


def test_add_to_rows_on_a_strided_array():
    a = np.zeros((40, 8))[:, ::2]
    add_to_rows(a, np.arange(4.0))
    np.testing.assert_array_equal(a, np.tile(np.arange(4.0), (40, 1)))
