"""Splits, folds, cross-validation and searches against scikit-learn's: the same settings give
the same indices, the same scores and the same best parameters; parallel runs give the same
results as serial ones; duck-typed estimators are cloned through their __init__ signature."""

import functools

import numpy as np
import pytest

from gradschool.classic.model_selection import (
    GridSearchCV,
    KFold,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
    StratifiedKFold,
    clone,
    cross_val_score,
    get_params,
    loguniform,
    randint,
    set_params,
    train_test_split,
    uniform,
)


# ----------------------------------------------------------------- tiny estimators (picklable)
class NearestCentroid:
    """Predict the class whose mean is nearest; ``shrink`` pulls the means to the overall mean.
    Plain class: no get_params, only scikit-learn's convention of storing __init__ args."""

    def __init__(self, shrink=0.0):
        self.shrink = shrink

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        centre = X.mean(axis=0)
        means = np.array([X[y == c].mean(axis=0) for c in self.classes_])
        self.centroids_ = (1 - self.shrink) * means + self.shrink * centre
        return self

    def predict(self, X):
        d = ((X[:, None, :] - self.centroids_[None]) ** 2).sum(-1)
        return self.classes_[d.argmin(1)]

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y))


class Stump:
    """``X[:, feature] > threshold`` as the class: the best parameters are known."""

    def __init__(self, feature=0, threshold=0.5):
        self.feature = feature
        self.threshold = threshold

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict(self, X):
        return (X[:, self.feature] > self.threshold).astype(int)

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y))


@functools.cache
def sk():
    """scikit-learn, imported here rather than at the top: the worker processes of the n_jobs
    tests import this module, and need not pay for importing scikit-learn."""
    from sklearn import model_selection
    from sklearn.base import BaseEstimator, ClassifierMixin

    class SkNearestCentroid(ClassifierMixin, BaseEstimator, NearestCentroid):
        """The same estimator, made a scikit-learn citizen for the comparisons."""

    class SkStump(ClassifierMixin, BaseEstimator, Stump):
        pass

    model_selection.SkNearestCentroid = SkNearestCentroid
    model_selection.SkStump = SkStump
    return model_selection


def _blobs(n=90, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 2)) + np.array([[0, 0], [2.0, 0], [0, 2.0]])[y]
    return X, y


def _stump_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2))
    return X, (X[:, 1] > 0.6).astype(int)


# ----------------------------------------------------------------- train_test_split
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"test_size": 0.3, "random_state": 1},
        {"test_size": 7, "random_state": 2},
        {"train_size": 0.5, "random_state": 3},
        {"train_size": 20, "test_size": 0.25, "random_state": 4},
        {"shuffle": False, "test_size": 0.2},
        {"shuffle": False, "train_size": 11},
        {"test_size": 0.2, "random_state": 0, "stratify": True},
    ],
)
def test_train_test_split_matches_sklearn(kw):
    X, y = _blobs(47)
    if kw.get("stratify"):
        kw = dict(kw, stratify=y)
    ours = train_test_split(X, y, **kw)
    if "random_state" not in kw and kw.get("shuffle", True):  # random: sizes and disjointness
        theirs = sk().train_test_split(X, y, **kw)
        assert [a.shape for a in ours] == [a.shape for a in theirs]
        rows = {tuple(r) for r in ours[0]} | {tuple(r) for r in ours[1]}
        assert len(rows) == len(X)
        return
    theirs = sk().train_test_split(X, y, **kw)
    assert len(ours) == 4
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_train_test_split_shuffled_sizes_disjoint_and_lists():
    X = np.arange(100)
    names = [f"s{i}" for i in range(100)]
    a, b, na, nb = train_test_split(X, names, test_size=0.33, random_state=None)
    assert len(a) == 67 and len(b) == 33 and isinstance(na, list)
    assert set(a).isdisjoint(b) and set(a) | set(b) == set(range(100))
    assert na == [f"s{i}" for i in a]
    # stratified: class shares kept on both sides
    y = np.repeat([0, 1, 2], [50, 30, 20])
    _, _, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=5)
    assert np.bincount(yte).tolist() == [10, 6, 4] and np.bincount(ytr).tolist() == [40, 24, 16]


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"test_size": 1.5}, "fraction in"),
        ({"test_size": 100}, "count between 1 and 9"),
        ({"test_size": 0.6, "train_size": 0.6}, "more than 1"),
        ({"test_size": 5, "train_size": 6}, "more than the 10"),
        ({"shuffle": False, "stratify": [0, 1] * 5}, "stratify needs shuffle"),
    ],
)
def test_train_test_split_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        train_test_split(np.arange(10), **kw)


