"""Metrics against hand computation: accuracy, top-k accuracy, confusion matrix, and the
running accumulator that fit/evaluate use."""

import numpy as np
import pytest

import gradschool as gs
from gradschool.train import MetricAccumulator, accuracy, confusion_matrix, topk_accuracy

SCORES = np.array(
    [
        [0.1, 0.7, 0.2, 0.0],  # argmax 1, order 1 2 0 3
        [0.9, 0.05, 0.03, 0.02],  # argmax 0, order 0 1 2 3
        [0.2, 0.1, 0.3, 0.4],  # argmax 3, order 3 2 0 1
        [0.3, 0.4, 0.2, 0.1],  # argmax 1, order 1 0 2 3
        [0.25, 0.2, 0.5, 0.05],  # argmax 2, order 2 0 1 3
    ],
    np.float32,
)
TARGET = np.array([1, 2, 3, 0, 1])


def test_accuracy_by_hand():
    # hits: rows 0 and 2
    assert accuracy(SCORES, TARGET) == pytest.approx(2 / 5)
    assert accuracy(gs.tensor(SCORES), gs.tensor(TARGET)) == pytest.approx(2 / 5)
    assert accuracy(np.array([1, 0, 3, 1, 2]), TARGET) == pytest.approx(2 / 5)


def test_topk_by_hand():
    # top-2 hits: row0 (1 in {1,2}), row1 (2 not in {0,1}), row2 (3), row3 (0 in {1,0}), row4 (1 not in {2,0})
    assert topk_accuracy(SCORES, TARGET, k=2) == pytest.approx(3 / 5)
    assert topk_accuracy(SCORES, TARGET, k=1) == pytest.approx(accuracy(SCORES, TARGET))
    assert topk_accuracy(SCORES, TARGET, k=4) == 1.0
    assert topk_accuracy(SCORES, TARGET, k=10) == 1.0


def test_topk_matches_a_full_sort():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((200, 10)).astype(np.float32)
    target = rng.integers(0, 10, 200)
    for k in (1, 3, 5, 9):
        top = np.argsort(-scores, axis=1)[:, :k]  # what torch.topk(k).indices holds (as a set)
        expected = (top == target[:, None]).any(axis=1).mean()
        assert topk_accuracy(scores, target, k) == pytest.approx(expected)


def test_confusion_matrix_by_hand():
    pred = SCORES.argmax(1)
    m = confusion_matrix(TARGET, pred, num_classes=4)
    expected = np.zeros((4, 4), np.int64)
    for t, p in zip(TARGET, pred, strict=True):
        expected[t, p] += 1
    np.testing.assert_array_equal(m, expected)
    np.testing.assert_array_equal(confusion_matrix(TARGET, SCORES), expected)  # scores: argmax
    assert m.sum() == 5 and np.trace(m) == 2
    assert confusion_matrix([0, 2], [0, 0]).shape == (3, 3)  # inferred from the largest index


def test_metric_errors_name_the_function():
    with pytest.raises(ValueError, match=r"accuracy: expected target of shape \(5,\)"):
        accuracy(SCORES, TARGET[:3])
    with pytest.raises(ValueError, match="topk_accuracy: k must be a positive int"):
        topk_accuracy(SCORES, TARGET, k=0)
    with pytest.raises(ValueError, match=r"confusion_matrix: class indices must lie in \[0, 2\)"):
        confusion_matrix([0, 1, 2], [0, 1, 1], num_classes=2)
    with pytest.raises(TypeError, match="accuracy: output must be a Tensor or an array"):
        accuracy("scores", TARGET)


def test_accumulator_equals_whole_batch():
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((103, 7)).astype(np.float32)
    target = rng.integers(0, 7, 103)
    losses = rng.random(103)
    acc = MetricAccumulator(topk=5, confusion=True)
    for start in range(0, 103, 25):  # uneven last batch: the loss is weighed by batch size
        sl = slice(start, start + 25)
        acc.update(float(losses[sl].mean()), scores[sl], target[sl])
    out = acc.compute()
    assert out["loss"] == pytest.approx(losses.mean())
    assert out["accuracy"] == pytest.approx(accuracy(scores, target))
    assert out["top5_accuracy"] == pytest.approx(topk_accuracy(scores, target, 5))
    np.testing.assert_array_equal(out["confusion_matrix"], confusion_matrix(target, scores))


def test_accumulator_skips_accuracy_for_regression_and_few_classes():
    acc = MetricAccumulator()
    acc.update(0.5, np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32))
    assert acc.compute() == {"loss": 0.5}
    acc = MetricAccumulator(topk=5)
    acc.update(1.0, SCORES, TARGET)  # 4 classes < 5: no top-5
    assert set(acc.compute()) == {"loss", "accuracy"}
