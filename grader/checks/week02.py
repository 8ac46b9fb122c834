"""Week 2 checks: losses and gradients of linear classifiers, and the L1/L2 penalty.

Each loss returns ``(loss, dW, db)``, so one check covers the loss and both gradients. The
cases mix seeded random problems with what the lecture warns about: scores so large that a
naive ``exp`` overflows, rows of scores on very different scales, a batch of one, a single
feature, two classes, every example of one class, and (for the SVM) examples that already
satisfy every margin.

What a case exists to show holds under every draw, so that a mistake's partial credit does
not depend on the seed (issue 19): the huge-score case always holds a score above 1000, the
batch of one has its label on its least likely class (every SVM margin violated, the loss
far from 0), the two-class case has exactly 7 violated margins, and the SVM mix and the
rows on different scales always have a non-zero bias gradient; the logistic loss's huge
scores are never small enough to fall in the hidden cases' regime.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week02"


def _problem(rng: np.random.Generator, n: int, d: int, c: int, scale: float = 1.0,
             name: str = "", least_likely: bool = False, overflow: bool = False) -> Case:
    """A multiclass problem ``(W, b, X, y)`` whose scores have roughly the given scale.

    ``least_likely``: each label is its example's lowest score (no loss term vanishes, every
    SVM margin is violated). ``overflow``: one bias moved so that one score, of a random
    example and class, lies between 1000 and 1500 (``exp`` overflows without a shift).
    """
    W = scale * rng.normal(size=(d, c)) / np.sqrt(d)
    b = scale * rng.normal(size=c)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, c, size=n)
    if overflow:
        i, j = rng.integers(n), rng.integers(c)
        b[j] += rng.uniform(1000.0, 1500.0) - (X[i] @ W[:, j] + b[j])
    if least_likely:
        y = (X @ W + b).argmin(axis=1)
    return Case(name or f"random {n} examples, {d} features, {c} classes", (W, b, X, y))


def _toward(x: np.ndarray, v: np.ndarray, now: float, target: float) -> np.ndarray:
    """``x`` moved along ``v`` so that a score ``x @ v + const``, now ``now``, becomes
    ``target`` (the other directions of ``x`` stay random)."""
    return x + (target - now) * v / (v @ v)


def _mixed_scales(rng: np.random.Generator) -> Case:
    """6 examples, 3 classes: the first three with huge scores, one of them a score between
    1000 and 1500 (exp overflows without a shift, and one shift for all rows underflows the
    ordinary rows), the others ordinary. Three examples of each of two classes: no example is
    labelled with the class an example (a random one) scores highest, so that class is
    violated there and is never the correct one: the SVM's bias gradient is never 0."""
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    X = rng.normal(size=(6, 4))
    X[:3] *= 1000.0
    i, j = rng.integers(3), rng.integers(3)
    X[i] = _toward(X[i], W[:, j], X[i] @ W[:, j] + b[j], rng.uniform(1000.0, 1500.0))
    never = (X[rng.integers(6)] @ W + b).argmax()
    y = rng.permutation(np.arange(6) % 2)  # 3 examples of each of the two other classes
    y[y >= never] += 1
    return Case("rows of scores on very different scales", (W, b, X, y))


def _two_classes(rng: np.random.Generator) -> Case:
    """10 examples, 2 classes, 5 of each; exactly 3 examples (random ones) beat the other
    class by a margin of 1 or more, the other 7 do not (an example on the wrong side of its
    range is moved along the weights' difference to a gap drawn in the other range). With an
    odd number of violated margins, the hinge's bias gradient is never 0."""
    W, b, X, _ = _problem(rng, 10, 4, 2).args
    y = rng.permutation(np.arange(10) % 2)  # 5 of each class
    v, c = W[:, 0] - W[:, 1], b[0] - b[1]
    sign = np.where(y == 0, 1.0, -1.0)  # gap of the correct class = sign · (x @ v + c)
    satisfied = np.zeros(10, dtype=bool)
    satisfied[rng.choice(10, size=3, replace=False)] = True
    for i in range(10):
        gap = sign[i] * (X[i] @ v + c)
        if satisfied[i] and gap < 1.5:
            X[i] = _toward(X[i], v, X[i] @ v + c, sign[i] * rng.uniform(1.5, 4.0))
        elif not satisfied[i] and gap > 0.5:
            X[i] = _toward(X[i], v, X[i] @ v + c, sign[i] * rng.uniform(-3.0, 0.5))
    return Case("two classes", (W, b, X, y))


