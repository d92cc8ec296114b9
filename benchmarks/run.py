"""gradschool next to PyTorch, in one run, on one table: training and inference throughput of
four networks, the layer ops, the per-op Python overhead and the memory of a training step.

    .venv/bin/python benchmarks/run.py [--quick] [--threads N] [--repeats R] [--markdown PATH]

Every row is measured twice in the same process — gradschool, then PyTorch — on the same
inputs with the same number of threads (NumPy's OpenBLAS and PyTorch's OpenMP/MKL pools alike,
``--threads``, default all cores), and shows both figures and their ratio, always
**gradschool ÷ PyTorch** of the two figures in the row. The unit says which way it reads:
``↑`` (images/s, GFLOP/s: higher is better, so 0.25 means a quarter of PyTorch's speed) or
``↓`` (ms, µs, MB: lower is better, so 4.0 means four times as long or as much).

- **Training step**: forward + cross-entropy + backward + ``SGD(lr=0.01, momentum=0.9)`` step
  on one fixed batch, in images per second: the MLP 784-512-256-10 and LeNet-5 on 1x28x28
  (batch 128), ResNet-20 and a VGG-style net (``_twins.vgg_style``: 3x3 conv-BN-ReLU stacks
  64, M, 128, M, 256, 256, M, 512, M, global average pool, linear) on 3x32x32 (batch 64).
  Each PyTorch twin is the same architecture with gradschool's initial weights copied in;
  at startup both are run on the same batch and must agree to 1e-3.
- **Inference**: the same four networks in eval mode under ``no_grad``, batch 256.
- **Ops**: forward + backward of one op. conv2d at the LeNet-5 and ResNet-20 shapes is given
  in GFLOP/s (``_common.conv_flops``: forward, input gradient and weight gradient) and as a
  percentage of NumPy's float32 SGEMM rate, measured here too (the first row, beside
  ``torch.mm``'s); max_pool2d, batch_norm (training mode) and cross_entropy in ms; ``nn.LSTM``
  and ``nn.GRU`` (one layer, 128 -> 256, sequence 64, batch 64) in ms; the Python
  overhead of an ``add`` on 4x4 tensors in µs (forward only, and forward + backward).
- **Memory**: one ResNet-20 training step (batch 64), each library in a fresh process
  (``_peak_memory.py``): the growth of the resident set's high-water mark during the step
  above the RSS before it (after the model, the input and one warm-up step), and for
  gradschool also ``tracemalloc``'s peak; the RSS the first step leaves behind (gradients,
  momentum buffers, caches) is given below it.

Times are medians of ``--repeats`` repeats; the two libraries' repeats alternate
(``_common.interleaved_medians``), so load from other processes hits both alike. ``--quick``
runs everything with fewer and shorter repeats (about a minute; the figures are noisier).
``--markdown PATH`` also writes the table, the machine and the command into PATH, between
the ``<!-- benchmarks:start -->`` and ``<!-- benchmarks:end -->`` markers if the file has
them (the text around them is kept), else at its end (or as a new file).

On a machine that other processes keep busy, several threads per library wait on each other
at every parallel op and both libraries slow down erratically, gradschool (more, smaller
GEMMs) most: the script prints the load average and warns; compare with ``--threads 1``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _twins
import nn_ops
import numpy as np
import op_overhead
import torch
from _common import (
    best_gflops,
    format_table,
    interleaved_medians,
    machine_lines,
    pin_threads,
    sgemm_gflops,
)

import gradschool as gs
import gradschool.nn.functional as F
from gradschool.optim import SGD

HERE = Path(__file__).resolve().parent
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
UP, DOWN = "↑", "↓"


@dataclass
class Row:
    """One line of the table: both figures in ``unit`` (ratio = ours / theirs)."""

    name: str
    unit: str
    ours: float
    theirs: float | None
    note: str = ""

    def cells(self) -> list[str]:
        ratio = "" if self.theirs is None else _fmt(self.ours / self.theirs)
        theirs = "—" if self.theirs is None else _fmt(self.theirs)
        return [self.name, self.unit, _fmt(self.ours), theirs, ratio, self.note]


def _fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:#.3g}" if v < 1 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


@dataclass
class Settings:
    repeats: int
    min_time: float  # seconds a timed block lasts at least
    overhead_number: int  # tiny ops per timed block
    memory_steps: int
    budget: float | None  # seconds after which a figure stops repeating (at least 3 repeats)

    def medians(self, fns: Sequence[Callable[[], object]]) -> list[float]:
        return interleaved_medians(fns, self.repeats, self.min_time, budget=self.budget)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------ the networks
def _batch(spec: _twins.ModelSpec, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *spec.input_chw)).astype(np.float32), rng.integers(0, 10, n)


def train_steps(ours: Any, theirs: Any, x: np.ndarray, y: np.ndarray) -> list[Callable[[], None]]:
    """``[gradschool step, PyTorch step]``: zero_grad, forward, cross-entropy, backward and
    an SGD step with momentum 0.9, on the batch ``x``, ``y``."""
    ours.train()
    theirs.train()
    opt = SGD(ours.parameters(), lr=0.01, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)
    gx, gy, tx, ty = gs.tensor(x), gs.tensor(y), torch.from_numpy(x), torch.from_numpy(y)

    def ours_step() -> None:
        opt.zero_grad()
        F.cross_entropy(ours(gx), gy).backward()
        opt.step()

    def theirs_step() -> None:
        topt.zero_grad()
        torch.nn.functional.cross_entropy(theirs(tx), ty).backward()
        topt.step()

    return [ours_step, theirs_step]


def infer_steps(ours: Any, theirs: Any, x: np.ndarray) -> list[Callable[[], object]]:
    """``[gradschool forward, PyTorch forward]`` in eval mode under ``no_grad``."""
    ours.eval()
    theirs.eval()
    gx, tx = gs.tensor(x), torch.from_numpy(x)

    def ours_fwd() -> object:
        with gs.no_grad():
            return ours(gx)

    def theirs_fwd() -> object:
        with torch.no_grad():
            return theirs(tx)

    return [ours_fwd, theirs_fwd]


def network_rows(s: Settings) -> tuple[list[Row], list[Row], list[str]]:
    """Training and inference rows for every network in ``_twins.MODELS``, and one line per
    network saying how closely the twins agreed."""
    train, infer, agreement = [], [], []
    # warm the whole process up first, every network in both frameworks, on throwaway
    # copies: compiled kernels, the allocator's heap and the libraries' caches. Without it
    # the first network timed ran up to 15% slower than the same network timed again later
    for key, spec in _twins.MODELS.items():
        x, y = _batch(spec, spec.train_batch, seed=0)
        for step in train_steps(*_twins.make_pair(key), x, y) * 3:
            step()
    for key, spec in _twins.MODELS.items():
        ours, theirs = _twins.make_pair(key)
        x, y = _batch(spec, spec.train_batch, seed=1)
        worst = _twins.check_agreement(ours, theirs, x[:16])
        agreement.append(f"{spec.label} {worst:.1e}")
        t_ours, t_theirs = s.medians(train_steps(ours, theirs, x, y))
        b = spec.train_batch
        train.append(
            Row(f"{spec.label}, batch {b}", f"images/s {UP}", b / t_ours, b / t_theirs,
                f"{_fmt(t_ours * 1e3)} vs {_fmt(t_theirs * 1e3)} ms/step")
        )  # fmt: skip
        _log(f"  train {spec.label}: {b / t_ours:.0f} vs {b / t_theirs:.0f} images/s")
        b = spec.infer_batch
        x, _ = _batch(spec, b, seed=2)
        t_ours, t_theirs = s.medians(infer_steps(ours, theirs, x))
        infer.append(
            Row(f"{spec.label}, batch {b}", f"images/s {UP}", b / t_ours, b / t_theirs,
                f"{_fmt(t_ours * 1e3)} vs {_fmt(t_theirs * 1e3)} ms/batch")
        )  # fmt: skip
        _log(f"  infer {spec.label}: {b / t_ours:.0f} vs {b / t_theirs:.0f} images/s")
    return train, infer, agreement


# ------------------------------------------------------------------------ the ops
def torch_sgemm_gflops(n: int = 1024) -> float:
    """``torch.mm``'s float32 rate on ``(n, n) @ (n, n)`` in GFLOP/s (``best_gflops``)."""
    a = torch.randn(n, n)
    b = a.clone()
    return best_gflops(lambda: torch.mm(a, b), 2 * n**3)


