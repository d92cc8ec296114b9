"""``Optimizer``: the base of every update rule (CS231n L7), with PyTorch's API.

An optimiser holds ``param_groups`` (lists of parameters, each with its own hyperparameters
such as ``lr``) and per-parameter ``state`` (momentum buffers, Adam's moments, the step
count). ``step()`` reads each parameter's ``.grad`` and updates ``.data`` in place under
``no_grad``. ``state_dict()`` has PyTorch's layout — ``{"state": {index: {...}},
"param_groups": [{..., "params": [indices]}]}`` — so checkpoints can resume a run exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..backend.device import get_array_module
from ..ops._util import as_number
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


def check_non_negative(owner: str, label: str, value: Any) -> None:
    """PyTorch's hyperparameter check and wording ("Invalid learning rate: -1"), with the
    optimiser named, and a value that is not a real number refused as such (comparing a string
    with 0 would say only that '<' is not supported)."""
    if not as_number(value, owner, label) >= 0.0:  # NaN fails too
        raise ValueError(f"{owner}: Invalid {label}: {value}")


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required: Any = _Required()


class Optimizer:
    """Base class: subclasses call ``super().__init__(params, defaults)`` and implement
    ``step(closure=None)``."""

    #: each state tensor has its parameter's shape (L-BFGS keeps flat vectors instead)
    state_shaped_like_params = True

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (e.g. a smaller lr for a
        pretrained backbone when fine-tuning)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(
                "param_group must hold its parameters under 'params', e.g. "
                f"{{'params': model.parameters(), 'lr': 0.01}}; got keys {sorted(param_group)}"
            )
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = {"params": params}
        for key, default in self.defaults.items():
            if default is required and key not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {key}"
                )
            group[key] = param_group.get(key, default)
        for key, value in param_group.items():
            if key != "params":
                group[key] = value
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (to None by default, as PyTorch 2)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.data[...] = 0

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        """The closure's loss, computed with gradients on (a step may run under no_grad)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # pragma: no cover
        raise TypeError(f"{type(self).__name__} does not define step()")

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {i: {name: value}}, "param_groups": [...]}`` with parameters replaced by
        their running index over all groups, as PyTorch lays it out."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {
                        k: (v.detach() if isinstance(v, Tensor) else deepcopy(v))
                        for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (values may be gradschool
        tensors, NumPy arrays or PyTorch tensors)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise TypeError(
                f"{name}.load_state_dict: expected the dict of 'state' and 'param_groups' that "
                f"state_dict() returned, got {got}"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for ours, saved in zip(self.param_groups, saved_groups, strict=True):
            if len(ours["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    "of optimizer's group"
                )
        by_index = {}
        for ours, saved in zip(self.param_groups, saved_groups, strict=True):
            for p, i in zip(ours["params"], saved["params"], strict=True):
                by_index[int(i)] = p
        self.state = defaultdict(dict)
        state = {}
        for i, values in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is None:
                raise ValueError(
                    f"{name}.load_state_dict: state for parameter {i}, but the saved "
                    f"param_groups number only {sorted(by_index)}"
                )
            state[p] = {k: _to_state_value(v, p) for k, v in values.items()}
            for k, v in state[p].items():
                if (
                    self.state_shaped_like_params
                    and isinstance(v, Tensor)
                    and v.ndim > 0
                    and v.shape != p.shape
                ):  # the state of another model's optimizer: step() would fail deep in NumPy
                    raise ValueError(
                        f"{name}.load_state_dict: state {k!r} of parameter {i} has shape "
                        f"{tuple(v.shape)}, but the parameter has shape {tuple(p.shape)} (was "
                        "the state saved from another model?)"
                    )
        self.state = defaultdict(dict, state)
        for ours, saved in zip(self.param_groups, saved_groups, strict=True):
            for k, v in saved.items():
                if k != "params":
                    ours[k] = deepcopy(v)


def _to_state_value(value: Any, param: Tensor) -> Any:
    """A saved state value as this library's type: arrays become tensors on the parameter's
    device (floating ones in its dtype, as PyTorch casts them); numbers stay numbers; lists
    (L-BFGS's history) are converted item by item."""
    if isinstance(value, (list, tuple)):
        return type(value)(_to_state_value(v, param) for v in value)
    if isinstance(value, Tensor):
        array = value.data
    elif hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor
        array = value.detach().cpu().numpy()
    elif isinstance(value, np.ndarray):
        array = value
    else:
        return deepcopy(value)
    xp = get_array_module(param.data)
    array = xp.array(array, copy=True)
    if array.dtype.kind == "f" and array.ndim > 0:
        array = array.astype(param.data.dtype)
    return Tensor._make(array)
