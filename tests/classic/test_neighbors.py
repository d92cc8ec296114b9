"""k-nearest neighbours against scikit-learn, and the distance matrices against each other.

The three ways of computing L1 and L2 distances (two loops, one loop, no loops) agree, and
the blocked ``pairwise_distances`` with them. ``KNeighborsClassifier`` / ``Regressor`` return
exactly scikit-learn's ``algorithm='brute'`` answers -- predictions, probabilities, neighbour
distances and indices -- on integer-valued data full of duplicate points (equidistant
neighbours, tied votes, zero distances), and on Fashion-MNIST subsets when the files are on
disk. scikit-learn's brute force is run as one scan of the training rows per test row (its
``parallel_on_X`` strategy, one thread), the order gradschool reproduces (see
``gradschool/classic/neighbors.py``). Errors carry scikit-learn's messages.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradschool.classic import distances as D
from gradschool.classic.neighbors import KNeighborsClassifier, KNeighborsRegressor

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def sk(monkeypatch):
    """``sklearn.neighbors``, its brute-force search made to scan the training rows in order
    (one pass per test row, ``strategy='parallel_on_X'``) on one OpenMP thread."""
    neighbors = pytest.importorskip("sklearn.neighbors")
    from sklearn.neighbors import _base
    from threadpoolctl import threadpool_limits

    class OneScan(_base.ArgKmin):
        @classmethod
        def compute(cls, *args, **kwargs):
            kwargs["strategy"] = "parallel_on_X"
            return super().compute(*args, **kwargs)

    monkeypatch.setattr(_base, "ArgKmin", OneScan)
    with threadpool_limits(1, user_api="openmp"):
        yield neighbors


def tie_data(seed: int, n: int = 120, m: int = 40, d: int = 2, classes: int = 4):
    """Integer points on a tiny grid: many duplicates and equidistant neighbours, and
    distances computed exactly (so equal means equal, in any order of summation)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(n, d)).astype(np.float64)
    Q = rng.integers(0, 3, size=(m, d)).astype(np.float64)
    y = rng.integers(0, classes, size=n)
    return X, y, Q


def assert_same_neighbors(ours, theirs, Q, k):
    d1, i1 = ours.kneighbors(Q, n_neighbors=k)
    d2, i2 = theirs.kneighbors(Q, n_neighbors=k)
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(i1, i2)


# --------------------------------------------------------------------------- distances


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_three_implementations_agree(metric):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((23, 17))
    Y = np.concatenate([rng.standard_normal((30, 17)), X[:5]])  # exact duplicates too
    two, one, none = (
        getattr(D, f"{metric}_distances_{how}")(X, Y)
        for how in ("two_loops", "one_loop", "no_loops")
    )
    assert two.shape == (23, 35) and two.dtype == np.float64
    np.testing.assert_allclose(one, two, rtol=0, atol=1e-6)
    np.testing.assert_allclose(none, two, rtol=0, atol=1e-6)
    p = 1 if metric == "l1" else 2
    for chunk in (None, 1, 4, 100):
        np.testing.assert_allclose(
            D.pairwise_distances(X, Y, p=p, chunk_size=chunk), two, atol=1e-6
        )


def test_distances_match_sklearn_and_clip_at_zero():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, size=(40, 784)).astype(np.float64)  # pixel-sized norms
    Y = np.concatenate([X[:10], rng.integers(0, 256, size=(50, 784))]).astype(np.float64)
    for p, name in ((1, "manhattan"), (2, "euclidean")):
        np.testing.assert_allclose(
            D.pairwise_distances(X, Y, p=p),
            metrics.pairwise_distances(X, Y, metric=name),
            rtol=1e-12,
        )
    sq = D.squared_l2_distances(X + 0.1, Y + 0.1)  # cancellation: no negatives, no NaN
    assert sq.min() >= 0 and not np.isnan(D.l2_distances_no_loops(X + 0.1, Y)).any()
    assert np.all(np.diag(D.l2_distances_no_loops(X, Y[:10])) == 0)  # integers: exact


