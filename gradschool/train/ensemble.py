"""Model ensembles: average the predictions of several models (CS231n L7 "Training Neural
Networks II", "model ensembles"), and snapshot ensembles, which get several models out of one
training run (Huang, Li, Pleiss, Liu, Hopcroft & Weinberger 2017, "Snapshot Ensembles: Train 1,
get M for free").

Why averaging helps. Train M models independently (other seeds, other architectures) and
average their class probabilities at test time: ``p(x) = (p_1(x) + ... + p_M(x)) / M``. Each
model makes errors the others partly do not, so averaging cancels part of the errors (it
lowers the variance of the prediction) while keeping what they agree on. It reliably buys a
few percent of accuracy (CS231n L7). For the loss it is even a theorem: the cross-entropy
``-log p[y]`` is convex in ``p``, so by Jensen's inequality the ensemble's loss is never above
the mean of its members' losses. The probabilities are averaged, not the logits: each member's
logits live on their own scale, its probabilities on the same one.

Snapshot ensembles. M independent runs cost M trainings. Huang et al. train once with a
*cyclic* cosine learning rate: M cycles of ``T/M`` steps each, the rate falling from ``lr`` to
almost 0 along half a cosine within each cycle,

    lr(t) = lr / 2 * (cos(pi * (t mod (T/M)) / (T/M)) + 1),        t = 0, 1, ..., T - 1,

then jumping back up. At the end of each cycle the model has settled into a minimum: its
weights are saved as a *snapshot*; the jump then throws it out towards another minimum. The
M snapshots disagree enough to make an ensemble, for the price of one run (the paper finds it
beats a single model trained for as long, on CIFAR-10/100, SVHN and Tiny ImageNet). Averaging
the *weights* of nearby points of one trajectory instead (Polyak averaging, SWA) gives one
model: ``gradschool.optim.swa_utils``.

``gradschool train --snapshots M`` uses ``snapshot_scheduler`` (stepped once per batch) and
writes ``snapshot-1.safetensors`` ... ``snapshot-M.safetensors``; ``gradschool evaluate`` averages
the snapshots of a run, or the models of several runs, with ``average_predictions``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..backend.device import to_device
from ..optim.lr_scheduler import LambdaLR
from .loop import _as_tensor, _model_device, _unpack
from .metrics import MetricAccumulator

__all__ = [
    "EnsemblePredictions",
    "predict_proba",
    "average_predictions",
    "classification_metrics",
    "SnapshotCosine",
    "snapshot_scheduler",
    "snapshot_name",
    "snapshot_files",
]


# ----------------------------------------------------------------- averaging
def predict_proba(model: Any, loader: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """The softmax probabilities of ``model`` over every batch of ``loader`` (eval mode, no
    gradients): ``(probs, targets)``, ``probs`` float64 ``(N, C)`` (rows sum to 1), ``targets``
    ``(N,)`` as the loader gives them. The model's train/eval mode is restored afterwards."""
    was_training = model.training
    device = _model_device(model)
    probs, targets = [], []
    model.eval()
    try:
        with no_grad():
            for batch in loader:
                inputs, target = _unpack(batch)
                scores = model(_as_tensor(inputs, device))
                s = np.asarray(to_device(scores.data, "cpu"), dtype=np.float64)
                if s.ndim != 2:
                    raise ValueError(
                        f"predict_proba: expected class scores of shape (N, C) from "
                        f"{type(model).__name__}, got {tuple(s.shape)}"
                    )
                e = np.exp(s - s.max(axis=1, keepdims=True))  # stable softmax
                probs.append(e / e.sum(axis=1, keepdims=True))
                t = getattr(target, "data", target)
                targets.append(np.asarray(to_device(t, "cpu")).reshape(-1))
    finally:
        model.train(was_training)
    if not probs:
        raise ValueError("predict_proba: the loader gave no batches")
    return np.concatenate(probs), np.concatenate(targets)


@dataclass
class EnsemblePredictions:
    """What ``average_predictions`` returns: ``probs`` ``(N, C)``, the mean of the members'
    probabilities; ``members``, each member's ``(N, C)`` probabilities; ``targets`` ``(N,)``."""

    probs: np.ndarray
    members: list[np.ndarray] = field(default_factory=list)
    targets: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def metrics(self, topk: int = 5, confusion: bool = False) -> dict[str, Any]:
        """The ensemble's ``classification_metrics``."""
        return classification_metrics(self.probs, self.targets, topk=topk, confusion=confusion)

    def member_metrics(self, topk: int = 5) -> list[dict[str, Any]]:
        """Each member's ``classification_metrics``, in order."""
        return [classification_metrics(p, self.targets, topk=topk) for p in self.members]


