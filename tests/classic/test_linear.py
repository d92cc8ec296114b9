"""Linear classifiers (CS231n L3), linear models and preprocessing, against scikit-learn.

The losses: naive == vectorised, analytic == numerical gradients, the initial-loss sanity
checks. The estimators: coefficients and scores equal to scikit-learn's on real data
(diabetes, digits, a Fashion-MNIST subset when its files are installed), and its errors.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn import linear_model as sk_lm  # noqa: E402
from sklearn import preprocessing as sk_pre  # noqa: E402
from sklearn.datasets import load_diabetes, load_digits  # noqa: E402

from gradschool.classic.linear_classifier import (  # noqa: E402
    LinearSVM,
    SoftmaxClassifier,
    softmax_loss_naive,
    softmax_loss_vectorized,
    svm_loss_naive,
    svm_loss_vectorized,
)
from gradschool.classic.linear_model import (  # noqa: E402
    ConvergenceWarning,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
    r2_score,
)
from gradschool.classic.preprocessing import (  # noqa: E402
    NotFittedError,
    PolynomialFeatures,
    StandardScaler,
)
from gradschool.testing import numerical_gradient, rel_error  # noqa: E402

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # scikit-learn's OpenMP loops slow down a hundredfold on a busy machine (threads that
    # spin for cores other processes hold); these problems are small, one thread is fastest
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return sk_pre.StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def _problem(n=40, d=12, c=5, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((d, c)) * 0.1
    X = rng.standard_normal((n, d))
    y = rng.integers(0, c, size=n)
    return W, X, y


# --------------------------------------------------------------------------- losses

SVM_VARIANTS = [
    {},
    {"delta": 2.5},
    {"squared": True},
    {"penalty": "l1"},
    {"squared": True, "penalty": "l1", "delta": 0.5},
]


@pytest.mark.parametrize("kw", SVM_VARIANTS)
def test_svm_naive_equals_vectorized(kw):
    W, X, y = _problem()
    loss_n, dW_n = svm_loss_naive(W, X, y, 0.1, **kw)
    loss_v, dW_v = svm_loss_vectorized(W, X, y, 0.1, **kw)
    assert abs(loss_n - loss_v) < 1e-12
    assert np.abs(dW_n - dW_v).max() < 1e-12


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_softmax_naive_equals_vectorized(penalty):
    W, X, y = _problem(seed=1)
    loss_n, dW_n = softmax_loss_naive(W, X, y, 0.1, penalty=penalty)
    loss_v, dW_v = softmax_loss_vectorized(W, X, y, 0.1, penalty=penalty)
    assert abs(loss_n - loss_v) < 1e-12
    assert np.abs(dW_n - dW_v).max() < 1e-12


@pytest.mark.parametrize(
    "loss, kw",
    [(svm_loss_vectorized, v) for v in SVM_VARIANTS]
    + [(svm_loss_naive, {}), (softmax_loss_vectorized, {}), (softmax_loss_naive, {})]
    + [(softmax_loss_vectorized, {"penalty": "l1"})],
)
def test_loss_gradients_match_numerical(loss, kw):
    W, X, y = _problem(n=20, d=8, c=4, seed=2)
    _, dW = loss(W, X, y, 0.05, **kw)
    num = numerical_gradient(lambda: loss(W, X, y, 0.05, **kw)[0], W)
    assert rel_error(dW, num) < 1e-6


def test_softmax_is_stable_for_huge_scores():
    W, X, y = _problem()
    loss, dW = softmax_loss_vectorized(W * 1e4, X, y, 0.0)
    loss_n, _ = softmax_loss_naive(W * 1e4, X, y, 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dW)) and abs(loss - loss_n) < 1e-6 * loss


def test_initial_losses_are_c_minus_1_and_ln_c(digits):
    X, y = digits
    W = 1e-4 * np.random.default_rng(0).standard_normal((X.shape[1], 10))
    svm, _ = svm_loss_vectorized(W, X, y, 0.0)
    soft, _ = softmax_loss_vectorized(W, X, y, 0.0)
    assert abs(svm - 9.0) < 0.05
    assert abs(soft - math.log(10)) < 0.01


def test_svm_margin_only_rescales_w():
    # the data loss with margin delta at W equals delta times the loss with margin 1 at W/delta
    W, X, y = _problem(seed=3)
    for delta in (0.1, 3.0, 10.0):
        a, da = svm_loss_vectorized(W, X, y, 0.0, delta=delta)
        b, db = svm_loss_vectorized(W / delta, X, y, 0.0, delta=1.0)
        assert abs(a - delta * b) < 1e-10 and np.abs(da - db).max() < 1e-12


def test_loss_errors_name_the_function():
    W, X, y = _problem()
    with pytest.raises(ValueError, match=r"svm_loss_vectorized: X has 12 features .* bias"):
        svm_loss_vectorized(W[:-1], X, y, 0.1)
    with pytest.raises(ValueError, match=r"softmax_loss_naive: labels must lie in \[0, 4\]"):
        softmax_loss_naive(W, X, y + 5, 0.1)
    with pytest.raises(TypeError, match="integer class indices"):
        softmax_loss_vectorized(W, X, y.astype(float), 0.1)
    with pytest.raises(ValueError, match="y must have shape"):
        svm_loss_naive(W, X, y[:-1], 0.1)
    with pytest.raises(ValueError, match="penalty must be"):
        svm_loss_vectorized(W, X, y, 0.1, penalty="l3")


# --------------------------------------------------------------------------- SGD classifiers


@pytest.mark.parametrize("cls, lr", [(LinearSVM, 3e-2), (SoftmaxClassifier, 1e-1)])
def test_linear_classifiers_learn_digits(cls, lr, digits):
    X, y = digits
    clf = cls(learning_rate=lr, reg=1e-3, num_iters=300, batch_size=100, seed=0)
    assert clf.fit(X[:1400], y[:1400]) is clf
    assert clf.W_.shape == (65, 10) and clf.loss_history_.shape == (300,)
    assert clf.loss_history_[-20:].mean() < 0.3 * clf.loss_history_[:5].mean()
    assert clf.score(X[1400:], y[1400:]) > 0.87  # the last 397 digits: other writers
    # deterministic given the seed, and the sklearn-shaped views agree with W_
    again = cls(learning_rate=lr, reg=1e-3, num_iters=300, batch_size=100, seed=0)
    assert np.array_equal(again.fit(X[:1400], y[:1400]).W_, clf.W_)
    assert np.allclose(X[:5] @ clf.coef_.T + clf.intercept_, clf.decision_function(X[:5]))


def test_linear_classifier_initial_loss_and_labels(digits):
    X, y = digits
    names = np.array(list("abcdefghij"))[y]
    svm = LinearSVM(learning_rate=1e-2, reg=0.0, num_iters=5).fit(X, names)
    soft = SoftmaxClassifier(learning_rate=1e-2, reg=0.0, num_iters=5).fit(X, names)
    assert abs(svm.loss_history_[0] - 9) < 0.3
    assert abs(soft.loss_history_[0] - math.log(10)) < 0.05
    assert set(svm.predict(X[:50])) <= set("abcdefghij")
    p = soft.predict_proba(X[:50])
    assert p.shape == (50, 10) and np.allclose(p.sum(axis=1), 1)
    assert np.array_equal(soft.classes_[p.argmax(axis=1)], soft.predict(X[:50]))


# --------------------------------------------------------------------------- regressors


def _same_regressor(ours, theirs, X, y, tol=1e-8):
    ours.fit(X, y)
    theirs.fit(X, y)
    scale = max(1.0, np.abs(theirs.coef_).max())
    assert np.abs(ours.coef_ - theirs.coef_).max() < tol * scale
    assert np.allclose(ours.intercept_, theirs.intercept_, rtol=tol, atol=tol * scale)
    assert abs(ours.score(X, y) - theirs.score(X, y)) < tol
    assert np.shape(ours.coef_) == np.shape(theirs.coef_)
    assert np.shape(ours.intercept_) == np.shape(theirs.intercept_)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linear_regression_matches_sklearn(diabetes, fit_intercept):
    X, y = diabetes
    _same_regressor(
        LinearRegression(fit_intercept=fit_intercept),
        sk_lm.LinearRegression(fit_intercept=fit_intercept),
        X,
        y,
    )
    Y = np.stack([y, np.log(y)], axis=1)  # two targets at once
    _same_regressor(LinearRegression(), sk_lm.LinearRegression(), X, Y)


@pytest.mark.parametrize("alpha", [0.01, 1.0, 30.0])
def test_ridge_matches_sklearn(diabetes, digits, alpha):
    X, y = diabetes
    _same_regressor(Ridge(alpha=alpha), sk_lm.Ridge(alpha=alpha), X, y)
    _same_regressor(
        Ridge(alpha=alpha, fit_intercept=False), sk_lm.Ridge(alpha=alpha, fit_intercept=False), X, y
    )
    Xd, yd = digits
    # more features than samples: the dual (n-by-n) form
    _same_regressor(Ridge(alpha=alpha), sk_lm.Ridge(alpha=alpha), Xd[:40], yd[:40].astype(float))


@pytest.mark.parametrize("alpha", [0.01, 0.1, 1.0])
def test_lasso_matches_sklearn(diabetes, alpha):
    X, y = diabetes
    ours, theirs = Lasso(alpha=alpha), sk_lm.Lasso(alpha=alpha)
    _same_regressor(ours, theirs, X, y, tol=1e-6)
    assert ours.n_iter_ == theirs.n_iter_
    assert np.array_equal(ours.coef_ == 0, theirs.coef_ == 0)  # the same features selected
    assert abs(ours.dual_gap_ - theirs.dual_gap_) <= 1e-6 * max(1.0, abs(theirs.dual_gap_))


def test_lasso_on_digits_selects_features(digits):
    X, y = digits
    y = y.astype(float)
    ours = Lasso(alpha=0.05, tol=1e-8, max_iter=5000).fit(X, y)
    theirs = sk_lm.Lasso(alpha=0.05, tol=1e-8, max_iter=5000).fit(X, y)
    assert np.abs(ours.coef_ - theirs.coef_).max() < 1e-6
    assert 0 < np.sum(ours.coef_ == 0) < X.shape[1]


def test_lasso_warns_when_not_converged(diabetes):
    X, y = diabetes
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        Lasso(alpha=0.001, max_iter=2).fit(X, y)


def test_r2_score_conventions():
    from sklearn.metrics import r2_score as sk_r2

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(20), rng.standard_normal(20)
    assert abs(r2_score(a, b) - sk_r2(a, b)) < 1e-12
    assert r2_score(np.ones(3), np.ones(3)) == 1.0 and r2_score(np.ones(3), np.zeros(3)) == 0.0


# --------------------------------------------------------------------------- logistic regression


def test_logistic_regression_matches_sklearn_multinomial(digits):
    X, y = digits
    kw = {"C": 0.1, "tol": 1e-8, "max_iter": 1000}
    ours, theirs = LogisticRegression(**kw).fit(X, y), sk_lm.LogisticRegression(**kw).fit(X, y)
    assert ours.coef_.shape == theirs.coef_.shape == (10, 64)
    assert np.abs(ours.coef_ - theirs.coef_).max() < 1e-4 * np.abs(theirs.coef_).max()
    assert np.abs(ours.intercept_ - theirs.intercept_).max() < 1e-4
    assert np.abs(ours.predict_proba(X) - theirs.predict_proba(X)).max() < 1e-5
    assert ours.score(X, y) == theirs.score(X, y)


def test_logistic_regression_defaults_match_sklearn(digits):
    X, y = digits
    ours, theirs = LogisticRegression().fit(X, y), sk_lm.LogisticRegression().fit(X, y)
    # both stop at the default tol=1e-4, so the coefficients agree to about 1e-3 relative
    assert np.abs(ours.coef_ - theirs.coef_).max() < 1e-2 * np.abs(theirs.coef_).max()
    assert np.mean(ours.predict(X) == theirs.predict(X)) > 0.995


def test_logistic_regression_binary_matches_sklearn(digits):
    X, y = digits
    m = (y == 3) | (y == 8)
    labels = np.where(y[m] == 3, "three", "eight")
    kw = {"C": 0.5, "tol": 1e-8, "max_iter": 1000}
    ours = LogisticRegression(**kw).fit(X[m], labels)
    theirs = sk_lm.LogisticRegression(**kw).fit(X[m], labels)
    assert ours.coef_.shape == (1, 64) and list(ours.classes_) == ["eight", "three"]
    assert np.abs(ours.coef_ - theirs.coef_).max() < 1e-4 * np.abs(theirs.coef_).max()
    assert abs(ours.intercept_[0] - theirs.intercept_[0]) < 1e-4
    assert np.abs(ours.predict_proba(X[m]) - theirs.predict_proba(X[m])).max() < 1e-5
    assert np.array_equal(ours.predict(X[m]), theirs.predict(X[m]))
    assert ours.decision_function(X[m]).shape == (int(m.sum()),)


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist not installed")
def test_logistic_regression_matches_sklearn_on_fashion_mnist():
    from gradschool.data.datasets import FashionMNIST

    ds = FashionMNIST(train=True)
    # 1,500 images pooled 2x2 to 14x14 (196 features), standardised
    imgs = ds.data[:1500].astype(np.float64).reshape(1500, 14, 2, 14, 2).mean(axis=(2, 4)) / 255
    X = StandardScaler().fit_transform(imgs.reshape(1500, -1))
    y = ds.targets[:1500]
    kw = {"C": 0.01, "tol": 1e-6, "max_iter": 1000}
    ours, theirs = LogisticRegression(**kw).fit(X, y), sk_lm.LogisticRegression(**kw).fit(X, y)
    assert np.abs(ours.coef_ - theirs.coef_).max() < 1e-3 * np.abs(theirs.coef_).max()
    assert abs(ours.score(X, y) - theirs.score(X, y)) < 2e-3


def test_logistic_regression_warns_when_not_converged(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        m = LogisticRegression(max_iter=3).fit(X, y)
    assert m.n_iter_.tolist() == [3]


# --------------------------------------------------------------------------- SGDClassifier


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "modified_huber", "perceptron"])
def test_sgd_classifier_accuracy_close_to_sklearn(digits, loss):
    X, y = digits
    Xtr, ytr, Xte, yte = X[:600], y[:600], X[1200:], y[1200:]
    ours, theirs = [], []
    for seed in range(2):
        kw = {"loss": loss, "max_iter": 8, "tol": None, "random_state": seed}
        ours.append(SGDClassifier(**kw).fit(Xtr, ytr).score(Xte, yte))
        theirs.append(sk_lm.SGDClassifier(**kw).fit(Xtr, ytr).score(Xte, yte))
    assert min(ours) > 0.85
    assert abs(np.mean(ours) - np.mean(theirs)) < 0.03


def test_sgd_classifier_binary_and_probabilities(digits):
    X, y = digits
    m = (y == 1) | (y == 7)
    clf = SGDClassifier(loss="log_loss", random_state=0, max_iter=10, tol=None).fit(X[m], y[m])
    assert clf.coef_.shape == (1, 64) and clf.intercept_.shape == (1,)
    assert clf.score(X[m], y[m]) > 0.97
    p = clf.predict_proba(X[m])
    assert p.shape == (int(m.sum()), 2) and np.allclose(p.sum(axis=1), 1)
    assert np.array_equal(clf.classes_[p.argmax(axis=1)], clf.predict(X[m]))
    assert clf.n_iter_ == 10
    huber = SGDClassifier(loss="modified_huber", random_state=0, max_iter=5, tol=None)
    p = huber.fit(X[:300], y[:300]).predict_proba(X[:300])
    assert np.allclose(p.sum(axis=1), 1) and p.min() >= 0
    with pytest.raises(AttributeError, match="loss='hinge'"):
        SGDClassifier(max_iter=2, tol=None).fit(X[:100], y[:100]).predict_proba(X[:5])


def test_sgd_classifier_schedules_and_determinism(digits):
    X, y = digits
    X, y = X[:400], y[:400]
    for lr in ("constant", "invscaling"):
        clf = SGDClassifier(learning_rate=lr, eta0=0.05, max_iter=5, tol=None, random_state=1)
        assert clf.fit(X, y).score(X, y) > 0.85
    a = SGDClassifier(max_iter=3, tol=None, random_state=7).fit(X, y)
    b = SGDClassifier(max_iter=3, tol=None, random_state=7).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_)
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration"):
        SGDClassifier(max_iter=2, random_state=0).fit(X, y)


# --------------------------------------------------------------------------- preprocessing


def test_standard_scaler_matches_sklearn(digits):
    X, _ = load_digits(return_X_y=True)  # has constant (all-zero) pixels
    for kw in (
        {},
        {"with_mean": False},
        {"with_std": False},
        {"with_mean": False, "with_std": False},
    ):
        ours, theirs = StandardScaler(**kw).fit(X), sk_pre.StandardScaler(**kw).fit(X)
        for attr in ("mean_", "var_", "scale_"):
            a, b = getattr(ours, attr), getattr(theirs, attr)
            assert (a is None) == (b is None), (kw, attr)
            if a is not None:
                assert np.allclose(a, b, rtol=1e-12, atol=1e-12), (kw, attr)
        assert np.allclose(ours.transform(X), theirs.transform(X), rtol=1e-12, atol=1e-12)
        assert np.allclose(ours.inverse_transform(ours.transform(X)), X, atol=1e-10)
    Z = StandardScaler().fit_transform(X)
    assert np.all(Z[:, X.std(axis=0) == 0] == 0)  # constant features: centred, not divided
    X32 = X.astype(np.float32)
    z32 = StandardScaler().fit_transform(X32)
    assert z32.dtype == np.float32
    assert np.allclose(z32, sk_pre.StandardScaler().fit_transform(X32), atol=1e-6)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"degree": 3},
        {"degree": 3, "interaction_only": True},
        {"degree": 2, "include_bias": False},
        {"degree": (2, 3)},
        {"degree": (0, 2), "include_bias": False},
        {"degree": 1},
    ],
)
def test_polynomial_features_match_sklearn(kw):
    X = np.random.default_rng(0).standard_normal((7, 4))
    ours, theirs = PolynomialFeatures(**kw).fit(X), sk_pre.PolynomialFeatures(**kw).fit(X)
    assert np.allclose(ours.transform(X), theirs.transform(X), rtol=1e-12)
    assert np.array_equal(ours.powers_, theirs.powers_)
    assert ours.n_output_features_ == theirs.n_output_features_
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    names = ["a", "b", "c", "d"]
    assert list(ours.get_feature_names_out(names)) == list(theirs.get_feature_names_out(names))


# --------------------------------------------------------------------------- errors

ESTIMATORS = [
    lambda: LinearRegression(),
    lambda: Ridge(),
    lambda: Lasso(),
    lambda: LogisticRegression(),
    lambda: SGDClassifier(),
    lambda: LinearSVM(),
    lambda: SoftmaxClassifier(),
]


@pytest.mark.parametrize("make", ESTIMATORS)
def test_estimator_errors(make, digits):
    X, y = digits
    est = make()
    name = type(est).__name__
    with pytest.raises(NotFittedError, match=f"This {name} instance is not fitted yet"):
        est.predict(X)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[100, 99\]"):
        est.fit(X[:100], y[:99])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        est.fit(X[:, 0], y)
    bad = X[:100].copy()
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(bad, y[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(est, SGDClassifier):
            est.max_iter, est.tol = 2, None
        if isinstance(est, LinearSVM | SoftmaxClassifier):
            est.num_iters = 2
        est.fit(X[:200], y[:200])
    with pytest.raises(ValueError, match=f"X has 10 features, but {name} is expecting 64 features"):
        est.predict(X[:5, :10])


@pytest.mark.parametrize("make", ESTIMATORS[3:])
def test_classifier_label_errors(make, digits):
    X, y = digits
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        make().fit(X[:50], np.linspace(0, 1, 50))
    with pytest.raises(ValueError, match="at least 2 classes"):
        make().fit(X[:50], np.zeros(50, dtype=int))


def test_imports_only_numpy():
    import subprocess
    import sys

    code = (
        "import sys; import gradschool.classic.linear_classifier, gradschool.classic.linear_model, "
        "gradschool.classic.preprocessing; "
        "print(sorted(m for m in ('sklearn', 'scipy', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bad_hyperparameters(digits):
    X, y = digits
    with pytest.raises(ValueError, match="'alpha' parameter of Ridge must be a float >= 0"):
        Ridge(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match="'C' parameter of LogisticRegression must be a float > 0"):
        LogisticRegression(C=0).fit(X, y)
    with pytest.raises(ValueError, match="'loss' parameter of SGDClassifier"):
        SGDClassifier(loss="squared_error").fit(X, y)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        LinearSVM(learning_rate=0).fit(X, y)
    with pytest.raises(ValueError, match="penalty must be 'l2' or 'l1'"):
        SoftmaxClassifier(penalty="elasticnet").fit(X, y)
    with pytest.raises(ValueError, match="degree must be"):
        PolynomialFeatures(degree=-1).fit(X)
    with pytest.raises(NotFittedError):
        StandardScaler().transform(X)
    with pytest.raises(ValueError, match="X has 3 features, but StandardScaler is expecting 64"):
        StandardScaler().fit(X).transform(X[:, :3])
