"""Week 2 reference kernels: linear classifiers, their losses and gradients, and SGD.

Every loss takes the parameters first and the data second, and returns the mean loss over
the batch together with its gradient with respect to each parameter::

    loss, dW, db = softmax_loss_vectorized(W, b, X, y)

Shapes: ``X (N, D)`` inputs, ``y (N,)`` integer labels, ``W (D, C)`` weights, ``b (C,)``
biases, scores ``X @ W + b`` of shape ``(N, C)``. Regularization is a separate function
(:func:`l1_l2_penalty`) added by the training loop, so each loss is the data term only and
the bias is never penalized (as in scikit-learn).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from answers.kernels.week01 import log_softmax, softmax
from grader import linear
from grader.linear import (  # noqa: F401  (course library, re-exported for bench/ and tests/)
    accuracy, predict, scores_of, sgd)

LossFn = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple]


# --------------------------------------------------------------------------------------
# Binary logistic regression
# --------------------------------------------------------------------------------------
def logistic_loss(w: np.ndarray, b: float, X: np.ndarray,
                  y: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Mean binary cross-entropy of ``sigmoid(X @ w + b)`` against 0/1 labels, and its gradient.

    With scores ``s = X @ w + b`` the per-example loss is
    ``-y log σ(s) - (1 - y) log(1 - σ(s)) = log(1 + e^s) - y s``, computed as
    ``np.logaddexp(0, s) - y * s`` so that it never overflows for large ``|s|``.
    Its derivative with respect to ``s`` is ``σ(s) - y``.

    Args:
        w: ``(D,)`` weights.
        b: bias (a scalar).
        X: ``(N, D)`` inputs.
        y: ``(N,)`` labels in {0, 1}.

    Returns:
        ``(loss, dw (D,), db)``: the mean loss and its gradient.
    """
    n = X.shape[0]
    scores = X @ w + b
    loss = float(np.mean(np.logaddexp(0.0, scores) - y * scores))
    dscores = (sigmoid(scores) - y) / n
    return loss, X.T @ dscores, float(np.sum(dscores))


def sigmoid(s: np.ndarray) -> np.ndarray:
    """``1 / (1 + e^-s)`` without overflow: ``e^-s`` is only evaluated where ``s >= 0``."""
    s = np.asarray(s, dtype=np.float64)
    e = np.exp(-np.abs(s))  # in (0, 1]: never overflows
    return np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# --------------------------------------------------------------------------------------
