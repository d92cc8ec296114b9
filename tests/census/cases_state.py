"""Census rows for state and training: ``load_state_dict`` with missing, unexpected or
wrong-shaped keys, optimizer and scheduler state_dicts that do not fit, optimizer and
scheduler hyperparameters out of range, and ``gradschool.train``'s loop and metrics."""

from __future__ import annotations

import gradschool as gs
import gradschool.nn as nn
import gradschool.optim as optim
from gradschool import data as D
from gradschool import train
from gradschool.optim import lr_scheduler as S
from gradschool.optim import swa_utils

from .rows import RUNTIME, table

t = gs.tensor


def lin() -> nn.Linear:
    return nn.Linear(3, 2)


def weights(**changes: object) -> dict[str, object]:
    """A Linear(3, 2)'s state_dict with some entries replaced or added."""
    state = dict(lin().state_dict())
    state.update(changes)
    return state


def params() -> list[nn.Parameter]:
    return list(lin().parameters())


def sgd() -> optim.SGD:
    return optim.SGD(params(), lr=0.1)


def adam_state(in_features: int) -> dict[str, object]:
    """The state_dict of an Adam that took one step on a Linear(in_features, 2)."""
    model = nn.Linear(in_features, 2)
    opt = optim.Adam(model.parameters())
    model(gs.randn(1, in_features)).sum().backward()
    opt.step()
    return opt.state_dict()


def two_groups() -> optim.SGD:
    p = nn.Parameter(gs.ones(2))
    return optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def fit(model: object = None, loader: object = None, opt: object = None, **kw: object) -> object:
    """``train.fit`` quietly, on a tiny default problem, with ``kw`` overriding."""
    model = model or lin()
    loader = loader if loader is not None else [(gs.randn(4, 3), t([0, 1, 0, 1]))]
    opt = opt if opt is not None else optim.SGD(model.parameters(), lr=0.1)
    kw = {"epochs": 1, "progress": False, "verbose": False, "plot": False, **kw}
    return train.fit(model, loader, opt, **kw)


STATE_DICTS = table(
    "state_dict",
    ("missing key", lambda: lin().load_state_dict({"weight": gs.randn(2, 3)}), '"bias"', RUNTIME),
    ("unexpected key", lambda: lin().load_state_dict(weights(extra=gs.ones(1))), "extra", RUNTIME),
    (
        "wrong shape",
        lambda: lin().load_state_dict(weights(weight=gs.randn(3, 3))),
        ("size mismatch for weight", "(3, 3)", "(2, 3)"),
        RUNTIME,
    ),
    (
        "wrong shape, strict=False",
        lambda: lin().load_state_dict(weights(weight=gs.randn(3, 3)), strict=False),
        ("size mismatch", "(3, 3)"),
        RUNTIME,
    ),
    (
        "a list as a value",
        lambda: lin().load_state_dict(weights(weight=[1, 2])),
        ("size mismatch for weight", "(2,)"),
        RUNTIME,
    ),
    ("a list for the dict", lambda: lin().load_state_dict([1, 2]), ("dict-like", "list")),
    (
        "batch-norm running stats",
        lambda: nn.BatchNorm2d(3).load_state_dict(
            {**nn.BatchNorm2d(3).state_dict(), "running_mean": gs.ones(4)}
        ),
        ("running_mean", "(4,)", "(3,)"),
        RUNTIME,
    ),
    (
        "a layer's keys for a Sequential",
        lambda: nn.Sequential(lin(), nn.ReLU(), lin()).load_state_dict(lin().state_dict()),
        ("Sequential", '"0.weight"', '"weight"'),
        RUNTIME,
    ),
    (
        "optimizer state of another model",
        lambda: optim.Adam(nn.Linear(4, 2).parameters()).load_state_dict(adam_state(3)),
        ("load_state_dict", "exp_avg", "(2, 3)", "(2, 4)"),
    ),
    (
        "optimizer groups count",
        lambda: sgd().load_state_dict({"state": {}, "param_groups": []}),
        "number of parameter groups",
    ),
    (
        "optimizer group size",
        lambda: sgd().load_state_dict({"state": {}, "param_groups": [{"params": [0], "lr": 0.1}]}),
        "doesn't match the size",
    ),
    ("optimizer dict without groups", lambda: sgd().load_state_dict({"state": {}}), "param_groups"),
    ("optimizer state of a list", lambda: sgd().load_state_dict([1]), ("SGD", "list")),
    (
        "optimizer state for index 7",
        lambda: sgd().load_state_dict(
            {"state": {7: {}}, "param_groups": sgd().state_dict()["param_groups"]}
        ),
        ("SGD", "parameter 7", "[0, 1]"),
    ),
    ("scheduler state of a list", lambda: S.StepLR(sgd(), 1).load_state_dict([1]), "StepLR"),
)

