"""Peak memory of one ResNet-20 training step (forward, backward, SGD with momentum), in a
process of its own so that nothing else the benchmark did is counted. Run by ``run.py``, once
for gradschool and once for PyTorch; prints one JSON line.

    python benchmarks/_peak_memory.py {gradschool,torch} [--batch 64] [--steps 3]

Method. The model, its optimiser and a batch (``(64, 3, 32, 32)`` float32, random labels) are
made and one warm-up step is run (it allocates the gradients and momentum buffers, and fills
whatever caches the library keeps). Then, before each measured step, the kernel's high-water
mark of resident memory is reset (writing ``5`` to ``/proc/self/clear_refs``) and the current
RSS noted; after the step, ``VmHWM - RSS before`` is the step's peak growth: the activations
saved for the backward, the gradients and every temporary alive at the worst moment. Where
the reset is not allowed, ``getrusage``'s ``ru_maxrss`` is used instead (a peak since the
process began, so the figure is then only an upper bound of the step's). ``run.py`` starts
this script with ``MALLOC_MMAP_THRESHOLD_`` fixed at 128 KiB, so that glibc hands every large
array back to the kernel when it is freed (by default the threshold rises after the first
frees and a step's temporaries are recycled inside the heap, invisible to RSS); both
libraries allocate through glibc's malloc, so both are measured the same way.
For gradschool it also reports ``tracemalloc``'s peak over one step (NumPy reports its array
buffers to tracemalloc): the bytes of arrays alive at once, with no allocator slack.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tracemalloc
from collections.abc import Callable

MB = 1024 * 1024


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss() -> float:
    return _status_kb("VmRSS") * 1024 / MB


def _peak() -> float:
    try:
        return _status_kb("VmHWM") * 1024 / MB
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB


def _gradschool_step(batch: int) -> Callable[[], None]:
    import numpy as np

    import gradschool as gs
    import gradschool.nn.functional as F
    from gradschool.models.resnet_cifar import resnet20
    from gradschool.optim import SGD

    gs.manual_seed(0)
    rng = np.random.default_rng(0)
    model = resnet20()
    opt = SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = gs.tensor(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32))
    y = gs.tensor(rng.integers(0, 10, batch))

    def step() -> None:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def _torch_step(batch: int) -> Callable[[], None]:
    import numpy as np
    import torch
    from _twins import torch_resnet20

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = torch_resnet20()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.from_numpy(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 10, batch))

    def step() -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def measure(framework: str, batch: int = 64, steps: int = 3) -> dict[str, object]:
    """The figures described in the module docstring, in MB, as a dict."""
    # import the library first: its import is not the step's memory
    if framework == "torch":
        import _twins  # noqa: F401 - torch and the twin definitions
    else:
        import gradschool  # noqa: F401
    rss_start = _rss()
    step = (_gradschool_step if framework == "gradschool" else _torch_step)(batch)
    rss_built = _rss()
    step()
    rss_warm = _rss()
    growth, method = [], "VmHWM reset via /proc/self/clear_refs"
    for _ in range(steps):
        if not _reset_hwm():
            method = "ru_maxrss (no reset: upper bound)"
        before = _rss()
        step()
        growth.append(_peak() - before)
    out: dict[str, object] = {
        "framework": framework,
        "method": method,
        "rss_after_import_mb": rss_start,
        "model_and_input_mb": rss_built - rss_start,
        "kept_after_first_step_mb": rss_warm - rss_built,
        "step_peak_growth_mb": statistics.median(growth),
        "step_peak_growth_all_mb": growth,
    }
    if framework == "gradschool":
        tracemalloc.start()
        step()  # the buffers made before tracing started are invisible to it: remake them
        tracemalloc.reset_peak()
        current = tracemalloc.get_traced_memory()[0]
        step()
        out["tracemalloc_peak_mb"] = (tracemalloc.get_traced_memory()[1] - current) / MB
        tracemalloc.stop()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("framework", choices=("gradschool", "torch"))
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=3)
    args = p.parse_args()
    print(json.dumps(measure(args.framework, args.batch, args.steps)))


if __name__ == "__main__":
    main()
