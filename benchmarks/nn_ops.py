"""Layer ops forward + backward at LeNet- and ResNet-sized shapes, gradschool next to PyTorch.

Each row times one forward and one backward of the op (median of interleaved repeats,
milliseconds), in the same process on the same inputs with the same thread count, and reports
the ratio gradschool / PyTorch (lower is better). conv2d rows also give GFLOP/s next to the
machine's float32 SGEMM rate measured by this script. ``benchmarks/run.py`` prints the same
rows inside its full table.

    python benchmarks/nn_ops.py [--repeat 7] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from _common import (
    conv_flops,
    format_table,
    interleaved_medians,
    machine_lines,
    pin_threads,
    sgemm_gflops,
)

Workload = tuple[str, list[Any], Callable[..., Any], float | None]


def workloads() -> Iterator[Workload]:
    """``(name, input arrays, op(lib, *tensors), FLOPs or None)`` per row; ``lib`` is
    ``gradschool.nn.functional`` or ``torch.nn.functional``."""
    import numpy as np

    rng = np.random.default_rng(0)

    def arr(*shape: int) -> Any:
        return rng.standard_normal(shape).astype(np.float32)

    yield (
        "conv2d LeNet 128x1x28x28 -> 6, 5x5 pad 2",
        [arr(128, 1, 28, 28), arr(6, 1, 5, 5), arr(6)],
        lambda lib, x, w, b: lib.conv2d(x, w, b, padding=2),
        conv_flops(128, 1, 28, 28, 6, 5, 5, 1, 2),
    )
    yield (
        "conv2d LeNet 128x6x14x14 -> 16, 5x5",
        [arr(128, 6, 14, 14), arr(16, 6, 5, 5), arr(16)],
        lambda lib, x, w, b: lib.conv2d(x, w, b),
        conv_flops(128, 6, 14, 14, 16, 5, 5),
    )
    for c, side in ((16, 32), (32, 16), (64, 8)):
        yield (
            f"conv2d ResNet 64x{c}x{side}x{side} -> {c}, 3x3 pad 1",
            [arr(64, c, side, side), arr(c, c, 3, 3)],
            lambda lib, x, w: lib.conv2d(x, w, padding=1),
            conv_flops(64, c, side, side, c, 3, 3, 1, 1),
        )
    # the same first-stage convolution as it runs inside ResNet-20: input and gradient stored
    # channels-last, in both libraries (torch.channels_last; gradschool's layout between layers)
    yield (
        "conv2d ResNet 64x16x32x32 -> 16, channels-last",
        [_channels_last(arr(64, 16, 32, 32)), arr(16, 16, 3, 3)],
        lambda lib, x, w: lib.conv2d(x, w, padding=1),
        conv_flops(64, 16, 32, 32, 16, 3, 3, 1, 1),
    )
    yield (
        "max_pool2d 128x6x28x28 2x2",
        [arr(128, 6, 28, 28)],
        lambda lib, x: lib.max_pool2d(x, 2),
        None,
    )
    yield (
        "max_pool2d 64x16x32x32 3x3 s2 pad 1",
        [arr(64, 16, 32, 32)],
        lambda lib, x: lib.max_pool2d(x, 3, 2, 1),
        None,
    )
    rm, rv = np.zeros(16, np.float32), np.ones(16, np.float32)
    yield (
        "batch_norm 64x16x32x32 (train)",
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


def _channels_last(a: Any) -> Any:
    """``a`` (N, C, H, W) stored as (N, H, W, C): a view with NCHW shape."""
    import numpy as np

    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def _is_channels_last(a: Any) -> bool:
    return a.ndim == 4 and not a.flags.c_contiguous and a.transpose(0, 2, 3, 1).flags.c_contiguous


def _buf(lib: Any, a: Any) -> Any:
    import torch

    import gradschool as gs

    return torch.tensor(a) if lib is torch.nn.functional else gs.tensor(a)


def step_fns(arrays: list[Any], op: Callable[..., Any]) -> list[Callable[[], None]]:
    """``[gradschool step, torch step]``: each clears the inputs' gradients, runs the op on
    tensors made from ``arrays`` and back-propagates a gradient of ones."""
    import numpy as np
    import torch

    import gradschool as gs
    import gradschool.nn.functional as F

    def torch_tensor(a: Any, requires_grad: bool = False) -> Any:
        # keep a channels-last array channels-last (torch.tensor would make it contiguous)
        t = torch.tensor(a)
        if _is_channels_last(a):
            t = t.contiguous(memory_format=torch.channels_last)
        return t.requires_grad_(requires_grad)

    fns = []
    for lib, make in ((F, gs.tensor), (torch.nn.functional, torch_tensor)):
        inputs = [make(a, requires_grad=True) for a in arrays]
        out_shape = tuple(op(lib, *inputs).shape)
        ones = np.ones(out_shape, np.float32)
        if _is_channels_last(arrays[0]):
            ones = _channels_last(ones)  # the gradient in the input's layout too
        g = make(ones)

        def step(lib: Any = lib, inputs: list[Any] = inputs, g: Any = g) -> None:
            for t in inputs:
                t.grad = None
            op(lib, *inputs).backward(g)

        fns.append(step)
    return fns


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    pin_threads(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    print("\n".join(machine_lines()))
    sgemm = sgemm_gflops()
    print(f"NumPy float32 SGEMM (1024^3): {sgemm:.1f} GFLOP/s\n")
    rows = []
    for name, arrays, op, flops in workloads():
        ours, theirs = interleaved_medians(step_fns(arrays, op), args.repeat)
        gflops = (
            "" if flops is None else f"{flops / ours / 1e9:.1f} ({flops / ours / 1e9 / sgemm:.0%})"
        )
        rows.append(
            [name, f"{ours * 1e3:.2f}", f"{theirs * 1e3:.2f}", f"{ours / theirs:.2f}", gflops]
        )
        print(f"  {name}: done", file=sys.stderr, flush=True)
    heads = ["op (forward + backward)", "gs ms", "torch ms", "gs/torch", "gs GFLOP/s (% SGEMM)"]
    print("\n" + format_table(heads, rows, right="1234"))


if __name__ == "__main__":
    main()
