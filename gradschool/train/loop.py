"""The fit loop: epochs of forward, loss, backward, update; then validation (CS231n L6-L7).

``fit`` is the loop every training script writes by hand, once, with the habits of the
lectures built in:

- a progress bar with the batch loss and the throughput (images/s);
- per-epoch train and validation metrics (loss, accuracy, top-5), logged to CSV and JSON
  and drawn as ``curves.png``;
- babysitting (``guards``): the first loss is compared with ``ln(C)``, and a NaN or exploding
  loss stops the run with ``TrainingDiverged`` instead of wasting the remaining epochs;
- learning-rate schedules stepped per epoch (``ReduceLROnPlateau`` with the monitored
  metric) or per batch (``OneCycleLR``, ``CyclicLR``);
- early stopping on the validation loss or accuracy, and the best weights kept;
- a checkpoint after every epoch, from which ``resume=True`` continues *exactly*: a run
  stopped after epoch 1 and resumed ends with the same numbers as one never stopped.

``evaluate`` runs a model over a loader without gradients and returns the mean loss,
accuracy, top-5 accuracy (with 5 or more classes) and optionally the confusion matrix.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..backend.device import device_of, to_device
from ..io import remove_temporaries
from ..nn.functional import cross_entropy
from ..tensor import Tensor
from .checkpoint import load_checkpoint, load_model_weights, save_checkpoint
from .curves import plot_curves
from .guards import LossGuard, check_initial_loss
from .log import write_csv, write_json
from .metrics import MetricAccumulator
from .progress import progress_bar

__all__ = ["fit", "evaluate", "History"]

CHECKPOINT = "checkpoint.safetensors"
BEST = "best.safetensors"
_PER_BATCH_SCHEDULERS = ("OneCycleLR", "CyclicLR")


@dataclass
class History:
    """What ``fit`` returns: one record (dict) per epoch, and the run's summary.

    ``history["val_loss"]`` gives the list of that metric over epochs (like Keras'
    ``history.history``); ``history[-1]`` the last epoch's record.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    monitor: str = "val_loss"
    best_epoch: int | None = None
    best_value: float | None = None
    stopped_early: bool = False
    initial_loss: float | None = None

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, int):
            return self.records[key]
        return [r.get(key) for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs_completed": len(self.records),
            "monitor": self.monitor,
            "best_epoch": self.best_epoch,
            f"best_{self.monitor}": self.best_value,
            "stopped_early": self.stopped_early,
            "initial_loss": self.initial_loss,
            "history": self.records,
        }


# ----------------------------------------------------------------- helpers
def _unpack(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, list | tuple) and len(batch) == 2:
        return batch[0], batch[1]
    raise TypeError(
        f"fit/evaluate: each batch must be an (inputs, targets) pair, got {type(batch).__name__}"
        + (f" of length {len(batch)}" if isinstance(batch, list | tuple) else "")
    )


def _as_tensor(x: Any, device: Any) -> Any:
    if not isinstance(x, Tensor):
        x = Tensor(x) if isinstance(x, np.ndarray) else x
    if device is not None and isinstance(x, Tensor) and device_of(x.data) != device:
        x = Tensor._make(to_device(x.data, device))
    return x


def _model_device(model: Any) -> Any:
    for p in model.parameters():
        return device_of(p.data)
    return None


def _num_batches(loader: Any) -> int:
    try:
        return len(loader)
    except TypeError:
        return 0


def _lr(optimizer: Any) -> float:
    return float(optimizer.param_groups[0]["lr"])


# ----------------------------------------------------------------- evaluate
def evaluate(
    model: Any,
    loader: Iterable[Any],
    loss_fn: Callable[[Any, Any], Tensor] = cross_entropy,
    *,
    topk: int = 5,
    confusion: bool = False,
    progress: bool = False,
    desc: str = "eval",
) -> dict[str, Any]:
    """Evaluate ``model`` on every batch of ``loader`` in eval mode, without gradients.

    Returns ``{"loss", "accuracy", "top5_accuracy", "n"}`` — ``loss`` is the mean over
    examples; the accuracies are present when the outputs are class scores ``(N, C)`` and
    the targets class indices ``(N,)`` (top-k only with at least ``topk`` classes);
    ``confusion=True`` adds ``"confusion_matrix"`` (a ``C x C`` nested list, rows = truth).
    The model's train/eval mode is restored afterwards.
    """
    was_training = model.training
    device = _model_device(model)
    acc = MetricAccumulator(topk=topk, confusion=confusion)
    bar = progress_bar(_num_batches(loader), desc=desc, enabled=progress)
    model.eval()
    try:
        with no_grad():
            for batch in loader:
                inputs, targets = _unpack(batch)
                inputs, targets = _as_tensor(inputs, device), _as_tensor(targets, device)
                output = model(inputs)
                acc.update(float(loss_fn(output, targets).item()), output, targets)
                bar.update(1)
    finally:
        bar.close()
        model.train(was_training)
    out = acc.compute()
    out["n"] = acc.count
    return out


