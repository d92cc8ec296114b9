"""Intra-op threads: one op's work split across the CPU cores (``torch.set_num_threads``).

NumPy's BLAS runs one large GEMM on every core by itself, but a convolution is a string of
smaller steps — build a block of columns, multiply it, build the next — and a multi-threaded
BLAS only speeds up the multiply, on a skinny matrix (16 output channels) that it cannot
split well. So the blocks themselves are shared out: each thread takes its own blocks of
samples and runs both steps on them, the copy in a compiled kernel and the multiply in a
one-thread BLAS call, in its own scratch buffers. Both release Python's GIL
(``backend/jit.py`` compiles the kernels ``nogil``; NumPy releases it around BLAS), so the
threads run at the same time. Measured on the 2-core machine, ResNet-20's first-stage
convolution (forward and backward at 64x16x32x32) took 15.8 ms on one thread, 11.6 ms with a
two-thread BLAS and 9.1 ms split this way.

While a split op runs, the BLAS pool is held at one thread (through ``threadpoolctl``, which
comes with the ``fast`` extra), so the threads do not also fight over BLAS's own workers; it
is restored as soon as the last split op ends. Without ``threadpoolctl`` every op runs on
the calling thread alone. A split op called inside another one (or from one of the workers)
runs serially, so nothing ever waits on itself.

Handing work over is where a thread pool in Python loses: a thread that sleeps on a lock
leaves its core idle, and waking it again took ~50 µs on the 2-core VM, more than a
memory-bound op of a few hundred microseconds gains. So the workers, and the caller waiting
for them, spin-wait first (``_spin.py``: compiled, GIL released, yielding the core between
looks), as OpenMP's and OpenBLAS's threads do: a hand-off is then ~4 µs, and LeNet-5's
training step at two threads went from 10.1 to 8.6 ms.

Layers whose work is one large GEMM (``nn.Linear``) leave it to BLAS, which splits one GEMM
better than two one-thread calls on halves of it. But OpenBLAS keeps a pool of threads of
its own, so a two-core machine had three busy threads, and the scheduler sometimes queued
OpenBLAS's thread behind the caller while a worker held the other core: after a pause the
linear layers' GEMMs took 5-10 ms instead of 0.25. So once the workers exist, OpenBLAS is
given a callback (``openblas_set_threads_callback_function``, OpenBLAS 0.3.27 and later)
that runs its jobs on them: job 0 on the calling thread, the others in the workers' mailboxes
(``_mailbox.py``), which also carry the split ops' hand-offs. One pool runs everything, as
PyTorch's one OpenMP pool does. Where OpenBLAS has no callback, its threads still run its
GEMMs, and ``gradschool/__init__.py`` shortens their spin after each one
(``OPENBLAS_THREAD_TIMEOUT``, when gradschool is imported before NumPy) so that they give
the core back soon.

Even two threads could share one core: a worker woken from its sleep was often placed on
the caller's core, and the two then took turns there for tens of milliseconds while the
other core idled (``perf sched timehist``). A worker that finds itself on the core of the
thread that handed it work moves itself off (``_mailbox._leave_cpu``): it narrows its
affinity to the other cores, which migrates it at once, and widens it again.
"""

from __future__ import annotations

import atexit
import os
import platform
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

from . import jit

__all__ = ["get_num_threads", "parallel_map", "ranges", "set_num_threads"]

T = TypeVar("T")
R = TypeVar("R")

_lock = threading.Lock()
_local = threading.local()  # .inside: this thread is running part of a split op
_num_threads: int | None = None  # chosen on first use (see _default_threads)
_workers: list[_Worker] = []
_dispatch = threading.Lock()  # one split op at a time uses the workers
_blas: Any = None  # threadpoolctl's controller of the BLAS libraries; False without one
_blas_saved: list[int] = []  # their thread counts while a split op holds them at one
_holders = 0  # split ops running now


