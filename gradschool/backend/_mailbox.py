"""A worker's mailbox: one compiled wait for both kinds of work a worker thread takes.

``threads.py`` keeps one pool of worker threads for gradschool's split ops. OpenBLAS keeps
another for its multi-threaded GEMMs, so a two-core machine ran three busy threads: when a
split op's worker was spin-waiting on one core and a linear layer's GEMM woke OpenBLAS's
thread, the scheduler could queue that thread behind the caller on the other core, and the
GEMM ran 5-10 ms instead of 0.25 (``perf sched`` showed it, in the first steps after a
pause). OpenBLAS (0.3.27 and later) can hand its jobs to the caller's threads instead
(``openblas_set_threads_callback_function``); ``threads.py`` installs a callback that sends
them here, so one pool of threads runs everything.

Each worker owns a row of ``state`` (int64):

- ``GO``: the sequence number of the split op whose Python work the caller has handed over;
- ``JOB_SEQ`` / ``JOB_DONE``: BLAS jobs posted and finished, and ``JOB_FN``, ``JOB_DATA``,
  ``JOB_ARG``, ``JOB_INDEX``: the job (OpenBLAS's ``dojob(index, data, arg)`` function);
- ``SLEEPING``: the worker is about to sleep, or asleep, on the futex word ``wake``.

``wait_for_work`` runs in the worker, compiled and without the GIL: it runs every BLAS job
posted to it (no Python involved, so a job starts in a microsecond) and returns when ``GO``
reaches the value asked for. Between jobs it spin-waits, yielding its core at every look,
for ``looks`` looks, then sleeps on the futex (Linux's wait on a memory word). A poster
stores its value, bumps ``wake`` and wakes the sleeper if its mark is set; every access is
sequentially consistent, so either the worker sees the value before it sleeps or the poster
sees the mark (and a bump between the worker's read of ``wake`` and its sleep makes the
sleep return at once): no wake-up is lost.

``run_jobs`` runs in the thread that called BLAS (inside the callback): it posts jobs 1..n-1
to workers 0..n-2, runs job 0 itself and waits for the others. OpenBLAS's jobs wait for each
other (each packs a panel that the others read), so they must all run at once, on distinct
threads. A claim word lets only one BLAS call at a time use the workers.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._spin import _sched_yield, libc_int_call

__all__ = ["post", "run_job", "run_jobs", "wait_for_work"]

GO, JOB_SEQ, JOB_DONE, JOB_FN, JOB_DATA, JOB_ARG, JOB_INDEX, SLEEPING, CALLER_CPU = range(9)
WIDTH = 16  # int64 values in a worker's row of ``state`` (the rest unused: its own cache line)

_FUTEX_WAIT_PRIVATE = 128
_FUTEX_WAKE_PRIVATE = 129


def _pointer(context: Any, builder: Any, array_type: Any, array: Any, index: Any) -> Any:
    view = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, view, [index])


@intrinsic
def _load(typingctx: Any, values: Any, index: Any) -> Any:
    """``values[index]`` of an int64 array, an atomic (sequentially consistent) load."""
    sig = types.int64(values, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ptr = _pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(ptr, "seq_cst", 8)

    return sig, codegen


@intrinsic
def _store(typingctx: Any, values: Any, index: Any, value: Any) -> Any:
    """``values[index] = value`` in an int64 array, an atomic (sequentially consistent) store."""
    sig = types.void(values, index, types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ptr = _pointer(context, builder, signature.args[0], args[0], args[1])
        value = context.cast(builder, args[2], signature.args[2], types.int64)
        builder.store_atomic(value, ptr, "seq_cst", 8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _add(typingctx: Any, values: Any, index: Any, value: Any) -> Any:
    """``values[index] += value`` in an int64 array, atomically; the old value."""
    sig = types.int64(values, index, types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ptr = _pointer(context, builder, signature.args[0], args[0], args[1])
        value = context.cast(builder, args[2], signature.args[2], types.int64)
        return builder.atomic_rmw("add", ptr, value, "seq_cst")

    return sig, codegen


@intrinsic
def _swap_if(typingctx: Any, values: Any, index: Any, expected: Any, value: Any) -> Any:
    """Set ``values[index]`` (int64) to ``value`` if it is ``expected``, atomically; whether
    it was."""
    sig = types.boolean(values, index, types.int64, types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ptr = _pointer(context, builder, signature.args[0], args[0], args[1])
        expected = context.cast(builder, args[2], signature.args[2], types.int64)
        value = context.cast(builder, args[3], signature.args[3], types.int64)
        pair = builder.cmpxchg(ptr, expected, value, "seq_cst", "seq_cst")
        return builder.extract_value(pair, 1)

    return sig, codegen


@intrinsic
def _futex(typingctx: Any, number: Any, values: Any, index: Any, op: Any, value: Any) -> Any:
    """``syscall(number, &values[index], op, value, NULL)``: Linux's futex on the low 32
    bits of an int64 (little-endian) value; ``number`` is SYS_futex for this machine."""
    sig = types.int64(types.int64, values, index, types.int64, types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i64 = ir.IntType(64)
        ptr = _pointer(context, builder, signature.args[1], args[1], args[2])
        fn_type = ir.FunctionType(i64, [i64], var_arg=True)
        syscall = cgutils.get_or_insert_function(builder.module, fn_type, "syscall")
        address = builder.ptrtoint(ptr, i64)
        number, op, value = (
            context.cast(builder, args[i], signature.args[i], types.int64) for i in (0, 3, 4)
        )
        return builder.call(syscall, [number, address, op, value, ir.Constant(i64, 0)])

    return sig, codegen


@intrinsic
def _call_job(typingctx: Any, fn: Any, index: Any, data: Any, arg: Any) -> Any:
    """Call the C function at address ``fn`` as ``void fn(int index, void *data, int arg)``
    (OpenBLAS's ``dojob``)."""
    sig = types.void(types.int64, types.int64, types.int64, types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i32 = ir.IntType(32)
        fn_type = ir.FunctionType(ir.VoidType(), [i32, ir.IntType(8).as_pointer(), i32])
        fn = builder.inttoptr(args[0], fn_type.as_pointer())
        index = builder.trunc(args[1], i32)
        data = builder.inttoptr(args[2], ir.IntType(8).as_pointer())
        arg = builder.trunc(args[3], i32)
        builder.call(fn, [index, data, arg])
        return context.get_dummy_value()

    return sig, codegen


_getcpu = libc_int_call("sched_getcpu")  # the CPU this thread runs on now


@intrinsic
def _setaffinity(typingctx: Any, mask: Any) -> Any:
    """libc's ``sched_setaffinity(0, sizeof mask, mask)`` for this thread: the CPUs it may
    run on, a bit mask in a uint64 array."""
    sig = types.int64(mask)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        i32, i64 = ir.IntType(32), ir.IntType(64)
        view = context.make_array(signature.args[0])(context, builder, args[0])
        size = builder.mul(builder.extract_value(view.shape, 0), ir.Constant(i64, 8))
        fn_type = ir.FunctionType(i32, [i32, i64, ir.IntType(8).as_pointer()])
        fn = cgutils.get_or_insert_function(builder.module, fn_type, "sched_setaffinity")
        data = builder.bitcast(view.data, ir.IntType(8).as_pointer())
        return builder.sext(builder.call(fn, [ir.Constant(i32, 0), size, data]), i64)

    return sig, codegen


@numba.njit(nogil=True, cache=True)
def current_cpu() -> int:
    """The CPU this thread runs on now (``sched_getcpu``)."""
    return _getcpu()


@numba.njit(nogil=True, cache=True)
def _leave_cpu(cpu: int, allowed: Any, scratch: Any) -> int:
    """Move this thread off ``cpu`` (allowed elsewhere, then everywhere in ``allowed`` again);
    returns the CPU it ran on while ``cpu`` was barred (``cpu`` itself when it stayed)."""
    word, bit = cpu // 64, np.uint64(1) << np.uint64(cpu % 64)
    if cpu < 0 or word >= allowed.size or (allowed[word] & bit) == 0:
        return cpu
    others = np.uint64(0)
    for i in range(allowed.size):
        scratch[i] = allowed[i]
    scratch[word] &= ~bit
    for i in range(allowed.size):
        others |= scratch[i]
    if others == 0:
        return cpu
    _setaffinity(scratch)
    landed = _getcpu()
    _setaffinity(allowed)
    return landed


@numba.njit(nogil=True, cache=True)
def post(state: Any, wake: Any, slot: int, value: int, sys_futex: int) -> None:
    """Store ``value`` in ``state[slot]`` and wake the worker if it sleeps."""
    _store(state, CALLER_CPU, _getcpu())
    _store(state, slot, value)
    _add(wake, 0, 1)
    if _load(state, SLEEPING) != 0:
        _futex(sys_futex, wake, 0, _FUTEX_WAKE_PRIVATE, 1)


@numba.njit(nogil=True, cache=True)
def wait_for_work(
    state: Any, wake: Any, go: int, looks: int, sys_futex: int, allowed: Any, scratch: Any
) -> None:
    """Run the BLAS jobs posted to this worker until ``state[GO]`` reaches ``go``; spin for
    ``looks`` looks between pieces of work, then sleep until woken."""
    spins = 0
    while True:
        cpu = _getcpu()
        if cpu == _load(state, CALLER_CPU):
            _leave_cpu(cpu, allowed, scratch)
        if _load(state, GO) == go:
            return
        seq = _load(state, JOB_SEQ)
        if seq != _load(state, JOB_DONE):
            fn, index = _load(state, JOB_FN), _load(state, JOB_INDEX)
            _call_job(fn, index, _load(state, JOB_DATA), _load(state, JOB_ARG))
            _store(state, JOB_DONE, seq)
            spins = 0
            continue
        if spins < looks:
            spins += 1
            _sched_yield()
            continue
        generation = _load(wake, 0) & 0xFFFFFFFF
        _store(state, SLEEPING, 1)
        if _load(state, GO) != go and _load(state, JOB_SEQ) == _load(state, JOB_DONE):
            _futex(sys_futex, wake, 0, _FUTEX_WAIT_PRIVATE, generation)
        _store(state, SLEEPING, 0)
        spins = 0


# compiled when this module is imported (typed, not on first call): they run inside
# OpenBLAS's callback, in the middle of a matrix product
@numba.njit("void(int64, int64, int64, int64)", nogil=True, cache=True)
def run_job(fn: int, index: int, data: int, arg: int) -> None:
    """Run one BLAS job on this thread (GIL released)."""
    _call_job(fn, index, data, arg)


@numba.njit(
    "void(int64[:, ::1], int64[:, ::1], int64[::1], int64[::1], int64, int64, int64, int64,"
    " int64, int64)",
    nogil=True,
    cache=True,
)
def run_jobs(
    states: Any,
    wakes: Any,
    rows: Any,
    claim: Any,
    fn: int,
    count: int,
    size: int,
    data: int,
    arg: int,
    sys_futex: int,
) -> None:
    """Run OpenBLAS's ``count`` jobs (``fn(i, data + i*size, arg)``) at once: job ``i`` on
    the worker whose mailbox is row ``rows[i - 1]`` of ``states`` / ``wakes``, job 0 on
    this thread; return when all are done."""
    while not _swap_if(claim, 0, 0, 1):
        _sched_yield()
    for k in range(1, count):
        state = states[rows[k - 1]]
        _store(state, JOB_FN, fn)
        _store(state, JOB_DATA, data + k * size)
        _store(state, JOB_ARG, arg)
        _store(state, JOB_INDEX, k)
        post(state, wakes[rows[k - 1]], JOB_SEQ, _load(state, JOB_SEQ) + 1, sys_futex)
    _call_job(fn, 0, data, arg)
    for k in range(1, count):
        state = states[rows[k - 1]]
        while _load(state, JOB_DONE) != _load(state, JOB_SEQ):
            _sched_yield()
    _store(claim, 0, 0)
