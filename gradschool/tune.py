"""Hyperparameter search over ``gradschool train`` runs (CS231n L6 "hyperparameter optimisation").

Each *trial* is one ``gradschool train`` run with some options drawn from a search space (the
learning rate, the weight decay, the batch size ...) and the rest fixed; trials run in parallel
worker processes, each in its own run folder, and are ranked by their best **validation**
accuracy. The test accuracy every run also writes stays in its ``metrics.json``: choosing by it
would turn the test set into a second validation set and its number into a biased one.

The course's recipe, which ``tune`` follows:

* **Random search, not grid search** (Bergstra & Bengio 2012). When a few hyperparameters matter
  far more than the rest (the usual case), a grid of n^2 trials tries only n values of the
  important one, while n^2 random trials try n^2 different values of it.
* **Search on a log scale** for scale parameters: ``lr=1e-4:1e-1`` draws ``log10(lr)`` uniformly
  from [-4, -1], so each decade gets as many trials.
* **Coarse to fine.** Stage 1 searches wide ranges with few, short runs (``stage_epochs``: a few
  epochs are enough to tell a hopeless configuration from a good one); stage 2 narrows every range
  to span the best stage-1 trials (with a margin) and searches there, possibly with longer runs.
* **Check the edges.** If the best value lies at the edge of its range, the best may lie beyond
  it: ``tune`` says so, and the range should be widened.
* **Look at the plot.** ``tune.png`` scatters validation accuracy against each hyperparameter:
  a clear peak means the range is right, a flat cloud that the hyperparameter hardly matters.

From Python::

    from gradschool.tune import tune, loguniform
    result = tune({"lr": loguniform(1e-4, 1e-1), "weight_decay": loguniform(1e-6, 1e-2)},
                  ["--dataset", "spiral", "--epochs", "20"], n_trials=8, stages=2, n_jobs=2,
                  out="runs/tune-spiral")
    result.best  # the best trial: its params, val_accuracy, run folder

(in a script with ``n_jobs > 1``, under ``if __name__ == "__main__":``, since each worker process
imports the script afresh) and from the shell::

    gradschool tune --dataset spiral --epochs 20 --param lr=1e-4:1e-1 \\
        --param weight-decay=1e-6:1e-2 --trials 8 --stages 2 --jobs 2 --out runs/tune-spiral

The output folder holds one run folder per trial (``trial-001`` ...), each with its ``train.log``,
and ``tune.csv`` (the table, best first), ``tune.json`` (the search spaces of each stage and every
trial) and ``tune.png``.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .classic.model_selection import (
    ParameterGrid,
    ParameterSampler,
    check_random_state,
    limited_threads,
    loguniform,
    process_pool,
    randint,
    uniform,
)

__all__ = ["tune", "TuneResult", "run_trial", "parse_param", "loguniform", "uniform", "randint"]

# train options a search may not vary: where the run goes, and what it is measured on
NOT_TUNABLE = {"out", "resume", "data_dir", "download", "device", "no_progress", "dataset", "help"}
STAGE_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]


@dataclass
class TuneResult:
    """What ``tune`` found: ``trials`` sorted best first (each a dict with ``trial``, ``stage``,
    ``params``, ``status``, ``val_accuracy``, ``train_accuracy``, ``best_epoch``, ``seconds``,
    ``run``), ``best`` (the first successful one, or None), ``spaces`` (the search space of each
    stage), ``out`` (the folder) and ``plot`` (the path of ``tune.png``, or None)."""

    trials: list[dict[str, Any]]
    best: dict[str, Any] | None
    spaces: list[dict[str, Any]] = field(default_factory=list)
    out: Path = Path(".")
    plot: Path | None = None


# ----------------------------------------------------------------- the options of a train run
def _train_parser() -> argparse.ArgumentParser:
    from .cli.main import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices["train"]
    raise RuntimeError("gradschool.cli.main has no train command")  # pragma: no cover


def _train_options() -> dict[str, argparse.Action]:
    """``dest -> action`` for every option of ``gradschool train``."""
    return {a.dest: a for a in _train_parser()._actions if a.option_strings}


def _option(name: str, options: Mapping[str, argparse.Action]) -> argparse.Action:
    dest = name.lstrip("-").replace("-", "_")
    if dest not in options or dest in NOT_TUNABLE:
        tunable = sorted(k.replace("_", "-") for k in options if k not in NOT_TUNABLE)
        raise ValueError(
            f"tune: {name!r} is not an option of gradschool train that a search can vary; "
            f"choose from {', '.join(tunable)}"
        )
    return options[dest]


def _is_int(action: argparse.Action) -> bool:
    return action.type is int


def parse_param(text: str) -> tuple[str, Any]:
    """``"NAME=SPEC"`` (the ``--param`` of ``gradschool tune``) to ``(name, space)``:
    ``lr=1e-4:1e-1`` log-uniform (the default for a range), ``momentum=0.5:0.99:linear`` uniform,
    ``batch-size=32,64,128`` a list of choices."""
    name, sep, spec = text.partition("=")
    if not sep or not name or not spec:
        raise ValueError(
            f"tune: --param takes NAME=SPEC (e.g. lr=1e-4:1e-1 or batch-size=32,64), got {text!r}"
        )
    if ":" in spec:
        parts = spec.split(":")
        scale = parts.pop() if parts[-1] in ("log", "linear") else "log"
        try:
            lo, hi = (float(p) for p in parts)
        except ValueError:
            raise ValueError(
                f"tune: a range is LOW:HIGH[:log|linear] with two numbers, got {spec!r} for {name}"
            ) from None
        if scale == "log":
            if not 0 < lo < hi:
                raise ValueError(
                    f"tune: a log range needs 0 < LOW < HIGH, got {spec!r} for {name} "
                    "(add :linear for a uniform range)"
                )
            return name, loguniform(lo, hi)
        if not lo < hi:
            raise ValueError(f"tune: a range needs LOW < HIGH, got {spec!r} for {name}")
        return name, uniform(lo, hi)
    return name, [v for v in spec.split(",") if v]


def _coerce(value: Any, action: argparse.Action) -> Any:
    """A sampled value as the train option wants it (an int option gets a rounded int)."""
    if _is_int(action):
        return int(round(float(value)))
    if action.type is float:
        return float(value)
    return value


def _check_space(space: Mapping[str, Any], options: Mapping[str, argparse.Action]) -> dict:
    """Keys normalised to the options' ``dest`` names; list values checked against choices."""
    out = {}
    for name, dist in space.items():
        action = _option(name, options)
        if hasattr(dist, "rvs"):
            if action.type not in (int, float):
                raise ValueError(
                    f"tune: --{action.dest.replace('_', '-')} takes {action.choices or 'a name'}; "
                    "give it a list of choices, not a range"
                )
        elif isinstance(dist, str) or not isinstance(dist, Sequence) or not dist:
            raise ValueError(
                f"tune: the space of {name!r} must be a range (loguniform(a, b), uniform(a, b)) or "
                f"a non-empty list of choices, got {dist!r}"
            )
        else:
            try:
                dist = [action.type(v) if action.type else v for v in dist]
            except (TypeError, ValueError):
                raise ValueError(
                    f"tune: {dist!r} are not valid values of --{action.dest.replace('_', '-')}"
                ) from None
            if action.choices and any(v not in action.choices for v in dist):
                raise ValueError(
                    f"tune: --{action.dest.replace('_', '-')} takes {', '.join(action.choices)}; "
                    f"got {dist}"
                )
        out[action.dest] = dist
    if not out:
        raise ValueError("tune: the search space is empty; give at least one hyperparameter")
    return out


