"""Transfer learning and ensembles through the ``gradschool`` command, on tiny bar images:
``--classes`` label subsets, ``--init-from`` with a frozen backbone (and ``--resume``),
``--snapshots`` (cyclic learning rate, snapshot files, resume), and ``evaluate`` over several
runs (the ensemble's accuracy is the hand-computed average of the members' probabilities)."""

import csv
import json

import numpy as np
import pytest

import gradschool as gs
from gradschool.cli.main import _transform, main
from gradschool.io.safetensors import load_file
from gradschool.models import get_model
from gradschool.train import load_model_weights
from tests.cli.bars import CLASSES, Bars, error, install_bars, make_bars, train


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    return install_bars(monkeypatch, tmp_path, 300, 120)


def _config(run):
    return json.loads((run / "config.json").read_text())


def _model_weights(path):
    return {k[len("model.") :]: v for k, v in load_file(path).items() if k.startswith("model.")}


def _history(run):
    drop = ("seconds", "images_per_s")
    records = json.loads((run / "metrics.json").read_text())["history"]
    return [{k: v for k, v in r.items() if k not in drop} for r in records]


@pytest.fixture
def source(tiny):
    """LeNet-5 trained on the horizontal and vertical bars only."""
    run = tiny / "src"
    assert train(run, "--model", "lenet5", "--classes", "0,1", "--lr", "0.01") == 0
    return run


def test_classes_keeps_a_relabelled_subset(source, capsys):
    config = _config(source)
    assert config["class_subset"] == [0, 1] and config["classes"] == CLASSES[:2]
    assert config["num_classes"] == 2 and config["model_kwargs"]["num_classes"] == 2
    metrics = json.loads((source / "metrics.json").read_text())
    n_test = int(np.isin(make_bars(120, 1)[1], [0, 1]).sum())
    assert metrics["test_examples"] == n_test and metrics["test_accuracy"] > 0.9
    capsys.readouterr()
    assert main(["evaluate", str(source)]) == 0
    out = capsys.readouterr().out
    assert "bars classes 0,1 test set" in out and "vertical" in out and "diagonal" not in out


def test_init_from_with_a_frozen_backbone(source, tiny, capsys):
    run = tiny / "ft"
    args = ("--init-from", str(source), "--classes", "1,2", "--freeze", "backbone")
    assert train(run, *args, "--lr", "0.01", "--epochs", "3") == 0
    out = capsys.readouterr().out
    assert "170 trainable" in out and "head classifier.4 new (2 classes), backbone frozen" in out
    config = _config(run)
    assert config["init_from"] == str(source) and config["freeze"] == "backbone"
    assert config["head"] == "new" and config["class_subset"] == [1, 2]
    assert config["classes"] == CLASSES[1:] and config["trainable_parameters"] == 84 * 2 + 2
    # the backbone is the source's, bit for bit; the head has been trained from a fresh start
    src = _model_weights(source / "best.safetensors")
    gs.manual_seed(0)
    fresh = get_model("lenet5", **config["model_kwargs"]).state_dict()
    for name in ("best.safetensors", "checkpoint.safetensors"):
        got = _model_weights(run / name)
        for k, v in got.items():
            if k.startswith("classifier.4."):
                assert not np.array_equal(v, fresh[k].data), k
            else:
                np.testing.assert_array_equal(v, src[k], err_msg=k)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.6
    assert main(["evaluate", str(run), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["accuracy"] == metrics["test_accuracy"]
    assert main(["evaluate", str(run)]) == 0
    assert "diagonal" in capsys.readouterr().out

    # resume: stopped after one epoch and continued, it ends where an unbroken run ends
    part = tiny / "ft-part"
    fixed = ("--lr", "0.01", "--scheduler", "none")
    assert train(tiny / "ft-full", *args, *fixed, "--epochs", "2") == 0
    assert train(part, *args, *fixed, "--epochs", "1") == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(part), "--epochs", "2", "--no-progress"]) == 0
    assert "resumed from" in capsys.readouterr().out
    assert _history(part) == _history(tiny / "ft-full")
    got = _model_weights(part / "checkpoint.safetensors")
    for k, v in got.items():
        if not k.startswith("classifier.4."):
            np.testing.assert_array_equal(v, src[k], err_msg=k)
    code = main(["train", "--resume", str(part), "--freeze", "none", "--epochs", "2"])
    assert "--freeze cannot change" in error(capsys, code)
    code = main(["train", "--resume", str(part), "--classes", "0,1", "--epochs", "2"])
    assert "--classes cannot change" in error(capsys, code)


