"""Linear models for regression and classification (textbook ch. 4), as scikit-learn has them.

Every model here predicts with ``X @ coef_.T + intercept_``; they differ in the objective
that picks ``coef_`` and in how it is minimised:

==================== =========================================================== ===================
model                objective (n samples)                                       solver
==================== =========================================================== ===================
LinearRegression     ``||y - Xw - b||^2``                                        least squares (SVD)
Ridge                ``||y - Xw - b||^2 + alpha ||w||^2``                        closed form
Lasso                ``(1/2n) ||y - Xw - b||^2 + alpha ||w||_1``                 coordinate descent
LogisticRegression   ``C * sum_i logloss_i + 1/2 ||W||^2`` (multinomial)         L-BFGS
SGDClassifier        ``mean_i loss_i + alpha/2 ||w||^2``, one-vs-rest            per-sample SGD
==================== =========================================================== ===================

The intercept ``b`` is never penalised. For the regressors it is removed by centring: fit
``w`` on ``X - mean(X)`` and ``y - mean(y)``, then ``b = mean(y) - mean(X) @ w``.

* **Ridge** solves ``(X^T X + alpha I) w = X^T y`` (or, with more features than samples, the
  dual ``w = X^T (X X^T + alpha I)^{-1} y``: an n-by-n system instead of d-by-d).
* **Lasso** has no closed form (``|w|`` has a kink at 0) but each coordinate alone does: with
  the others fixed, ``w_j`` is a *soft-thresholded* least-squares fit of the residual, which
  is exactly zero when the correlation is below ``alpha``. That is why the Lasso selects
  features. It stops, as scikit-learn's, when the largest coordinate change of a sweep is
  below ``tol`` relative to the largest weight *and* the duality gap is below
  ``tol * ||y||^2``.
* **LogisticRegression** minimises a smooth convex function with L-BFGS (quasi-Newton: a
  curvature estimate from the last ``m`` steps, built by the two-loop recursion), stopping
  when the largest gradient entry of the objective divided by ``C * n`` is below ``tol``, as
  scikit-learn's ``solver='lbfgs'``.
* **SGDClassifier** takes one step per sample with scikit-learn's learning-rate schedules;
  with ``loss='hinge'`` it is a linear SVM, ``'log_loss'`` logistic regression,
  ``'perceptron'`` Rosenblatt's perceptron.

All follow scikit-learn's conventions and give its numbers (the tests compare them); scores
are R^2 for regressors and accuracy for classifiers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .preprocessing import (
    check_array,
    check_classification_targets,
    check_is_fitted,
    check_n_features,
    check_X_y,
)

__all__ = [
    "ConvergenceWarning",
    "Lasso",
    "LinearRegression",
    "LogisticRegression",
    "Ridge",
    "SGDClassifier",
    "r2_score",
]


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at ``max_iter`` before meeting its tolerance."""


def r2_score(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (averaged over targets).

    1 is a perfect fit; 0 is no better than predicting the mean; it can be negative. A
    constant ``y_true`` scores 1 if predicted exactly, else 0 (scikit-learn's convention).
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if len(y_true) != len(y_pred):  # NumPy would broadcast one prediction over every target
        raise ValueError(
            "r2_score: Found input variables with inconsistent numbers of samples: "
            f"[{len(y_true)}, {len(y_pred)}]"
        )
    if y_true.ndim == 1:
        y_true, y_pred = y_true[:, None], y_pred.reshape(len(y_pred), -1)
    ss_res = ((y_true - y_pred) ** 2).sum(axis=0)
    ss_tot = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    ok = ss_tot != 0
    scores = np.where(ss_res == 0, 1.0, 0.0)
    scores[ok] = 1 - ss_res[ok] / ss_tot[ok]
    return float(scores.mean())


def _check_param(est: Any, name: str, ok: bool, want: str) -> None:
    if not ok:
        raise ValueError(
            f"The '{name}' parameter of {type(est).__name__} must be {want}. "
            f"Got {getattr(est, name)!r} instead."
        )


# --------------------------------------------------------------------------- regressors


class _LinearRegressor:
    """Shared by the regressors: centring, ``predict``, ``score`` (R^2)."""

    fit_intercept: bool

    def _prepare(self, X: Any, y: Any) -> tuple:
        X, y = check_X_y(X, y, self, y_numeric=True, multi_output=True)
        y = y.astype(np.float64)
        self.n_features_in_ = X.shape[1]
        X = X.astype(np.float64)
        if self.fit_intercept:
            X_offset, y_offset = X.mean(axis=0), y.mean(axis=0)
            return X - X_offset, y - y_offset, X_offset, y_offset
        return X, y, np.zeros(X.shape[1]), np.zeros(y.shape[1:])

    def _set(self, coef: np.ndarray, X_offset: np.ndarray, y_offset: Any) -> None:
        """``coef`` is (n_features,) or (n_features, n_targets)."""
        self.coef_ = coef.T.copy()
        intercept = y_offset - X_offset @ coef
        self.intercept_ = float(intercept) if coef.ndim == 1 else intercept

    def predict(self, X: Any) -> np.ndarray:
        """``X @ coef_.T + intercept_``."""
        check_is_fitted(self, "coef_")
        X = check_array(X, self)
        check_n_features(self, X)
        return X @ self.coef_.T + self.intercept_

    def score(self, X: Any, y: Any) -> float:
        """R^2 of the predictions on ``X`` against ``y``."""
        return r2_score(y, self.predict(X))

    def __repr__(self) -> str:
        code = type(self).__init__.__code__
        keys = code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount]
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in keys)})"