# ----------------------------------------------------------------- one trial
def run_trial(train_args: Sequence[str], out_dir: str) -> dict[str, Any]:
    """Run ``gradschool train *train_args --out out_dir`` here (in a worker process when
    ``tune`` runs trials in parallel), its output going to ``out_dir/train.log``; returns the
    trial's result, read back from the run's ``metrics.json``."""
    import contextlib
    import traceback

    from .cli.main import main

    run = Path(out_dir)
    run.mkdir(parents=True, exist_ok=True)
    log = run / "train.log"
    argv = ["train", *train_args, "--out", str(run), "--no-progress"]
    start = time.perf_counter()
    with (
        open(log, "w", encoding="utf-8") as f,
        contextlib.redirect_stdout(f),
        contextlib.redirect_stderr(f),
    ):
        print("gradschool " + " ".join(argv), flush=True)
        try:
            status = main(argv)
        except Exception:  # GRADSCHOOL_DEBUG=1 lets main raise: keep the traceback in the log
            traceback.print_exc()
            status = 1
    result: dict[str, Any] = {"seconds": round(time.perf_counter() - start, 2), "run": str(run)}
    metrics_file = run / "metrics.json"
    if status != 0 or not metrics_file.exists():
        lines = [ln for ln in log.read_text(encoding="utf-8").splitlines() if ln.strip()]
        result.update(status="failed", error=lines[-1] if lines else f"exit status {status}")
        return result
    from .train.log import read_json

    metrics = read_json(metrics_file)
    best_epoch = metrics.get("best_epoch")
    row = next((r for r in metrics.get("history", []) if r.get("epoch") == best_epoch), {})
    result.update(
        status="ok",
        val_accuracy=metrics.get("best_val_accuracy", row.get("val_accuracy")),
        val_loss=row.get("val_loss"),
        train_accuracy=row.get("train_accuracy"),
        best_epoch=best_epoch,
        epochs=metrics.get("epochs_completed"),
    )
    return result


