"""The fit loop on small synthetic data: learning, evaluation, run files, exact resume, early
stopping, schedulers, and the babysitting guards."""

import json
import math

import numpy as np
import pytest

import gradschool as gs
import gradschool.nn as nn
from gradschool.data.dataloader import DataLoader
from gradschool.data.dataset import TensorDataset
from gradschool.io.png import read_png
from gradschool.optim.adam import Adam
from gradschool.optim.lr_scheduler import CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau
from gradschool.optim.sgd import SGD
from gradschool.train import History, TrainingDiverged, evaluate, fit
from gradschool.train.guards import LossGuard, check_initial_loss

TIMING = ("seconds", "images_per_s")


def _data(n=512, classes=6, seed=0):
    centres = np.random.default_rng(42).standard_normal((classes, 10)).astype(np.float32) * 2
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    X = centres[y] + rng.standard_normal((n, 10)).astype(np.float32)
    return TensorDataset(X.astype(np.float32), y.astype(np.int64))


def _setup(seed=0, lr=1e-2, dropout=0.2, loader_gen=True):
    """Model, optimizer, scheduler and loaders, all built from the seed (as a fresh process would)."""
    gs.manual_seed(seed)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 6))
    opt = Adam(model.parameters(), lr=lr)
    sched = CosineAnnealingLR(opt, T_max=3)
    gen = gs.Generator().manual_seed(seed + 1) if loader_gen else None
    train = DataLoader(_data(), batch_size=64, shuffle=True, generator=gen)
    val = DataLoader(_data(128, seed=1), batch_size=64)
    return model, opt, sched, train, val


def _metrics(history):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in history.records]


def test_fit_learns_and_evaluate_reports(tmp_path):
    model, opt, sched, train, val = _setup()
    history = fit(
        model, train, opt, epochs=3, val_loader=val, scheduler=sched, progress=False, verbose=False
    )
    assert isinstance(history, History) and len(history) == 3
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history[-1]["val_accuracy"] > 0.8
    assert history.initial_loss == pytest.approx(math.log(6), rel=0.3)
    assert [r["lr"] for r in history.records] == pytest.approx([1e-2, 7.5e-3, 2.5e-3])
    out = evaluate(model, val, confusion=True)
    assert set(out) == {"loss", "accuracy", "top5_accuracy", "confusion_matrix", "n"}
    assert out["n"] == 128 and np.sum(out["confusion_matrix"]) == 128
    assert out["loss"] == pytest.approx(history[-1]["val_loss"])
    assert model.training  # evaluate restores the mode


def test_fit_writes_run_files(tmp_path):
    model, opt, sched, train, val = _setup()
    fit(
        model,
        train,
        opt,
        epochs=2,
        val_loader=val,
        scheduler=sched,
        out_dir=tmp_path,
        progress=False,
        verbose=False,
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "best.safetensors",
        "checkpoint.safetensors",
        "curves.png",
        "log.csv",
        "metrics.json",
    ]
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,lr,train_loss,train_accuracy,train_top5_accuracy,val_loss")
    assert len(lines) == 3
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs_completed"] == 2 and len(metrics["history"]) == 2
    img = read_png(tmp_path / "curves.png")
    assert img.ndim == 3 and img.shape[0] > 100


@pytest.mark.parametrize("loader_gen", [True, False])
def test_resume_continues_exactly(tmp_path, loader_gen):
    # uninterrupted: 3 epochs
    model, opt, sched, train, val = _setup(loader_gen=loader_gen)
    full = fit(
        model,
        train,
        opt,
        epochs=3,
        val_loader=val,
        scheduler=sched,
        out_dir=tmp_path / "a",
        progress=False,
        verbose=False,
    )
    weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    # stopped after epoch 1 ...
    model, opt, sched, train, val = _setup(loader_gen=loader_gen)
    fit(
        model,
        train,
        opt,
        epochs=1,
        val_loader=val,
        scheduler=sched,
        out_dir=tmp_path / "b",
        progress=False,
        verbose=False,
    )
    gs.rand(100)  # whatever happens in between must not matter
    # ... and resumed in a "new process": everything rebuilt with another seed, then restored
    model, opt, sched, train, val = _setup(seed=7, loader_gen=loader_gen)
    resumed = fit(
        model,
        train,
        opt,
        epochs=3,
        val_loader=val,
        scheduler=sched,
        out_dir=tmp_path / "b",
        resume=True,
        progress=False,
        verbose=False,
    )

    assert _metrics(resumed) == _metrics(full)  # identical, not approximately equal
    assert resumed.best_epoch == full.best_epoch and resumed.initial_loss == full.initial_loss
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), weights[k])
    a = (tmp_path / "a" / "log.csv").read_text().splitlines()
    b = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert len(a) == len(b) == 4


def test_resume_errors(tmp_path):
    model, opt, sched, train, val = _setup()
    with pytest.raises(FileNotFoundError, match="cannot resume, no checkpoint at"):
        fit(
            model,
            train,
            opt,
            epochs=2,
            out_dir=tmp_path,
            resume=True,
            progress=False,
            verbose=False,
        )
    with pytest.raises(ValueError, match="resume=True needs out_dir"):
        fit(model, train, opt, epochs=2, resume=True, progress=False, verbose=False)


