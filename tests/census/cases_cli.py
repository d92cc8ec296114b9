"""Census rows for the ``gradschool`` command: bad options, runs that are not there, files
that are not images. Each row runs ``gradschool.cli.main.main`` in-process, in an empty
folder, with no dataset to be found. The command behaves when it exits non-zero with a short
message on stderr and no traceback; the row's call then raises ``CliRefused`` carrying that
message, which the census checks like any other error. A command that succeeds returns
normally (no error: the row fails); one that lets an exception escape, or prints a
traceback, raises ``CliMisbehaved`` (not an error kind any row accepts)."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np

from gradschool.cli.main import main

from .rows import needs_gpu_free, no_data_anywhere, skip_if, table


class CliRefused(ValueError):
    """The command exited non-zero with a message and no traceback; the message is stderr."""


class CliMisbehaved(Exception):  # noqa: N818 - not an error kind a row may accept
    """The command let an exception escape or printed a traceback."""


def make_folders(root: Path) -> None:
    """What the rows point at: a folder that is no run, a run with a corrupt config, a
    finished-looking run without a checkpoint, and files that are not PNG images."""
    (root / "notarun").mkdir()
    (root / "notarun" / "notes.txt").write_text("not a run")
    (root / "badcfg").mkdir()
    (root / "badcfg" / "config.json").write_text("{not json")
    (root / "listcfg").mkdir()
    (root / "listcfg" / "config.json").write_text("[1, 2]")
    (root / "text.png").write_text("this is not a PNG")
    (root / "empty.png").write_bytes(b"")
    np.save(root / "array.npy", np.zeros(3))


def no_sklearn() -> bool:
    return importlib.util.find_spec("sklearn") is None


@cache
def digits_run() -> str:
    """A real run folder, trained once per session for one epoch on scikit-learn's digits
    (about two seconds), for the rows that need a run to exist."""
    folder = tempfile.mkdtemp(prefix="gs-census-run-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    run = str(Path(folder) / "digits")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            ["train", "--dataset", "digits", "--epochs", "2", "--out", run, "--no-progress"]
        )
    assert code == 0, "the census could not train its digits run"
    return run


def cli(*argv: str) -> Callable[[], int]:
    """A row's call: ``gradschool *argv`` in a fresh folder (paths relative to it); ``{run}``
    in an argument stands for the path of ``digits_run()``."""

    def call() -> int:
        args = [a.replace("{run}", digits_run()) if "{run}" in a else a for a in argv]
        err, out = io.StringIO(), io.StringIO()
        debug = os.environ.pop("GRADSCHOOL_DEBUG", None)  # it would re-raise, by design
        try:
            with (
                no_data_anywhere(),
                tempfile.TemporaryDirectory(prefix="gs-census-cli-") as folder,
                contextlib.chdir(folder),
                contextlib.redirect_stderr(err),
                contextlib.redirect_stdout(out),
            ):
                make_folders(Path(folder))
                try:
                    code = main(args)
                except SystemExit as e:  # argparse's exit, should main let one through
                    code = e.code
                except Exception as e:  # noqa: BLE001 - any escape is the row's failure
                    raise CliMisbehaved(f"gradschool {' '.join(argv)} raised {e!r}") from e
        finally:
            if debug is not None:
                os.environ["GRADSCHOOL_DEBUG"] = debug
        text = err.getvalue()
        if "Traceback" in text + out.getvalue():
            raise CliMisbehaved(f"gradschool {' '.join(argv)} printed a traceback:\n{text}")
        if code in (0, None):
            return 0  # it accepted the bad input: no error, and the row fails
        if not text.strip():
            raise CliMisbehaved(f"gradschool {' '.join(argv)} exited {code} without a message")
        raise CliRefused(f"exit {code}: {text.strip()}")

    return call


def train(*argv: str) -> Callable[[], int]:
    return cli("train", "--dataset", "spiral", "--no-progress", *argv)


CASES = table(
    "CLI",
    ("unknown command", cli("frobnicate"), ("invalid choice", "'frobnicate'")),
    ("unknown model", train("--model", "resnet9000"), ("unknown model", "'resnet9000'")),
    ("model for another kind of data", train("--model", "resnet20"), ("resnet20", "3 input")),
    ("unknown dataset", cli("train", "--dataset", "imagenet"), ("--dataset", "'imagenet'")),
    ("unknown optimizer", train("--optimizer", "adamax"), ("--optimizer", "'adamax'")),
    ("unknown scheduler", train("--scheduler", "linear"), ("--scheduler", "'linear'")),
    ("unknown option", train("--workers", "2"), ("unrecognized arguments", "--workers")),
    ("negative epochs", train("--epochs", "-1"), ("--epochs", "positive", "-1")),
    ("zero epochs", train("--epochs", "0"), ("--epochs", "got 0")),
    ("epochs not a number", train("--epochs", "two"), ("--epochs", "invalid int", "'two'")),
    ("zero batch size", train("--batch-size", "0"), ("--batch-size", "got 0")),
    ("negative learning rate", train("--lr", "-0.1"), ("--lr", "positive", "-0.1")),
    ("NaN learning rate", train("--lr", "nan"), ("--lr", "nan")),
    ("lr not a number", train("--lr", "fast"), ("--lr", "invalid float", "'fast'")),
    ("negative weight decay", train("--weight-decay", "-1"), ("weight_decay", "-1")),
    ("negative patience", train("--patience", "-1"), ("--patience", "positive", "-1")),
    ("negative seed", train("--seed", "-1"), ("--seed", "non-negative", "-1")),
    ("zero snapshots", train("--snapshots", "0"), ("--snapshots", "got 0")),
    ("snapshots not dividing", train("--snapshots", "3", "--epochs", "4"), ("--epochs 4", "3")),
    ("snapshots with scheduler", train("--snapshots", "2", "--scheduler", "step"), "--scheduler"),
    ("freeze without init-from", train("--freeze", "backbone"), ("--freeze", "--init-from")),
    ("init-from missing run", train("--init-from", "nowhere"), ("nowhere", "not a folder")),
    ("init-from non-run folder", train("--init-from", "notarun"), ("notarun", "config.json")),
    ("classes out of range", cli("train", "--classes", "0-20"), ("--classes", "0-9")),
    ("a single class", cli("train", "--classes", "3"), ("--classes 3", "two classes")),
    ("classes not numbers", cli("train", "--classes", "a,b"), ("--classes", "'a,b'")),
    ("a class twice", cli("train", "--classes", "1,1"), ("--classes 1,1", "twice")),
    ("resume a non-run folder", cli("train", "--resume", "notarun"), ("notarun", "config.json")),
    ("resume a missing folder", cli("train", "--resume", "nowhere"), ("nowhere", "not a folder")),
    (
        "resume corrupt config",
        cli("train", "--resume", "badcfg"),
        ("config.json", "not valid JSON"),
    ),
    ("resume a list config", cli("train", "--resume", "listcfg"), ("config.json",)),
    ("device tpu", train("--device", "tpu"), ("--device", "'tpu'")),
    ("missing dataset files", cli("train", "--dataset", "mnist"), ("MNIST", "--download")),
    ("out is a file", train("--out", "text.png"), ("--out", "text.png", "file")),
    ("evaluate nothing", cli("evaluate"), ("required", "DIR")),
    ("evaluate a missing run", cli("evaluate", "nowhere"), ("nowhere", "not a folder")),
    ("evaluate a non-run", cli("evaluate", "notarun"), ("notarun", "config.json")),
    ("evaluate corrupt config", cli("evaluate", "badcfg"), ("badcfg", "not valid JSON")),
    ("predict a missing run", cli("predict", "nowhere", "text.png"), ("nowhere", "not a folder")),
    ("predict a non-run", cli("predict", "notarun", "text.png"), ("notarun", "config.json")),
    ("predict without image", cli("predict", "notarun"), ("required", "image")),
    ("predict topk zero", cli("predict", "nowhere", "x.png", "--topk", "0"), ("--topk", "got 0")),
    ("predict bad invert", cli("predict", "n", "x.png", "--invert", "maybe"), ("--invert",)),
    ("tune bad value", cli("tune", "--param", "lr=abc"), ("tune", "'abc'", "--lr")),
    ("tune reversed range", cli("tune", "--param", "lr=1e-1:1e-4"), ("tune", "LOW < HIGH")),
    ("tune unknown option", cli("tune", "--param", "foo=1:2"), ("tune", "'foo'")),
    ("tune zero trials", cli("tune", "--param", "lr=1e-4:1e-1", "--trials", "0"), "n_trials"),
    ("tune param without spec", cli("tune", "--param", "lr"), ("tune", "NAME=SPEC", "'lr'")),
)
CASES += [  # the digits run needs scikit-learn: without it these rows are skipped
    replace(row, call=skip_if(no_sklearn, "the digits run needs scikit-learn", row.call))
    for row in table(
        "CLI",
        ("predict a missing image", cli("predict", "{run}", "missing.png"), "missing.png"),
        ("predict a text file", cli("predict", "{run}", "text.png"), ("text.png", "PNG")),
        ("predict an empty file", cli("predict", "{run}", "empty.png"), ("empty.png",)),
        ("predict a folder", cli("predict", "{run}", "notarun"), ("notarun", "is a folder")),
        ("resume with another lr", cli("train", "--resume", "{run}", "--lr", "0.5"), "--lr"),
        ("resume longer on cosine", cli("train", "--resume", "{run}", "--epochs", "9"), "cosine"),
        ("resume into another out", cli("train", "--resume", "{run}", "--out", "x"), "--out x"),
        (
            "init-from with another model",
            cli("train", "--init-from", "{run}", "--model", "lenet5"),
            ("--init-from", "--model lenet5"),
        ),
        ("evaluate a run with a non-run", cli("evaluate", "{run}", "notarun"), "notarun"),
    )
]
CASES += table(
    "CLI",
    (
        "device cuda without a GPU",
        needs_gpu_free(train("--device", "cuda")),
        ("--device cuda", "GPU"),
    ),
)
