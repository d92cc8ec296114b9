"""Pooling, upsampling and padding layers against their torch.nn twins, the naive pooling
loops against the fast ops, PyTorch's edge cases (ceil mode, -inf and NaN windows, global
pooling), dtypes, and the errors a learner sees.

Values and gradients of the functional ops over drawn arguments are in
tests/parity/specs_nn_pooling.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF  # noqa: N812

import gradschool as gs
import gradschool.nn as nn
import gradschool.nn.functional as F
from gradschool.nn.functional.pooling import pool_geometry
from gradschool.testing import gradcheck_directional

torch.set_num_threads(1)


def tol(dtype):
    return {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-12}


def close(ours, theirs, dtype, what=""):
    a = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, err_msg=what, **tol(dtype))
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def distinct(shape, seed=0, dtype="float64"):
    """Values without ties (max pooling then has one winner per window)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.37).reshape(shape).astype(dtype)


# ---------------------------------------------------------------- modules vs torch.nn
LAYERS = [
    # (class name, constructor args, constructor kwargs, input shape)
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1}, (2, 3, 7, 8)),
    ("MaxPool2d", ((3, 2),), {"stride": (2, 1), "dilation": (1, 2), "ceil_mode": True}, (3, 7, 7)),
    ("MaxPool2d", (2,), {"return_indices": True, "ceil_mode": True}, (2, 2, 5, 5)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "return_indices": True}, (2, 3, 9)),
    ("MaxPool1d", (2,), {"dilation": 2}, (3, 8)),
    ("AvgPool2d", (2,), {}, (2, 3, 6, 6)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (2, 2, 7, 6)),
    ("AvgPool2d", ((3, 2),), {"ceil_mode": True, "divisor_override": 4}, (2, 2, 7, 5)),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 8)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 5, 7)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 4)),
    ("AdaptiveAvgPool2d", ((4, 3),), {}, (1, 2, 10, 7)),
    ("AdaptiveMaxPool2d", (1,), {"return_indices": True}, (2, 3, 6, 6)),
    ("AdaptiveMaxPool2d", ((3, 4),), {"return_indices": True}, (2, 2, 7, 9)),
    ("Upsample", (), {"scale_factor": 2}, (2, 3, 3, 4)),
    ("Upsample", (), {"size": (5, 7), "mode": "bilinear"}, (2, 3, 3, 4)),
    (
        "Upsample",
        (),
        {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True},
        (1, 2, 4, 4),
    ),
    ("Upsample", (), {"size": 7, "mode": "linear"}, (2, 3, 4)),
    ("Upsample", (), {"scale_factor": (0.5, 2.5), "mode": "nearest-exact"}, (2, 2, 5, 3)),
    ("UpsamplingNearest2d", (), {"scale_factor": 3}, (2, 2, 3, 3)),
    ("UpsamplingBilinear2d", (), {"size": (6, 5)}, (2, 2, 3, 4)),
    ("ZeroPad2d", (1,), {}, (2, 3, 4, 4)),
    ("ZeroPad2d", ((1, 2, 0, -1),), {}, (2, 3, 4, 4)),
    ("ConstantPad2d", ((2, 0, 1, 3), 1.5), {}, (3, 4, 4)),
    ("ConstantPad1d", (2, -1.0), {}, (2, 3, 4)),
    ("ZeroPad1d", ((0, 3),), {}, (2, 4)),
    ("ReflectionPad2d", (2,), {}, (2, 3, 4, 5)),
    ("ReflectionPad2d", ((1, 3, 2, 0),), {}, (3, 4, 5)),
    ("ReflectionPad1d", ((3, 1),), {}, (2, 3, 4)),
    ("ReplicationPad2d", ((1, 3, 2, 0),), {}, (2, 3, 4, 5)),
    ("ReplicationPad1d", (2,), {}, (3, 4)),
    ("CircularPad2d", (1,), {}, (2, 3, 4, 5)),
    ("CircularPad1d", ((2, 1),), {}, (2, 3, 4)),
]


