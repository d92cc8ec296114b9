"""Why vectorise: the three kNN distance implementations of CS231n, timed in one run.

Computes the L2 distance matrix between 500 test and 5,000 training Fashion-MNIST images
(784 pixels as float64; random pixels of the same shape when the files are absent) with two
Python loops, one loop and no loops (the ``||x||^2 - 2 x.y + ||y||^2`` GEMM), and prints each
one's time, its speed-up over two loops and its largest difference from the two-loop result.
``--l1`` adds the L1 rows (its "no loops" is ``pairwise_distances(p=1)``, the broadcast applied
in cache-sized tiles: the plain broadcast would need a 15.7 GB temporary here). PyTorch's
``cdist`` is timed as a reference when torch is installed.

    python benchmarks/knn_distances.py [--test 500] [--train 5000] [--repeat 3] [--l1]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from gradschool.classic import distances as D


def load(n_test: int, n_train: int) -> tuple[np.ndarray, np.ndarray, str]:
    if Path("/usr/share/datasets/fashion-mnist").exists():
        from gradschool.data.datasets import FashionMNIST

        Y = FashionMNIST(train=True).data[:n_train].reshape(n_train, -1)
        X = FashionMNIST(train=False).data[:n_test].reshape(n_test, -1)
        return X.astype(np.float64), Y.astype(np.float64), "Fashion-MNIST"
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(n_test, 784)).astype(np.float64)
    Y = rng.integers(0, 256, size=(n_train, 784)).astype(np.float64)
    return X, Y, "random pixels"


def best_of(fn, repeat: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--test", type=int, default=500)
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the fast versions")
    ap.add_argument("--l1", action="store_true", help="also time the three L1 versions")
    args = ap.parse_args()

    X, Y, source = load(args.test, args.train)
    print(
        f"{source}: {X.shape[0]} test x {Y.shape[0]} train x {X.shape[1]} features, float64; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"numpy {np.__version__}"
    )
    rows = [
        ("L2 two loops", D.l2_distances_two_loops, 1),
        ("L2 one loop", D.l2_distances_one_loop, args.repeat),
        ("L2 no loops (GEMM)", D.l2_distances_no_loops, args.repeat),
    ]
    if args.l1:
        rows += [
            ("L1 two loops", D.l1_distances_two_loops, 1),
            ("L1 one loop", D.l1_distances_one_loop, args.repeat),
            ("L1 no loops (tiled)", lambda a, b: D.pairwise_distances(a, b, p=1), args.repeat),
        ]
    try:
        import torch

        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
        rows.append(("L2 torch.cdist (reference)", lambda a, b: torch.cdist(Xt, Yt).numpy(), 3))
    except ImportError:
        pass

    print(f"\n{'implementation':<28} {'seconds':>9} {'speed-up':>10} {'max |diff|':>11}")
    base: dict[str, tuple[float, np.ndarray]] = {}
    for name, fn, repeat in rows:
        seconds, out = best_of(lambda fn=fn: fn(X, Y), repeat)
        metric = name[:2]
        if metric not in base:
            base[metric] = (seconds, out)
        t0, ref = base[metric]
        print(f"{name:<28} {seconds:9.3f} {t0 / seconds:9.1f}x {np.abs(out - ref).max():11.2e}")


if __name__ == "__main__":
    main()
