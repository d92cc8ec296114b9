"""Linear classifiers: the multiclass SVM and softmax losses, and SGD on them (CS231n L3).

A linear classifier scores every class with one matrix product, ``scores = X @ W`` (``X``
(N, D), ``W`` (D, C)), and predicts the class with the highest score. Training picks ``W``
to make a *loss* small: a data term that punishes wrong scores, plus a regulariser that
prefers small weights (``reg * sum(W * W)``, or ``reg * sum(|W|)`` for the L1 penalty).

**Multiclass SVM (hinge) loss.** For sample ``i`` with correct class ``y_i`` the correct
score should beat every other score by at least a margin ``delta``::

    L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + delta)

Only the classes that violate the margin contribute; each pushes ``W[:, j]`` away from
``x_i`` and ``W[:, y_i]`` towards it. With tiny random weights every score is about 0, so
every one of the ``C - 1`` wrong classes contributes ``delta``: the initial loss is
≈ ``(C - 1) * delta``, ``C - 1`` for the usual ``delta = 1`` (9 for ten classes), a sanity
check worth running before any training. The value of ``delta`` does not matter: scaling
``W`` scales every score difference, so margin ``delta`` with weights ``W`` is the same
classifier as margin 1 with ``W / delta``; only the trade-off with ``reg`` changes, and that
is what ``reg`` is tuned for. ``squared=True`` uses the
squared hinge ``max(0, .)**2``, which punishes large violations more and is differentiable.

**Softmax (cross-entropy) loss.** Read the scores as unnormalised log-probabilities::

    L_i = -log( exp(s_{y_i}) / sum_j exp(s_j) )

With tiny weights every class gets probability ``1 / C``, so the initial loss is ≈ ``ln C``
(2.303 for ten classes). The code subtracts each row's maximum score before ``exp``: the
probabilities are unchanged and nothing overflows.

Both losses come twice, as in the assignment: ``*_naive`` with explicit loops (read it next
to the formula) and ``*_vectorized`` with array operations (fast); the tests prove they
agree, and that their gradients match numerical ones.

The estimators ``LinearSVM`` and ``SoftmaxClassifier`` train ``W`` by minibatch SGD with the
*bias trick*: a column of ones is appended to ``X`` so the last row of ``W_`` is the bias
(and, as in the course, is regularised with the rest). Their defaults
(``learning_rate=1e-7, reg=2.5e4``) are the course's for raw CIFAR-10 pixels (0..255,
mean-subtracted); data scaled to [0, 1] or standardised needs a much larger learning rate and
a much smaller ``reg`` (for standardised Fashion-MNIST, ``learning_rate`` 1e-2 to 3e-2 and
``reg=1e-4`` win on a validation split, see ``benchmarks/linear_fashion_mnist.py``): tune
both on a validation set.
"""

from __future__ import annotations

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
    "LinearSVM",
    "SoftmaxClassifier",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "svm_loss_naive",
    "svm_loss_vectorized",
]


# --------------------------------------------------------------------------- argument checks


