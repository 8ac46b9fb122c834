"""Week 2: linear classifiers trained from scratch against scikit-learn, full Fashion-MNIST.

* Softmax regression: the reference ``softmax_loss_vectorized`` + L2, trained by mini-batch
  SGD (``answers.kernels.week02.sgd``), against ``sklearn.linear_model.LogisticRegression``
  (multinomial, L-BFGS) fitted to the *same objective* (mean cross-entropy + ½·λ₂·||W||²,
  i.e. ``C = 1 / (λ₂ N)``). Test accuracy of both; the target is within 1 point.
* Linear SVM: the reference Weston–Watkins ``svm_loss_vectorized`` + L2, by SGD, against
  ``sklearn.svm.LinearSVC`` (liblinear, one-vs-rest squared hinge, primal; the classifier
  behind the published "linear SVC 0.839" Fashion-MNIST figure). Test accuracy of both; the
  target is within 1 point.

Both sides see the same preprocessed data: pixels in [0, 1], minus the mean training image,
divided by one global standard deviation. BLAS runs on one thread for both (threadpoolctl),
so wall-clock figures do not depend on how busy the shared machine's second core is.

Run: ``python -m bench week02`` (``--fast`` for tiny sizes that only test the harness).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from bench import Row
from grader.config import pick
from grader.data import load_fashion_mnist
from answers.kernels.week02 import (accuracy, regularized, sgd, softmax_loss_vectorized,
                                   svm_loss_vectorized)

THREADS = 1
L2 = 1e-4
EPOCHS = pick(10, 2)
BATCH_SIZE, LR_DECAY, SEED = 128, 0.8, 0
SOFTMAX_LR, SVM_LR = 0.05, 0.005
SVM_C = 0.1
ACCURACY_POINTS = 0.01


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    data = load_fashion_mnist()
    X_train = data.X_train.reshape(len(data.X_train), -1).astype(np.float64)
    X_test = data.X_test.reshape(len(data.X_test), -1).astype(np.float64)
    mean_image, scale = X_train.mean(axis=0), X_train.std()
    return (X_train - mean_image) / scale, data.y_train, (X_test - mean_image) / scale, data.y_test


def _train(loss_fn, lr: float, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    start = time.perf_counter()
    W, b, _ = sgd(regularized(loss_fn, l2=L2), np.zeros((X.shape[1], 10)), np.zeros(10), X, y,
                  lr=lr, epochs=EPOCHS, batch_size=BATCH_SIZE, lr_decay=LR_DECAY, seed=SEED,
                  progress=False)
    return W, b, time.perf_counter() - start


def _fit_sklearn(model, X: np.ndarray, y: np.ndarray) -> tuple[object, float, bool]:
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return model, time.perf_counter() - start, converged


def _accuracy_row(name: str, ours: float, seconds: float, oracle: str, theirs: float,
                  notes: str, extra: dict) -> Row:
    return Row(benchmark=f"{name}, Fashion-MNIST test accuracy", value=ours, unit="accuracy",
               oracle=oracle, oracle_value=theirs, target="within 1 point of sklearn",
               met=abs(ours - theirs) <= ACCURACY_POINTS, seconds=seconds, notes=notes,
               extra=extra)


def softmax_regression() -> list[Row]:
    X_train, y_train, X_test, y_test = _data()
    with threadpool_limits(THREADS):
        W, b, seconds = _train(softmax_loss_vectorized, SOFTMAX_LR, X_train, y_train)
        sk, sk_seconds, converged = _fit_sklearn(
            LogisticRegression(C=1 / (L2 * len(X_train)), max_iter=pick(1000, 50)),
            X_train, y_train)
    ours, theirs = accuracy(W, b, X_test, y_test), float(sk.score(X_test, y_test))
    return [_accuracy_row(
        "softmax regression (SGD)", ours, seconds,
        "sklearn LogisticRegression (multinomial, lbfgs, same objective)", theirs,
        f"{len(X_train)} train / {len(X_test)} test images; L2 {L2:g} (sklearn C = "
        f"1/(L2·N)); SGD {EPOCHS} epochs, batch {BATCH_SIZE}, lr {SOFTMAX_LR} × {LR_DECAY}"
        f"/epoch; sklearn fit {sk_seconds:.1f} s ({sk.n_iter_[0]} iterations"
        f"{'' if converged else ', not converged'}); {THREADS} BLAS thread",
        {"sklearn_seconds": sk_seconds, "sklearn_iterations": int(sk.n_iter_[0]),
         "sklearn_converged": converged, "train_accuracy": accuracy(W, b, X_train, y_train),
         "sklearn_train_accuracy": float(sk.score(X_train, y_train))})]


def linear_svm() -> list[Row]:
    X_train, y_train, X_test, y_test = _data()
    with threadpool_limits(THREADS):
        W, b, seconds = _train(svm_loss_vectorized, SVM_LR, X_train, y_train)
        sk, sk_seconds, converged = _fit_sklearn(
            LinearSVC(C=SVM_C, dual=False, max_iter=pick(1000, 50)), X_train, y_train)
    ours, theirs = accuracy(W, b, X_test, y_test), float(sk.score(X_test, y_test))
    return [_accuracy_row(
        "multiclass SVM, Weston–Watkins hinge (SGD)", ours, seconds,
        "sklearn LinearSVC (one-vs-rest squared hinge, primal)", theirs,
        f"L2 {L2:g}; SGD {EPOCHS} epochs, batch {BATCH_SIZE}, lr {SVM_LR} × {LR_DECAY}/epoch; "
        f"LinearSVC C={SVM_C}, fit {sk_seconds:.1f} s"
        f"{'' if converged else ' (not converged)'}; different losses, so only the accuracies "
        f"are comparable; {THREADS} BLAS thread",
        {"sklearn_seconds": sk_seconds, "sklearn_converged": converged,
         "train_accuracy": accuracy(W, b, X_train, y_train),
         "sklearn_train_accuracy": float(sk.score(X_train, y_train))})]


BENCHMARKS = [softmax_regression, linear_svm]
