"""Numerical gradient checking, as the course does it (CS231n L4, assignment 1).

An analytic gradient from backprop is checked against centred differences
``(f(x + h) - f(x - h)) / 2h`` computed in float64. ``gradcheck`` checks every coordinate of
every input; ``gradcheck_directional`` checks one random direction per input (Chainer's
trick), cheap enough for large inputs. Both reduce a tensor output to a scalar with fixed
random weights, so every output element takes part.

>>> import gradschool as gs
>>> from gradschool.testing import gradcheck
>>> x = gs.randn(3, 4, dtype=gs.float64, requires_grad=True)
>>> gradcheck(lambda t: (t * t).sum(), (x,))
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd.grad_mode import no_grad
from .tensor import Tensor

__all__ = [
    "GradcheckError",
    "gradcheck",
    "gradcheck_directional",
    "numerical_gradient",
    "rel_error",
]


class GradcheckError(RuntimeError):
    """Raised when an analytic gradient disagrees with the numerical one."""


def rel_error(a: Any, b: Any) -> float:
    """The course's relative error: max over elements of |a-b| / max(1e-8, |a|+|b|)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def _as_inputs(inputs: Any) -> list[Any]:
    if isinstance(inputs, Tensor):
        return [inputs]
    return list(inputs)


def _float64_copies(inputs: Sequence[Any]) -> list[Any]:
    out = []
    for x in inputs:
        if isinstance(x, Tensor) and x.data.dtype.kind == "f":
            c = Tensor._make(np.array(x.data, dtype=np.float64))
            c.requires_grad = x.requires_grad
            out.append(c)
        else:
            out.append(x)
    return out


def _outputs(result: Any) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    return [r for r in result if isinstance(r, Tensor) and r.data.dtype.kind == "f"]


def _weights(fn: Callable[..., Any], inputs: list[Any], seed: int) -> list[np.ndarray]:
    with no_grad():
        outs = _outputs(fn(*inputs))
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape) for o in outs]


def _scalar(fn: Callable[..., Any], inputs: list[Any], weights: list[np.ndarray]) -> float:
    with no_grad():
        outs = _outputs(fn(*inputs))
    return float(
        sum(
            np.sum(np.asarray(o.data, dtype=np.float64) * w)
            for o, w in zip(outs, weights, strict=True)
        )
    )


def _analytic(
    fn: Callable[..., Any], inputs: list[Any], weights: list[np.ndarray]
) -> list[np.ndarray]:
    checked = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    for x in checked:
        x.grad = None
    outs = _outputs(fn(*inputs))
    for o, w in zip(outs, weights, strict=True):
        if o.requires_grad:
            o.backward(Tensor._make(w.astype(o.data.dtype)), retain_graph=True)
    return [
        np.zeros(x.shape) if x.grad is None else np.asarray(x.grad.data, dtype=np.float64)
        for x in checked
    ]


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Centred-difference gradient of the scalar ``f()`` with respect to array ``x`` (changed in place)."""
    grad = np.zeros(x.shape, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s gradients with respect to every input that requires grad, coordinate by coordinate.

    Inputs are copied to float64 first. Returns True, or raises ``GradcheckError`` (returns
    False when ``raise_exception=False``) naming the input and the worst coordinate.
    """
    inputs = _float64_copies(_as_inputs(inputs))
    checked = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")
    weights = _weights(fn, inputs, seed)
    analytic = _analytic(fn, inputs, weights)
    for k, (x, ga) in enumerate(zip(checked, analytic, strict=True)):
        gn = numerical_gradient(lambda: _scalar(fn, inputs, weights), x.data, eps)
        if ga.shape != gn.shape:
            msg = f"gradcheck: the gradient of input {k} has shape {ga.shape}, expected {gn.shape}"
            if raise_exception:
                raise GradcheckError(msg)
            return False
        if not np.allclose(ga, gn, atol=atol, rtol=rtol):
            i = np.unravel_index(np.argmax(np.abs(ga - gn)), ga.shape) if ga.size else ()
            msg = (
                f"gradcheck: analytic and numerical gradients of input {k} (shape {tuple(x.shape)}) differ: "
                f"at index {tuple(int(j) for j in i)} analytic {ga[i]:.6g}, numerical {gn[i]:.6g}; "
                f"rel_error {rel_error(ga, gn):.3g}"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradcheck_directional(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check gradients along one random direction per input: two evaluations instead of 2n.

    Compares ``(L(x + eps u) - L(x - eps u)) / 2 eps`` with ``sum_k <dL/dx_k, u_k>``.
    """
    inputs = _float64_copies(_as_inputs(inputs))
    checked = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck_directional: no input requires grad")
    weights = _weights(fn, inputs, seed)
    analytic = _analytic(fn, inputs, weights)
    rng = np.random.default_rng(seed + 1)
    directions = [rng.standard_normal(x.shape) for x in checked]
    directions = [u / max(np.linalg.norm(u), 1e-12) for u in directions]
    originals = [x.data.copy() for x in checked]

    def shifted(sign: float) -> float:
        for x, x0, u in zip(checked, originals, directions, strict=True):
            x.data[...] = x0 + sign * eps * u
        return _scalar(fn, inputs, weights)

    numerical = (shifted(1.0) - shifted(-1.0)) / (2 * eps)
    for x, x0 in zip(checked, originals, strict=True):
        x.data[...] = x0
    expected = float(sum(np.sum(g * u) for g, u in zip(analytic, directions, strict=True)))
    if not np.isclose(expected, numerical, atol=atol, rtol=rtol):
        msg = (
            f"gradcheck_directional: directional derivative analytic {expected:.8g} vs numerical "
            f"{numerical:.8g} (rel_error {rel_error(expected, numerical):.3g})"
        )
        if raise_exception:
            raise GradcheckError(msg)
        return False
    return True