def average_predictions(
    models: Iterable[Any], loader: Iterable[Any], weights: Iterable[float] | None = None
) -> EnsemblePredictions:
    """Run every model of ``models`` over ``loader`` and average their softmax probabilities
    (``weights``: one non-negative number per model, normalised; default equal).

    ``models`` may be a generator that builds each model when asked, so only one model is in
    memory at a time (the members of a snapshot ensemble are loaded from files one by one).
    ``loader`` must give the same examples in the same order each time (no shuffling): the
    targets are checked to agree. Returns an ``EnsemblePredictions``.
    """
    members: list[np.ndarray] = []
    targets: np.ndarray | None = None
    for i, model in enumerate(models):
        probs, t = predict_proba(model, loader)
        if targets is None:
            targets = t
        elif t.shape != targets.shape or not np.array_equal(t, targets):
            raise ValueError(
                f"average_predictions: the loader gave other targets for model {i} than for "
                "model 0; it must give the same examples in the same order (shuffle=False)"
            )
        if members and probs.shape != members[0].shape:
            raise ValueError(
                f"average_predictions: model {i} gives probabilities of shape {probs.shape}, "
                f"model 0 {members[0].shape}; members must predict the same classes"
            )
        members.append(probs)
    if not members:
        raise ValueError("average_predictions: no models given")
    w = np.ones(len(members)) if weights is None else np.asarray(list(weights), np.float64)
    if w.shape != (len(members),) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(
            f"average_predictions: expected {len(members)} non-negative weights (one per model) "
            f"with a positive sum, got {w.tolist()}"
        )
    w = w / w.sum()
    mean = sum(wi * p for wi, p in zip(w, members, strict=True))
    assert targets is not None
    return EnsemblePredictions(np.asarray(mean), members, targets)


def classification_metrics(
    probs: np.ndarray, targets: np.ndarray, topk: int = 5, confusion: bool = False
) -> dict[str, Any]:
    """Metrics of class probabilities ``probs`` ``(N, C)`` against class indices ``targets``
    ``(N,)``: ``loss`` (the mean negative log-likelihood ``-log p[y]``, i.e. the
    cross-entropy), ``accuracy``, ``top{k}_accuracy`` (with at least ``topk`` classes),
    ``confusion_matrix`` when asked, and ``n`` — the keys of ``gradschool.train.evaluate``."""
    probs = np.asarray(probs, np.float64)
    targets = np.asarray(targets).astype(np.int64)
    if probs.ndim != 2 or targets.shape != (probs.shape[0],):
        raise ValueError(
            f"classification_metrics: expected probs (N, C) and targets (N,), got "
            f"{tuple(probs.shape)} and {tuple(targets.shape)}"
        )
    picked = probs[np.arange(len(targets)), targets]
    loss = float(-np.log(np.maximum(picked, np.finfo(np.float64).tiny)).mean())
    acc = MetricAccumulator(topk=topk, confusion=confusion)
    acc.update(loss, probs, targets)
    out = acc.compute()
    out["n"] = acc.count
    return out


# ----------------------------------------------------------------- snapshot ensembles
class SnapshotCosine:
    """The learning-rate factor of a snapshot ensemble: ``factor(t) = (cos(pi * (t mod L) / L)
    + 1) / 2`` for step ``t = 0, 1, ...`` and cycle length ``L = steps_per_cycle``: 1 at the start
    of each cycle, close to 0 at its end. A callable object (not a lambda), so ``LambdaLR``
    saves it in its ``state_dict``."""

    def __init__(self, steps_per_cycle: int) -> None:
        if isinstance(steps_per_cycle, bool) or not isinstance(steps_per_cycle, int):
            raise TypeError(
                f"SnapshotCosine: steps_per_cycle must be an int, got {steps_per_cycle!r}"
            )
        if steps_per_cycle < 1:
            raise ValueError(
                f"SnapshotCosine: steps_per_cycle must be positive, got {steps_per_cycle}"
            )
        self.steps_per_cycle = steps_per_cycle

    def __call__(self, step: int) -> float:
        t = step % self.steps_per_cycle
        return (math.cos(math.pi * t / self.steps_per_cycle) + 1) / 2


def snapshot_scheduler(optimizer: Any, steps_per_cycle: int) -> LambdaLR:
    """The cyclic cosine schedule of Huang et al. as a ``LambdaLR`` (``SnapshotCosine``), to
    be stepped after every batch. For ``E`` epochs of ``B`` batches and ``M`` snapshots,
    ``steps_per_cycle = E // M * B``; the snapshots are taken after epochs ``E/M, 2E/M, ...``."""
    return LambdaLR(optimizer, SnapshotCosine(steps_per_cycle))


def snapshot_name(i: int) -> str:
    """The file name of the ``i``-th snapshot (1-based): ``snapshot-1.safetensors``."""
    return f"snapshot-{i}.safetensors"


def snapshot_files(run: str | Path) -> list[Path]:
    """The snapshot files of the run folder ``run``, in order (``snapshot-1.safetensors`` ...);
    empty when it has none."""
    found = []
    for path in Path(run).glob("snapshot-*.safetensors"):
        m = re.fullmatch(r"snapshot-(\d+)\.safetensors", path.name)
        if m:
            found.append((int(m.group(1)), path))
    return [p for _, p in sorted(found)]