def test_train_test_split_inconsistent_lengths():
    with pytest.raises(ValueError, match=r"same number of samples, got \[10, 9\]"):
        train_test_split(np.arange(10), np.arange(9))


# ----------------------------------------------------------------- folds
@pytest.mark.parametrize("n,k", [(10, 3), (47, 5), (12, 12), (7, 2)])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("cls", ["KFold", "StratifiedKFold"])
def test_folds_match_sklearn(n, k, shuffle, cls):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 2))
    y = rng.permutation(np.arange(n) % 3)
    if cls == "StratifiedKFold" and np.bincount(y).min() < k:
        pytest.skip("a class smaller than n_splits (scikit-learn warns or refuses)")
    kw = {"n_splits": k, "shuffle": shuffle, "random_state": 3 if shuffle else None}
    ours = {"KFold": KFold, "StratifiedKFold": StratifiedKFold}[cls](**kw)
    theirs = getattr(sk(), cls)(**kw)
    assert ours.get_n_splits() == theirs.get_n_splits() == k
    pairs = list(zip(ours.split(X, y), theirs.split(X, y), strict=True))
    assert len(pairs) == k
    for (tr, te), (tr_sk, te_sk) in pairs:
        np.testing.assert_array_equal(tr, tr_sk)
        np.testing.assert_array_equal(te, te_sk)


def test_kfold_sizes_and_errors():
    sizes = [len(te) for _, te in KFold(3).split(np.zeros(10))]
    assert sizes == [4, 3, 3]
    with pytest.raises(ValueError, match="at least 2"):
        KFold(1)
    with pytest.raises(ValueError, match="no effect when shuffle=False"):
        KFold(3, random_state=0)
    with pytest.raises(ValueError, match="cannot cut 3 samples"):
        list(KFold(5).split(np.zeros(3)))
    with pytest.raises(ValueError, match="needs the labels"):
        list(StratifiedKFold(2).split(np.zeros(4)))


# ----------------------------------------------------------------- cross_val_score
@pytest.mark.parametrize("cv", [5, 3, "kfold", "shuffled"])
def test_cross_val_score_equals_sklearn(cv):
    X, y = _blobs(90)
    if cv == "kfold":
        cv = (KFold(4), sk().KFold(4))
    elif cv == "shuffled":
        cv = (KFold(4, shuffle=True, random_state=7), sk().KFold(4, shuffle=True, random_state=7))
    else:
        cv = (cv, cv)  # an int: stratified folds for classifiers, on both sides
    ours = cross_val_score(NearestCentroid(shrink=0.3), X, y, cv=cv[0])
    theirs = sk().cross_val_score(sk().SkNearestCentroid(shrink=0.3), X, y, cv=cv[1])
    np.testing.assert_allclose(ours, theirs)


