"""HOG + colour-histogram features and a linear SVM on Fashion-MNIST (CS231n assignment 1,
"features.ipynb", on the full 60,000 / 10,000 split).

The pipeline of the pre-deep-learning chapter:

1. features: ``hog_features`` (9 orientation bins per cell; the course's cells are 8x8, but a
   28x28 image holds only 3x3 of those, so 4x4 cells - 7x7 of them - are the default here) and
   ``color_histograms_hsv`` (Fashion-MNIST is grey, so it is a 10-bin histogram of grey levels);
2. standardise each feature (the training set's mean and standard deviation);
3. choose the SVM's learning rate and regularisation on a held-out validation split of the
   training set (``GridSearchCV`` with one split), refit on all 60,000, and score the test set
   once. For comparison, the same search on raw (standardised) pixels.

    python benchmarks/hog_svm_fashion_mnist.py                  # 4x4 cells
    python benchmarks/hog_svm_fashion_mnist.py --cell-size 8    # the course's 8x8 cells
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gradschool.classic.features import color_histograms_hsv, extract_features, hog_features
from gradschool.classic.linear_classifier import LinearSVM
from gradschool.classic.model_selection import GridSearchCV, train_test_split
from gradschool.data.datasets import FashionMNIST


def standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1.0
    return (train - mean) / std, (test - mean) / std


def search_and_test(name, X_tr, y_tr, X_te, y_te, args) -> dict:
    """Grid search lr x reg on a stratified 5,000-image validation split, refit on all of the
    training set, one test score."""
    idx_train, idx_val = train_test_split(
        np.arange(len(y_tr)), test_size=5000, stratify=y_tr, random_state=args.seed
    )
    grid = {"learning_rate": [1e-3, 3e-3, 1e-2, 3e-2], "reg": [1e-4, 1e-3, 1e-2]}
    svm = LinearSVM(num_iters=args.iters, batch_size=args.batch_size, seed=args.seed)
    t = time.perf_counter()
    search = GridSearchCV(svm, grid, cv=[(idx_train, idx_val)], n_jobs=args.jobs)
    search.fit(X_tr, y_tr)
    seconds = time.perf_counter() - t
    test_acc = search.score(X_te, y_te)
    print(f"\n{name}: {X_tr.shape[1]} features")
    for params, score in zip(
        search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
    ):
        print(f"  lr {params['learning_rate']:.0e}  reg {params['reg']:.0e}  val {score:.4f}")
    print(
        f"  best {search.best_params_} val {search.best_score_:.4f} -> test accuracy "
        f"{test_acc:.4f} ({seconds:.1f}s for the search and the refit)"
    )
    return {"name": name, "test_accuracy": test_acc, "seconds": seconds}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cell-size", type=int, default=4, help="HOG cell size (course: 8)")
    p.add_argument("--nbin", type=int, default=10, help="bins of the grey-level histogram")
    p.add_argument("--iters", type=int, default=4000, help="SGD steps of the SVM")
    p.add_argument("--batch-size", type=int, default=200)
    p.add_argument("--jobs", type=int, default=1, help="parallel fits of the search")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-pixels", action="store_true", help="skip the raw-pixel baseline")
    args = p.parse_args()

    start = time.perf_counter()
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    x_tr, y_tr = np.asarray(train.data), np.asarray(train.targets)
    x_te, y_te = np.asarray(test.data), np.asarray(test.targets)

    t = time.perf_counter()
    fns = [
        lambda b: hog_features(b, cell_size=args.cell_size),
        lambda b: color_histograms_hsv(b, nbin=args.nbin),
    ]
    f_tr = extract_features(x_tr, fns, batch_size=5000)
    f_te = extract_features(x_te, fns, batch_size=5000)
    n_hog = (28 // args.cell_size) ** 2 * 9
    print(
        f"features: HOG with {args.cell_size}x{args.cell_size} cells ({n_hog}) + {args.nbin}-bin "
        f"grey-level histogram = {f_tr.shape[1]} per image, for {len(f_tr):,} + {len(f_te):,} "
        f"images in {time.perf_counter() - t:.1f}s"
    )
    f_tr, f_te = standardise(f_tr, f_te)
    results = [search_and_test("HOG + histogram", f_tr, y_tr, f_te, y_te, args)]
    if not args.no_pixels:
        p_tr, p_te = standardise(
            x_tr.reshape(len(x_tr), -1).astype(np.float64),
            x_te.reshape(len(x_te), -1).astype(np.float64),
        )
        results.append(search_and_test("raw pixels", p_tr, y_tr, p_te, y_te, args))
    print(f"\ntotal wall time {time.perf_counter() - start:.1f}s")
    for r in results:
        print(f"  {r['name']:>16}: test accuracy {r['test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