class LinearRegression(_LinearRegressor):
    """Ordinary least squares: ``w`` minimising ``||y - Xw - b||^2``.

    Solved with ``np.linalg.lstsq`` (an SVD), which also handles rank-deficient ``X`` (the
    minimum-norm solution) instead of inverting ``X^T X``, whose condition number is the
    square of ``X``'s. Attributes: ``coef_`` ((n_features,) or (n_targets, n_features)),
    ``intercept_``, ``rank_``, ``singular_``, ``n_features_in_``.

    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> m = LinearRegression().fit(X, 3 * X[:, 0] + 1)
    >>> round(float(m.coef_[0]), 6), round(m.intercept_, 6)
    (3.0, 1.0)
    """

    def __init__(self, fit_intercept: bool = True) -> None:
        self.fit_intercept = fit_intercept

    def fit(self, X: Any, y: Any) -> LinearRegression:
        Xc, yc, X_offset, y_offset = self._prepare(X, y)
        coef, _, self.rank_, self.singular_ = np.linalg.lstsq(Xc, yc, rcond=None)
        self._set(coef, X_offset, y_offset)
        return self


class Ridge(_LinearRegressor):
    """Least squares with an L2 penalty: ``||y - Xw - b||^2 + alpha ||w||^2`` (scikit-learn's).

    ``alpha`` shrinks the weights towards 0, trading a little bias for less variance; it
    also makes the problem well posed when features are collinear (``X^T X + alpha I`` is
    invertible for any ``alpha > 0``).
    """

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def fit(self, X: Any, y: Any) -> Ridge:
        _check_param(self, "alpha", np.isscalar(self.alpha) and self.alpha >= 0, "a float >= 0")
        Xc, yc, X_offset, y_offset = self._prepare(X, y)
        n, d = Xc.shape
        try:
            if d <= n:  # primal: a d-by-d system
                coef = np.linalg.solve(Xc.T @ Xc + self.alpha * np.eye(d), Xc.T @ yc)
            else:  # dual: an n-by-n system, w = X^T (X X^T + alpha I)^-1 y
                coef = Xc.T @ np.linalg.solve(Xc @ Xc.T + self.alpha * np.eye(n), yc)
        except np.linalg.LinAlgError:  # alpha = 0 with collinear features
            coef = np.linalg.lstsq(Xc, yc, rcond=None)[0]
        self._set(coef, X_offset, y_offset)
        return self


