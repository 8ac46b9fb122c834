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


_LECTURE = "course/week02-linear-models.ipynb"

register(
    Exercise(
        id="w02_logistic_loss", function="logistic_loss",
        reference=f"{REFERENCE}:logistic_loss", make_cases=_logistic_cases, points=3,
        hidden="answers.hidden.week02:logistic_hidden",
        outputs=("loss", "dw", "db"),
        see=f"{_LECTURE} §2 Binary logistic regression: loss, gradient, and stability",
        hint="the failing case names the regime. For large |s| a probability rounds to exactly "
             "0 or 1 (or exp overflows) before its log is taken: compute the loss from the "
             "score itself, never from a rounded probability; the log-sum-exp idea of Week 1 "
             "applies with two terms. If only dw or db is off, check the sign of the error "
             "signal and the averaging over the batch."),
    Exercise(
        id="w02_softmax_loss_naive", function="softmax_loss_naive",
        reference=f"{REFERENCE}:softmax_loss_naive", make_cases=_multiclass_cases, points=2,
        outputs=("loss", "dW", "db"),
        see=f"{_LECTURE} §3 Softmax regression: loops, then matrices",
        hint="per example: shift its scores before exponentiating (exp overflows on huge "
             "scores), the loss is minus the log-probability of the correct class, and each "
             "class's score receives 'predicted minus target'; that signal times the input "
             "goes into the class's column of dW and into db. Loss and both gradients are "
             "averaged over the examples."),
    Exercise(
        id="w02_softmax_loss_vectorized", function="softmax_loss_vectorized",
        reference=f"{REFERENCE}:softmax_loss_vectorized", make_cases=_multiclass_cases,
        points=3, outputs=("loss", "dW", "db"),
        see=f"{_LECTURE} §3 Softmax regression: loops, then matrices",
        hint="the same maths as the loop version, all rows at once. The shift that keeps exp "
             "finite must be each row's own: one global shift underflows the rows whose "
             "scores are much smaller. Pick one entry per row with integer indexing (not a "
             "whole column); let the shapes tell you where the transpose goes, and sum the "
             "bias gradient over examples, not classes."),
    Exercise(
        id="w02_svm_loss_vectorized", function="svm_loss_vectorized",
        reference=f"{REFERENCE}:svm_loss_vectorized", make_cases=_svm_cases, points=3,
        hidden="answers.hidden.week02:svm_hidden",
        outputs=("loss", "dW", "db"),
        see=f"{_LECTURE} §4 The multiclass SVM (hinge) loss",
        hint="differentiate the sum of hinges term by term: an inactive term (negative or "
             "exactly 0) contributes nothing; an active term moves two scores of its row in "
             "opposite directions, and the correct class's score takes part in every term "
             "of its row. The correct class is not a term of its own loss. Compare your dW "
             "with gradient_check on a small random problem."),
    Exercise(
        id="w02_l1_l2_penalty", function="l1_l2_penalty",
        reference=f"{REFERENCE}:l1_l2_penalty", make_cases=_penalty_cases, points=2,
        outputs=("penalty", "dW"),
        see=f"{_LECTURE} §8 L2 versus L1 regularization",
        hint="read the penalty's definition again: which term carries the factor 1/2, and "
             "what does that do to its derivative? The L1 term is on absolute values; its "
             "subgradient is 0 where a weight is exactly 0. W may be a vector or a matrix: "
             "every entry counts."),
)