def test_cross_val_score_takes_sklearn_estimators_folds_lists_and_scorers():
    from sklearn.linear_model import LogisticRegression

    X, y = _blobs(60)
    folds = list(sk().KFold(3).split(X))
    ours = cross_val_score(LogisticRegression(), X, y, cv=folds, scoring="accuracy")
    theirs = sk().cross_val_score(LogisticRegression(), X, y, cv=folds, scoring="accuracy")
    np.testing.assert_allclose(ours, theirs)
    custom = cross_val_score(Stump(1, 0.0), X, y, cv=3, scoring=lambda est, X_, y_: 0.25)
    assert custom.tolist() == [0.25] * 3
    with pytest.raises(ValueError, match="unknown scoring 'f2'"):
        cross_val_score(Stump(), X, y, scoring="f2")
    with pytest.raises(ValueError, match="cv must be an int"):
        cross_val_score(Stump(), X, y, cv="five")


# ----------------------------------------------------------------- clone and parameters
def test_clone_duck_typed_and_sklearn():
    est = NearestCentroid(shrink=0.2).fit(*_blobs(30))
    c = clone(est)
    assert type(c) is NearestCentroid and c.shrink == 0.2 and not hasattr(c, "centroids_")
    assert get_params(est) == {"shrink": 0.2}
    assert set_params(c, shrink=0.5).shrink == 0.5
    with pytest.raises(ValueError, match="no hyperparameter 'alpha'; it takes shrink"):
        set_params(c, alpha=1)
    twin = clone(sk().SkNearestCentroid(shrink=0.4))
    assert isinstance(twin, sk().SkNearestCentroid) and twin.shrink == 0.4
    search = clone(GridSearchCV(NearestCentroid(0.1), {"shrink": [0.0, 0.5]}, cv=3))
    assert search.estimator.shrink == 0.1 and search.param_grid == {"shrink": [0.0, 0.5]}

    class Forgetful:
        def __init__(self, k=3):
            self.kk = k

        def fit(self, X, y):
            return self

    with pytest.raises(TypeError, match=r"store each __init__ argument.*self\.k = k"):
        clone(Forgetful())


# ----------------------------------------------------------------- search spaces
def test_parameter_grid_order_matches_sklearn():
    grid = [{"b": [1, 2], "a": ["x", "y", "z"]}, {"c": [0.1]}]
    ours = list(ParameterGrid(grid))
    assert ours == list(sk().ParameterGrid(grid))
    assert len(ParameterGrid(grid)) == 7
    assert [ParameterGrid(grid)[i] for i in range(7)] == ours
    with pytest.raises(TypeError, match="write \\['abc'\\]"):
        ParameterGrid({"a": "abc"})


def test_distributions():
    rng = np.random.RandomState(0)
    x = loguniform(1e-4, 1e-1).rvs(size=20000, random_state=rng)
    assert x.min() >= 1e-4 and x.max() <= 1e-1
    # a quarter of the draws in each quarter of the log range
    counts = np.histogram(np.log10(x), bins=[-4, -3.25, -2.5, -1.75, -1])[0] / len(x)
    np.testing.assert_allclose(counts, 0.25, atol=0.02)
    u = uniform(2, 5).rvs(size=1000, random_state=1)
    assert 2 <= u.min() and u.max() <= 5 and abs(u.mean() - 3.5) < 0.1
    r = randint(1, 4).rvs(size=1000, random_state=2)
    assert set(r.tolist()) == {1, 2, 3}
    assert isinstance(loguniform(1, 10).rvs(random_state=3), float)
    with pytest.raises(ValueError, match="0 < a < b"):
        loguniform(0, 1)


def test_parameter_sampler():
    lists = list(ParameterSampler({"a": [1, 2, 3], "b": [4, 5]}, n_iter=10, random_state=0))
    assert len(lists) == 6 and len({tuple(sorted(d.items())) for d in lists}) == 6
    draws = list(ParameterSampler({"lr": loguniform(1e-3, 1), "k": [1, 2]}, 5, random_state=0))
    assert len(draws) == 5 and all(1e-3 <= d["lr"] <= 1 and d["k"] in (1, 2) for d in draws)
    again = list(ParameterSampler({"lr": loguniform(1e-3, 1), "k": [1, 2]}, 5, random_state=0))
    assert draws == again