OPTIMIZERS = table(
    "optimizers",
    ("SGD lr < 0", lambda: optim.SGD(params(), lr=-0.1), ("SGD", "learning rate", "-0.1")),
    ("SGD lr a string", lambda: optim.SGD(params(), lr="a"), ("SGD", "learning rate", "'a'")),
    (
        "Adam lr NaN",
        lambda: optim.Adam(params(), lr=float("nan")),
        ("Adam", "learning rate", "nan"),
    ),
    (
        "RMSprop alpha None",
        lambda: optim.RMSprop(params(), alpha=None),
        ("RMSprop", "alpha", "None"),
    ),
    (
        "Adagrad eps a list",
        lambda: optim.Adagrad(params(), eps=[1e-8]),
        ("Adagrad", "epsilon", "[1e-08]"),
    ),
    ("SGD momentum < 0", lambda: optim.SGD(params(), lr=0.1, momentum=-1), ("momentum", "-1")),
    ("SGD weight_decay < 0", lambda: optim.SGD(params(), lr=0.1, weight_decay=-1), "weight_decay"),
    ("SGD nesterov alone", lambda: optim.SGD(params(), lr=0.1, nesterov=True), "Nesterov"),
    (
        "SGD nesterov with dampening",
        lambda: optim.SGD(params(), lr=0.1, momentum=0.9, dampening=0.5, nesterov=True),
        ("Nesterov", "dampening"),
    ),
    ("empty parameter list", lambda: optim.SGD([], lr=0.1), "empty parameter list"),
    ("a tensor for params", lambda: optim.SGD(gs.ones(2, requires_grad=True), lr=0.1), "iterable"),
    ("numbers for params", lambda: optim.SGD([1, 2], lr=0.1), ("Tensors", "int")),
    ("a non-leaf param", lambda: optim.SGD([gs.ones(2, requires_grad=True) * 2], lr=0.1), "leaf"),
    ("group without params", lambda: optim.SGD([{"lr": 0.1}], lr=0.1), ("'params'", "['lr']")),
    ("a parameter in two groups", two_groups, "more than one parameter group"),
    (
        "add_param_group without params",
        lambda: sgd().add_param_group({"lr": 1}),
        ("'params'",),
    ),
    (
        "add_param_group of known params",
        lambda: (lambda o: o.add_param_group({"params": o.param_groups[0]["params"]}))(sgd()),
        "more than one parameter group",
    ),
    ("Adam lr < 0", lambda: optim.Adam(params(), lr=-1), ("learning rate", "-1")),
    ("Adam beta1 = 1", lambda: optim.Adam(params(), betas=(1.0, 0.999)), ("index 0", "1.0")),
    ("Adam beta2 < 0", lambda: optim.Adam(params(), betas=(0.9, -0.1)), ("index 1", "-0.1")),
    ("Adam one beta", lambda: optim.Adam(params(), betas=(0.9,)), ("betas", "(0.9,)")),
    ("Adam eps < 0", lambda: optim.Adam(params(), eps=-1e-8), ("epsilon", "-1e-08")),
    ("Adam weight_decay < 0", lambda: optim.Adam(params(), weight_decay=-1), "weight_decay"),
    ("AdamW beta1 1.5", lambda: optim.AdamW(params(), betas=(1.5, 0.9)), ("beta", "1.5")),
    ("AdamW lr NaN", lambda: optim.AdamW(params(), lr=float("nan")), ("learning rate", "nan")),
    ("RMSprop alpha < 0", lambda: optim.RMSprop(params(), alpha=-0.1), ("alpha", "-0.1")),
    ("RMSprop momentum < 0", lambda: optim.RMSprop(params(), momentum=-0.1), "momentum"),
    ("RMSprop eps < 0", lambda: optim.RMSprop(params(), eps=-1), ("epsilon", "-1")),
    ("Adagrad lr_decay < 0", lambda: optim.Adagrad(params(), lr_decay=-1), ("lr_decay", "-1")),
    (
        "Adagrad initial accumulator < 0",
        lambda: optim.Adagrad(params(), initial_accumulator_value=-1),
        "initial_accumulator_value",
    ),
    ("LBFGS history 0", lambda: optim.LBFGS(params(), history_size=0), ("history_size", "0")),
    ("LBFGS line search", lambda: optim.LBFGS(params(), line_search_fn="wolfe"), "'wolfe'"),
    ("LBFGS step without closure", lambda: optim.LBFGS(params()).step(), ("LBFGS", "closure")),
    ("LBFGS lr < 0", lambda: optim.LBFGS(params(), lr=-1), ("learning rate", "-1")),
    (
        "LBFGS two groups",
        lambda: optim.LBFGS([{"params": params()}, {"params": params()}]),
        ("LBFGS", "parameter groups"),
    ),
    ("SWALR anneal strategy", lambda: swa_utils.SWALR(sgd(), 0.1, anneal_strategy="x"), "'x'"),
    ("SWALR anneal_epochs < 0", lambda: swa_utils.SWALR(sgd(), 0.1, anneal_epochs=-1), "-1"),
    ("EMA decay 2", lambda: swa_utils.get_ema_multi_avg_fn(2.0), ("EMA decay", "2.0")),
)

