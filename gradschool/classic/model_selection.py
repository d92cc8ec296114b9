"""Choosing hyperparameters honestly: held-out splits, k-fold cross-validation, grid and random
search (CS231n §1 "hyperparameters, cross-validation"; L6 "hyperparameter optimisation").

A hyperparameter (the k of kNN, the regularisation strength of an SVM, a learning rate) is not
learnt by ``fit``; it is chosen by trying values and keeping the one that does best on data the
model did not train on. Never on the **test** set: a number measured on data used to make a
choice is no longer an estimate of how the model does on new data. So:

* ``train_test_split`` holds out a validation set (or the test set, once, at the start);
* ``KFold`` / ``StratifiedKFold`` cut the training set into k folds; each fold in turn is the
  validation set for a model trained on the other k - 1, and ``cross_val_score`` returns the k
  scores. The mean is a less noisy estimate than one split gives, at k times the cost (the
  course's advice: worth it for small data, a single validation split for big data and models);
* ``GridSearchCV`` cross-validates every combination of a grid of values; ``RandomizedSearchCV``
  draws ``n_iter`` combinations at random instead. Random search is the better default (Bergstra
  & Bengio 2012): when only a few hyperparameters matter, a grid of 9 points tries just 3 values
  of each, while 9 random points try 9 different values of the one that matters. Sample scale
  parameters (learning rate, regularisation) log-uniformly: ``loguniform(1e-5, 1e-1)`` spends as
  many draws on [1e-5, 1e-4] as on [1e-2, 1e-1].

The API is scikit-learn's (same names, arguments and results, e.g. ``cv_results_``), and so is
the estimator convention it relies on: an estimator stores each ``__init__`` argument as an
attribute of the same name, so ``clone(est)`` can build a fresh, unfitted copy from them. Objects
with scikit-learn's ``get_params``/``set_params`` use those; any other object is read through
its ``__init__`` signature (duck typing), so gradschool's estimators need no base class.

With ``n_jobs > 1`` the fits run in worker *processes* (``concurrent.futures``, "spawn" start
method): estimators and data must pickle, and an estimator that draws random numbers should take
a ``random_state``/seed argument (a worker does not share the parent's global generator). In a
script, call them under ``if __name__ == "__main__":``: each worker imports the script afresh.
"""

from __future__ import annotations

import copy
import inspect
import math
import multiprocessing
import numbers
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import product
from typing import Any

import numpy as np

__all__ = [
    "train_test_split",
    "KFold",
    "StratifiedKFold",
    "cross_val_score",
    "GridSearchCV",
    "RandomizedSearchCV",
    "ParameterGrid",
    "ParameterSampler",
    "loguniform",
    "uniform",
    "randint",
    "clone",
    "get_params",
    "set_params",
    "check_random_state",
]


# ----------------------------------------------------------------- helpers
def check_random_state(random_state: Any) -> Any:
    """A NumPy random generator from ``random_state``: an int seeds a fresh
    ``np.random.RandomState`` (so the splits equal scikit-learn's for the same seed); a
    ``RandomState`` or ``np.random.Generator`` is used as is; a gradschool ``Generator`` gives its
    NumPy generator; ``None`` seeds one from gradschool's default generator, so
    ``gradschool.manual_seed`` makes it repeat."""
    if random_state is None:
        from ..backend.random import default_generator

        return np.random.RandomState(int(default_generator.rng.integers(2**32)))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.RandomState(int(random_state))
    if isinstance(random_state, np.random.RandomState | np.random.Generator):
        return random_state
    if hasattr(random_state, "rng") and isinstance(random_state.rng, np.random.Generator):
        return random_state.rng
    raise ValueError(
        f"random_state must be None, an int, a np.random.RandomState/Generator or a gradschool "
        f"Generator, got {random_state!r}"
    )


def _integers(rng: Any, high: int) -> int:
    """One integer in [0, high) from either kind of NumPy generator."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(high))
    return int(rng.randint(high))


def _num_samples(x: Any, name: str = "X") -> int:
    if hasattr(x, "shape") and len(getattr(x, "shape", ())) > 0:
        return int(x.shape[0])
    try:
        return len(x)
    except TypeError:
        raise TypeError(
            f"{name} must be an array or a sequence of samples, got {type(x).__name__}"
        ) from None


def _take(x: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of an array, a Tensor, or a list (a list stays a list)."""
    if isinstance(x, list | tuple):
        return [x[i] for i in idx]
    return x[idx]


