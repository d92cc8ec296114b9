"""The ``gradschool`` command: train a classifier, evaluate a run, classify an image.

    gradschool train                          LeNet-5 on Fashion-MNIST, then the test accuracy
    gradschool train --dataset spiral         a two-layer net on the spiral toy data
    gradschool train --resume runs/X          continue a stopped run exactly where it stopped
    gradschool evaluate runs/X                the saved model's test metrics again
    gradschool predict runs/X image.png       the top classes of an image, with probabilities
    gradschool tune --param lr=1e-4:1e-1      a hyperparameter search over train runs
    gradschool train --classes 0-4            only some classes of the dataset (relabelled 0..K-1)
    gradschool train --init-from runs/X --classes 5-9 --freeze backbone
                                              transfer learning: X's weights, a new head, and
                                              only the head trained
    gradschool train --snapshots 3            a snapshot ensemble: 3 cosine cycles, 3 snapshots
    gradschool evaluate runs/X runs/Y         an ensemble: the runs' probabilities averaged

A run folder holds ``config.json`` (every option, so the run can be rebuilt),
``checkpoint.safetensors`` (the last epoch: weights, optimiser, scheduler, random states),
``best.safetensors`` (the weights of the best validation epoch), ``log.csv`` and
``metrics.json`` (per-epoch metrics; ``test_accuracy`` and friends at the end) and
``curves.png`` (the training curves); with ``--snapshots M`` also ``snapshot-1.safetensors`` ...
``snapshot-M.safetensors``.

Transfer learning (CS231n L7/L9; ``gradschool.models.transfer``). ``--init-from DIR`` builds the
model of the run in DIR (``--model`` must name the same one, or be left out; ``--dataset``
defaults to DIR's), loads DIR's best weights and, when the label set differs from DIR's (another
dataset or other ``--classes``), gives the model a freshly initialised head of the new width.
``--freeze backbone`` then trains only the head (the optimiser gets only the trainable
parameters; batch-norm layers of the frozen backbone stay in eval mode); ``--freeze none``
(default) fine-tunes everything (use a smaller ``--lr``). The canonical experiment: pretrain on
Fashion-MNIST's classes 0-4 (T-shirt, trouser, pullover, dress, coat), then fine-tune only a new
head on classes 5-9 (sandal, shirt, sneaker, bag, ankle boot)::

    gradschool train --classes 0-4 --out runs/fm-0to4
    gradschool train --init-from runs/fm-0to4 --classes 5-9 --freeze backbone --out runs/fm-5to9

``config.json`` records ``class_subset``, ``init_from``, ``freeze`` and ``snapshots``, so
``--resume``, ``evaluate`` and ``predict`` rebuild the same model and label set.

Ensembles (CS231n L7 "model ensembles"; ``gradschool.train.ensemble``). ``gradschool evaluate``
with several run folders averages the members' softmax probabilities and prints each member's
test accuracy and the ensemble's; a run trained with ``--snapshots M`` counts as its M snapshots
(Huang et al. 2017) unless ``--best`` (each run's best weights); ``--no-ensemble`` evaluates
each run's best weights alone. The runs must share the dataset and label set.

Errors (missing data, a corrupted file, a checkpoint of another model, an unknown option)
print one message and exit with status 1, without a traceback (set ``GRADSCHOOL_DEBUG=1``
to see one).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from .runs import (
    DATASETS,
    OPTIMIZERS,
    ClassSubset,
    CLIError,
    build_model,
    build_optimizer,
    dataset_spec,
    default_lr,
    known_models,
    model_kwargs,
    parse_classes,
)

__all__ = ["main", "build_parser"]

RUN_FILES = (
    "config.json",
    "checkpoint.safetensors",
    "best.safetensors",
    "log.csv",
    "metrics.json",
    "curves.png",
)
SCHEDULERS = ("none", "cosine", "step", "plateau")
SNAPSHOT_SCHEDULE = "cyclic-cosine"  # config["scheduler"] of a --snapshots run
# options that --resume takes from config.json and cannot change
FIXED_ON_RESUME = (
    "model",
    "dataset",
    "batch_size",
    "lr",
    "optimizer",
    "weight_decay",
    "seed",
    "scheduler",
)


# ----------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradschool",
        description="Train, evaluate and use classifiers built with gradschool.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
    )
    sub = parser.add_subparsers(dest="command", metavar="{train,evaluate,predict,tune,lm,sample}")

    p = sub.add_parser("train", help="train a model (LeNet-5 on Fashion-MNIST by default)")
    p.add_argument(
        "--model", help="model name (default: lenet5 for image data, mlp for spiral/digits)"
    )
    p.add_argument("--dataset", choices=list(DATASETS), help="default: fashion-mnist")
    p.add_argument(
        "--epochs",
        type=int,
        help="total epochs (default depends on the dataset: 10 for fashion-mnist)",
    )
    p.add_argument("--batch-size", type=int, help="default 128 (64 for small datasets)")
    p.add_argument(
        "--lr",
        type=float,
        help="learning rate (default: the dataset's choice for the optimizer, e.g. 3e-3 for adam on fashion-mnist; else 1e-3 for adam, 0.05 for sgd ...)",
    )
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), help="default: adam")
    p.add_argument(
        "--weight-decay", type=float, help="L2 penalty / decoupled decay (the optimizer's default)"
    )
    p.add_argument(
        "--scheduler", choices=SCHEDULERS, help="learning-rate schedule (default: cosine)"
    )
    p.add_argument(
        "--patience", type=int, help="early stopping: epochs without a better val accuracy"
    )
    p.add_argument(
        "--seed", type=int, help="random seed: same seed, same run, bit for bit (default 0)"
    )
    p.add_argument("--out", help="run folder (default: runs/<model>-<dataset>)")
    p.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR")
    p.add_argument(
        "--classes",
        metavar="LIST",
        help="train on these classes only, relabelled 0..K-1 in this order: 0,1,2 or 5-9",
    )
    p.add_argument(
        "--init-from",
        metavar="DIR",
        help="transfer learning: start from the best weights of the run in DIR (a new head when "
        "the label set differs)",
    )
    p.add_argument(
        "--freeze",
        choices=("backbone", "none"),
        help="with --init-from: backbone trains only the head; none (default) fine-tunes all",
    )
    p.add_argument(
        "--snapshots",
        type=int,
        metavar="M",
        help="snapshot ensemble: M cosine cycles over the epochs, a snapshot at each cycle's end",
    )
    _data_options(p)
    p.add_argument("--device", default=None, help="cpu (default) or cuda")
    p.add_argument("--no-progress", action="store_true", help="no per-batch progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "evaluate",
        help="re-evaluate a run's saved model on the test set (several runs: their ensemble)",
    )
    p.add_argument(
        "run",
        metavar="DIR",
        nargs="+",
        help="run folders written by gradschool train; with several (or one with snapshots), "
        "the ensemble of their models, probabilities averaged",
    )
    p.add_argument(
        "--no-ensemble",
        action="store_true",
        help="evaluate each run's best weights on its own (no snapshots, no averaging)",
    )
    p.add_argument(
        "--best",
        action="store_true",
        help="ensemble members are the runs' best weights, not their snapshots",
    )
    _data_options(p)
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="classify an image file with a run's saved model")
    p.add_argument("run", metavar="DIR", help="a run folder written by gradschool train")
    p.add_argument("image", help="a PNG file (grey or colour, any size)")
    p.add_argument("--topk", type=int, default=5, help="how many classes to show (default 5)")
    p.add_argument(
        "--invert",
        choices=("auto", "yes", "no"),
        default="auto",
        help="invert the image (auto: when the model saw light objects on black and the image has a light border)",
    )
    p.set_defaults(func=cmd_predict)

    from ..tune import add_tune_parser  # gradschool tune: its options are train's, copied

    add_tune_parser(sub)
    from .lm import add_lm_parsers  # gradschool lm / sample: the character language model

    add_lm_parsers(sub)
    return parser


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", help="folder holding the dataset files (default: the usual places)"
    )
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")


# ----------------------------------------------------------------- entry point
def main(argv: list[str] | None = None) -> int:
    """Run the ``gradschool`` command with ``argv`` (default ``sys.argv[1:]``); returns the
    exit status (0 on success)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse's own errors and --help: keep its status, no traceback
        return e.code if isinstance(e.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        hint = ""
        if args.command in ("train", "lm"):
            run = getattr(args, "run_dir", None) or "<run folder>"
            hint = (
                f" The last finished epoch is saved; gradschool {args.command} --resume {run} "
                "continues from it."
            )
        print(f"\ninterrupted.{hint}", file=sys.stderr)
        return 130
    except Exception as e:
        if os.environ.get("GRADSCHOOL_DEBUG"):
            raise
        print(f"gradschool {args.command}: error: {_message(e)}", file=sys.stderr)
        return 1


def _message(e: Exception) -> str:
    from ..train import CheckpointError, TrainingDiverged

    text = str(e) or type(e).__name__
    if isinstance(
        e,
        CLIError
        | CheckpointError
        | TrainingDiverged
        | ValueError
        | FileNotFoundError
        | ImportError,
    ):
        return text
    if isinstance(e, OSError):
        return f"{text} ({type(e).__name__})"
    return (
        f"{type(e).__name__}: {text} (an unexpected error; GRADSCHOOL_DEBUG=1 shows the traceback)"
    )


# ----------------------------------------------------------------- shared steps
def _read_config(run: str | os.PathLike[str]) -> dict[str, Any]:
    from ..train.log import read_json

    path = Path(run) / "config.json"
    if not Path(run).is_dir():
        raise CLIError(
            f"{run} is not a folder; pass the run folder written by gradschool train (e.g. runs/lenet5-fashion-mnist)"
        )
    if not path.exists():
        raise CLIError(
            f"{run} is not a run folder: it has no config.json (gradschool train --out {run} makes one)"
        )
    config = read_json(path)
    if not isinstance(config, dict):
        raise CLIError(
            f"{path} holds a JSON {type(config).__name__}, not an object; it is corrupted"
        )
    for key in ("model", "dataset", "model_kwargs"):
        if key not in config:
            raise CLIError(f"{path} lacks the key {key!r}; the file is corrupted")
    return config


def _load_split(config: dict[str, Any], train: bool, data_dir: str | None, download: bool) -> Any:
    spec = dataset_spec(config["dataset"])
    transform = _transform(config)
    try:
        data = spec.load(data_dir, train, download, transform)
    except FileNotFoundError as e:
        raise CLIError(
            f"{e}\n(with the gradschool command: --data-dir DIR, or --download)"
        ) from None
    except ValueError as e:
        raise CLIError(f"the {config['dataset']} data is corrupted: {e}") from None
    subset = config.get("class_subset")
    return ClassSubset(data, list(subset)) if subset else data


def _transform(config: dict[str, Any]) -> Any:
    if config.get("kind") != "image":
        return None
    from ..data.transforms import Compose, Normalize, ToTensor

    return Compose([ToTensor(), Normalize(config["mean"], config["std"])])


def _loader(dataset: Any, batch_size: int, shuffle: bool = False, generator: Any = None) -> Any:
    from ..data.dataloader import DataLoader

    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


def _model_for(config: dict[str, Any], device: str | None = None) -> Any:
    model = build_model(config["model"], dict(config["model_kwargs"]))
    device = device or config.get("device") or "cpu"
    return model.to(device) if device != "cpu" else model


def _weights_file(run: Path) -> Path:
    for name in ("best.safetensors", "checkpoint.safetensors"):
        if (run / name).exists():
            return run / name
    raise CLIError(
        f"{run} holds no saved model (no best.safetensors or checkpoint.safetensors); train it first"
    )


def _scheduler(name: str, optimizer: Any, epochs: int, steps_per_cycle: int = 0) -> Any:
    from ..optim import lr_scheduler as ls

    if name == SNAPSHOT_SCHEDULE:
        from ..train.ensemble import snapshot_scheduler

        return snapshot_scheduler(optimizer, steps_per_cycle)
    if name == "cosine":
        return ls.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "step":
        return ls.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "plateau":
        return ls.ReduceLROnPlateau(optimizer, mode="max", factor=0.1, patience=2)
    return None


def _print_metrics(prefix: str, metrics: dict[str, Any]) -> None:
    parts = [f"{prefix} accuracy {metrics['accuracy']:.4f}"] if "accuracy" in metrics else [prefix]
    if "top5_accuracy" in metrics:
        parts.append(f"top-5 {metrics['top5_accuracy']:.4f}")
    parts.append(f"loss {metrics['loss']:.4f}")
    print(", ".join(parts) + f" ({metrics['n']:,} examples)")


# ----------------------------------------------------------------- train
def _label_set(config: dict[str, Any]) -> str:
    subset = config.get("class_subset")
    return config["dataset"] + (f" classes {','.join(map(str, subset))}" if subset else "")


def _source_config(init_from: str) -> dict[str, Any]:
    """The config of the run ``--init-from`` names, with clear errors when it is not one."""
    try:
        source = _read_config(init_from)
        _weights_file(Path(init_from))
    except CLIError as e:
        raise CLIError(f"--init-from {init_from}: {e}") from None
    return source


def _new_config(args: argparse.Namespace) -> dict[str, Any]:
    source = _source_config(args.init_from) if args.init_from else None
    if args.freeze == "backbone" and source is None:
        raise CLIError(
            "--freeze needs --init-from DIR: it freezes the backbone of a pretrained model"
        )
    dataset = args.dataset or (source["dataset"] if source else "fashion-mnist")
    spec = dataset_spec(dataset)
    if source is not None and args.model is not None and args.model != source["model"]:
        raise CLIError(
            f"--init-from {args.init_from} holds a {source['model']}, but --model {args.model} "
            f"was given; drop --model (the model is the source run's)"
        )
    model = args.model or (source["model"] if source else spec.default_model)
    if model not in known_models():
        raise CLIError(f"unknown model {model!r}; known models: {', '.join(known_models())}")
    optimizer = args.optimizer or "adam"
    epochs = args.epochs or spec.default_epochs
    scheduler = args.scheduler or "cosine"
    if args.snapshots is not None:
        if args.scheduler is not None:
            raise CLIError(
                f"--snapshots {args.snapshots} brings its own schedule (cosine annealing "
                f"restarted {args.snapshots} times); drop --scheduler {args.scheduler}"
            )
        if epochs % args.snapshots:
            raise CLIError(
                f"--epochs {epochs} is not divisible by --snapshots {args.snapshots}: every "
                f"cosine cycle needs the same whole number of epochs (try --epochs "
                f"{max(epochs // args.snapshots, 1) * args.snapshots})"
            )
        scheduler = SNAPSHOT_SCHEDULE
    subset = parse_classes(args.classes, spec.num_classes, dataset) if args.classes else None
    num_classes = len(subset) if subset else spec.num_classes
    kwargs = model_kwargs(model, spec)
    if "num_classes" in kwargs:
        kwargs["num_classes"] = num_classes
    transfer: dict[str, Any] = {"init_from": None, "freeze": "none"}
    if source is not None:
        src_kwargs = dict(source["model_kwargs"])
        differ = [
            f"{k} {src_kwargs[k]} there, {v} here"
            for k, v in kwargs.items()
            if k != "num_classes" and k in src_kwargs and src_kwargs[k] != v
        ]
        if differ:
            raise CLIError(
                f"--init-from {args.init_from}: its {source['model']} was built for "
                f"{source['dataset']}'s inputs, which {dataset}'s do not fit ({'; '.join(differ)})"
            )
        kwargs = {**src_kwargs, **kwargs}
        same_labels = source["dataset"] == dataset and source.get("class_subset") == subset
        transfer = {
            "init_from": str(args.init_from),
            "init_from_weights": _weights_file(Path(args.init_from)).name,
            "init_from_label_set": _label_set(source),
            # the old head's outputs mean the old classes: keep it only for the same label set
            "head": "pretrained" if same_labels else "new",
            "freeze": args.freeze or "none",
        }
    import gradschool

    return {
        "gradschool_version": gradschool.__version__,
        "model": model,
        "model_kwargs": kwargs,
        "dataset": dataset,
        "class_subset": subset,
        "kind": spec.kind,
        "num_classes": num_classes,
        "in_channels": spec.in_channels,
        "input_size": spec.input_size,
        "mean": list(spec.mean),
        "std": list(spec.std),
        "dark_background": spec.dark_background,
        "epochs": epochs,
        "batch_size": args.batch_size or spec.default_batch_size,
        "optimizer": optimizer,
        "lr": args.lr if args.lr is not None else default_lr(optimizer, spec),
        "weight_decay": args.weight_decay,
        "scheduler": scheduler,
        "snapshots": args.snapshots,
        "patience": args.patience,
        "seed": 0 if args.seed is None else args.seed,
        "device": args.device or "cpu",
        **transfer,
    }


def _load_pretrained(model: Any, config: dict[str, Any]) -> list[str]:
    """Load the backbone (and the head, for the same label set) of the ``init_from`` run into
    ``model``; returns the keys left freshly initialised."""
    from ..models.transfer import load_backbone
    from ..train import load_model_weights

    source_dir = Path(config["init_from"])
    source = _source_config(str(source_dir))
    pretrained = build_model(source["model"], dict(source["model_kwargs"]))
    load_model_weights(_weights_file(source_dir), pretrained)
    try:
        return load_backbone(
            model, pretrained.state_dict(), include_head=config.get("head") == "pretrained"
        )
    except ValueError as e:
        raise CLIError(f"--init-from {source_dir}: {e}") from None


def _resume_conflicts(args: argparse.Namespace, config: dict[str, Any]) -> list[str]:
    changed = [
        f"--{k.replace('_', '-')}"
        for k in FIXED_ON_RESUME
        if getattr(args, k) is not None and getattr(args, k) != config.get(k)
    ]
    if args.init_from is not None:
        changed.append("--init-from")
    if args.freeze is not None and args.freeze != config.get("freeze", "none"):
        changed.append("--freeze")
    if args.snapshots is not None and args.snapshots != config.get("snapshots"):
        changed.append("--snapshots")
    if args.classes is not None:
        spec = dataset_spec(config["dataset"])
        if parse_classes(args.classes, spec.num_classes) != config.get("class_subset"):
            changed.append("--classes")
    return changed


def _check_train_args(args: argparse.Namespace) -> None:
    """Refuse bad numbers and devices before anything is read or written, for new and resumed
    runs alike (a bad --patience would otherwise stop the run after its first epoch)."""
    from ..backend.device import cuda_is_available, device

    for name, value, least in (
        ("--epochs", args.epochs, 1),
        ("--batch-size", args.batch_size, 1),
        ("--snapshots", args.snapshots, 1),
        ("--patience", args.patience, 1),
        ("--seed", args.seed, 0),
    ):
        if value is not None and value < least:
            kind = "positive" if least else "non-negative"
            raise CLIError(f"{name} must be a {kind} integer, got {value}")
    if args.device is not None:
        try:
            wanted = device(args.device)
        except (TypeError, ValueError) as e:
            raise CLIError(f"--device {args.device}: {e}") from None
        if wanted.type == "cuda" and not cuda_is_available():
            raise CLIError(
                f"--device {args.device}: no usable GPU here (it needs an NVIDIA GPU and CuPy: "
                "pip install gradschool[cuda]); train with --device cpu"
            )


def cmd_train(args: argparse.Namespace) -> int:
    import gradschool as gs

    from ..backend.random import Generator
    from ..data.dataset import random_split
    from ..models.transfer import freeze_backbone, head_name, trainable_parameters
    from ..train import evaluate, fit, save_checkpoint
    from ..train.ensemble import snapshot_files, snapshot_name
    from ..train.log import read_json, write_json

    _check_train_args(args)
    if args.resume:
        run = Path(args.resume)
        config = _read_config(run)
        changed = _resume_conflicts(args, config)
        if changed:
            raise CLIError(
                f"--resume continues the run as configured in {run / 'config.json'}; "
                f"{', '.join(changed)} cannot change (only --epochs, --patience, --data-dir, "
                "--device and --no-progress can)"
            )
        if not (run / "checkpoint.safetensors").exists():
            raise CLIError(
                f"cannot resume {run}: it has no checkpoint.safetensors (did its first epoch finish?)"
            )
        if args.out is not None and Path(args.out).resolve() != run.resolve():
            raise CLIError(f"--resume {run} writes into {run}; drop --out {args.out}")
        if (
            args.epochs is not None
            and args.epochs != config["epochs"]
            and config.get("scheduler") in ("cosine", "step", SNAPSHOT_SCHEDULE)
        ):
            raise CLIError(
                f"--epochs cannot change on --resume with the {config['scheduler']} schedule: it "
                f"was planned for {config['epochs']} epochs (start a new run with --epochs "
                f"{args.epochs}, or train with --scheduler none or plateau to extend runs later)"
            )
        for key in ("epochs", "patience", "device"):
            if getattr(args, key) is not None:
                config[key] = getattr(args, key)
    else:
        config = _new_config(args)
        run = Path(args.out or f"runs/{config['model']}-{config['dataset']}")
        if run.exists() and not run.is_dir():
            raise CLIError(f"--out {run} is a file, not a folder")
        if (run / "checkpoint.safetensors").exists():
            print(
                f"note: starting afresh in {run}, replacing the run there (--resume {run} would continue it)"
            )
        for name in RUN_FILES:
            (run / name).unlink(missing_ok=True)
        for path in snapshot_files(run):
            path.unlink()

    args.run_dir = run  # for the message on Ctrl-C
    # data first: a missing dataset should fail before anything is written
    train_full = _load_split(config, True, args.data_dir, args.download)
    test_set = _load_split(config, False, args.data_dir, args.download)
    n = len(train_full)
    n_val = config.setdefault("val_size", min(5000, n // 10))
    if not 0 < n_val < n:
        raise CLIError(
            f"the {config['dataset']} training set has only {n} examples: too few to hold out a validation set"
        )
    config["classes"] = [
        str(c) for c in getattr(train_full, "classes", range(config["num_classes"]))
    ]
    seed = int(config["seed"])
    # separate generators: the split is fixed by the seed, the shuffling continues on resume
    train_set, val_set = random_split(
        train_full, [n - n_val, n_val], generator=Generator().manual_seed(seed)
    )
    shuffle_gen = Generator().manual_seed(seed + 1)
    bs = int(config["batch_size"])
    train_loader = _loader(train_set, bs, shuffle=True, generator=shuffle_gen)
    val_loader = _loader(val_set, max(bs, 500))
    test_loader = _loader(test_set, max(bs, 500))

    gs.manual_seed(seed)  # the model's initial weights
    model = _model_for(config, args.device)
    epochs = int(config["epochs"])
    transfer_note = ""
    if config.get("init_from"):
        head = head_name(model)
        if not args.resume:  # a resumed run takes every weight from its checkpoint
            _load_pretrained(model, config)
        transfer_note = (
            f"weights from {config['init_from']}/{config['init_from_weights']} (trained on "
            f"{config['init_from_label_set']}), "
            + (
                f"head {head} pretrained"
                if config.get("head") == "pretrained"
                else f"head {head} new ({config['num_classes']} classes)"
            )
            + (", backbone frozen" if config.get("freeze") == "backbone" else ", all fine-tuned")
        )
    if config.get("freeze") == "backbone":
        freeze_backbone(model)
    params = trainable_parameters(model)
    optimizer = build_optimizer(config["optimizer"], params, config["lr"], config["weight_decay"])
    snapshots = config.get("snapshots")
    cycle = epochs // snapshots if snapshots else epochs
    scheduler = _scheduler(config["scheduler"], optimizer, epochs, cycle * len(train_loader))
    n_params = sum(p.numel() for p in model.parameters())
    n_trainable = sum(p.numel() for p in params)
    config["num_parameters"] = n_params
    config["trainable_parameters"] = n_trainable
    write_json(run / "config.json", config)

    if snapshots:
        schedule = f"cosine restarted every {cycle} epochs, {snapshots} snapshots"
    elif config["scheduler"] == "none":
        schedule = "constant"
    else:
        schedule = f"{config['scheduler']} schedule"
    trainable = f", {n_trainable:,} trainable" if n_trainable != n_params else ""
    print(
        f"gradschool train: {config['model']} ({n_params:,} parameters{trainable}) on "
        f"{_label_set(config)} ({n - n_val:,} train / {n_val:,} val / {len(test_set):,} test), "
        f"{config['optimizer']} lr {config['lr']:g} ({schedule}), batch {bs}, {epochs} "
        f"epochs, seed {seed} -> {run}"
    )
    if transfer_note:
        print(f"transfer learning: {transfer_note}")

    def save_snapshot(epoch: int, record: dict[str, Any]) -> None:
        if snapshots and epoch % cycle == 0:
            save_checkpoint(
                run / snapshot_name(epoch // cycle),
                model,
                epoch=epoch,
                trainer_state={"snapshot": epoch // cycle, "record": record},
            )

    started = time.perf_counter()
    history = fit(
        model,
        train_loader,
        optimizer,
        epochs=epochs,
        val_loader=val_loader,
        scheduler=scheduler,
        scheduler_interval="step" if snapshots else None,
        out_dir=run,
        resume=bool(args.resume),
        early_stopping_patience=config.get("patience"),
        monitor="val_accuracy",
        restore_best=True,
        progress=not args.no_progress,
        # ln(C) is what a random network starts at; a pretrained backbone's features are larger
        check_initial=not config.get("init_from"),
        on_epoch_end=save_snapshot,
    )
    train_seconds = time.perf_counter() - started
    test = evaluate(model, test_loader, confusion=True)
    metrics = read_json(run / "metrics.json")
    metrics.update({f"test_{k}": v for k, v in test.items() if k != "n"})
    metrics.update(
        test_examples=test["n"],
        train_seconds=round(train_seconds, 1),
        model=config["model"],
        dataset=config["dataset"],
        best_epoch=history.best_epoch,
    )
    _print_metrics(f"test (best epoch {history.best_epoch}):", test)
    members = snapshot_files(run) if snapshots else []
    if members:
        ens = _ensemble([(run, config, path) for path in members], test_loader)
        metrics.update(
            test_snapshot_accuracies=[m.get("accuracy") for m in ens["members"]],
            test_ensemble_accuracy=ens["ensemble"].get("accuracy"),
            test_ensemble_loss=ens["ensemble"]["loss"],
        )
        _print_metrics(f"test, ensemble of {len(members)} snapshots:", ens["ensemble"])
    write_json(run / "metrics.json", metrics)
    print(f"{train_seconds:.0f}s of training; the run is in {run}/ (gradschool evaluate {run})")
    return 0


# ----------------------------------------------------------------- evaluate
def evaluate_run(
    run: str | os.PathLike[str], data_dir: str | None = None, download: bool = False
) -> dict[str, Any]:
    """The test metrics of the model saved in the run folder ``run`` (a dict with ``loss``,
    ``accuracy``, ``top5_accuracy``, ``confusion_matrix``, ``n``)."""
    from ..train import evaluate, load_model_weights

    run = Path(run)
    config = _read_config(run)
    model = _model_for(config)
    load_model_weights(_weights_file(run), model)
    test_set = _load_split(config, False, data_dir, download)
    return evaluate(
        model, _loader(test_set, max(int(config.get("batch_size", 128)), 500)), confusion=True
    )


def _print_per_class(matrix: list[list[int]], classes: list[str], what: str = "") -> None:
    width = max(len(c) for c in classes)
    print(f"per-class accuracy{what} (row of the confusion matrix; most confused with):")
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        others = [(v, j) for j, v in enumerate(row) if j != i]
        worst_count, worst = max(others) if others else (0, i)
        mixed = f"  {classes[worst]} ({worst_count})" if worst_count else ""
        print(f"  {classes[i]:<{width}}  {row[i] / total:6.1%}{mixed}")


def _ensemble(members: list[tuple[Path, dict[str, Any], Path]], loader: Any) -> dict[str, Any]:
    """Average the softmax probabilities of ``members`` (run folder, its config, a weights file)
    over ``loader``; ``{"members": [metrics ...], "ensemble": metrics}``, one model in memory at
    a time."""
    from ..train import load_model_weights
    from ..train.ensemble import average_predictions

    def models() -> Any:
        for _, config, path in members:
            model = _model_for(config)
            load_model_weights(path, model)
            yield model

    preds = average_predictions(models(), loader)
    return {"members": preds.member_metrics(), "ensemble": preds.metrics(confusion=True)}


def _members(
    runs: list[Path], configs: list[dict[str, Any]], snapshots: bool = True
) -> list[tuple[Path, dict, Path]]:
    from ..train.ensemble import snapshot_files

    out = []
    for run, config in zip(runs, configs, strict=True):
        snaps = snapshot_files(run) if snapshots else []
        out += [(run, config, s) for s in snaps] or [(run, config, _weights_file(run))]
    return out


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    runs = [Path(r) for r in args.run]
    configs = [_read_config(r) for r in runs]
    members = [] if args.no_ensemble else _members(runs, configs, snapshots=not args.best)
    if len(members) <= 1:
        results = []
        for run, config in zip(runs, configs, strict=True):
            metrics = evaluate_run(run, args.data_dir, args.download)
            results.append(metrics)
            if not args.json:
                print(
                    f"{config['model']} on the {_label_set(config)} test set, weights from "
                    f"{run}/{_weights_file(run).name}:"
                )
                _print_metrics("test", metrics)
                matrix = metrics.get("confusion_matrix")
                if matrix:
                    classes = config.get("classes") or [str(i) for i in range(len(matrix))]
                    _print_per_class(matrix, classes)
        if args.json:
            if len(runs) == 1:
                print(json.dumps(results[0]))
            else:
                print(
                    json.dumps([{"run": str(r), **m} for r, m in zip(runs, results, strict=True)])
                )
        return 0

    label_sets = {(c["dataset"], tuple(c.get("class_subset") or ())) for c in configs}
    if len(label_sets) > 1:
        which = "; ".join(f"{r}: {_label_set(c)}" for r, c in zip(runs, configs, strict=True))
        raise CLIError(
            "an ensemble averages probabilities over the same classes, so its runs must share "
            f"the dataset and label set; these differ ({which})"
        )
    config = configs[0]
    test_set = _load_split(config, False, args.data_dir, args.download)
    result = _ensemble(members, _loader(test_set, max(int(config.get("batch_size", 128)), 500)))
    names = [f"{run}/{path.name}" for run, _, path in members]
    if args.json:
        rows = [
            {"run": str(run), "weights": path.name, "model": c["model"], **m}
            for (run, c, path), m in zip(members, result["members"], strict=True)
        ]
        print(json.dumps({"members": rows, "ensemble": result["ensemble"]}))
        return 0
    ens = result["ensemble"]
    print(
        f"an ensemble of {len(members)} models on the {_label_set(config)} test set "
        f"({ens['n']:,} examples), their softmax probabilities averaged:"
    )
    width = max(len(n) + len(c["model"]) + 3 for n, (_, c, _) in zip(names, members, strict=True))
    for name, (_, c, _), m in zip(names, members, result["members"], strict=True):
        label = f"{name} ({c['model']})"
        print(f"  {label:<{width}}  accuracy {m['accuracy']:.4f}, loss {m['loss']:.4f}")
    mean_acc = sum(m["accuracy"] for m in result["members"]) / len(members)
    print(f"  {'members, mean':<{width}}  accuracy {mean_acc:.4f}")
    _print_metrics(f"  {'ensemble':<{width}} ", ens)
    classes = config.get("classes") or [str(i) for i in range(len(ens["confusion_matrix"]))]
    _print_per_class(ens["confusion_matrix"], classes, " of the ensemble")
    return 0


# ----------------------------------------------------------------- predict
def predict_image(
    run: str | os.PathLike[str], image: str | os.PathLike[str], invert: str = "auto"
) -> tuple[list[tuple[str, float]], str]:
    """Class probabilities of the image file ``image`` under the model saved in ``run``,
    most likely first, and a description of how the image was prepared."""
    import numpy as np

    from ..autograd.grad_mode import no_grad
    from ..tensor import Tensor
    from ..train import load_model_weights
    from .image import prepare_image

    run = Path(run)
    config = _read_config(run)
    if config.get("kind") != "image":
        raise CLIError(
            f"{run} was trained on {config['dataset']}, whose inputs are not images; predict "
            "classifies image files with a model trained on an image dataset"
        )
    if Path(image).is_dir():
        raise CLIError(f"{image} is a folder; predict classifies one PNG file at a time")
    if not Path(image).is_file():
        raise CLIError(f"no image file at {image}")
    model = _model_for(config, "cpu")
    load_model_weights(_weights_file(run), model)
    try:
        array, how = prepare_image(
            image,
            int(config["in_channels"]),
            int(config["input_size"]),
            invert=invert,
            dark_background=bool(config.get("dark_background")),
        )
    except ValueError as e:
        raise CLIError(f"cannot read {image} as a PNG image: {e}") from None
    x = _transform(config)(array)
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    model.eval()
    with no_grad():
        scores = model(Tensor._make(x[None])).data[0].astype(np.float64)
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    classes = config.get("classes") or [str(i) for i in range(len(probs))]
    order = np.argsort(-probs)
    return [(classes[i], float(probs[i])) for i in order], how


def cmd_predict(args: argparse.Namespace) -> int:
    if args.topk < 1:
        raise CLIError(f"--topk must be a positive integer, got {args.topk}")
    ranked, how = predict_image(args.run, args.image, args.invert)
    print(f"{args.image} ({how}):")
    for name, p in ranked[: args.topk]:
        print(f"  {p:7.2%}  {name}")
    return 0