class _Signal:
    """A count that one thread raises and another waits to reach: the waiter spin-waits
    first (``_spin``), then sleeps on a lock that the raiser releases if, and only if, it
    finds the waiter's "sleeping" mark set (both under one lock, so no wake is lost)."""

    def __init__(self) -> None:
        self._count = np.zeros(1, dtype=np.int64)
        self._state = threading.Lock()
        self._sleeping = False
        self._wake = threading.Lock()  # held: released once to wake the sleeper
        self._wake.acquire()

    def raise_to(self, value: int) -> None:
        with self._state:
            self._count[0] = value
            wake, self._sleeping = self._sleeping, False
        if wake:
            self._wake.release()

    def wait_for(self, value: int, looks: int) -> None:
        if _spin(self._count, 0, value, looks):
            return
        with self._state:  # into a local: raise_to may clear the mark once the lock is free
            sleep = self._sleeping = bool(self._count[0] != value)
        if sleep:
            self._wake.acquire()


class _Worker:
    """A thread that runs one group of a split op at a time, and OpenBLAS's jobs.

    The caller hands it work by raising its ``GO`` word to the op's sequence number; the
    worker reports it done by raising ``_done`` to the same number. Between ops it waits in
    its mailbox (``_mailbox.py``: compiled, without the GIL), where it also runs the BLAS
    jobs that OpenBLAS hands to gradschool's threads (``_install_blas_callback``), and
    spin-waits for about a millisecond, yielding its core to anyone who needs it, before it
    sleeps on a futex. In a training step, where split ops come every few hundred
    microseconds, it is already awake: a hand-off and return take ~4 µs; after a quiet
    spell a hand-off costs a wake-up through the kernel (15-60 µs on the 2-core VM). The
    caller waits for the result the same way (``_Signal``). Without the mailbox (no numba,
    ``GRADSCHOOL_JIT=0``, not Linux) the worker waits on a ``_Signal`` too: spinning where
    the compiled spin exists, else sleeping on a lock at once."""

    def __init__(self, box: Any) -> None:
        global _next_row
        self._done = _Signal()
        self._box = None  # (module, its state row, its futex word) with a mailbox
        if box is not False and box is not None and _next_row < len(_states):
            self._box = (box, _states[_next_row], _wakes[_next_row])
            self._row = _next_row
            _next_row += 1
        self._go = _Signal() if self._box is None else None  # the hand-off without one
        self._seq = 0
        self._task: tuple[Callable[[Any], Any], Sequence[Any]] | None = None
        self._result: list[Any] = []
        self._error: BaseException | None = None
        threading.Thread(target=self._loop, name="gradschool-worker", daemon=True).start()

    def _loop(self) -> None:
        seq = 0
        allowed = _affinity_mask()
        scratch = np.zeros_like(allowed)
        while True:
            seq += 1
            if self._go is not None:
                self._go.wait_for(seq, _IDLE_LOOKS)
            else:
                box, state, wake = self._box
                box.wait_for_work(state, wake, seq, _IDLE_LOOKS, _SYS_FUTEX, allowed, scratch)
            assert self._task is not None
            fn, group = self._task
            try:
                self._result, self._error = _run_group(fn, group), None
            except BaseException as exc:  # handed to the caller, re-raised there
                self._result, self._error = [], exc
            self._task = None
            self._done.raise_to(seq)

    def start(self, fn: Callable[[Any], Any], group: Sequence[Any]) -> None:
        self._task = (fn, group)
        self._seq += 1
        if self._go is not None:
            self._go.raise_to(self._seq)
        else:
            box, state, wake = self._box
            box.post(state, wake, box.GO, self._seq, _SYS_FUTEX)

    def wait(self) -> tuple[list[Any], BaseException | None]:
        self._done.wait_for(self._seq, _WAIT_LOOKS)
        return self._result, self._error


def _new_worker() -> _Worker:
    return _Worker(_mailbox())