def test_init_from_keeps_the_head_for_the_same_label_set(tiny, capsys):
    assert train(tiny / "a", "--lr", "0.01") == 0  # mlp, all three classes
    assert train(tiny / "b", "--init-from", "a", "--epochs", "1") == 0
    config = _config(tiny / "b")
    assert config["head"] == "pretrained" and config["freeze"] == "none"
    assert config["model"] == "mlp"
    first = json.loads((tiny / "b" / "metrics.json").read_text())["history"][0]
    assert first["train_accuracy"] > 0.9  # it starts from a trained model
    # another class count: a head of the new width, the rest fine-tuned
    assert train(tiny / "c", "--init-from", "a", "--classes", "0,2", "--epochs", "1") == 0
    config = _config(tiny / "c")
    assert config["head"] == "new" and config["model_kwargs"]["num_classes"] == 2


def test_transfer_errors(source, tiny, capsys):
    code = train(tiny / "x", "--init-from", str(tiny / "missing"))
    assert "--init-from" in (err := error(capsys, code)) and "missing is not a folder" in err
    code = train(tiny / "x", "--init-from", str(source), "--model", "mlp")
    assert "holds a lenet5, but --model mlp was given" in error(capsys, code)
    code = train(tiny / "x", "--freeze", "backbone")
    assert "--freeze needs --init-from" in error(capsys, code)
    code = train(tiny / "x", "--classes", "1,7")
    assert "bars has classes 0-2, got 7" in error(capsys, code)
    code = train(tiny / "x", "--classes", "1")
    assert "at least two classes" in error(capsys, code)
    code = train(tiny / "x", "--classes", "a-b")
    assert "--classes takes class indices" in error(capsys, code)
    code = main(["train", "--dataset", "digits", "--init-from", str(source), "--out", "x"])
    assert "input_size 16 there, 8 here" in error(capsys, code)


def _lrs(run):
    with open(run / "log.csv") as f:
        return [float(r["lr"]) for r in csv.DictReader(f)]


