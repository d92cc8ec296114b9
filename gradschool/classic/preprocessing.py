"""Preprocessing: standardising features and expanding them into polynomials (textbook ch. 4).

Linear models are only as good as their features. Two transformations every linear-model
chapter uses:

* ``StandardScaler`` gives every feature zero mean and unit variance, ``(x - mean_) / scale_``.
  Gradient-based training (SGD, L-BFGS) converges far faster on standardised features,
  because the loss surface is then much closer to round; penalties such as Ridge's and Lasso's
  treat every coefficient alike only when the features share one scale. Fit the scaler on the
  training set only, then transform train and test with the same statistics.
* ``PolynomialFeatures`` turns ``[a, b]`` into ``[1, a, b, a^2, ab, b^2]``: a linear model on
  the expanded features is a polynomial model on the original ones (still linear in its
  parameters, so least squares still solves it in closed form).

Both follow scikit-learn's estimator conventions (``fit`` / ``transform`` /
``fit_transform``, hyperparameters in ``__init__``, learned state with a trailing
underscore) and give the same numbers as ``sklearn.preprocessing``.

The input checks shared by the classic estimators (``check_array``, ``check_X_y``,
``check_is_fitted``, ``NotFittedError``) live here too: they raise scikit-learn's messages.

>>> import numpy as np
>>> X = np.array([[1.0, 10.0], [3.0, 10.0]])
>>> StandardScaler().fit_transform(X)        # the constant column is left unscaled
array([[-1.,  0.],
       [ 1.,  0.]])
>>> PolynomialFeatures(2).fit(X).get_feature_names_out().tolist()
['1', 'x0', 'x1', 'x0^2', 'x0 x1', 'x1^2']
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

__all__ = [
    "NotFittedError",
    "PolynomialFeatures",
    "StandardScaler",
    "check_X_y",
    "check_array",
    "check_classification_targets",
    "check_is_fitted",
    "check_n_features",
]


# --------------------------------------------------------------------------- input checks


class NotFittedError(ValueError, AttributeError):
    """Raised when ``predict`` / ``transform`` is called before ``fit`` (as scikit-learn's)."""


def _name(estimator: Any) -> str:
    if estimator is None:
        return "the estimator"
    return estimator if isinstance(estimator, str) else type(estimator).__name__


def check_array(
    X: Any, estimator: Any = None, *, ensure_2d: bool = True, name: str = "X"
) -> np.ndarray:
    """``X`` as a finite floating-point array (float32 kept, anything else becomes float64).

    Raises scikit-learn's ``ValueError``s: a 1-D array where a 2-D one was expected (with
    the ``reshape`` hint), NaN or infinity, no samples, no features, non-numeric values.
    """
    try:
        arr = np.asarray(X)
        if arr.dtype != np.float32:
            arr = arr.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{_name(estimator)}: {name} must be numeric; got {err}") from None
    if ensure_2d:
        if arr.ndim != 2:
            if arr.ndim < 2:
                raise ValueError(
                    f"Expected 2D array, got {arr.ndim}D array instead:\n{name}={arr!r}.\n"
                    "Reshape your data either using array.reshape(-1, 1) if your data has a "
                    "single feature or array.reshape(1, -1) if it contains a single sample."
                )
            raise ValueError(
                f"Found array with dim {arr.ndim} while dim <= 2 is required by "
                f"{_name(estimator)}; flatten each sample first, e.g. X.reshape(len(X), -1)."
            )
        if arr.shape[0] < 1:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={arr.shape}) while a minimum of 1 is "
                f"required by {_name(estimator)}."
            )
        if arr.shape[1] < 1:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 is "
                f"required by {_name(estimator)}."
            )
    if not np.all(np.isfinite(arr)):
        what = (
            "NaN" if np.isnan(arr).any() else "infinity or a value too large for dtype('float64')"
        )
        raise ValueError(f"Input {name} contains {what}.")
    return arr


