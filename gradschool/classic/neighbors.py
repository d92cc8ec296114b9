"""k-nearest neighbours: classify (or regress) by looking up the closest training examples.

CS231n lecture 2. "Training" a nearest-neighbour model is memorising the training set;
prediction finds, for each test row, the ``k`` training rows at the smallest distance
(``distances.py``: L1 with ``p=1``, L2 with ``p=2``) and lets them vote. ``k = 1`` copies the
label of the single closest image, which follows every noisy label (jagged decision
boundaries); a larger ``k`` smooths the boundaries. ``k`` and the distance are
*hyperparameters*: chosen on validation data or by cross-validation, never on the test set.
Prediction costs ``O(N * D)`` per test row, the wrong way round for deployment (cheap to
train, expensive to use), and distances between raw pixels say little about what the images
show, which is why the course moves on to learned features.

``KNeighborsClassifier`` and ``KNeighborsRegressor`` follow scikit-learn's estimator API and
return exactly what ``sklearn.neighbors.KNeighborsClassifier(algorithm='brute')`` and
``KNeighborsRegressor`` return, ties included (tested on Fashion-MNIST and on data with
duplicate points):

* **Votes.** ``weights='uniform'``: each neighbour has one vote. ``weights='distance'``: a
  neighbour at distance ``d`` has ``1 / d`` votes, and if some neighbours are at distance 0
  exactly, only those vote, one vote each. A tie between classes goes to the smallest label.
* **Ties between neighbours.** When several training rows are at the same distance as the
  k-th nearest, which of them count as neighbours is scikit-learn's choice: its brute-force
  search scans the training rows in order with a max-heap of the ``k`` best so far, and a row
  enters only if strictly closer than the current k-th, evicting the heap's root. That is
  neither "lowest index first" nor a stable sort. Here the neighbours come from
  ``argpartition`` (vectorised), and only the rare test rows with such a tie are re-scanned
  with the same heap (``_heap_scan``), so the same rows vote, listed in the same order (for ``k <= 15``; beyond,
  scikit-learn's final sort is not stable and may list equidistant rows otherwise).
  (With many more training than test rows and many cores, scikit-learn may split the scan
  over threads, and its choice among tied rows then depends on the thread count; this
  follows its single scan, which its ``predict`` with uniform weights always uses.)

**Speed.** Distances come a block of test rows at a time (``distances.py``: one GEMM per
block; 512 MiB of temporaries). Picking the ``k`` smallest of each row of 60,000 would cost
more than the GEMM, so ``_candidates`` first narrows each row to the few hundred entries
that can win (those below the k-th smallest of a 1,000-column sample), and ``argpartition``
runs on those. 10,000 Fashion-MNIST test images against 60,000 training images take ~15 s
on 2 CPU cores, about as long as scikit-learn's compiled search.

Distances are float64; L2 uses the GEMM expansion and the square root is taken only for the
distances returned. On data whose distances are computed exactly (integer pixel values), the
results are bit-for-bit scikit-learn's; on general floats, two distances that differ only by
round-off may be ordered differently.

>>> import numpy as np
>>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
>>> y = np.array([0, 0, 1, 1])
>>> knn = KNeighborsClassifier(n_neighbors=3).fit(X, y)
>>> knn.predict([[0.4], [9.0]])
array([0, 1])
>>> knn.kneighbors([[0.4]])
(array([[0.4, 0.6, 1.6]]), array([[0, 1, 2]]))
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .distances import _block_rows, pairwise_distances_chunked
from .preprocessing import check_array, check_is_fitted, check_n_features, check_X_y

__all__ = ["KNeighborsClassifier", "KNeighborsRegressor"]


# --------------------------------------------------------------------------- ties as sklearn


def _heap_push(values: list[float], indices: list[int], val: float, idx: int) -> None:
    """Push ``(val, idx)`` onto a full max-heap of size ``len(values)`` (root = largest kept),
    evicting the root; a value not strictly smaller than the root is ignored. The same steps
    as scikit-learn's ``sklearn/utils/_heap.pyx``, so ties are broken the same way."""
    if val >= values[0]:
        return
    size = len(values)
    cur = 0
    while True:
        left = 2 * cur + 1
        right = left + 1
        if left >= size:
            break
        if right >= size:
            if values[left] > val:
                swap = left
            else:
                break
        elif values[left] >= values[right]:
            if val < values[left]:
                swap = left
            else:
                break
        elif val < values[right]:
            swap = right
        else:
            break
        values[cur] = values[swap]
        indices[cur] = indices[swap]
        cur = swap
    values[cur] = val
    indices[cur] = idx


