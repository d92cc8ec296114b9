"""Devices and the array-module seam (CS231n L8: "what a framework gives you: run on a GPU").

Every op asks its inputs for their array module (``numpy`` on ``"cpu"``, ``cupy`` on
``"cuda"``) and computes with it, so the same op code runs on either device. CuPy is imported
only when a CUDA tensor is first asked for.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

_cupy: types.ModuleType | None = None


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor's data lives: ``device("cpu")`` or ``device("cuda")`` / ``"cuda:0"``."""

    __slots__ = ("type", "index")

    def __init__(self, spec: str | device, index: int | None = None) -> None:
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"device: expected 'cpu' or 'cuda', got {spec!r}")
        if idx and not idx.isdigit():  # a name like 'cuda:x' or a negative index
            raise ValueError(
                f"device: invalid device string {spec!r}; expected 'cpu', 'cuda' or 'cuda:N' "
                "with a non-negative index N"
            )
        self.type = kind
        self.index = int(idx) if idx else index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def _import_cupy() -> types.ModuleType:
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as err:
            raise RuntimeError(
                "device 'cuda' needs CuPy: install it with `pip install gradschool[cuda]` "
                "(cupy-cuda12x) on a machine with an NVIDIA GPU"
            ) from err
        try:
            if cupy.cuda.runtime.getDeviceCount() == 0:
                raise RuntimeError("no CUDA device found")
        except Exception as err:  # cupy raises its own CUDARuntimeError
            raise RuntimeError(
                f"device 'cuda': CuPy is installed but no GPU is usable ({err})"
            ) from err
        _cupy = cupy
    return _cupy


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        _import_cupy()
    except RuntimeError:
        return False
    return True


def array_module(dev: device | str) -> types.ModuleType:
    """The array module for a device: ``numpy`` for cpu, ``cupy`` for cuda."""
    dev = device(dev)
    return np if dev.type == "cpu" else _import_cupy()


def get_array_module(array: Any) -> types.ModuleType:
    """The array module an array belongs to (``numpy`` unless it is a CuPy array)."""
    if type(array) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(array)


def device_of(array: Any) -> device:
    """The device an array lives on."""
    if type(array) is np.ndarray or _cupy is None or not isinstance(array, _cupy.ndarray):
        return CPU
    return device("cuda", array.device.id)


def to_device(array: Any, dev: device | str) -> Any:
    """Move an array to a device (a no-op when it is already there)."""
    dev = device(dev)
    if dev.type == "cpu":
        if _cupy is not None and isinstance(array, _cupy.ndarray):
            return _cupy.asnumpy(array)
        return array
    cp = _import_cupy()
    with cp.cuda.Device(dev.index or 0):
        return cp.asarray(array)
