"""A compiled wait: spin on a flag without Python's GIL, yielding the core between looks.

``threads.py`` hands a split op's work to a worker thread and waits for it to finish. A
thread that *sleeps* while it waits (a lock, a condition variable) leaves its core idle,
and on a virtual machine an idle core is halted: waking it again goes through the
hypervisor, 15-60 µs on the project's 2-core VM, and longer when the host has stopped
polling for it after a quiet spell (the first steps after a pause ran twice as slow).
OpenMP and OpenBLAS avoid this by spin-waiting, and so does this: ``spin_until`` watches a
flag for a bounded number of looks, each followed by ``sched_yield`` so that any other
thread that needs the core gets it at once. It runs compiled and ``nogil``, so the thread
it hands to can hold the GIL meanwhile. Only imported when numba is (``backend/jit.py``).
"""

from __future__ import annotations

from typing import Any

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["spin_until"]


@intrinsic
def _load_acquire(typingctx: Any, flags: Any, index: Any) -> Any:
    """``flags[index]`` read from memory every time (an atomic load: the compiler may not
    keep it in a register across the loop, as it would a plain read)."""
    sig = types.int64(flags, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, array_type, array, [args[1]])
        return builder.load_atomic(ptr, "acquire", 8)

    return sig, codegen


def libc_int_call(name: str) -> Any:
    """An intrinsic that calls libc's ``int name(void)`` and gives its result as an int64
    (``sched_yield``, ``sched_getcpu``)."""

    @intrinsic
    def call(typingctx: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            fn_type = ir.FunctionType(ir.IntType(32), [])
            fn = cgutils.get_or_insert_function(builder.module, fn_type, name)
            return builder.sext(builder.call(fn, []), ir.IntType(64))

        return types.int64(), codegen

    return call


_sched_yield = libc_int_call("sched_yield")  # give the core to another runnable thread, if any


@numba.njit(nogil=True, cache=True)
def spin_until(flags: Any, index: int, value: int, looks: int) -> bool:
    """Whether ``flags[index]`` (an int64 array written by another thread) became ``value``
    within ``looks`` looks, about half a microsecond each."""
    for _ in range(looks):
        if _load_acquire(flags, index) == value:
            return True
        _sched_yield()
    return _load_acquire(flags, index) == value