# ----------------------------------------------------------------- the searches
def test_grid_search_finds_the_best_and_matches_sklearn():
    X, y = _stump_data()
    grid = {"feature": [0, 1], "threshold": [0.2, 0.4, 0.6, 0.8]}
    ours = GridSearchCV(Stump(), grid, cv=4).fit(X, y)
    theirs = sk().GridSearchCV(sk().SkStump(), grid, cv=4).fit(X, y)
    assert ours.best_params_ == theirs.best_params_ == {"feature": 1, "threshold": 0.6}
    assert ours.best_score_ == theirs.best_score_ == 1.0
    assert ours.cv_results_["params"] == theirs.cv_results_["params"]
    for key in ("mean_test_score", "std_test_score", "rank_test_score", "split0_test_score"):
        np.testing.assert_allclose(ours.cv_results_[key], theirs.cv_results_[key], err_msg=key)
    assert ours.cv_results_["rank_test_score"].dtype == np.int32
    assert list(ours.cv_results_["param_threshold"]) == list(theirs.cv_results_["param_threshold"])
    assert isinstance(ours.best_estimator_, Stump) and ours.best_estimator_.threshold == 0.6
    assert ours.score(X, y) == 1.0 and (ours.predict(X) == y).all()


def test_grid_search_ranks_ties_as_sklearn():
    X, y = _blobs(60)
    grid = {"shrink": [0.0, 0.0001, 0.5, 0.9, 1.0]}
    ours = GridSearchCV(NearestCentroid(), grid, cv=3).fit(X, y)
    theirs = sk().GridSearchCV(sk().SkNearestCentroid(), grid, cv=3).fit(X, y)
    np.testing.assert_array_equal(
        ours.cv_results_["rank_test_score"], theirs.cv_results_["rank_test_score"]
    )
    assert ours.best_index_ == theirs.best_index_


def test_randomized_search_finds_the_threshold():
    X, y = _stump_data(300, seed=1)
    keep = np.abs(X[:, 1] - 0.6) > 0.1  # a margin: any threshold in [0.5, 0.7] is perfect
    X, y = X[keep], y[keep]
    search = RandomizedSearchCV(
        Stump(), {"feature": [0, 1], "threshold": uniform(0, 1)}, n_iter=40, cv=3, random_state=0
    ).fit(X, y)
    assert search.best_params_["feature"] == 1
    assert 0.5 <= search.best_params_["threshold"] <= 0.7 and search.best_score_ == 1.0
    assert len(search.cv_results_["params"]) == 40
    assert search.cv_results_["rank_test_score"].min() == 1
    with pytest.raises(AttributeError, match="refit=True"):
        RandomizedSearchCV(Stump(), {"threshold": [0.5]}, n_iter=1, cv=2, refit=False).fit(
            X, y
        ).predict(X)


def test_parallel_search_equals_serial():
    X, y = _blobs(80, seed=3)
    space = {"shrink": loguniform(1e-3, 1.0)}
    serial = RandomizedSearchCV(NearestCentroid(), space, n_iter=6, cv=3, random_state=0)
    parallel = RandomizedSearchCV(
        NearestCentroid(), space, n_iter=6, cv=3, random_state=0, n_jobs=2
    )
    serial.fit(X, y)
    parallel.fit(X, y)
    assert serial.best_params_ == parallel.best_params_
    assert serial.cv_results_["params"] == parallel.cv_results_["params"]
    for key in ("mean_test_score", "split2_test_score", "rank_test_score"):
        np.testing.assert_array_equal(serial.cv_results_[key], parallel.cv_results_[key])
    np.testing.assert_array_equal(
        cross_val_score(NearestCentroid(0.2), X, y, cv=4, n_jobs=2),
        cross_val_score(NearestCentroid(0.2), X, y, cv=4),
    )
