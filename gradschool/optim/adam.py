"""``Adam``: momentum + RMSprop + bias correction (CS231n L7; Kingma & Ba, 2015).

Adam keeps two leaky averages per parameter: of the gradient (the *first moment*, a
momentum-like velocity that smooths the direction) and of the squared gradient (the *second
moment*, RMSprop's per-parameter scale). It steps along the first divided by the root of the
second. Both averages start at zero, so in the first steps they are biased towards zero (the
second far more: with ``beta2 = 0.999`` it would take ~1000 steps to warm up, and dividing by
its tiny root would make the first steps huge). *Bias correction* divides each average by
``1 - beta**t``, the total weight its terms carry after ``t`` steps, which removes that bias.
``lr=1e-3, betas=(0.9, 0.999)`` is a good default for many models.

AMSGrad divides by the running *maximum* of the second moment, so the effective step size
never grows. ``weight_decay`` here is L2 regularisation folded into the gradient (so it is
rescaled by the second moment too); AdamW (``adamw.py``) decouples it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..backend.device import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam``.

    For every parameter ``theta`` with gradient ``g`` (any shape; the state has the same
    shape), at step ``t = 1, 2, ...``::

        g <- -g                                        if maximize
        theta <- theta * (1 - lr * weight_decay)       if decoupled_weight_decay (AdamW)
        g <- g + weight_decay * theta                  otherwise (L2 in the gradient)
        m <- beta1 * m + (1 - beta1) * g               (``exp_avg``)
        v <- beta2 * v + (1 - beta2) * g * g           (``exp_avg_sq``)
        v_max <- max(v_max, v)                         (``max_exp_avg_sq``, if amsgrad)
        m_hat = m / (1 - beta1**t)                     (bias corrections)
        v_hat = v / (1 - beta2**t)                     (v_max in place of v if amsgrad)
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)

    Args:
        params: an iterable of parameters, or of dicts defining parameter groups.
        lr: the learning rate.
        betas: the decay rates ``(beta1, beta2)`` of the first and second moment.
        eps: added to the denominator so that it is never zero.
        weight_decay: the weight decay coefficient (L2 penalty unless decoupled).
        amsgrad: use the AMSGrad variant (Reddi et al., 2018).
        maximize: ascend the objective instead of descending it.
        decoupled_weight_decay: shrink the weights directly (AdamW) instead of adding
            ``weight_decay * theta`` to the gradient.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_non_negative(type(self).__name__, "learning rate", lr)
        check_non_negative(type(self).__name__, "epsilon value", eps)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        check_non_negative(type(self).__name__, "weight_decay value", weight_decay)
        defaults = {
            "lr": lr,
            "betas": (float(betas[0]), float(betas[1])),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if one is given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled = group.get("decoupled_weight_decay", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                xp = get_array_module(g)
                state = self.state[p]
                if not state:  # lazy: the state takes the shape, dtype and device of p
                    state["step"] = Tensor._make(np.zeros((), dtype=np.float32))
                    state["exp_avg"] = Tensor._make(xp.zeros_like(p.data))
                    state["exp_avg_sq"] = Tensor._make(xp.zeros_like(p.data))
                    if amsgrad:
                        state["max_exp_avg_sq"] = Tensor._make(xp.zeros_like(p.data))
                step = float(state["step"]) + 1
                state["step"] = Tensor._make(np.array(step, dtype=np.float32))
                if maximize:
                    g = -g
                if weight_decay != 0:
                    if decoupled:
                        p.data *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * p.data

                exp_avg, exp_avg_sq = state["exp_avg"].data, state["exp_avg_sq"].data
                scratch = g - exp_avg  # m moves a fraction (1 - beta1) of the way to g
                scratch *= 1 - beta1
                exp_avg += scratch
                xp.multiply(g, g, out=scratch)
                scratch *= 1 - beta2
                exp_avg_sq *= beta2
                exp_avg_sq += scratch

                bias_correction1 = 1 - beta1**step
                bias_correction2_sqrt = (1 - beta2**step) ** 0.5
                second = exp_avg_sq
                if amsgrad:
                    second = state["max_exp_avg_sq"].data
                    xp.maximum(second, exp_avg_sq, out=second)
                # the update lr * m_hat / (sqrt(v_hat) + eps), built in the scratch array
                xp.sqrt(second, out=scratch)
                scratch /= bias_correction2_sqrt
                scratch += eps
                xp.divide(exp_avg, scratch, out=scratch)
                scratch *= lr / bias_correction1
                p.data -= scratch
        return loss
