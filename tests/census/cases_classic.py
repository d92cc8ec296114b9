"""Census rows for ``gradschool.classic`` (scikit-learn's conventions): fit with mismatched
X and y, predict before fit, hyperparameters out of range, distances and features given the
wrong shapes, and model selection given impossible splits."""

from __future__ import annotations

import numpy as np

import gradschool.classic as C
from gradschool.classic import NotFittedError

from .rows import table

RNG = np.random.default_rng(0)
X = RNG.random((20, 4))
Y = np.arange(20) % 2
YR = RNG.random(20)
NOT_FITTED = (NotFittedError,)  # a ValueError and an AttributeError, as scikit-learn's


def knn(**kw: object) -> C.KNeighborsClassifier:
    return C.KNeighborsClassifier(**kw)


ESTIMATORS = table(
    "classic: estimators",
    ("kNN k 0", lambda: knn(n_neighbors=0).fit(X, Y), ("'n_neighbors'", "Got 0")),
    (
        "kNN k > samples",
        lambda: knn(n_neighbors=50).fit(X, Y).predict(X),
        ("n_neighbors = 50", "20"),
    ),
    ("kNN predict before fit", lambda: knn().predict(X), ("not fitted", "fit"), NOT_FITTED),
    ("kNN X and y lengths", lambda: knn().fit(X, Y[:5]), ("inconsistent", "[20, 5]")),
    ("kNN fewer features", lambda: knn(n_neighbors=3).fit(X, Y).predict(X[:, :3]), "3 features"),
    ("kNN weights 'x'", lambda: knn(weights="x").fit(X, Y), ("'weights'", "'x'")),
    ("kNN 1-d X", lambda: knn().fit(X[:, 0], Y), ("Expected 2D", "1D")),
    ("kNN NaN X", lambda: knn().fit(np.full((20, 4), np.nan), Y), ("NaN",)),
    ("kNN string X", lambda: knn().fit(np.array([["a"]] * 20), Y), ("numeric", "'a'")),
    ("kNN no samples", lambda: knn().fit(np.zeros((0, 4)), np.zeros(0)), ("0 sample", "minimum")),
    ("kNN 2-d y", lambda: knn().fit(X, np.zeros((20, 2))), ("1d", "(20, 2)")),
    (
        "kNN regressor predict before fit",
        lambda: C.KNeighborsRegressor().predict(X),
        ("KNeighborsRegressor", "not fitted"),
        NOT_FITTED,
    ),
    ("LinearSVM before fit", lambda: C.LinearSVM().predict(X), ("LinearSVM", "fit"), NOT_FITTED),
    ("LinearSVM X and y", lambda: C.LinearSVM().fit(X, Y[:3]), ("inconsistent", "[20, 3]")),
    ("LinearSVM lr < 0", lambda: C.LinearSVM(learning_rate=-1).fit(X, Y), "learning_rate"),
    ("LinearSVM reg < 0", lambda: C.LinearSVM(reg=-1).fit(X, Y), ("LinearSVM", "reg", "-1")),
    ("LinearSVM 0 iterations", lambda: C.LinearSVM(num_iters=0).fit(X, Y), ("num_iters", "0")),
    ("LinearSVM batch 0", lambda: C.LinearSVM(batch_size=0).fit(X, Y), ("batch_size", "0")),
    (
        "LinearSVM fewer features",
        lambda: C.LinearSVM(num_iters=5).fit(X, Y).predict(X[:, :2]),
        ("2 features", "LinearSVM", "4"),
    ),
    (
        "Softmax one class",
        lambda: C.SoftmaxClassifier(num_iters=5).fit(X, np.zeros(20, int)),
        ("SoftmaxClassifier", "2 classes"),
    ),
    ("Softmax penalty l3", lambda: C.SoftmaxClassifier(penalty="l3").fit(X, Y), "'l3'"),
    (
        "LinearRegression before fit",
        lambda: C.LinearRegression().predict(X),
        ("LinearRegression", "not fitted"),
        NOT_FITTED,
    ),
    ("LinearRegression X and y", lambda: C.LinearRegression().fit(X, YR[:4]), "[20, 4]"),
    (
        "LinearRegression fewer features",
        lambda: C.LinearRegression().fit(X, YR).predict(X[:, :1]),
        ("1 features", "4"),
    ),
    ("Ridge alpha < 0", lambda: C.Ridge(alpha=-1).fit(X, YR), ("'alpha'", "Ridge", "-1")),
    ("Lasso alpha < 0", lambda: C.Lasso(alpha=-1).fit(X, YR), ("'alpha'", "Lasso")),
    ("Lasso max_iter 0", lambda: C.Lasso(max_iter=0).fit(X, YR), ("'max_iter'", "Got 0")),
    ("LogisticRegression C 0", lambda: C.LogisticRegression(C=0).fit(X, Y), ("'C'", "> 0")),
    (
        "LogisticRegression one class",
        lambda: C.LogisticRegression().fit(X, np.zeros(20)),
        ("2 classes", "only one class"),
    ),
    (
        "LogisticRegression continuous y",
        lambda: C.LogisticRegression().fit(X, YR),
        ("LogisticRegression", "continuous"),
    ),
    (
        "predict_proba before fit",
        lambda: C.LogisticRegression().predict_proba(X),
        ("LogisticRegression", "not fitted"),
        NOT_FITTED,
    ),
    ("SGDClassifier loss 'x'", lambda: C.SGDClassifier(loss="x").fit(X, Y), ("'loss'", "'x'")),
    ("SGDClassifier alpha < 0", lambda: C.SGDClassifier(alpha=-1).fit(X, Y), ("'alpha'", "-1")),
    (
        "SGDClassifier eta0 0",
        lambda: C.SGDClassifier(learning_rate="constant", eta0=0).fit(X, Y),
        ("'eta0'", "Got 0"),
    ),
    (
        "StandardScaler before fit",
        lambda: C.StandardScaler().transform(X),
        ("StandardScaler", "not fitted"),
        NOT_FITTED,
    ),
    (
        "StandardScaler fewer features",
        lambda: C.StandardScaler().fit(X).transform(X[:, :2]),
        ("2 features", "StandardScaler", "4"),
    ),
    ("StandardScaler 1-d", lambda: C.StandardScaler().fit(X[:, 0]), "Expected 2D"),
    ("PolynomialFeatures -1", lambda: C.PolynomialFeatures(degree=-1).fit(X), ("degree", "-1")),
    (
        "PolynomialFeatures before fit",
        lambda: C.PolynomialFeatures().transform(X),
        "not fitted",
        NOT_FITTED,
    ),
    ("r2_score lengths", lambda: C.r2_score([1, 2], [1]), ("r2_score", "[2, 1]")),
    ("check_X_y lengths", lambda: C.check_X_y(X, Y[:2]), ("inconsistent", "[20, 2]")),
    ("check_array 3-d", lambda: C.check_array(np.zeros((2, 2, 2))), ("dim 3", "flatten")),
    ("check_array inf", lambda: C.check_array(np.array([[np.inf]])), "infinity"),
)