def _layer_id(case):
    name, args, kwargs, _ = case
    return f"{name}{args}{''.join(f'-{k}={v}' for k, v in kwargs.items())}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", LAYERS, ids=[_layer_id(c) for c in LAYERS])
def test_module_matches_torch(case, dtype):
    name, args, kwargs, shape = case
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    assert list(ours.parameters()) == []
    x = distinct(shape, dtype=dtype)
    a, b = gs.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ra, rb = ours(a), theirs(b)
    if isinstance(rb, tuple):  # (values, indices)
        close(ra[1], rb[1], dtype, f"{name} indices")
        ra, rb = ra[0], rb[0]
    close(ra, rb, dtype, f"{name} output")
    g = np.random.default_rng(1).standard_normal(rb.shape).astype(dtype)
    ra.backward(gs.tensor(g))
    rb.backward(torch.tensor(g))
    close(a.grad, b.grad, dtype, f"{name} input gradient")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_unpool2d_inverts_max_pool2d_like_torch(dtype):
    x = distinct((2, 3, 6, 5), dtype=dtype)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    tpool, tunpool = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    assert repr(unpool) == repr(tunpool)
    a, b = gs.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (pa, ia), (pb, ib) = pool(a), tpool(b)
    ua = unpool(pa, ia, output_size=a.shape)
    ub = tunpool(pb, ib, output_size=b.shape)
    close(ua, ub, dtype, "unpooled")
    g = np.random.default_rng(2).standard_normal(ub.shape).astype(dtype)
    ua.backward(gs.tensor(g))
    ub.backward(torch.tensor(g))
    close(a.grad, b.grad, dtype, "gradient through pool and unpool")


