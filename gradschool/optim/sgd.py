"""``SGD``: stochastic gradient descent, with momentum and Nesterov momentum (CS231n L7).

Plain SGD steps downhill, ``theta <- theta - lr * g``. It is slow where the loss is a ravine
(steep across, shallow along: the steps zig-zag across the walls and crawl along the floor),
and it stalls at saddle points and in flat regions, where the gradient is nearly zero.

Momentum fixes both by keeping a *velocity*, a running sum of past gradients, and stepping
along it: across the ravine the gradients alternate in sign and cancel, along it they agree
and add up, so the ball picks up speed where the slope is consistent and rolls through
saddles. Nesterov momentum evaluates the gradient where the velocity is about to carry the
parameters ("look ahead") rather than where they are, which corrects an overshoot one step
earlier.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..backend import jit
from ..tensor import Tensor
from ._kernels import sgd_momentum_step
from .optimizer import Optimizer, check_non_negative

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum, as ``torch.optim.SGD``.

    For every parameter ``theta`` with gradient ``g`` (any shape; the state has the same
    shape), with ``mu = momentum``, ``tau = dampening``, ``lambda = weight_decay``::

        g <- -g                        if maximize
        g <- g + lambda * theta        (L2 regularisation, folded into the gradient)
        b <- g                         on the first step,
        b <- mu * b + (1 - tau) * g    afterwards (the velocity, ``momentum_buffer``)
        g <- g + mu * b                if nesterov (look ahead along the velocity)
        g <- b                         otherwise
        theta <- theta - lr * g

    This is PyTorch's formulation (the velocity holds gradients, the learning rate multiplies
    it on the way out) rather than the lecture's ``v <- mu * v - lr * g; theta <- theta + v``;
    the two agree while the learning rate is constant.

    Args:
        params: an iterable of parameters, or of dicts defining parameter groups.
        lr: the learning rate (step size).
        momentum: the momentum factor ``mu`` (0 turns momentum off; 0.9 is common).
        dampening: ``tau``, how much of each new gradient is left out of the velocity.
        weight_decay: the L2 penalty ``lambda``.
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: ascend the objective instead of descending it.

    >>> import gradschool as gs
    >>> w = gs.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward()
    >>> _ = opt.step()
    >>> w
    tensor([0.8000, -1.6000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative(type(self).__name__, "learning rate", lr)
        check_non_negative(type(self).__name__, "momentum value", momentum)
        check_non_negative(type(self).__name__, "weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if one is given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            # float() so that a NumPy or 0-d tensor lr cannot promote float32 updates to float64
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov, maximize = group["nesterov"], group["maximize"]
            compiled = momentum != 0 and jit.enabled()
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if compiled and _fusable(p.data, g, self.state[p].get("momentum_buffer")):
                    t = p.data.dtype.type  # float32 scalars keep float32 arithmetic
                    sgd_momentum_step(
                        p.data.reshape(-1),
                        g.reshape(-1),
                        self.state[p]["momentum_buffer"].data.reshape(-1),
                        t(lr),
                        t(momentum),
                        t(1 - dampening),
                        t(weight_decay),
                        nesterov,
                        maximize,
                    )
                    continue
                if maximize:
                    g = -g
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        # the velocity starts at the first gradient (a copy: p.grad changes)
                        state["momentum_buffer"] = buf = Tensor._make(g.copy())
                    else:
                        b = buf.data
                        b *= momentum
                        b += g if dampening == 0 else (1 - dampening) * g
                    g = g + momentum * buf.data if nesterov else buf.data
                p.data -= lr * g
        return loss


def _fusable(p: Any, g: Any, buf: Any) -> bool:
    """Whether the compiled step can take this parameter: NumPy float arrays of one dtype,
    all C-contiguous (flat views), and a velocity that already exists."""
    return (
        buf is not None
        and type(p) is np.ndarray
        and p.dtype in (np.float32, np.float64)
        and g.dtype == p.dtype
        and buf.data.dtype == p.dtype
        and p.flags.c_contiguous
        and g.flags.c_contiguous
        and buf.data.flags.c_contiguous
    )