def _argv(params: Mapping[str, Any], options: Mapping[str, argparse.Action]) -> list[str]:
    out = []
    for dest, value in params.items():
        out += [
            options[dest].option_strings[-1],
            repr(value) if isinstance(value, float) else str(value),
        ]
    return out


# ----------------------------------------------------------------- the search
def _candidates(
    space: Mapping[str, Any],
    search: str,
    n: int,
    grid_points: int,
    rng: Any,
    options: Mapping[str, argparse.Action],
) -> list[dict[str, Any]]:
    if search == "random":
        draws = list(ParameterSampler(dict(space), n, random_state=rng))
    else:  # a grid: each range becomes grid_points values, log-spaced for log ranges
        import numpy as np

        grid = {}
        for k, d in space.items():
            if hasattr(d, "rvs"):
                ends = (np.log(d.a), np.log(d.b)) if getattr(d, "log", False) else (d.a, d.b)
                pts = np.linspace(*ends, grid_points)
                grid[k] = list(np.exp(pts) if getattr(d, "log", False) else pts)
            else:
                grid[k] = list(d)
        draws = list(ParameterGrid(grid))
    out = []
    for d in draws:  # in the space's order, values as the options take them
        c = {k: _coerce(d[k], options[k]) for k in space}
        if c not in out:  # integer options can round two draws to the same run
            out.append(c)
    return out


def _narrow(
    space: Mapping[str, Any],
    best: Sequence[Mapping[str, Any]],
    options: Mapping[str, argparse.Action],
    margin: float = 0.125,
) -> dict[str, Any]:
    """The next stage's space: each range shrunk to span the values of the ``best`` trials,
    widened by ``margin`` of the old range's width on each side (in log units for log ranges)
    and kept inside the old range; each list cut to the choices the best trials used."""
    import numpy as np

    out: dict[str, Any] = {}
    for k, d in space.items():
        values = [t["params"][k] for t in best]
        if not hasattr(d, "rvs"):
            out[k] = [v for v in d if v in values]
            continue
        log = getattr(d, "log", False)
        f = np.log if log else (lambda x: x)
        lo, hi = f(min(values)), f(max(values))
        width = margin * (f(d.b) - f(d.a))
        back = np.exp if log else (lambda x: x)
        a = d.a if lo - width <= f(d.a) else float(back(lo - width))
        b = d.b if hi + width >= f(d.b) else float(back(hi + width))
        if _is_int(options[k]) and round(a) == round(b):
            out[k] = [round(a)]
        elif isinstance(d, randint):
            out[k] = randint(math.floor(a), math.ceil(b) + 1)
        else:
            out[k] = loguniform(a, b) if log else uniform(a, b)
    return out


