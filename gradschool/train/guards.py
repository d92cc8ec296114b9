"""Babysitting the learning process (CS231n L6): sanity checks that run while training.

Two habits from the lecture, automated:

1. **Check the initial loss.** With small random weights a softmax classifier guesses
   uniformly, so its first cross-entropy loss should be about ``ln(C)`` (2.30 for 10
   classes). Far above means the initial scores are too large (weights initialised too big);
   far below means the task leaks the answer or the labels are wrong.
2. **Stop a run that diverges.** A NaN or infinite loss, or a loss that explodes (here,
   more than ``explode_factor`` times the first loss) almost always means the learning rate
   is too high. ``LossGuard`` stops the run at once with ``TrainingDiverged`` naming the epoch
   and step, instead of burning the rest of the epochs on NaNs.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["TrainingDiverged", "LossGuard", "check_initial_loss"]


class TrainingDiverged(RuntimeError):
    """The loss became NaN/inf or exploded: the run was stopped (lower the learning rate)."""

    def __init__(self, message: str, *, epoch: int, step: int, loss: float) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.loss = loss


class LossGuard:
    """Watches every training loss; raises ``TrainingDiverged`` on NaN/inf or an explosion.

    ``explode_factor``: the loss may not exceed this many times the first loss seen (the
    reference is the first loss of the run, kept across a resume through ``state_dict``).
    ``None`` disables the explosion check (NaN/inf is always an error).
    """

    def __init__(self, explode_factor: float | None = 1e3) -> None:
        if explode_factor is not None and not explode_factor > 1:
            raise ValueError(f"LossGuard: explode_factor must be > 1 or None, got {explode_factor}")
        self.explode_factor = explode_factor
        self.first_loss: float | None = None

    def check(self, loss: float, *, epoch: int, step: int, lr: Any = None) -> None:
        """Raise ``TrainingDiverged`` if ``loss`` (a float) is not finite or has exploded.

        ``epoch`` (1-based) and ``step`` (1-based, within the epoch) go into the message;
        ``lr`` (the current learning rate) too, when given.
        """
        lr_text = f" (lr={lr:g})" if isinstance(lr, int | float) else ""
        advice = (
            f"The learning rate{lr_text} is probably too high: try one 3-10x lower, or clip "
            "gradients (gradschool.nn.utils.clip_grad_norm_). CS231n L6: babysitting the "
            "learning process."
        )
        if not math.isfinite(loss) and self.first_loss is None:
            # no update has happened yet, so no learning rate can be the cause
            advice = (
                "This is the run's first loss, before any update: look for NaN or inf in the "
                "inputs and targets (x.isnan().any(), x.isinf().any()) or a log of 0 in the loss."
            )
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"training diverged at epoch {epoch}, step {step}: the loss is {loss}. {advice}",
                epoch=epoch,
                step=step,
                loss=loss,
            )
        if self.first_loss is None:
            self.first_loss = loss
            return
        ref = abs(self.first_loss)
        if self.explode_factor is not None and ref > 0 and loss > self.explode_factor * ref:
            raise TrainingDiverged(
                f"training diverged at epoch {epoch}, step {step}: the loss exploded to "
                f"{loss:.4g}, more than {self.explode_factor:g}x the first loss "
                f"({self.first_loss:.4g}). {advice}",
                epoch=epoch,
                step=step,
                loss=loss,
            )

    def state_dict(self) -> dict[str, Any]:
        return {"explode_factor": self.explode_factor, "first_loss": self.first_loss}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.first_loss = state.get("first_loss")


def check_initial_loss(loss: float, num_classes: int, tolerance: float = 0.5) -> str | None:
    """A note when the first cross-entropy loss is far from ``ln(num_classes)``, else None.

    "Far" means more than ``tolerance * ln(C)`` away (with ``tolerance=0.5`` and 10 classes:
    outside 1.15 to 3.45).
    """
    if num_classes < 2 or not math.isfinite(loss):
        return None
    expected = math.log(num_classes)
    if abs(loss - expected) <= tolerance * expected:
        return None
    if loss > expected:
        why = (
            "the initial scores are too large: initialise the weights smaller (e.g. "
            "Kaiming/Xavier scaling) or check the input normalisation"
        )
    else:
        why = "the model is confident before training: check that the labels are not leaked into the inputs and that the data is shuffled"
    return (
        f"note: the initial loss {loss:.3f} is far from ln({num_classes}) = {expected:.3f}, "
        f"the loss of uniform guessing over {num_classes} classes; {why} (CS231n L6)."
    )