def _check_lengths(arrays: Sequence[Any], who: str) -> int:
    lengths = [_num_samples(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"{who}: all inputs must have the same number of samples, got {lengths}")
    return lengths[0]


# ----------------------------------------------------------------- one held-out split
def _split_sizes(
    n: int, test_size: float | int | None, train_size: float | int | None, default: float = 0.25
) -> tuple[int, int]:
    """The sizes of the train and test sets (scikit-learn's rules: a float is a fraction, the
    test fraction rounded up and the train fraction down; an int is a count; a missing size is
    the rest; both missing: 25% test)."""
    if test_size is None and train_size is None:
        test_size = default
    for name, size in (("test_size", test_size), ("train_size", train_size)):
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, numbers.Real):
            raise ValueError(f"{name} must be a float in (0, 1) or an int, got {size!r}")
        if isinstance(size, numbers.Integral) and not 0 < size < n:
            raise ValueError(
                f"{name}={size} must be a count between 1 and {n - 1} (there are {n} samples) "
                "or a fraction in (0, 1)"
            )
        if not isinstance(size, numbers.Integral) and not 0 < size < 1:
            raise ValueError(f"{name}={size} must be a fraction in (0, 1) or a count of samples")
    floats = [s for s in (test_size, train_size) if isinstance(s, float)]
    if len(floats) == 2 and sum(floats) > 1:
        raise ValueError(
            f"test_size + train_size = {sum(floats)} is more than 1; together they can take at "
            "most all the samples"
        )
    n_test = math.ceil(test_size * n) if isinstance(test_size, float) else test_size
    n_train = math.floor(train_size * n) if isinstance(train_size, float) else train_size
    if n_train is None:
        n_train = n - n_test
    if n_test is None:
        n_test = n - n_train
    if n_train + n_test > n:
        raise ValueError(
            f"train ({n_train}) + test ({n_test}) samples are more than the {n} there are"
        )
    if n_train == 0 or n_test == 0:
        raise ValueError(
            f"with {n} samples, test_size={test_size} and train_size={train_size} leave an empty "
            f"{'train' if n_train == 0 else 'test'} set; adjust the sizes"
        )
    return int(n_train), int(n_test)


def _largest_remainder(counts: np.ndarray, n_draws: int, rng: Any) -> np.ndarray:
    """How many of each class to draw so the draw keeps the classes' proportions: floor of each
    class's share, then one more for the classes with the largest remainders (ties at random)."""
    share = counts / counts.sum() * n_draws
    taken = np.floor(share)
    missing = int(n_draws - taken.sum())
    remainder = share - taken
    for value in np.sort(np.unique(remainder))[::-1]:
        if missing <= 0:
            break
        (tied,) = np.nonzero(remainder == value)
        pick = rng.choice(tied, size=min(len(tied), missing), replace=False)
        taken[pick] += 1
        missing -= len(pick)
    return taken.astype(int)


def _stratified_indices(
    y: Any, n_train: int, n_test: int, rng: Any
) -> tuple[np.ndarray, np.ndarray]:
    classes, y_idx = np.unique(np.asarray(y), return_inverse=True)
    counts = np.bincount(y_idx)
    if counts.min() < 2:
        raise ValueError(
            "train_test_split: the least populated class in stratify has only 1 member; each "
            "class needs at least 2 to appear on both sides"
        )
    if n_train < len(classes) or n_test < len(classes):
        raise ValueError(
            f"train_test_split: with stratify, train ({n_train}) and test ({n_test}) must each "
            f"hold at least one sample per class ({len(classes)} classes)"
        )
    per_class = np.split(np.argsort(y_idx, kind="mergesort"), np.cumsum(counts)[:-1])
    n_i = _largest_remainder(counts, n_train, rng)
    t_i = _largest_remainder(counts - n_i, n_test, rng)
    train, test = [], []
    for members, a, b in zip(per_class, n_i, t_i, strict=True):
        members = members[rng.permutation(len(members))]
        train.extend(members[:a])
        test.extend(members[a : a + b])
    return rng.permutation(train), rng.permutation(test)


