"""Convolution layers against their torch.nn twins, the naive loops against the fast
im2col + GEMM ops, the two input-gradient strategies against each other, and the errors a
learner sees.

Values and gradients of the functional ops are in tests/parity/specs_nn_conv.py.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn as nn
import gradschool.nn.functional as F
from gradschool.backend import jit
from gradschool.nn.functional import conv as conv_impl
from gradschool.testing import gradcheck_directional

torch.set_num_threads(1)

DTYPES = {"float32": (gs.float32, torch.float32), "float64": (gs.float64, torch.float64)}


def tol(dtype):
    return {"rtol": 1e-4, "atol": 5e-5} if dtype == "float32" else {"rtol": 1e-9, "atol": 1e-11}


def close(ours, theirs, dtype, what=""):
    a = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    np.testing.assert_allclose(a, b, err_msg=what, **tol(dtype))


# ---------------------------------------------------------------- modules vs torch.nn
LAYERS = [
    # (class name, constructor args, constructor kwargs, input shape)
    ("Conv2d", (3, 4, 3), {}, (2, 3, 6, 5)),
    ("Conv2d", (3, 4, 3), {"padding": 1}, (3, 6, 5)),  # unbatched
    ("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "groups": 2}, (2, 4, 7, 6)),
    ("Conv2d", (2, 4, 2), {"padding": "same", "dilation": 2, "bias": False}, (2, 2, 5, 5)),
    ("Conv2d", (4, 4, 3), {"padding": "valid", "groups": 4}, (1, 4, 5, 5)),  # depthwise
    ("Conv2d", (3, 5, 1), {}, (2, 3, 4, 4)),  # 1x1
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("Conv1d", (2, 4, 4), {"padding": "same", "groups": 2}, (2, 7)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 4, 3, 4)),
    ("ConvTranspose2d", (4, 2, (2, 3)), {"groups": 2, "dilation": 2, "bias": False}, (1, 4, 3, 3)),
    ("ConvTranspose1d", (3, 2, 3), {"stride": 3, "padding": 1}, (2, 3, 4)),
    ("ConvTranspose1d", (2, 4, 2), {"groups": 2}, (2, 5)),
]


def _layer_id(case):
    name, args, kwargs, _ = case
    return f"{name}{args}{''.join(f'-{k}={v}' for k, v in kwargs.items())}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", LAYERS, ids=_layer_id)
def test_layer_matches_torch(case, dtype):
    name, args, kwargs, shape = case
    gdt, tdt = DTYPES[dtype]
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=tdt)
    ours = getattr(nn, name)(*args, **kwargs, dtype=gdt)
    assert repr(ours) == repr(theirs)
    # same state_dict keys and shapes before loading, then the same values
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    assert [tuple(v.shape) for v in a.values()] == [tuple(v.shape) for v in b.values()]
    ours.load_state_dict(theirs.state_dict())
    for k, v in ours.state_dict().items():
        close(v, b[k], dtype, k)

    x = np.random.default_rng(0).standard_normal(shape)
    xg = gs.tensor(x, dtype=gdt, requires_grad=True)
    xt = torch.tensor(x, dtype=tdt, requires_grad=True)
    yg, yt = ours(xg), theirs(xt)
    close(yg, yt, dtype, "output")
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    yg.backward(gs.tensor(g, dtype=gdt))
    yt.backward(torch.tensor(g, dtype=tdt))
    close(xg.grad, xt.grad, dtype, "input grad")
    for (pn, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert pn == tn
        close(p.grad, tp.grad, dtype, f"grad of {pn}")


def test_conv_transpose_output_size():
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    for size in ([7, 7], [8, 7], (1, 3, 8, 8)):
        close(
            ours(gs.tensor(x), output_size=size),
            theirs(torch.tensor(x), output_size=size),
            "float32",
        )
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        ours(gs.tensor(x), output_size=[9, 9])


def test_default_init_matches_pytorch_rule():
    """weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/groups * kernel area."""
    for layer, fan_in in (
        (nn.Conv2d(16, 32, 3), 16 * 9),
        (nn.Conv2d(16, 32, 3, groups=4), 4 * 9),
        (nn.Conv1d(8, 64, 5), 8 * 5),
        (nn.ConvTranspose2d(16, 32, 4), 32 * 16),  # weight (C_in, C_out, ...): fan_in = C_out*k*k
    ):
        bound = 1 / math.sqrt(fan_in)
        w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
        assert w.dtype == np.float32 and b.dtype == np.float32
        assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
        # spread over the whole interval (uniform's std is bound / sqrt(3))
        assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound


def test_dtype_and_no_bias():
    layer = nn.Conv2d(2, 3, 3, bias=False, dtype=gs.float64)
    assert layer.bias is None and layer.weight.dtype == gs.float64
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert list(layer.state_dict()) == ["weight"]
    assert layer(gs.randn(1, 2, 4, 4, dtype=gs.float64)).dtype == gs.float64


def test_float32_stays_float32_and_channels_last():
    """Outputs are stored channels-last ((N, H, W, C) in memory, NCHW in shape: the layout the
    next layer's GEMM wants); the gradients handed to the user are C-contiguous."""
    x = gs.randn(2, 4, 7, 7, requires_grad=True)
    w = gs.randn(6, 2, 3, 3, requires_grad=True)
    b = gs.randn(6, requires_grad=True)
    for y in (
        F.conv2d(x, w, b, stride=2, padding=1, groups=2),
        F.conv_transpose2d(x, gs.randn(4, 3, 3, 3, requires_grad=True), None, 2, 1, 1, 2),
    ):
        assert y.dtype == gs.float32 and y.data.transpose(0, 2, 3, 1).flags.c_contiguous
        y.sum().backward()
    for t in (x, w, b):
        assert t.grad.dtype == gs.float32 and t.grad.data.flags.c_contiguous


def test_padding_mode():
    if not hasattr(F, "pad"):
        with pytest.raises(ValueError, match="padding_mode='reflect' is not supported"):
            nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")
        return
    for mode in ("reflect", "replicate", "circular"):
        theirs = torch.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=torch.float64)
        ours = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=gs.float64)
        assert repr(ours) == repr(theirs)
        ours.load_state_dict(theirs.state_dict())
        x = np.random.default_rng(0).standard_normal((2, 2, 5, 6))
        close(ours(gs.tensor(x)), theirs(torch.tensor(x)), "float64", mode)


