"""``AdamW``: Adam with decoupled weight decay (Loshchilov & Hutter, 2019; CS231n L7).

In Adam, L2 regularisation added to the gradient is divided by the second moment like the
rest of the gradient, so weights with large gradients are barely decayed at all: the
penalty no longer acts as weight decay. AdamW takes the decay out of the gradient and
shrinks the weights directly, ``theta <- theta * (1 - lr * weight_decay)``, before the Adam
step, which restores the regulariser (and lets the learning rate and the decay be tuned
separately). It is the usual optimiser for transformers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""AdamW, as ``torch.optim.AdamW``: ``Adam(..., decoupled_weight_decay=True)`` with
    ``weight_decay=1e-2`` by default.

    For every parameter ``theta`` with gradient ``g`` at step ``t``::

        theta <- theta * (1 - lr * weight_decay)       (decoupled decay, first)
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g * g
        theta <- theta - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)

    Args are Adam's (see ``Adam``); the state (``step``, ``exp_avg``, ``exp_avg_sq``,
    ``max_exp_avg_sq``) is Adam's too.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a saved state; the decay stays decoupled even if the state came from Adam
        (as PyTorch's AdamW does)."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
