"""``RMSprop``: AdaGrad with a leaky average instead of a sum (CS231n L7; Hinton's Coursera
lecture 6e).

AdaGrad divides each parameter's step by the root of the *sum* of its squared gradients, so
the steps shrink for ever. RMSprop keeps a *leaky* (exponentially decaying) average of the
squared gradients instead, ``v <- alpha * v + (1 - alpha) * g**2``: the per-parameter scaling
tracks the recent size of the gradient, and the learning rate no longer decays to zero.
The centred variant divides by an estimate of the gradient's variance rather than its raw
second moment; with momentum, the scaled gradient is accumulated in a velocity as in SGD.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..backend.device import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    For every parameter ``theta`` with gradient ``g`` (any shape; the state has the same
    shape)::

        g <- -g                                        if maximize
        g <- g + weight_decay * theta
        v <- alpha * v + (1 - alpha) * g * g           (``square_avg``, starts at 0)
        m <- alpha * m + (1 - alpha) * g               (``grad_avg``, if centered)
        s = sqrt(v - m * m) + eps   if centered, else   sqrt(v) + eps
        b <- momentum * b + g / s                      (``momentum_buffer``, if momentum > 0)
        theta <- theta - lr * b                        if momentum > 0
        theta <- theta - lr * g / s                    otherwise

    Args:
        params: an iterable of parameters, or of dicts defining parameter groups.
        lr: the learning rate.
        alpha: the smoothing constant (decay rate) of the leaky averages.
        eps: added to the denominator so that it is never zero.
        weight_decay: the L2 penalty.
        momentum: the momentum factor (0 turns momentum off).
        centered: normalise by the estimated variance of the gradient.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative(type(self).__name__, "learning rate", lr)
        check_non_negative(type(self).__name__, "epsilon value", eps)
        check_non_negative(type(self).__name__, "momentum value", momentum)
        check_non_negative(type(self).__name__, "weight_decay value", weight_decay)
        check_non_negative(type(self).__name__, "alpha value", alpha)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if one is given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            momentum = float(group["momentum"])
            centered, maximize = group["centered"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                xp = get_array_module(g)
                state = self.state[p]
                if not state:  # lazy: the state takes the shape, dtype and device of p
                    state["step"] = Tensor._make(np.zeros((), dtype=np.float32))
                    state["square_avg"] = Tensor._make(xp.zeros_like(p.data))
                    if momentum > 0:
                        state["momentum_buffer"] = Tensor._make(xp.zeros_like(p.data))
                    if centered:
                        state["grad_avg"] = Tensor._make(xp.zeros_like(p.data))
                step = float(state["step"]) + 1
                state["step"] = Tensor._make(np.array(step, dtype=np.float32))
                if maximize:
                    g = -g
                if weight_decay != 0:
                    g = g + weight_decay * p.data

                square_avg = state["square_avg"].data
                scratch = g * g
                scratch *= 1 - alpha
                square_avg *= alpha
                square_avg += scratch
                if centered:
                    grad_avg = state["grad_avg"].data
                    xp.subtract(g, grad_avg, out=scratch)  # leaky average of g (a lerp)
                    scratch *= 1 - alpha
                    grad_avg += scratch
                    # sqrt(E[g^2] - E[g]^2): the gradient's standard deviation
                    xp.multiply(grad_avg, grad_avg, out=scratch)
                    xp.subtract(square_avg, scratch, out=scratch)
                    xp.sqrt(scratch, out=scratch)
                else:
                    xp.sqrt(square_avg, out=scratch)
                scratch += eps
                xp.divide(g, scratch, out=scratch)  # the normalised gradient g / s
                if momentum > 0:
                    buf = state["momentum_buffer"].data
                    buf *= momentum
                    buf += scratch
                    xp.multiply(buf, lr, out=scratch)
                else:
                    scratch *= lr
                p.data -= scratch
        return loss