# ---------------------------------------------------------------- naive references
CONFIGS = [
    # x shape, w shape, kwargs
    ((2, 3, 6, 5), (4, 3, 3, 3), {}),
    ((2, 4, 7, 6), (6, 2, 3, 2), {"stride": 2, "padding": 1, "dilation": (2, 1), "groups": 2}),
    ((1, 2, 5, 5), (3, 2, 2, 2), {"padding": "same"}),
    ((5, 6, 7), (2, 5, 3, 3), {"stride": (1, 2), "padding": (2, 0)}),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), CONFIGS)
def test_conv2d_naive_equals_fast(x_shape, w_shape, kwargs):
    """Values, and gradients: autograd through the loops vs the hand-written backward."""
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s) for s in (x_shape, w_shape, w_shape[:1]))
    results = []
    for fn in (F.conv2d, F.conv2d_naive):
        ts = [gs.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = fn(*ts, **kwargs)
        y.backward(gs.tensor(np.random.default_rng(1).standard_normal(y.shape)))
        results.append([y.detach().numpy()] + [t.grad.numpy() for t in ts])
    for i, (fast, naive) in enumerate(zip(*results, strict=True)):
        np.testing.assert_allclose(fast, naive, rtol=1e-10, atol=1e-12, err_msg=f"item {i}")
    # arrays in, a Tensor out
    y = F.conv2d_naive(x.astype(np.float32), w.astype(np.float32), None, **kwargs)
    assert isinstance(y, gs.Tensor) and y.dtype == gs.float32


TRANSPOSED = [
    ((2, 3, 3, 4), (3, 2, 3, 3), {}),
    ((2, 4, 3, 3), (4, 3, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ((1, 2, 4, 3), (2, 2, 2, 3), {"stride": (1, 3), "dilation": 2, "output_padding": (1, 0)}),
    ((2, 3, 3), (2, 4, 3, 3), {"padding": 1}),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), TRANSPOSED)
def test_conv_transpose2d_naive_equals_fast(x_shape, w_shape, kwargs):
    rng = np.random.default_rng(0)
    groups = kwargs.get("groups", 1)
    x, w, b = (rng.standard_normal(s) for s in (x_shape, w_shape, (w_shape[1] * groups,)))
    results = []
    for fn in (F.conv_transpose2d, F.conv_transpose2d_naive):
        ts = [gs.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = fn(*ts, **kwargs)
        y.backward(gs.tensor(np.random.default_rng(1).standard_normal(y.shape)))
        results.append([y.detach().numpy()] + [t.grad.numpy() for t in ts])
    for i, (fast, naive) in enumerate(zip(*results, strict=True)):
        np.testing.assert_allclose(fast, naive, rtol=1e-10, atol=1e-12, err_msg=f"item {i}")


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "pads", "dilation", "groups"),
    [
        ((2, 3, 6, 5), (4, 3, 3, 3), (1, 1, 1, 1), (1, 1), 1),
        ((2, 4, 7, 6), (6, 2, 3, 2), (0, 2, 3, 0), (2, 1), 2),
        ((1, 2, 9, 9), (3, 2, 2, 2), (0, 0, 0, 0), (3, 3), 1),
    ],
)
def test_input_grad_strategies_agree(x_shape, w_shape, pads, dilation, groups):
    """For stride 1 the input gradient is a convolution with the flipped filters; it must
    equal Wᵀ @ dy followed by col2im."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    y = conv_impl._conv(x, w, None, (1, 1), pads, dilation, groups)
    g = rng.standard_normal(y.shape)
    a = conv_impl._input_grad(g, w, x.shape, (1, 1), pads, dilation, groups, method="flip")
    b = conv_impl._input_grad(g, w, x.shape, (1, 1), pads, dilation, groups, method="col2im")
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs"),
    [
        ((2, 3, 6, 5), (4, 3, 3, 3), {"padding": 1}),
        ((3, 16, 9, 8), (16, 16, 3, 3), {"padding": 1}),  # a ResNet block's convolution
        ((2, 5, 7, 6), (2, 5, 3, 2), {"padding": "same"}),  # even kernel: pads 1 before, 0 after
        ((1, 4, 6, 6), (3, 4, 3, 3), {"padding": 3}),  # outputs that read only zeros
        ((2, 2, 9, 9), (3, 2, 2, 2), {"dilation": 3, "padding": 2}),
        ((2, 6, 5, 7), (1, 6, 5, 3), {"padding": (2, 1)}),  # one output channel: k-major columns
    ],
)
@pytest.mark.parametrize("dy_layout", ["nchw", "channels_last"])
def test_gradients_from_dy_columns_match_torch(x_shape, w_shape, kwargs, dtype, dy_layout):
    """A stride-1 convolution takes dx and dW from one set of dy's columns
    (``_input_and_weight_grads``); both must equal PyTorch's, on the compiled and the NumPy
    paths, for a dy stored either way. Compiled, an NCHW dy is transposed block by block
    (``_block_rows``), never copied whole (``_as_rows``)."""
    gs_dtype, t_dtype = DTYPES[dtype]
    rng = np.random.default_rng(3)
    xa, wa = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    xt = torch.tensor(xa, dtype=t_dtype, requires_grad=True)
    wt = torch.tensor(wa, dtype=t_dtype, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, **kwargs)
    ga = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(ga, dtype=t_dtype))
    assert conv_impl._shares_dy_columns(w_shape, x_shape, tuple(yt.shape), (1, 1), 1)
    as_rows = conv_impl._as_rows
    whole_copies = []

    def spy(g, key="g2"):
        if not conv_impl._channels_last(g):
            whole_copies.append(key)
        return as_rows(g, key)

    for compiled in (True, False):
        x = gs.tensor(xa, dtype=gs_dtype, requires_grad=True)
        w = gs.tensor(wa, dtype=gs_dtype, requires_grad=True)
        g = ga.astype(dtype)
        if dy_layout == "channels_last":
            g = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        whole_copies.clear()
        with (
            pytest.MonkeyPatch.context() as mp,
            contextlib.nullcontext() if compiled else jit.disabled(),
        ):
            mp.setattr(conv_impl, "_as_rows", spy)
            F.conv2d(x, w, **kwargs).backward(gs.tensor(g))
        close(x.grad, xt.grad, dtype, f"dx (compiled={compiled})")
        close(w.grad, wt.grad, dtype, f"dW (compiled={compiled})")
        if compiled and jit.enabled():
            assert whole_copies == [], whole_copies


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_blocks_share_the_samples_evenly(n_threads):
    """The column blocks cover the batch in order, differ in size by one sample at most and
    come in a multiple of the threads, so each thread of a split op gets an even share."""
    from gradschool.backend import threads

    before = threads.get_num_threads()
    threads.set_num_threads(n_threads)
    try:
        for n, row_bytes in ((64, 589_824), (65, 100_000), (7, 1 << 22), (128, 1 << 16), (1, 8)):
            blocks = conv_impl._blocks(np, n, row_bytes)
            assert blocks[0][0] == 0 and blocks[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:], strict=False))
            sizes = [stop - start for start, stop in blocks]
            assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
            assert len(blocks) % n_threads == 0 or len(blocks) == n
            assert max(sizes) * row_bytes <= max(conv_impl._BLOCK_BYTES, row_bytes)
    finally:
        threads.set_num_threads(before)


def test_results_never_share_scratch_buffers():
    """Outputs and gradients are fresh arrays, never views of the reused scratch buffers (N=1
    and one channel make the NCHW transposes no-ops: the easiest place to leak a view)."""
    results = []
    for fn, w_shape in ((F.conv2d, (1, 2, 3, 3)), (F.conv_transpose2d, (2, 1, 3, 3))):
        for kwargs in ({"padding": 1}, {"stride": 2}):
            x = gs.randn(1, 2, 5, 5, requires_grad=True)
            w = gs.randn(*w_shape, requires_grad=True)
            b = gs.randn(1, requires_grad=True)
            y = fn(x, w, b, **kwargs)
            y.backward(gs.randn(*y.shape))
            results += [y, x.grad, w.grad, b.grad]
    scratch = list(vars(conv_impl._scratch).values())
    assert scratch, "the scratch buffers were not used"
    for r in results:
        assert not any(np.shares_memory(r.data, buf) for buf in scratch)


def test_gradient_only_where_needed():
    """No input gradient is computed for a constant input (the first layer's images)."""
    x = gs.randn(2, 3, 5, 5)
    w = gs.randn(4, 3, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None and w.grad is not None


def test_directional_gradcheck_larger_shapes():
    gen = np.random.default_rng(0)
    x = gs.tensor(gen.standard_normal((4, 8, 12, 12)), requires_grad=True)
    w = gs.tensor(gen.standard_normal((8, 4, 3, 3)), requires_grad=True)
    b = gs.tensor(gen.standard_normal(8), requires_grad=True)
    assert gradcheck_directional(lambda *t: F.conv2d(*t, stride=2, padding=1, groups=2), (x, w, b))
    w2 = gs.tensor(gen.standard_normal((8, 8, 2, 3)), requires_grad=True)
    assert gradcheck_directional(lambda *t: F.conv2d(*t, padding="same"), (x, w2, b))
    assert gradcheck_directional(
        lambda *t: F.conv_transpose2d(*t, stride=2, padding=1, output_padding=1, groups=2),
        (x, gs.tensor(gen.standard_normal((8, 3, 3, 3)), requires_grad=True), None),
    )


# ---------------------------------------------------------------- errors a learner sees
def _x(*shape, dtype=None):
    return gs.randn(*shape, dtype=dtype)


ERRORS = [
    (
        lambda: F.conv2d(_x(1, 1, 3, 3), _x(2, 1, 5, 5)),
        ValueError,
        "conv2d: kernel size (5, 5) is larger than the padded input (3, 3)",
    ),
    (
        lambda: F.conv2d(_x(1, 1, 4, 4), _x(2, 1, 3, 3), dilation=2),
        ValueError,
        "conv2d: kernel size (3, 3) (dilated to (5, 5)) is larger than the padded input (4, 4)",
    ),
    (
        lambda: F.conv2d(_x(1, 3, 5, 5), _x(2, 1, 3, 3)),
        ValueError,
        "conv2d: expected input with 1 channels (weight (2, 1, 3, 3), groups=1), got 3 channels",
    ),
    (
        lambda: F.conv2d(_x(1, 4, 5, 5), _x(3, 2, 3, 3), groups=2),
        ValueError,
        "out_channels) 3 must be divisible by groups=2",
    ),
    (
        lambda: F.conv2d(_x(1, 1, 5, 5), _x(2, 1, 3, 3), stride=0),
        ValueError,
        "conv2d: stride must be positive, got 0",
    ),
    (
        lambda: F.conv2d(_x(1, 1, 5, 5), _x(2, 1, 3, 3), padding=-1),
        ValueError,
        "conv2d: padding must be non-negative",
    ),
    (
        lambda: F.conv2d(_x(1, 1, 5, 5), _x(2, 1, 3, 3), padding="full"),
        ValueError,
        "conv2d: invalid padding string 'full'",
    ),
    (
        lambda: F.conv2d(_x(1, 1, 5, 5), _x(2, 1, 3, 3), stride=2, padding="same"),
        ValueError,
        "padding='same' is not supported for strided convolutions",
    ),
    (
        lambda: F.conv2d(_x(1, 1, 5, 5), _x(2, 1, 3, 3), stride=(1, 2, 3)),
        ValueError,
        "conv2d: stride must be an int or a tuple of 2 ints",
    ),
    (
        lambda: F.conv2d(_x(5, 5), _x(2, 1, 3, 3)),
        ValueError,
        "conv2d: expected a 3-D (unbatched) or 4-D (batched) input (N, C, H, W), got a 2-D",
    ),
    (lambda: F.conv2d(_x(1, 1, 5, 5), _x(2, 1, 3)), ValueError, "conv2d: expected a 4-D weight"),
    (
        lambda: F.conv2d(_x(1, 1, 5, 5), _x(2, 1, 3, 3), _x(3)),
        ValueError,
        "conv2d: expected bias of shape (2,)",
    ),
    (
        lambda: F.conv2d(_x(1, 1, 5, 5), _x(2, 1, 3, 3, dtype=gs.float64)),
        TypeError,
        "conv2d: input, weight and bias must have the same dtype",
    ),
    (
        lambda: F.conv2d(np.ones((1, 1, 5, 5)), _x(2, 1, 3, 3)),
        TypeError,
        "conv2d: expected input to be a Tensor, got ndarray",
    ),
    (
        lambda: F.conv2d(_x(1, 1, 5, 5), _x(2, 1, 3, 3), groups=0),
        ValueError,
        "conv2d: groups must be a positive integer, got 0",
    ),
    (
        lambda: F.conv1d(_x(1, 2, 5), _x(2, 2, 3), dilation=0),
        ValueError,
        "conv1d: dilation must be positive, got 0",
    ),
    (
        lambda: F.conv_transpose2d(_x(1, 2, 3, 3), _x(2, 1, 3, 3), stride=2, output_padding=2),
        ValueError,
        "conv_transpose2d: output_padding must be non-negative and smaller than",
    ),
    (
        lambda: F.conv_transpose2d(_x(1, 2, 1, 1), _x(2, 1, 1, 1), padding=1),
        ValueError,
        "conv_transpose2d: the output size (-1, -1) is not positive",
    ),
    (
        lambda: F.conv_transpose1d(_x(1, 2, 3), _x(2, 1, 3), padding="same"),
        ValueError,
        "conv_transpose1d: padding must be an int",
    ),
    (
        lambda: nn.Conv2d(3, 16, 3)(_x(1, 1, 5, 5)),
        ValueError,
        "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1)) expected 3 input channels, got 1",
    ),
    (
        lambda: nn.Conv2d(3, 16, 3)(_x(3, 5)),
        ValueError,
        "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1)) expected a 3-D (unbatched) or 4-D",
    ),
    (
        lambda: nn.ConvTranspose1d(4, 2, 3)(_x(1, 2, 5)),
        ValueError,
        "ConvTranspose1d(4, 2, kernel_size=(3,), stride=(1,)) expected 4 input channels, got 2",
    ),
    (
        lambda: nn.Conv2d(3, 16, 3, groups=2),
        ValueError,
        "Conv2d: in_channels must be divisible by groups, got 3 and 2",
    ),
    (lambda: nn.Conv2d(3, 16, 0), ValueError, "Conv2d: kernel_size must be positive"),
    (
        lambda: nn.Conv2d(3, 16, 3, padding_mode="mirror"),
        ValueError,
        "Conv2d: padding_mode must be one of",
    ),
    (
        lambda: nn.ConvTranspose2d(3, 16, 3, padding_mode="reflect"),
        ValueError,
        "not supported for ConvTranspose layers",
    ),
    (
        lambda: nn.Conv1d(3, 16, 3, stride=2, padding="same"),
        ValueError,
        "Conv1d: padding='same' is not supported for strided convolutions",
    ),
]


@pytest.mark.parametrize(("call", "exc", "message"), ERRORS, ids=[m[:40] for _, _, m in ERRORS])
def test_errors_name_the_op(call, exc, message):
    with pytest.raises(exc) as info:
        call()
    assert message in str(info.value), str(info.value)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize(
    ("w_shape", "kwargs"),
    [
        ((16, 16, 3, 3), {"padding": 1}),  # dx and dW from dy's columns
        ((8, 16, 3, 3), {"stride": 2, "padding": 1}),  # col2im
        ((6, 16, 1, 1), {}),  # 1x1: the input is its own columns
        ((6, 1, 5, 5), {"padding": 2}),  # few channels: k-major columns
    ],
)
def test_an_empty_batch_gives_empty_outputs_and_zero_weight_gradients(w_shape, kwargs, n_threads):
    from gradschool.backend import threads

    before = threads.get_num_threads()
    threads.set_num_threads(n_threads)
    try:
        for compiled in (True, False):
            x = gs.zeros(0, w_shape[1], 8, 8, requires_grad=True)
            w = gs.randn(*w_shape, requires_grad=True)
            with contextlib.nullcontext() if compiled else jit.disabled():
                y = F.conv2d(x, w, **kwargs)
                y.sum().backward()
            yt = torch.nn.functional.conv2d(
                torch.zeros(0, w_shape[1], 8, 8), torch.zeros(w_shape), **kwargs
            )
            assert tuple(y.shape) == tuple(yt.shape)
            assert x.grad.shape == x.shape
            assert not w.grad.numpy().any()
    finally:
        threads.set_num_threads(before)


# ---------------------------------------------------------------- products in row slices
@pytest.mark.parametrize(
    ("small_kernels", "compiled"), [(True, True), (True, False), (False, False)]
)
def test_matmul_rows_in_slices_equals_one_product(monkeypatch, small_kernels, compiled):
    from gradschool.nn.functional import conv

    monkeypatch.setattr(conv, "_small_gemm", small_kernels)
    if not compiled:
        monkeypatch.setattr(conv, "_gemm_entry", {})  # slices cut from Python
    elif not jit.enabled() or conv._sliced_gemm(np.float32) is None:
        pytest.skip("no compiled slices here (numba, or OpenBLAS's 64-bit cblas)")
    rng = np.random.default_rng(0)
    cases = [(2000, 144, 16, "t"), (1000, 27, 16, "c"), (700, 150, 6, "t"), (300, 144, 16, "c")]
    cases += [(1000, 288, 32, "c"), (250, 288, 32, "t")]
    for p, k, n, layout in cases:
        a = rng.standard_normal((k, p) if layout == "t" else (p, k)).astype(np.float32)
        a = a.T if layout == "t" else a  # a transposed view, or row-major
        b = rng.standard_normal((k, n)).astype(np.float32)
        out = np.zeros((p, 2, n), np.float32)[:, 1]  # a strided view
        sliced = conv._slice_rows(k, n, p)
        assert (sliced > 0) == (small_kernels and p > sliced >= conv._MIN_SLICE)
        conv.matmul_rows(a, b, out)
        np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-5)
        gw = np.ones((1, k, n), np.float32)
        conv._add_products(gw, a.T[None], out[None])
        np.testing.assert_allclose(gw[0], 1 + a.T @ out, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_with_sliced_products_matches_torch(monkeypatch, dtype):
    from gradschool.nn.functional import conv

    monkeypatch.setattr(conv, "_small_gemm", True)  # the slices, on any CPU
    rng = np.random.default_rng(1)
    for x_shape, w_shape in [((6, 16, 16, 16), (16, 16, 3, 3)), ((8, 3, 16, 16), (16, 3, 3, 3))]:
        x = rng.standard_normal(x_shape).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        xt, wt = gs.tensor(x, requires_grad=True), gs.tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, padding=1)
        dy = rng.standard_normal(y.shape).astype(dtype)
        y.backward(gs.tensor(dy))
        tx = torch.tensor(x, requires_grad=True)
        tw = torch.tensor(w, requires_grad=True)
        ty = torch.nn.functional.conv2d(tx, tw, padding=1)
        ty.backward(torch.tensor(dy))
        tol = {"rtol": 1e-4, "atol": 1e-3} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-9}
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
        np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), **tol)
        np.testing.assert_allclose(wt.grad.numpy(), tw.grad.numpy(), **tol)