# Multinomial (softmax) regression
# --------------------------------------------------------------------------------------
def softmax_loss_naive(W: np.ndarray, b: np.ndarray, X: np.ndarray,
                       y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Softmax cross-entropy and its gradient with explicit loops over examples and classes.

    For example ``i`` with scores ``s = x_i W + b`` and ``p = softmax(s)``:
    ``L_i = -log p_{y_i}`` and ``dL_i/ds_j = p_j - [j == y_i]``.

    Args:
        W: ``(D, C)``, b: ``(C,)``, X: ``(N, D)``, y: ``(N,)`` labels in ``[0, C)``.

    Returns:
        ``(loss, dW (D, C), db (C,))``, averaged over the ``N`` examples.
    """
    n, n_classes = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W, dtype=np.float64)
    db = np.zeros(n_classes)
    for i in range(n):
        scores = X[i] @ W + b
        scores = scores - np.max(scores)  # shift: exp never overflows, softmax unchanged
        log_z = np.log(np.sum(np.exp(scores)))
        loss += log_z - scores[y[i]]
        for j in range(n_classes):
            dscore = np.exp(scores[j] - log_z) - (j == y[i])
            dW[:, j] += dscore * X[i]
            db[j] += dscore
    return loss / n, dW / n, db / n


def softmax_loss_vectorized(W: np.ndarray, b: np.ndarray, X: np.ndarray,
                            y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Softmax cross-entropy and its gradient without loops (same contract as the naive one).

    ``dscores = (softmax(S) - onehot(y)) / N``, then ``dW = X^T dscores``, ``db = Σ_i dscores``.
    """
    n = X.shape[0]
    scores = X @ W + b
    loss = float(-np.mean(log_softmax(scores)[np.arange(n), y]))
    dscores = softmax(scores)
    dscores[np.arange(n), y] -= 1.0
    dscores /= n
    return loss, X.T @ dscores, dscores.sum(axis=0)


# --------------------------------------------------------------------------------------
# Multiclass SVM (Weston–Watkins hinge)
# --------------------------------------------------------------------------------------
def svm_loss_naive(W: np.ndarray, b: np.ndarray, X: np.ndarray,
                   y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Multiclass hinge loss with loops: ``L_i = Σ_{j≠y_i} max(0, s_j - s_{y_i} + 1)``.

    Each class ``j`` whose score comes within the margin 1 of the correct class's score
    adds ``+x_i`` to column ``j`` of the gradient and ``-x_i`` to column ``y_i``. (A margin
    Δ other than 1 would change nothing but the scale of ``W``.)

    Args:
        W: ``(D, C)``, b: ``(C,)``, X: ``(N, D)``, y: ``(N,)`` labels in ``[0, C)``.

    Returns:
        ``(loss, dW (D, C), db (C,))``, averaged over the ``N`` examples.
    """
    n, n_classes = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W, dtype=np.float64)
    db = np.zeros(n_classes)
    for i in range(n):
        scores = X[i] @ W + b
        for j in range(n_classes):
            if j == y[i]:
                continue
            violation = scores[j] - scores[y[i]] + 1.0
            if violation > 0:
                loss += violation
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
                db[j] += 1.0
                db[y[i]] -= 1.0
    return loss / n, dW / n, db / n


def svm_loss_vectorized(W: np.ndarray, b: np.ndarray, X: np.ndarray,
                        y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Multiclass hinge loss and gradient without loops (same contract as the naive one).

    The gradient is a subgradient: at exactly zero violation the hinge counts as inactive.
    """
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W + b
    violations = scores - scores[rows, y][:, None] + 1.0
    violations[rows, y] = 0.0  # the correct class is not a violation of itself
    loss = float(np.sum(np.maximum(violations, 0.0)) / n)
    dscores = (violations > 0).astype(np.float64)  # 1 where a hinge is active
    dscores[rows, y] = -dscores.sum(axis=1)  # s_{y_i} appears once in every active hinge
    dscores /= n
    return loss, X.T @ dscores, dscores.sum(axis=0)


# --------------------------------------------------------------------------------------
# Regularization
# --------------------------------------------------------------------------------------
def l1_l2_penalty(W: np.ndarray, l1: float, l2: float) -> tuple[float, np.ndarray]:
    """Elastic-net penalty ``l1 * Σ|W| + (l2 / 2) * Σ W²`` and its (sub)gradient.

    The L2 term's gradient ``l2 * W`` shrinks every weight in proportion to its size; the
    L1 term's subgradient ``l1 * sign(W)`` pulls every weight towards 0 by the same amount,
    which drives small weights to zero. At ``W = 0`` the subgradient ``sign(0) = 0`` is used.

    Args:
        W: weights of any shape (never the bias).
        l1: strength of the L1 term (≥ 0).
        l2: strength of the L2 term (≥ 0).

    Returns:
        ``(penalty, dW)`` with ``dW`` of ``W``'s shape.
    """
    penalty = l1 * np.sum(np.abs(W)) + 0.5 * l2 * np.sum(W * W)
    return float(penalty), l1 * np.sign(W) + l2 * W


# --------------------------------------------------------------------------------------
# Training and prediction
# --------------------------------------------------------------------------------------
def regularized(loss_fn: LossFn, l1: float = 0.0, l2: float = 0.0) -> LossFn:
    """``loss_fn`` plus :func:`l1_l2_penalty` on the weights (the objective SGD minimizes).

    The combination is course library code (:func:`grader.linear.regularized`).
    """
    return linear.regularized(loss_fn, l1_l2_penalty, l1, l2)