def _check_loss_args(name: str, W: Any, X: Any, y: Any, penalty: str) -> tuple:
    W, X, y = np.asarray(W), np.asarray(X), np.asarray(y)
    if W.ndim != 2 or X.ndim != 2:
        raise ValueError(
            f"{name}: expected W of shape (D, C) and X of shape (N, D); got W {W.shape}, X {X.shape}"
        )
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"{name}: X has {X.shape[1]} features per sample but W has {W.shape[0]} rows; "
            "did you forget the bias column (the bias trick appends a column of ones to X)?"
        )
    if y.shape != (X.shape[0],):
        raise ValueError(f"{name}: y must have shape ({X.shape[0]},) to match X; got {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: y must hold integer class indices; got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= W.shape[1]):
        raise ValueError(
            f"{name}: labels must lie in [0, {W.shape[1] - 1}] (W has {W.shape[1]} classes); "
            f"got labels from {y.min()} to {y.max()}"
        )
    if penalty not in ("l2", "l1"):
        raise ValueError(f"{name}: penalty must be 'l2' or 'l1'; got {penalty!r}")
    # one floating dtype for both: a mixed float32 @ float64 product misses the fast BLAS path
    dtype = np.result_type(W.dtype, X.dtype, np.float32)
    return W.astype(dtype, copy=False), X.astype(dtype, copy=False), y


def _penalty(W: np.ndarray, reg: float, penalty: str) -> tuple[float, np.ndarray]:
    """The regulariser and its gradient: ``reg*sum(W*W)`` (l2) or ``reg*sum(|W|)`` (l1)."""
    if penalty == "l2":
        return reg * float(np.sum(W * W)), 2 * reg * W
    return reg * float(np.sum(np.abs(W))), reg * np.sign(W)


# --------------------------------------------------------------------------- SVM loss


def svm_loss_naive(
    W: Any,
    X: Any,
    y: Any,
    reg: float,
    delta: float = 1.0,
    squared: bool = False,
    penalty: str = "l2",
) -> tuple[float, np.ndarray]:
    """Multiclass SVM loss and its gradient, with loops (CS231n assignment 1).

    ``W`` (D, C) weights, ``X`` (N, D) a minibatch, ``y`` (N,) labels in ``[0, C)``, ``reg``
    the regularisation strength. Returns ``(loss, dW)``, the loss averaged over the N samples
    plus the penalty, and ``dW`` its gradient (same shape as ``W``).
    """
    W, X, y = _check_loss_args("svm_loss_naive", W, X, y, penalty)
    dW = np.zeros_like(W)
    num_train, num_classes = X.shape[0], W.shape[1]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct + delta
            if margin > 0:
                # d margin / d W[:, j] = x_i,  d margin / d W[:, y_i] = -x_i
                slope = 2 * margin if squared else 1.0
                loss += margin * margin if squared else margin
                dW[:, j] += slope * X[i]
                dW[:, y[i]] -= slope * X[i]
    loss /= max(num_train, 1)
    dW /= max(num_train, 1)
    r, dr = _penalty(W, reg, penalty)
    return float(loss) + r, dW + dr


def svm_loss_vectorized(
    W: Any,
    X: Any,
    y: Any,
    reg: float,
    delta: float = 1.0,
    squared: bool = False,
    penalty: str = "l2",
) -> tuple[float, np.ndarray]:
    """Multiclass SVM loss and gradient without loops; same inputs and results as the naive one.

    The margins of all samples and classes form an (N, C) matrix; the gradient is ``X.T @ G``
    where ``G[i, j]`` is the slope of the loss in ``s_ij``: 1 (or ``2 * margin`` for the
    squared hinge) for each violating wrong class, minus their sum at the correct class.
    """
    W, X, y = _check_loss_args("svm_loss_vectorized", W, X, y, penalty)
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + delta)
    margins[rows, y] = 0.0  # the correct class never counts against itself
    if squared:
        loss = float(np.sum(margins * margins)) / max(n, 1)
        G = 2 * margins
    else:
        loss = float(np.sum(margins)) / max(n, 1)
        G = (margins > 0).astype(scores.dtype)
    G[rows, y] = -G.sum(axis=1)
    dW = X.T @ G / max(n, 1)
    r, dr = _penalty(W, reg, penalty)
    return loss + r, dW + dr


# --------------------------------------------------------------------------- softmax loss


def softmax_loss_naive(
    W: Any, X: Any, y: Any, reg: float, penalty: str = "l2"
) -> tuple[float, np.ndarray]:
    """Softmax (cross-entropy) loss and its gradient, with loops.

    Inputs and outputs as ``svm_loss_naive``. Per sample: shift the scores by their maximum
    (stability), ``p = exp(s) / sum(exp(s))``, loss ``-log p[y_i]``, and the gradient in the
    scores is ``p - onehot(y_i)``, so ``dW[:, j] += (p_j - [j == y_i]) * x_i``.
    """
    W, X, y = _check_loss_args("softmax_loss_naive", W, X, y, penalty)
    dW = np.zeros_like(W)
    num_train, num_classes = X.shape[0], W.shape[1]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        scores = scores - np.max(scores)
        exp = np.exp(scores)
        total = np.sum(exp)
        loss += np.log(total) - scores[y[i]]
        for j in range(num_classes):
            p = exp[j] / total
            dW[:, j] += (p - (j == y[i])) * X[i]
    loss /= max(num_train, 1)
    dW /= max(num_train, 1)
    r, dr = _penalty(W, reg, penalty)
    return float(loss) + r, dW + dr


def softmax_loss_vectorized(
    W: Any, X: Any, y: Any, reg: float, penalty: str = "l2"
) -> tuple[float, np.ndarray]:
    """Softmax loss and gradient without loops (log-sum-exp with the row maximum subtracted)."""
    W, X, y = _check_loss_args("softmax_loss_vectorized", W, X, y, penalty)
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    total = exp.sum(axis=1, keepdims=True)
    log_probs = scores - np.log(total)
    loss = -float(np.sum(log_probs[rows, y])) / max(n, 1)
    G = exp / total
    G[rows, y] -= 1.0
    dW = X.T @ G / max(n, 1)
    r, dr = _penalty(W, reg, penalty)
    return loss + r, dW + dr


# --------------------------------------------------------------------------- estimators