def test_snapshots_cycle_the_learning_rate_and_survive_resume(tiny, capsys, monkeypatch):
    run = tiny / "snap"
    assert train(run, "--snapshots", "2", "--epochs", "4", "--lr", "0.01") == 0
    assert "cosine restarted every 2 epochs, 2 snapshots" in capsys.readouterr().out
    assert [p.name for p in sorted(run.glob("snapshot-*"))] == [
        "snapshot-1.safetensors",
        "snapshot-2.safetensors",
    ]
    # each cycle starts at lr and is half way down the cosine after one of its two epochs
    np.testing.assert_allclose(_lrs(run), [0.01, 0.005, 0.01, 0.005], rtol=1e-9)
    last = _model_weights(run / "checkpoint.safetensors")
    for k, v in _model_weights(run / "snapshot-2.safetensors").items():
        np.testing.assert_array_equal(v, last[k])
    config, metrics = _config(run), json.loads((run / "metrics.json").read_text())
    assert config["snapshots"] == 2 and config["scheduler"] == "cyclic-cosine"
    assert len(metrics["test_snapshot_accuracies"]) == 2 and "test_ensemble_accuracy" in metrics

    # interrupted while saving the first snapshot: the resumed run redoes that epoch
    from gradschool.train import ensemble

    real = ensemble.snapshot_name

    def interrupt(i):
        monkeypatch.setattr(ensemble, "snapshot_name", real)
        raise KeyboardInterrupt

    monkeypatch.setattr(ensemble, "snapshot_name", interrupt)
    part = tiny / "part"
    assert train(part, "--snapshots", "2", "--epochs", "4", "--lr", "0.01") == 130
    assert not list(part.glob("snapshot-*"))
    assert main(["train", "--resume", str(part), "--no-progress"]) == 0
    assert _history(part) == _history(run)
    for i in (1, 2):
        want = _model_weights(run / f"snapshot-{i}.safetensors")
        for k, v in _model_weights(part / f"snapshot-{i}.safetensors").items():
            np.testing.assert_array_equal(v, want[k])

    capsys.readouterr()
    assert main(["evaluate", str(run), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [m["weights"] for m in got["members"]] == [
        "snapshot-1.safetensors",
        "snapshot-2.safetensors",
    ]
    assert got["ensemble"]["accuracy"] == metrics["test_ensemble_accuracy"]
    for flag in ("--no-ensemble", "--best"):  # the best weights alone
        assert main(["evaluate", str(run), flag, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["accuracy"] == metrics["test_accuracy"]

    code = train(tiny / "x", "--snapshots", "3", "--epochs", "4")
    assert "--epochs 4 is not divisible by --snapshots 3" in error(capsys, code)
    code = train(tiny / "x", "--snapshots", "2", "--epochs", "4", "--scheduler", "step")
    assert "drop --scheduler step" in error(capsys, code)
    code = main(["train", "--resume", str(run), "--epochs", "6"])
    assert "--epochs cannot change" in error(capsys, code)


def _probs(run):
    """A run's best model's softmax probabilities over the test set, by hand."""
    config = _config(run)
    model = get_model(config["model"], **config["model_kwargs"])
    load_model_weights(run / "best.safetensors", model)
    model.eval()
    data = Bars(120, 1, _transform(config))
    x, y = data.__getitems__(list(range(len(data))))
    with gs.no_grad():
        s = model(x).data.astype(np.float64)
    e = np.exp(s - s.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True), y.data


def test_evaluate_two_runs_averages_their_probabilities(tiny, capsys):
    assert train(tiny / "a", "--epochs", "1", "--lr", "0.003") == 0
    assert train(tiny / "b", "--epochs", "1", "--seed", "1", "--model", "lenet5") == 0
    capsys.readouterr()
    assert main(["evaluate", "a", "b", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    (pa, y), (pb, _) = _probs(tiny / "a"), _probs(tiny / "b")
    mean = (pa + pb) / 2
    assert got["ensemble"]["accuracy"] == pytest.approx(float((mean.argmax(1) == y).mean()))
    nll = float(-np.log(mean[np.arange(len(y)), y]).mean())
    assert got["ensemble"]["loss"] == pytest.approx(nll, rel=1e-6)
    for member, p, run in zip(got["members"], (pa, pb), ("a", "b"), strict=True):
        assert member["accuracy"] == pytest.approx(float((p.argmax(1) == y).mean()))
        metrics = json.loads((tiny / run / "metrics.json").read_text())
        assert member["accuracy"] == pytest.approx(metrics["test_accuracy"])
    # Jensen: the ensemble's cross-entropy is never above the members' mean
    assert got["ensemble"]["loss"] <= (got["members"][0]["loss"] + got["members"][1]["loss"]) / 2
    assert main(["evaluate", "a", "b"]) == 0
    out = capsys.readouterr().out
    assert "an ensemble of 2 models" in out and "a/best.safetensors (mlp)" in out
    assert "b/best.safetensors (lenet5)" in out and "ensemble" in out and "diagonal" in out
    assert main(["evaluate", "a", "b", "--no-ensemble"]) == 0
    assert capsys.readouterr().out.count("test accuracy") == 2

    assert train(tiny / "sub", "--epochs", "1", "--classes", "0,1") == 0
    code = main(["evaluate", "a", "sub"])
    err = error(capsys, code)
    assert "must share the dataset and label set" in err and "sub: bars classes 0,1" in err