def train_test_split(
    *arrays: Any,
    test_size: float | int | None = None,
    train_size: float | int | None = None,
    random_state: Any = None,
    shuffle: bool = True,
    stratify: Any = None,
) -> list[Any]:
    """Split each array into a random train part and test part, the same rows for every array:
    ``X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)``.

    Sizes as scikit-learn: a float is a fraction of the samples (the test fraction rounded up),
    an int a count; by default 25% go to test. ``shuffle=False`` takes the first rows for train
    and the next for test. ``stratify=y`` keeps each class's share equal on both sides.
    For the same int ``random_state`` the split (unstratified) equals scikit-learn's.
    """
    if not arrays:
        raise ValueError("train_test_split: pass at least one array to split")
    n = _check_lengths(arrays, "train_test_split")
    n_train, n_test = _split_sizes(n, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError(
                "train_test_split: stratify needs shuffle=True (a stratified split is random)"
            )
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    elif stratify is not None:
        if _num_samples(stratify, "stratify") != n:
            raise ValueError(
                f"train_test_split: stratify has {_num_samples(stratify)} labels for {n} samples"
            )
        train, test = _stratified_indices(
            stratify, n_train, n_test, check_random_state(random_state)
        )
    else:
        order = check_random_state(random_state).permutation(n)
        test, train = order[:n_test], order[n_test : n_test + n_train]
    out = []
    for a in arrays:
        out.extend([_take(a, train), _take(a, test)])
    return out


# ----------------------------------------------------------------- k folds
class KFold:
    """Cut ``n`` samples into ``n_splits`` consecutive folds (shuffled first if ``shuffle``);
    ``split`` yields ``(train_indices, test_indices)`` with each fold the test set once.

    The first ``n % n_splits`` folds get one sample more, as scikit-learn's: 10 samples in 3
    folds are 4 + 3 + 3.
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, random_state: Any = None) -> None:
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
            raise ValueError(f"{type(self).__name__}: n_splits must be an int, got {n_splits!r}")
        if n_splits < 2:
            raise ValueError(
                f"{type(self).__name__}: n_splits must be at least 2 (one fold to validate on, "
                f"others to train on), got {n_splits}"
            )
        if not shuffle and random_state is not None:
            raise ValueError(
                f"{type(self).__name__}: random_state has no effect when shuffle=False; "
                "leave it None or set shuffle=True"
            )
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def _test_folds(self, n: int, y: Any) -> Iterator[np.ndarray]:
        indices = np.arange(n)
        if self.shuffle:
            check_random_state(self.random_state).shuffle(indices)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        start = 0
        for size in sizes:
            yield indices[start : start + size]
            start += size

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = _num_samples(X)
        if self.n_splits > n:
            raise ValueError(
                f"{type(self).__name__}: cannot cut {n} samples into n_splits={self.n_splits} folds"
            )
        for test in self._test_folds(n, y):
            mask = np.zeros(n, dtype=bool)
            mask[test] = True
            yield np.flatnonzero(~mask), np.flatnonzero(mask)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, "
            f"random_state={self.random_state!r})"
        )


class StratifiedKFold(KFold):
    """``KFold`` that keeps each class's share the same in every fold (scikit-learn's
    algorithm, so the folds equal its folds): deal the sorted labels round-robin to count how
    many of each class each fold gets, then give each class's samples to the folds in blocks,
    in order (in random order if ``shuffle``). ``split`` needs ``y``."""

    def _test_folds(self, n: int, y: Any) -> Iterator[np.ndarray]:
        if y is None:
            raise ValueError("StratifiedKFold.split needs the labels y to stratify by")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n:
            raise ValueError(f"StratifiedKFold.split: y must be {n} labels, got shape {y.shape}")
        rng = check_random_state(self.random_state) if self.shuffle else None
        _, first, inverse = np.unique(y, return_index=True, return_inverse=True)
        # number the classes in order of first appearance
        y_enc = np.argsort(np.argsort(first))[inverse]
        n_classes = len(first)
        counts = np.bincount(y_enc)
        if np.all(self.n_splits > counts):
            raise ValueError(
                f"StratifiedKFold: n_splits={self.n_splits} is more than the number of samples "
                f"of every class ({counts.tolist()})"
            )
        y_sorted = np.sort(y_enc)
        allocation = np.array(
            [
                np.bincount(y_sorted[i :: self.n_splits], minlength=n_classes)
                for i in range(self.n_splits)
            ]
        )
        test_folds = np.empty(n, dtype=int)
        for k in range(n_classes):
            folds_k = np.repeat(np.arange(self.n_splits), allocation[:, k])
            if rng is not None:
                rng.shuffle(folds_k)
            test_folds[y_enc == k] = folds_k
        for i in range(self.n_splits):
            yield np.flatnonzero(test_folds == i)


def _is_classification_target(y: Any) -> bool:
    if y is None:
        return False
    y = np.asarray(y)
    if y.ndim != 1:
        return False
    if y.dtype.kind in "biuUSO":
        return True
    return y.dtype.kind == "f" and bool(np.all(np.isfinite(y) & (y == np.round(y))))


def check_cv(cv: Any, y: Any = None, estimator: Any = None) -> Any:
    """A splitter from ``cv``: an int k gives ``StratifiedKFold(k)`` for a classifier with class
    labels (scikit-learn's default; an estimator that says ``_estimator_type = "regressor"``
    gets ``KFold(k)``), a splitter (anything with ``split``) is used as is, and an iterable of
    ``(train, test)`` index pairs is taken as the folds."""
    if cv is None:
        cv = 5
    if isinstance(cv, str | bytes):
        raise ValueError(
            f"cv must be an int (number of folds), a splitter such as KFold(5), or a list of "
            f"(train, test) index pairs; got {cv!r}"
        )
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        regressor = getattr(estimator, "_estimator_type", None) == "regressor"
        if not regressor and _is_classification_target(y):
            return StratifiedKFold(int(cv))
        return KFold(int(cv))
    if hasattr(cv, "split"):
        return cv
    if isinstance(cv, Iterable):
        return _Folds(list(cv))
    raise ValueError(
        f"cv must be an int (number of folds), a splitter such as KFold(5), or a list of "
        f"(train, test) index pairs; got {cv!r}"
    )


class _Folds:
    def __init__(self, folds: list[tuple[Any, Any]]) -> None:
        for f in folds:
            if not (isinstance(f, tuple | list) and len(f) == 2):
                raise ValueError(
                    f"cv: each fold must be a (train, test) pair of indices, got {f!r}"
                )
        self.folds = [(np.asarray(a), np.asarray(b)) for a, b in folds]

    def get_n_splits(self, *args: Any, **kwargs: Any) -> int:
        return len(self.folds)

    def split(self, X: Any = None, y: Any = None, groups: Any = None) -> Iterator[Any]:
        yield from self.folds


# ----------------------------------------------------------------- estimator parameters
def _init_params(cls: type) -> list[str]:
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in sig.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def get_params(estimator: Any) -> dict[str, Any]:
    """The hyperparameters of ``estimator``: its ``get_params(deep=False)`` if it has one, else
    the attributes named like its ``__init__`` arguments (scikit-learn's convention)."""
    if hasattr(estimator, "get_params") and not isinstance(estimator, type):
        return dict(estimator.get_params(deep=False))
    params = {}
    for name in _init_params(type(estimator)):
        if not hasattr(estimator, name):
            raise TypeError(
                f"{type(estimator).__name__}.__init__ takes {name!r}, but the object has no "
                f"attribute {name!r}: to be cloned it must store each __init__ argument as an "
                f"attribute of the same name (self.{name} = {name}), scikit-learn's convention"
            )
        params[name] = getattr(estimator, name)
    return params


def set_params(estimator: Any, **params: Any) -> Any:
    """Set hyperparameters (``set_params`` if the estimator has it, else ``setattr`` of names
    its ``__init__`` takes; ``"inner__name"`` sets ``name`` on the parameter ``inner``).
    Returns the estimator."""
    if hasattr(estimator, "set_params"):
        estimator.set_params(**params)
        return estimator
    valid = _init_params(type(estimator))
    for key, value in params.items():
        name, _, rest = key.partition("__")
        if name not in valid:
            raise ValueError(
                f"{type(estimator).__name__} has no hyperparameter {name!r}; it takes "
                f"{', '.join(valid) or 'none'}"
            )
        if rest:
            set_params(getattr(estimator, name), **{rest: value})
        else:
            setattr(estimator, name, value)
    return estimator


def clone(estimator: Any) -> Any:
    """A new, unfitted estimator with the same hyperparameters: ``type(est)(**params)``, with
    estimators among the parameters cloned and other values deep-copied (nothing learnt comes
    along). Lists and tuples of estimators are cloned element-wise."""
    if isinstance(estimator, list | tuple | set | frozenset):
        return type(estimator)(clone(e) for e in estimator)
    if isinstance(estimator, type) or not (
        hasattr(estimator, "fit") or hasattr(estimator, "get_params")
    ):
        return copy.deepcopy(estimator)
    params = get_params(estimator)
    new = {
        k: clone(v) if hasattr(v, "fit") and not isinstance(v, type) else copy.deepcopy(v)
        for k, v in params.items()
    }
    try:
        return type(estimator)(**new)
    except TypeError as e:
        raise TypeError(
            f"clone: cannot rebuild {type(estimator).__name__} from its parameters "
            f"{sorted(new)}: {e}"
        ) from None


# ----------------------------------------------------------------- scoring
def _accuracy(estimator: Any, X: Any, y: Any) -> float:
    return float(np.mean(np.asarray(estimator.predict(X)) == np.asarray(y)))


def _neg_mse(estimator: Any, X: Any, y: Any) -> float:
    diff = np.asarray(estimator.predict(X), dtype=np.float64) - np.asarray(y, dtype=np.float64)
    return -float(np.mean(diff**2))


SCORERS: dict[str, Callable[[Any, Any, Any], float]] = {
    "accuracy": _accuracy,
    "neg_mean_squared_error": _neg_mse,
}


def check_scoring(estimator: Any, scoring: Any) -> Callable[[Any, Any, Any], float]:
    """``scoring`` as a function ``(fitted_estimator, X, y) -> float`` (higher is better):
    ``None`` uses the estimator's own ``score``; a name from ``SCORERS``; or a callable."""
    if scoring is None:
        if not hasattr(estimator, "score"):
            raise TypeError(
                f"{type(estimator).__name__} has no score method; pass scoring='accuracy' or a "
                "function scorer(estimator, X, y)"
            )
        return _estimator_score
    if isinstance(scoring, str):
        if scoring not in SCORERS:
            raise ValueError(f"unknown scoring {scoring!r}; known: {', '.join(SCORERS)}")
        return SCORERS[scoring]
    if callable(scoring):
        return scoring
    raise ValueError(f"scoring must be None, a name or a callable, got {scoring!r}")


def _estimator_score(estimator: Any, X: Any, y: Any) -> float:
    return float(estimator.score(X, y))


# ----------------------------------------------------------------- fitting in workers
def _split_rows(X: Any, y: Any, train: np.ndarray, test: np.ndarray) -> tuple[Any, ...]:
    """``X_train, y_train, X_test, y_test`` of one fold (``y`` parts None without ``y``)."""
    if y is None:
        return _take(X, train), None, _take(X, test), None
    return _take(X, train), _take(y, train), _take(X, test), _take(y, test)


def _fit_and_score(
    estimator: Any,
    params: Mapping[str, Any] | None,
    fold: tuple[Any, Any, Any, Any],
    scorer: Callable[[Any, Any, Any], float],
    return_train_score: bool = False,
) -> dict[str, float]:
    """Clone, set ``params``, fit on the fold's training rows, score on its held-out rows."""
    X_train, y_train, X_test, y_test = fold
    est = clone(estimator)
    if params:
        set_params(est, **params)
    start = time.perf_counter()
    if y_train is None:
        est.fit(X_train)
    else:
        est.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    out = {"test_score": float(scorer(est, X_test, y_test)), "fit_time": fit_time}
    out["score_time"] = time.perf_counter() - start - fit_time
    if return_train_score:
        out["train_score"] = float(scorer(est, X_train, y_train))
    return out


_WORKER_DATA: dict[str, Any] = {}


def _worker_init(X: Any, y: Any) -> None:
    """Runs once in each worker process: keep the data, so it is sent once per worker rather
    than once per task."""
    _WORKER_DATA["X"], _WORKER_DATA["y"] = X, y


def _worker_task(estimator: Any, params: Any, train: Any, test: Any, scorer: Any, rts: bool) -> Any:
    fold = _split_rows(_WORKER_DATA["X"], _WORKER_DATA["y"], train, test)
    return _fit_and_score(estimator, params, fold, scorer, rts)


def effective_n_jobs(n_jobs: int | None) -> int:
    """``None`` -> 1, ``-1`` -> every CPU, ``-2`` -> all but one, ...; a positive int as is."""
    if n_jobs is None or n_jobs == 0:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise ValueError(f"n_jobs must be an int or None, got {n_jobs!r}")
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))
    return int(n_jobs)


