"""The compiled batch-norm and ReLU loops (``_norm_kernels.py``, ``ops/_relu_kernel.py``)
against the NumPy path they replace (``jit.disabled()``) and against PyTorch: values, input
and parameter gradients, running statistics, output layout, for every memory layout the
kernels take and the ones they leave to NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn.functional as F
from gradschool.backend import jit
from gradschool.nn.functional import _norm_kernels as nk
from gradschool.ops import _relu_kernel as rk

torch.set_num_threads(1)

# the kernel tests skip without numba and under GRADSCHOOL_JIT=0 (nothing to compare then)
needs_numba = pytest.mark.skipif(
    not jit.enabled(), reason="numba is not installed or GRADSCHOOL_JIT=0"
)

DTYPES = {"float32": np.float32, "float64": np.float64}


@pytest.fixture(autouse=True)
def kernels_for_small_inputs(monkeypatch):
    """Small test inputs take the kernels too (batch_norm leaves inputs under
    ``MIN_SIZE`` values to NumPy; the size-threshold test puts it back)."""
    monkeypatch.setattr(nk, "MIN_SIZE", 0)


def tol(dtype: str) -> dict[str, float]:
    if dtype == "float32":
        return {"rtol": 1e-4, "atol": 1e-5}
    return {"rtol": 1e-9, "atol": 1e-11}


def arrange(a: np.ndarray, lay: str) -> np.ndarray:
    """``a`` stored channels-last (``"cl"``) or C-contiguous (``"c"``), same values."""
    if lay == "c":
        return np.ascontiguousarray(a)
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


def is_channels_last(a: np.ndarray) -> bool:
    return np.moveaxis(a, 1, -1).flags.c_contiguous


def run_ours(x, g, weight, bias, training, momentum=0.1, eps=1e-5):
    """One forward + backward of F.batch_norm: output, grads, running stats, grad_fn."""
    c = x.shape[1]
    xt = gs.tensor(x, requires_grad=True)
    w = None if weight is None else gs.tensor(weight, requires_grad=True)
    b = None if bias is None else gs.tensor(bias, requires_grad=True)
    rng = np.random.default_rng(5)
    rm = gs.tensor(rng.standard_normal(c).astype(x.dtype))
    rv = gs.tensor(rng.random(c).astype(x.dtype) + 0.5)
    y = F.batch_norm(xt, rm, rv, w, b, training=training, momentum=momentum, eps=eps)
    y.backward(gs.tensor(g))
    grads = [xt.grad, None if w is None else w.grad, None if b is None else b.grad]
    return y, [None if t is None else t.data for t in grads], (rm.data, rv.data)


def run_torch(x, g, weight, bias, training, momentum=0.1, eps=1e-5, dtype=None):
    c = x.shape[1]
    dt = torch.float64 if dtype == "float64" else None

    def t(a, grad=False):
        if a is None:
            return None
        out = torch.tensor(np.ascontiguousarray(a), dtype=dt)
        return out.requires_grad_(grad)

    xt, w, b = t(x, True), t(weight, True), t(bias, True)
    rng = np.random.default_rng(5)
    rm = t(rng.standard_normal(c).astype(x.dtype))
    rv = t(rng.random(c).astype(x.dtype) + 0.5)
    y = torch.nn.functional.batch_norm(
        xt, rm, rv, w, b, training=training, momentum=momentum, eps=eps
    )
    y.backward(t(g))
    grads = [xt.grad, None if w is None else w.grad, None if b is None else b.grad]
    return y.detach().numpy(), [None if a is None else a.numpy() for a in grads], (rm, rv)


def assert_close(a, b, dtype, what):
    assert (a is None) == (b is None), what
    if a is not None:
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), err_msg=what, **tol(dtype))


def inputs(shape, lay, dtype, affine, offset=0.0, seed=0):
    rng = np.random.default_rng(seed)
    dt = DTYPES[dtype]
    x = arrange((rng.standard_normal(shape) * 2 + offset).astype(dt), lay)
    g = arrange(rng.standard_normal(shape).astype(dt), lay)
    c = shape[1]
    w = (rng.standard_normal(c) + 1).astype(dt) if affine else None
    b = rng.standard_normal(c).astype(dt) if affine else None
    return x, g, w, b


# the kernels' layouts: (shape, storage, which loop)
CASES = [
    ((4, 16, 5, 6), "cl", "cl"),  # a conv output: channels-last 4-D
    ((4, 16, 5, 6), "c", "rows"),  # C-contiguous NCHW
    ((8, 5), "c", "cl"),  # BatchNorm1d on (N, C)
    ((4, 3, 70), "c", "rows"),  # (N, C, L): 64 lanes and a tail
    ((3, 5, 7), "cl", "cl"),  # (N, C, L) channels-last
    ((3, 1, 4, 4), "c", "rows"),  # C = 1
    ((3, 1, 4, 4), "cl", "rows"),  # C = 1: channels-last is also C-contiguous
    ((1, 3, 5, 5), "c", "rows"),  # N = 1 with spatial positions
    ((1, 3, 5, 5), "cl", "cl"),
    ((5, 7, 3, 11), "cl", "cl"),  # odd sizes: 7 channels in 70-value lanes
    ((3, 7, 1, 1), "c", "cl"),  # one position per sample: an (N, C) matrix
    ((8, 24, 12, 12), "cl", "cl"),  # several blocks, the last one partial
    ((3000, 7), "c", "cl"),
]


@needs_numba
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "lay", "kind"), CASES)
def test_batch_norm_kernels_match_numpy_and_torch(shape, lay, kind, dtype, affine):
    x, g, w, b = inputs(shape, lay, dtype, affine)
    assert nk.layout(x)[0] == kind
    y, grads, stats = run_ours(x, g, w, b, training=True)
    assert y.grad_fn.compiled, "the compiled path should have run"
    assert y.data.dtype == x.dtype and all(a is None or a.dtype == x.dtype for a in grads)
    # the output and the input gradient keep the input's layout
    assert is_channels_last(y.data) == is_channels_last(x)
    assert y.data.flags.c_contiguous == x.flags.c_contiguous
    with jit.disabled():
        y0, grads0, stats0 = run_ours(x, g, w, b, training=True)
    assert not y0.grad_fn.compiled
    yt, gradst, statst = run_torch(x, g, w, b, training=True, dtype=dtype)
    for name, ours, numpy_path, theirs in zip(
        ["output", "grad x", "grad weight", "grad bias", "running_mean", "running_var"],
        [y.data, *grads, *stats],
        [y0.data, *grads0, *stats0],
        [yt, *gradst, *statst],
        strict=True,
    ):
        assert_close(ours, numpy_path, dtype, f"{name} vs NumPy path")
        assert_close(ours, theirs, dtype, f"{name} vs torch")


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("shape", "lay"), [((6, 4, 9, 9), "cl"), ((6, 4, 9, 9), "c"), ((40, 4), "c")]
)
def test_batch_norm_kernels_exact_when_mean_is_large(shape, lay, dtype):
    """data = 1000 + noise: the statistics are a two-pass computation in float64, so the
    output matches float64 PyTorch to the input dtype's precision (E[x^2] - E[x]^2 in
    float32 would lose every digit of the variance)."""
    x, g, w, b = inputs(shape, lay, dtype, True, offset=1000.0)
    x = arrange((x - 1000) * 0.01 + 1000, lay)  # std 0.02 around 1000
    y, grads, stats = run_ours(x, g, w, b, training=True)
    assert y.grad_fn.compiled
    # reference: PyTorch in float64 on the very same (rounded) values. In float64 both sides
    # carry the input's own rounding, ulp(1000) / std ~ 1e-11, in xhat
    yt, gradst, statst = run_torch(x, g, w, b, training=True, dtype="float64")
    rtol, atol = (1e-4, 1e-5) if dtype == "float32" else (1e-8, 1e-9)
    for name, ours, theirs in [
        ("output", y.data, yt),
        ("grad weight", grads[1], gradst[1]),
        ("grad bias", grads[2], gradst[2]),
        ("running_mean", stats[0], statst[0].numpy()),
        ("running_var", stats[1], statst[1].numpy()),
        ("grad x", grads[0] / 50, gradst[0] / 50),  # dx scales with 1/std = 50
    ]:
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=name)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("shape", "lay"), [((4, 6, 5, 5), "cl"), ((4, 6, 5, 5), "c"), ((7, 6), "c")]
)
def test_batch_norm_eval_kernel_matches_torch(shape, lay, dtype):
    """Evaluation: the fused ``(x - running_mean) * scale + beta`` pass."""
    x, g, w, b = inputs(shape, lay, dtype, True)
    y, grads, stats = run_ours(x, g, w, b, training=False)
    assert is_channels_last(y.data) == is_channels_last(x)
    with jit.disabled():
        y0, grads0, _ = run_ours(x, g, w, b, training=False)
    yt, gradst, statst = run_torch(x, g, w, b, training=False, dtype=dtype)
    for i, what in enumerate(["grad x", "grad weight", "grad bias"]):
        assert_close(grads[i], gradst[i], dtype, what)
        assert_close(grads[i], grads0[i], dtype, what)
    assert_close(y.data, yt, dtype, "output")
    assert_close(y.data, y0.data, dtype, "output vs NumPy path")
    assert_close(stats[0], statst[0].numpy(), dtype, "running_mean untouched")


@needs_numba
def test_batch_norm_gradient_in_another_layout():
    """x channels-last, the incoming gradient C-contiguous (or broadcast, from ``sum``): it
    is copied into x's layout first, and dx keeps x's layout."""
    x, g, w, b = inputs((4, 8, 6, 6), "cl", "float32", True)
    y, grads, _ = run_ours(x, np.ascontiguousarray(g), w, b, training=True)
    assert y.grad_fn.compiled
    yt, gradst, _ = run_torch(x, g, w, b, training=True)
    for ours, theirs in zip(grads, gradst, strict=True):
        assert_close(ours, theirs, "float32", "grads")
    # the op's own gradient (a leaf's .grad is copied to C order by the engine)
    dxs = []
    for lay in ("cl", "c"):
        y = F.batch_norm(gs.tensor(x, requires_grad=True), None, None, training=True)
        dxs.append(y.grad_fn.backward(arrange(g, lay))[0])
        assert is_channels_last(dxs[-1])
    np.testing.assert_allclose(dxs[0], dxs[1], rtol=1e-6)
    xt = gs.tensor(x, requires_grad=True)
    F.batch_norm(
        xt, None, None, gs.tensor(w, requires_grad=True), None, training=True
    ).sum().backward()
    assert np.abs(xt.grad.numpy()).max() < 1e-4  # d(sum of a normalised channel)/dx = 0


@needs_numba
def test_batch_norm_kernel_needs_and_dtypes():
    """Only the weight needs a gradient; float32 input with float64 weight and bias stays
    float32 and the parameter gradients come back in float64, as on the NumPy path."""
    x, g, w, b = inputs((4, 5, 3, 3), "cl", "float32", True)
    xt = gs.tensor(x)
    wt = gs.tensor(w.astype(np.float64), requires_grad=True)
    bt = gs.tensor(b.astype(np.float64))
    y = F.batch_norm(xt, None, None, wt, bt, training=True)
    assert y.grad_fn.compiled and y.dtype == gs.float32
    y.backward(gs.tensor(g))
    assert xt.grad is None and wt.grad.dtype == gs.float64
    with jit.disabled():
        wt0 = gs.tensor(w.astype(np.float64), requires_grad=True)
        y0 = F.batch_norm(xt, None, None, wt0, bt, training=True)
        y0.backward(gs.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), y0.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(wt.grad.numpy(), wt0.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_batch_norm_other_layouts_take_numpy_path():
    """A strided view, an empty batch and a float16 input are left to NumPy."""
    x = np.random.default_rng(0).standard_normal((4, 3, 6, 6)).astype(np.float32)
    view = gs.from_numpy(x[:, :, ::2]).requires_grad_()
    assert nk.layout(view.data) is None
    y = F.batch_norm(view, None, None, training=True)
    assert not y.grad_fn.compiled
    with jit.disabled():
        y0 = F.batch_norm(view, None, None, training=True)
    np.testing.assert_allclose(y.detach().numpy(), y0.detach().numpy(), rtol=1e-6)
    rm, rv = gs.zeros(3), gs.ones(3)
    empty = gs.zeros(0, 3, 2, 2, requires_grad=True)
    assert nk.layout(empty.data) is None
    F.batch_norm(empty, rm, rv, training=True).sum().backward()
    assert empty.grad.shape == (0, 3, 2, 2)
    assert (rm.numpy() == 0).all() and (rv.numpy() == 1).all()
    assert nk.layout(np.zeros((2, 3, 4), np.float16)) is None
    assert nk.layout(np.zeros((2, 3, 4), np.int64)) is None


def test_uncompiled_kernels_are_the_same_loops():
    """The kernels' plain-Python versions (``kernel.py``, what a reader without numba can
    run) give the NumPy formulas' results."""
    rng = np.random.default_rng(3)
    for shape, lay in [((2, 3, 4, 5), "cl"), ((2, 3, 70), "c"), ((6, 4), "c")]:
        x = arrange(rng.standard_normal(shape) + 5, lay)
        g = arrange(rng.standard_normal(shape), lay)
        kind, xv = nk.layout(x)
        gv = nk.layout(g)[1]
        axes = (0, *range(2, x.ndim))
        c = shape[1]
        if kind == "rows":
            mean, var = nk._rows_stats.py(xv)
        else:
            mean, var = nk._cl_stats.py(xv.reshape(-1), c, *nk._lanes(c))
        np.testing.assert_allclose(mean, x.mean(axis=axes), rtol=1e-12)
        np.testing.assert_allclose(var, x.var(axis=axes), rtol=1e-12)
        inv = 1 / np.sqrt(var + 1e-5)
        out, ov = nk.new_like(kind, x.shape, x.dtype)
        dx, dv = nk.new_like(kind, x.shape, x.dtype)
        m = x.size // c
        if kind == "rows":
            nk._rows_affine.py(xv, mean, inv, mean, ov)
            gb, gxc = nk._rows_sums.py(gv, xv, mean)
            nk._rows_dx.py(gv, xv, mean, inv, gb / m, gxc * inv * inv / m, dv)
        else:
            flat = (xv.reshape(-1), mean, inv, mean, ov.reshape(-1), *nk._lanes(c))
            nk._cl_affine.py(*flat)
            gb, gxc = nk._cl_sums.py(gv.reshape(-1), xv.reshape(-1), mean, *nk._lanes(c))
            args = (gv.reshape(-1), xv.reshape(-1), mean, inv, gb / m, gxc * inv * inv / m)
            nk._cl_dx.py(*args, dv.reshape(-1), *nk._lanes(c))
        sh = (1, c) + (1,) * (x.ndim - 2)
        xhat = (x - mean.reshape(sh)) * inv.reshape(sh)
        np.testing.assert_allclose(out, xhat + mean.reshape(sh), rtol=1e-12)
        np.testing.assert_allclose(gb, g.sum(axis=axes), rtol=1e-12)
        np.testing.assert_allclose(gxc * inv, (g * xhat).sum(axis=axes), rtol=1e-10)
        ref = g - g.mean(axis=axes, keepdims=True)
        ref -= xhat * (g * xhat).mean(axis=axes, keepdims=True)
        np.testing.assert_allclose(dx, ref * inv.reshape(sh), rtol=1e-10, atol=1e-12)
    y = np.array([1.0, -0.0, np.nan, -2.0, 0.0, 3.0])
    gr = np.array([1.0, 2.0, 3.0, np.nan, -4.0, 5.0])
    out = np.empty_like(y)
    rk.relu_forward.py(y, out)
    np.testing.assert_array_equal(out, np.clip(y, 0, np.inf))
    rk.relu_backward.py(gr, y, out)
    np.testing.assert_array_equal(out, gr * (y > 0))


