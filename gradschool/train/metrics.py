"""Classification metrics: accuracy, top-k accuracy, the confusion matrix (CS231n L2-L3).

Accuracy is the fraction of examples whose highest score is the true class; top-k accuracy
(ImageNet's "top-5") counts a hit when the true class is among the k highest scores; the
confusion matrix ``M[i, j]`` counts examples of true class ``i`` predicted as ``j`` (rows are
the truth, as scikit-learn's ``confusion_matrix``), so its diagonal holds the hits and the
off-diagonal cells show which classes the model mixes up.

Every function takes Tensors or arrays: scores (logits) ``(N, C)``, targets ``(N,)`` of class
indices. ``MetricAccumulator`` sums these over the batches of an epoch without keeping the
scores (constant memory however long the epoch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend.device import get_array_module, to_device
from ..tensor import Tensor

__all__ = ["accuracy", "topk_accuracy", "confusion_matrix", "MetricAccumulator"]


def _array(x: Any, name: str, op: str) -> Any:
    if isinstance(x, Tensor):
        return x.data
    if hasattr(x, "__array_interface__") or hasattr(x, "__cuda_array_interface__"):
        return x
    if isinstance(x, list | tuple):
        return np.asarray(x)
    raise TypeError(f"{op}: {name} must be a Tensor or an array, got {type(x).__name__}")


def _scores_and_targets(output: Any, target: Any, op: str) -> tuple[Any, Any]:
    scores = _array(output, "output", op)
    labels = _array(target, "target", op)
    if scores.ndim != 2:
        raise ValueError(f"{op}: expected scores of shape (N, C), got shape {tuple(scores.shape)}")
    if labels.shape != scores.shape[:1]:
        raise ValueError(
            f"{op}: expected target of shape ({scores.shape[0]},) (one class index per row of "
            f"the scores {tuple(scores.shape)}), got shape {tuple(labels.shape)}"
        )
    return scores, labels


def _count_correct(scores: Any, labels: Any) -> int:
    return int((scores.argmax(axis=1) == labels).sum())


def _count_topk(scores: Any, labels: Any, k: int) -> int:
    xp = get_array_module(scores)
    if k >= scores.shape[1]:
        return int(scores.shape[0])
    # argpartition puts the k largest scores in the last k columns in O(C), without sorting
    top = xp.argpartition(scores, -k, axis=1)[:, -k:]
    return int((top == labels[:, None]).any(axis=1).sum())


def accuracy(output: Any, target: Any) -> float:
    """Fraction of rows of ``output`` ``(N, C)`` whose argmax equals ``target`` ``(N,)``.

    ``output`` may also hold predicted class indices ``(N,)``.
    """
    pred = _array(output, "output", "accuracy")
    if pred.ndim == 1:  # already class indices
        labels = _array(target, "target", "accuracy")
        if pred.shape != labels.shape:
            raise ValueError(
                f"accuracy: predictions {tuple(pred.shape)} and target {tuple(labels.shape)} must have the same shape"
            )
        return float((pred == labels).mean()) if pred.size else 0.0
    scores, labels = _scores_and_targets(output, target, "accuracy")
    return _count_correct(scores, labels) / max(scores.shape[0], 1)


def topk_accuracy(output: Any, target: Any, k: int = 5) -> float:
    """Fraction of rows whose true class is among the ``k`` highest scores (top-k accuracy).

    Shapes: ``output`` ``(N, C)``, ``target`` ``(N,)``. Ties between scores may be broken
    either way, as with ``torch.topk``.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"topk_accuracy: k must be a positive int, got {k!r}")
    scores, labels = _scores_and_targets(output, target, "topk_accuracy")
    return _count_topk(scores, labels, k) / max(scores.shape[0], 1)


def confusion_matrix(target: Any, pred: Any, num_classes: int | None = None) -> np.ndarray:
    """The ``(C, C)`` int64 matrix of counts: row = true class, column = predicted class.

    ``target`` and ``pred`` are class indices ``(N,)`` (``pred`` may be scores ``(N, C)``:
    their argmax is taken). ``num_classes`` defaults to one more than the largest index seen.
    """
    t = to_device(_array(target, "target", "confusion_matrix"), "cpu")
    p = to_device(_array(pred, "pred", "confusion_matrix"), "cpu")
    if p.ndim == 2:
        num_classes = p.shape[1] if num_classes is None else num_classes
        p = p.argmax(axis=1)
    t, p = np.asarray(t).reshape(-1).astype(np.int64), np.asarray(p).reshape(-1).astype(np.int64)
    if t.shape != p.shape:
        raise ValueError(
            f"confusion_matrix: target has {t.size} entries but pred has {p.size}; they must match"
        )
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= num_classes):
        raise ValueError(
            f"confusion_matrix: class indices must lie in [0, {num_classes}), got values in "
            f"[{min(t.min(), p.min())}, {max(t.max(), p.max())}]"
        )
    # one bincount over the flattened cell index i * C + j fills the whole matrix at once
    cells = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return cells.reshape(num_classes, num_classes)


class MetricAccumulator:
    """Running sums over the batches of an epoch: mean loss, accuracy, top-k, confusion.

    >>> acc = MetricAccumulator(topk=5)
    >>> acc.update(loss_value, scores, targets)   # once per batch; loss_value is the batch mean
    >>> acc.compute()                             # {"loss": ..., "accuracy": ..., "top5_accuracy": ...}

    Accuracy is only counted when the scores look like classification scores ``(N, C)`` with
    integer targets ``(N,)``; for other losses (regression) only the loss is reported.
    """

    def __init__(self, topk: int = 5, confusion: bool = False) -> None:
        self.topk = topk
        self.confusion = confusion
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.loss_sum = 0.0
        self.correct = 0
        self.topk_correct = 0
        self.classified = 0
        self.num_classes: int | None = None
        self.matrix: np.ndarray | None = None

    def update(self, loss: float | None, output: Any, target: Any) -> None:
        scores = output.data if isinstance(output, Tensor) else output
        labels = target.data if isinstance(target, Tensor) else target
        n = int(scores.shape[0]) if getattr(scores, "ndim", 0) else 1
        self.count += n
        if loss is not None:
            self.loss_sum += float(loss) * n  # the batch loss is a mean: weigh it by the batch
        if (
            getattr(scores, "ndim", 0) == 2
            and getattr(labels, "ndim", -1) == 1
            and labels.dtype.kind in "iu"
            and labels.shape[0] == scores.shape[0]
        ):
            c = int(scores.shape[1])
            self.num_classes = c
            self.classified += n
            self.correct += _count_correct(scores, labels)
            if c >= self.topk:
                self.topk_correct += _count_topk(scores, labels, self.topk)
            if self.confusion:
                m = confusion_matrix(labels, scores, num_classes=c)
                self.matrix = m if self.matrix is None else self.matrix + m

    def compute(self) -> dict[str, Any]:
        """``loss`` (mean over examples), and when classifying ``accuracy`` and
        ``top{k}_accuracy`` (only with at least k classes); ``confusion_matrix`` as a nested
        list when asked for."""
        out: dict[str, Any] = {"loss": self.loss_sum / max(self.count, 1)}
        if self.classified:
            out["accuracy"] = self.correct / self.classified
            if self.num_classes is not None and self.num_classes >= self.topk:
                out[f"top{self.topk}_accuracy"] = self.topk_correct / self.classified
            if self.confusion and self.matrix is not None:
                out["confusion_matrix"] = self.matrix.tolist()
        return out