@contextmanager
def limited_threads(n_workers: int) -> Iterator[None]:
    """While worker processes start, cap each one's BLAS/OpenMP threads to its share of the
    CPUs (unless the user set the variables), so n workers do not fight over the cores."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    share = str(max(1, (os.cpu_count() or 1) // max(n_workers, 1)))
    saved = {k: os.environ.get(k) for k in names}
    for k in names:
        os.environ.setdefault(k, share)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)


def process_pool(n_workers: int, initializer: Any = None, initargs: tuple[Any, ...] = ()) -> Any:
    """A ``ProcessPoolExecutor`` whose workers start fresh interpreters ("spawn"): safe with
    threads in the parent and the same on every OS. Tasks and their arguments must be picklable
    (top-level functions, importable classes)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=n_workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=initializer,
        initargs=initargs,
    )


def _run_fits(
    estimator: Any,
    candidates: Sequence[Mapping[str, Any] | None],
    X: Any,
    y: Any,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    scorer: Any,
    n_jobs: int | None,
    return_train_score: bool = False,
) -> list[list[dict[str, float]]]:
    """Every candidate on every fold; results[c][f]. In order whatever ``n_jobs`` is."""
    tasks = [(c, f) for c in range(len(candidates)) for f in range(len(folds))]
    n_workers = min(effective_n_jobs(n_jobs), len(tasks))
    results: list[list[Any]] = [[None] * len(folds) for _ in candidates]
    if n_workers <= 1:  # fold by fold: each fold's rows are copied out once, not per candidate
        for f, (train, test) in enumerate(folds):
            fold = _split_rows(X, y, train, test)
            for c, params in enumerate(candidates):
                results[c][f] = _fit_and_score(estimator, params, fold, scorer, return_train_score)
        return results
    with limited_threads(n_workers), process_pool(n_workers, _worker_init, (X, y)) as pool:
        futures = {
            pool.submit(
                _worker_task, estimator, candidates[c], *folds[f], scorer, return_train_score
            ): (c, f)
            for c, f in tasks
        }
        for future, (c, f) in futures.items():
            results[c][f] = future.result()
    return results


