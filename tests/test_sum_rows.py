"""``ops._util.sum_rows``: the folded column sum used for bias gradients."""

from __future__ import annotations

import numpy as np
import pytest

from gradschool.ops._util import sum_rows


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
