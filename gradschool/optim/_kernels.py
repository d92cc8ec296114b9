"""Compiled parameter updates (numba; see ``backend/jit.py``).

An optimiser step is a handful of elementwise passes over every parameter: scale the
velocity, add the gradient, scale by the learning rate, subtract. NumPy runs each as its own
loop over memory (and ``lr * b`` makes a temporary); the loop here reads the parameter, its
gradient and its velocity once and writes the two updated arrays once.
"""

from __future__ import annotations

from typing import Any

from ..backend.jit import kernel, prange

__all__ = ["sgd_momentum_step"]


@kernel(parallel=True)
def sgd_momentum_step(
    p: Any,
    g: Any,
    b: Any,
    lr: Any,
    momentum: Any,
    damp: Any,
    weight_decay: Any,
    nesterov: bool,
    maximize: bool,
) -> None:
    """One ``torch.optim.SGD`` step with momentum on flat arrays, after the first (the
    velocity ``b`` exists): the formulas of ``SGD``'s docstring, per element. The scalars
    come in the parameters' dtype, so float32 arithmetic stays float32, as in NumPy."""
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d += weight_decay * p[i]
        v = momentum * b[i] + damp * d
        b[i] = v
        p[i] -= lr * (d + momentum * v if nesterov else v)