def cross_val_score(
    estimator: Any,
    X: Any,
    y: Any = None,
    cv: Any = 5,
    scoring: Any = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """The validation score of ``estimator`` on each of the ``cv`` folds: a fresh clone is fit
    on the other folds and scored (``scoring``, default its ``score``) on the held-out one.

    >>> scores = cross_val_score(model, X, y, cv=5)   # doctest: +SKIP
    >>> scores.mean(), scores.std()                   # doctest: +SKIP
    """
    _check_lengths([X] if y is None else [X, y], "cross_val_score")
    folds = list(check_cv(cv, y, estimator).split(X, y))
    if not folds:
        raise ValueError("cross_val_score: the cv splitter produced no folds")
    results = _run_fits(estimator, [None], X, y, folds, check_scoring(estimator, scoring), n_jobs)
    return np.array([r["test_score"] for r in results[0]])


# ----------------------------------------------------------------- the search spaces
class ParameterGrid:
    """Every combination of the values in ``param_grid`` (a dict of lists, or a list of such
    dicts for grids of different shapes), in scikit-learn's order: keys sorted, the last one
    varying fastest. ``len`` and indexing work without building the whole list."""

    def __init__(self, param_grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]):
        grids = [param_grid] if isinstance(param_grid, Mapping) else list(param_grid)
        for g in grids:
            if not isinstance(g, Mapping):
                raise TypeError(f"param_grid must be a dict or a list of dicts, got {g!r}")
            for k, v in g.items():
                if isinstance(v, str) or not isinstance(v, Sequence | np.ndarray):
                    raise TypeError(
                        f"param_grid: the values of {k!r} must be a list of candidates, got {v!r}"
                        f" (write [{v!r}] for a single value)"
                    )
                if len(v) == 0:
                    raise ValueError(f"param_grid: {k!r} has an empty list of values")
        self.grids = [dict(sorted(g.items())) for g in grids]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for g in self.grids:
            keys = list(g)
            for values in product(*(g[k] for k in keys)):
                yield dict(zip(keys, values, strict=True))

    def __len__(self) -> int:
        return sum(math.prod(len(v) for v in g.values()) for g in self.grids)

    def __getitem__(self, index: int) -> dict[str, Any]:
        for g in self.grids:
            size = math.prod(len(v) for v in g.values())
            if index < size:
                out = {}
                for k in reversed(list(g)):
                    index, i = divmod(index, len(g[k]))
                    out[k] = g[k][i]
                return dict(sorted(out.items()))
            index -= size
        raise IndexError("ParameterGrid index out of range")