def _lasso_gap(X: np.ndarray, y: np.ndarray, w: np.ndarray, R: np.ndarray, alpha: float) -> float:
    """Duality gap of ``1/2 ||y - Xw||^2 + alpha ||w||_1`` at ``w`` (residual ``R = y - Xw``).

    The dual point is the residual scaled into the dual's feasible set (``||X^T theta||_inf
    <= alpha``); the gap between primal and dual values bounds how far the primal objective
    is from its minimum, so it is a certificate of convergence.
    """
    XtR = X.T @ R
    R_norm2 = float(R @ R)
    if alpha == 0:  # plain least squares: no dual gap, use the first-order condition
        return float(XtR @ XtR)
    dual_norm = float(np.max(np.abs(XtR)))
    if dual_norm > alpha:
        const = alpha / dual_norm
        gap = 0.5 * (R_norm2 + R_norm2 * const**2)
    else:
        const, gap = 1.0, R_norm2
    return gap + alpha * float(np.abs(w).sum()) - const * float(R @ y)


def _lasso_cd(
    X: np.ndarray, y: np.ndarray, alpha: float, max_iter: int, tol: float
) -> tuple[np.ndarray, float, int, bool]:
    """Cyclic coordinate descent on ``1/2 ||y - Xw||^2 + alpha ||w||_1`` (``alpha`` = n * Lasso's).

    Returns ``(w, gap, n_iter, converged)``.
    """
    n, d = X.shape
    X = np.asfortranarray(X)  # each column contiguous: one coordinate = one column
    col_norm2 = np.einsum("ij,ij->j", X, X)
    w = np.zeros(d)
    R = y.copy()  # the residual y - Xw, kept up to date
    gap_tol = tol * float(y @ y)
    gap = _lasso_gap(X, y, w, R, alpha)
    if gap <= gap_tol:
        return w, gap, 0, True
    for it in range(max_iter):
        w_max = d_w_max = 0.0
        for j in range(d):
            if col_norm2[j] == 0.0:
                continue
            w_j = w[j]
            # the least-squares fit of x_j to the residual without feature j ...
            rho = float(X[:, j] @ R) + w_j * col_norm2[j]
            # ... soft-thresholded: exactly 0 when |rho| <= alpha
            new = np.sign(rho) * max(abs(rho) - alpha, 0.0) / col_norm2[j]
            if new != w_j:
                R -= (new - w_j) * X[:, j]
                w[j] = new
            d_w_max = max(d_w_max, abs(new - w_j))
            w_max = max(w_max, abs(new))
        if w_max == 0.0 or d_w_max / w_max <= tol or it == max_iter - 1:
            gap = _lasso_gap(X, y, w, R, alpha)
            if gap <= gap_tol:
                return w, gap, it + 1, True
    return w, gap, max_iter, False


