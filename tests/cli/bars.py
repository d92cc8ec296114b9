"""The tiny dataset the CLI tests train on: 16x16 grey images of a light bar on black,
horizontal, vertical or diagonal (3 classes), registered as ``--dataset bars``."""

from __future__ import annotations

import numpy as np

from gradschool.cli import runs
from gradschool.cli.main import main
from gradschool.data.datasets._files import ArrayDataset

CLASSES = ["horizontal", "vertical", "diagonal"]


def make_bars(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 images (n, 16, 16) with noise, and their int64 labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.integers(0, 40, (n, 16, 16)).astype(np.uint8)
    pos = rng.integers(3, 13, n)
    d = np.arange(16)
    for i in range(n):
        if y[i] == 0:
            x[i, pos[i] - 1 : pos[i] + 2, :] = 230
        elif y[i] == 1:
            x[i, :, pos[i] - 1 : pos[i] + 2] = 230
        else:
            x[i, d, d] = 230
            x[i, d[1:], d[:-1]] = 230
    return x, y.astype(np.int64)


class Bars(ArrayDataset):
    """``n`` bar images drawn with ``seed`` (the train split uses seed 0, the test split 1)."""

    classes = CLASSES

    def __init__(self, n, seed, transform):
        self.data, self.targets = make_bars(n, seed)
        self.transform, self.target_transform = transform, None


def install_bars(monkeypatch, tmp_path, n_train: int, n_test: int):
    """Register ``bars`` (n_train / n_test images) as a dataset and work in ``tmp_path``."""
    spec = runs.DataSpec(
        "bars",
        lambda root, train, download, transform: (
            Bars(n_train, 0, transform) if train else Bars(n_test, 1, transform)
        ),
        "image",
        3,
        input_size=16,
        mean=(0.2,),
        std=(0.3,),
        default_model="mlp",
        default_epochs=2,
        default_batch_size=32,
        dark_background=True,
    )
    monkeypatch.setitem(runs.DATASETS, "bars", spec)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def train(run, *extra) -> int:
    """``gradschool train --dataset bars --out run --no-progress *extra``."""
    return main(["train", "--dataset", "bars", "--out", str(run), "--no-progress", *extra])


def error(capsys, code) -> str:
    """The one-paragraph error a failing command printed (and no traceback)."""
    out = capsys.readouterr()
    assert code != 0
    assert "Traceback" not in out.err + out.out
    return out.err