def rnn_steps(kind: str, seq: int = 64, batch: int = 64) -> list[Callable[[], None]]:
    """``[gradschool step, PyTorch step]``: forward + backward (a gradient of ones on the
    output) of ``nn.LSTM`` / ``nn.GRU`` 128 -> 256, ours loading PyTorch's weights."""
    theirs = getattr(torch.nn, kind)(128, 256)
    ours = getattr(gs.nn, kind)(128, 256)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((seq, batch, 128)).astype(np.float32)
    ones = np.ones((seq, batch, 256), np.float32)
    fns = []
    for module, lib in ((ours, gs), (theirs, torch)):
        inp, g = lib.tensor(x, requires_grad=True), lib.tensor(ones)

        def step(module: Any = module, inp: Any = inp, g: Any = g) -> None:
            inp.grad = None
            module.zero_grad()
            module(inp)[0].backward(g)

        fns.append(step)
    return fns


def rnn_rows(s: Settings) -> list[Row]:
    rows = []
    for kind in ("LSTM", "GRU"):
        t_ours, t_theirs = s.medians(rnn_steps(kind))
        rows.append(
            Row(f"{kind} 128 -> 256, seq 64, batch 64", f"ms {DOWN}", t_ours * 1e3, t_theirs * 1e3)
        )
        _log(f"  {kind}: {t_ours * 1e3:.2f} vs {t_theirs * 1e3:.2f} ms")
    return rows


