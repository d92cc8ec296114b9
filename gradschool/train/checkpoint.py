"""Checkpoints: everything a run needs to continue exactly, in one safetensors file.

A checkpoint holds

- the model's weights, as tensors named ``model.<state_dict key>`` (``model.0.weight`` ...);
- the optimiser's state (momentum buffers, Adam's moments: tensors named after their place
  in PyTorch's ``state_dict`` layout, ``optimizer.state.0.exp_avg`` ...) and hyperparameters;
- the learning-rate scheduler's state;
- the random generators' states (gradschool's default generator, which drives dropout and
  initialisation, and the DataLoader's, which drives the shuffling), so the resumed run draws
  the same numbers the uninterrupted one would have;
- the trainer's own state (epoch, history, best metric, early-stopping counter).

Tensors are stored as tensors; everything else is JSON in the file's metadata (with
``{"__tensor__": name}`` where a tensor sat in a nested state). Nothing is pickled, so
loading a checkpoint from a stranger can never run code, and a corrupt one is refused with a
``CheckpointError`` naming the file and the piece that failed. Files are written atomically
(a temporary file in the same folder, flushed and fsynced, ``os.replace``d onto the name,
then the folder fsynced): a crash mid-write leaves the previous checkpoint intact and no
partial file. ``fit`` writes the checkpoint last in each epoch, after ``best.safetensors``
and the logs, so whatever moment a run is killed at, ``resume`` continues the same curve
(``tests/train/test_crash_safety.py`` kills one 20 times to prove it).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..backend import random as _random
from ..backend.device import to_device
from ..tensor import Tensor

__all__ = [
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "load_model_weights",
    "encode_state",
    "decode_state",
]

FORMAT = "gradschool-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that does not fit the model it is loaded into."""


