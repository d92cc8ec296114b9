"""The loss modules against their ``torch.nn`` twins, the course's sanity checks, the fused
cross-entropy against its unfused composition, and the errors a learner sees.

Values and gradients of the functional losses are covered by the parity rows in
``tests/parity/specs_nn_loss.py``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import gradschool as gs
import gradschool.nn as nn
import gradschool.nn.functional as F
from gradschool.nn.functional.loss import ClassIndexError

RNG = np.random.default_rng(0)


def pair(a: np.ndarray, grad: bool = True):
    """The same array as a gradschool tensor and a torch tensor."""
    g = grad and a.dtype.kind == "f"
    return gs.tensor(a, requires_grad=g), torch.tensor(a, requires_grad=g)


def close(ours, theirs, **tol) -> None:
    theirs = theirs.detach().numpy()
    ours = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, **tol)


# ---------------------------------------------------------------- modules vs torch.nn twins
def scores(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def labels(high, *shape):
    return RNG.integers(0, high, size=shape)


def weight(c):
    return RNG.uniform(0.2, 2.0, size=c).astype(np.float32)


def probs(*shape):
    return RNG.uniform(0.05, 0.95, size=shape).astype(np.float32)


# (class name, constructor kwargs (arrays become tensors), input, target)
CASES = [
    ("CrossEntropyLoss", {}, scores(5, 4), labels(4, 5)),
    (
        "CrossEntropyLoss",
        {"weight": weight(4), "ignore_index": 1, "label_smoothing": 0.2},
        scores(3, 4, 2, 2),
        labels(4, 3, 2, 2),
    ),
    ("CrossEntropyLoss", {"reduction": "none"}, scores(5, 4), probs(5, 4)),
    ("CrossEntropyLoss", {"reduction": "sum", "weight": weight(3)}, scores(3), np.array(2)),
    ("NLLLoss", {"weight": weight(4), "reduction": "sum"}, -probs(5, 4), labels(4, 5)),
    ("NLLLoss", {"ignore_index": 0}, -probs(2, 4, 3), labels(4, 2, 3)),
    ("MultiMarginLoss", {}, scores(6, 5), labels(5, 6)),
    (
        "MultiMarginLoss",
        {"p": 2, "margin": 0.5, "weight": weight(5), "reduction": "none"},
        scores(6, 5),
        labels(5, 6),
    ),
    ("BCELoss", {}, probs(4, 3), probs(4, 3)),
    ("BCELoss", {"weight": weight(3), "reduction": "sum"}, probs(4, 3), probs(4, 3)),
    ("BCEWithLogitsLoss", {}, scores(4, 3), probs(4, 3)),
    (
        "BCEWithLogitsLoss",
        {"weight": weight(3), "pos_weight": weight(3), "reduction": "none"},
        scores(4, 3),
        probs(4, 3),
    ),
    ("MSELoss", {}, scores(4, 3), scores(4, 3)),
    ("L1Loss", {"reduction": "sum"}, scores(4, 3), scores(4, 3)),
    ("SmoothL1Loss", {"beta": 0.5}, scores(4, 3), scores(4, 3)),
    ("HuberLoss", {"delta": 0.7, "reduction": "none"}, scores(4, 3), scores(4, 3)),
    ("KLDivLoss", {"reduction": "batchmean"}, np.log(probs(4, 3)), probs(4, 3)),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, np.log(probs(4, 3)), scores(4, 3)),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "x", "t"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_module_matches_torch_twin(name, kwargs, x, t) -> None:
    ours_kw = {k: gs.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    theirs_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    ours, theirs = getattr(nn, name)(**ours_kw), getattr(torch.nn, name)(**theirs_kw)
    assert repr(ours) == repr(theirs)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in tsd:
        assert tuple(sd[k].shape) == tuple(tsd[k].shape)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.parameters()) == []

    gx, tx = pair(x)
    gt, tt = pair(t)
    out, tout = ours(gx, gt), theirs(tx, tt)
    close(out, tout)
    g = RNG.standard_normal(tout.shape).astype(np.float32)
    out.backward(gs.tensor(g))
    tout.backward(torch.tensor(g))
    close(gx.grad, tx.grad)
    if tt.requires_grad:
        close(gt.grad, tt.grad)


def test_state_dict_round_trip_from_torch() -> None:
    """A PyTorch loss's class weights load by name into its gradschool twin."""
    w = torch.rand(7)
    ours = nn.CrossEntropyLoss(weight=gs.ones(7))
    ours.load_state_dict(torch.nn.CrossEntropyLoss(weight=w).state_dict())
    np.testing.assert_array_equal(ours.weight.numpy(), w.numpy())
    assert nn.MSELoss().state_dict() == {}
    assert list(nn.BCEWithLogitsLoss(pos_weight=gs.ones(3)).state_dict()) == ["pos_weight"]


