"""Linear classifiers on the full Fashion-MNIST (60,000 train / 10,000 test), CS231n L3 style.

Pixels are scaled to [0, 1] and standardised with statistics of the training set. Then:

* ``LinearSVM`` and ``SoftmaxClassifier`` (minibatch SGD, the bias trick): a short grid over
  learning rate and regularisation strength, each candidate trained on 50,000 images and
  scored on the other 10,000 (the validation split); the best pair is retrained on all
  60,000 and scored once on the test set;
* ``LogisticRegression`` (multinomial, L-BFGS, scikit-learn's defaults ``C=1, max_iter=100``),
  and with ``--sklearn`` scikit-learn's own on the same arrays for comparison.

Prints each model's validation choice, test accuracy and wall time (fit only).
``--threads N`` caps the BLAS / OpenMP threads (needs threadpoolctl, which scikit-learn
brings): on a machine shared with other jobs, one thread can be ten times faster than two.

    python benchmarks/linear_fashion_mnist.py [--num-iters 1500] [--threads 1] [--sklearn]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import time
import warnings

import numpy as np

from gradschool.classic.linear_classifier import LinearSVM, SoftmaxClassifier
from gradschool.classic.linear_model import ConvergenceWarning, LogisticRegression
from gradschool.classic.preprocessing import StandardScaler
from gradschool.data.datasets import FashionMNIST

LEARNING_RATES = (3e-3, 1e-2, 3e-2, 1e-1)
REGS = (1e-4, 1e-3, 1e-2)


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    X_train = train.data.reshape(len(train.data), -1).astype(np.float32) / 255
    X_test = test.data.reshape(len(test.data), -1).astype(np.float32) / 255
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), train.targets, scaler.transform(X_test), test.targets


def timed_fit(model, X, y):
    t = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - t


def tune_and_test(cls, X, y, X_test, y_test, num_iters: int) -> None:
    X_tr, y_tr, X_val, y_val = X[:50000], y[:50000], X[50000:], y[50000:]
    best = (-1.0, None)
    for lr, reg in itertools.product(LEARNING_RATES, REGS):
        model = cls(learning_rate=lr, reg=reg, num_iters=num_iters, batch_size=200, seed=0)
        acc = model.fit(X_tr, y_tr).score(X_val, y_val)
        print(f"  {cls.__name__:18s} lr={lr:g} reg={reg:g}: val {acc:.4f}")
        best = max(best, (acc, (lr, reg)), key=lambda b: b[0])
    (lr, reg), val = best[1], best[0]
    model, secs = timed_fit(
        cls(learning_rate=lr, reg=reg, num_iters=num_iters, batch_size=200, seed=0), X, y
    )
    print(
        f"{cls.__name__:18s} best lr={lr:g} reg={reg:g} (val {val:.4f}): "
        f"test accuracy {model.score(X_test, y_test):.4f}, fit {secs:.2f} s "
        f"({num_iters} steps of {model.batch_size})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-iters", type=int, default=1500, help="SGD steps (batch 200)")
    parser.add_argument("--sklearn", action="store_true", help="also fit scikit-learn's model")
    parser.add_argument("--threads", type=int, default=None, help="cap BLAS/OpenMP threads")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.threads is not None:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(args.threads))
        run(args)


def run(args: argparse.Namespace) -> None:
    t = time.perf_counter()
    X, y, X_test, y_test = load()
    print(
        f"Fashion-MNIST {X.shape} train, {X_test.shape} test, standardised float32; "
        f"loaded in {time.perf_counter() - t:.1f} s; threads: {args.threads or 'default'}"
    )
    for cls in (LinearSVM, SoftmaxClassifier):
        tune_and_test(cls, X, y, X_test, y_test, args.num_iters)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model, secs = timed_fit(LogisticRegression(), X, y)
    print(
        f"{'LogisticRegression':18s} C=1 L-BFGS {int(model.n_iter_[0])} iterations: "
        f"test accuracy {model.score(X_test, y_test):.4f}, fit {secs:.2f} s"
    )
    if args.sklearn:
        from sklearn.linear_model import LogisticRegression as SkLogisticRegression

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref, secs = timed_fit(SkLogisticRegression(), X, y)
        rel = np.abs(ref.coef_ - model.coef_).max() / np.abs(ref.coef_).max()
        print(
            f"{'sklearn LogReg':18s} C=1 lbfgs {int(ref.n_iter_[0])} iterations: "
            f"test accuracy {ref.score(X_test, y_test):.4f}, fit {secs:.2f} s "
            f"(max |coef difference| / max |coef| = {rel:.2e})"
        )


if __name__ == "__main__":
    main()
