"""Binds every op family's functions to Tensor as methods and operators.

Each family module lists what it provides in ``TENSOR_METHODS``; binding them here keeps
``tensor.py`` free of imports from the layer above it.
"""

from __future__ import annotations

from types import ModuleType

from ..tensor import Tensor


def bind(*families: ModuleType) -> None:
    for family in families:
        for name, fn in family.TENSOR_METHODS.items():
            setattr(Tensor, name, fn)