def test_pairwise_distances_blocks_and_dtype(monkeypatch):
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((50, 9)), rng.standard_normal((70, 9))
    full = D.l2_distances_no_loops(X, Y)
    monkeypatch.setattr(D, "WORKING_MEMORY", 24 * 70 * 8)  # 8 rows a block
    blocks = list(D.pairwise_distances_chunked(X, Y))
    assert [b.shape[0] for b in blocks] == [8] * 6 + [2]
    np.testing.assert_allclose(np.concatenate(blocks), full, atol=1e-12)
    np.testing.assert_allclose(D.pairwise_distances(X, Y, p=1), D.l1_distances_one_loop(X, Y))
    f32 = D.pairwise_distances(X, Y, dtype=np.float32)
    assert f32.dtype == np.float32 and np.allclose(f32, full, rtol=1e-6)
    np.testing.assert_allclose(D.pairwise_distances(X), D.l2_distances_no_loops(X, X), atol=1e-6)


def test_distance_errors():
    with pytest.raises(ValueError, match=r"same number of features.*\(3, 4\).*\(5, 2\)"):
        D.l2_distances_no_loops(np.zeros((3, 4)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="2-D arrays"):
        D.l1_distances_one_loop(np.zeros(4), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="p must be 1 .* or 2"):
        D.pairwise_distances(np.zeros((3, 4)), p=3)
    with pytest.raises(ValueError, match="chunk_size must be a positive int"):
        D.pairwise_distances(np.zeros((3, 4)), chunk_size=0)


# --------------------------------------------------------------------------- vs scikit-learn


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_classifier_equals_sklearn_with_ties(sk, seed, p, weights):
    X, y, Q = tie_data(seed, d=2 + seed % 2)
    labels = np.array(["ankle boot", "bag", "coat", "dress"])[y]  # any sortable labels
    for k in (1, 2, 5, 9, 16):
        ours = KNeighborsClassifier(k, weights=weights, p=p, chunk_size=7).fit(X, labels)
        theirs = sk.KNeighborsClassifier(k, weights=weights, p=p, algorithm="brute").fit(X, labels)
        np.testing.assert_array_equal(ours.predict(Q), theirs.predict(Q))
        np.testing.assert_array_equal(ours.predict_proba(Q), theirs.predict_proba(Q))
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        assert ours.score(Q, labels[:40]) == theirs.score(Q, labels[:40])
        if k <= 15:  # beyond, scikit-learn orders equal distances by introsort (same set)
            assert_same_neighbors(ours, theirs, Q, k)
        else:
            d1, i1 = ours.kneighbors(Q)
            d2, i2 = theirs.kneighbors(Q)
            np.testing.assert_array_equal(d1, d2)
            np.testing.assert_array_equal(np.sort(i1, axis=1), np.sort(i2, axis=1))


@pytest.mark.parametrize("grid, d", [(3, 1), (3, 4), (256, 4)])
def test_large_training_set_equals_sklearn(sk, monkeypatch, grid, d):
    # >= 4096 training rows: the candidate pre-selection (``_candidates``) runs; with only 3
    # distinct points, so many tie that it gives up and whole rows are searched instead
    from gradschool.classic import neighbors

    rng = np.random.default_rng(grid)
    X = rng.integers(0, grid, size=(5000, d)).astype(np.float64)
    y = rng.integers(0, 3, size=5000)
    Q = rng.integers(0, grid, size=(30, d)).astype(np.float64)
    narrowed = []
    original = neighbors._candidates

    def spy(block, k):
        values, columns = original(block, k)
        narrowed.append(columns is not None)
        return values, columns

    monkeypatch.setattr(neighbors, "_candidates", spy)
    for k, weights in ((1, "uniform"), (7, "distance"), (12, "uniform")):
        ours = KNeighborsClassifier(k, weights=weights).fit(X, y)
        theirs = sk.KNeighborsClassifier(k, weights=weights, algorithm="brute").fit(X, y)
        np.testing.assert_array_equal(ours.predict_proba(Q), theirs.predict_proba(Q))
        np.testing.assert_array_equal(ours.predict(Q), theirs.predict(Q))
        assert_same_neighbors(ours, theirs, Q, k)
    assert all(narrowed) if d > 1 else not any(narrowed)


def test_leave_one_out_neighbors_equal_sklearn(sk):
    X, y, _ = tie_data(3, n=60)
    for k in (1, 4, 8):
        d1, i1 = KNeighborsClassifier(k).fit(X, y).kneighbors()
        d2, i2 = sk.KNeighborsClassifier(k, algorithm="brute").fit(X, y).kneighbors()
        np.testing.assert_array_equal(d1, d2)
        np.testing.assert_array_equal(i1, i2)
    a = KNeighborsClassifier(3, weights="distance").fit(X, y).predict(None)
    np.testing.assert_array_equal(
        a, sk.KNeighborsClassifier(3, weights="distance").fit(X, y).predict(None)
    )


def test_zero_distance_neighbors_outvote_the_rest(sk):
    X = np.array([[0.0], [1.0], [1.0], [1.0], [5.0]])
    y = np.array([7, 3, 3, 3, 7])
    Q = np.array([[0.0], [0.9]])
    ours = KNeighborsClassifier(4, weights="distance").fit(X, y)
    theirs = sk.KNeighborsClassifier(4, weights="distance").fit(X, y)
    np.testing.assert_array_equal(ours.predict(Q), [7, 3])  # the exact match wins alone
    np.testing.assert_array_equal(ours.predict_proba(Q)[0], [0.0, 1.0])
    np.testing.assert_array_equal(ours.predict_proba(Q), theirs.predict_proba(Q))
    # a tie between classes goes to the smallest label
    assert KNeighborsClassifier(2).fit([[0.0], [2.0]], [9, 4]).predict([[1.0]])[0] == 4


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_regressor_equals_sklearn(sk, weights):
    X, _, Q = tie_data(4, d=3)
    rng = np.random.default_rng(4)
    Y = rng.standard_normal((len(X), 2))
    for p in (1, 2):
        for k in (1, 3, 8):
            for target in (Y[:, 0], Y):
                ours = KNeighborsRegressor(k, weights=weights, p=p).fit(X, target)
                theirs = sk.KNeighborsRegressor(k, weights=weights, p=p, algorithm="brute")
                theirs.fit(X, target)
                np.testing.assert_array_equal(ours.predict(Q), theirs.predict(Q))
                truth = target[: len(Q)]
                assert ours.score(Q, truth) == pytest.approx(theirs.score(Q, truth), abs=1e-12)
    constant = KNeighborsRegressor(1).fit(X, np.ones(len(X)))
    assert constant.score(Q, np.ones(len(Q))) == 1.0


@functools.cache
def _fashion_arrays():
    from gradschool.data.datasets import FashionMNIST

    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    return train.data, np.asarray(train.targets), test.data, np.asarray(test.targets)


def _fashion(n_train, n_test):
    """The first training and test images as float64 rows of pixel values 0..255."""
    X, y, Q, yq = _fashion_arrays()
    return (
        X[:n_train].reshape(n_train, -1).astype(np.float64),
        y[:n_train],
        Q[:n_test].reshape(n_test, -1).astype(np.float64),
        yq[:n_test],
    )


@pytest.mark.skipif(not FASHION.exists(), reason="Fashion-MNIST files not installed")
@pytest.mark.parametrize("p", [1, 2])
def test_classifier_equals_sklearn_on_fashion_mnist(sk, p):
    # L1 has no GEMM (here, nor in scikit-learn): a smaller subset keeps the test fast
    X, y, Q, yq = _fashion(2000, 300) if p == 2 else _fashion(1000, 100)
    for weights in ("uniform", "distance"):
        ours = KNeighborsClassifier(weights=weights, p=p).fit(X, y)
        theirs = sk.KNeighborsClassifier(weights=weights, p=p, algorithm="brute").fit(X, y)
        for k in (1, 5, 9):
            ours.set_params(n_neighbors=k)
            theirs.set_params(n_neighbors=k)
            pred = ours.predict(Q)
            np.testing.assert_array_equal(pred, theirs.predict(Q))
            assert ours.score(Q, yq) == theirs.score(Q, yq) > 0.6
    assert_same_neighbors(ours, theirs, Q, 9)


# --------------------------------------------------------------------------- errors, API


def test_errors_read_like_sklearn():
    X, y = np.zeros((10, 784)), np.arange(10) % 2
    with pytest.raises(
        ValueError,
        match=r"^This KNeighborsClassifier instance is not fitted yet\. Call 'fit' with appropriate arguments before using this estimator\.$",
    ):
        KNeighborsClassifier().predict(X)
    with pytest.raises(AttributeError, match="not fitted yet"):
        KNeighborsRegressor().kneighbors(X)
    knn = KNeighborsClassifier(11).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"^X has 10 features, but KNeighborsClassifier is expecting 784 features as input\.$",
    ):
        knn.predict(np.zeros((3, 10)))
    with pytest.raises(
        ValueError,
        match=r"^Expected n_neighbors <= n_samples_fit, but n_neighbors = 11, n_samples_fit = 10, n_samples = 3$",
    ):
        knn.predict(np.zeros((3, 784)))
    with pytest.raises(
        ValueError, match="Expected n_neighbors < n_samples_fit, but n_neighbors = 10"
    ):
        knn.kneighbors(n_neighbors=10)
    with pytest.raises(ValueError, match=r"Expected n_neighbors > 0\. Got 0"):
        knn.kneighbors(X, n_neighbors=0)
    with pytest.raises(TypeError, match="n_neighbors does not take"):
        knn.kneighbors(X, n_neighbors=2.0)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(
            ValueError,
            match=r"'n_neighbors' parameter of KNeighborsClassifier must be an int in the range \[1, inf\)",
        ):
            KNeighborsClassifier(bad).fit(X, y)
    with pytest.raises(ValueError, match="'p' parameter of KNeighborsRegressor must be 1 .* or 2"):
        KNeighborsRegressor(p=3).fit(X, y)
    with pytest.raises(ValueError, match="'weights' parameter"):
        KNeighborsClassifier(weights="inverse").fit(X, y)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[10, 9\]"):
        KNeighborsClassifier().fit(X, y[:9])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        KNeighborsClassifier(1).fit(X, y).predict(np.zeros(784))
    with pytest.raises(ValueError, match="Invalid parameter 'k'"):
        KNeighborsClassifier().set_params(k=3)


