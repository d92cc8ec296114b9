"""Python overhead of small ops, gradschool next to PyTorch, measured in the same run.

Each op runs on tiny tensors (4 x 4), where the arithmetic is negligible and what is timed is
the framework: argument handling, Tensor creation, graph recording and the reverse walk.
Three columns per op: forward with no input requiring grad, forward that records the graph,
and forward + backward. Times are the median of interleaved repeats, in microseconds per op;
the ratio is gradschool / PyTorch (lower is better, 1.0 = as fast). ``benchmarks/run.py``
reports the ``add`` row inside its full table.

    python benchmarks/op_overhead.py [--repeat 7] [--number 2000]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from _common import format_table, interleaved_medians, machine_lines, pin_threads

OPS: dict[str, Callable[[Any, Any, Any], Any]] = {
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
KINDS = ("forward", "recorded forward", "forward + backward")


def calls(lib: Any, op: Callable[[Any, Any, Any], Any]) -> list[Callable[[], object]]:
    """``[forward, recorded forward, forward + backward]`` closures of ``op`` on 4x4 float32
    tensors of ``lib`` (the ``gradschool`` or ``torch`` module)."""
    import numpy as np

    import gradschool as gs

    rng = np.random.default_rng(0)
    a_np, b_np = (rng.standard_normal((4, 4)).astype(np.float32) for _ in range(2))
    make = gs.tensor if lib is gs else lib.tensor
    a, b = make(a_np), make(b_np)
    ag, bg = make(a_np, requires_grad=True), make(b_np, requires_grad=True)
    g = make(np.ones_like(op(lib, a, b).numpy()))

    def both() -> None:
        op(lib, ag, bg).backward(g)

    return [lambda: op(lib, a, b), lambda: op(lib, ag, bg), both]


def measure(op: Callable[[Any, Any, Any], Any], repeat: int, number: int) -> list[float]:
    """Seconds per call ``[gs fwd, torch fwd, gs rec, torch rec, gs f+b, torch f+b]``."""
    import torch

    import gradschool as gs

    def batched(fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            for _ in range(number):
                fn()

        return run

    ours, theirs = calls(gs, op), calls(torch, op)
    fns = [batched(f) for pair in zip(ours, theirs, strict=True) for f in pair]
    return [t / number for t in interleaved_medians(fns, repeat, min_time=0.0, pause=0.0)]


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--number", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1, help="one each: tiny tensors")
    args = p.parse_args()
    pin_threads(args.threads)
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    print("\n".join(machine_lines()))
    print("microseconds per op on 4x4 float32 tensors (median of repeats); ratio = gs / torch\n")
    heads = ["op"]
    for kind in ("fwd", "rec", "f+b"):
        heads += [f"{kind} gs", f"{kind} pt", "ratio"]
    rows, ratios = [], []
    for name, op in OPS.items():
        t = measure(op, args.repeat, args.number)
        r = [t[i] / t[i + 1] for i in (0, 2, 4)]
        ratios.append(r)
        cells = [name]
        for i, q in zip((0, 2, 4), r, strict=True):
            cells += [f"{t[i] * 1e6:.2f}", f"{t[i + 1] * 1e6:.2f}", f"{q:.2f}"]
        rows.append(cells)
    print(format_table(heads, rows, right="123456789"))
    geo = [float(np.exp(np.mean(np.log([r[i] for r in ratios])))) for i in range(3)]
    print(
        f"\ngeometric-mean ratio: forward {geo[0]:.2f}, recorded forward {geo[1]:.2f}, "
        f"forward+backward {geo[2]:.2f}"
    )


if __name__ == "__main__":
    main()