def test_legacy_size_average_and_reduce() -> None:
    for size_average, reduce, expected in [
        (None, False, "none"),
        (False, None, "sum"),
        (True, True, "mean"),
    ]:
        with pytest.warns(UserWarning, match="reduction="):
            ours = nn.MSELoss(size_average=size_average, reduce=reduce)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
        assert ours.reduction == theirs.reduction == expected


def test_module_argument_errors() -> None:
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: reduction must be one of .*'avg'"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="batchmean"):
        nn.MSELoss(reduction="batchmean")
    nn.KLDivLoss(reduction="batchmean")
    with pytest.raises(ValueError, match="MultiMarginLoss: only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(TypeError, match="CrossEntropyLoss: weight must be a Tensor or None"):
        nn.CrossEntropyLoss(weight=np.ones(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="HuberLoss: delta must be positive"):
        nn.HuberLoss(delta=0)
    with pytest.raises(ValueError, match="SmoothL1Loss: beta must be >= 0"):
        nn.SmoothL1Loss(beta=-1)


# ---------------------------------------------------------------- the course's sanity checks
def small_scores(n: int = 500, d: int = 32, c: int = 10):
    """Scores of a linear classifier with near-zero weights (W ~ 1e-4 randn), as at init."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, d)).astype(np.float32)
    w = (1e-4 * rng.standard_normal((d, c))).astype(np.float32)
    return gs.tensor(x @ w), gs.tensor(rng.integers(0, c, n))


def test_softmax_loss_at_init_is_ln_c() -> None:
    """CS231n assignment 1: with small random weights every class has probability about
    1/10, so the softmax loss is about -ln(0.1) = ln 10 = 2.303."""
    s, y = small_scores()
    loss = F.cross_entropy(s, y).item()
    assert abs(loss - math.log(10)) < 1e-3


def test_svm_loss_at_init_is_c_minus_1() -> None:
    """CS231n assignment 1: with near-zero weights every margin is about 1, so the SVM loss
    (summed over the C - 1 wrong classes) is about C - 1 = 9. PyTorch's multi_margin_loss
    divides by C, so multiply by C for the course's number."""
    s, y = small_scores()
    c = s.shape[1]
    loss = F.multi_margin_loss(s, y, margin=1.0).item() * c
    assert abs(loss - (c - 1)) < 1e-2


def svm_loss_naive(scores: np.ndarray, y: np.ndarray, margin: float = 1.0) -> float:
    """The course's loop version of the multiclass SVM loss (assignment 1), averaged over N."""
    n, c = scores.shape
    total = 0.0
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                total += max(0.0, scores[i, j] - scores[i, y[i]] + margin)
    return total / n


def test_multi_margin_loss_is_the_course_svm_loss_over_c() -> None:
    s = RNG.standard_normal((20, 7))
    y = RNG.integers(0, 7, 20)
    ours = F.multi_margin_loss(gs.tensor(s), gs.tensor(y)).item()
    assert ours * 7 == pytest.approx(svm_loss_naive(s, y), rel=1e-12)


def test_margin_only_rescales() -> None:
    """The margin does not matter: scores scaled by k with margin k give k times the loss
    (and k times the gradient), so changing the margin only rescales W."""
    s = RNG.standard_normal((20, 7))
    y = gs.tensor(RNG.integers(0, 7, 20))
    base = F.multi_margin_loss(gs.tensor(s), y, margin=1.0).item()
    for k in (0.1, 3.0, 10.0):
        assert F.multi_margin_loss(gs.tensor(k * s), y, margin=k).item() == pytest.approx(k * base)


# ---------------------------------------------------------------- fused vs composed
def test_fused_cross_entropy_equals_log_softmax_then_nll() -> None:
    """The fused op (one graph node) equals the composition the course writes first."""
    x = RNG.standard_normal((6, 5, 3))
    y = gs.tensor(RNG.integers(0, 5, (6, 3)))
    w = gs.tensor(RNG.uniform(0.5, 2, 5))
    a = gs.tensor(x, requires_grad=True)
    b = gs.tensor(x, requires_grad=True)
    fused = F.cross_entropy(a, y, weight=w)
    composed = F.nll_loss(gs.log_softmax(b, dim=1), y, weight=w)
    fused.backward()
    composed.backward()
    np.testing.assert_allclose(fused.item(), composed.item(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-15)
    # one node, straight from the scores: no log_softmax node in between
    assert fused.grad_fn.next[0] is a


def test_cross_entropy_gradient_is_softmax_minus_onehot() -> None:
    x = RNG.standard_normal((4, 6))
    y = RNG.integers(0, 6, 4)
    t = gs.tensor(x, requires_grad=True)
    F.cross_entropy(t, gs.tensor(y), reduction="sum").backward()
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(4), y] -= 1
    np.testing.assert_allclose(t.grad.numpy(), p, rtol=1e-12)


def test_backward_twice_with_retain_graph() -> None:
    """The backwards leave their saved arrays intact."""
    cases = [
        (F.cross_entropy, scores(4, 5), labels(5, 4), {"label_smoothing": 0.1}),
        (F.cross_entropy, scores(4, 5), probs(4, 5), {}),
        (F.nll_loss, -probs(4, 5), labels(5, 4), {}),
        (F.multi_margin_loss, scores(4, 5), labels(5, 4), {"p": 2}),
        (F.binary_cross_entropy, probs(4, 5), probs(4, 5), {}),
        (F.binary_cross_entropy_with_logits, scores(4, 5), probs(4, 5), {}),
        (F.mse_loss, scores(4, 5), scores(4, 5), {}),
        (F.huber_loss, scores(4, 5), scores(4, 5), {}),
        (F.kl_div, scores(4, 5), probs(4, 5), {"reduction": "batchmean"}),
    ]
    for fn, x, t, kw in cases:
        a = gs.tensor(x, requires_grad=True)
        out = fn(a, gs.tensor(t), **kw)
        out.backward(retain_graph=True)
        first = a.grad.numpy().copy()
        a.grad = None
        out.backward()
        np.testing.assert_array_equal(a.grad.numpy(), first, err_msg=fn.__name__)


# ---------------------------------------------------------------- dtypes and stability
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype) -> None:
    cases = [
        (F.cross_entropy, scores(3, 4), labels(4, 3)),
        (F.cross_entropy, scores(3, 4), probs(3, 4)),
        (F.nll_loss, -probs(3, 4), labels(4, 3)),
        (F.multi_margin_loss, scores(3, 4), labels(4, 3)),
        (F.binary_cross_entropy, probs(3, 4), probs(3, 4)),
        (F.binary_cross_entropy_with_logits, scores(3, 4), probs(3, 4)),
        (F.mse_loss, scores(3, 4), scores(3, 4)),
        (F.l1_loss, scores(3, 4), scores(3, 4)),
        (F.smooth_l1_loss, scores(3, 4), scores(3, 4)),
        (F.huber_loss, scores(3, 4), scores(3, 4)),
        (lambda a, b: F.kl_div(a, b, reduction="batchmean"), scores(3, 4), probs(3, 4)),
    ]
    for fn, x, t in cases:
        a = gs.tensor(x.astype(dtype), requires_grad=True)
        b = gs.tensor(t.astype(dtype) if t.dtype.kind == "f" else t)
        w = gs.tensor(weight(4)) if fn in (F.cross_entropy, F.nll_loss) else None
        out = fn(a, b) if w is None else fn(a, b, weight=w)  # a float32 weight on float64
        out.backward()
        assert out.data.dtype == dtype, fn.__name__
        assert a.grad.data.dtype == dtype, fn.__name__


def test_stability_with_huge_scores() -> None:
    x = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], dtype=np.float32)
    a, ta = pair(x)
    y = np.array([1, 2])
    out, tout = (
        F.cross_entropy(a, gs.tensor(y)),
        torch.nn.functional.cross_entropy(ta, torch.tensor(y)),
    )
    close(out, tout)
    out.backward()
    tout.backward()
    close(a.grad, ta.grad)
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.5, 1.0, 0.0], dtype=np.float32)
    loss = F.binary_cross_entropy_with_logits(gs.tensor(z), gs.tensor(t), reduction="none")
    assert np.all(np.isfinite(loss.numpy()))
    np.testing.assert_allclose(loss.numpy(), [1000.0, 0.0, math.log(2), 0.0, 1000.0], atol=1e-6)


