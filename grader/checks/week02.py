"""Week 2 checks: losses and gradients of linear classifiers, and the L1/L2 penalty.

Each loss returns ``(loss, dW, db)``, so one check covers the loss and both gradients. The
cases mix seeded random problems with what the lecture warns about: scores so large that a
naive ``exp`` overflows, rows of scores on very different scales, a batch of one, a single
feature, two classes, every example of one class, and (for the SVM) examples that already
satisfy every margin.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week02"


def _problem(rng: np.random.Generator, n: int, d: int, c: int, scale: float = 1.0,
             name: str = "") -> Case:
    """A multiclass problem ``(W, b, X, y)`` whose scores have roughly the given scale."""
    W = scale * rng.normal(size=(d, c)) / np.sqrt(d)
    return Case(name or f"random {n} examples, {d} features, {c} classes",
                (W, scale * rng.normal(size=c), rng.normal(size=(n, d)),
                 rng.integers(0, c, size=n)))


def _multiclass_cases(rng: np.random.Generator) -> list[Case]:
    X = rng.normal(size=(6, 4))
    X[:3] *= 1000.0  # the first three examples get huge scores, the others ordinary ones
    return [
        _problem(rng, 12, 5, 4),
        _problem(rng, 1, 3, 5, name="a batch of one"),
        _problem(rng, 8, 1, 3, name="a single feature"),
        _problem(rng, 10, 4, 2, name="two classes"),
        _problem(rng, 7, 6, 3, scale=300.0, name="huge scores (exp overflows without a shift)"),
        Case("rows of scores on very different scales",
             (rng.normal(size=(4, 3)), rng.normal(size=3), X, rng.integers(0, 3, size=6))),
        Case("every example has label 0",
             (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 3)),
              np.zeros(5, dtype=np.int64))),
    ]


def _svm_cases(rng: np.random.Generator) -> list[Case]:
    # Scores 10 above every other class for the right label: all margins satisfied (loss 0).
    X = np.eye(4)[:, :3].repeat(2, axis=0) + 0.01 * rng.normal(size=(8, 3))
    y = np.arange(8) // 2 % 3
    W = 10.0 * np.eye(3)
    return _multiclass_cases(rng) + [
        Case("every margin satisfied (zero loss, zero gradient)",
             (W, np.zeros(3), X[:6], y[:6])),
        Case("a mix of satisfied and violated margins",
             (W, np.zeros(3), np.vstack([X[:4], rng.normal(size=(4, 3))]), y)),
    ]


def _logistic_cases(rng: np.random.Generator) -> list[Case]:
    def binary(name: str, n: int, d: int, scale: float = 1.0) -> Case:
        return Case(name, (scale * rng.normal(size=d), float(rng.normal()),
                           rng.normal(size=(n, d)), rng.integers(0, 2, size=n)))

    return [
        binary("random 15 examples, 4 features", 15, 4),
        binary("a batch of one", 1, 3),
        binary("a single feature", 9, 1),
        binary("huge scores (|s| ≈ 1000: log σ(s) underflows)", 10, 3, scale=600.0),
        Case("every label is 1", (rng.normal(size=3), 0.5, rng.normal(size=(6, 3)),
                                  np.ones(6, dtype=np.int64))),
        Case("every label is 0", (rng.normal(size=3), -0.5, rng.normal(size=(6, 3)),
                                  np.zeros(6, dtype=np.int64))),
    ]


def _penalty_cases(rng: np.random.Generator) -> list[Case]:
    with_zeros = rng.normal(size=(5, 3))
    with_zeros[rng.random(size=(5, 3)) < 0.4] = 0.0
    return [
        Case("random 6×4 weights, both terms", (rng.normal(size=(6, 4)), 0.01, 0.1)),
        Case("L2 only", (rng.normal(size=(3, 5)), 0.0, 0.5)),
        Case("L1 only", (rng.normal(size=(4, 2)), 0.3, 0.0)),
        Case("some weights exactly 0 (subgradient sign(0) = 0)", (with_zeros, 0.2, 0.05)),
        Case("a weight vector (binary model)", (rng.normal(size=7), 0.1, 0.1)),
    ]


register(
    Exercise(
        id="w02_logistic_loss", function="logistic_loss",
        reference=f"{REFERENCE}:logistic_loss", make_cases=_logistic_cases, points=3,
        hint="per example the loss is log(1 + e^s) - y·s: compute it as np.logaddexp(0, s) "
             "- y * s (never log(sigmoid(s))); ds = (sigmoid(s) - y) / N, dw = Xᵀ ds, "
             "db = Σ ds."),
    Exercise(
        id="w02_softmax_loss_naive", function="softmax_loss_naive",
        reference=f"{REFERENCE}:softmax_loss_naive", make_cases=_multiclass_cases, points=2,
        hint="for each example shift its scores by their maximum before np.exp; "
             "dL_i/ds_j = p_j - [j == y_i]; add that times x_i to column j of dW, then "
             "divide loss, dW and db by N."),
    Exercise(
        id="w02_softmax_loss_vectorized", function="softmax_loss_vectorized",
        reference=f"{REFERENCE}:softmax_loss_vectorized", make_cases=_multiclass_cases,
        points=3,
        hint="shift each row by its own maximum (axis=1, keepdims=True); dscores = "
             "softmax(S), then subtract 1 at [np.arange(N), y] and divide by N; "
             "dW = X.T @ dscores, db = dscores.sum(axis=0)."),
    Exercise(
        id="w02_svm_loss_vectorized", function="svm_loss_vectorized",
        reference=f"{REFERENCE}:svm_loss_vectorized", make_cases=_svm_cases, points=3,
        hint="margins = S - S[np.arange(N), y][:, None] + 1, with the correct class's "
             "margin set to 0; in dscores each active margin counts +1 for its class and "
             "-1 for the correct class (so -(number of active margins) there); divide by N."),
    Exercise(
        id="w02_l1_l2_penalty", function="l1_l2_penalty",
        reference=f"{REFERENCE}:l1_l2_penalty", make_cases=_penalty_cases, points=2,
        hint="penalty = l1·Σ|W| + (l2/2)·Σ W² (note the 1/2); gradient = l1·sign(W) + "
             "l2·W with np.sign, which is 0 at W = 0."),
)