def op_rows(s: Settings) -> list[Row]:
    """The SGEMM reference, the ``nn_ops`` rows and the ``add`` overhead rows."""
    sgemm, torch_sgemm = sgemm_gflops(), torch_sgemm_gflops()
    rows = [
        Row("float32 GEMM 1024³ (NumPy's BLAS vs torch.mm), best of 5x5", f"GFLOP/s {UP}",
            sgemm, torch_sgemm, "the reference for the conv2d rows")
    ]  # fmt: skip
    for name, arrays, op, flops in nn_ops.workloads():
        t_ours, t_theirs = s.medians(nn_ops.step_fns(arrays, op))
        if flops is None:
            rows.append(Row(name, f"ms {DOWN}", t_ours * 1e3, t_theirs * 1e3))
        else:
            rate, theirs = flops / t_ours / 1e9, flops / t_theirs / 1e9
            note = (
                f"{rate / sgemm:.0%} vs {theirs / torch_sgemm:.0%} of SGEMM; "
                f"{_fmt(t_ours * 1e3)} vs {_fmt(t_theirs * 1e3)} ms"
            )
            rows.append(Row(name, f"GFLOP/s {UP}", rate, theirs, note))
        _log(f"  {name}: {t_ours * 1e3:.2f} vs {t_theirs * 1e3:.2f} ms")
    rows += rnn_rows(s)
    # [forward, recorded forward, forward + backward] of each library; the first and last
    fwd, _, both = zip(*(op_overhead.calls(lib, op_overhead.OPS["add"]) for lib in (gs, torch)), strict=True)  # fmt: skip
    n = s.overhead_number

    def batched(fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            for _ in range(n):
                fn()

        return run

    times = interleaved_medians([batched(f) for f in (*fwd, *both)], s.repeats, 0.0, 0.0)
    us = [t / n * 1e6 for t in times]
    rows.append(Row("add 4x4, forward (Python overhead)", f"µs {DOWN}", us[0], us[1]))
    rows.append(Row("add 4x4, forward + backward", f"µs {DOWN}", us[2], us[3]))
    return rows


# ------------------------------------------------------------------------ memory
def peak_memory(steps: int) -> dict[str, dict[str, Any]]:
    """``_peak_memory.py``'s figures for each library, each from a fresh process."""
    # a fixed mmap threshold makes glibc return every large buffer on free (see the script)
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072", MALLOC_TRIM_THRESHOLD_="131072")
    out = {}
    for fw in ("gradschool", "torch"):
        cmd = [sys.executable, str(HERE / "_peak_memory.py"), fw, "--steps", str(steps)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=True)
        out[fw] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def memory_rows(s: Settings) -> tuple[list[Row], str]:
    m = peak_memory(s.memory_steps)
    ours, theirs = m["gradschool"], m["torch"]
    rows = [
        Row("ResNet-20 step, peak RSS growth", f"MB {DOWN}", ours["step_peak_growth_mb"],
            theirs["step_peak_growth_mb"], "above the RSS after model, input, one warm-up step"),
        Row("ResNet-20 step, tracemalloc peak", f"MB {DOWN}", ours["tracemalloc_peak_mb"], None,
            "NumPy buffers alive at once (gradschool only)"),
        Row("RSS kept by the first step", f"MB {DOWN}", ours["kept_after_first_step_mb"],
            theirs["kept_after_first_step_mb"], "gradients, momentum buffers, caches"),
    ]  # fmt: skip
    _log(f"  memory: {ours['step_peak_growth_mb']:.1f} vs {theirs['step_peak_growth_mb']:.1f} MB")
    return rows, ours["method"]


# ------------------------------------------------------------------------ report
HEADERS = ["workload", "unit", "gradschool", "PyTorch", "gs ÷ PyTorch", "notes"]


def render(sections: Sequence[tuple[str, list[Row]]]) -> str:
    rows: list[list[str]] = []
    for title, section in sections:
        rows.append([title])
        rows += [r.cells() for r in section]
    return format_table(HEADERS, rows, right="234")


def _speed(rows: list[Row]) -> float:
    """Geometric mean of gradschool's speed relative to PyTorch's over ``rows``."""
    return math.exp(sum(math.log(r.ours / r.theirs) for r in rows) / len(rows))


def _revision() -> str:
    try:
        git = ["git", "-C", str(HERE.parent)]
        rev = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "diff", "--quiet", "HEAD", "--", "gradschool"], check=False
        ).returncode
        return rev + (" + uncommitted changes in gradschool/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _command() -> str:
    exe = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else "python"
    return shlex.join([exe, *sys.argv])


def write_markdown(path: Path, block: str) -> None:
    """Put ``block`` between the markers in ``path``; a file without them gets the block
    appended, a missing file is made."""
    block = f"{START}\n{block}\n{END}"
    text = path.read_text() if path.exists() else "# Benchmarks: gradschool next to PyTorch\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="a ~1 minute smoke run (noisier)")
    p.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="threads for both libraries (default: all cores)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed repeats per figure (default 7, 3 with --quick, fewer for figures past 45 s / 8 s; a value given here is run in full)",
    )
    p.add_argument(
        "--markdown",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write the report into PATH",
    )
    return p.parse_args(argv)