def test_empty_batch_mean_is_nan_as_torch() -> None:
    x = gs.zeros(0, 3, requires_grad=True)
    out = F.cross_entropy(x, gs.tensor(np.zeros(0, dtype=np.int64)))
    assert math.isnan(out.item())
    out.backward()
    assert x.grad.shape == (0, 3)
    assert math.isnan(F.mse_loss(gs.zeros(0), gs.zeros(0)).item())


def test_all_targets_ignored() -> None:
    x = gs.tensor(scores(3, 4), requires_grad=True)
    y = gs.tensor(np.array([-100, -100, -100]))
    assert math.isnan(F.cross_entropy(x, y).item())  # 0 / 0, as PyTorch
    out = F.cross_entropy(x, y, reduction="sum")
    assert out.item() == 0.0
    out.backward()
    assert not np.any(x.grad.numpy())


# ---------------------------------------------------------------- warnings
def test_broadcast_target_warns() -> None:
    with pytest.warns(UserWarning, match=r"mse_loss: using a target size \(3,\).*\(3, 1\)"):
        out = F.mse_loss(gs.zeros(3, 1), gs.ones(3), reduction="none")
    assert out.shape == (3, 3)


def test_kl_div_mean_warns() -> None:
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(gs.zeros(2, 3), gs.ones(2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(gs.zeros(2, 3), gs.ones(2, 3), reduction="batchmean")


# ---------------------------------------------------------------- errors a learner understands
def errors():
    x, y = gs.randn(4, 10), gs.tensor([1, 2, 3, 4])
    return [
        (
            ValueError,
            r"cross_entropy: expected target of shape \(4,\) for input of shape \(4, 10\), got \(5,\)",
            lambda: F.cross_entropy(x, gs.tensor([1, 2, 3, 4, 5])),
        ),
        (
            ValueError,
            r"cross_entropy: target 12 is out of bounds for 10 classes",
            lambda: F.cross_entropy(x, gs.tensor([1, 12, 3, 4])),
        ),
        (
            IndexError,
            r"nll_loss: target -1 is out of bounds for 10 classes",
            lambda: F.nll_loss(x, gs.tensor([1, -1, 3, 4])),
        ),
        (
            TypeError,
            r"cross_entropy: expected a target of integer class indices \(int64\), got float32",
            lambda: F.cross_entropy(x, gs.tensor([1.0, 2.0, 3.0, 4.0])),
        ),
        (
            TypeError,
            r"cross_entropy: a target of the input's shape \(4, 10\) holds class probabilities",
            lambda: F.cross_entropy(x, gs.zeros(4, 10, dtype=gs.int64)),
        ),
        (
            ValueError,
            r"cross_entropy: expected class probabilities of the input's shape \(4, 10\), got \(4, 9\)",
            lambda: F.cross_entropy(x, gs.zeros(4, 9)),
        ),
        (
            ValueError,
            r"cross_entropy: ignore_index is not supported for class-probability targets",
            lambda: F.cross_entropy(x, gs.zeros(4, 10), ignore_index=0),
        ),
        (
            ValueError,
            r"cross_entropy: expected class scores of shape .*, got \(\)",
            lambda: F.cross_entropy(gs.tensor(1.0), gs.tensor(0)),
        ),
        (
            ValueError,
            r"cross_entropy: expected weight of shape \(10,\) \(one value per class\), got \(3,\)",
            lambda: F.cross_entropy(x, y, weight=gs.ones(3)),
        ),
        (
            RuntimeError,
            r"cross_entropy: the loss is not differentiable with respect to 'weight'",
            lambda: F.cross_entropy(x, y, weight=gs.ones(10, requires_grad=True)),
        ),
        (
            ValueError,
            r"cross_entropy: reduction must be one of 'mean', 'sum', 'none', got 'avg'",
            lambda: F.cross_entropy(x, y, reduction="avg"),
        ),
        (
            ValueError,
            r"cross_entropy: label_smoothing must be between 0.0 and 1.0, got -0.1",
            lambda: F.cross_entropy(x, y, label_smoothing=-0.1),
        ),
        (
            TypeError,
            r"cross_entropy: argument 'target' must be a Tensor, not list",
            lambda: F.cross_entropy(x, [1, 2, 3, 4]),
        ),
        (
            TypeError,
            r"cross_entropy: expected a floating point input, got int64",
            lambda: F.cross_entropy(gs.zeros(4, 10, dtype=gs.int64), y),
        ),
        (
            ValueError,
            r"multi_margin_loss: only p == 1 and p == 2 are supported, got p=3",
            lambda: F.multi_margin_loss(x, y, p=3),
        ),
        (
            ValueError,
            r"multi_margin_loss: expected class scores of shape \(C,\) or \(N, C\), got \(4, 10, 1\)",
            lambda: F.multi_margin_loss(gs.zeros(4, 10, 1), y),
        ),
        (
            ValueError,
            r"multi_margin_loss: target 10 is out of bounds for 10 classes",
            lambda: F.multi_margin_loss(x, gs.tensor([1, 10, 2, 3])),
        ),
        (
            ValueError,
            r"binary_cross_entropy: all elements of input should be probabilities between 0 and 1, got values in \[0, 1.5\].*with_logits",
            lambda: F.binary_cross_entropy(gs.tensor([0.0, 1.5]), gs.tensor([0.0, 1.0])),
        ),
        (
            ValueError,
            r"binary_cross_entropy: expected target of the input's shape \(2,\), got \(2, 1\)",
            lambda: F.binary_cross_entropy(gs.tensor([0.5, 0.5]), gs.ones(2, 1)),
        ),
        (
            ValueError,
            r"binary_cross_entropy_with_logits: weight of shape \(3,\) does not broadcast to the input's shape \(4, 10\)",
            lambda: F.binary_cross_entropy_with_logits(x, gs.zeros(4, 10), weight=gs.ones(3)),
        ),
        (
            ValueError,
            r"mse_loss: target of shape \(3,\) does not broadcast with input of shape \(4, 10\)",
            lambda: F.mse_loss(x, gs.zeros(3)),
        ),
        (
            ValueError,
            r"smooth_l1_loss: beta must be >= 0, got -1",
            lambda: F.smooth_l1_loss(x, x, beta=-1),
        ),
        (
            ValueError,
            r"huber_loss: delta must be positive, got 0",
            lambda: F.huber_loss(x, x, delta=0),
        ),
        (
            ValueError,
            r"kl_div: reduction must be one of 'mean', 'sum', 'none', 'batchmean', got 'batch'",
            lambda: F.kl_div(x, x, reduction="batch"),
        ),
        (
            TypeError,
            r"mse_loss: argument 'input' must be a Tensor, not ndarray",
            lambda: F.mse_loss(np.zeros(3), gs.zeros(3)),
        ),
    ]


@pytest.mark.parametrize(("kind", "message", "call"), errors())
def test_error_messages(kind, message, call) -> None:
    with pytest.raises(kind, match=message):
        call()


def test_out_of_bounds_is_index_error_and_value_error() -> None:
    assert issubclass(ClassIndexError, IndexError)
    assert issubclass(ClassIndexError, ValueError)
    # a valid-range ignore_index is not out of bounds; other negatives are
    F.cross_entropy(gs.randn(2, 3), gs.tensor([-100, 2]))
    F.cross_entropy(gs.randn(2, 3), gs.tensor([-5, 2]), ignore_index=-5)
    with pytest.raises(ClassIndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(gs.randn(2, 3), gs.tensor([3, -100]))


def test_uint8_targets_and_float64_weights() -> None:
    """Byte targets work (as in PyTorch); a weight of another dtype is cast to the input's."""
    x = gs.tensor(scores(3, 4), requires_grad=True)
    out = F.cross_entropy(x, gs.tensor(np.array([0, 3, 1], dtype=np.uint8)), weight=gs.ones(4))
    ref = F.cross_entropy(gs.tensor(x.detach().numpy()), gs.tensor([0, 3, 1]))
    assert out.dtype == gs.float32
    np.testing.assert_allclose(out.item(), ref.item())
