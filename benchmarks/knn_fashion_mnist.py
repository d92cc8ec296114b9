"""kNN on Fashion-MNIST: choose k by 5-fold cross-validation, then measure it on the test set.

The CS231n recipe on the full data: raw pixels (784 values 0..255, as float64), L2 distance,
k chosen among {1, 3, 5, 7, 9} by 5-fold cross-validation on the 60,000 training images only
(shuffled folds, seed 0), then one model with that k fit on all 60,000 and scored once on the
10,000 test images. Prints each k's fold accuracies, their mean, the chosen k, the test
accuracy and wall times.

Cross-validation looks the 9 nearest neighbours of each validation row up once per fold and
lets the nearest k of them vote for every k (ties between classes to the smallest label, as
``KNeighborsClassifier.predict``): one distance computation per fold instead of one per
(fold, k). The final model is ``KNeighborsClassifier(best_k).fit(...).score(...)`` itself.

    python benchmarks/knn_fashion_mnist.py [--cv-samples 60000] [--folds 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from gradschool.classic.neighbors import KNeighborsClassifier
from gradschool.data.datasets import FashionMNIST

KS = (1, 3, 5, 7, 9)


def vote(neighbor_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Majority label of each row; a tie goes to the smallest label."""
    counts = np.zeros((len(neighbor_labels), n_classes))
    rows = np.arange(len(neighbor_labels))
    for i in range(neighbor_labels.shape[1]):
        counts[rows, neighbor_labels[:, i]] += 1
    return np.argmax(counts, axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cv-samples", type=int, default=60000, help="training rows used for CV")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    t = time.perf_counter()
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    X = train.data.reshape(len(train.data), -1).astype(np.float64)
    y = np.asarray(train.targets)
    Xt = test.data.reshape(len(test.data), -1).astype(np.float64)
    yt = np.asarray(test.targets)
    print(
        f"Fashion-MNIST {X.shape} train, {Xt.shape} test, loaded in {time.perf_counter() - t:.1f}s; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    )

    # ---- k by cross-validation on (a shuffled subset of) the training set
    t_cv = time.perf_counter()
    order = np.random.default_rng(args.seed).permutation(len(X))[: args.cv_samples]
    folds = np.array_split(order, args.folds)
    acc = np.zeros((len(KS), args.folds))
    for f, val in enumerate(folds):
        t = time.perf_counter()
        fit = np.concatenate([folds[g] for g in range(args.folds) if g != f])
        knn = KNeighborsClassifier(n_neighbors=max(KS)).fit(X[fit], y[fit])
        labels = y[fit][knn.kneighbors(X[val], return_distance=False)]
        for i, k in enumerate(KS):
            acc[i, f] = np.mean(vote(labels[:, :k], 10) == y[val])
        print(
            f"fold {f + 1}/{args.folds}: {len(fit)} fit / {len(val)} val, "
            f"{time.perf_counter() - t:.1f}s; accuracy "
            + " ".join(f"k={k}: {a:.4f}" for k, a in zip(KS, acc[:, f], strict=True))
        )
    mean = acc.mean(axis=1)
    best = KS[int(np.argmax(mean))]
    print(
        f"\n{args.folds}-fold CV on {len(order)} training images ({time.perf_counter() - t_cv:.0f}s):"
    )
    for k, m, s in zip(KS, mean, acc.std(axis=1), strict=True):
        print(f"  k={k}: {m:.4f} +- {s:.4f}{'   <- best' if k == best else ''}")

    # ---- the chosen k, trained on all 60,000, tested once
    t = time.perf_counter()
    knn = KNeighborsClassifier(n_neighbors=best).fit(X, y)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    test_acc = knn.score(Xt, yt)
    print(
        f"\ntest accuracy, k={best}, fit on {len(X)}: {test_acc:.4f} "
        f"(fit {fit_s:.1f}s, predicting {len(Xt)} {time.perf_counter() - t:.1f}s)"
    )


if __name__ == "__main__":
    main()