# How long a thread spin-waits before it sleeps, in looks (each a sched_yield, 0.2-2 µs): a
# worker between ops up to about a millisecond (the gap between a training step's split ops
# is far shorter), the caller waiting for a worker's group up to about 10 ms (it has nothing
# else to do).
_IDLE_LOOKS = 2_000
_WAIT_LOOKS = 20_000
_spinner: Any = None  # _spin.spin_until once loaded; False where it cannot be
_box_module: Any = None  # _mailbox once loaded; False where it cannot be
_SYS_FUTEX = {"x86_64": 202, "aarch64": 98}.get(platform.machine(), 0)  # Linux's futex call
# the workers' mailboxes (_mailbox.py): one row each, never moved, so compiled code may keep
# their addresses; a row is not reused (a forked child starts over)
_states = np.zeros((256, 16), dtype=np.int64)
_wakes = np.zeros((256, 1), dtype=np.int64)  # their futex words
_next_row = 0
_claim = np.zeros(1, dtype=np.int64)  # 1 while a BLAS call has the workers
_callback: Any = None  # the ctypes callback installed into OpenBLAS, kept alive here
_callback_box: Any = None  # the mailbox module the callback runs jobs with
_installed: list[Any] = []  # the libraries' setters it was installed with


def _affinity_mask() -> np.ndarray:
    """The CPUs this thread may run on, as a bit mask (uint64 words) for ``_mailbox``."""
    mask = np.zeros(16, dtype=np.uint64)
    for cpu in os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else ():
        if cpu < 64 * len(mask):
            mask[cpu // 64] |= np.uint64(1) << np.uint64(cpu % 64)
    return mask


def _mailbox() -> Any:
    """The compiled mailbox module (``_mailbox.py``), or ``False``: it needs the compiled
    spin (numba), Linux's futex and a little-endian machine."""
    global _box_module
    if _box_module is None:
        _box_module = False
        if _SYS_FUTEX and sys.byteorder == "little" and _spin(np.zeros(1, np.int64), 0, 0, 1):
            try:
                from . import _mailbox as box

                state, wake = np.zeros(16, np.int64), np.zeros(1, np.int64)
                box.post(state, wake, box.GO, 1, _SYS_FUTEX)  # compiles (or loads) them
                state[box.CALLER_CPU] = -1
                allowed = _affinity_mask()
                box.wait_for_work(state, wake, 1, 1, _SYS_FUTEX, allowed, allowed.copy())
                _box_module = box
            except Exception:  # noqa: BLE001 - any failure just means: no mailbox
                _box_module = False
    return _box_module


def _blas_jobs(sync: int, fn: int, count: int, size: int, data: int | None, arg: int) -> None:
    """OpenBLAS's thread callback: run its ``count`` jobs ``fn(i, data + i*size, arg)`` at
    once, job 0 on this thread and the others on workers (made here if there are too few).
    ``sync`` is ignored: every call returns when its jobs are done.

    The jobs wait for each other, so none may be left unrun: where the workers cannot take
    them (called from inside a split op, which holds BLAS at one thread and so should never
    get here; no mailbox left; any error before they were posted) they run on threads
    started for this call, and an error is raised after that (ctypes prints it)."""
    box, data = _callback_box, data or 0
    if count <= 1:
        box.run_job(fn, 0, data, arg)
        return
    try:
        helpers = None if getattr(_local, "inside", False) else _blas_helpers(count - 1)
        if helpers is not None:
            rows = np.array([w._row for w in helpers], dtype=np.int64)
            box.run_jobs(_states, _wakes, rows, _claim, fn, count, size, data, arg, _SYS_FUTEX)
            return
        error: BaseException | None = None
    except BaseException as exc:  # noqa: BLE001 - the jobs must run whatever happened
        error = exc
    others = [
        threading.Thread(target=box.run_job, args=(fn, k, data + k * size, arg))
        for k in range(1, count)
    ]
    for thread in others:
        thread.start()
    box.run_job(fn, 0, data, arg)
    for thread in others:
        thread.join()
    if error is not None:
        raise error


def _blas_helpers(n: int) -> list[_Worker] | None:
    """``n`` workers with a mailbox, started here if there are fewer; ``None`` when no
    mailbox row is left for one."""
    helpers = [w for w in _workers if w._box is not None][:n]
    if len(helpers) < n:
        with _lock:
            while len(helpers) < n:
                if _next_row >= len(_states):
                    return None
                worker = _Worker(_callback_box)
                _workers.append(worker)
                helpers.append(worker)
    return helpers


def _install_blas_callback() -> None:
    """Hand NumPy's OpenBLAS jobs to the workers, one pool of threads for both, where
    OpenBLAS can (0.3.27 and later: ``openblas_set_threads_callback_function``) and the
    mailbox exists. Done once, when the first worker starts."""
    global _callback, _callback_box
    box = _mailbox()
    if _callback is not None or box is False or _blas_controller() is False:
        return
    import ctypes

    kind = ctypes.CFUNCTYPE(
        None,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_size_t,
        ctypes.c_void_p,
        ctypes.c_int,
    )
    _callback, _callback_box = kind(_blas_jobs), box
    for lib in _blas.lib_controllers:
        if getattr(lib, "internal_api", "") != "openblas":
            continue
        handle = ctypes.CDLL(lib.filepath)
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                setter = getattr(handle, f"{prefix}_set_threads_callback_function{suffix}", None)
                if setter is not None:
                    setter.argtypes = [ctypes.c_void_p]
                    setter(ctypes.cast(_callback, ctypes.c_void_p))
                    _installed.append(setter)
                    break
            else:
                continue
            break


def _uninstall_blas_callback() -> None:
    """OpenBLAS back on its own threads (at exit, and in a forked child, whose workers are
    gone)."""
    for setter in _installed:
        setter(None)
    _installed.clear()


def _spin(flags: np.ndarray, index: int, value: int, looks: int) -> bool:
    """Whether ``flags[index]`` reaches ``value`` while this thread spin-waits (GIL released);
    ``False`` at once where there is no compiled spin (no numba, ``GRADSCHOOL_JIT=0``, or a
    libc without ``sched_yield``)."""
    global _spinner
    if _spinner is None:
        _spinner = False
        # GRADSCHOOL_JIT=0 means no compiled code at all; a jit.disabled() block does not
        # matter here, since the spin computes nothing
        if jit.available() and os.environ.get("GRADSCHOOL_JIT", "1") != "0":
            try:
                from . import _spin as spin_module

                spin_module.spin_until(flags, index, -1, 1)  # compiles (or loads) it here
                _spinner = spin_module.spin_until
            except Exception:  # noqa: BLE001 - any failure just means: sleep instead
                _spinner = False
    return _spinner is not False and bool(_spinner(flags, index, value, looks))


def _after_fork_in_child() -> None:
    """A forked child (a DataLoader worker) has none of the parent's threads: start afresh."""
    global _lock, _dispatch, _holders, _next_row
    _workers.clear()
    _lock, _dispatch, _holders = threading.Lock(), threading.Lock(), 0
    _uninstall_blas_callback()
    _states[:], _wakes[:], _claim[:], _next_row = 0, 0, 0, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_uninstall_blas_callback)