@needs_numba
# ---------------------------------------------------------------- ReLU
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lay", ["cl", "c"])
def test_relu_kernel_matches_numpy_and_torch(lay, dtype):
    rng = np.random.default_rng(0)
    shape = (8, 16, 16, 16)  # 32768 values: the kernels' smallest size
    x = arrange(rng.standard_normal(shape).astype(DTYPES[dtype]), lay)
    x[0, 0, 0, :3] = [np.nan, -0.0, 0.0]
    g = arrange(rng.standard_normal(shape).astype(DTYPES[dtype]), lay)
    assert x.size >= rk.MIN_SIZE
    xt = gs.tensor(x, requires_grad=True)
    y = F.relu(xt)
    y.backward(gs.tensor(g))
    assert is_channels_last(y.data) == is_channels_last(x)
    assert rk.forward(x) is not None and rk.backward(g, y.data) is not None
    with jit.disabled():
        xt0 = gs.tensor(x, requires_grad=True)
        y0 = F.relu(xt0)
        y0.backward(gs.tensor(g))
    np.testing.assert_array_equal(y.detach().numpy(), y0.detach().numpy())
    np.testing.assert_array_equal(xt.grad.numpy(), xt0.grad.numpy())
    tx = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    ty = torch.relu(tx)
    ty.backward(torch.tensor(np.ascontiguousarray(g)))
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    ok = ~np.isnan(x)  # torch passes the gradient through relu(NaN); NumPy's g * (y > 0) not
    np.testing.assert_array_equal(xt.grad.numpy()[ok], tx.grad.numpy()[ok])


