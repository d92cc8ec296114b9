"""Helpers shared by the benchmark scripts: thread pinning, interleaved timing, the SGEMM
reference rate, a convolution's FLOP count, the machine description and table printing.

This module imports only the standard library at the top, so a script can pin its thread
count (``pin_threads``) before NumPy is first imported: OpenBLAS reads its thread count once,
when it loads.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_MARK = "GRADSCHOOL_BENCH_THREADS"


def pin_threads(n: int) -> None:
    """Make this process run with ``n`` BLAS / OpenMP threads in NumPy and PyTorch alike.

    The variables are read when the libraries load, so if they are not already set to ``n``
    the script re-executes itself with them set (``os.execve``: same interpreter, same
    arguments). Call it first thing in ``main``; PyTorch's own count is set with
    ``torch.set_num_threads(n)`` after that.
    """
    if n < 1:
        raise ValueError(f"pin_threads: the thread count must be >= 1, got {n}")
    timeout = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
    if (
        os.environ.get(_MARK) == str(n)
        and all(os.environ.get(v) == str(n) for v in THREAD_VARS)
        and timeout is not None
    ):
        return
    env = dict(os.environ, **{v: str(n) for v in (*THREAD_VARS, _MARK)})
    # what `import gradschool` sets when it comes before NumPy (see gradschool/__init__.py);
    # here NumPy is loaded first, so it is set for the re-executed process instead
    env.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes (wall clock)."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def interleaved_medians(
    fns: Sequence[Callable[[], object]],
    repeats: int,
    min_time: float = 0.2,
    pause: float = 0.1,
    budget: float | None = None,
) -> list[float]:
    """Median seconds per call of each function in ``fns``, timed turn by turn.

    Each function is first called to warm it up (twice if one call is shorter than
    ``min_time``; the last call sets how many calls a repeat makes: enough to last
    ``min_time``), then run for one untimed block; then, ``repeats`` times, every function runs
    its calls in turn (the order alternates from one repeat to the next), so a change of load
    on the machine hits all of them alike. The ``pause`` before each timed block lets the idle
    worker threads of the library timed before stop spinning (OpenBLAS spins ~0.1 s) instead
    of competing with the next one. With a ``budget`` (seconds), no new repeat starts once
    the repeats have taken that long, as long as three have been run.
    """
    numbers = []
    for fn in fns:
        t = timed(fn)
        if t < min_time:  # cheap: warm up once more, and count calls from a warm one
            t = timed(fn)
        numbers.append(max(1, math.ceil(min_time / max(t, 1e-9))))
    # one untimed block each: caches, compiled kernels and the allocator's heap reach the
    # state they keep for the rest of the run (the first block was up to 10% slower)
    for fn, number in zip(fns, numbers, strict=True):
        for _ in range(number):
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    start = time.perf_counter()
    for r in range(repeats):
        if budget is not None and r >= 3 and time.perf_counter() - start > budget:
            break
        order = range(len(fns)) if r % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            fn, number = fns[i], numbers[i]
            time.sleep(pause)
            t = time.perf_counter()
            for _ in range(number):
                fn()
            samples[i].append((time.perf_counter() - t) / number)
    return [statistics.median(s) for s in samples]


def best_gflops(fn: Callable[[], object], flops: float, rounds: int = 5, repeat: int = 5) -> float:
    """The best rate of ``fn`` (GFLOP/s) over ``rounds`` bursts of ``repeat`` calls, 0.1 s
    apart. A reference ceiling is a maximum, and one burst of 50 ms can fall entirely in a
    moment when a neighbour of this VM holds a core (a two-thread GEMM then reads at the
    one-thread rate, and every percentage of it doubles)."""
    fn()
    best = math.inf
    for r in range(rounds):
        if r:
            time.sleep(0.1)
        best = min(best, *(timed(fn) for _ in range(repeat)))
    return flops / best / 1e9


def sgemm_gflops(n: int = 1024, rounds: int = 5, repeat: int = 5) -> float:
    """NumPy's float32 matrix multiply rate on ``(n, n) @ (n, n)``, in GFLOP/s (``best_gflops``):
    the ceiling a GEMM-based convolution can approach on this machine."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.copy()
    return best_gflops(lambda: a @ b, 2 * n**3, rounds, repeat)


def conv_flops(
    n: int, c: int, h: int, w: int, k: int, kh: int, kw: int, stride: int = 1, pad: int = 0
) -> float:
    """FLOPs of a conv2d forward + backward: input ``(n, c, h, w)``, ``k`` filters of
    ``kh x kw``. The forward is ``2 * n*k*oh*ow * c*kh*kw`` (a multiply and an add per
    weight per output); the input and weight gradients are one GEMM of the same size each."""
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (w + 2 * pad - kw) // stride + 1
    return 3 * 2 * n * k * oh * ow * c * kh * kw


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (falls back to ``platform``)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_description() -> str:
    """The BLAS NumPy uses, with its version and thread count (threadpoolctl when installed,
    else ``numpy.show_config``)."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        np.ones(2) @ np.ones(2)  # make sure the BLAS is loaded before asking
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            return (
                f"{p['internal_api']} {p['version']} ({p.get('architecture', '?')} kernels, "
                f"{p['num_threads']} thread{'s' if p['num_threads'] != 1 else ''})"
            )
    except ImportError:
        pass
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return f"{blas['name']} {blas.get('version', '?')}"


def machine_lines() -> list[str]:
    """One line each: CPU and cores, Python/NumPy/BLAS, PyTorch (if importable)."""
    import numpy as np

    lines = [
        f"CPU: {cpu_model()}, {os.cpu_count()} cores ({platform.machine()}, "
        f"{platform.system()} {platform.release()})",
        f"Python {platform.python_version()}; NumPy {np.__version__} on {blas_description()}",
    ]
    from gradschool.backend import jit

    if jit.enabled():
        numba = jit._load()
        lines.append(f"gradschool's compiled kernels: numba {numba.__version__} (serial loops)")
    else:
        lines.append("gradschool's compiled kernels: off (NumPy fallbacks only)")
    from gradschool.backend import threads

    n = threads.get_num_threads()
    split = "its own threads" if threads._blas_controller() is not False else "no threadpoolctl"
    lines.append(
        f"gradschool's threads: {n} (convolution blocks split over {split} when more than one;"
        f" OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset')})"
    )
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        n = torch.get_num_threads()
        lines.append(f"PyTorch {torch.__version__} ({n} thread{'s' if n != 1 else ''})")
    return lines


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: str = "") -> str:
    """A pipe table (GitHub markdown) with padded columns. ``right`` is a string of column
    indices (e.g. ``"234"``) to right-align; a row of one cell is a section heading."""
    width = [len(h) for h in headers]
    for row in rows:
        if len(row) > 1:
            width = [max(w, len(c)) for w, c in zip(width, row, strict=True)]
        else:
            width[0] = max(width[0], len(row[0]) + 4)

    def line(cells: Sequence[str]) -> str:
        out = [
            c.rjust(w) if str(i) in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, width, strict=True))
        ]
        return "| " + " | ".join(out) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if str(i) in right else "-" * (w + 2)
                          for i, w in enumerate(width)) + "|"  # fmt: skip
    out = [line(headers), rule]
    for row in rows:
        out.append(
            line([f"**{row[0]}**"] + [""] * (len(width) - 1)) if len(row) == 1 else line(row)
        )
    return "\n".join(out)