def _blas_controller() -> Any:
    """threadpoolctl's controller of NumPy's BLAS library, or ``False`` without it.

    Only NumPy's: another library's BLAS in the process (SciPy's own OpenBLAS, say) keeps
    its settings. NumPy's is the one inside NumPy's install (``numpy.libs`` for a wheel);
    where none is, every BLAS loaded so far."""
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas = False
        else:
            libs = ThreadpoolController().select(user_api="blas")
            home = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
            ours = [
                lib
                for lib in libs.lib_controllers
                if os.path.abspath(lib.filepath).startswith(os.path.join(home, "numpy"))
            ]
            if ours:
                libs.lib_controllers = ours
            _blas = libs
    return _blas


def _default_threads() -> int:
    """The BLAS pool's size when gradschool first splits an op (it follows
    ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``, else the core count); 1 when no
    ``threadpoolctl`` can hold the BLAS pool at one thread meanwhile."""
    blas = _blas_controller()
    if blas is False:
        return 1
    counts = [lib.num_threads for lib in blas.lib_controllers]
    return max(1, min(counts)) if counts else max(1, os.cpu_count() or 1)


def blas_libraries() -> list[tuple[str, str]]:
    """``(file, core type)`` of each of NumPy's BLAS libraries, as ``threadpoolctl`` reports
    them (the core type its kernels were picked for: OpenBLAS's ``SkylakeX``, ``Haswell``,
    ...; empty where it reports none); an empty list without ``threadpoolctl``."""
    blas = _blas_controller()
    if blas is False:
        return []
    return [
        (lib.filepath, str(getattr(lib, "architecture", "") or "")) for lib in blas.lib_controllers
    ]


