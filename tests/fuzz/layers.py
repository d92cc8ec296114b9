"""One fuzz case of a layer: a ``gradschool.nn`` module and its ``torch.nn`` twin, built with
the same drawn arguments, given the same drawn state (weights and buffers), run in train or
eval mode, once or twice, then compared: state_dict keys, outputs, input and parameter
gradients, and the buffers afterwards (running statistics, ``num_batches_tracked``).

Inputs go through ``check.convert``, so they come in the same layouts as an op's; a layer
built with ``inplace=True`` gets a non-leaf input (``x * 1``), as in a network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import gradschool as gs
from tests.fuzz.check import (
    Case,
    backward_both,
    compare,
    compare_leaves,
    convert,
    float_arrays,
    layout_for,
)
from tests.parity.harness import Const, Sample, outputs


@dataclass
class LayerCase:
    """A drawn layer call: constructor arguments (a ``Const`` becomes a tensor of the case's
    dtype, e.g. a loss's class weights), the forward's arguments (as a ``Sample``'s), train
    or eval, and how many forward calls (running statistics move on each)."""

    kwargs: dict[str, Any]
    inputs: list[Any]
    train: bool = True
    calls: int = 1


@dataclass
class Layer:
    """A row: the two classes (or factories taking the same keyword arguments) and a sampler
    of ``LayerCase`` taking hypothesis' ``draw``."""

    name: str
    gs_cls: Callable[..., Any]
    torch_cls: Callable[..., Any]
    sample: Callable[[Any], LayerCase]
    rtol32: float = 1e-4
    atol32: float = 1e-5
    dtypes: tuple[str, ...] = ("float32", "float64")
    randomize: bool = True  # replace the constructed state by random values (not a loss's)


def default_state(key: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Random state: variances positive, counters small integers, the rest in [-1, 1)."""
    if key.endswith("num_batches_tracked"):
        return np.asarray(rng.integers(0, 5), dtype=np.int64)
    if key.endswith("running_var"):
        return rng.uniform(0.5, 2.0, shape)
    return rng.uniform(-1.0, 1.0, shape)


def _kwargs(kwargs: dict[str, Any], lib: str, dtype: str) -> dict[str, Any]:
    def one(v: Any) -> Any:
        if isinstance(v, Const):
            arr = v.array.astype(dtype) if v.array.dtype.kind == "f" else v.array
            return gs.tensor(arr) if lib == "gs" else torch.tensor(arr)
        return v

    return {k: one(v) for k, v in kwargs.items()}


def _build(layer: Layer, lc: LayerCase, lib: str, dtype: str) -> Any:
    cls = layer.gs_cls if lib == "gs" else layer.torch_cls
    module = cls(**_kwargs(lc.kwargs, lib, dtype))
    return module.to(getattr(gs if lib == "gs" else torch, dtype))


def _load_state(case: Case, layer: Layer, ours: Any, theirs: Any, dtype: str) -> list[str]:
    """Give both modules the same random state; their state_dict keys must agree."""
    sd_ours, sd_theirs = ours.state_dict(), theirs.state_dict()
    if list(sd_ours) != list(sd_theirs):
        return [f"state_dict keys {list(sd_ours)} != torch {list(sd_theirs)}"]
    if not layer.randomize:
        return []
    new = {}
    for key, value in sd_theirs.items():
        if tuple(sd_ours[key].shape) != tuple(value.shape):
            return [f"state_dict[{key!r}]: shape {tuple(sd_ours[key].shape)} != {value.shape}"]
        arr = np.asarray(default_state(key, tuple(value.shape), case.rng))
        new[key] = arr.astype(dtype) if arr.dtype.kind == "f" else arr
    theirs.load_state_dict({k: torch.tensor(v) for k, v in new.items()})
    ours.load_state_dict({k: gs.tensor(v) for k, v in new.items()})
    return []


def _nonleaf(args: list[Any]) -> list[Any]:
    """Tensors that require grad become ``x * 1`` (an in-place layer refuses a leaf)."""
    return [a * 1 if getattr(a, "requires_grad", False) else a for a in args]


def _compare_params(ours: Any, theirs: Any, **tol: float) -> list[str]:
    found = []
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        t = named[name]
        if t.grad is None:
            if p.grad is not None and np.any(p.grad.numpy()):
                found.append(f"grad of {name}: torch has none, gradschool's is non-zero")
        elif p.grad is None:
            found.append(f"grad of {name}: gradschool has none")
        else:
            found.append(compare(p.grad, t.grad, f"grad of {name}", **tol))
    return found


def run_layer(layer: Layer, case: Case) -> list[str]:
    lc: LayerCase = case.sample(layer.sample)
    dtype = case.choice(layer.dtypes)
    sample = Sample(lc.inputs)
    layouts = [layout_for(case, a.shape) for a in float_arrays(sample)]
    grad = case.rng.random() < 0.9
    case.notes += [dtype, "train" if lc.train else "eval", f"layouts={layouts}", f"grad={grad}"]
    tol = {"rtol": 1e-7, "atol": 1e-9} if dtype == "float64" else {}
    tol = tol or {"rtol": layer.rtol32, "atol": layer.atol32}
    theirs_m, ours_m = _build(layer, lc, "torch", dtype), _build(layer, lc, "gs", dtype)
    found = _load_state(case, layer, ours_m, theirs_m, dtype)
    if found:
        return found
    theirs_m.train(lc.train)
    ours_m.train(lc.train)
    if not grad:
        theirs_m.requires_grad_(False)
        ours_m.requires_grad_(False)
    th_args, th_leaves = convert(sample, "torch", dtype, grad, layouts)
    gs_args, gs_leaves = convert(sample, "gs", dtype, grad, layouts)
    if lc.kwargs.get("inplace"):
        th_args, gs_args = _nonleaf(th_args), _nonleaf(gs_args)
    ours, theirs = [], []
    for call in range(lc.calls):
        # an in-place layer overwrites its input: each call gets a fresh non-leaf
        t_in = _nonleaf(th_args) if call and lc.kwargs.get("inplace") else th_args
        g_in = _nonleaf(gs_args) if call and lc.kwargs.get("inplace") else gs_args
        theirs += outputs(theirs_m(*t_in))
        ours += outputs(ours_m(*g_in))
    if len(ours) != len(theirs):
        return [f"{len(ours)} outputs, torch gives {len(theirs)}"]
    found = [
        compare(o, t, f"output {i}", **tol)
        for i, (o, t) in enumerate(zip(ours, theirs, strict=True))
    ]
    if grad:
        found += backward_both(case, ours, theirs)
        found += compare_leaves(gs_leaves, th_leaves, layouts, True, **tol)
        found += _compare_params(ours_m, theirs_m, **tol)
    found += compare_leaves(gs_leaves, th_leaves, layouts, False, **tol)
    sd_theirs = theirs_m.state_dict()
    for key, value in ours_m.state_dict().items():
        found.append(compare(value, sd_theirs[key], f"{key} afterwards", **tol))
    return [f for f in found if f]


def targets(layers: list[Layer]) -> dict[str, Callable[[Case], list[str]]]:
    """``{name: run}`` for run.py, each row's name prefixed with ``nn.``."""
    return {f"nn.{row.name}": (lambda case, row=row: run_layer(row, case)) for row in layers}