class Lasso(_LinearRegressor):
    """L1-penalised least squares: ``(1/(2n)) ||y - Xw - b||^2 + alpha ||w||_1`` (scikit-learn's).

    Solved by cyclic coordinate descent (see the module docstring); many weights come out
    exactly 0, the larger ``alpha`` the more. Attributes: ``coef_``, ``intercept_``,
    ``n_iter_`` (sweeps), ``dual_gap_`` (the final duality gap, divided by n as sklearn's).
    """

    def __init__(
        self,
        alpha: float = 1.0,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
    ) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: Any, y: Any) -> Lasso:
        _check_param(self, "alpha", np.isscalar(self.alpha) and self.alpha >= 0, "a float >= 0")
        _check_param(
            self, "max_iter", isinstance(self.max_iter, int) and self.max_iter >= 1, "an int >= 1"
        )
        _check_param(self, "tol", np.isscalar(self.tol) and self.tol >= 0, "a float >= 0")
        if self.alpha == 0:
            warnings.warn(
                "Lasso with alpha=0 is ordinary least squares: use LinearRegression instead.",
                UserWarning,
                stacklevel=2,
            )
        Xc, yc, X_offset, y_offset = self._prepare(X, y)
        n = Xc.shape[0]
        Y = yc[:, None] if yc.ndim == 1 else yc
        coefs, gaps, iters = [], [], []
        for k in range(Y.shape[1]):
            w, gap, n_iter, converged = _lasso_cd(
                Xc, Y[:, k], self.alpha * n, self.max_iter, self.tol
            )
            if not converged:
                warnings.warn(
                    f"Lasso: objective did not converge in {self.max_iter} sweeps (duality gap "
                    f"{gap:.3e}, tolerance {self.tol * float(Y[:, k] @ Y[:, k]):.3e}); increase "
                    "max_iter, standardise the features, or raise alpha.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
            coefs.append(w)
            gaps.append(gap / n)
            iters.append(n_iter)
        coef = coefs[0] if yc.ndim == 1 else np.stack(coefs, axis=1)
        self._set(coef, X_offset, y_offset)
        self.dual_gap_ = gaps[0] if yc.ndim == 1 else np.array(gaps)
        self.n_iter_ = iters[0] if yc.ndim == 1 else max(iters)
        return self


# --------------------------------------------------------------------------- L-BFGS


def lbfgs(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    max_iter: int = 100,
    gtol: float = 1e-5,
    m: int = 10,
    ftol: float = 64 * np.finfo(float).eps,
    max_ls: int = 50,
) -> tuple[np.ndarray, float, int, bool]:
    """Minimise a smooth function with limited-memory BFGS; returns ``(x, f, n_iter, converged)``.

    ``fun(x)`` returns the value and the gradient. Each iteration turns the gradient into a
    quasi-Newton direction with the two-loop recursion over the last ``m`` steps ``s`` and
    gradient changes ``y`` (an implicit inverse-Hessian estimate, scaled by ``s.y / y.y``),
    then backtracks along it until the Armijo condition holds. Converged when
    ``max|grad| <= gtol``, or when the value stops decreasing (relative change <= ``ftol``).
    """
    x = np.array(x0, dtype=np.float64)
    f, g = fun(x)
    history: list[tuple[np.ndarray, np.ndarray, float]] = []
    if np.max(np.abs(g)) <= gtol:
        return x, f, 0, True
    for it in range(1, max_iter + 1):
        # two-loop recursion: d = -H g
        q = g.copy()
        alphas = []
        for s, yv, rho in reversed(history):
            a = rho * (s @ q)
            q -= a * yv
            alphas.append(a)
        if history:
            s, yv, _ = history[-1]
            q *= (s @ yv) / (yv @ yv)
        for (s, yv, rho), a in zip(history, reversed(alphas), strict=True):
            q += s * (a - rho * (yv @ q))
        d = -q
        slope = float(g @ d)
        if slope >= 0:  # not a descent direction (round-off): restart from steepest descent
            history.clear()
            d, slope = -g, -float(g @ g)
        step = 1.0 if history else min(1.0, 1.0 / np.linalg.norm(g))
        for _ in range(max_ls):  # backtracking with quadratic interpolation
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * step * slope:
                break
            denom = 2 * (f_new - f - slope * step)
            guess = -slope * step * step / denom if denom > 0 else 0.5 * step
            step = min(0.5 * step, max(0.1 * step, guess))
        else:
            return x, f, it - 1, False  # the line search failed: no further progress possible
        s, yv = x_new - x, g_new - g
        sy = float(s @ yv)
        if sy > 1e-10 * float(yv @ yv):  # keep the pair only if the curvature is positive
            history.append((s, yv, 1.0 / sy))
            if len(history) > m:
                history.pop(0)
        decrease = f - f_new
        x, f, g = x_new, f_new, g_new
        if np.max(np.abs(g)) <= gtol or decrease <= ftol * max(abs(f), abs(f_new), 1.0):
            return x, f, it, True
    return x, f, max_iter, False


# --------------------------------------------------------------------------- classifiers


class _LinearClassifierMixin:
    """Shared by the classifiers: labels, ``decision_function``, ``predict``, ``score``."""

    def _labels(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X, y = check_X_y(X, y, self)
        check_classification_targets(y, self)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"This solver needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {self.classes_[0]!r}"
            )
        self.n_features_in_ = X.shape[1]
        return X, y_idx

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores ``X @ coef_.T + intercept_``: (n_samples,) for two classes, else (n_samples, C)."""
        check_is_fitted(self, "coef_")
        X = check_array(X, self)
        check_n_features(self, X)
        scores = X @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        scores = self.decision_function(X)
        idx = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[idx]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on ``X`` against ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    __repr__ = _LinearRegressor.__repr__


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


class LogisticRegression(_LinearClassifierMixin):
    """Logistic regression with an L2 penalty, fitted by L-BFGS (scikit-learn's ``lbfgs``).

    Minimises ``C * sum_i logloss_i + 1/2 ||W||^2`` (the intercept is not penalised): a
    multinomial (softmax) model for three or more classes, a single sigmoid for two. ``C``
    is the *inverse* regularisation strength: larger ``C`` fits the training data harder.
    The optimiser works on that objective divided by ``C * n`` (scikit-learn's scaling), so
    ``tol`` bounds the largest gradient entry of ``mean logloss + ||W||^2 / (2 C n)``.

    Attributes: ``coef_`` (n_classes, n_features), or (1, n_features) for two classes;
    ``intercept_``; ``classes_``; ``n_iter_`` (array of one int, as scikit-learn's).
    """

    def __init__(
        self, C: float = 1.0, fit_intercept: bool = True, max_iter: int = 100, tol: float = 1e-4
    ) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: Any, y: Any) -> LogisticRegression:
        _check_param(self, "C", np.isscalar(self.C) and self.C > 0, "a float > 0")
        _check_param(
            self, "max_iter", isinstance(self.max_iter, int) and self.max_iter >= 0, "an int >= 0"
        )
        _check_param(self, "tol", np.isscalar(self.tol) and self.tol >= 0, "a float >= 0")
        X, y_idx = self._labels(X, y)
        n, d = X.shape
        k = len(self.classes_)
        l2 = 1.0 / (self.C * n)
        fi = int(self.fit_intercept)
        rows = np.arange(n)

        def split(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            W = w.reshape(-1, d + fi)
            return W[:, :d], (W[:, d] if fi else np.zeros(len(W)))

        def binary(w: np.ndarray) -> tuple[float, np.ndarray]:
            coef, b = split(w)
            z = (X @ coef[0].astype(X.dtype)).astype(np.float64) + b[0]
            target = y_idx.astype(np.float64)  # 1 for classes_[1], the positive class
            penalty = 0.5 * l2 * float(np.sum(coef * coef))
            loss = float(np.mean(np.logaddexp(0.0, z) - target * z)) + penalty
            r = (_sigmoid(z) - target) / n
            grad = np.empty(d + fi)
            grad[:d] = (r.astype(X.dtype) @ X) + l2 * coef[0]
            if fi:
                grad[d] = r.sum()
            return loss, grad

        def multinomial(w: np.ndarray) -> tuple[float, np.ndarray]:
            coef, b = split(w)
            Z = (X @ coef.T.astype(X.dtype)).astype(np.float64) + b
            Z -= Z.max(axis=1, keepdims=True)
            lse = np.log(np.exp(Z).sum(axis=1))
            loss = float(np.mean(lse - Z[rows, y_idx])) + 0.5 * l2 * float(np.sum(coef * coef))
            P = np.exp(Z - lse[:, None])
            P[rows, y_idx] -= 1.0
            P /= n
            grad = np.empty((k, d + fi))
            grad[:, :d] = (P.T.astype(X.dtype) @ X) + l2 * coef
            if fi:
                grad[:, d] = P.sum(axis=0)
            return loss, grad.ravel()

        fun, rows_w = (binary, 1) if k == 2 else (multinomial, k)
        w, _, n_iter, converged = lbfgs(fun, np.zeros(rows_w * (d + fi)), self.max_iter, self.tol)
        if not converged:
            warnings.warn(
                f"lbfgs failed to converge after {n_iter} iteration(s): increase the number of "
                f"iterations (max_iter={self.max_iter}) or scale the data (StandardScaler).",
                ConvergenceWarning,
                stacklevel=2,
            )
        coef, b = split(w)
        self.coef_, self.intercept_ = coef.copy(), b.copy()
        self.n_iter_ = np.array([n_iter])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n_samples, n_classes): the softmax, or the sigmoid for two."""
        s = self.decision_function(X)
        if s.ndim == 1:
            p = _sigmoid(s)
            return np.stack([1 - p, p], axis=1)
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        return np.log(self.predict_proba(X))


# --------------------------------------------------------------------------- SGDClassifier

# per-sample losses of the margin z = y * p (y in {-1, +1}) and their slopes in p
_SGD_LOSSES = ("hinge", "log_loss", "modified_huber", "perceptron")


def _sgd_loss(name: str, y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = y * p
    if name in ("hinge", "perceptron"):
        # max(0, threshold - z): 1 for the SVM's margin, 0 for the perceptron
        gap = (1.0 if name == "hinge" else 0.0) - z
        return np.maximum(gap, 0.0), -y * (gap >= 0)
    if name == "log_loss":
        # log(1 + exp(-z)), slope -y * sigmoid(-z)
        return np.logaddexp(0.0, -z), -y * _sigmoid(-z)
    # modified_huber: quadratic near the margin, linear for badly wrong predictions
    loss = np.where(z >= 1, 0.0, np.where(z >= -1, (1 - z) ** 2, -4 * z))
    slope = np.where(z >= 1, 0.0, np.where(z >= -1, -2 * (1 - z) * y, -4 * y))
    return loss, slope


class SGDClassifier(_LinearClassifierMixin):
    """Linear classifiers trained by plain stochastic gradient descent, one sample at a time.

    For each class, a binary problem "this class (+1) against the rest (-1)" (one problem
    for two classes), minimising ``mean_i loss(y_i, w.x_i + b) + alpha/2 ||w||^2``. Each step
    ``t`` shrinks ``w`` by ``(1 - eta_t * alpha)`` (the L2 penalty's gradient, applied lazily
    through a scale factor, as scikit-learn does) and moves it by ``-eta_t * dloss * x_i``.

    learning_rate : ``'optimal'`` (``eta = 1 / (alpha (t0 + t))``, Bottou's schedule, ``t0``
        chosen from ``alpha``), ``'constant'`` (``eta0``), ``'invscaling'``
        (``eta0 / t**power_t``).
    tol : after each epoch, if the epoch's mean objective has not improved on the best by
        ``tol`` for ``n_iter_no_change`` epochs in a row, that binary problem stops
        (``None``: run all ``max_iter`` epochs).
    loss : ``'hinge'`` (linear SVM), ``'log_loss'`` (logistic regression: ``predict_proba``),
        ``'modified_huber'`` (smoothed hinge: ``predict_proba`` too), ``'perceptron'``.
    penalty : ``'l2'`` or ``None``.

    scikit-learn 1.9's defaults (``eta0=0.01``). The binary problems run side by side over
    one shuffled order per epoch (scikit-learn draws one per class), so coefficients differ
    from scikit-learn's in detail while the accuracy is the same in distribution.
    """

    def __init__(
        self,
        loss: str = "hinge",
        penalty: str | None = "l2",
        alpha: float = 1e-4,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        shuffle: bool = True,
        random_state: int | None = None,
        learning_rate: str = "optimal",
        eta0: float = 0.01,
        power_t: float = 0.5,
        n_iter_no_change: int = 5,
    ) -> None:
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.n_iter_no_change = n_iter_no_change

    def _check_params(self) -> None:
        _check_param(self, "loss", self.loss in _SGD_LOSSES, f"one of {_SGD_LOSSES}")
        _check_param(self, "penalty", self.penalty in ("l2", None), "'l2' or None")
        _check_param(self, "alpha", np.isscalar(self.alpha) and self.alpha >= 0, "a float >= 0")
        _check_param(
            self, "max_iter", isinstance(self.max_iter, int) and self.max_iter >= 1, "an int >= 1"
        )
        _check_param(
            self,
            "learning_rate",
            self.learning_rate in ("optimal", "constant", "invscaling"),
            "one of 'optimal', 'constant', 'invscaling'",
        )
        _check_param(self, "eta0", np.isscalar(self.eta0) and self.eta0 > 0, "a float > 0")
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal'. alpha is used to compute "
                "the optimal learning rate."
            )

    def fit(self, X: Any, y: Any) -> SGDClassifier:
        self._check_params()
        X, y_idx = self._labels(X, y)
        X = X.astype(np.float64)
        n, d = X.shape
        k = 1 if len(self.classes_) == 2 else len(self.classes_)
        # +1 / -1 targets, one column per binary problem (the positive class of two is classes_[1])
        positive = np.array([1] if k == 1 else range(k))
        Y = np.where(y_idx[:, None] == positive[None, :], 1.0, -1.0)
        rng = np.random.default_rng(self.random_state)
        alpha = float(self.alpha) if self.penalty == "l2" else 0.0
        self.coef_, self.intercept_ = np.zeros((k, d)), np.zeros(k)
        n_iter = np.full(k, self.max_iter)
        # The binary problems still running (all of them, until they meet tol one by one).
        # Their weights are scale * V: the L2 shrink of each step multiplies one number
        # instead of every weight (the same for all running problems: they share eta).
        running = np.arange(k)
        V, scale, b = np.zeros((k, d)), 1.0, np.zeros(k)
        sq_norm = np.zeros(k)  # ||V_k||^2, updated with each step, for the objective
        x_norm2 = np.einsum("ij,ij->i", X, X)
        best = np.full(k, np.inf)
        no_improvement = np.zeros(k, dtype=int)
        t = 1.0
        if self.learning_rate == "optimal":
            typw = np.sqrt(1.0 / np.sqrt(self.alpha))
            slope0 = _sgd_loss(self.loss, np.array([1.0]), np.array([-typw]))[1][0]
            optimal_init = 1.0 / (typw / max(1.0, slope0) * self.alpha)
        for epoch in range(self.max_iter):
            objective = np.zeros(len(running))
            order = rng.permutation(n) if self.shuffle else range(n)
            for i in order:
                x = X[i]
                vx = V @ x
                p = vx * scale + b
                if self.learning_rate == "optimal":
                    eta = 1.0 / (self.alpha * (optimal_init + t - 1))
                elif self.learning_rate == "invscaling":
                    eta = self.eta0 / t**self.power_t
                else:
                    eta = self.eta0
                loss, dloss = _sgd_loss(self.loss, Y[i], p)
                objective += loss
                if alpha:
                    objective += (0.5 * alpha * scale * scale) * sq_norm
                    scale *= max(0.0, 1.0 - eta * alpha)
                    if scale < 1e-9:  # fold the scale back into V before it underflows
                        V *= scale
                        sq_norm *= scale * scale
                        scale = 1.0
                if dloss.any():
                    update = -eta * dloss
                    c = update / scale
                    V += c[:, None] * x
                    sq_norm += c * (2 * vx + c * x_norm2[i])
                    if self.fit_intercept:
                        b += update
                t += 1
            if not (np.all(np.isfinite(V)) and np.all(np.isfinite(b))):
                raise ValueError(
                    f"Floating-point under-/overflow occurred at epoch #{epoch + 1}. Scaling "
                    "input data with StandardScaler or MinMaxScaler might help."
                )
            sq_norm = np.einsum("ij,ij->i", V, V)  # drop the drift of the running update
            done = np.zeros(len(running), dtype=bool)
            if self.tol is not None:
                # stop a problem whose mean objective has not improved by tol for
                # n_iter_no_change epochs in a row
                mean_obj = objective / n
                no_improvement = np.where(mean_obj > best - self.tol, no_improvement + 1, 0)
                best = np.minimum(best, mean_obj)
                done = no_improvement >= self.n_iter_no_change
            if epoch == self.max_iter - 1:
                done[:] = True
            if done.any():
                finished = running[done]
                self.coef_[finished] = V[done] * scale
                self.intercept_[finished] = b[done]
                n_iter[finished] = epoch + 1
                keep = ~done
                running, V, b, sq_norm = running[keep], V[keep], b[keep], sq_norm[keep]
                best, no_improvement, Y = best[keep], no_improvement[keep], Y[:, keep]
            if not len(running):
                break
        self.n_iter_ = int(n_iter.max())
        self.t_ = t
        if self.tol is not None and self.n_iter_ == self.max_iter:
            warnings.warn(
                "Maximum number of iteration reached before convergence. Consider increasing "
                "max_iter to improve the fit.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities for ``loss='log_loss'`` (sigmoids, normalised across the one-vs-rest
        problems) or ``'modified_huber'`` (``(clip(score, -1, 1) + 1) / 2``, normalised)."""
        if self.loss not in ("log_loss", "modified_huber"):
            raise AttributeError(
                f"probability estimates are not available for loss={self.loss!r}; use "
                "loss='log_loss' or loss='modified_huber'"
            )
        s = self.decision_function(X)
        p = _sigmoid(s) if self.loss == "log_loss" else (np.clip(s, -1, 1) + 1) / 2
        if s.ndim == 1:
            return np.stack([1 - p, p], axis=1)
        total = p.sum(axis=1)
        zero = total == 0
        p[zero] = 1.0
        total[zero] = p.shape[1]
        return p / total[:, None]
