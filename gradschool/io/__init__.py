"""File formats, written from scratch: safetensors (tensors and checkpoints, never pickle)
and PNG (images). Every write is atomic: a temporary file beside the target, flushed,
fsynced and renamed onto it (``atomic_write``).

This package sits low in the layers (NumPy, ``gradschool.tensor`` and the backend only), so
``train``, ``data`` and ``cli`` can all use it.
"""

from .png import read_png, write_png
from .safetensors import (
    atomic_write,
    load,
    load_file,
    load_metadata,
    remove_temporaries,
    save_file,
)

__all__ = [
    "atomic_write",
    "load",
    "load_file",
    "load_metadata",
    "read_png",
    "remove_temporaries",
    "save_file",
    "write_png",
]
