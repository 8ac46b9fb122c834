"""Week 1 reference kernels: numerically stable softmax family and standardization."""

from __future__ import annotations

import numpy as np


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(sum(exp(x), axis))`` without overflow or underflow.

    Subtracting the per-slice maximum ``m`` keeps every ``exp`` in (0, 1]:
    ``log Σ exp(x) = m + log Σ exp(x - m)``.

    Args:
        x: array of any shape, e.g. logits ``(N, C)``.
        axis: axis to reduce.

    Returns:
        ``x`` with ``axis`` removed, e.g. ``(N,)``.
    """
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis: ``(N, C) -> (N, C)``, rows sum to one, never nan."""
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    """``log(softmax(x))`` over the last axis, computed as ``x - logsumexp(x)``.

    Unlike ``np.log(softmax(x))`` it stays finite when a probability underflows to 0.
    Shape ``(N, C) -> (N, C)``.
    """
    return x - logsumexp(x, axis=-1)[..., None]


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of integer labels under ``softmax(logits)``.

    Args:
        logits: ``(N, C)`` unnormalized scores.
        y: ``(N,)`` integer labels in ``[0, C)``.

    Returns:
        A float: ``-mean_i log_softmax(logits)[i, y_i]``.
    """
    n = logits.shape[0]
    return float(-np.mean(log_softmax(logits)[np.arange(n), y]))


def standardize(x_train: np.ndarray, x_test: np.ndarray,
                eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Scale features to zero mean and unit variance using statistics of ``x_train`` only.

    Fitting on the training set and *applying* the same mean and standard deviation to the
    test set avoids leaking test information. ``eps`` keeps constant features finite.

    Args:
        x_train: ``(N, D)``.
        x_test: ``(M, D)``.
        eps: added to the (population, ``ddof=0``) standard deviation.

    Returns:
        ``(x_train_std (N, D), x_test_std (M, D))``.
    """
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0) + eps
    return (x_train - mean) / std, (x_test - mean) / std


def log_softmax_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of a loss through ``y = log_softmax(x)`` (last axis).

    Args:
        dout: ``dL/dy``, shape ``(..., C)``.
        x: the logits ``log_softmax`` was applied to, shape ``(..., C)``.

    Returns:
        ``dL/dx``, shape ``(..., C)``: ``dout`` minus ``softmax(x)`` times the sum of
        ``dout`` over the last axis (the log-sum-exp term couples every class of a row).
    """
    return dout - softmax(x) * np.sum(dout, axis=-1, keepdims=True)


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` elementwise, to full relative precision for every float64 ``x``.

    ``max(x, 0) + log1p(exp(-|x|))``: the exponent is never positive (no overflow), and
    ``log1p`` keeps the tiny values of very negative ``x`` (``≈ e^x``) instead of rounding
    ``1 + e^x`` to 1. Shape preserved.
    """
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
