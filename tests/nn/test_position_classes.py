"""Zero skipping (``_position_classes.py`` and the class-by-class convolution in
``conv.py``): the classes cover every output once and skip only taps that read padding, and
a convolution computed class by class equals PyTorch's, forward and backward."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn.functional as F
from gradschool.backend import jit
from gradschool.nn.functional import conv as conv_impl
from gradschool.nn.functional._position_classes import multiply_adds, position_classes

GEOMETRIES = [
    # (H, W), (KH, KW), (top, left) padding, (bottom, right) padding
    ((8, 8), (3, 3), (1, 1), (1, 1)),
    ((4, 4), (3, 3), (1, 1), (1, 1)),
    ((2, 2), (3, 3), (1, 1), (1, 1)),
    ((7, 5), (5, 3), (2, 1), (2, 1)),
    ((6, 9), (2, 4), (1, 3), (0, 0)),  # even kernels, uneven padding ("same")
    ((5, 5), (3, 3), (2, 2), (2, 2)),  # a full convolution: every border class
    ((3, 6), (1, 3), (0, 1), (0, 1)),
]


@pytest.mark.parametrize(("hw", "kernel", "before", "after"), GEOMETRIES)
def test_classes_cover_each_output_once_and_skip_only_padding(hw, kernel, before, after):
    (h, w), (kh, kw) = hw, kernel
    oh, ow = h + before[0] + after[0] - kh + 1, w + before[1] + after[1] - kw + 1
    classes = position_classes(hw, kernel, before, (oh, ow))
    seen = np.zeros((oh, ow), int)
    taps_read = 0
    for cls in classes:
        seen[slice(*cls.rows), slice(*cls.cols)] += 1
        for oy in range(*cls.rows):
            for ox in range(*cls.cols):
                for i in range(kh):
                    for j in range(kw):
                        inside = 0 <= oy + i - before[0] < h and 0 <= ox + j - before[1] < w
                        in_class = cls.taps_h[0] <= i < cls.taps_h[1]
                        in_class = in_class and cls.taps_w[0] <= j < cls.taps_w[1]
                        assert in_class or not inside, (cls, oy, ox, i, j)
                        taps_read += in_class
    assert (seen == 1).all()
    assert multiply_adds(classes) == taps_read <= oh * ow * kh * kw


def test_the_classes_of_a_padded_3x3():
    classes = position_classes((8, 8), (3, 3), (1, 1), (8, 8))
    assert [(c.rows, c.cols, c.taps_h, c.taps_w) for c in classes] == [
        ((0, 1), (0, 8), (1, 3), (0, 3)),  # top row: kernel rows 1-2
        ((1, 7), (0, 1), (0, 3), (1, 3)),  # left column
        ((1, 7), (1, 7), (0, 3), (0, 3)),  # middle: every tap
        ((1, 7), (7, 8), (0, 3), (0, 2)),  # right column
        ((7, 8), (0, 8), (0, 2), (0, 3)),  # bottom row
    ]
    assert multiply_adds(classes) == 2 * 8 * 6 + 6 * 6 * 9 + 2 * 6 * 6  # 492 of 576


@pytest.fixture
def classes_everywhere(monkeypatch, record_calls):
    """Take the class-by-class path wherever it applies, however little it skips, and count
    its calls."""
    monkeypatch.setattr(conv_impl, "_SKIP_AT_LEAST", 0.0)
    monkeypatch.setattr(conv_impl, "_CLASS_CHANNELS", 1)
    monkeypatch.setattr(conv_impl, "_CLASS_BLOCK_BYTES", 1 << 12)  # several blocks a batch
    return record_calls(conv_impl, "_conv_by_class", "_grads_by_class")


def _stored(a, layout):
    if layout == "channels_last":
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(a)


@pytest.mark.skipif(not jit.enabled(), reason="GRADSCHOOL_JIT=0: the class path needs the kernels")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["channels_last", "nchw"])
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "padding", "bias"),
    [
        ((3, 16, 8, 8), (24, 16, 3, 3), 1, False),
        ((2, 16, 4, 4), (8, 16, 3, 3), 1, True),
        ((4, 8, 7, 5), (6, 8, 5, 3), (2, 1), True),
        ((2, 16, 6, 9), (5, 16, 2, 4), "same", False),  # even kernel: uneven padding
        ((1, 16, 2, 2), (16, 16, 3, 3), 1, False),  # every output on the border
    ],
)
def test_convolution_by_class_matches_torch(
    classes_everywhere, x_shape, w_shape, padding, bias, layout, dtype
):
    rng = np.random.default_rng(0)
    xa = _stored(rng.standard_normal(x_shape).astype(dtype), layout)
    wa = rng.standard_normal(w_shape).astype(dtype)
    ba = rng.standard_normal(w_shape[0]).astype(dtype) if bias else None
    tx = torch.tensor(np.ascontiguousarray(xa), requires_grad=True)
    tw = torch.tensor(wa, requires_grad=True)
    tb = torch.tensor(ba, requires_grad=True) if bias else None
    ty = torch.nn.functional.conv2d(tx, tw, tb, padding=padding)
    ga = _stored(rng.standard_normal(tuple(ty.shape)).astype(dtype), layout)
    ty.backward(torch.tensor(np.ascontiguousarray(ga)))
    x, w = gs.tensor(xa, requires_grad=True), gs.tensor(wa, requires_grad=True)
    b = gs.tensor(ba, requires_grad=True) if bias else None
    y = F.conv2d(x, w, b, padding=padding)
    y.backward(gs.tensor(ga))
    assert classes_everywhere == ["_conv_by_class", "_grads_by_class"]
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}
    pairs = [(y, ty), (x.grad, tx.grad), (w.grad, tw.grad)] + ([(b.grad, tb.grad)] if bias else [])
    for ours, theirs in pairs:
        assert ours.detach().numpy().dtype == dtype
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **tol)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_class_path_on_threads_and_without_kernels(classes_everywhere, n_threads):
    """On one or two threads the class path gives the plain path's results; with the
    kernels off (or strided convolutions) it is not taken."""
    from gradschool.backend import threads

    rng = np.random.default_rng(1)
    xa = rng.standard_normal((6, 16, 8, 8)).astype(np.float32)
    wa = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    before = threads.get_num_threads()
    threads.set_num_threads(n_threads)
    try:
        results = {}
        for compiled in (True, False):
            classes_everywhere.clear()
            x, w = gs.tensor(xa, requires_grad=True), gs.tensor(wa, requires_grad=True)
            with contextlib.nullcontext() if compiled else jit.disabled():
                F.conv2d(x, w, padding=1).sum().backward()
                F.conv2d(gs.tensor(xa), w.detach(), stride=2, padding=1)
            assert bool(classes_everywhere) == (compiled and jit.enabled())
            results[compiled] = (x.grad.numpy(), w.grad.numpy())
        for a, b in zip(results[True], results[False], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    finally:
        threads.set_num_threads(before)


def test_classes_are_left_out_where_they_do_not_pay():
    """Not taken for ResNet-20's 64-channel last stage (products too small to cut up), for
    32x32 outputs (6% skipped), nor for a strided convolution."""
    x = np.empty((2, 64, 8, 8), np.float32).transpose(0, 2, 3, 1).transpose(0, 3, 1, 2)
    plan = conv_impl._class_plan
    assert plan(x, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (8, 8), 1, 64) is None
    big = np.empty((2, 128, 8, 8), np.float32)
    if jit.enabled():
        assert plan(big, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (8, 8), 1, 256) is not None
    wide = np.empty((2, 128, 32, 32), np.float32)
    assert plan(wide, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (32, 32), 1, 256) is None
    assert plan(big, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (4, 4), 1, 256) is None