SCHEDULERS = table(
    "lr schedulers",
    ("StepLR step_size 0", lambda: S.StepLR(sgd(), step_size=0), ("StepLR", "step_size", "0")),
    ("StepLR of a string", lambda: S.StepLR("x", step_size=1), ("StepLR", "Optimizer", "str")),
    ("CosineAnnealingLR T_max 0", lambda: S.CosineAnnealingLR(sgd(), T_max=0), ("T_max", "0")),
    ("LinearLR start 0", lambda: S.LinearLR(sgd(), start_factor=0), ("start_factor", "got 0")),
    ("LinearLR end 2", lambda: S.LinearLR(sgd(), end_factor=2), ("end_factor", "got 2")),
    ("LinearLR total 0", lambda: S.LinearLR(sgd(), total_iters=0), ("total_iters", "got 0")),
    ("LambdaLR of a number", lambda: S.LambdaLR(sgd(), 3), ("LambdaLR", "callable", "int")),
    (
        "LambdaLR two lambdas",
        lambda: S.LambdaLR(sgd(), [lambda e: 1, lambda e: 1]),
        ("LambdaLR", "expected 1", "got 2"),
    ),
    ("OneCycleLR no length", lambda: S.OneCycleLR(sgd(), max_lr=1), ("OneCycleLR", "total_steps")),
    ("OneCycleLR 0 steps", lambda: S.OneCycleLR(sgd(), max_lr=1, total_steps=0), "got 0"),
    (
        "OneCycleLR pct_start 1.5",
        lambda: S.OneCycleLR(sgd(), max_lr=1, total_steps=10, pct_start=1.5),
        ("pct_start", "1.5"),
    ),
    (
        "OneCycleLR anneal strategy",
        lambda: S.OneCycleLR(sgd(), max_lr=1, total_steps=10, anneal_strategy="x"),
        ("anneal_strategy", "'x'"),
    ),
    (
        "OneCycleLR stepped too far",
        lambda: [
            s.step() for s in [S.OneCycleLR(sgd(), max_lr=1, total_steps=2)] for _ in range(5)
        ],
        ("OneCycleLR", "3 times", "total_steps is 2"),
    ),
    ("Plateau mode", lambda: S.ReduceLROnPlateau(sgd(), mode="x"), ("mode", "'x'")),
    ("Plateau factor 1", lambda: S.ReduceLROnPlateau(sgd(), factor=1.0), ("factor", "1.0")),
    ("Plateau threshold_mode", lambda: S.ReduceLROnPlateau(sgd(), threshold_mode="x"), "'x'"),
    ("Plateau two min_lrs", lambda: S.ReduceLROnPlateau(sgd(), min_lr=[0.1, 0.2]), "got 2"),
    (
        "SequentialLR milestones",
        lambda: (lambda o: S.SequentialLR(o, [S.StepLR(o, 1), S.StepLR(o, 1)], [1, 2]))(sgd()),
        ("SequentialLR", "2 milestones"),
    ),
    (
        "SequentialLR two optimizers",
        lambda: (lambda o: S.SequentialLR(o, [S.StepLR(o, 1), S.StepLR(sgd(), 1)], [1]))(sgd()),
        ("SequentialLR", "same optimizer"),
    ),
)