def test_early_stopping_and_restore_best(tmp_path):
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 6))
    opt = SGD(model.parameters(), lr=0.0)  # nothing changes: no epoch after the first improves
    train = DataLoader(_data(), batch_size=128)
    val = DataLoader(_data(128, seed=1), batch_size=128)
    h = fit(
        model,
        train,
        opt,
        epochs=10,
        val_loader=val,
        early_stopping_patience=2,
        out_dir=tmp_path,
        progress=False,
        verbose=False,
    )
    assert len(h) == 3 and h.stopped_early and h.best_epoch == 1
    assert json.loads((tmp_path / "metrics.json").read_text())["stopped_early"] is True

    model, opt, _, train, val = _setup()
    h = fit(
        model,
        train,
        opt,
        epochs=3,
        val_loader=val,
        monitor="val_accuracy",
        restore_best=True,
        progress=False,
        verbose=False,
    )
    best = evaluate(model, val)
    assert best["accuracy"] == pytest.approx(h.best_value)
    assert h.best_value == max(h["val_accuracy"])


def test_plateau_and_per_batch_schedulers():
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 6))
    loader = DataLoader(_data(), batch_size=512)
    # a frozen model: the train loss never improves, so the plateau scheduler (given the
    # monitored metric) halves the lr after each epoch but the first
    frozen = SGD(model.parameters(), lr=0.1)
    frozen.step = lambda closure=None: None
    sched = ReduceLROnPlateau(frozen, patience=0, factor=0.5)
    h = fit(model, loader, frozen, epochs=3, scheduler=sched, progress=False, verbose=False)
    assert h["lr"] == pytest.approx([0.1, 0.1, 0.05])  # the lr each epoch ran with

    model, opt, _, train, _ = _setup()
    sched = OneCycleLR(opt, max_lr=0.01, total_steps=2 * len(train))
    fit(model, train, opt, epochs=2, scheduler=sched, progress=False, verbose=False)
    assert sched.last_epoch == 2 * len(train)  # stepped once per batch


def test_huge_lr_diverges_with_step_in_message():
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 6))
    opt = SGD(model.parameters(), lr=1e4)
    loader = DataLoader(_data(), batch_size=32, shuffle=True)
    with pytest.raises(TrainingDiverged) as err:
        fit(model, loader, opt, epochs=3, progress=False, verbose=False)
    e = err.value
    assert e.epoch == 1 and e.step >= 2
    assert f"epoch 1, step {e.step}" in str(
        e
    ) and "learning rate (lr=10000) is probably too high" in str(e)


def test_gradient_clipping_tames_a_huge_lr():
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 6))
    opt = SGD(model.parameters(), lr=10.0)
    loader = DataLoader(_data(), batch_size=32, shuffle=True)
    h = fit(model, loader, opt, epochs=1, max_grad_norm=0.01, progress=False, verbose=False)
    assert math.isfinite(h[-1]["train_loss"])


def test_nan_loss_stops_at_first_step():
    model, opt, _, train, _ = _setup()
    with pytest.raises(TrainingDiverged, match="epoch 1, step 1: the loss is nan"):
        fit(
            model,
            train,
            opt,
            epochs=1,
            loss_fn=lambda out, y: out.sum() * float("nan"),
            progress=False,
            verbose=False,
        )


def test_guards_units():
    guard = LossGuard(explode_factor=10)
    guard.check(2.0, epoch=1, step=1)
    guard.check(19.0, epoch=1, step=2)
    with pytest.raises(TrainingDiverged, match="epoch 2, step 5: the loss exploded to 21"):
        guard.check(21.0, epoch=2, step=5)
    with pytest.raises(TrainingDiverged, match="the loss is inf"):
        guard.check(math.inf, epoch=1, step=3)
    assert check_initial_loss(2.35, 10) is None
    note = check_initial_loss(9.0, 10)
    assert "far from ln(10) = 2.303" in note and "too large" in note
    assert "confident" in check_initial_loss(0.01, 10)


def test_initial_loss_note_is_printed(capsys):
    gs.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 6))
    with gs.no_grad():
        model[0].weight.data *= 50  # scores far too large at the start
    opt = SGD(model.parameters(), lr=1e-3)
    fit(model, DataLoader(_data(), batch_size=256), opt, epochs=1, progress=False)
    out = capsys.readouterr().out
    assert "initial loss" in out and "note: the initial loss" in out and "epoch 1/1" in out


def test_progress_fallback_prints_loss_and_throughput(capsys):
    model, opt, _, train, _ = _setup()
    fit(model, train, opt, epochs=1, progress=True, verbose=False)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "loss" in err and "img/s" in err and "8/8" in err


def test_fit_argument_errors():
    model, opt, _, train, _ = _setup()
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        fit(model, train, opt, epochs=0)
    with pytest.raises(ValueError, match="monitor='val_loss' needs a val_loader"):
        fit(model, train, opt, epochs=1, monitor="val_loss")
    with pytest.raises(TypeError, match=r"each batch must be an \(inputs, targets\) pair"):
        fit(model, [gs.randn(4, 10)], opt, epochs=1, progress=False, verbose=False)
