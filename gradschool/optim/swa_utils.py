"""Weight averaging: SWA and EMA of the parameters (CS231n L7, "Polyak averaging").

The weights at the end of training are one noisy point of SGD's walk around a minimum. An
average of the points it visited sits nearer the middle of the basin and usually tests
better, for free — an ensemble at the price of one model. Two flavours:

- **equal weights** (Polyak averaging; *Stochastic Weight Averaging*, Izmailov et al., 2018):
  ``w_avg <- w_avg + (w - w_avg) / (n + 1)`` after each of the last epochs, typically with a
  constant or cyclic rate (``SWALR``) so that the walk keeps exploring;
- **exponential moving average** (EMA): ``w_ema <- decay * w_ema + (1 - decay) * w`` after
  every step (``decay`` ~ 0.999), what many GAN and diffusion trainers evaluate.

``AveragedModel`` holds the averaged copy and is used like the model itself::

    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
    for x, y in loader:
        ...; optimizer.step()
        ema.update_parameters(model)
    update_bn(loader, ema)      # batch norm statistics for the averaged weights
    evaluate(ema)

Batch norm's running statistics belong to the weights they were measured with, so after
averaging either recompute them with one pass over the data (``update_bn``), or average them
as well (``use_buffers=True``).

Updates run in place on the parameter arrays, no graph built; the numbers equal PyTorch's
``torch.optim.swa_utils`` (its CPU formulas, including ``lerp``'s two branches).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from copy import deepcopy
from numbers import Integral
from typing import Any, Literal

from ..autograd.grad_mode import no_grad
from ..backend.device import device_of, get_array_module, to_device
from ..backend.dtype import get_default_dtype
from ..backend.dtype import long as _long
from ..creation import tensor
from ..nn.module import Module
from ..nn.modules.normalization import _BatchNorm
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _check_optimizer, _format_param
from .optimizer import Optimizer

__all__ = [
    "AveragedModel",
    "update_bn",
    "SWALR",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
]

TensorList = Sequence[Tensor]


# ----------------------------------------------------------------- in-place array updates
def _lerp_(start: Any, end: Any, weight: float) -> None:
    """``start <- start + weight * (end - start)`` in place, by PyTorch's ``lerp`` (the
    ``1 - weight`` form for large weights keeps ``weight=1`` exact)."""
    w = start.dtype.type(weight)
    diff = end - start  # the one temporary
    if abs(w) < 0.5:
        diff *= w
        start += diff
    else:
        diff *= start.dtype.type(1) - w
        get_array_module(start).subtract(end, diff, out=start)


def _as_float(array: Any) -> Any:
    """An integer array in the default float dtype (what PyTorch's int / int gives)."""
    return array.astype(get_default_dtype().np)


def _swa_(avg: Any, current: Any, n: int) -> None:
    """``avg <- avg + (current - avg) / (n + 1)`` in place: the mean of ``n + 1`` models."""
    if avg.dtype.kind in "fc":
        diff = current - avg
        diff /= n + 1
        avg += diff
    else:  # integer buffers (num_batches_tracked): computed in float, truncated back
        avg[...] = _as_float(avg) + _as_float(current - avg) / (n + 1)


def _check_decay(decay: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"EMA decay must be in [0, 1], got {decay} (typical: 0.999)")


# ----------------------------------------------------------------- averaging functions
def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[[TensorList, TensorList, Any], None]:
    """EMA over lists of tensors, in place: ``W_ema <- decay * W_ema + (1 - decay) * W``
    (computed as ``lerp(W_ema, W, 1 - decay)``). Pass as ``AveragedModel(multi_avg_fn=...)``."""
    _check_decay(decay)

    def ema_update(ema_params: TensorList, current_params: TensorList, _: Any) -> None:
        for ema, current in zip(ema_params, current_params, strict=True):
            if ema.data.dtype.kind in "fc":
                _lerp_(ema.data, current.data, 1 - decay)
            else:
                ema.data[...] = _as_float(ema.data) * decay + _as_float(current.data) * (1 - decay)

    return ema_update


def get_swa_multi_avg_fn() -> Callable[[TensorList, TensorList, Any], None]:
    """Equal-weight running mean over lists of tensors, in place (SWA)."""

    def swa_update(avg_params: TensorList, current_params: TensorList, num_averaged: Any) -> None:
        n = int(num_averaged)
        for avg, current in zip(avg_params, current_params, strict=True):
            if avg.data.dtype.kind in "fc":
                _lerp_(avg.data, current.data, 1 / (n + 1))
            else:
                _swa_(avg.data, current.data, n)

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """EMA for one tensor: returns ``decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """Equal-weight running mean for one tensor: ``avg + (current - avg) / (n + 1)``."""

    def swa_update(avg_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return avg_param + (current_param - avg_param) / (num_averaged + 1)

    return swa_update


# ----------------------------------------------------------------- the averaged model
class AveragedModel(Module):
    """A copy of ``model`` whose parameters are a running average of ``model``'s.

    ``module`` is a deep copy of ``model`` (on ``device`` if given); ``n_averaged`` (a buffer,
    saved in ``state_dict``) counts the models averaged so far. Each
    ``update_parameters(model)`` folds the model's current parameters in: the first call
    copies them, later calls apply ``multi_avg_fn(averaged_list, model_list, n_averaged)`` (in
    place, once per group of same device and dtype), or ``avg_fn(averaged, current,
    n_averaged)`` (returns the new value) per tensor, or by default the equal-weight mean.
    Buffers (batch norm's statistics) are averaged too with ``use_buffers=True``, otherwise
    copied from ``model``. Calling the AveragedModel runs ``module``'s forward.
    """

    def __init__(
        self,
        model: Module,
        device: Any = None,
        avg_fn: Callable[[Tensor, Tensor, Any], Tensor] | None = None,
        multi_avg_fn: Callable[[TensorList, TensorList, Any], None] | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: expected an nn.Module, got {type(model).__name__}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        self.module = deepcopy(model)  # no pickle: deepcopy walks the objects in memory
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=_long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _pairs(self, model: Module) -> tuple[list[Tensor], list[Tensor]]:
        if self.use_buffers:
            ours = [*self.module.parameters(), *self.module.buffers()]
            theirs = [*model.parameters(), *model.buffers()]
        else:
            ours, theirs = list(self.module.parameters()), list(model.parameters())
        what = "parameters and buffers" if self.use_buffers else "parameters"
        if len(ours) != len(theirs):
            raise ValueError(
                f"AveragedModel.update_parameters: the model has {len(theirs)} {what}, the "
                f"averaged copy has {len(ours)}; pass the model the AveragedModel was built from"
            )
        for i, (p, q) in enumerate(zip(ours, theirs, strict=True)):
            if tuple(p.shape) != tuple(q.shape):
                raise ValueError(
                    f"AveragedModel.update_parameters: {what} #{i} has shape {tuple(q.shape)} "
                    f"in the model but {tuple(p.shape)} in the averaged copy"
                )
        return ours, theirs

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters into the average (call after optimizer.step)."""
        ours, theirs = self._pairs(model)
        # the model's arrays, moved to the averaged copy's device where that differs
        current = [
            Tensor._make(to_device(q.data, device_of(p.data)))
            for p, q in zip(ours, theirs, strict=True)
        ]
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for p, q in zip(ours, current, strict=True):
                    p.data[...] = q.data
            elif self.multi_avg_fn is not None:
                for avg_list, cur_list in _group_by_device_and_dtype(ours, current):
                    self.multi_avg_fn(avg_list, cur_list, self.n_averaged)
            elif self.avg_fn is None:
                for p, q in zip(ours, current, strict=True):
                    _swa_(p.data, q.data, n)
            else:
                for p, q in zip(ours, current, strict=True):
                    new = self.avg_fn(p.detach(), q, self.n_averaged)
                    p.data[...] = new.data if isinstance(new, Tensor) else new
            if not self.use_buffers:  # keep the buffers in sync with the model
                for b, bm in zip(self.module.buffers(), model.buffers(), strict=True):
                    b.data[...] = to_device(bm.data, device_of(b.data))
        self.n_averaged.data += 1


def _group_by_device_and_dtype(
    ours: list[Tensor], current: list[Tensor]
) -> list[tuple[list[Tensor], list[Tensor]]]:
    """Pairs split by (device, dtype), as PyTorch hands them to ``multi_avg_fn`` (so a
    function may assume one dtype per call)."""
    groups: dict[tuple[str, str], tuple[list[Tensor], list[Tensor]]] = {}
    for p, q in zip(ours, current, strict=True):
        key = (str(device_of(p.data)), str(p.data.dtype))
        avg_list, cur_list = groups.setdefault(key, ([], []))
        avg_list.append(p)
        cur_list.append(q)
    return list(groups.values())


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute every batch norm's running mean and variance with one pass over ``loader``.

    Averaged weights need their own statistics. The running statistics are reset and, with
    ``momentum=None``, accumulate as an exact average over the batches. A batch is a tensor
    or a list/tuple whose first element is the input. The model's mode and momenta are
    restored afterwards.
    """
    momenta: dict[_BatchNorm, float | None] = {}
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.reset_running_stats()
            momenta[m] = m.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for m in momenta:
        m.momentum = None
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, list | tuple):
                    batch = batch[0]
                if device is not None:
                    batch = batch.to(device)
                model(batch)
    finally:
        for m, momentum in momenta.items():
            m.momentum = momentum
        model.train(was_training)


# ----------------------------------------------------------------- the SWA schedule
class SWALR(LRScheduler):
    """Anneal each group's rate to a constant ``swa_lr`` over ``anneal_epochs`` steps
    (``"cos"`` or ``"linear"``), then hold it: SWA's schedule, typically switched to for the
    last epochs while ``AveragedModel.update_parameters`` runs once per epoch."""

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | list[float],
        anneal_epochs: int = 10,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer("SWALR", optimizer)
        for lr, group in zip(
            _format_param("swa_lr", optimizer, swa_lr), optimizer.param_groups, strict=True
        ):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"SWALR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, Integral) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be an integer >= 0, got {anneal_epochs!r}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        # undo the last step's blend to recover the rate the annealing started from
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self) -> list[Any]:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use "
                "`get_last_lr()`.",
                UserWarning,
                stacklevel=2,
            )
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [
            g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs, strict=True)
        ]

    _not_saved = ("optimizer", "anneal_func")

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self._set_anneal_func(self._anneal_strategy)
