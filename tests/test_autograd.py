"""The autograd engine and Tensor semantics, checked against PyTorch's behaviour."""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import torch

import gradschool as gs
from gradschool.autograd.function import Function


def test_gradients_accumulate_into_leaves_like_torch():
    x = gs.tensor([1.0, 2.0, 3.0], requires_grad=True)
    xt = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for _ in range(2):
        (x * x).sum().backward()
        (xt * xt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_shared_subexpression_sums_both_paths():
    x = gs.tensor(2.0, requires_grad=True)
    y = x * 3
    z = y * y + y  # dz/dx = (2y + 1) * 3 = 39
    z.backward()
    assert x.grad.item() == pytest.approx(39.0)


def test_second_backward_through_freed_graph_raises():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_graph_without_saved_arrays_can_be_walked_twice_like_torch():
    x = gs.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_backward_frees_saved_arrays():
    x = gs.randn(4, requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    assert node.saved is None and node.released


def test_non_scalar_backward_needs_gradient():
    x = gs.randn(3, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        (x * 2).backward()
    (x * 2).backward(gs.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_backward_gradient_shape_must_match():
    x = gs.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(gs.ones(4))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gs.ones(2).sum().backward()


def test_retain_grad_and_is_leaf():
    x = gs.randn(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    z = (y * y).sum()
    z.backward()
    assert x.is_leaf and not y.is_leaf
    np.testing.assert_allclose(y.grad.numpy(), 2 * y.detach().numpy(), rtol=1e-6)
    w = x * 3
    (w * w).sum().backward()
    assert w.grad is None  # not retained


def test_detach_shares_data_and_cuts_graph():
    x = gs.randn(3, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.data, x.data)


def test_no_grad_enable_grad_set_grad_enabled():
    x = gs.randn(2, requires_grad=True)
    with gs.no_grad():
        assert not (x * 2).requires_grad
        with gs.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad

    @gs.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with gs.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    gs.set_grad_enabled(False)
    assert not gs.is_grad_enabled()
    gs.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="floating point"):
        gs.tensor([1, 2], requires_grad=True)
    y = gs.randn(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False


def test_deep_chain_backprop_is_iterative():
    x = gs.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def _mlp_step(w1, w2, x, y):
    h = (x @ w1).relu()
    loss = ((h @ w2 - y) ** 2).mean()
    loss.backward()
    with gs.no_grad():
        w1.data -= 0.01 * w1.grad.data
        w2.data -= 0.01 * w2.grad.data
    w1.grad = w2.grad = None
    return loss.item()


def test_training_memory_stays_flat_and_makes_no_cycles():
    gs.manual_seed(0)
    w1 = gs.randn(8, 16, requires_grad=True)
    w2 = gs.randn(16, 1, requires_grad=True)
    x, y = gs.randn(32, 8), gs.randn(32, 1)
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        for _ in range(1000):  # warm-up: allocator pools and NumPy caches fill once
            _mlp_step(w1, w2, x, y)
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            _mlp_step(w1, w2, x, y)
        grown = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        assert gc.collect() == 0, "the graph made reference cycles"
    finally:
        gc.enable()
    assert grown < 200_000, f"memory grew by {grown} bytes over 1000 steps"


def test_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: .*\(2, 3\).*\(4,\)"):
        gs.ones(2, 3) + gs.ones(4)
    with pytest.raises(ValueError, match=r"mul: .*\(2, 3\).*\(4,\)"):
        gs.ones(2, 3) * gs.ones(4)
    with pytest.raises(ValueError, match=r"reshape"):
        gs.ones(6).reshape(4, 2)
    with pytest.raises(ValueError, match=r"cat"):
        gs.cat([gs.ones(2, 3), gs.ones(2, 4)])


def test_dtype_promotion_follows_torch():
    cases = [
        ("int64", "float32"),
        ("int32", "float64"),
        ("float32", "float64"),
        ("uint8", "int8"),
        ("bool", "int32"),
        ("bool", "float32"),
        ("float16", "float32"),
        ("int64", "int64"),
    ]
    for a, b in cases:
        for sa, sb in [((2,), (2,)), ((2,), ()), ((), (2,))]:
            ga = gs.ones(*sa, dtype=getattr(gs, a if a != "bool" else "bool_"))
            gb = gs.ones(*sb, dtype=getattr(gs, b if b != "bool" else "bool_"))
            ta = torch.ones(sa, dtype=getattr(torch, a))
            tb = torch.ones(sb, dtype=getattr(torch, b))
            if a == "bool" and b == "bool":
                continue
            assert (ga + gb).dtype.name == str((ta + tb).dtype).removeprefix("torch."), (
                a,
                b,
                sa,
                sb,
            )
    for dt in ("int64", "int32", "float32", "float64", "uint8"):
        for scalar in (2, 2.5, True):
            g = gs.ones(2, dtype=getattr(gs, dt)) * scalar
            t = torch.ones(2, dtype=getattr(torch, dt)) * scalar
            assert g.dtype.name == str(t.dtype).removeprefix("torch."), (dt, scalar)
    assert (gs.tensor([1, 2]) / gs.tensor([2, 2])).dtype == gs.float32


def test_gradients_keep_leaf_dtype_under_promotion():
    a = gs.ones(3, requires_grad=True)  # float32
    b = gs.ones(3, dtype=gs.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == gs.float32 and b.grad.dtype == gs.float64


def test_repr_like_torch():
    assert repr(gs.tensor([1.0, 2.0, 3.0])) == "tensor([1., 2., 3.])"
    assert repr(gs.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(gs.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(gs.tensor(3.0, requires_grad=True)) == "tensor(3., requires_grad=True)"
    assert repr(gs.tensor([1.0], dtype=gs.float64)) == "tensor([1.], dtype=gradschool.float64)"
    x = gs.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert repr(gs.tensor([True, False])) == "tensor([True, False])"


def test_tensor_accessors():
    x = gs.arange(6, dtype=gs.float32).reshape(2, 3)
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 6
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert gs.tensor([4.0]).item() == 4.0
    assert x.device == gs.device("cpu") and str(x.device) == "cpu"
    assert x.T.shape == (3, 2)
    assert x.long().dtype == gs.int64 and x.double().dtype == gs.float64
    assert x.to(gs.float64).dtype == gs.float64 and x.to("cpu") is x
    assert x.float() is x
    c = x.clone()
    assert not np.shares_memory(c.data, x.data)
    with pytest.raises(RuntimeError, match="requires grad"):
        gs.ones(2, requires_grad=True).numpy()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(gs.ones(2))


def test_cast_is_differentiable():
    x = gs.ones(3, requires_grad=True)
    y = x.double() * 2
    y.sum().backward()
    assert x.grad.dtype == gs.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_creation_matches_torch_defaults():
    pairs = [
        (gs.zeros(2, 3), torch.zeros(2, 3)),
        (gs.ones((2,)), torch.ones((2,))),
        (gs.full((2, 2), 7), torch.full((2, 2), 7)),
        (gs.full((2,), 1.5), torch.full((2,), 1.5)),
        (gs.arange(5), torch.arange(5)),
        (gs.arange(0, 1, 0.25), torch.arange(0, 1, 0.25)),
        (gs.linspace(0, 1, 5), torch.linspace(0, 1, 5)),
        (gs.eye(3), torch.eye(3)),
        (gs.eye(2, 3), torch.eye(2, 3)),
        (gs.tensor([1, 2]), torch.tensor([1, 2])),
        (gs.tensor([1.0, 2]), torch.tensor([1.0, 2])),
        (gs.tensor(np.ones(2)), torch.tensor(np.ones(2))),
        (
            gs.zeros_like(gs.ones(2, dtype=gs.int32)),
            torch.zeros_like(torch.ones(2, dtype=torch.int32)),
        ),
    ]
    for g, t in pairs:
        assert g.shape == tuple(t.shape)
        assert g.dtype.name == str(t.dtype).removeprefix("torch.")
        np.testing.assert_allclose(g.numpy(), t.numpy())
    assert gs.rand(2, 3).dtype == gs.float32 and gs.randn(4).shape == (4,)
    r = gs.randint(0, 10, (100,))
    assert r.dtype == gs.int64 and 0 <= r.numpy().min() and r.numpy().max() < 10


def test_from_numpy_shares_memory():
    a = np.zeros(3, dtype=np.float32)
    t = gs.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5.0 if hasattr(t, "__getitem__") else t.numpy()[0] == 5.0
    assert np.shares_memory(t.numpy(), a)


def test_manual_seed_repeats_exactly():
    gs.manual_seed(123)
    a = gs.randn(5).numpy().copy(), gs.rand(3).numpy().copy(), gs.randint(0, 9, (4,)).numpy().copy()
    gs.manual_seed(123)
    b = gs.randn(5).numpy(), gs.rand(3).numpy(), gs.randint(0, 9, (4,)).numpy()
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    g = gs.Generator().manual_seed(7)
    c = gs.randn(3, generator=g).numpy()
    np.testing.assert_array_equal(c, gs.randn(3, generator=gs.Generator().manual_seed(7)).numpy())


def test_cuda_without_cupy_or_gpu_raises_clearly():
    if gs.cuda_is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="cuda"):
        gs.ones(2).to("cuda")


def test_custom_function_and_gradcheck_catches_a_wrong_gradient():
    class Cube(Function):
        def forward(self, x):
            self.saved = (x,)
            return x**3

        def backward(self, g):
            (x,) = self.saved
            return (g * 3 * x**2,)

    class WrongCube(Cube):
        def backward(self, g):
            (x,) = self.saved
            return (g * 2 * x**2,)

    from gradschool.testing import GradcheckError, gradcheck, gradcheck_directional

    x = gs.randn(3, 4, dtype=gs.float64, requires_grad=True)
    assert gradcheck(Cube.apply, (x,))
    assert gradcheck_directional(Cube.apply, (x,))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(WrongCube.apply, (x,))
    with pytest.raises(GradcheckError):
        gradcheck_directional(WrongCube.apply, (x,))
    assert gradcheck(WrongCube.apply, (x,), raise_exception=False) is False


def test_rel_error_is_the_course_definition():
    from gradschool.testing import rel_error

    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [3.0]) == pytest.approx(0.5)
    assert rel_error([0.0], [0.0]) == 0.0


def test_import_is_lean():
    code = (
        "import sys, gradschool; "
        "heavy = [m for m in ('torch', 'scipy', 'matplotlib', 'cupy', 'pandas', 'tqdm') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import gradschool loaded {out.stdout.strip()}"


def test_inplace_methods_follow_torch_rules():
    a = np.zeros(3, dtype=np.float32)
    t = gs.from_numpy(a)
    t.add_(1).mul_(3)
    np.testing.assert_array_equal(a, [3.0, 3.0, 3.0])  # wrote through to the shared array
    t.zero_()
    assert not a.any()
    w = gs.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.add_(1)
    with gs.no_grad():
        w.add_(1)
        w.normal_(0, 0.01)
    assert w.requires_grad and w.is_leaf
    x = gs.ones(3, requires_grad=True)
    y = x * 2
    y.mul_(3).add_(x)  # a non-leaf: recorded (out of place underneath), like PyTorch
    y.sum().backward()
    xt = torch.ones(3, requires_grad=True)
    yt = xt * 2
    yt.mul_(3).add_(xt)
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    gs.manual_seed(0)
    u = gs.empty(1000).uniform_(-2, 3)
    assert -2 <= u.numpy().min() and u.numpy().max() < 3


class _FakeGpuArray(np.ndarray):
    """Stands in for a CuPy array: what the device check looks at is the array's class."""

    __cuda_array_interface__ = {}


def test_mixing_devices_raises_like_torch():
    a = gs.ones(3)
    b = gs.Tensor._make(np.ones(3, dtype=np.float32).view(_FakeGpuArray))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a + b
    with pytest.raises(RuntimeError, match="same device"):
        gs.cat([a, b])


def test_matmul_refuses_mixed_dtypes_like_torch():
    with pytest.raises(RuntimeError, match="same dtype"):
        gs.ones(2, 3) @ gs.ones(3, 2, dtype=gs.float64)