# ----------------------------------------------------------------- fit
def fit(
    model: Any,
    train_loader: Iterable[Any],
    optimizer: Any,
    *,
    epochs: int,
    loss_fn: Callable[[Any, Any], Tensor] = cross_entropy,
    val_loader: Iterable[Any] | None = None,
    scheduler: Any = None,
    scheduler_interval: str | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    resume: bool | str | os.PathLike[str] = False,
    early_stopping_patience: int | None = None,
    monitor: str | None = None,
    min_delta: float = 0.0,
    restore_best: bool = False,
    max_grad_norm: float | None = None,
    explode_factor: float | None = 1e3,
    check_initial: bool = True,
    progress: bool = True,
    verbose: bool = True,
    plot: bool = True,
    on_epoch_end: Callable[[int, dict[str, Any]], None] | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs over ``train_loader`` with ``optimizer``.

    Shapes: each batch is ``(inputs, targets)``; ``loss_fn(model(inputs), targets)`` must be
    a scalar (the batch mean). For classification (scores ``(N, C)``, integer targets
    ``(N,)``) accuracy and top-5 accuracy are reported too. The train metrics are averages
    over the epoch's batches, taken while the weights change (as Keras reports them); the
    validation metrics are measured after the epoch, in eval mode.

    - ``val_loader``: evaluated after every epoch (``val_loss``, ``val_accuracy``).
    - ``scheduler``: stepped after every epoch (``ReduceLROnPlateau`` gets the monitored
      metric), or after every batch for ``OneCycleLR``/``CyclicLR``
      (``scheduler_interval="epoch"``/``"step"`` overrides).
    - ``out_dir``: where ``checkpoint.safetensors`` (every epoch), ``best.safetensors`` (the
      best epoch by ``monitor``), ``log.csv``, ``metrics.json`` and ``curves.png`` go.
    - ``resume``: ``True`` continues from ``out_dir/checkpoint.safetensors``; a path (a file
      or a run folder) continues from that checkpoint. Model, optimiser, scheduler, random
      generators (the default one and ``train_loader.generator``) and the history are
      restored, so the run continues exactly; ``epochs`` is the total, not the number left.
    - ``monitor``: ``"val_loss"`` (default with a ``val_loader``, else ``"train_loss"``),
      ``"val_accuracy"``, ... — decides the best epoch, early stopping and ReduceLROnPlateau;
      accuracies are maximised, everything else minimised.
    - ``early_stopping_patience``: stop after this many epochs without an improvement of
      ``monitor`` by more than ``min_delta``. ``restore_best``: load the best epoch's weights
      at the end.
    - ``max_grad_norm``: clip the global gradient norm (CSC321 L15) before each step.
    - ``explode_factor``: raise ``TrainingDiverged`` if the loss exceeds this multiple of the
      first loss (NaN/inf always raises). ``check_initial``: compare the first loss with
      ``ln(C)`` and print a note when far off.
    - ``progress``: the per-batch bar; ``verbose``: per-epoch lines and notes; ``plot``:
      write ``curves.png`` (matplotlib if installed, a plain raster plot otherwise).
    - ``on_epoch_end(epoch, record)``: called after each epoch's metrics, before its checkpoint
      is written (so a file it saves, such as a snapshot, is never missing after a resume).

    Returns a ``History``.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    if not hasattr(optimizer, "param_groups"):  # else an AttributeError at the first lr read
        raise TypeError(
            "fit: expected an optimizer such as gradschool.optim.SGD(model.parameters(), lr=0.1), "
            f"got {type(optimizer).__name__}"
        )
    if early_stopping_patience is not None and early_stopping_patience < 1:
        raise ValueError(
            f"fit: early_stopping_patience must be a positive int or None, got {early_stopping_patience!r}"
        )
    monitor = monitor or ("val_loss" if val_loader is not None else "train_loss")
    if monitor.startswith("val_") and val_loader is None:
        raise ValueError(f"fit: monitor={monitor!r} needs a val_loader")
    maximise = "accuracy" in monitor
    if scheduler_interval is None:
        per_step = type(scheduler).__name__ in _PER_BATCH_SCHEDULERS
    elif scheduler_interval in ("epoch", "step"):
        per_step = scheduler_interval == "step"
    else:
        raise ValueError(
            f"fit: scheduler_interval must be 'epoch', 'step' or None, got {scheduler_interval!r}"
        )
    if resume and out_dir is None and not isinstance(resume, str | os.PathLike):
        raise ValueError("fit: resume=True needs out_dir (or pass the checkpoint path as resume=)")

    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        remove_temporaries(out)  # what a writer killed mid-file left behind
    generator = getattr(train_loader, "generator", None)
    gens = {"train_loader": generator} if generator is not None else {}
    device = _model_device(model)
    guard = LossGuard(explode_factor)
    history = History(monitor=monitor)
    bad_epochs = 0
    best_weights: dict[str, np.ndarray] | None = None
    start_epoch = 0

    def say(message: str) -> None:
        if verbose:
            print(message, flush=True)

    if resume:
        path = Path(resume) if isinstance(resume, str | os.PathLike) else out / CHECKPOINT  # type: ignore[operator]
        if path.is_dir():
            path = path / CHECKPOINT
        if not path.exists():
            raise FileNotFoundError(f"fit: cannot resume, no checkpoint at {path}")
        state = load_checkpoint(path, model, optimizer, scheduler, generators=gens)
        start_epoch = state["epoch"]
        t = state["trainer"]
        history = History(
            records=list(t.get("history", [])),
            monitor=t.get("monitor", monitor),
            best_epoch=t.get("best_epoch"),
            best_value=t.get("best_value"),
            stopped_early=False,
            initial_loss=t.get("initial_loss"),
        )
        bad_epochs = int(t.get("bad_epochs", 0))
        guard.load_state_dict(t.get("guard", {}))
        if restore_best and out is not None and (out / BEST).exists():
            best_weights = _best_from_file(model, out / BEST)
        say(f"resumed from {path} after epoch {start_epoch}")
        if start_epoch >= epochs:
            say(
                f"nothing to do: the checkpoint has already trained {start_epoch} of {epochs} epochs"
            )

    last_plot = -math.inf
    global_step = sum(int(r.get("steps", 0)) for r in history.records)
    for epoch in range(start_epoch + 1, epochs + 1):
        model.train()
        acc = MetricAccumulator()
        lr = _lr(optimizer)
        bar = progress_bar(
            _num_batches(train_loader), desc=f"epoch {epoch}/{epochs}", enabled=progress
        )
        started = time.perf_counter()
        steps = 0
        try:
            for batch in train_loader:
                steps += 1
                inputs, targets = _unpack(batch)
                inputs, targets = _as_tensor(inputs, device), _as_tensor(targets, device)
                output = model(inputs)
                loss = loss_fn(output, targets)
                value = float(loss.item())
                if global_step == 0:
                    history.initial_loss = value
                    if check_initial and verbose and getattr(output, "ndim", 0) == 2:
                        c = int(output.shape[1])
                        bar.write(
                            f"initial loss {value:.4f} (uniform guessing: ln({c}) = {np.log(c):.4f})"
                        )
                        note = check_initial_loss(value, c)
                        if note:
                            bar.write(note)
                guard.check(value, epoch=epoch, step=steps, lr=_lr(optimizer))
                optimizer.zero_grad()
                loss.backward()
                if max_grad_norm is not None:
                    from ..nn.utils import clip_grad_norm_

                    clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
                if scheduler is not None and per_step:
                    scheduler.step()
                global_step += 1
                acc.update(value, output, targets)
                rate = acc.count / max(time.perf_counter() - started, 1e-9)
                bar.update(1, postfix=f"loss {value:.4f}  {rate:,.0f} img/s")
        finally:
            bar.close()
        if steps == 0:  # else a loss of 0.0 is recorded and an untrained model checkpointed
            raise ValueError(
                f"fit: the training loader gave no batches in epoch {epoch} (an empty dataset, "
                "or drop_last=True with a batch_size larger than the dataset?)"
            )
        seconds = time.perf_counter() - started
        record: dict[str, Any] = {"epoch": epoch, "lr": lr}
        record.update({f"train_{k}": v for k, v in acc.compute().items()})
        if val_loader is not None:
            val = evaluate(model, val_loader, loss_fn)
            val.pop("n", None)
            record.update({f"val_{k}": v for k, v in val.items()})
        record.update(
            steps=steps,
            seconds=round(seconds, 3),
            images_per_s=round(acc.count / max(seconds, 1e-9), 1),
        )
        history.records.append(record)

        value = record.get(monitor)
        if value is None:
            raise ValueError(
                f"fit: monitor={monitor!r} is not among the epoch's metrics {sorted(record)}"
            )
        improved = history.best_value is None or (
            value > history.best_value + min_delta
            if maximise
            else value < history.best_value - min_delta
        )
        if improved:
            history.best_value, history.best_epoch, bad_epochs = float(value), epoch, 0
            if restore_best:
                best_weights = {k: v.data.copy() for k, v in model.state_dict().items()}
        else:
            bad_epochs += 1
        if scheduler is not None and not per_step:
            if type(scheduler).__name__ == "ReduceLROnPlateau":
                scheduler.step(value)
            else:
                scheduler.step()
        say(_epoch_line(record, epochs, monitor if improved and len(history) > 1 else None))

        if on_epoch_end is not None:
            on_epoch_end(epoch, record)
        if early_stopping_patience is not None and bad_epochs >= early_stopping_patience:
            history.stopped_early = True
        if out is not None:
            # The checkpoint is the commit point, written last: a kill before it replays this
            # epoch from the previous one, rewriting these files alike; a kill after it finds
            # best.safetensors and the logs already up to date (test_crash_safety.py).
            if improved:
                save_checkpoint(
                    out / BEST,
                    model,
                    epoch=epoch,
                    trainer_state={"monitor": monitor, "best_value": history.best_value},
                )
            write_csv(out / "log.csv", history.records)
            write_json(out / "metrics.json", history.to_dict())
            # a plot costs ~0.2 s with matplotlib: redraw at most every 10 s, and at the end
            final = epoch == epochs or history.stopped_early
            if plot and (final or time.perf_counter() - last_plot > 10):
                _plot(history.records, out / "curves.png", say)
                last_plot = time.perf_counter()
            trainer = {
                "history": history.records,
                "monitor": monitor,
                "best_epoch": history.best_epoch,
                "best_value": history.best_value,
                "bad_epochs": bad_epochs,
                "initial_loss": history.initial_loss,
                "guard": guard.state_dict(),
            }
            save_checkpoint(
                out / CHECKPOINT,
                model,
                optimizer,
                scheduler,
                epoch=epoch,
                generators=gens,
                trainer_state=trainer,
            )
        if history.stopped_early:
            say(
                f"early stopping: {monitor} has not improved for {bad_epochs} epochs "
                f"(best {history.best_value:.4f} at epoch {history.best_epoch})"
            )
            break

    if restore_best and best_weights is None and out is not None and (out / BEST).exists():
        best_weights = _best_from_file(model, out / BEST)
    if restore_best and best_weights is not None:
        model.load_state_dict(best_weights)
        say(
            f"restored the weights of the best epoch ({history.best_epoch}, {monitor} {history.best_value:.4f})"
        )
    return history


def _best_from_file(model: Any, path: Path) -> dict[str, np.ndarray]:
    current = {k: v.data.copy() for k, v in model.state_dict().items()}
    load_model_weights(path, model)
    best = {k: v.data.copy() for k, v in model.state_dict().items()}
    model.load_state_dict(current)
    return best


_plot_warned = False


def _plot(records: list[dict[str, Any]], path: Path, say: Callable[[str], None]) -> None:
    global _plot_warned
    used = plot_curves(records, path)
    if used == "raster" and not _plot_warned:
        _plot_warned = True
        say(
            "note: matplotlib is not installed, so curves.png is a plain plot; pip install 'gradschool[train]' for labelled curves"
        )


def _epoch_line(record: dict[str, Any], epochs: int, improved: str | None) -> str:
    def metrics(prefix: str) -> str:
        parts = []
        if f"{prefix}_loss" in record:
            parts.append(f"loss {record[f'{prefix}_loss']:.4f}")
        if f"{prefix}_accuracy" in record:
            parts.append(f"acc {record[f'{prefix}_accuracy']:.4f}")
        return f"{prefix} " + " ".join(parts)

    line = f"epoch {record['epoch']}/{epochs}: {metrics('train')}"
    if "val_loss" in record:
        line += f" | {metrics('val')}"
    line += (
        f" | lr {record['lr']:.3g} | {record['seconds']:.1f}s, {record['images_per_s']:,.0f} img/s"
    )
    if improved:
        line += f"  (best {improved})"
    return line