FEATURES = table(
    "classic: distances and features",
    ("svm_loss W rows", lambda: C.svm_loss_vectorized(np.zeros((3, 2)), X, Y, 0.1), "bias trick"),
    ("svm_loss labels 5..6", lambda: C.svm_loss_naive(np.zeros((4, 2)), X, Y + 5, 0.1), "[0, 1]"),
    (
        "softmax_loss float labels",
        lambda: C.softmax_loss_vectorized(np.zeros((4, 2)), X, YR, 0.1),
        ("softmax_loss_vectorized", "float64"),
    ),
    ("l2 two loops columns", lambda: C.l2_distances_two_loops(X, X[:, :2]), ("columns", "2")),
    ("l2 no loops of a row", lambda: C.l2_distances_no_loops(X[0], X), ("2-D", "(4,)")),
    ("l1 one loop columns", lambda: C.l1_distances_one_loop(X, X[:, :3]), "l1_distances_one_loop"),
    ("chunk size 0", lambda: list(C.pairwise_distances_chunked(X, X, chunk_size=0)), "chunk_size"),
    ("hog of a vector", lambda: C.hog_feature(np.zeros(10)), ("hog_feature", "(10,)")),
    ("hog cell 0", lambda: C.hog_feature(np.zeros((8, 8)), cell_size=0), ("cell_size", "got 0")),
    ("hog cell 16 in 8x8", lambda: C.hog_feature(np.zeros((8, 8)), cell_size=16), "16x16"),
    ("colour histogram 0 bins", lambda: C.color_histogram_hsv(np.zeros((8, 8, 3)), nbin=0), "nbin"),
)

