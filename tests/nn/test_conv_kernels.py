"""The compiled im2col / col2im (``_conv_kernels.py``) against the NumPy path and PyTorch.

The kernels take channels-last inputs (a convolution's output feeding the next one), so the
inputs here are stored channels-last; every case runs with the kernels on and off
(``jit.disabled()``) and against ``torch.nn.functional``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn.functional as F
from gradschool.backend import jit
from gradschool.nn.functional import _conv_kernels as kernels

pytestmark = pytest.mark.skipif(not jit.available(), reason="needs numba")
torch.set_num_threads(1)

TOL = {np.float32: {"rtol": 1e-4, "atol": 1e-4}, np.float64: {"rtol": 1e-10, "atol": 1e-10}}

CASES = [
    # (x shape, w shape, conv2d kwargs)
    ((2, 16, 9, 9), (8, 16, 3, 3), {"padding": 1}),
    ((3, 6, 14, 14), (16, 6, 5, 5), {}),  # LeNet's second convolution
    ((2, 16, 10, 11), (32, 16, 3, 3), {"stride": 2, "padding": 1}),
    ((2, 8, 9, 9), (5, 8, 3, 3), {"stride": 2, "padding": 2, "dilation": 2}),
    ((2, 16, 8, 8), (16, 16, 1, 1), {"stride": 2}),  # option-B shortcut
    ((1, 7, 6, 5), (3, 7, (2, 3)), {"stride": (2, 1), "padding": (1, 2)}),
    ((5, 16, 4, 4), (4, 16, 3, 3), {"padding": 1}),  # more samples than a block needs
    # few channels: the k-major columns (im2col_k_major, from an NCHW input)
    ((3, 1, 28, 28), (6, 1, 5, 5), {"padding": 2}),  # LeNet's first convolution
    ((2, 3, 11, 10), (4, 3, 3, 3), {"padding": 1}),  # an RGB image
    ((2, 3, 13, 12), (4, 3, 3, 3), {"stride": 2, "padding": (2, 3)}),  # wider than the kernel
    ((2, 2, 14, 13), (3, 2, 3, 2), {"stride": (1, 3), "padding": (1, 4), "dilation": 2}),
]


def _channels_last(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _run(x: np.ndarray, w: np.ndarray, dy: np.ndarray, kwargs: dict):
    xt, wt = gs.tensor(x, requires_grad=True), gs.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, **kwargs)
    y.backward(gs.tensor(dy))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


@pytest.mark.parametrize("layout", ["channels_last", "nchw"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), CASES)
def test_compiled_path_matches_numpy_and_torch(x_shape, w_shape, kwargs, dtype, layout):
    # "nchw": a user's tensor and gradient, copied channels-last for the kernels
    rng = np.random.default_rng(0)
    if len(w_shape) == 3:
        w_shape = (*w_shape[:2], *w_shape[2])
    store = _channels_last if layout == "channels_last" else np.ascontiguousarray
    x = store(rng.standard_normal(x_shape).astype(dtype))
    w = rng.standard_normal(w_shape).astype(dtype)
    ty = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kwargs)
    dy = store(rng.standard_normal(tuple(ty.shape)).astype(dtype))
    compiled = _run(x, w, dy, kwargs)
    with jit.disabled():
        plain = _run(x, w, dy, kwargs)
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    torch.nn.functional.conv2d(tx, tw, **kwargs).backward(torch.from_numpy(dy))
    theirs = (ty.detach().numpy(), tx.grad.numpy(), tw.grad.numpy())
    for name, a, b, c in zip(("y", "dx", "dw"), compiled, plain, theirs, strict=True):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, err_msg=name, **TOL[dtype])
        np.testing.assert_allclose(a, c, err_msg=name, **TOL[dtype])
    assert compiled[0].transpose(0, 2, 3, 1).flags.c_contiguous  # output stays channels-last


@pytest.mark.skipif(not jit.enabled(), reason="GRADSCHOOL_JIT=0: the kernels are off")
def test_the_kernels_are_the_ones_running(record_calls):
    conv = __import__("gradschool.nn.functional.conv", fromlist=["conv"])
    calls = record_calls(conv, "im2col_cl", "col2im_cl", "im2col_k_major")
    x, w, dy = (np.ones(s, np.float32) for s in ((2, 16, 8, 8), (16, 16, 3, 3), (2, 16, 4, 4)))
    rgb, w3 = np.ones((2, 3, 32, 32), np.float32), np.ones((16, 3, 3, 3), np.float32)
    dy3 = np.ones((2, 16, 16, 16), np.float32)
    _run(_channels_last(x), w, _channels_last(dy), {"stride": 2, "padding": 1})
    assert "im2col_cl" in calls and "col2im_cl" in calls
    _run(rgb, w3, dy3, {"stride": 2, "padding": 1})
    assert "im2col_k_major" in calls
    calls.clear()
    with jit.disabled():
        _run(_channels_last(x), w, _channels_last(dy), {"stride": 2, "padding": 1})
        _run(rgb, w3, dy3, {"stride": 2, "padding": 1})
    assert calls == []


def test_uncompiled_loops_read_as_the_reference():
    # the kernels' Python source, run as plain Python, against the strided view they replace
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 6, 3))  # (N, H, W, C)
    cols = np.empty((2, 3, 3, 3, 3, 3))  # (B, OH, OW, KH, KW, C): stride 2, pad 1
    geometry = np.array((2, 3, 3, 3, 3, 3, 5, 6))  # B, OH, OW, KH, KW, C, H, W
    kernels.im2col_cl.py(x.reshape(-1), cols.reshape(-1), geometry, 0, 6, 2, 2, 1, 1, 1, 1)
    xpad = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    for oy in range(3):
        for ox in range(3):
            np.testing.assert_array_equal(
                cols[:, oy, ox], xpad[:, 2 * oy : 2 * oy + 3, 2 * ox : 2 * ox + 3]
            )
    xn = np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # (N, C, H, W)
    k_major = np.empty((3, 3, 3, 2, 3, 3))  # (KH, KW, C, B, OH, OW)
    kernels.im2col_k_major.py(xn.reshape(-1), k_major.reshape(-1), geometry, 0, 6, 2, 2, 1, 1, 1, 1)
    np.testing.assert_array_equal(k_major, cols.transpose(3, 4, 5, 0, 1, 2))
    dx = np.empty_like(x)
    kernels.col2im_cl.py(cols.reshape(-1), dx.reshape(-1), geometry, 2, 2, 1, 1, 1, 1)
    counts = np.zeros((7, 8))
    for oy in range(3):
        for ox in range(3):
            counts[2 * oy : 2 * oy + 3, 2 * ox : 2 * ox + 3] += 1
    # each pixel gets its value once per window that read it
    np.testing.assert_allclose(dx, x * counts[1:-1, 1:-1, None])


def test_groups_and_nchw_inputs_take_the_numpy_path():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    ours = F.conv2d(gs.tensor(_channels_last(x)), gs.tensor(w), groups=2, padding=1)
    theirs = torch.nn.functional.conv2d(
        torch.from_numpy(x), torch.from_numpy(w), groups=2, padding=1
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-5)
