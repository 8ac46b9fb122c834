"""Week 2 course library: the training loop of linear classifiers (course infrastructure).

None of this is an exercise: the lecture and the reference kernels both use it.

A loss is a function ``(W, b, X, y) -> (loss, dW, db)``; a penalty is a function
``(W, l1, l2) -> (penalty, dW)`` of the weights only (the graded ``l1_l2_penalty``, or the
lecture's autograd version). :func:`regularized` adds the second to the first, so the
training loop minimizes one objective and the bias is never penalized.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

LossFn = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple]
PenaltyFn = Callable[[np.ndarray, float, float], tuple]


def regularized(loss_fn: LossFn, penalty_fn: PenaltyFn, l1: float = 0.0,
                l2: float = 0.0) -> LossFn:
    """``loss_fn`` plus ``penalty_fn(W, l1, l2)`` on the weights ``W``, never on the bias.

    Args:
        loss_fn: ``(W, b, X (N, D), y (N,)) -> (loss, dW, db)``, the data term.
        penalty_fn: ``(W, l1, l2) -> (penalty, dW)``, with ``dW`` of the shape of ``W``.
        l1, l2: the strengths passed to ``penalty_fn``.

    Returns:
        The objective ``(W, b, X, y) -> (loss + penalty, dW + dpenalty, db)``.
    """

    def objective(W, b, X, y):
        data_loss, data_dW, db = loss_fn(W, b, X, y)
        penalty, penalty_dW = penalty_fn(W, l1, l2)
        return data_loss + penalty, data_dW + penalty_dW, db

    return objective


def scores_of(W: np.ndarray, b: np.ndarray | float, X: np.ndarray) -> np.ndarray:
    """``X @ W + b``: ``(N,)`` for a binary model (``W (D,)``), ``(N, C)`` otherwise."""
    return X @ W + b


def predict(W: np.ndarray, b: np.ndarray | float, X: np.ndarray) -> np.ndarray:
    """Predicted labels ``(N,)``: ``score > 0`` for a binary model, else the best-scoring class."""
    scores = scores_of(W, b, X)
    if scores.ndim == 1:
        return (scores > 0).astype(np.int64)
    return np.argmax(scores, axis=1)


def accuracy(W: np.ndarray, b: np.ndarray | float, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict(W, b, X) == y))


def sgd(objective: LossFn, W: np.ndarray, b: np.ndarray | float, X: np.ndarray, y: np.ndarray,
        *, lr: float, epochs: int, batch_size: int = 128, lr_decay: float = 1.0,
        seed: int = 0, X_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
        progress: bool = True) -> tuple[np.ndarray, np.ndarray | float, dict[str, list[float]]]:
    """Mini-batch stochastic gradient descent on ``objective(W, b, X_batch, y_batch)``.

    Each epoch visits every example once in a new random order; after each epoch the
    learning rate is multiplied by ``lr_decay``.

    Args:
        objective: returns ``(loss, dW, db)``, e.g. ``regularized(softmax_loss, penalty, l2=1e-4)``.
        W, b: initial parameters (not modified).
        X, y: training data ``(N, D)``, ``(N,)``.
        lr: initial learning rate; epochs: passes over the data; batch_size: examples per step.
        lr_decay: factor applied to the learning rate after each epoch.
        seed: seed of the shuffling.
        X_val, y_val: if given, the validation accuracy is recorded after each epoch.
        progress: show a tqdm progress bar over the steps.

    Returns:
        ``(W, b, history)`` with ``history["train_loss"]`` (mean objective over each
        epoch's batches), ``history["train_acc"]`` and, with validation data,
        ``history["val_acc"]``, one value per epoch.
    """
    rng = np.random.default_rng(seed)
    W = np.array(W, dtype=np.float64)
    b = np.array(b, dtype=np.float64)
    n = X.shape[0]
    steps_per_epoch = -(-n // batch_size)
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": []}
    if X_val is not None:
        history["val_acc"] = []
    bar = tqdm(total=epochs * steps_per_epoch, disable=not progress, desc="SGD", unit="step")
    for _ in range(epochs):
        order = rng.permutation(n)
        losses = []
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss, dW, db = objective(W, b, X[batch], y[batch])
            W -= lr * dW
            b -= lr * db
            losses.append(loss)
            bar.update(1)
        history["train_loss"].append(float(np.mean(losses)))
        history["train_acc"].append(accuracy(W, b, X, y))
        if X_val is not None:
            history["val_acc"].append(accuracy(W, b, X_val, y_val))
        bar.set_postfix(loss=f"{history['train_loss'][-1]:.4f}")
        lr *= lr_decay
    bar.close()
    return W, (float(b) if b.ndim == 0 else b), history