def test_estimator_api():
    import gradschool as gs

    knn = KNeighborsClassifier(3, weights="distance")
    assert knn.get_params() == {"n_neighbors": 3, "weights": "distance", "p": 2, "chunk_size": None}
    assert repr(knn) == "KNeighborsClassifier(n_neighbors=3, weights='distance')"
    X = np.array([[0, 0], [0, 1], [5, 5], [5, 6]], dtype=np.float32)
    assert knn.fit(gs.tensor(X), gs.tensor([0, 0, 1, 1])) is knn  # Tensors via np.asarray
    assert (
        knn.n_features_in_ == 2 and knn.n_samples_fit_ == 4 and knn.effective_metric_ == "euclidean"
    )
    np.testing.assert_array_equal(knn.predict(gs.tensor([[1.0, 1.0], [4.0, 4.0]])), [0, 1])
    # weights as a function of the distances, as in scikit-learn
    w = KNeighborsRegressor(2, weights=lambda d: np.exp(-d)).fit(X, [0.0, 1.0, 2.0, 3.0])
    assert w.predict([[0.0, 0.0]])[0] == pytest.approx(np.exp(-1.0) / (1 + np.exp(-1.0)))


def test_imports_numpy_only():
    code = (
        "import sys, gradschool.classic.neighbors, gradschool.classic.distances; "
        "print(sorted(m for m in ('sklearn', 'scipy', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