# ---------------------------------------------------------------- naive loops vs fast ops
GEOMETRIES = [
    # kernel, stride, padding, dilation, ceil_mode, input (H, W)
    (2, None, 0, 1, False, (6, 6)),
    (2, None, 0, 1, False, (7, 5)),  # floor mode drops the ragged edge
    (3, 2, 1, 1, False, (7, 8)),
    (3, 2, 1, 1, True, (6, 6)),
    ((3, 2), (1, 2), (1, 0), (2, 1), True, (7, 6)),
    (2, 1, 1, 2, False, (5, 5)),
    (1, 2, 0, 1, True, (4, 5)),
    (6, 6, 0, 1, False, (6, 6)),  # a global pool (36 taps)
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("geo", GEOMETRIES, ids=str)
def test_naive_pooling_equals_fast(geo, dtype):
    k, s, p, d, ceil, hw = geo
    x = distinct((2, 3, *hw), seed=3, dtype=dtype)
    g = np.random.default_rng(4).standard_normal
    for fast, naive, extra in [
        (F.max_pool2d, F.max_pool2d_naive, {"dilation": d, "return_indices": True}),
        (F.avg_pool2d, F.avg_pool2d_naive, {"count_include_pad": True}),
        (F.avg_pool2d, F.avg_pool2d_naive, {"count_include_pad": False}),
        (F.avg_pool2d, F.avg_pool2d_naive, {"divisor_override": 3}),
    ]:
        a, b = gs.tensor(x, requires_grad=True), gs.tensor(x, requires_grad=True)
        ra = fast(a, k, s, p, ceil_mode=ceil, **extra)
        rb = naive(b, k, s, p, ceil_mode=ceil, **extra)
        if isinstance(ra, tuple):
            np.testing.assert_array_equal(ra[1].numpy(), rb[1].numpy())
            ra, rb = ra[0], rb[0]
        close(ra, rb, dtype, f"{naive.__name__} values")
        grad = gs.tensor(g(ra.shape).astype(dtype))
        ra.backward(grad)
        rb.backward(grad)
        close(a.grad, b.grad, dtype, f"{naive.__name__} gradient")


# ---------------------------------------------------------------- PyTorch's edge cases
def test_ceil_mode_output_size_rule():
    """The last window must start inside the input or its left padding (PyTorch's rule)."""
    for size, k, s, p in itertools.product(range(1, 9), range(1, 4), range(1, 4), range(2)):
        if p > k // 2 or size + 2 * p < k:
            continue
        x = torch.zeros(1, 1, size, size)
        want = TF.max_pool2d(x, k, s, p, ceil_mode=True).shape[-2:]
        geo = pool_geometry(np.zeros((1, 1, size, size)), 2, k, s, p, 1, True, "max_pool2d")
        assert (geo[0].out, geo[1].out) == tuple(want), (size, k, s, p)


def test_max_pool_of_minus_inf_points_inside_the_input():
    """A window of -inf picks its first element inside the input, never the padding."""
    x = np.full((1, 1, 3, 3), -np.inf)
    ours = F.max_pool2d(gs.tensor(x), 3, 1, 1, return_indices=True)
    theirs = TF.max_pool2d(torch.tensor(x), 3, 1, 1, return_indices=True)
    close(ours[0], theirs[0], "float64")
    close(ours[1], theirs[1], "float64", "indices")


def test_max_pool_propagates_nan():
    x = distinct((1, 2, 4, 4))
    x[0, 0, 1, 2] = np.nan
    ours, theirs = F.max_pool2d(gs.tensor(x), 2), TF.max_pool2d(torch.tensor(x), 2)
    np.testing.assert_array_equal(np.isnan(ours.numpy()), np.isnan(theirs.numpy()))
    assert np.isnan(ours.numpy()).sum() == 1


def test_max_pool_on_integers_like_torch():
    x = np.random.default_rng(5).integers(-50, 50, size=(2, 3, 5, 6))
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}):
        ours = F.max_pool2d(gs.tensor(x), **kwargs, return_indices=True)
        theirs = TF.max_pool2d(torch.tensor(x), **kwargs, return_indices=True)
        close(ours[0], theirs[0], "int64")
        close(ours[1], theirs[1], "int64", "indices")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_dtype_is_kept(dtype):
    x = gs.tensor(distinct((2, 2, 6, 6), dtype=dtype), requires_grad=True)
    outs = [
        F.max_pool2d(x, 3, 2, 1),
        F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        F.adaptive_avg_pool2d(x, (4, 5)),
        F.adaptive_max_pool2d(x, (4, 5)),
        F.interpolate(x, scale_factor=1.5, mode="bilinear"),
        F.interpolate(x, size=(3, 9)),
        F.pad(x, (1, 2, 3, 0), mode="reflect"),
        F.pad(x, (1, 2), value=3.0),
    ]
    for out in outs:
        assert out.dtype == x.dtype
        x.grad = None
        out.sum().backward()
        assert x.grad.dtype == x.dtype


def test_pooling_without_grad_keeps_no_graph():
    x = gs.tensor(distinct((2, 2, 4, 4)), requires_grad=True)
    with gs.no_grad():
        y = F.max_pool2d(x, 2)
    assert y.grad_fn is None and not y.requires_grad


# ---------------------------------------------------------------- bigger inputs
@pytest.mark.parametrize(
    "fn",
    [
        lambda t: F.max_pool2d(t, 3, 2, 1),
        lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda t: F.adaptive_max_pool2d(t, (5, 7)),
        lambda t: F.adaptive_avg_pool2d(t, (5, 7)),
        lambda t: F.interpolate(t, scale_factor=1.7, mode="bilinear"),
        lambda t: F.interpolate(t, size=(40, 9), mode="nearest"),
        lambda t: F.pad(t, (3, 1, 2, 4), mode="reflect"),
    ],
    ids=["max", "avg", "adaptive_max", "adaptive_avg", "bilinear", "nearest", "reflect"],
)
def test_directional_gradcheck_on_larger_inputs(fn):
    x = gs.tensor(distinct((4, 8, 24, 24), seed=6), requires_grad=True)
    assert gradcheck_directional(fn, (x,))


def test_global_max_pool_matches_torch():
    """Kernels with many taps take the one-put backward; still PyTorch's values and grads."""
    x = distinct((3, 4, 9, 8), seed=7)
    a, b = gs.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ra, ia), (rb, ib) = F.adaptive_max_pool2d(a, 1, True), TF.adaptive_max_pool2d(b, 1, True)
    close(ra, rb, "float64")
    close(ia, ib, "float64", "indices")
    ra.sum().backward()
    rb.sum().backward()
    close(a.grad, b.grad, "float64", "gradient")