def _multiclass_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _problem(rng, 12, 5, 4),
        _problem(rng, 1, 3, 5, name="a batch of one", least_likely=True),
        _problem(rng, 8, 1, 3, name="a single feature"),
        _two_classes(rng),
        _problem(rng, 7, 6, 3, scale=300.0, name="huge scores (exp overflows without a shift)",
                 overflow=True),
        _mixed_scales(rng),
        Case("every example has label 0",
             (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 3)),
              np.zeros(5, dtype=np.int64))),
    ]


def _svm_cases(rng: np.random.Generator) -> list[Case]:
    # Scores 10 above every other class for the right label: all margins satisfied (loss 0).
    X = np.eye(4)[:, :3].repeat(2, axis=0) + 0.01 * rng.normal(size=(8, 3))
    y = np.arange(8) // 2 % 3
    W = 10.0 * np.eye(3)
    # Rows 4-7 (labels 2, 2, 0, 0) are random; in the last two (label 0) the lowest input is
    # swapped into the label's place, so class 0 is violated in both (both of their margins),
    # which no other row can balance: the bias gradient is never 0.
    mixed = rng.normal(size=(4, 3))
    low = mixed[2:].argmin(axis=1)
    mixed[2:, 0], mixed[[2, 3], low] = mixed[[2, 3], low], mixed[2:, 0].copy()
    return _multiclass_cases(rng) + [
        Case("every margin satisfied (zero loss, zero gradient)",
             (W, np.zeros(3), X[:6], y[:6])),
        Case("a mix of satisfied and violated margins",
             (W, np.zeros(3), np.vstack([X[:4], mixed]), y)),
    ]


def _huge_binary(rng: np.random.Generator) -> tuple:
    """``(w, b, X, y)``: 10 examples, 3 features, scores of size ≈ 1000. One example scores
    above 800 with label 0 and one below −800 with label 1 (``σ`` rounds to 0 or 1 and its
    log underflows, whatever the draw). No score is under 100 in magnitude nor between 680
    and 760 (an example scoring there is moved along ``w`` to 800 … 1500): the regimes of a
    few digits (17 < |s| < 37) and of probabilities below 1e-300 are the hidden cases'."""
    w, b = 600.0 * rng.normal(size=3), float(rng.normal())
    X = rng.normal(size=(10, 3))
    y = rng.integers(0, 2, size=10)
    for i in range(10):
        score = X[i] @ w + b
        if abs(score) < 100.0 or 680.0 < abs(score) < 760.0 or i < 2:
            sign = (1.0 if i == 0 else -1.0) if i < 2 else rng.choice([-1.0, 1.0])
            X[i] = _toward(X[i], w, score, sign * rng.uniform(800.0, 1500.0))
    y[:2] = [0, 1]  # both confidently wrong
    order = rng.permutation(10)
    return w, b, X[order], y[order]


def _logistic_cases(rng: np.random.Generator) -> list[Case]:
    def binary(name: str, n: int, d: int, scale: float = 1.0) -> Case:
        return Case(name, (scale * rng.normal(size=d), float(rng.normal()),
                           rng.normal(size=(n, d)), rng.integers(0, 2, size=n)))

    return [
        binary("random 15 examples, 4 features", 15, 4),
        binary("a batch of one", 1, 3),
        binary("a single feature", 9, 1),
        Case("huge scores (|s| ≈ 1000: log σ(s) underflows)", _huge_binary(rng)),
        Case("every label is 1", (rng.normal(size=3), 0.5, rng.normal(size=(6, 3)),
                                  np.ones(6, dtype=np.int64))),
        Case("every label is 0", (rng.normal(size=3), -0.5, rng.normal(size=(6, 3)),
                                  np.zeros(6, dtype=np.int64))),
    ]


def _both_signs(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random weights, at least one negative and one positive (the L1 term's sign
    always matters)."""
    w = np.abs(rng.normal(size=n)) * rng.choice([-1.0, 1.0], size=n)
    w[:2] = np.abs(w[:2]) * [-1.0, 1.0]
    return rng.permutation(w)


def _penalty_cases(rng: np.random.Generator) -> list[Case]:
    with_zeros = rng.normal(size=(5, 3))
    with_zeros[rng.random(size=(5, 3)) < 0.4] = 0.0
    return [
        Case("random 6×4 weights, both terms", (rng.normal(size=(6, 4)), 0.01, 0.1)),
        Case("L2 only", (rng.normal(size=(3, 5)), 0.0, 0.5)),
        Case("L1 only", (rng.normal(size=(4, 2)), 0.3, 0.0)),
        Case("some weights exactly 0 (subgradient sign(0) = 0)", (with_zeros, 0.2, 0.05)),
        Case("a weight vector (binary model)", (_both_signs(rng, 7), 0.1, 0.1)),
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
