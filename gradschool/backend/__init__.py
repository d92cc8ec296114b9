"""The backend: devices and the array-module seam, dtypes, random number generation."""

from .device import (
    CPU,
    array_module,
    cuda_is_available,
    device,
    device_of,
    get_array_module,
    to_device,
)
from .dtype import (
    dtype,
    from_numpy_dtype,
    get_default_dtype,
    result_type,
    set_default_dtype,
    to_numpy_dtype,
)
from .random import Generator, default_generator, manual_seed, rng_of

__all__ = [
    "CPU",
    "Generator",
    "array_module",
    "cuda_is_available",
    "default_generator",
    "device",
    "device_of",
    "dtype",
    "from_numpy_dtype",
    "get_array_module",
    "get_default_dtype",
    "manual_seed",
    "result_type",
    "rng_of",
    "set_default_dtype",
    "to_device",
    "to_numpy_dtype",
]