@pytest.mark.parametrize(
    ("mode", "size"),
    [
        ("nearest", (17, 50)),
        ("nearest-exact", (50, 9)),
        ("bilinear", (17, 50)),
        ("bilinear", (50, 9)),
    ],
)
def test_interpolate_larger_sizes_match_torch(mode, size):
    """Irregular ratios scatter to many separate targets (the backward's gather path)."""
    x = distinct((2, 3, 37, 23), seed=8)
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    a, b = gs.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ra = F.interpolate(a, size=size, mode=mode, **kwargs)
    rb = TF.interpolate(b, size=size, mode=mode, **kwargs)
    close(ra, rb, "float64")
    g = np.random.default_rng(9).standard_normal(rb.shape)
    ra.backward(gs.tensor(g))
    rb.backward(torch.tensor(g))
    close(a.grad, b.grad, "float64", "gradient")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_modes_larger_inputs_match_torch(mode):
    x = distinct((2, 3, 9, 11), seed=10)
    pads = (4, 2, 3, 5) if mode != "circular" else (4, 2, -3, 5)
    a, b = gs.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ra, rb = F.pad(a, pads, mode=mode), TF.pad(b, pads, mode=mode)
    close(ra, rb, "float64")
    g = np.random.default_rng(11).standard_normal(rb.shape)
    ra.backward(gs.tensor(g))
    rb.backward(torch.tensor(g))
    close(a.grad, b.grad, "float64", "gradient")


# ---------------------------------------------------------------- errors a learner understands
X4 = gs.zeros(1, 2, 5, 5)