SELECTION = table(
    "classic: model selection",
    ("split test_size 1.5", lambda: C.train_test_split(X, Y, test_size=1.5), "test_size=1.5"),
    ("split test_size 0", lambda: C.train_test_split(X, Y, test_size=0), ("test_size=0", "20")),
    ("split test_size 30", lambda: C.train_test_split(X, Y, test_size=30), ("test_size=30", "19")),
    ("split lengths", lambda: C.train_test_split(X, Y[:3]), ("train_test_split", "[20, 3]")),
    (
        "split stratify a singleton",
        lambda: C.train_test_split(X, Y, stratify=np.r_[np.zeros(19), 1]),
        ("stratify", "only 1 member"),
    ),
    ("split nothing", lambda: C.train_test_split(), ("train_test_split", "at least one array")),
    ("KFold 1 split", lambda: C.KFold(n_splits=1), ("KFold", "at least 2", "1")),
    ("KFold 50 of 20", lambda: list(C.KFold(n_splits=50).split(X)), ("20 samples", "50")),
    ("KFold seed without shuffle", lambda: C.KFold(3, random_state=0), ("random_state", "shuffle")),
    (
        "cross_val_score lengths",
        lambda: C.cross_val_score(C.Ridge(), X, YR[:5]),
        ("cross_val_score", "[20, 5]"),
    ),
    ("cross_val_score scoring", lambda: C.cross_val_score(C.Ridge(), X, YR, scoring="x"), "'x'"),
    ("grid of no values", lambda: C.ParameterGrid({"a": []}), ("param_grid", "'a'", "empty")),
    ("grid of a string", lambda: C.ParameterGrid({"a": "abc"}), ("'a'", "['abc']")),
    (
        "grid search unknown parameter",
        lambda: C.GridSearchCV(C.Ridge(), {"beta": [1]}, cv=2).fit(X, YR),
        ("Ridge", "'beta'", "alpha"),
    ),
    (
        "grid search predict before fit",
        lambda: C.GridSearchCV(C.Ridge(), {"alpha": [1]}).predict(X),
        ("GridSearchCV.predict", "fit"),
        NOT_FITTED,
    ),
    (
        "random search 0 iterations",
        lambda: C.RandomizedSearchCV(C.Ridge(), {"alpha": [1]}, n_iter=0).fit(X, YR),
        ("n_iter", "got 0"),
    ),
    ("sampler of a number", lambda: list(C.ParameterSampler({"a": 3}, 2)), ("'a'", "got 3")),
    ("loguniform from 0", lambda: C.loguniform(0, 1), ("loguniform", "a=0")),
    ("uniform reversed", lambda: C.uniform(1, -1), ("uniform", "a=1", "b=-1")),
    ("randint reversed", lambda: C.randint(5, 1), ("randint", "5, 1")),
    ("random_state 'x'", lambda: C.check_random_state("x"), ("random_state", "'x'")),
    ("set_params unknown", lambda: C.set_params(C.Ridge(), beta=1), ("Ridge", "'beta'")),
)

CASES = ESTIMATORS + FEATURES + SELECTION