def check_X_y(
    X: Any, y: Any, estimator: Any = None, *, y_numeric: bool = False, multi_output: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``X`` (2-D, finite) and ``y`` (1-D, or 2-D when ``multi_output``), same length."""
    X = check_array(X, estimator)
    if y is None:
        raise ValueError(f"{_name(estimator)} requires y to be passed, but the target y is None.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and not multi_output:
        y = y.ravel()
    if y.ndim != 1 and not (multi_output and y.ndim == 2):
        raise ValueError(
            f"{_name(estimator)}: y should be a 1d array, got an array of shape {y.shape} instead."
        )
    if len(y) != len(X):
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{len(X)}, {len(y)}]"
        )
    if y_numeric:
        y = check_array(y, estimator, ensure_2d=False, name="y")
    return X, y


def check_classification_targets(y: np.ndarray, estimator: Any = None) -> None:
    """Refuse continuous targets for a classifier (scikit-learn's ``Unknown label type``)."""
    if y.dtype.kind == "f" and (not np.all(np.isfinite(y)) or np.any(y != np.round(y))):
        raise ValueError(
            f"{_name(estimator)}: Unknown label type: continuous. Maybe you are trying to fit a "
            "classifier, which expects discrete classes on a regression target with continuous "
            "values."
        )


def check_is_fitted(estimator: Any, attribute: str) -> None:
    """Raise ``NotFittedError`` unless ``estimator`` has the learned ``attribute``."""
    if getattr(estimator, attribute, None) is None:
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )


def check_n_features(estimator: Any, X: np.ndarray) -> None:
    """Raise scikit-learn's ``ValueError`` when ``X`` has another width than at ``fit``."""
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )


# --------------------------------------------------------------------------- StandardScaler


