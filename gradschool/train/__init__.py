"""``gradschool.train``: the fit loop, metrics, checkpoints, progress bars, logs, curves.

>>> from gradschool.train import fit, evaluate
>>> history = fit(model, train_loader, optimizer, epochs=5, val_loader=val_loader, out_dir="runs/demo")
>>> evaluate(model, test_loader)          # {"loss": ..., "accuracy": ..., "top5_accuracy": ...}
"""

from .checkpoint import CheckpointError, load_checkpoint, load_model_weights, save_checkpoint
from .curves import plot_curves
from .guards import LossGuard, TrainingDiverged, check_initial_loss
from .log import read_json, write_csv, write_json
from .loop import History, evaluate, fit
from .metrics import MetricAccumulator, accuracy, confusion_matrix, topk_accuracy
from .progress import progress_bar

__all__ = [
    "fit",
    "evaluate",
    "History",
    "accuracy",
    "topk_accuracy",
    "confusion_matrix",
    "MetricAccumulator",
    "save_checkpoint",
    "load_checkpoint",
    "load_model_weights",
    "CheckpointError",
    "TrainingDiverged",
    "LossGuard",
    "check_initial_loss",
    "progress_bar",
    "plot_curves",
    "write_csv",
    "write_json",
    "read_json",
]