class _Distribution:
    """A distribution to sample a hyperparameter from: ``rvs(size=None, random_state=None)``,
    the method scipy.stats' frozen distributions have, so those work too."""

    def rvs(self, size: Any = None, random_state: Any = None) -> Any:
        rng = check_random_state(random_state)
        u = rng.random_sample(size) if hasattr(rng, "random_sample") else rng.random(size)
        x = self._from_unit(np.asarray(u))
        return x if size is not None else x.item()


class loguniform(_Distribution):  # noqa: N801 - scipy.stats' name
    """Log-uniform on ``[a, b]``: ``log(x)`` is uniform, so each decade gets equally many draws
    (the way to sample learning rates and regularisation strengths)."""

    log = True

    def __init__(self, a: float, b: float) -> None:
        if not 0 < a < b:
            raise ValueError(f"loguniform(a, b) needs 0 < a < b, got a={a}, b={b}")
        self.a, self.b = float(a), float(b)

    def _from_unit(self, u: Any) -> Any:
        return np.exp(np.log(self.a) + u * (np.log(self.b) - np.log(self.a)))

    def __repr__(self) -> str:
        return f"loguniform({self.a:g}, {self.b:g})"


class uniform(_Distribution):  # noqa: N801
    """Uniform on ``[a, b]``. (Unlike ``scipy.stats.uniform(loc, scale)``, whose interval is
    ``[loc, loc + scale]``, the arguments here are the two ends, as ``loguniform``'s.)"""

    log = False

    def __init__(self, a: float, b: float) -> None:
        if not a < b:
            raise ValueError(f"uniform(a, b) needs a < b, got a={a}, b={b}")
        self.a, self.b = float(a), float(b)

    def _from_unit(self, u: Any) -> Any:
        return self.a + u * (self.b - self.a)

    def __repr__(self) -> str:
        return f"uniform({self.a:g}, {self.b:g})"