def main() -> None:
    args = parse_args()
    pin_threads(args.threads)  # re-executes with the BLAS thread variables set, if needed
    torch.set_num_threads(args.threads)
    # an explicit --repeats is honoured exactly; by default a slow figure stops at 45 s
    budget = None if args.repeats else 8.0 if args.quick else 45.0
    s = (
        Settings(args.repeats or 3, 0.05, 200, 1, budget)
        if args.quick
        else Settings(args.repeats or 7, 0.25, 2000, 3, budget)
    )
    started = datetime.datetime.now(datetime.UTC)
    header = [
        *machine_lines(),
        f"threads: {args.threads} for NumPy (OPENBLAS_NUM_THREADS) and PyTorch "
        f"(torch.set_num_threads); medians of {s.repeats} interleaved repeats"
        + ("" if s.budget is None else f" (at least 3 where they pass {s.budget:.0f} s)"),
        f"load average at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
    ]
    revision = f"gradschool {_revision()}, {started:%Y-%m-%d %H:%M} UTC"
    print("\n".join([revision, *header]), flush=True)
    load = os.getloadavg()[0]
    if args.threads > 1 and load > (os.cpu_count() or 1) - args.threads + 0.5:
        _log(
            f"warning: the machine is busy (load {load:.1f}); {args.threads} threads per "
            "library then wait on each other at every parallel op, which can slow either "
            "library many times over and make the figures erratic; --threads 1 is steadier"
        )
    _log("networks ...")
    train, infer, agreement = network_rows(s)
    _log("ops ...")
    ops = op_rows(s)
    _log("memory ...")
    memory, method = memory_rows(s)
    table = render([
        ("Training step: forward + backward + SGD(momentum 0.9)", train),
        ("Inference: eval mode, no_grad", infer),
        ("Ops: forward + backward", ops),
        ("Memory: ResNet-20 training step, one process each", memory),
    ])  # fmt: skip
    legend = [
        "gs ÷ PyTorch is gradschool's figure divided by PyTorch's: for ↑ units (throughput) "
        "below 1 means slower than PyTorch, for ↓ units (time, memory) above 1 means slower "
        "or bigger.",
        f"gradschool's speed relative to PyTorch (geometric mean): training {_speed(train):.2f}, "
        f"inference {_speed(infer):.2f}.",
        f"Twins agree (max |difference| of the outputs, train and eval mode): {', '.join(agreement)}.",
        f"Memory method: {method}; glibc's mmap threshold fixed at 128 KiB "
        "(MALLOC_MMAP_THRESHOLD_) so freed buffers leave the RSS.",
        f"Total time: {(datetime.datetime.now(datetime.UTC) - started).total_seconds():.0f} s; "
        f"load average at the end: {os.getloadavg()[0]:.2f}.",
    ]
    print("\n" + table + "\n\n" + "\n".join(legend))
    if args.markdown is not None:
        block = "\n".join([
            f"Measured on {revision} with",
            "",
            "```",
            _command(),
            "```",
            "",
            *(f"- {line}" for line in header),
            "",
            table,
            "",
            *(f"- {line}" for line in legend),
        ])  # fmt: skip
        write_markdown(args.markdown, block)
        _log(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
