"""The fuzz driver: random cases over every differentiable op and layer, against PyTorch.

    python tests/fuzz/run.py --cases 2000 [--seed S] [--only SUBSTRING]
    python tests/fuzz/run.py --replay 'conv2d:123456789'

A case is a target (an ``OpSpec`` row of ``tests/parity/specs_*.py`` or of the fuzzer's own
``specs_*.py`` here, a layer of ``modules_*.py``, a law of ``laws.py`` or the ties of
``specs_sort.py``) and a 63-bit
case seed; everything the case draws — arguments, dtype, memory layouts, train or eval,
cotangents — comes from that seed alone, so ``--replay NAME:SEED`` repeats it exactly,
whatever ran before it. The run's seed picks the targets and the case seeds; without
``--seed`` a random one is drawn and printed first. Each failing case prints what differed
and the command that replays it; the last line is ``N cases, F failures`` and the exit
status is 1 when F > 0.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import random
import secrets
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``tests.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import torch

import gradschool as gs
from tests import parity
from tests.fuzz import (
    laws,
    modules_act,
    modules_conv,
    modules_loss,
    modules_norm,
    modules_rnn,
    specs_extra,
    specs_extreme,
    specs_sort,
)
from tests.fuzz.check import Case, run_spec
from tests.fuzz.draw import Rejected

Target = Callable[[Case], list[str]]
COMMAND = "python tests/fuzz/run.py"


def _spec_target(spec: parity.harness.OpSpec) -> Target:
    return lambda case: run_spec(spec, case)


def targets() -> dict[str, Target]:
    """Every target by name: the parity rows, the fuzzer's own rows, layers and laws."""
    specs = []
    for info in pkgutil.iter_modules(parity.__path__):
        if info.name.startswith("specs_"):
            specs += importlib.import_module(f"tests.parity.{info.name}").SPECS
    specs = specs + specs_extra.SPECS + specs_extreme.SPECS + specs_sort.SPECS
    found: dict[str, Target] = {}
    for spec in specs:
        found[spec.name] = _spec_target(spec)
    tables = (modules_act, modules_conv, modules_norm, modules_loss, modules_rnn, specs_sort, laws)
    for module in tables:
        found.update(module.TARGETS)
    assert len(found) == len(specs) + sum(len(m.TARGETS) for m in tables), "a name repeats"
    return found


def run_case(target: Target, seed: int, full: bool = False) -> tuple[list[str], list[str]]:
    """(what differed, what was drawn) for one case; an exception on either side is a
    difference too (a sampler that draws what PyTorch rejects is a fuzzer bug to fix).
    ``full``: the whole traceback, not its last lines."""
    case = Case(seed)
    gs.manual_seed(seed % 2**32)
    torch.manual_seed(seed)
    # overflow in extreme cases warns on both sides; the values are what is compared
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = target(case)
        except Rejected as e:
            found = [str(e)]
        except Exception:
            lines = traceback.format_exc().strip().splitlines()
            found = ["raised: " + "\n".join(lines if full else lines[-8:])]
    return found, case.notes


def _report(name: str, seed: int, found: list[str], notes: list[str], full: bool) -> None:
    print(f"FAIL {name}:{seed} [{'; '.join(notes)}]")
    for message in found:
        lines = message.splitlines()
        if not full and len(lines) > 12:
            lines = lines[:12] + [f"... ({len(lines) - 12} more lines; --replay shows all)"]
        print("\n".join("    " + line for line in lines))
    print(f"  reproduce: {COMMAND} --replay '{name}:{seed}'", flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=1000, help="how many cases (default 1000)")
    p.add_argument("--seed", type=int, default=None, help="the run's seed (default: random)")
    p.add_argument("--only", default="", help="only targets whose name contains this")
    p.add_argument("--replay", default=None, metavar="NAME:SEED", help="run one case again")
    p.add_argument("--list", action="store_true", help="print the targets' names and exit")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    torch.set_num_threads(1)  # tiny tensors: one thread is fastest and repeatable
    table = targets()
    if args.list:
        print("\n".join(sorted(table)))
        return 0
    if args.replay is not None:
        name, _, seed_text = args.replay.rpartition(":")
        if name not in table or not seed_text.isdigit():
            print(f"--replay wants NAME:SEED with a known NAME, got {args.replay!r}")
            return 2
        print(f"fuzz replay {name}:{seed_text}")
        cases = [(name, int(seed_text))]
    else:
        seed = args.seed if args.seed is not None else secrets.randbits(32)
        print(f"fuzz seed {seed}" + (f" (only {args.only!r})" if args.only else ""), flush=True)
        names = sorted(n for n in table if args.only in n)
        if not names:
            print(f"no target name contains {args.only!r}")
            return 2
        rng = random.Random(seed)
        cases = [(rng.choice(names), rng.getrandbits(63)) for _ in range(args.cases)]
    start, failures = time.perf_counter(), 0
    for name, case_seed in cases:
        found, notes = run_case(table[name], case_seed, full=args.replay is not None)
        if found:
            failures += 1
            _report(name, case_seed, found, notes, full=args.replay is not None)
    elapsed = time.perf_counter() - start
    print(f"fuzz: {len(cases)} cases over {len({n for n, _ in cases})} targets in {elapsed:.1f} s")
    print(f"{len(cases)} cases, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
