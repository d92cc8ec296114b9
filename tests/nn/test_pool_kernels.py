"""The compiled max pooling (``_pool_kernels.py``) against PyTorch and the NumPy path, on
channels-last inputs (a convolution's output), the layout the kernels take."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn.functional as F
from gradschool.backend import jit
from gradschool.nn.functional import _pool_kernels as kernels

pytestmark = pytest.mark.skipif(not jit.available(), reason="needs numba")
torch.set_num_threads(1)

CASES = [
    # (input shape, kernel_size, stride, padding, dilation, ceil_mode)
    ((2, 8, 8, 8), 2, 2, 0, 1, False),
    ((2, 3, 8, 8), 2, 2, 0, 1, False),  # under 8 channels: the 2x2 loops, both ways
    ((2, 6, 9, 9), 2, 2, 0, 1, False),  # an odd size: the 2x2 forward, the general backward
    ((2, 9, 9, 7), 3, 2, 1, 1, True),  # overlapping, padded, ceil mode
    ((1, 8, 6, 6), 3, 1, 1, 2, False),  # dilated
    ((2, 10, 7, 7), 2, None, 0, 1, True),
    ((3, 16, 10, 10), 2, 2, 0, 1, False),  # LeNet's second pooling
    ((1, 12, 5, 5), 3, 3, 1, 1, True),
    ((2, 8, 6, 9), (2, 3), (1, 2), (1, 0), 1, False),
]


def _channels_last(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _pool(x: np.ndarray, dy: np.ndarray, args: tuple):
    xt = gs.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(xt, *args, return_indices=True)
    y.backward(gs.tensor(dy))
    return y.detach().numpy(), idx.numpy(), xt.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_matches_torch_and_the_numpy_path(case, dtype):
    shape, *args = case
    rng = np.random.default_rng(0)
    x = _channels_last(rng.standard_normal(shape).astype(dtype))
    x[0, 1, 2, :3] = 5.0  # a tie: the first maximum wins
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ty, ti = torch.nn.functional.max_pool2d(tx, *args, return_indices=True)
    dy = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.from_numpy(dy))
    compiled = _pool(x, dy, tuple(args))
    with jit.disabled():
        plain = _pool(x, dy, tuple(args))
    for ours in (compiled, plain):
        np.testing.assert_array_equal(ours[0], ty.detach().numpy())
        np.testing.assert_array_equal(ours[1], ti.numpy())
        np.testing.assert_allclose(ours[2], tx.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.skipif(not jit.enabled(), reason="the NumPy path picks another NaN's index")
@pytest.mark.parametrize(("channels", "dtype"), [(8, np.float32), (3, np.float64)])
def test_a_nan_wins_its_window_as_in_pytorch(channels, dtype):
    # the kernels follow PyTorch's NaN rule exactly; the NumPy fallback gives the same
    # values but may point a NaN window's index (and gradient) at another of its NaNs.
    # 3 channels: the 2x2 loops both ways; 8: the 2x2 forward, the general backward
    x = np.arange(2 * channels * 6 * 6, dtype=dtype).reshape(2, channels, 6, 6)
    x = _channels_last(x)
    x[0, 0, 1, 1] = np.nan
    x[1, 2, 0, 0] = np.nan
    x[1, 2, 1, 1] = np.nan  # two NaNs in one window: the later one's index
    x[1, 1, 2, 2] = x[1, 1, 3, 3] = 1e9  # a tie: the first one's
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ty, ti = torch.nn.functional.max_pool2d(tx, 2, return_indices=True)
    ty.sum().backward()
    y, idx, gx = _pool(x, np.ones(tuple(ty.shape), dtype), (2,))
    np.testing.assert_array_equal(y, ty.detach().numpy())
    np.testing.assert_array_equal(idx, ti.numpy())
    np.testing.assert_array_equal(gx, tx.grad.numpy())


@pytest.mark.skipif(not jit.enabled(), reason="GRADSCHOOL_JIT=0: the kernels are off")
def test_the_kernels_run_on_channels_last_float_input(monkeypatch):
    pooling = __import__("gradschool.nn.functional.pooling", fromlist=["pooling"])
    calls = []
    names = ("max_pool2d_cl", "max_pool2d_backward_cl", "max_pool2x2_cl", "max_pool2x2_backward_cl")
    for name in names:
        real = getattr(pooling, name)
        monkeypatch.setattr(pooling, name, lambda *a, _r=real, _n=name: calls.append(_n) or _r(*a))
    x = _channels_last(np.ones((2, 8, 6, 6), np.float32))
    _pool(x, np.ones((2, 8, 2, 2), np.float32), (3,))
    assert calls == ["max_pool2d_cl", "max_pool2d_backward_cl"]
    calls.clear()
    x = _channels_last(np.ones((2, 8, 4, 4), np.float32))
    _pool(x, np.ones((2, 8, 2, 2), np.float32), (2,))
    assert calls == ["max_pool2x2_cl", "max_pool2d_backward_cl"]  # many channels: see kernels
    calls.clear()
    x = _channels_last(np.ones((2, 6, 4, 4), np.float32))
    _pool(x, np.ones((2, 6, 2, 2), np.float32), (2,))
    assert calls == ["max_pool2x2_cl", "max_pool2x2_backward_cl"]
    calls.clear()
    _pool(np.ones((2, 8, 4, 4), np.float32), np.ones((2, 8, 2, 2), np.float32), (2,))  # NCHW
    assert calls == []


def test_uncompiled_loops_read_as_the_reference():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 6, 3))  # (N, H, W, C)
    out = np.empty((2, 3, 3, 3))
    code = np.empty(out.shape, np.uint8)
    shape = np.array((2, 5, 6, 3, 3, 3))  # N, H, W, C, OH, OW
    args = (2, 2, 2, 2, 1, 0, 1, 1)  # 2x2, stride 2, padding (1, 0)
    kernels.max_pool2d_cl.py(x.reshape(-1), out.reshape(-1), code.reshape(-1), shape, *args)
    xpad = np.pad(x, ((0, 0), (1, 1), (0, 0), (0, 0)), constant_values=-np.inf)
    for oy in range(3):
        for ox in range(3):
            window = xpad[:, 2 * oy : 2 * oy + 2, 2 * ox : 2 * ox + 2].reshape(2, 4, 3)
            np.testing.assert_array_equal(out[:, oy, ox], window.max(axis=1))
            np.testing.assert_array_equal(code[:, oy, ox], window.argmax(axis=1))
    gx = np.empty_like(x)
    ones = np.ones(out.size)
    kernels.max_pool2d_backward_cl.py(ones, code.reshape(-1), gx.reshape(-1), shape, *args, False)
    assert gx.sum() == out.size  # every window's gradient lands on exactly one pixel