def _edge_notes(space: Mapping[str, Any], best: Mapping[str, Any]) -> list[str]:
    """Warn when the best value sits in the outer 5% of its range: the optimum may lie beyond."""
    import numpy as np

    notes = []
    for k, d in space.items():
        if not hasattr(d, "rvs"):
            continue
        log = getattr(d, "log", False)
        f = np.log if log else (lambda x: x)
        pos = (f(best["params"][k]) - f(d.a)) / (f(d.b) - f(d.a))
        if pos < 0.05 or pos > 0.95:
            side = "lower" if pos < 0.05 else "upper"
            notes.append(
                f"note: the best {k.replace('_', '-')} ({best['params'][k]:.3g}) lies at the "
                f"{side} edge of its range {d!r}: the optimum may lie beyond it; widen the range"
            )
    return notes


def _run_stage(
    trials: list[tuple[int, list[str], str]], n_jobs: int, verbose: bool
) -> dict[int, dict[str, Any]]:
    """Run ``(trial number, train args, folder)`` trials, ``n_jobs`` at a time."""
    results: dict[int, dict[str, Any]] = {}

    def report(i: int, r: dict[str, Any]) -> None:
        results[i] = r
        if verbose:
            what = (
                f"val accuracy {r['val_accuracy']:.4f}"
                if r["status"] == "ok"
                else f"FAILED: {r.get('error', '')}"
            )
            print(
                f"  trial {i:3d} ({len(results)}/{len(trials)} done, {r['seconds']:.1f}s): {what}"
            )

    workers = min(n_jobs, len(trials))
    if workers <= 1:
        for i, args, folder in trials:
            report(i, run_trial(args, folder))
        return results
    from concurrent.futures import as_completed

    with limited_threads(workers), process_pool(workers) as pool:
        futures = {pool.submit(run_trial, args, folder): i for i, args, folder in trials}
        try:
            for future in as_completed(futures):
                report(futures[future], future.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return results


def tune(
    space: Mapping[str, Any],
    train_args: Sequence[str] = (),
    *,
    search: str = "random",
    n_trials: int | Sequence[int] = 8,
    stages: int = 2,
    top_k: int | None = None,
    grid_points: int = 3,
    stage_epochs: Sequence[int] | None = None,
    n_jobs: int | None = 1,
    out: str | os.PathLike[str] = "runs/tune",
    random_state: Any = 0,
    verbose: bool = True,
) -> TuneResult:
    """Search ``space`` over ``gradschool train`` runs; returns a ``TuneResult`` and writes
    ``tune.csv``, ``tune.json`` and ``tune.png`` in ``out``.

    ``space`` maps train options (``"lr"``, ``"weight_decay"`` or ``"weight-decay"``,
    ``"batch_size"``, ``"optimizer"`` ...) to a range (``loguniform(a, b)``, ``uniform(a, b)``,
    ``randint(a, b)``) or a list of choices; ``train_args`` are the fixed options of every run
    (e.g. ``["--dataset", "spiral", "--epochs", "5"]``). ``search``: ``"random"`` (``n_trials``
    draws per stage; an int, or one per stage) or ``"grid"`` (``grid_points`` values per range,
    every combination). ``stages``: how many coarse-to-fine stages; each after the first
    searches the ranges narrowed around the ``top_k`` best trials so far (default: the best
    quarter, at least 2). ``stage_epochs``: ``--epochs`` per stage (short runs first).
    ``n_jobs``: trials at once, each in a worker process (-1: one per CPU).
    """
    from .classic.model_selection import effective_n_jobs
    from .train.log import write_csv, write_json

    if search not in ("random", "grid"):
        raise ValueError(f"tune: search must be 'random' or 'grid', got {search!r}")
    if not isinstance(stages, int) or stages < 1:
        raise ValueError(f"tune: stages must be a positive int, got {stages!r}")
    per_stage = [n_trials] * stages if isinstance(n_trials, int) else list(n_trials)
    if len(per_stage) != stages or any(not isinstance(n, int) or n < 1 for n in per_stage):
        raise ValueError(
            f"tune: n_trials must be a positive int or {stages} of them (one per stage), "
            f"got {n_trials!r}"
        )
    if stage_epochs is not None and len(stage_epochs) != stages:
        raise ValueError(f"tune: stage_epochs needs {stages} values, got {list(stage_epochs)}")
    if grid_points < 2 and search == "grid":
        raise ValueError(f"tune: grid_points must be at least 2, got {grid_points}")
    options = _train_options()
    space = _check_space(space, options)
    fixed = list(train_args)
    for a in fixed:
        if a.startswith("--"):
            dest = a[2:].split("=")[0].replace("-", "_")
            if dest in ("out", "resume"):
                raise ValueError(f"tune: {a} is set by tune itself (each trial gets its own run)")
            if dest in space:
                raise ValueError(f"tune: {a} is both fixed in train_args and searched; pick one")
            if dest == "epochs" and stage_epochs is not None:
                raise ValueError("tune: give the epochs in train_args or stage_epochs, not both")
    n_jobs = effective_n_jobs(n_jobs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = check_random_state(random_state)

    trials: list[dict[str, Any]] = []
    spaces: list[dict[str, Any]] = []
    stage_space = space
    for stage in range(1, stages + 1):
        if stage > 1:
            done = _ranked(trials)
            k = top_k or max(2, len(done) // 4)
            if not done:
                if verbose:
                    print("tune: no trial of the last stage succeeded; stopping")
                break
            stage_space = _narrow(stage_space, done[:k], options)
        spaces.append(stage_space)
        candidates = _candidates(
            stage_space, search, per_stage[stage - 1], grid_points, rng, options
        )
        extra = [] if stage_epochs is None else ["--epochs", str(stage_epochs[stage - 1])]
        jobs, start = [], len(trials) + 1
        for i, params in enumerate(candidates, start):
            folder = out / f"trial-{i:03d}"
            trials.append({"trial": i, "stage": stage, "params": params, "run": str(folder)})
            jobs.append((i, fixed + extra + _argv(params, options), str(folder)))
        if verbose:
            desc = ", ".join(
                f"{k.replace('_', '-')} {_describe(d)}" for k, d in stage_space.items()
            )
            print(f"tune: stage {stage}/{stages}, {len(jobs)} trials ({n_jobs} at a time): {desc}")
        results = _run_stage(jobs, n_jobs, verbose)
        for t in trials[start - 1 :]:
            t.update(results[t["trial"]])

    ranked = _ranked(trials) + [t for t in trials if t.get("status") != "ok"]
    best = ranked[0] if ranked and ranked[0].get("status") == "ok" else None
    names = list(space)
    write_csv(out / "tune.csv", [_row(t, names) for t in ranked])
    write_json(
        out / "tune.json",
        {
            "train_args": fixed,
            "search": search,
            "spaces": [{k: _describe(d) for k, d in s.items()} for s in spaces],
            "trials": ranked,
        },
    )
    plot = _plot(ranked, spaces, out / "tune.png", verbose)
    if verbose:
        print(format_table(ranked, names))
        if best is not None:
            for note in _edge_notes(spaces[0], best):
                print(note)
            print(f"best: {_argv(best['params'], options)} -> {best['run']}")
        print(f"table in {out / 'tune.csv'}" + (f", plot in {plot}" if plot else ""))
    return TuneResult(ranked, best, spaces, out, plot)


def _ranked(trials: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    ok = [t for t in trials if t.get("status") == "ok" and t.get("val_accuracy") is not None]
    return sorted(ok, key=lambda t: (-t["val_accuracy"], t["trial"]))


def _describe(d: Any) -> Any:
    return repr(d) if hasattr(d, "rvs") else list(d)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 or v == 0 else f"{v:.2e}"
    return str(v)


def _row(t: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    row = {"trial": t["trial"], "stage": t["stage"]}
    row.update({n: t["params"].get(n) for n in names})
    for key in ("val_accuracy", "train_accuracy", "best_epoch", "seconds", "status", "run"):
        row[key] = t.get(key)
    return row


def format_table(trials: Sequence[Mapping[str, Any]], names: Sequence[str]) -> str:
    """The trials as a text table, in the order given (``tune`` gives them best first)."""
    head = ["rank", "trial", "stage", *(n.replace("_", "-") for n in names)]
    head += ["val acc", "train acc", "epoch", "time"]
    rows = []
    for rank, t in enumerate(trials, 1):
        ok = t.get("status") == "ok"
        rows.append(
            [str(rank) if ok else "-", str(t["trial"]), str(t["stage"])]
            + [_fmt(t["params"].get(n)) for n in names]
            + (
                [
                    f"{t['val_accuracy']:.4f}",
                    "" if t.get("train_accuracy") is None else f"{t['train_accuracy']:.4f}",
                    str(t.get("best_epoch", "")),
                ]
                if ok
                else ["failed", "", ""]
            )
            + [f"{t.get('seconds', 0):.1f}s"]
        )
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)
    ]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------- the plot
def _plot(
    trials: Sequence[Mapping[str, Any]],
    spaces: Sequence[Mapping[str, Any]],
    path: Path,
    verbose: bool,
) -> Path | None:
    """Validation accuracy against each hyperparameter, one panel each, a colour per stage."""
    ok = [t for t in trials if t.get("status") == "ok"]
    if not ok or not spaces:
        return None
    space = spaces[0]
    try:
        png = _draw_matplotlib(ok, space)
    except ImportError:
        from .io.png import write_png

        write_png(path, _draw_raster(ok, space))
        if verbose:
            print(
                "note: matplotlib is not installed (pip install 'gradschool[train]'); tune.png "
                "is a plain scatter without labels"
            )
        return path
    from .io.safetensors import atomic_write

    with atomic_write(path) as f:
        f.write(png)
    return path


def _positions(values: Sequence[Any], d: Any) -> tuple[list[float], list[Any] | None]:
    """x positions of ``values``: the values themselves for a range, indices for choices."""
    if hasattr(d, "rvs"):
        return [float(v) for v in values], None
    choices = list(d)
    return [float(choices.index(v)) for v in values], choices


def _draw_matplotlib(trials: Sequence[Mapping[str, Any]], space: Mapping[str, Any]) -> bytes:
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(space)
    fig = Figure(figsize=(4.2 * len(names), 3.6), dpi=100, layout="tight")
    FigureCanvasAgg(fig)
    best = trials[0]
    for i, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), i + 1)
        d = space[name]
        for stage in sorted({t["stage"] for t in trials}):
            ts = [t for t in trials if t["stage"] == stage]
            xs, _ = _positions([t["params"][name] for t in ts], d)
            colour = [c / 255 for c in STAGE_COLOURS[(stage - 1) % len(STAGE_COLOURS)]]
            ax.scatter(
                xs, [t["val_accuracy"] for t in ts], s=22, color=colour, label=f"stage {stage}"
            )
        bx, choices = _positions([best["params"][name]], d)
        ax.scatter(bx, [best["val_accuracy"]], s=160, marker="*", color="black", label="best")
        if choices is not None:
            ax.set_xticks(range(len(choices)), [str(c) for c in choices])
        elif getattr(d, "log", False):
            ax.set_xscale("log")
        ax.set_xlabel(name.replace("_", "-"))
        ax.set_ylabel("validation accuracy")
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _draw_raster(trials: Sequence[Mapping[str, Any]], space: Mapping[str, Any]) -> Any:
    """The scatter without matplotlib: axes and coloured dots, no text."""
    import numpy as np

    pw, ph, m = 260, 200, 20
    names = list(space)
    img = np.full((ph, pw * len(names), 3), 255, np.uint8)
    accs = [t["val_accuracy"] for t in trials]
    lo, hi = min(accs), max(accs)
    lo, hi = (lo - 0.05, hi + 0.05) if hi - lo < 1e-9 else (lo, hi)
    for i, name in enumerate(names):
        d = space[name]
        xs, choices = _positions([t["params"][name] for t in trials], d)
        if choices is None and getattr(d, "log", False):
            xs = [math.log(x) for x in xs]
        xlo, xhi = min(xs), max(xs)
        xlo, xhi = (xlo - 1, xhi + 1) if xhi - xlo < 1e-12 else (xlo, xhi)
        ox = i * pw
        img[m : ph - m, ox + m] = 0
        img[ph - m, ox + m : ox + pw - m] = 0
        for t, x in zip(trials, xs, strict=True):
            px = ox + m + 4 + int((x - xlo) / (xhi - xlo) * (pw - 2 * m - 8))
            py = ph - m - 4 - int((t["val_accuracy"] - lo) / (hi - lo) * (ph - 2 * m - 8))
            colour = STAGE_COLOURS[(t["stage"] - 1) % len(STAGE_COLOURS)]
            img[py - 2 : py + 3, px - 2 : px + 3] = colour
    return img


# ----------------------------------------------------------------- the command line
def add_tune_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``gradschool tune`` to the ``gradschool`` command's subparsers ``sub``; the fixed
    options of the trials are those of ``gradschool train``, copied from its parser."""
    p = sub.add_parser(
        "tune",
        help="search hyperparameters over train runs (random or grid, coarse to fine)",
        description=(
            "Run gradschool train with hyperparameters drawn from ranges (--param), in parallel, "
            "and rank the runs by validation accuracy. Other train options are fixed for every "
            "trial. Example: gradschool tune --dataset spiral --epochs 20 --param lr=1e-4:1e-1 "
            "--param weight-decay=1e-6:1e-2 --trials 8 --jobs 2"
        ),
    )
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME=SPEC",
        help="a searched train option: lr=1e-4:1e-1 (log-uniform), momentum=0.5:0.9:linear "
        "(uniform), batch-size=32,64,128 (choices); repeat for each (default: lr=1e-4:1e-1 and "
        "weight-decay=1e-6:1e-2)",
    )
    p.add_argument("--search", choices=("random", "grid"), default="random", help="default random")
    p.add_argument("--trials", default="8", help="trials per stage: N, or N1,N2 (default 8)")
    p.add_argument("--stages", type=int, default=2, help="coarse-to-fine stages (default 2)")
    p.add_argument(
        "--top", type=int, help="trials the next stage narrows around (default: best quarter, >= 2)"
    )
    p.add_argument("--grid-points", type=int, default=3, help="values per range with --search grid")
    p.add_argument("--stage-epochs", help="--epochs per stage, e.g. 2,10 (short runs first)")
    p.add_argument(
        "--jobs", type=int, default=1, help="trials at once, in worker processes (-1: all CPUs)"
    )
    p.add_argument(
        "--search-seed", type=int, default=0, help="seed of the random draws (default 0)"
    )
    p.add_argument("--out", default=None, help="output folder (default runs/tune-<dataset>)")
    group = p.add_argument_group("fixed train options (as gradschool train)")
    for a in _train_parser_from(sub)._actions:
        if not a.option_strings or a.dest in {"out", "resume", "no_progress", "help"}:
            continue
        kwargs: dict[str, Any] = {"dest": f"train_{a.dest}", "help": a.help}
        if a.nargs == 0:
            kwargs["action"] = "store_true"
        else:
            kwargs.update(type=a.type, choices=a.choices, metavar=a.metavar or a.dest.upper())
        group.add_argument(*a.option_strings, **kwargs)
    p.set_defaults(func=cmd_tune)
    return p


def _train_parser_from(sub: Any) -> argparse.ArgumentParser:
    if "train" not in sub.choices:
        raise RuntimeError("add_tune_parser: add the train command first")  # pragma: no cover
    return sub.choices["train"]


def _ints(text: str | None, what: str) -> list[int] | None:
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",") if v]
    except ValueError:
        raise ValueError(f"tune: {what} takes integers separated by commas, got {text!r}") from None
    return values


def cmd_tune(args: argparse.Namespace) -> int:
    fixed: list[str] = []
    for key, value in vars(args).items():
        if not key.startswith("train_") or value is None or value is False:
            continue
        flag = "--" + key[len("train_") :].replace("_", "-")
        fixed += [flag] if value is True else [flag, str(value)]
    if args.param:
        space = dict(parse_param(p) for p in args.param)
    else:  # the course's two: learning rate and regularisation strength, unless fixed
        space = {"lr": loguniform(1e-4, 1e-1), "weight_decay": loguniform(1e-6, 1e-2)}
        space = {k: v for k, v in space.items() if getattr(args, f"train_{k}") is None}
    trials = _ints(args.trials, "--trials") or [8]
    stage_epochs = _ints(args.stage_epochs, "--stage-epochs")
    n_trials: int | list[int] = trials[0] if len(trials) == 1 else trials
    dataset = args.train_dataset or "fashion-mnist"
    tune(
        space,
        fixed,
        search=args.search,
        n_trials=n_trials,
        stages=args.stages,
        top_k=args.top,
        grid_points=args.grid_points,
        stage_epochs=stage_epochs,
        n_jobs=args.jobs,
        out=args.out or f"runs/tune-{dataset}",
        random_state=args.search_seed,
    )
    return 0
