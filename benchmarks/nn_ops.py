"""Layer ops forward + backward at LeNet- and ResNet-sized shapes, gradschool next to PyTorch.

Each row times one forward and one backward of the op (median of repeats, milliseconds), in
the same process on the same inputs with the same thread count, and reports the ratio
gradschool / PyTorch (lower is better). conv2d rows also give GFLOP/s next to the machine's
float32 SGEMM rate measured by this script.

    python benchmarks/nn_ops.py [--repeat 7] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch

import gradschool as gs
import gradschool.nn.functional as F


def sgemm_gflops(n: int = 1024, repeat: int = 5) -> float:
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.copy()
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeat))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    return statistics.median(_timed(fn) for _ in range(repeat)) * 1e3


def conv_flops(n, c, h, w, k, kh, kw, stride, pad) -> float:
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (w + 2 * pad - kw) // stride + 1
    fwd = 2 * n * k * ho * wo * c * kh * kw
    return 3 * fwd  # forward + grad input + grad weight


def workloads():
    rng = np.random.default_rng(0)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    yield (
        "conv2d LeNet 128x1x28x28 k6 5x5",
        [arr(128, 1, 28, 28), arr(6, 1, 5, 5), arr(6)],
        lambda lib, x, w, b: lib.conv2d(x, w, b),
        conv_flops(128, 1, 28, 28, 6, 5, 5, 1, 0),
    )
    yield (
        "conv2d LeNet 128x6x12x12 k16 5x5",
        [arr(128, 6, 12, 12), arr(16, 6, 5, 5), arr(16)],
        lambda lib, x, w, b: lib.conv2d(x, w, b),
        conv_flops(128, 6, 12, 12, 16, 5, 5, 1, 0),
    )
    yield (
        "conv2d ResNet 64x16x32x32 3x3",
        [arr(64, 16, 32, 32), arr(16, 16, 3, 3)],
        lambda lib, x, w: lib.conv2d(x, w, padding=1),
        conv_flops(64, 16, 32, 32, 16, 3, 3, 1, 1),
    )
    yield (
        "conv2d ResNet 64x64x8x8 3x3",
        [arr(64, 64, 8, 8), arr(64, 64, 3, 3)],
        lambda lib, x, w: lib.conv2d(x, w, padding=1),
        conv_flops(64, 64, 8, 8, 64, 3, 3, 1, 1),
    )
    yield (
        "max_pool2d 128x6x24x24 2x2",
        [arr(128, 6, 24, 24)],
        lambda lib, x: lib.max_pool2d(x, 2),
        None,
    )
    yield (
        "max_pool2d 64x16x32x32 3x3 s2",
        [arr(64, 16, 32, 32)],
        lambda lib, x: lib.max_pool2d(x, 3, 2, 1),
        None,
    )
    rm, rv = np.zeros(16, np.float32), np.ones(16, np.float32)
    yield (
        "batch_norm 64x16x32x32 train",
        [arr(64, 16, 32, 32), arr(16), arr(16)],
        lambda lib, x, g, b: lib.batch_norm(x, _buf(lib, rm), _buf(lib, rv), g, b, training=True),
        None,
    )
    target = rng.integers(0, 10, 128)
    yield (
        "cross_entropy 128x10",
        [arr(128, 10)],
        lambda lib, x: lib.cross_entropy(x, _buf(lib, target)),
        None,
    )


def _buf(lib, a):
    return gs.tensor(a) if lib is F else torch.tensor(a)


def run(name, arrays, op, flops, repeat):
    results = []
    for lib, make in ((F, gs.tensor), (torch.nn.functional, torch.tensor)):
        inputs = [make(a, requires_grad=True) for a in arrays]
        out = op(lib, *inputs)
        g = make(np.ones(tuple(out.shape), np.float32))

        def step(lib=lib, inputs=inputs, g=g):
            for t in inputs:
                t.grad = None
            op(lib, *inputs).backward(g)

        results.append(median_ms(step, repeat))
    ours, theirs = results
    gflops = "" if flops is None else f"{flops / ours / 1e6:6.1f}"
    return f"| {name:<34} | {ours:8.2f} | {theirs:8.2f} | {ours / theirs:5.2f} | {gflops:>11} |"


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; torch threads {args.threads}; "
        f"NumPy {np.__version__}, torch {torch.__version__}"
    )
    print(f"NumPy float32 SGEMM (1024^3): {sgemm_gflops():.1f} GFLOP/s\n")
    print(
        f"| {'op (forward + backward)':<34} | {'gs ms':>8} | {'torch ms':>8} | {'ratio':>5} | {'gs GFLOP/s':>11} |"
    )
    print(f"|{'-' * 36}|{'-' * 10}|{'-' * 10}|{'-' * 7}|{'-' * 13}|")
    for name, arrays, op, flops in workloads():
        print(run(name, arrays, op, flops, args.repeat), flush=True)


if __name__ == "__main__":
    main()