ERRORS = [
    (
        lambda: F.max_pool2d(X4, 2, stride=0),
        ValueError,
        "max_pool2d: stride must be positive, got 0",
    ),
    (
        lambda: F.max_pool2d(X4, 6),
        ValueError,
        "max_pool2d: kernel size (6, 6) is larger than the padded input (5, 5)",
    ),
    (
        lambda: F.max_pool2d(X4, 2, padding=2),
        ValueError,
        "max_pool2d: padding (2, 2) must be at most half of kernel_size (2, 2)",
    ),
    (
        lambda: F.max_pool2d(X4, 0),
        ValueError,
        "max_pool2d: kernel_size must be positive, got 0",
    ),
    (lambda: F.max_pool2d(X4, 2, dilation=0), ValueError, "dilation must be positive"),
    (lambda: F.max_pool2d(X4, 2.5), TypeError, "max_pool2d: kernel_size must be an int"),
    (lambda: F.max_pool2d(X4, (2, 2, 2)), TypeError, "max_pool2d: kernel_size must be"),
    (
        lambda: F.max_pool2d(gs.zeros(5, 5), 2),
        ValueError,
        "max_pool2d: expected a 3D (C, H, W) or 4D (N, C, H, W) input, got shape (5, 5)",
    ),
    (lambda: F.max_pool2d(gs.zeros(1, 0, 4, 4), 2), ValueError, "non-empty"),
    (lambda: F.max_pool1d(gs.zeros(1, 2, 5), 2, stride=0), ValueError, "max_pool1d: stride"),
    (
        lambda: F.max_pool1d(gs.zeros(1, 2, 5), 7),
        ValueError,
        "max_pool1d: kernel size 7 is larger than the padded input 5",
    ),
    (
        lambda: F.max_pool1d(X4, 2),
        ValueError,
        "max_pool1d: expected a 2D (C, L) or 3D (N, C, L) input",
    ),
    (lambda: F.avg_pool2d(X4, 2, stride=0), ValueError, "avg_pool2d: stride must be positive"),
    (lambda: F.avg_pool2d(X4, 3, padding=2), ValueError, "avg_pool2d: padding (2, 2)"),
    (lambda: F.avg_pool2d(X4, 2, divisor_override=0), ValueError, "divisor_override"),
    (lambda: F.avg_pool2d(gs.zeros(1, 1, 4, 4, dtype=gs.int64), 2), TypeError, "floating"),
    (lambda: F.avg_pool1d(gs.zeros(2, 3), 4), ValueError, "avg_pool1d: kernel size 4"),
    (lambda: F.adaptive_avg_pool2d(X4, (2, 3, 4)), ValueError, "adaptive_avg_pool2d: output_size"),
    (lambda: F.adaptive_avg_pool2d(X4, -1), ValueError, "non-negative"),
    (lambda: F.adaptive_max_pool2d(X4, 0), ValueError, "adaptive_max_pool2d"),
    (
        lambda: F.max_unpool2d(X4, gs.zeros(1, 2, 5, 5, dtype=gs.int64) + 300, 2),
        ValueError,
        "max_unpool2d: found an invalid max index 300",
    ),
    (
        lambda: F.max_unpool2d(X4, gs.zeros(1, 2, 5, 4, dtype=gs.int64), 2),
        ValueError,
        "max_unpool2d: indices must have the shape of the input",
    ),
    (lambda: F.max_unpool2d(X4, gs.zeros(1, 2, 5, 5), 2), TypeError, "max_unpool2d: indices"),
    (
        lambda: F.max_unpool2d(X4, gs.zeros(1, 2, 5, 5, dtype=gs.int64), 2, output_size=(12, 12)),
        ValueError,
        "strictly between 8 and 12",
    ),
    (lambda: F.interpolate(X4), ValueError, "interpolate: give exactly one of size and scale"),
    (lambda: F.interpolate(X4, 3, 2.0), ValueError, "exactly one"),
    (lambda: F.interpolate(X4, size=(3,)), ValueError, "one entry per spatial dim"),
    (lambda: F.interpolate(X4, size=0), ValueError, "must be positive"),
    (lambda: F.interpolate(X4, scale_factor=2, mode="bicubic"), ValueError, "mode must be"),
    (
        lambda: F.interpolate(X4, scale_factor=2, align_corners=True),
        ValueError,
        "align_corners can only be set",
    ),
    (lambda: F.interpolate(X4, size=3, mode="linear"), ValueError, "expects a 3D input"),
    (lambda: F.interpolate(gs.zeros(2, 3), scale_factor=2), ValueError, "3D or 4D"),
    (lambda: F.pad(X4, (1, 1, 1)), ValueError, "pad: the padding length must be even"),
    (lambda: F.pad(X4, (1, 1) * 5), ValueError, "pads 5 dims, but the input has only 4"),
    (lambda: F.pad(X4, (1, 1), mode="foo"), ValueError, "pad: mode must be one of"),
    (lambda: F.pad(X4, (5, 1, 0, 0), mode="reflect"), ValueError, "smaller than its size 5"),
    (lambda: F.pad(X4, (1, 1), mode="reflect"), ValueError, "got a 4D input"),
    (lambda: F.pad(X4, (1, 1, 1, 1), mode="replicate", value=2.0), ValueError, "takes no value"),
    (lambda: F.pad(X4, (6, 1, 0, 0), mode="circular"), ValueError, "wrap around"),
    (lambda: F.pad(X4, (-3, -3)), ValueError, "crops too much"),
    (lambda: F.pad(X4, [1.5, 1]), TypeError, "pad: pad must be a tuple of ints"),
    (
        lambda: nn.MaxPool2d(2, stride=0)(X4),
        ValueError,
        "max_pool2d: stride must be positive, got 0",
    ),
    (lambda: nn.AvgPool2d(7)(X4), ValueError, "avg_pool2d: kernel size (7, 7) is larger"),
    (lambda: nn.ReflectionPad2d(5)(X4), ValueError, "reflect padding (5, 5)"),
    (lambda: nn.Upsample(scale_factor=2, mode="linear")(X4), ValueError, "expects a 3D input"),
]


@pytest.mark.parametrize(("call", "error", "message"), ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors_name_the_op_and_the_values(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