class randint(_Distribution):  # noqa: N801
    """Integers uniform on ``[low, high)`` (as ``scipy.stats.randint``)."""

    def __init__(self, low: int, high: int) -> None:
        if not low < high:
            raise ValueError(f"randint(low, high) needs low < high, got {low}, {high}")
        self.a, self.b = int(low), int(high)

    def _from_unit(self, u: Any) -> Any:
        return np.minimum(self.a + np.floor(u * (self.b - self.a)), self.b - 1).astype(int)

    def __repr__(self) -> str:
        return f"randint({self.a}, {self.b})"


class ParameterSampler:
    """``n_iter`` random combinations from ``param_distributions`` (a dict, or a list of dicts
    of which one is picked at random each time): each value is drawn from its distribution
    (anything with ``rvs``) or uniformly from its list. If every value is a list, the draws are
    distinct grid points (without replacement), at most the whole grid."""

    def __init__(self, param_distributions: Any, n_iter: int, random_state: Any = None) -> None:
        dists = (
            [param_distributions]
            if isinstance(param_distributions, Mapping)
            else list(param_distributions)
        )
        for d in dists:
            if not isinstance(d, Mapping):
                raise TypeError(f"param_distributions must be a dict or a list of dicts, got {d!r}")
            for k, v in d.items():
                if not hasattr(v, "rvs") and (
                    isinstance(v, str) or not isinstance(v, Sequence | np.ndarray) or len(v) == 0
                ):
                    raise TypeError(
                        f"param_distributions: {k!r} must be a distribution (with rvs, e.g. "
                        f"loguniform(1e-4, 1e-1)) or a non-empty list of values, got {v!r}"
                    )
        if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1:
            raise ValueError(f"n_iter must be a positive int, got {n_iter!r}")
        self.dists = [dict(sorted(d.items())) for d in dists]
        self.n_iter = int(n_iter)
        self.random_state = random_state

    def _all_lists(self) -> bool:
        return all(not hasattr(v, "rvs") for d in self.dists for v in d.values())

    def __len__(self) -> int:
        if self._all_lists():
            return min(self.n_iter, len(ParameterGrid(self.dists)))
        return self.n_iter

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rng = check_random_state(self.random_state)
        if self._all_lists():
            grid = ParameterGrid(self.dists)
            for i in rng.permutation(len(grid))[: len(self)]:
                yield grid[int(i)]
            return
        for _ in range(self.n_iter):
            d = self.dists[_integers(rng, len(self.dists))]
            yield {
                k: v.rvs(random_state=rng) if hasattr(v, "rvs") else v[_integers(rng, len(v))]
                for k, v in d.items()
            }


# ----------------------------------------------------------------- the searches
def _min_rank(scores: np.ndarray) -> np.ndarray:
    """1 for the best score, ties share the best rank (scipy's ``rankdata(-s, 'min')``); NaN
    scores rank last."""
    key = np.where(np.isnan(scores), -np.inf, scores)
    order = np.sort(key)[::-1]
    return (np.searchsorted(-order, -key, side="left") + 1).astype(np.int32)