@needs_numba
def test_relu_kernel_leaves_mixed_layouts_and_small_arrays_to_numpy():
    rng = np.random.default_rng(0)
    y = np.clip(arrange(rng.standard_normal((8, 16, 16, 16)).astype(np.float32), "cl"), 0, None)
    g = rng.standard_normal((8, 16, 16, 16)).astype(np.float32)  # C-contiguous
    assert rk.backward(g, y) is None  # the caller multiplies in NumPy
    assert rk.forward(y[:, :, ::2]) is None
    assert rk.forward(np.ones((4, 4), np.float32)) is None
    assert rk.forward(np.ones(rk.MIN_SIZE, np.int32)) is None
    out = rk.backward(arrange(g, "cl"), y)
    np.testing.assert_array_equal(out, g * (y > 0))
    assert is_channels_last(out)


@needs_numba
def test_batch_norm_small_inputs_take_numpy_path(monkeypatch):
    monkeypatch.setattr(nk, "MIN_SIZE", 1 << 15)
    x = gs.randn(2, 16, 32, 32, requires_grad=True)  # 32768 values: the kernels
    assert F.batch_norm(x, None, None, training=True).grad_fn.compiled
    x = gs.randn(2, 16, 32, 31, requires_grad=True)
    assert not F.batch_norm(x, None, None, training=True).grad_fn.compiled