def clip_norm_type(norm_type):
    """``clip_grad_norm_`` of a parameter that has a gradient, with ``norm_type``."""

    def call():
        p = nn.Parameter(gs.ones(2))
        p.grad = gs.ones(2)
        return nn.utils.clip_grad_norm_([p], 1.0, norm_type=norm_type)

    return call


TRAINING = table(
    "training loop and metrics",
    ("fit 0 epochs", lambda: fit(epochs=0), ("fit", "epochs", "got 0")),
    ("clip_grad_norm_ norm_type word", clip_norm_type("two"), ("clip_grad_norm_", "'two'")),
    ("fit 1.5 epochs", lambda: fit(epochs=1.5), ("fit", "1.5")),
    ("fit patience 0", lambda: fit(early_stopping_patience=0), ("early_stopping_patience", "0")),
    ("fit unknown monitor", lambda: fit(monitor="foo"), ("monitor='foo'", "train_loss")),
    ("fit val monitor without val", lambda: fit(monitor="val_loss"), ("val_loss", "val_loader")),
    ("fit scheduler interval", lambda: fit(scheduler_interval="hour"), ("'hour'", "'step'")),
    (
        "fit batches not pairs",
        lambda: fit(loader=[gs.randn(4, 3)]),
        ("(inputs, targets)", "Tensor"),
    ),
    ("fit an empty loader", lambda: fit(loader=[]), ("fit", "no batches")),
    (
        "fit drop_last batches > data",
        lambda: fit(loader=D.DataLoader(D.TensorDataset(gs.randn(10, 3)), 64, drop_last=True)),
        ("fit", "no batches", "drop_last"),
    ),
    ("fit resume without a folder", lambda: fit(resume=True), ("resume=True", "out_dir")),
    ("fit a string optimizer", lambda: fit(opt="sgd"), ("fit", "optimizer", "str")),
    (
        "fit NaN inputs",
        lambda: fit(loader=[(gs.full((4, 3), float("nan")), t([0, 1, 0, 1]))]),
        ("diverged", "nan", "first loss", "inputs"),
        (train.TrainingDiverged,),
    ),
    (
        "evaluate wrong features",
        lambda: train.evaluate(lin(), [(gs.randn(4, 5), t([0, 1, 0, 1]))]),
        ("3 input features", "got 5"),
    ),
    ("accuracy label count", lambda: train.accuracy(gs.randn(4, 3), t([0, 1])), ("(4,)", "(2,)")),
    ("topk_accuracy k 0", lambda: train.topk_accuracy(gs.randn(4, 3), t([0] * 4), k=0), "got 0"),
    ("confusion_matrix lengths", lambda: train.confusion_matrix([0, 1], [0]), ("2 entries", "1")),
    ("confusion_matrix class -1", lambda: train.confusion_matrix([0, -1], [0, 1]), "[-1, 1]"),
    (
        "confusion_matrix class 5 of 3",
        lambda: train.confusion_matrix([0, 5], [0, 1], num_classes=3),
        ("[0, 3)", "[0, 5]"),
    ),
    (
        "LossGuard factor 0.5",
        lambda: train.LossGuard(explode_factor=0.5),
        ("explode_factor", "0.5"),
    ),
    ("progress_bar backend", lambda: train.progress_bar(10, backend="x"), ("backend", "'x'")),
)

CASES = STATE_DICTS + OPTIMIZERS + SCHEDULERS + TRAINING