def get_num_threads() -> int:
    """The number of threads an op may split its work across (``torch.get_num_threads``)."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_threads()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads within an op: gradschool's own split ops and NumPy's BLAS pool
    alike (``torch.set_num_threads``). ``n=1`` runs everything on the calling thread."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: expected an int, got {type(n).__name__} {n!r}")
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    blas = _blas_controller()
    with _lock:
        _num_threads = n
        if blas is not False:
            if _holders:  # a split op is running: the count it restores becomes n
                _blas_saved[:] = [n] * len(_blas_saved)
            else:
                for lib in blas.lib_controllers:
                    lib.set_num_threads(n)


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Hold the BLAS pool at one thread for a block (nested and concurrent holds are
    counted; the last one out restores the count). Setting it costs about 3 µs."""
    global _holders
    with _lock:
        if _holders == 0:
            libs = _blas.lib_controllers
            _blas_saved[:] = [lib.num_threads for lib in libs]
            for lib in libs:
                lib.set_num_threads(1)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                for lib, count in zip(_blas.lib_controllers, _blas_saved, strict=True):
                    lib.set_num_threads(count)


def ranges(n: int, min_values: int = 1, item_size: int = 1) -> list[tuple[int, int]]:
    """``[0, n)`` cut into contiguous ``(start, stop)`` ranges, one per thread, each of at
    least ``min_values`` values when an item holds ``item_size`` of them (so fewer ranges,
    down to one, when there is little work: a memory-bound loop gains nothing from a
    second thread below a few hundred thousand values on the 2-core VM)."""
    t = max(1, min(get_num_threads(), n, n * item_size // max(1, min_values)))
    return [(n * i // t, n * (i + 1) // t) for i in range(t)]


def _run_group(fn: Callable[[T], R], group: Sequence[T]) -> list[R]:
    """``fn`` over ``group`` on this thread, marked as inside a split op."""
    outer = getattr(_local, "inside", False)
    _local.inside = True
    try:
        return [fn(item) for item in group]
    finally:
        _local.inside = outer


def parallel_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[fn(item) for item in items]``, the items shared out in contiguous groups over up
    to ``get_num_threads()`` threads (the caller runs the first group). ``fn`` must be safe
    to run concurrently: each item writes only its own part of the output. Serial when one
    thread is asked for, when there is one item, inside another split op, while another
    thread's split op has the workers, or without ``threadpoolctl``."""
    n = min(get_num_threads(), len(items))
    if n <= 1 or getattr(_local, "inside", False) or _blas_controller() is False:
        return [fn(item) for item in items]
    if not _dispatch.acquire(blocking=False):
        return [fn(item) for item in items]
    try:
        if len(_workers) < n - 1:
            with _lock:
                while len(_workers) < n - 1:
                    _workers.append(_new_worker())
            _install_blas_callback()
        bounds = [len(items) * i // n for i in range(n + 1)]
        groups = [items[bounds[i] : bounds[i + 1]] for i in range(n)]
        with _one_blas_thread():
            for worker, group in zip(_workers, groups[1:], strict=False):
                worker.start(fn, group)
            try:
                results = _run_group(fn, groups[0])
            finally:
                # every worker is done with the shared buffers before anything returns
                done = [worker.wait() for worker in _workers[: n - 1]]
        for part, error in done:
            if error is not None:
                raise error
            results.extend(part)
        return results
    finally:
        _dispatch.release()
