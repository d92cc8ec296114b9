"""The ``gradschool`` command, run in-process with ``main([...])`` on tiny data: training writes
a complete run folder, evaluate and predict read it back, --resume continues it, and every
user error prints one message (no traceback) and returns non-zero."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradschool.cli.main import build_parser, main
from gradschool.io.png import write_png
from tests.cli.bars import CLASSES, error, install_bars, train

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    return install_bars(monkeypatch, tmp_path, 400, 150)


@pytest.fixture
def trained(tiny):
    run = tiny / "run"
    assert train(run, "--lr", "0.01") == 0
    return run


def test_train_writes_the_run_folder(trained, capsys):
    names = {p.name for p in trained.iterdir()}
    assert {
        "config.json",
        "metrics.json",
        "checkpoint.safetensors",
        "best.safetensors",
        "log.csv",
        "curves.png",
    } <= names
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.9 and metrics["test_examples"] == 150
    assert len(metrics["history"]) == 2 and "test_confusion_matrix" in metrics
    config = json.loads((trained / "config.json").read_text())
    assert config["model"] == "mlp" and config["model_kwargs"] == {
        "in_features": 256,
        "num_classes": 3,
    }
    assert config["classes"] == CLASSES and config["val_size"] == 40
    assert len((trained / "log.csv").read_text().splitlines()) == 3


def test_train_prints_progress_and_test_accuracy(tiny, capsys):
    assert main(["train", "--dataset", "bars", "--epochs", "1", "--out", "r"]) == 0
    out = capsys.readouterr()
    assert (
        "initial loss" in out.out
        and "epoch 1/1" in out.out
        and "test (best epoch 1): accuracy" in out.out
    )
    assert "img/s" in out.err  # the per-batch bar


def test_evaluate_reproduces_the_test_metrics(trained, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(trained), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    metrics = json.loads((trained / "metrics.json").read_text())
    assert got["accuracy"] == metrics["test_accuracy"] and got["loss"] == metrics["test_loss"]
    assert main(["evaluate", str(trained)]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "per-class accuracy" in out and "vertical" in out


def test_predict_classifies_a_png(trained, capsys, tmp_path):
    img = np.full((48, 40, 3), 250, np.uint8)  # RGB, another size, dark bar on white: inverted
    img[:, 18:24] = 10
    write_png(tmp_path / "bar.png", img)
    capsys.readouterr()
    assert main(["predict", str(trained), str(tmp_path / "bar.png"), "--topk", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "resized to 16x16" in lines[0] and "inverted" in lines[0] and "to grey" in lines[0]
    assert len(lines) == 3 and lines[1].strip().endswith("vertical") and "%" in lines[1]


def test_resume_matches_an_uninterrupted_run(tiny, capsys):
    assert train(tiny / "full", "--epochs", "2", "--scheduler", "none") == 0
    assert train(tiny / "part", "--epochs", "1", "--scheduler", "none") == 0
    assert main(["train", "--resume", str(tiny / "part"), "--epochs", "2", "--no-progress"]) == 0
    assert "resumed from" in capsys.readouterr().out
    full = json.loads((tiny / "full" / "metrics.json").read_text())
    part = json.loads((tiny / "part" / "metrics.json").read_text())
    drop = ("seconds", "images_per_s")
    assert [{k: v for k, v in r.items() if k not in drop} for r in part["history"]] == [
        {k: v for k, v in r.items() if k not in drop} for r in full["history"]
    ]
    assert part["test_accuracy"] == full["test_accuracy"]
    assert main(["train", "--resume", str(tiny / "part"), "--lr", "0.5"]) == 1
    assert "--lr cannot change" in error(capsys, 1)


def test_spiral_trains_and_predict_refuses_points(tiny, capsys):
    assert (
        main(["train", "--dataset", "spiral", "--epochs", "2", "--out", "sp", "--no-progress"]) == 0
    )
    metrics = json.loads((tiny / "sp" / "metrics.json").read_text())
    assert metrics["test_examples"] == 300 and "test_accuracy" in metrics
    write_png(tiny / "x.png", np.zeros((8, 8), np.uint8))
    code = main(["predict", "sp", "x.png"])
    assert "whose inputs are not images" in error(capsys, code)


def test_unknown_model_lists_known_ones(tiny, capsys):
    code = main(["train", "--dataset", "bars", "--model", "resnet999"])
    message = error(capsys, code)
    assert "unknown model 'resnet999'; known models: alexnet, " in message
    assert ", lenet5, " in message and ", resnet20, " in message


def test_bad_choice_and_no_command(capsys):
    code = main(["train", "--dataset", "imagenet"])
    assert code == 2 and "invalid choice: 'imagenet'" in error(capsys, code)
    assert main([]) == 2
    assert "train" in capsys.readouterr().out


def test_missing_data_says_how_to_get_it(tiny, capsys, monkeypatch):
    from gradschool.data.datasets import FashionMNIST

    monkeypatch.setenv("HOME", str(tiny))
    monkeypatch.setenv("GRADSCHOOL_DATA", str(tiny / "none"))
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    code = main(["train", "--data-dir", str(tiny / "empty"), "--out", "fm"])
    err = error(capsys, code)
    assert "dataset files not found" in err and "apt-get install dataset-fashion-mnist" in err
    assert "--data-dir" in err and "--download" in err
    assert not (tiny / "fm" / "config.json").exists()  # nothing written before the data loads


def test_corrupted_data_names_file_and_check(tiny, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tiny))
    data = tiny / "data"
    data.mkdir()
    (data / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x09\x09garbage")
    labels = b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + bytes([1, 2, 3])
    (data / "train-labels-idx1-ubyte").write_bytes(labels)
    code = main(["train", "--dataset", "mnist", "--data-dir", str(data)])
    err = error(capsys, code)
    assert "corrupted" in err and "train-images-idx3-ubyte" in err and "magic number" in err


def test_checkpoint_of_another_model(trained, capsys):
    config = json.loads((trained / "config.json").read_text())
    config["model"], config["model_kwargs"] = "lenet5", {"num_classes": 3, "input_size": 16}
    (trained / "config.json").write_text(json.dumps(config))
    code = main(["evaluate", str(trained)])
    err = error(capsys, code)
    assert "does not fit this LeNet5" in err
    assert "missing keys (in the model, not in the checkpoint): features.0.weight" in err
    assert "unexpected keys (in the checkpoint, not in the model): layers." in err


def test_bad_png_and_bad_run_folder(trained, capsys, tmp_path):
    (tmp_path / "bad.png").write_bytes(b"this is not a png")
    code = main(["predict", str(trained), str(tmp_path / "bad.png")])
    err = error(capsys, code)
    assert "cannot read" in err and "bad.png" in err
    code = main(["predict", str(trained), str(tmp_path / "missing.png")])
    assert "no image file at" in error(capsys, code)
    (tmp_path / "empty").mkdir()
    code = main(["evaluate", str(tmp_path / "empty")])
    assert "is not a run folder: it has no config.json" in error(capsys, code)
    shutil.copy(trained / "config.json", tmp_path / "empty" / "config.json")
    code = main(["evaluate", str(tmp_path / "empty")])
    assert "holds no saved model" in error(capsys, code)


def test_diverging_run_stops_with_advice(tiny, capsys):
    code = train(tiny / "div", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "1")
    err = error(capsys, code)
    assert "training diverged at epoch 1, step" in err and "learning rate" in err


def test_defaults_are_lenet5_on_fashion_mnist():
    from gradschool.cli.main import _new_config

    config = _new_config(build_parser().parse_args(["train"]))
    assert (config["model"], config["dataset"], config["optimizer"]) == (
        "lenet5",
        "fashion-mnist",
        "adam",
    )
    assert config["lr"] == 3e-3 and config["batch_size"] == 128 and config["epochs"] == 10
    assert config["model_kwargs"] == {"num_classes": 10, "in_channels": 1, "input_size": 28}


def test_lean_imports_and_module_entry_points():
    code = (
        "import sys, gradschool, gradschool.train, gradschool.cli.main;"
        "print([m for m in ('tqdm', 'matplotlib', 'scipy', 'sklearn') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    for module in ("gradschool", "gradschool.cli"):
        res = subprocess.run(
            [sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=REPO
        )
        assert res.returncode == 0 and "train" in res.stdout