class StandardScaler:
    """Standardise features: ``z = (x - mean_) / scale_`` with statistics from ``fit``.

    ``var_`` is the population variance (``ddof=0``, as scikit-learn) and ``scale_`` its square
    root, except that a feature that is constant in the training set (variance zero, up to
    round-off) gets ``scale_ = 1``: it is centred but not divided by ~0, which would blow
    round-off noise up into huge values.

    Parameters
    ----------
    with_mean : subtract the mean (turn off for data whose zeros matter, e.g. sparse counts).
    with_std : divide by the standard deviation.

    Attributes
    ----------
    mean_ : per-feature mean (``None`` when neither centring nor scaling).
    var_, scale_ : per-feature variance and divisor (``None`` when ``with_std=False``).
    n_features_in_, n_samples_seen_.
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X: Any, y: Any = None) -> StandardScaler:
        """Compute ``mean_``, ``var_`` and ``scale_`` from ``X`` (n_samples, n_features)."""
        X = check_array(X, self)
        n = X.shape[0]
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = n
        if not (self.with_mean or self.with_std):
            self.mean_ = self.var_ = self.scale_ = None
            return self
        Xd = X.astype(np.float64, copy=False)
        self.mean_ = Xd.mean(axis=0)
        if not self.with_std:
            self.var_ = self.scale_ = None
            return self
        # two-pass variance, with the correction term that cancels the mean's round-off
        d = Xd - self.mean_
        self.var_ = (d * d).mean(axis=0) - (d.mean(axis=0)) ** 2
        # a variance within round-off of zero marks a constant feature (scikit-learn's bound)
        eps = np.finfo(np.float64).eps
        bound = n * eps * self.var_ + (n * self.mean_ * eps) ** 2
        scale = np.sqrt(self.var_)
        scale[self.var_ <= bound] = 1.0
        self.scale_ = scale
        return self

    def _checked(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_samples_seen_")
        X = check_array(X, self)
        check_n_features(self, X)
        return X

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean_) / scale_`` as a new array (float32 input stays float32)."""
        X = self._checked(X)
        out = X.copy()
        if self.with_mean:
            out -= self.mean_  # in place: float32 stays float32
        if self.with_std:
            out /= self.scale_
        return out

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo ``transform``: ``X * scale_ + mean_``."""
        X = self._checked(X)
        out = X.copy()
        if self.with_std:
            out *= self.scale_
        if self.with_mean:
            out += self.mean_
        return out

    def __repr__(self) -> str:
        return f"StandardScaler(with_mean={self.with_mean}, with_std={self.with_std})"


# --------------------------------------------------------------------------- PolynomialFeatures


class PolynomialFeatures:
    """All products of the features up to ``degree``, in scikit-learn's column order.

    With features ``[a, b]`` and ``degree=2`` the columns are ``[1, a, b, a^2, a b, b^2]``:
    the bias column (``include_bias``), then degree 1, then degree 2, each degree listing the
    index combinations in lexicographic order. ``interaction_only=True`` keeps only products
    of distinct features (``[1, a, b, a b]``). ``degree`` may be a pair ``(min_degree,
    max_degree)``. The number of columns grows as ``C(n_features + degree, degree)``: the
    feature map behind the polynomial kernel, written out explicitly.

    Attributes: ``powers_`` ((n_output_features, n_features): the exponent of each input in
    each output column), ``n_features_in_``, ``n_output_features_``.
    """

    def __init__(
        self,
        degree: int | tuple[int, int] = 2,
        include_bias: bool = True,
        interaction_only: bool = False,
    ) -> None:
        self.degree = degree
        self.include_bias = include_bias
        self.interaction_only = interaction_only

    def _degrees(self) -> tuple[int, int]:
        d = self.degree
        if isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0:
            return 0, int(d)
        if (
            isinstance(d, tuple)
            and len(d) == 2
            and all(isinstance(v, int | np.integer) and v >= 0 for v in d)
            and d[0] <= d[1]
        ):
            return int(d[0]), int(d[1])
        raise ValueError(
            "PolynomialFeatures: degree must be a non-negative int or a tuple (min_degree, "
            f"max_degree) with min_degree <= max_degree; got {d!r}"
        )

    def _combinations(self, n_features: int) -> list[tuple[int, ...]]:
        lo, hi = self._degrees()
        combine = (
            itertools.combinations
            if self.interaction_only
            else itertools.combinations_with_replacement
        )
        combos: list[tuple[int, ...]] = [()] if self.include_bias else []
        for d in range(max(1, lo), hi + 1):
            combos.extend(combine(range(n_features), d))
        return combos

    def fit(self, X: Any, y: Any = None) -> PolynomialFeatures:
        X = check_array(X, self)
        lo, hi = self._degrees()
        if hi == 0 and not self.include_bias:
            raise ValueError(
                "PolynomialFeatures: with degree 0 and include_bias=False there would be no "
                "output feature at all."
            )
        self.n_features_in_ = X.shape[1]
        combos = self._combinations(self.n_features_in_)
        powers = np.zeros((len(combos), self.n_features_in_), dtype=np.int64)
        for row, combo in enumerate(combos):
            for j in combo:
                powers[row, j] += 1
        self.powers_ = powers
        self.n_output_features_ = len(combos)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The expanded features, shape (n_samples, n_output_features_)."""
        check_is_fitted(self, "powers_")
        X = check_array(X, self)
        check_n_features(self, X)
        out = np.empty((X.shape[0], self.n_output_features_), dtype=X.dtype)
        for col, combo in enumerate(self._combinations(self.n_features_in_)):
            # one product per output column: X[:, i] * X[:, j] * ...
            out[:, col] = np.prod(X[:, list(combo)], axis=1)
        return out

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        return self.fit(X).transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names such as ``'1'``, ``'x0'``, ``'x0^2'``, ``'x0 x1'`` (object array, as sklearn)."""
        check_is_fitted(self, "powers_")
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        input_features = [str(f) for f in input_features]
        if len(input_features) != self.n_features_in_:
            raise ValueError(
                f"input_features should have length equal to number of features "
                f"({self.n_features_in_}), got {len(input_features)}"
            )
        names = []
        for row in self.powers_:
            terms = [
                input_features[j] if p == 1 else f"{input_features[j]}^{p}"
                for j, p in enumerate(row)
                if p
            ]
            names.append(" ".join(terms) if terms else "1")
        return np.asarray(names, dtype=object)

    def __repr__(self) -> str:
        return (
            f"PolynomialFeatures(degree={self.degree!r}, include_bias={self.include_bias}, "
            f"interaction_only={self.interaction_only})"
        )