class BaseSearchCV:
    """What grid and random search share: cross-validate every candidate, keep the best."""

    def __init__(
        self,
        estimator: Any,
        cv: Any = 5,
        scoring: Any = None,
        refit: bool = True,
        n_jobs: int | None = None,
        return_train_score: bool = False,
        verbose: int = 0,
    ) -> None:
        self.estimator = estimator
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.return_train_score = return_train_score
        self.verbose = verbose

    def _candidates(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def fit(self, X: Any, y: Any = None) -> BaseSearchCV:
        """Cross-validate every candidate, then (with ``refit``) fit the best on all of X."""
        _check_lengths([X] if y is None else [X, y], type(self).__name__)
        candidates = self._candidates()
        scorer = check_scoring(self.estimator, self.scoring)
        splitter = check_cv(self.cv, y, self.estimator)
        folds = list(splitter.split(X, y))
        if self.verbose:
            print(
                f"{type(self).__name__}: {len(candidates)} candidates x {len(folds)} folds = "
                f"{len(candidates) * len(folds)} fits"
            )
        results = _run_fits(
            self.estimator, candidates, X, y, folds, scorer, self.n_jobs, self.return_train_score
        )
        self.cv_results_ = self._results(candidates, results, len(folds))
        self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
        self.best_params_ = candidates[self.best_index_]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.n_splits_ = len(folds)
        self.scorer_ = scorer
        if self.refit:
            est = set_params(clone(self.estimator), **self.best_params_)
            start = time.perf_counter()
            if y is None:
                est.fit(X)
            else:
                est.fit(X, y)
            self.refit_time_ = time.perf_counter() - start
            self.best_estimator_ = est
        return self

    def _results(
        self, candidates: list[dict[str, Any]], results: list[list[dict[str, float]]], k: int
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("fit_time", "score_time"):
            arr = np.array([[r[key] for r in row] for row in results])
            out[f"mean_{key}"], out[f"std_{key}"] = arr.mean(axis=1), arr.std(axis=1)
        names = sorted({name for c in candidates for name in c})
        for name in names:
            col = np.ma.MaskedArray(np.empty(len(candidates), dtype=object), mask=True)
            for i, c in enumerate(candidates):
                if name in c:
                    col[i] = c[name]
            out[f"param_{name}"] = col
        out["params"] = candidates
        sets = ["test", "train"] if self.return_train_score else ["test"]
        for which in sets:
            scores = np.array([[r[f"{which}_score"] for r in row] for row in results])
            for f in range(k):
                out[f"split{f}_{which}_score"] = scores[:, f]
            out[f"mean_{which}_score"] = scores.mean(axis=1)
            out[f"std_{which}_score"] = scores.std(axis=1)
            if which == "test":
                out["rank_test_score"] = _min_rank(out["mean_test_score"])
        return out

    def _fitted(self, what: str) -> Any:
        if not hasattr(self, "best_estimator_"):
            from .preprocessing import NotFittedError  # a ValueError too, as scikit-learn's

            raise NotFittedError(
                f"{type(self).__name__}.{what} needs the search fitted with refit=True; call "
                "fit(X, y) first"
            )
        return self.best_estimator_

    def predict(self, X: Any) -> Any:
        return self._fitted("predict").predict(X)

    def predict_proba(self, X: Any) -> Any:
        return self._fitted("predict_proba").predict_proba(X)

    def decision_function(self, X: Any) -> Any:
        return self._fitted("decision_function").decision_function(X)

    def score(self, X: Any, y: Any = None) -> float:
        return float(self.scorer_(self._fitted("score"), X, y))


class GridSearchCV(BaseSearchCV):
    """Cross-validate every combination in ``param_grid`` and keep the best.

    >>> search = GridSearchCV(LinearSVM(), {"learning_rate": [1e-7, 1e-6], "reg": [1e3, 1e4]})  # doctest: +SKIP
    >>> search.fit(X, y).best_params_                                                          # doctest: +SKIP

    After ``fit``: ``best_params_``, ``best_score_`` (mean validation score), ``best_estimator_``
    (refit on all the data), ``best_index_`` and ``cv_results_`` (a dict of arrays, one entry per
    candidate: ``params``, ``param_<name>``, ``split<k>_test_score``, ``mean_test_score``,
    ``std_test_score``, ``rank_test_score``, timings). A grid of 3 values per hyperparameter
    costs 3^d fits per fold; ``RandomizedSearchCV`` is usually the better buy.
    """

    def __init__(
        self,
        estimator: Any,
        param_grid: Any,
        cv: Any = 5,
        scoring: Any = None,
        refit: bool = True,
        n_jobs: int | None = None,
        return_train_score: bool = False,
        verbose: int = 0,
    ) -> None:
        super().__init__(estimator, cv, scoring, refit, n_jobs, return_train_score, verbose)
        self.param_grid = param_grid

    def _candidates(self) -> list[dict[str, Any]]:
        return list(ParameterGrid(self.param_grid))


class RandomizedSearchCV(BaseSearchCV):
    """Cross-validate ``n_iter`` random draws from ``param_distributions`` and keep the best:
    values are drawn from distributions (``loguniform(1e-4, 1e-1)``, ``uniform(0, 1)``,
    ``randint(1, 20)``, or any object with ``rvs(random_state=...)``) or picked from lists.

    Why random beats grid (Bergstra & Bengio 2012): with the same budget of 9 fits and two
    hyperparameters of which one barely matters, a 3x3 grid sees 3 values of the important one,
    random search sees 9. Results as ``GridSearchCV``'s.
    """

    def __init__(
        self,
        estimator: Any,
        param_distributions: Any,
        n_iter: int = 10,
        cv: Any = 5,
        scoring: Any = None,
        refit: bool = True,
        n_jobs: int | None = None,
        random_state: Any = None,
        return_train_score: bool = False,
        verbose: int = 0,
    ) -> None:
        super().__init__(estimator, cv, scoring, refit, n_jobs, return_train_score, verbose)
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state

    def _candidates(self) -> list[dict[str, Any]]:
        return list(ParameterSampler(self.param_distributions, self.n_iter, self.random_state))
