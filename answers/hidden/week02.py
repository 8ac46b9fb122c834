"""Week 2 hidden cases: the inputs the public cases do not stress.

* ``logistic_hidden``: confident predictions at moderate scores (s between 31 and 36.5, where
  ``1 - σ(s)`` is not yet 0 but keeps only a few digits) and at very large ones (|s| ≈ 5000),
  with the labels that make those examples costly.
* ``svm_hidden``: integer-valued weights, inputs and biases, so that many margins are
  **exactly** 0 (the subgradient convention: a term at exactly 0 is inactive; one such
  margin is placed on purpose in each case), and scores tied between classes.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case


def _binary_at_scores(rng: np.random.Generator, scores: np.ndarray, y: np.ndarray) -> tuple:
    """A problem ``(w, b, X, y)`` whose scores ``X @ w + b`` are exactly ``scores`` (1 feature)."""
    return (np.array([1.0]), 0.0, scores[:, None].astype(np.float64), y.astype(np.int64))


def logistic_hidden(rng: np.random.Generator) -> list[Case]:
    # Confidently wrong: label 0 at s in (31, 36.5), where 1 - σ(s) is not yet 0 but keeps
    # only a few digits, and label 1 at s in (-45, -30).
    moderate = np.concatenate([rng.uniform(31.0, 36.5, size=12), -rng.uniform(30.0, 45.0, size=4)])
    wrong = (moderate < 0).astype(np.int64)
    huge = rng.uniform(3000.0, 6000.0, size=6) * rng.choice([-1.0, 1.0], size=6)
    mixed_y = (huge > 0).astype(np.int64)  # right ...
    mixed_y[rng.choice(6, size=3, replace=False)] ^= 1  # ... and 3 of 6 confidently wrong
    d = 4
    w = rng.normal(size=d)
    X = rng.normal(size=(10, d))
    X *= 40.0 / np.abs(X @ w).mean()  # scores of magnitude ≈ 40 in several features
    labels = rng.integers(0, 2, size=10)
    # one example (a random one) moved along w to a score in (31, 36.5) with label 0: the
    # confidently wrong regime is in this case under every draw, not only when one falls there
    k = rng.integers(10)
    X[k] += (rng.uniform(31.0, 36.5) - X[k] @ w) * w / (w @ w)
    labels[k] = 0
    return [
        Case("confidently wrong at s between 31 and 36.5 (1 - σ(s) keeps few digits)",
             _binary_at_scores(rng, moderate, wrong)),
        Case("|s| in the thousands, half of them confidently wrong",
             _binary_at_scores(rng, huge, mixed_y)),
        Case("scores of size ≈ 40 from 4 features, random labels, one confidently wrong",
             (w, 0.0, X, labels)),
    ]


def svm_hidden(rng: np.random.Generator) -> list[Case]:
    def integer_problem(n: int, d: int, c: int) -> tuple:
        W = rng.integers(-1, 2, size=(d, c)).astype(np.float64)
        b = rng.integers(-1, 2, size=c).astype(np.float64)
        X = rng.integers(-1, 2, size=(n, d)).astype(np.float64)
        y = rng.integers(0, c, size=n)
        # one margin (a random example, a random wrong class) exactly 0, whatever the draw:
        # that class's bias moved by an integer so it scores exactly 1 below the correct one
        i = rng.integers(n)
        j = (y[i] + rng.integers(1, c)) % c
        s = X[i] @ W + b
        b[j] += s[y[i]] - 1.0 - s[j]
        return W, b, X, y

    return [
        Case("integer scores: many margins exactly 0 (inactive at the kink)",
             integer_problem(12, 4, 4)),
        Case("integer scores, many classes tied", integer_problem(10, 2, 5)),
    ]
