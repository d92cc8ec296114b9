"""gradschool sets glibc's allocator thresholds at import unless told not to."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gradschool.backend import allocator

glibc = pytest.mark.skipif(allocator._glibc() is None, reason="glibc only")


def _applied(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in allocator._ENV_SETTINGS}
    clean.pop("GRADSCHOOL_KEEP_FREED_MEMORY", None)
    code = "import gradschool.backend.allocator as a, gradschool; print(a.keeps_freed_memory())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@glibc
def test_applied_on_import():
    assert _applied() == "True"


@glibc
@pytest.mark.parametrize(
    "env",
    [
        {"GRADSCHOOL_KEEP_FREED_MEMORY": "0"},
        {"MALLOC_MMAP_THRESHOLD_": "131072"},
        {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1000000"},
    ],
)
def test_left_alone_when_the_environment_decides(env):
    assert _applied(**env) == "False"


_STEP = """
import resource, numpy as np, gradschool
a, b = np.ones((512, 128), np.float32), np.ones((128, 784), np.float32)
def step():  # four 1.6 MB products alive at once, then all freed, as in a training step
    products = [a @ b for _ in range(4)]
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@glibc
def test_a_repeated_step_reuses_its_memory():
    # glibc's defaults trim the freed products off the heap, and each step faults its pages
    # in again (about 29,000 minor faults over the ten steps); kept, it reuses them
    def faults(**env: str) -> int:
        clean = {k: v for k, v in os.environ.items() if k not in allocator._ENV_SETTINGS}
        out = subprocess.run(
            [sys.executable, "-c", _STEP], env={**clean, **env}, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return int(out.stdout)

    assert faults(GRADSCHOOL_KEEP_FREED_MEMORY="1") < 1000
    assert faults(GRADSCHOOL_KEEP_FREED_MEMORY="0") > 10_000
