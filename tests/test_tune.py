"""gradschool.tune: a two-stage random search over tiny spiral runs in worker processes writes
the table and the plot; the command line, grids, narrowing, failures and errors."""

import json

import numpy as np
import pytest

from gradschool.cli.main import main
from gradschool.tune import (
    _candidates,
    _draw_raster,
    _narrow,
    _train_options,
    loguniform,
    parse_param,
    tune,
    uniform,
)

SPIRAL = ["--dataset", "spiral", "--epochs", "1", "--batch-size", "128"]


def test_two_stage_search_in_workers_writes_table_and_plot(tmp_path, capsys):
    out = tmp_path / "tune"
    space = {"lr": loguniform(1e-3, 1e-1), "weight-decay": [0.0, 1e-4]}
    result = tune(space, SPIRAL, n_trials=(2, 1), stages=2, n_jobs=2, out=out, random_state=0)
    printed = capsys.readouterr().out
    assert "val acc" in printed and "stage 2/2" in printed

    trials = result.trials
    assert [t["status"] for t in trials] == ["ok"] * 3
    accs = [t["val_accuracy"] for t in trials]
    assert accs == sorted(accs, reverse=True) and result.best is trials[0]
    assert sorted(t["stage"] for t in trials) == [1, 1, 2]
    for t in trials:  # every trial is a complete run folder with its own log
        run = out / f"trial-{t['trial']:03d}"
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["best_val_accuracy"] == t["val_accuracy"]
        assert "gradschool train" in (run / "train.log").read_text()
        assert json.loads((run / "config.json").read_text())["epochs"] == 1
    # stage 2 searched inside stage 1's range, around its best trials
    lr2 = result.spaces[1]["lr"]
    assert 1e-3 <= lr2.a < lr2.b <= 1e-1
    stage2 = next(t for t in trials if t["stage"] == 2)
    assert lr2.a <= stage2["params"]["lr"] <= lr2.b

    rows = (out / "tune.csv").read_text().splitlines()
    assert rows[0].startswith("trial,stage,lr,weight_decay,val_accuracy") and len(rows) == 4
    assert json.loads((out / "tune.json").read_text())["trials"][0]["trial"] == trials[0]["trial"]
    assert result.plot == out / "tune.png"
    assert (out / "tune.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_line_and_a_failed_trial(tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["tune", *SPIRAL, "--param", "model=nope,mlp", "--search", "grid", "--stages", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    table = printed[printed.index("rank") :].splitlines()
    assert "mlp" in table[1] and "failed" in table[2]  # the failure ranked last
    assert "unknown model 'nope'" in (out / "trial-001" / "train.log").read_text()
    saved = json.loads((out / "tune.json").read_text())
    assert (
        saved["trials"][1]["status"] == "failed" and "unknown model" in saved["trials"][1]["error"]
    )


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--param", "out=x"], "not an option of gradschool train"),
        (["--param", "lr"], "NAME=SPEC"),
        (["--param", "lr=0:1"], "0 < LOW < HIGH"),
        (["--param", "lr=a:b"], "two numbers"),
        (["--param", "optimizer=adam,lion"], "takes sgd, adam"),
        (["--param", "optimizer=0.1:1"], "list of choices, not a range"),
        (["--lr", "0.1", "--param", "lr=1e-3:1e-1"], "both fixed"),
        (["--trials", "2,x"], "integers separated"),
        (["--stage-epochs", "1,2,3"], "stage_epochs needs 2"),
    ],
)
def test_errors_are_one_line(argv, message, tmp_path, capsys):
    assert main(["tune", *argv, "--out", str(tmp_path / "e")]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_parse_param():
    name, d = parse_param("lr=1e-4:1e-1")
    assert name == "lr" and isinstance(d, loguniform) and (d.a, d.b) == (1e-4, 1e-1)
    assert isinstance(parse_param("momentum=0.5:0.9:linear")[1], uniform)
    assert parse_param("batch-size=32,64") == ("batch-size", ["32", "64"])


def test_grid_candidates_and_narrowing():
    options = _train_options()
    space = {"lr": loguniform(1e-4, 1e-1), "batch_size": [32, 64], "optimizer": ["adam", "sgd"]}
    grid = _candidates(space, "grid", 0, 4, np.random.RandomState(0), options)
    assert len(grid) == 4 * 2 * 2
    np.testing.assert_allclose(sorted({c["lr"] for c in grid}), [1e-4, 1e-3, 1e-2, 1e-1])
    assert all(isinstance(c["batch_size"], int) for c in grid)
    # integer options round their draws; repeated configurations are run once
    ints = _candidates({"batch_size": uniform(10, 12)}, "random", 20, 3, 0, options)
    assert sorted(c["batch_size"] for c in ints) == [10, 11, 12]

    best = [
        {"params": {"lr": 1e-3, "batch_size": 32, "optimizer": "adam"}},
        {"params": {"lr": 4e-3, "batch_size": 32, "optimizer": "adam"}},
    ]
    narrow = _narrow(space, best, options)
    assert narrow["batch_size"] == [32] and narrow["optimizer"] == ["adam"]
    margin = 0.125 * np.log(1e3)  # an eighth of the old range on each side, in log units
    assert narrow["lr"].a == pytest.approx(np.exp(np.log(1e-3) - margin))
    assert narrow["lr"].b == pytest.approx(np.exp(np.log(4e-3) + margin))
    edge = _narrow(space, [{"params": {"lr": 1e-4, "batch_size": 64, "optimizer": "sgd"}}], options)
    assert edge["lr"].a == 1e-4  # kept inside the searched range


def test_raster_plot_without_matplotlib(tmp_path, monkeypatch):
    import gradschool.tune as tune_module
    from gradschool.io.png import read_png

    trials = [
        {"stage": 1, "params": {"lr": 1e-3, "optimizer": "adam"}, "val_accuracy": 0.5},
        {"stage": 2, "params": {"lr": 1e-2, "optimizer": "sgd"}, "val_accuracy": 0.9},
    ]
    space = {"lr": loguniform(1e-4, 1e-1), "optimizer": ["adam", "sgd"]}
    img = _draw_raster(trials, space)
    assert img.shape == (200, 520, 3) and img.dtype == np.uint8 and (img != 255).any()

    def no_matplotlib(*args):
        raise ImportError("no matplotlib")

    monkeypatch.setattr(tune_module, "_draw_matplotlib", no_matplotlib)
    path = tune_module._plot(
        [{**t, "status": "ok"} for t in trials], [space], tmp_path / "t.png", False
    )
    assert read_png(path).shape == (200, 520, 3)
