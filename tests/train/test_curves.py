"""Curves of several runs on one figure (the degradation experiment's plot)."""

import pytest

from gradschool.io.png import read_png
from gradschool.train.curves import plot_runs


def _history(acc0: float, n: int = 4) -> list[dict[str, float]]:
    return [
        {"epoch": i, "train_accuracy": acc0 + 0.02 * i, "val_accuracy": acc0, "train_loss": 1 / i}
        for i in range(1, n + 1)
    ]


def test_plot_runs_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "sub" / "compare.png"
    plot_runs({"resnet20": _history(0.8), "plain20": _history(0.7)}, path)
    img = read_png(path)
    assert img.ndim == 3 and img.shape[1] > 3 * img.shape[0] // 2  # three panels side by side
    assert not list(tmp_path.glob("sub/*.tmp*"))  # written atomically, nothing left over
