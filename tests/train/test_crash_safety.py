"""Crash safety, proven: a ``gradschool train`` run in a subprocess is killed with SIGKILL 20
times at seeded moments -- inside a checkpoint or log write (half the bytes written; all
written but not renamed; renamed, the next file not yet written), in the middle of an epoch,
or by the parent after a seeded delay -- and each time the files left behind must load and
``--resume`` must finish with the metrics of a run that was never stopped (every value
except the wall-clock ones, compared exactly).

The kills inside the process come from a tiny runner (``RUNNER``) that wraps gradschool's
``atomic_write`` and ``Tensor.backward`` to count calls and SIGKILL itself at the chosen one,
so the library carries no test hook.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gradschool.io import load
from gradschool.train import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
KILLS = 20
ARGS = ["train", "--dataset", "spiral", "--epochs", "6", "--no-progress", "--seed", "3"]
TIMING = {"seconds", "images_per_s", "train_seconds"}  # wall-clock values differ run to run

# GS_CRASH = "count:PATH" counts writes and steps into PATH; "write:K:STAGE" kills the
# process in the K-th atomic write at STAGE; "step:N" kills it before the N-th backward.
RUNNER = r"""
import atexit, contextlib, json, os, signal, sys
import gradschool.io.png, gradschool.io.safetensors, gradschool.train.log
from gradschool.tensor import Tensor
from gradschool.cli.main import main

kind, arg, *stage = os.environ.get("GS_CRASH", "none:0").split(":")
real_write, real_backward = gradschool.io.safetensors.atomic_write, Tensor.backward
counts = {"writes": 0, "steps": 0, "written": []}  # written: [file name, steps so far]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

class Torn:
    # the file object of the doomed write: half of the first write lands, then the kill
    def __init__(self, f): self.f = f
    def write(self, data):
        self.f.write(bytes(data)[: len(data) // 2]); self.f.flush(); os.fsync(self.f.fileno())
        die()

@contextlib.contextmanager
def atomic_write(path):
    counts["writes"] += 1
    counts["written"].append([os.path.basename(path), counts["steps"]])
    doomed = kind == "write" and counts["writes"] == int(arg)
    with real_write(path) as f:
        yield Torn(f) if doomed and stage == ["mid"] else f
        if doomed and stage == ["unrenamed"]:  # all written and flushed, never renamed
            f.flush(); die()
    if doomed:  # "renamed": this file is whole, the files after it are not written
        die()

def backward(self, *args, **kwargs):
    counts["steps"] += 1
    if kind == "step" and counts["steps"] == int(arg):
        die()
    return real_backward(self, *args, **kwargs)

for module in (gradschool.io.safetensors, gradschool.io.png, gradschool.train.log):
    module.atomic_write = atomic_write
Tensor.backward = backward
if kind == "count":
    atexit.register(lambda: open(arg, "w").write(json.dumps(counts)))
sys.exit(main(sys.argv[1:]))
"""


def gradschool(run: Path, *extra: str, crash: str = "none:0") -> subprocess.Popen[bytes]:
    env = dict(os.environ, GS_CRASH=crash, PYTHONPATH=str(REPO), GRADSCHOOL_JIT="0")
    argv = [sys.executable, "-c", RUNNER, *ARGS, "--out", str(run), *extra]
    return subprocess.Popen(
        argv, env=env, cwd=run.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def finish(process: subprocess.Popen[bytes]) -> int:
    _, err = process.communicate(timeout=120)
    assert process.returncode in (0, -signal.SIGKILL), err.decode()
    return process.returncode


def results(run: Path) -> tuple[Any, list[dict[str, str]]]:
    """metrics.json and log.csv without their wall-clock values."""
    metrics = json.loads((run / "metrics.json").read_text())
    for record in metrics["history"]:
        for key in TIMING:
            record.pop(key, None)
    for key in TIMING:
        metrics.pop(key, None)
    with open(run / "log.csv", newline="") as f:
        log = [{k: v for k, v in row.items() if k not in TIMING} for row in csv.DictReader(f)]
    return metrics, log


def check_leftovers(run: Path, epochs: int) -> None:
    """What a kill leaves must be whole: the checkpoints load, the logs parse."""
    if (run / "checkpoint.safetensors").exists():
        epoch = load_checkpoint(run / "checkpoint.safetensors", restore_rng=False)["epoch"]
        assert 1 <= epoch <= epochs
    if (run / "best.safetensors").exists():
        load(run / "best.safetensors")
    for name in ("config.json", "metrics.json"):
        if (run / name).exists():
            json.loads((run / name).read_text())


def plan(rng: random.Random, counts: dict[str, Any], best: int, epochs: int) -> list[str]:
    """KILLS kill moments: first between every two writes of the best epoch and of the last
    (where a file written out of order resumes to other weights or a shorter log), then
    seeded ones: half-written files, files written but not renamed, mid-epoch steps, and
    the parent's timers."""
    steps = counts["steps"]
    decisive = {best * steps // epochs, steps}  # the steps done when those epochs end
    moments = [
        f"write:{k}:renamed"
        for k, (_, done) in enumerate(counts["written"], start=1)
        if done in decisive and k < counts["writes"]
    ]
    seeded = ["write:mid", "write:unrenamed", "step", "timer"]
    while len(moments) < KILLS:
        kind = seeded[len(moments) % len(seeded)]
        if kind.startswith("write"):  # any write after config.json
            moments.append(f"write:{rng.randint(2, counts['writes'])}:{kind[6:]}")
        elif kind == "step":
            moments.append(f"step:{rng.randint(1, steps)}")
        else:
            moments.append(f"timer:{rng.uniform(0.3, 1.2):.3f}")  # from startup to the end
    return moments[:KILLS]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_killed_runs_resume_to_the_same_metrics(tmp_path):
    reference = tmp_path / "reference"
    assert finish(gradschool(reference, crash=f"count:{tmp_path / 'counts.json'}")) == 0
    counts = json.loads((tmp_path / "counts.json").read_text())
    expected = results(reference)
    epochs, best = len(expected[1]), expected[0]["best_epoch"]
    assert 1 < best and counts["steps"] % epochs == 0  # a best epoch that is not the first

    killed = 0
    for i, moment in enumerate(plan(random.Random(2024), counts, best, epochs)):
        run = tmp_path / f"run{i}"
        if moment.startswith("timer"):
            delay = float(moment.split(":")[1])
            while True:  # a run that finished before its timer is run again, killed sooner
                process = gradschool(run)
                try:
                    process.wait(timeout=delay)
                except subprocess.TimeoutExpired:
                    process.kill()  # SIGKILL
                if finish(process) == -signal.SIGKILL:
                    break
                shutil.rmtree(run)
                delay /= 2
            killed += 1
        else:
            process = gradschool(run, crash=moment)
            killed += finish(process) == -signal.SIGKILL
        check_leftovers(run, epochs)
        if (run / "checkpoint.safetensors").exists():
            assert finish(gradschool(run, "--resume", str(run))) == 0, moment
        else:  # killed before its first checkpoint: a fresh start is all there is
            assert finish(gradschool(run)) == 0, moment
        assert results(run) == expected, f"kill {i} ({moment}) changed the results"
        assert not list(run.glob(".*.tmp")), (
            "a resumed run removes a killed writer's temporary files"
        )
    assert killed == KILLS
