"""Week 2 course library: how a penalty joins a loss (course infrastructure, not an exercise).

A loss is a function ``(W, b, X, y) -> (loss, dW, db)``; a penalty is a function
``(W, l1, l2) -> (penalty, dW)`` of the weights only (the graded ``l1_l2_penalty``, or the
lecture's autograd version). :func:`regularized` adds the second to the first, so the
training loop minimizes one objective and the bias is never penalized.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

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
