"""NCHW <-> channels-last copies (``backend/layout.py``): the tiled transpose gives NumPy's
copy exactly, in both directions, on one thread or two, and the kernel's plain-Python loop
(what a reader without numba runs) is the same transpose."""

from __future__ import annotations

import numpy as np
import pytest

from gradschool.backend import jit, layout, threads


def channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


SHAPES = [(64, 16, 32, 32), (3, 3, 70, 50), (2, 40, 33, 31), (5, 1, 28, 28)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("direction", ["to_channels_last", "to_nchw"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_copy_into_equals_numpy(shape, dtype, direction, n_threads, monkeypatch):
    monkeypatch.setattr(layout, "MIN_SIZE", 1)  # every shape here takes the kernel
    monkeypatch.setattr(layout, "_SPLIT_SIZE", 1)  # and is split on two threads
    src = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    if direction == "to_channels_last":
        dst = channels_last(np.empty(shape, dtype))
    else:
        src = channels_last(src)
        dst = np.empty(shape, dtype)
    before = threads.get_num_threads()
    threads.set_num_threads(n_threads)
    try:
        layout.copy_into(dst, src)
    finally:
        threads.set_num_threads(before)
    np.testing.assert_array_equal(dst, src)
    assert dst.dtype == dtype


def test_other_copies_fall_back_to_numpy():
    src = np.arange(24.0).reshape(2, 3, 4)  # not 4-D
    dst = np.empty_like(src)
    layout.copy_into(dst, src)
    np.testing.assert_array_equal(dst, src)
    src4 = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    dst64 = channels_last(np.empty(src4.shape))  # another dtype: NumPy casts
    layout.copy_into(dst64, src4)
    np.testing.assert_array_equal(dst64, src4)
    with jit.disabled():
        dst = channels_last(np.empty(src4.shape, np.float32))
        layout.copy_into(dst, src4)
        np.testing.assert_array_equal(dst, src4)


def test_uncompiled_loop_is_the_transpose():
    src = np.arange(2 * 37 * 45, dtype=np.float64)
    for r, s in ((37, 45), (45, 37)):
        dst = np.empty_like(src)
        layout.batched_transpose.py(src, dst, 2, r, s)
        np.testing.assert_array_equal(dst.reshape(2, s, r), src.reshape(2, r, s).transpose(0, 2, 1))


@pytest.mark.skipif(not jit.available(), reason="needs numba")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vector_tile_is_the_plain_tile(dtype):
    """``_vector_tile``'s compiled ``transpose_tile`` (shuffles in vector registers) moves a
    W x W tile, W = 64 bytes of values, between any offsets and row strides exactly as the
    plain loop does, and touches nothing outside the tile."""
    import numba

    from gradschool.backend import _vector_tile  # noqa: F401 - registers the overload

    @numba.njit
    def compiled(src, src_at, src_stride, dst, dst_at, dst_stride):
        layout.transpose_tile(src, src_at, src_stride, dst, dst_at, dst_stride)

    width = 64 // np.dtype(dtype).itemsize
    src = np.random.default_rng(0).standard_normal(40 * 37).astype(dtype)
    for src_at, src_stride, dst_at, dst_stride in ((0, width, 0, width), (5, 37, 3, 21)):
        expected = np.full(40 * 37, np.nan, dtype)
        layout.transpose_tile(src, src_at, src_stride, expected, dst_at, dst_stride)
        got = np.full(40 * 37, np.nan, dtype)
        compiled(src, src_at, src_stride, got, dst_at, dst_stride)
        np.testing.assert_array_equal(got, expected)
        assert np.count_nonzero(~np.isnan(got)) == width * width