def _heap_scan(row: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest of one row of distances as scikit-learn's brute force finds them: a
    heap fed the training rows in order, then sorted by distance, equal distances kept in
    heap order. Only rows that can enter (closer than the heap's root) are pushed one by one.
    (scikit-learn sorts with an insertion sort, stable, up to k = 15; beyond, with introsort,
    where the order among equal distances can differ from this one, not the set.)"""
    values = [np.finfo(np.float64).max] * k
    indices = [0] * k
    start, step = 0, k
    while start < row.shape[0]:  # blocks of k, 2k, 4k, ...: the root falls fast, then rarely
        seg = row[start : start + step]
        for j in np.flatnonzero(seg < values[0]).tolist():
            if seg[j] < values[0]:
                _heap_push(values, indices, float(seg[j]), start + j)
        start += step
        step = min(2 * step, 4096)
    order = sorted(range(k), key=values.__getitem__)  # stable, as an insertion sort
    return np.array([values[i] for i in order]), np.array([indices[i] for i in order])


def _candidates(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Narrow each row of ``block`` down to the entries that can be among its ``k`` smallest.

    Sorting, or even ``argpartition``, of 60,000 distances per row costs more than computing
    them. Instead: the ``k``-th smallest of an evenly spaced sample of ~1,000 columns is at
    least the row's ``k``-th smallest, so every entry below it is a candidate -- about
    ``k * n / 1000`` of them -- found by one comparison. Returns the candidates' values
    (rows padded with ``inf``) and their columns; or ``block`` itself and None when that
    would not pay (few columns, a large ``k``, or many candidates).
    """
    n = block.shape[1]
    step = n // 1024
    if step < 4 or k > 64:
        return block, None
    threshold = np.partition(block[:, ::step], k - 1, axis=1)[:, k - 1 : k]
    rows, cols = np.nonzero(block <= threshold)
    counts = np.bincount(rows, minlength=block.shape[0])
    width = int(counts.max())
    if width > n // 8:
        return block, None
    pos = np.arange(len(rows)) - (np.cumsum(counts) - counts)[rows]
    values = np.full((block.shape[0], width), np.inf)
    values[rows, pos] = block[rows, cols]
    columns = np.zeros((block.shape[0], width), dtype=np.intp)
    columns[rows, pos] = cols
    return values, columns


def _k_smallest(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest entries of each row of ``block``, ascending, and their columns."""
    values, columns = _candidates(block, k)
    if k < values.shape[1]:
        ind = np.argpartition(values, k - 1, axis=1)[:, :k]
    else:
        ind = np.broadcast_to(np.arange(values.shape[1]), values.shape).copy()
    dist = np.take_along_axis(values, ind, axis=1)
    order = np.argsort(dist, axis=1, kind="stable")
    dist = np.take_along_axis(dist, order, axis=1)
    ind = np.take_along_axis(ind, order, axis=1)
    # where the k-th distance is shared with an entry left out, or two chosen entries are
    # equally far, the choice (or order) is the heap's: re-scan those rows as scikit-learn
    tied = np.count_nonzero(values <= dist[:, -1:], axis=1) > k
    tied |= np.any(dist[:, 1:] == dist[:, :-1], axis=1)
    if columns is not None:
        ind = np.take_along_axis(columns, ind, axis=1)
    for r in np.flatnonzero(tied):
        dist[r], ind[r] = _heap_scan(block[r], k)
    return dist, ind


def _get_weights(dist: np.ndarray, weights: Any) -> np.ndarray | None:
    """Vote weights for neighbours at distances ``dist`` (None: uniform)."""
    if weights == "uniform":
        return None
    if weights == "distance":
        with np.errstate(divide="ignore"):
            w = 1.0 / dist
        # a neighbour at distance 0 gets 1 / 0 = inf: then only such neighbours vote, 1 each
        inf = np.isinf(w)
        rows = inf.any(axis=1)
        w[rows] = inf[rows]
        return w
    w = np.asarray(weights(dist), dtype=np.float64)
    if w.shape != dist.shape:
        raise ValueError(
            f"the weights function must return an array of the distances' shape {dist.shape}; "
            f"got {w.shape}"
        )
    return w


# --------------------------------------------------------------------------- the estimators


class _KNeighbors:
    """What the classifier and the regressor share: hyperparameters, ``fit``'s memorising,
    the neighbour search and scikit-learn's ``get_params`` / ``set_params``."""

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        weights: str | Callable[[np.ndarray], np.ndarray] = "uniform",
        p: int = 2,
        chunk_size: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.p = p
        self.chunk_size = chunk_size

    # ---- scikit-learn's estimator plumbing

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [n for n in sig.parameters if n != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyperparameters, as passed to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> _KNeighbors:
        """Set hyperparameters by name (as in scikit-learn); returns ``self``."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {valid!r}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {n: p.default for n, p in inspect.signature(type(self)).parameters.items()}
        changed = [
            f"{n}={v!r}" for n, v in self.get_params().items() if not _same(v, defaults.get(n))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # ---- fit

    def _check_params(self) -> None:
        name = type(self).__name__
        k = self.n_neighbors
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(
                f"The 'n_neighbors' parameter of {name} must be an int in the range [1, inf). "
                f"Got {k!r} instead."
            )
        if not (self.weights in ("uniform", "distance") or callable(self.weights)):
            raise ValueError(
                f"The 'weights' parameter of {name} must be a str among {{'uniform', "
                f"'distance'}} or a callable. Got {self.weights!r} instead."
            )
        if isinstance(self.p, bool) or self.p not in (1, 2):
            raise ValueError(
                f"The 'p' parameter of {name} must be 1 (L1, Manhattan distance) or 2 (L2, "
                f"Euclidean distance). Got {self.p!r} instead."
            )
        _block_rows(1, 1, self.chunk_size)  # raises for a bad chunk_size

    def _memorise(self, X: np.ndarray) -> None:
        self._fit_X = np.ascontiguousarray(X, dtype=np.float64)
        self._fit_sq_norms = np.einsum("ij,ij->i", self._fit_X, self._fit_X)
        self.n_features_in_ = X.shape[1]
        self.n_samples_fit_ = X.shape[0]
        self.effective_metric_ = "euclidean" if self.p == 2 else "manhattan"

    # ---- the neighbour search

    def kneighbors(
        self, X: Any = None, n_neighbors: int | None = None, return_distance: bool = True
    ) -> Any:
        """The ``n_neighbors`` nearest training rows of each row of ``X``, nearest first.

        Returns ``(distances, indices)``, both (n_queries, n_neighbors), or only ``indices``
        when ``return_distance=False``. ``n_neighbors`` defaults to the constructor's. With
        ``X=None`` the queries are the training rows themselves, each not counted as its own
        neighbour (leave-one-out), as in scikit-learn.
        """
        check_is_fitted(self, "_fit_X")
        name = type(self).__name__
        if n_neighbors is None:
            k = self.n_neighbors
        elif isinstance(n_neighbors, bool) or not isinstance(n_neighbors, numbers.Integral):
            raise TypeError(
                f"n_neighbors does not take {type(n_neighbors)} value, enter integer value"
            )
        elif n_neighbors <= 0:
            raise ValueError(f"Expected n_neighbors > 0. Got {n_neighbors}")
        else:
            k = int(n_neighbors)
        query_is_train = X is None
        if query_is_train:
            X, k = self._fit_X, k + 1  # one more: the row itself comes back and is dropped
        else:
            X = check_array(X, name)
            check_n_features(self, X)
        if k > self.n_samples_fit_:
            op = "<" if query_is_train else "<="
            shown = k - 1 if query_is_train else k
            raise ValueError(
                f"Expected n_neighbors {op} n_samples_fit, but n_neighbors = {shown}, "
                f"n_samples_fit = {self.n_samples_fit_}, n_samples = {X.shape[0]}"
            )

        dist = np.empty((X.shape[0], k))
        ind = np.empty((X.shape[0], k), dtype=np.intp)
        start = 0
        # L2: squared distances (the same order, and what scikit-learn compares)
        for block in pairwise_distances_chunked(
            X,
            self._fit_X,
            p=self.p,
            chunk_size=self.chunk_size,
            squared=self.p == 2,
            Y_sq_norms=self._fit_sq_norms if self.p == 2 else None,
        ):
            stop = start + block.shape[0]
            dist[start:stop], ind[start:stop] = _k_smallest(block, k)
            start = stop
        if self.p == 2:
            np.sqrt(dist, out=dist)

        if query_is_train:  # drop each row itself from its own neighbours
            keep = ind != np.arange(X.shape[0])[:, None]
            # more duplicates of a row than neighbours: it may be missing, drop the nearest
            keep[keep.all(axis=1), 0] = False
            ind = ind[keep].reshape(X.shape[0], k - 1)
            dist = dist[keep].reshape(X.shape[0], k - 1)
        return (dist, ind) if return_distance else ind

    def _neighbors(self, X: Any) -> tuple[np.ndarray | None, np.ndarray]:
        """(vote weights or None for uniform, neighbour indices) for ``X``."""
        if self.weights == "uniform":
            return None, self.kneighbors(X, return_distance=False)
        dist, ind = self.kneighbors(X)
        w = _get_weights(dist, self.weights)
        if np.any(np.all(w == 0, axis=1)):
            raise ValueError(
                "All neighbors of some sample is getting zero weights. Please modify 'weights' "
                "to avoid this case if you are using a user-defined function."
            )
        return w, ind


class KNeighborsClassifier(_KNeighbors):
    """Classify each row by a vote of its ``n_neighbors`` nearest training rows.

    Parameters
    ----------
    n_neighbors : k, the number of neighbours that vote (default 5).
    weights : ``'uniform'`` (one vote each), ``'distance'`` (``1 / d`` votes; neighbours at
        distance 0, if any, are the only voters) or a function from the (n_queries, k)
        distances to weights of the same shape.
    p : 1 for the L1 (Manhattan) distance, 2 for L2 (Euclidean).
    chunk_size : test rows per block of distances; None picks it from a 512 MiB budget
        (``distances.WORKING_MEMORY``), so 10,000 x 60,000 distances never sit in memory
        at once.

    Attributes
    ----------
    classes_ : the sorted class labels; ``n_features_in_``, ``n_samples_fit_``;
    ``effective_metric_`` : ``'euclidean'`` (p=2) or ``'manhattan'`` (p=1).

    ``fit`` only memorises the training set (as float64); all the work is in ``predict``.
    """

    def fit(self, X: Any, y: Any) -> KNeighborsClassifier:
        """Memorise ``X`` (n_samples, n_features) and the labels ``y`` (n_samples,)."""
        self._check_params()
        X, y = check_X_y(X, y, type(self).__name__)
        self.classes_, self._y = np.unique(y, return_inverse=True)
        self._y = self._y.reshape(-1)
        self._memorise(X)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The winning class of each row: most votes, a tie going to the smallest label."""
        check_is_fitted(self, "_fit_X")
        w, ind = self._neighbors(X)
        labels = self._y[ind]
        if w is None:
            votes = np.zeros((ind.shape[0], len(self.classes_)))
            rows = np.arange(ind.shape[0])
            for i in range(ind.shape[1]):
                votes[rows, labels[:, i]] += 1.0
        else:  # summed as scikit-learn's weighted_mode sums, so equal totals stay equal
            votes = np.stack(
                [np.where(labels == c, w, 0.0).sum(axis=1) for c in range(len(self.classes_))],
                axis=1,
            )
        return self.classes_[np.argmax(votes, axis=1)]  # argmax: the first of equal maxima

    def predict_proba(self, X: Any) -> np.ndarray:
        """Each class's share of the votes, (n_queries, n_classes), columns as ``classes_``."""
        check_is_fitted(self, "_fit_X")
        w, ind = self._neighbors(X)
        if w is None:
            w = np.ones(ind.shape)
        labels = self._y[ind]
        proba = np.zeros((ind.shape[0], len(self.classes_)))
        rows = np.arange(ind.shape[0])
        for i in range(ind.shape[1]):  # a loop over the k neighbours, not over the rows
            proba[rows, labels[:, i]] += w[:, i]
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy: the fraction of rows of ``X`` whose predicted class is ``y``."""
        correct = self.predict(X) == np.asarray(y).reshape(-1)
        return float(np.average(correct, weights=sample_weight))


class KNeighborsRegressor(_KNeighbors):
    """Predict each row's target as the (weighted) mean of its ``n_neighbors`` nearest
    training rows' targets.

    Parameters are those of ``KNeighborsClassifier``: with ``weights='distance'`` the mean is
    weighted by ``1 / d`` (or, if some neighbours are at distance 0, is their plain mean).
    ``y`` may be (n_samples,) or (n_samples, n_outputs).
    """

    def fit(self, X: Any, y: Any) -> KNeighborsRegressor:
        """Memorise ``X`` (n_samples, n_features) and the targets ``y``."""
        self._check_params()
        X, y = check_X_y(X, y, type(self).__name__, y_numeric=True, multi_output=True)
        self._y = y
        self._memorise(X)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The neighbours' mean target, (n_queries,) or (n_queries, n_outputs)."""
        check_is_fitted(self, "_fit_X")
        w, ind = self._neighbors(X)
        y = self._y.reshape(-1, 1) if self._y.ndim == 1 else self._y
        if w is None:
            pred = np.mean(y[ind], axis=1)
        else:
            pred = np.empty((ind.shape[0], y.shape[1]))
            denom = np.sum(w, axis=1)
            for j in range(y.shape[1]):
                pred[:, j] = np.sum(y[ind, j] * w, axis=1) / denom
        return pred.ravel() if self._y.ndim == 1 else pred

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2, the coefficient of determination: ``1 - SS_res / SS_tot`` (1 is perfect, 0 is
        no better than predicting the mean; averaged over outputs). A constant ``y`` scores 1
        if predicted exactly, else 0, as in scikit-learn."""
        pred = self.predict(X)
        y = np.asarray(y, dtype=np.float64).reshape(pred.shape)
        if pred.ndim == 1:
            y, pred = y[:, None], pred[:, None]
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        ss_res = np.sum(w[:, None] * (y - pred) ** 2, axis=0)
        mean = np.average(y, axis=0, weights=w)
        ss_tot = np.sum(w[:, None] * (y - mean) ** 2, axis=0)
        r2 = np.ones_like(ss_res)
        ok = ss_tot != 0
        r2[ok] = 1.0 - ss_res[ok] / ss_tot[ok]
        r2[~ok & (ss_res != 0)] = 0.0
        return float(np.mean(r2))


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError):
        return False