class _LinearClassifier:
    """Minibatch SGD on a linear classifier's loss (CS231n's ``LinearClassifier.train``).

    Each of ``num_iters`` steps draws ``batch_size`` samples (with replacement, from the
    generator seeded by ``seed``), computes the loss and ``dW`` on them, and steps
    ``W -= learning_rate * dW``. ``W`` starts at ``0.001 * randn``.
    """

    def __init__(
        self,
        learning_rate: float = 1e-7,
        reg: float = 2.5e4,
        num_iters: int = 1500,
        batch_size: int = 200,
        seed: int | None = 0,
        verbose: bool = False,
        penalty: str = "l2",
    ) -> None:
        self.learning_rate = learning_rate
        self.reg = reg
        self.num_iters = num_iters
        self.batch_size = batch_size
        self.seed = seed
        self.verbose = verbose
        self.penalty = penalty

    def _loss(self, W: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def _check_params(self) -> None:
        name = type(self).__name__
        if not self.learning_rate > 0:
            raise ValueError(f"{name}: learning_rate must be > 0; got {self.learning_rate!r}")
        if not self.reg >= 0:
            raise ValueError(f"{name}: reg must be >= 0; got {self.reg!r}")
        for attr in ("num_iters", "batch_size"):
            v = getattr(self, attr)
            if not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{name}: {attr} must be a positive int; got {v!r}")
        if self.penalty not in ("l2", "l1"):
            raise ValueError(f"{name}: penalty must be 'l2' or 'l1'; got {self.penalty!r}")

    def fit(self, X: Any, y: Any) -> _LinearClassifier:
        """Train by minibatch SGD; ``loss_history_`` holds the loss of every step."""
        self._check_params()
        X, y = check_X_y(X, y, self)
        check_classification_targets(y, self)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__}: needs samples of at least 2 classes; got only "
                f"class {self.classes_[0]!r}"
            )
        n, d = X.shape
        self.n_features_in_ = d
        rng = np.random.default_rng(self.seed)
        W = 0.001 * rng.standard_normal((d + 1, len(self.classes_)))
        history = np.empty(self.num_iters)
        ones = np.ones((self.batch_size, 1), dtype=X.dtype)
        for it in range(self.num_iters):
            idx = rng.integers(0, n, size=self.batch_size)
            X_batch = np.hstack([X[idx], ones])  # the bias trick
            loss, dW = self._loss(W, X_batch, y_idx[idx])
            W -= self.learning_rate * dW
            history[it] = loss
            if self.verbose and (it % 100 == 0 or it == self.num_iters - 1):
                print(f"iteration {it} / {self.num_iters}: loss {loss:f}")
        self.W_ = W
        self.loss_history_ = history
        return self

    @property
    def coef_(self) -> np.ndarray:
        """The weights as scikit-learn lays them out, (n_classes, n_features)."""
        check_is_fitted(self, "W_")
        return self.W_[:-1].T

    @property
    def intercept_(self) -> np.ndarray:
        check_is_fitted(self, "W_")
        return self.W_[-1]

    def decision_function(self, X: Any) -> np.ndarray:
        """Class scores ``X @ W[:-1] + W[-1]``, shape (n_samples, n_classes)."""
        check_is_fitted(self, "W_")
        X = check_array(X, self)
        check_n_features(self, X)
        return X @ self.W_[:-1] + self.W_[-1]

    def predict(self, X: Any) -> np.ndarray:
        """The highest-scoring class of each sample."""
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy: the fraction of samples whose predicted class is ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def __repr__(self) -> str:
        keys = list(self.__init__.__code__.co_varnames[1 : self.__init__.__code__.co_argcount])
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in keys)})"


class LinearSVM(_LinearClassifier):
    """Multiclass linear SVM (Weston-Watkins hinge loss) trained by minibatch SGD.

    ``delta`` is the margin (its value only rescales ``W``; see the module docstring),
    ``squared=True`` the squared hinge, ``penalty`` ``'l2'`` or ``'l1'``. Other parameters and
    attributes as ``SoftmaxClassifier``; ``W_`` is (n_features + 1, n_classes), bias last.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(-2, 1, (50, 2)), rng.normal(2, 1, (50, 2))])
    >>> y = np.repeat([0, 1], 50)
    >>> LinearSVM(learning_rate=1e-2, reg=1e-3, num_iters=200).fit(X, y).score(X, y) > 0.95
    True
    """

    def __init__(
        self,
        learning_rate: float = 1e-7,
        reg: float = 2.5e4,
        num_iters: int = 1500,
        batch_size: int = 200,
        seed: int | None = 0,
        verbose: bool = False,
        delta: float = 1.0,
        squared: bool = False,
        penalty: str = "l2",
    ) -> None:
        super().__init__(learning_rate, reg, num_iters, batch_size, seed, verbose, penalty)
        self.delta = delta
        self.squared = squared

    def _loss(self, W: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        return svm_loss_vectorized(W, X, y, self.reg, self.delta, self.squared, self.penalty)


class SoftmaxClassifier(_LinearClassifier):
    """Softmax (multinomial logistic) classifier trained by minibatch SGD.

    Parameters
    ----------
    learning_rate, reg : the SGD step size and the regularisation strength.
    num_iters, batch_size : SGD steps, and samples drawn (with replacement) per step.
    seed : seeds the initial ``W`` and the minibatch draws (the fit repeats exactly).
    verbose : print the loss every 100 steps.
    penalty : ``'l2'`` (``reg * sum(W*W)``) or ``'l1'`` (``reg * sum(|W|)``).

    Attributes
    ----------
    W_ : (n_features + 1, n_classes), the bias in the last row.
    loss_history_ : the minibatch loss at each step (starts near ``ln(n_classes)``).
    classes_, n_features_in_, and ``coef_`` / ``intercept_`` views in scikit-learn's layout.
    """

    def _loss(self, W: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        return softmax_loss_vectorized(W, X, y, self.reg, self.penalty)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, the softmax of the scores, shape (n_samples, n_classes)."""
        s = self.decision_function(X)
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
