"""gradschool: a deep-learning framework written from scratch on NumPy, shaped like PyTorch.

>>> import gradschool as gs
>>> x = gs.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 4., 6.])
"""

import os as _os
import sys as _sys

# OpenBLAS's idle worker threads spin-wait for about 0.1 s (2^28 cycles) after each threaded
# GEMM, holding the core that gradschool's next split op needs (backend/threads.py); 2^20
# cycles, about 0.3 ms, keeps them warm across one layer's GEMMs only. (Once gradschool's
# workers exist, OpenBLAS hands its jobs to them instead, where it can: backend/threads.py.) OpenBLAS reads it when
# NumPy loads, so it counts only when gradschool is imported first (or it is set by hand).
if "numpy" not in _sys.modules:
    _os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")

from . import autograd, backend  # noqa: E402 - after the BLAS setting above
from .autograd.function import Function
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend.allocator import keep_freed_memory as _keep_freed_memory
from .backend.device import cuda_is_available, device
from .backend.dtype import (
    bool_,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .backend.dtype import bool_ as bool  # noqa: A001 - PyTorch's name
from .backend.dtype import int as int  # noqa: A001, PLC0414
from .backend.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .backend.threads import get_num_threads, set_num_threads
from .creation import *
from .ops import *
from .tensor import Tensor

autograd.Function = Function
_keep_freed_memory()  # a step's arrays are recycled, not faulted in afresh each time

from . import nn  # noqa: E402 - after the ops it is built on
from .nn.summary import summary  # noqa: E402

__version__ = "0.1.0"
