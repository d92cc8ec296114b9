"""Columns built slice by slice beside their products (``_conv_fused.py``): the slices'
columns are im2col's rows, and convolutions through them equal PyTorch's, forward and
backward, in both layouts and dtypes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn.functional as F
from gradschool.backend import jit
from gradschool.nn.functional import _conv_kernels as kernels
from gradschool.nn.functional import conv as conv_impl

pytestmark = pytest.mark.skipif(
    not jit.enabled() or conv_impl._sliced_gemm(np.float32) is None,
    reason="needs the kernels and OpenBLAS's 64-bit cblas entry points",
)


@pytest.mark.parametrize("k_major", [False, True])
def test_a_range_of_output_rows_gets_those_rows_of_the_columns(k_major):
    """The fused loops build a slice's columns with the kernels' own loops over a range of
    output rows (compiled into them, ``_conv_fused._columns``), and the kernels run as plain
    Python over a range give the same rows: both equal that range of the whole columns."""
    from gradschool.nn.functional._conv_fused import _columns

    rng = np.random.default_rng(0)
    geometry = np.array((3, 4, 5, 3, 3, 2, 7, 9))  # B, OH, OW, KH, KW, C, H, W: stride 2, pad 1
    strides = np.array((2, 2, 1, 1, 1, 1))
    kernel = kernels.im2col_k_major if k_major else kernels.im2col_cl
    x = rng.standard_normal((3, 2, 7, 9) if k_major else (3, 7, 9, 2)).reshape(-1)
    whole = np.empty(12 * 5 * 18)
    kernel.py(x, whole, geometry, 0, 12, *strides)
    # k-major: (K, output rows * OW); channels-last: (output rows * OW, K)
    whole = whole.reshape(18, 12 * 5) if k_major else whole.reshape(12 * 5, 18).T
    for first, stop in ((0, 12), (3, 7), (11, 12)):
        expected = whole[:, first * 5 : stop * 5]
        plain = np.full(18 * (stop - first) * 5, np.nan)
        kernel.py(x, plain, geometry, first, stop, *strides)
        compiled = np.full_like(plain, np.nan)
        _columns(x, compiled, geometry, first, stop, strides, k_major)
        for cols in (plain, compiled):
            got = cols.reshape(18, -1) if k_major else cols.reshape(-1, 18).T
            np.testing.assert_array_equal(got, expected)


@pytest.fixture
def fused_calls(monkeypatch, record_calls):
    monkeypatch.setattr(conv_impl, "_small_gemm", True)  # slices on any CPU
    return record_calls(conv_impl, "_conv_fused", "_grads_fused", "_weight_grad_fused")


def _stored(a, layout):
    if layout == "channels_last":
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(a)


SHARED = ["_conv_fused", "_grads_fused"]  # dx and dW from dy's columns
APART = ["_conv_fused", "_weight_grad_fused"]  # dW from x's columns, dx by col2im
FIRST = ["_conv_fused", "_weight_grad_fused"]  # a first layer: no dx


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["channels_last", "nchw"])
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs", "expected"),
    [
        ((6, 16, 16, 16), (16, 16, 3, 3), {"padding": 1}, SHARED),
        ((12, 8, 14, 13), (12, 8, 3, 3), {"padding": (2, 1), "dilation": 2}, SHARED),
        ((6, 6, 14, 14), (16, 6, 5, 5), {}, APART),  # LeNet's second convolution
        ((6, 16, 16, 16), (32, 16, 3, 3), {"stride": 2, "padding": 1}, APART),
        ((16, 1, 28, 28), (16, 1, 5, 5), {"padding": 2}, FIRST),  # a grey image (k-major)
        ((16, 1, 28, 28), (6, 1, 5, 5), {"padding": 2}, []),  # LeNet's first: too thin
        ((16, 3, 19, 17), (16, 3, 3, 3), {"stride": (2, 1), "padding": 1}, FIRST),
    ],
)
def test_fused_convolution_matches_torch(
    fused_calls, x_shape, w_shape, kwargs, expected, layout, dtype
):
    first = expected is FIRST or not expected
    if first and layout == "channels_last":
        pytest.skip("few channels: kernel-offset-major columns are read from an NCHW input")
    rng = np.random.default_rng(1)
    xa = _stored(rng.standard_normal(x_shape).astype(dtype), layout)
    wa = rng.standard_normal(w_shape).astype(dtype)
    tx = torch.tensor(np.ascontiguousarray(xa), requires_grad=not first)
    tw = torch.tensor(wa, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, **kwargs)
    ga = _stored(rng.standard_normal(tuple(ty.shape)).astype(dtype), layout)
    ty.backward(torch.tensor(np.ascontiguousarray(ga)))
    x = gs.tensor(xa, requires_grad=not first)
    w = gs.tensor(wa, requires_grad=True)
    y = F.conv2d(x, w, **kwargs)
    y.backward(gs.tensor(ga))
    assert fused_calls == expected
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}
    pairs = [(y, ty), (w.grad, tw.grad)] + ([] if first else [(x.grad, tx.grad)])
    for ours, theirs in pairs:
        assert ours.detach().numpy().dtype == dtype
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **tol)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_fused_on_threads_equals_the_blocks(fused_calls, monkeypatch, n_threads):
    """On one thread or two, the fused path gives the block-by-block path's numbers."""
    from gradschool.backend import threads

    rng = np.random.default_rng(2)
    xa = _stored(rng.standard_normal((9, 16, 12, 12)).astype(np.float32), "channels_last")
    wa = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    before = threads.get_num_threads()
    threads.set_num_threads(n_threads)
    try:
        results = []
        for fused in (True, False):
            if not fused:
                monkeypatch.setattr(conv_impl, "_fused_plan", lambda *a: 0)
            x, w = gs.tensor(xa, requires_grad=True), gs.tensor(wa, requires_grad=True)
            y = F.conv2d(x, w, padding=1)
            y.backward(gs.ones(*y.shape))
            results.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
        assert fused_calls[:2] == ["_conv_fused", "_grads_fused"]
        for a, b in zip(*results, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    finally:
        threads.set_num_threads(before)