# ----------------------------------------------------------------- nested state <-> JSON
def encode_state(obj: Any, prefix: str, tensors: dict[str, np.ndarray]) -> Any:
    """``obj`` as JSON-able data; its arrays/tensors go into ``tensors`` under dotted names
    starting with ``prefix`` and are replaced by ``{"__tensor__": name}``.

    Dicts with non-string keys (the optimiser's parameter indices), tuples and non-finite
    floats are tagged so that ``decode_state`` gives them back as they were.
    """
    if isinstance(obj, Tensor):
        obj = obj.data
    if hasattr(obj, "detach") and hasattr(obj, "cpu") and hasattr(obj, "numpy"):  # torch
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.generic):
        obj = obj.item()
    if hasattr(obj, "__array_interface__") or hasattr(obj, "__cuda_array_interface__"):
        tensors[prefix] = np.asarray(to_device(obj, "cpu"), order="C")
        return {"__tensor__": prefix}
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode_state(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [encode_state(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: encode_state(v, f"{prefix}.{k}", tensors) for k, v in obj.items()}
        return {
            "__items__": [
                [
                    encode_state(k, f"{prefix}.key{i}", tensors),
                    encode_state(v, f"{prefix}.{k}", tensors),
                ]
                for i, (k, v) in enumerate(obj.items())
            ]
        }
    raise TypeError(
        f"checkpoint: cannot store {prefix} of type {type(obj).__name__} (only tensors, arrays, "
        "numbers, strings, lists, tuples and dicts are saved; no pickle)"
    )


def decode_state(obj: Any, tensors: Mapping[str, np.ndarray]) -> Any:
    """The inverse of ``encode_state``: tensors come back as NumPy arrays."""
    if isinstance(obj, list):
        return [decode_state(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            name = obj["__tensor__"]
            if name not in tensors:
                raise CheckpointError(
                    f"checkpoint: the tensor {name!r} named in the metadata is missing"
                )
            return tensors[name]
        if "__float__" in obj:
            return float(obj["__float__"])
        if "__tuple__" in obj:
            return tuple(decode_state(v, tensors) for v in obj["__tuple__"])
        if "__items__" in obj:
            return {decode_state(k, tensors): decode_state(v, tensors) for k, v in obj["__items__"]}
        return {k: decode_state(v, tensors) for k, v in obj.items()}
    return obj


# ----------------------------------------------------------------- saving
def save_checkpoint(
    path: str | os.PathLike[str],
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    epoch: int = 0,
    generators: Mapping[str, Any] | None = None,
    trainer_state: Mapping[str, Any] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a checkpoint of ``model`` (and optimiser, scheduler, generators) to ``path``.

    ``generators``: named ``gradschool.Generator``s to save besides the default one (e.g.
    ``{"train_loader": loader.generator}``). ``trainer_state``: JSON-able values of the loop.
    ``metadata``: extra strings stored as they are (e.g. the model's name).
    """
    from ..io.safetensors import save_file

    tensors: dict[str, np.ndarray] = {}
    for key, value in model.state_dict().items():
        tensors[f"model.{key}"] = np.asarray(to_device(value.data, "cpu"), order="C")
    state: dict[str, Any] = {"epoch": int(epoch)}
    if optimizer is not None:
        state["optimizer"] = encode_state(optimizer.state_dict(), "optimizer", tensors)
    if scheduler is not None:
        state["scheduler"] = encode_state(scheduler.state_dict(), "scheduler", tensors)
    rng = {"default": _random.get_rng_state()}
    for name, gen in (generators or {}).items():
        if gen is not None:
            rng[name] = gen.get_state()
    state["rng"] = encode_state(rng, "rng", tensors)
    state["trainer"] = encode_state(dict(trainer_state or {}), "trainer", tensors)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta.update(
        format=FORMAT,
        epoch=str(int(epoch)),
        model_class=type(model).__name__,
        state=json.dumps(state),
    )

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # atomic: the previous checkpoint stays whole until the new one is complete
    save_file(tensors, path, metadata=meta)


# ----------------------------------------------------------------- loading
def _read(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    from ..io.safetensors import load

    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.safetensors"
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        tensors, meta = load(path)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"could not read the checkpoint {path}: {e}") from None
    return tensors, meta


def _model_state(
    tensors: Mapping[str, np.ndarray], meta: Mapping[str, str]
) -> dict[str, np.ndarray]:
    if meta.get("format") == FORMAT or any(k.startswith("model.") for k in tensors):
        return {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    return dict(tensors)  # a plain state_dict saved with safetensors (e.g. from PyTorch)


def _load_weights(model: Any, weights: Mapping[str, np.ndarray], path: Any) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in weights]
    unexpected = sorted(k for k in weights if k not in own)
    shapes = [
        f"{k}: checkpoint {tuple(weights[k].shape)}, model {tuple(own[k].shape)}"
        for k in own
        if k in weights and tuple(weights[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(
                f"missing keys (in the model, not in the checkpoint): {', '.join(missing)}"
            )
        if unexpected:
            parts.append(
                f"unexpected keys (in the checkpoint, not in the model): {', '.join(unexpected)}"
            )
        if shapes:
            parts.append(f"shape mismatches: {'; '.join(shapes)}")
        raise CheckpointError(
            f"the checkpoint {path} does not fit this {type(model).__name__} (was it saved from "
            f"another model or with other options?): " + "; ".join(parts)
        )
    model.load_state_dict(weights)


def load_model_weights(path: str | os.PathLike[str], model: Any) -> dict[str, str]:
    """Load only the model's weights from a checkpoint (or a plain safetensors state_dict);
    returns the file's metadata. Raises ``CheckpointError`` listing missing and unexpected
    keys when the file belongs to another model."""
    tensors, meta = _read(path)
    _load_weights(model, _model_state(tensors, meta), path)
    return meta


def load_checkpoint(
    path: str | os.PathLike[str],
    model: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    generators: Mapping[str, Any] | None = None,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Restore what ``save_checkpoint`` wrote into the objects given; returns
    ``{"epoch": int, "trainer": {...}, "metadata": {...}}``.

    ``restore_rng`` sets gradschool's default generator and the named ``generators`` back to
    their saved states, so training continues with the same random numbers.
    """
    tensors, meta = _read(path)
    try:
        state = json.loads(meta.get("state", "{}"))
    except (json.JSONDecodeError, RecursionError) as e:
        raise CheckpointError(f"the checkpoint {path} has corrupted metadata: {e}") from None
    epoch = state.get("epoch", 0) if isinstance(state, dict) else None
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise CheckpointError(
            f"the checkpoint {path} has corrupted metadata: expected a JSON object with a "
            f"non-negative int 'epoch' under 'state', got {str(state)[:80]}"
        )
    if model is not None:
        _load_weights(model, _model_state(tensors, meta), path)
    for what, target in (("optimizer", optimizer), ("scheduler", scheduler)):
        if target is not None:
            if what not in state:
                raise CheckpointError(f"the checkpoint {path} holds no {what} state")
            with _restoring(path, f"{what} state"):
                target.load_state_dict(decode_state(state[what], tensors))
    if restore_rng and "rng" in state:
        with _restoring(path, "random generators' states"):
            rng = decode_state(state["rng"], tensors)
            _random.set_rng_state(rng["default"])
            for name, gen in (generators or {}).items():
                if gen is not None and name in rng:
                    gen.set_state(rng[name])
    with _restoring(path, "trainer state"):
        trainer = decode_state(state.get("trainer", {}), tensors)
        if not isinstance(trainer, dict):
            raise TypeError(f"expected a JSON object, got {type(trainer).__name__}")
    return {"epoch": epoch, "trainer": trainer, "metadata": meta}


@contextlib.contextmanager
def _restoring(path: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Turn whatever a corrupt piece of a checkpoint makes its loader raise into a
    ``CheckpointError`` naming the file and the piece (not a KeyError from deep inside)."""
    try:
        yield
    except (CheckpointError, KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise CheckpointError(
            f"the checkpoint {path}: cannot restore the {what} ({type(e).__name__}: {e}); the "
            "file is corrupted, or was saved with another optimizer, scheduler or version"
        ) from None
