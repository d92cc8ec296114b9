"""``Adagrad``: a learning rate per parameter, scaled by its gradient history (CS231n L7).

SGD uses one step size for every parameter, although the loss may be steep in some
directions and flat in others. AdaGrad keeps, for every parameter, the running *sum* of its
squared gradients and divides each step by the square root of that sum: steep directions
(large gradients) get small steps, flat ones large steps, which evens out progress in a
ravine. Because the sum only grows, the effective learning rate decays towards zero over
training: good for convex problems, often too early a stop for neural networks (RMSprop's
leaky average is the fix).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..backend.device import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""AdaGrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    For every parameter ``theta`` with gradient ``g`` (any shape; the state has the same
    shape), at step ``t = 1, 2, ...``::

        g <- -g                                       if maximize
        g <- g + weight_decay * theta
        lr_t = lr / (1 + (t - 1) * lr_decay)
        sum <- sum + g * g                            (``sum`` starts at initial_accumulator_value)
        theta <- theta - lr_t * g / (sqrt(sum) + eps)

    As in PyTorch, the state (``step`` and ``sum``) of every parameter is created by the
    constructor, not on the first step.

    Args:
        params: an iterable of parameters, or of dicts defining parameter groups.
        lr: the learning rate.
        lr_decay: how fast the learning rate itself decays with the step count.
        weight_decay: the L2 penalty.
        initial_accumulator_value: the starting value of every ``sum``.
        eps: added to the denominator so that it is never zero.
        maximize: ascend the objective instead of descending it.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_non_negative(type(self).__name__, "learning rate", lr)
        check_non_negative(type(self).__name__, "lr_decay value", lr_decay)
        check_non_negative(type(self).__name__, "weight_decay value", weight_decay)
        check_non_negative(
            type(self).__name__, "initial_accumulator_value value", initial_accumulator_value
        )
        check_non_negative(type(self).__name__, "epsilon value", eps)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (see ``Optimizer``) and create their state at once."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, group["initial_accumulator_value"])

    def _init_state(self, p: Tensor, initial_accumulator_value: float) -> None:
        """``step`` = 0 and ``sum`` = the initial value (the group's own, where PyTorch reads
        the constructor's even for a group that sets another)."""
        xp = get_array_module(p.data)
        self.state[p] = {
            # the step count lives on the host as a float32 0-d tensor, as in PyTorch
            "step": Tensor._make(np.zeros((), dtype=np.float32)),
            "sum": Tensor._make(xp.full_like(p.data, initial_accumulator_value)),
        }

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if one is given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            lr_decay = float(group["lr_decay"])
            weight_decay = float(group["weight_decay"])
            eps = float(group["eps"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if not self.state.get(p):  # e.g. a state dict that lacked this parameter
                    self._init_state(p, group["initial_accumulator_value"])
                state = self.state[p]
                step = float(state["step"]) + 1
                state["step"] = Tensor._make(np.array(step, dtype=np.float32))
                if maximize:
                    g = -g
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                clr = lr / (1 + (step - 1) * lr_decay)
                xp = get_array_module(g)
                total = state["sum"].data
                scratch = g * g
                total += scratch
                # one scratch array: sqrt(sum) + eps, then g / that, then the scaled step
                xp.sqrt(total, out=scratch)
                scratch += eps
                xp.divide(g, scratch, out=scratch)
                scratch *= clr
                p.data -= scratch
        return loss
