"""Python overhead of small ops, gradschool next to PyTorch, measured in the same run.

Each op runs on tiny tensors (4 x 4), where the arithmetic is negligible and what is timed is
the framework: argument handling, Tensor creation, graph recording and the reverse walk.
Three columns per op: forward with no input requiring grad, forward that records the graph,
and forward + backward. Times are the median of repeated runs, in microseconds per op; the
ratio is gradschool / PyTorch (lower is better, 1.0 = as fast).

    python benchmarks/op_overhead.py [--repeat 7] [--number 2000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import timeit

import numpy as np
import torch

import gradschool as gs

OPS = {
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "relu": lambda lib, a, b: lib.relu(a),
    "exp": lambda lib, a, b: lib.exp(a),
    "sum": lambda lib, a, b: a.sum(),
    "mean(dim=1)": lambda lib, a, b: a.mean(dim=1),
    "reshape": lambda lib, a, b: a.reshape(16),
    "transpose": lambda lib, a, b: a.transpose(0, 1),
    "getitem[1:3]": lambda lib, a, b: a[1:3],
    "matmul": lambda lib, a, b: a @ b,
    "softmax": lambda lib, a, b: lib.softmax(a, dim=1),
}


def _time(stmt, number: int, repeat: int) -> float:
    runs = timeit.repeat(stmt, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def measure(lib, op, number: int, repeat: int) -> tuple[float, float, float]:
    rng = np.random.default_rng(0)
    a_np, b_np = (
        rng.standard_normal((4, 4)).astype(np.float32),
        rng.standard_normal((4, 4)).astype(np.float32),
    )
    make = gs.tensor if lib is gs else torch.tensor
    a, b = make(a_np), make(b_np)
    ag, bg = make(a_np, requires_grad=True), make(b_np, requires_grad=True)
    g = make(np.ones_like(op(lib, a, b).numpy()))
    forward = _time(lambda: op(lib, a, b), number, repeat)
    recorded = _time(lambda: op(lib, ag, bg), number, repeat)

    def step():
        op(lib, ag, bg).backward(g)

    both = _time(step, number // 2, repeat)
    return forward, recorded, both


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--number", type=int, default=2000)
    args = p.parse_args()
    torch.set_num_threads(1)  # tiny tensors: one thread each, so both pay the same
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__}"
    )
    print(
        "microseconds per op on 4x4 float32 tensors (median of repeats); ratio = gradschool / torch\n"
    )
    head = f"| {'op':<13} | {'fwd gs':>7} | {'fwd pt':>7} | {'ratio':>5} | {'rec gs':>7} | {'rec pt':>7} | {'ratio':>5} | {'f+b gs':>7} | {'f+b pt':>7} | {'ratio':>5} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    ratios = []
    for name, op in OPS.items():
        ours = measure(gs, op, args.number, args.repeat)
        theirs = measure(torch, op, args.number, args.repeat)
        r = [o / t for o, t in zip(ours, theirs, strict=True)]
        ratios.append(r)
        cells = []
        for o, t, q in zip(ours, theirs, r, strict=True):
            cells += [f"{o:7.2f}", f"{t:7.2f}", f"{q:5.2f}"]
        print(f"| {name:<13} | " + " | ".join(cells) + " |")
    geo = [float(np.exp(np.mean(np.log([r[i] for r in ratios])))) for i in range(3)]
    print(
        f"\ngeometric-mean ratio: forward {geo[0]:.2f}, recorded forward {geo[1]:.2f}, forward+backward {geo[2]:.2f}"
    )


if __name__ == "__main__":
    main()
