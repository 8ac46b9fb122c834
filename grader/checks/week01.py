"""Week 1 checks: the stable softmax family, its backward pass, softplus, standardization.

Every case generator mixes seeded random inputs with the edge cases the lecture warns
about: huge logits (overflow), very negative logits (underflow), a batch of one, rows on
very different scales, a constant feature.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week01"
HIDDEN = "answers.hidden.week01"
LECTURE = "course/week01-numpy.ipynb"


def _logit_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("random logits 4×10", (rng.normal(size=(4, 10)),)),
        Case("batch of one (1×5)", (rng.normal(size=(1, 5)),)),
        Case("huge logits (scale 1000)", (1000 * rng.normal(size=(3, 6)),)),
        Case("very negative logits (≈ -1000)", (-1000 + rng.normal(size=(3, 6)),)),
        Case("rows on very different scales", (np.stack([1e3 * rng.normal(size=5),
                                                         1e-3 * rng.normal(size=5)]),)),
        Case("a single class (3×1)", (rng.normal(size=(3, 1)),)),
        Case("3-D input 2×3×4 (last axis)", (rng.normal(size=(2, 3, 4)),)),
    ]


def _logsumexp_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case(c.name, c.args) for c in _logit_cases(rng)]
    return cases + [
        Case("reduce axis 0 of 5×3", (rng.normal(size=(5, 3)),), {"axis": 0}),
        Case("1-D vector (scalar result)", (rng.normal(size=7),), {"axis": 0}),
    ]


def _cross_entropy_cases(rng: np.random.Generator) -> list[Case]:
    def labelled(name: str, logits: np.ndarray) -> Case:
        return Case(name, (logits, rng.integers(0, logits.shape[1], size=logits.shape[0])))

    return [
        labelled("random logits 8×5", rng.normal(size=(8, 5))),
        labelled("batch of one (1×4)", rng.normal(size=(1, 4))),
        labelled("huge logits (scale 1000)", 1000 * rng.normal(size=(6, 3))),
        labelled("very negative logits (≈ -1000)", -1000 + rng.normal(size=(6, 3))),
        Case("labels use the last class", (rng.normal(size=(4, 3)), np.array([2, 2, 0, 2]))),
    ]


def _standardize_cases(rng: np.random.Generator) -> list[Case]:
    shifted_test = 3.0 + 2.0 * rng.normal(size=(7, 4))
    constant = rng.normal(size=(10, 3))
    constant[:, 1] = 5.0
    return [
        Case("train 20×4, test from another distribution 7×4",
             (rng.normal(size=(20, 4)) * [1, 10, 0.1, 3] + [0, 5, -2, 1], shifted_test)),
        Case("a constant feature (column 1)", (constant, rng.normal(size=(4, 3)))),
        Case("a test batch of one", (rng.normal(size=(15, 2)), rng.normal(size=(1, 2)))),
        Case("large offset 1e6 + unit noise (cancellation)",
             (1e6 + rng.normal(size=(50, 3)), 1e6 + rng.normal(size=(5, 3)))),
    ]


def _log_softmax_backward_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, shape: tuple[int, ...], scale: float = 1.0) -> Case:
        return Case(name, (rng.normal(size=shape), scale * rng.normal(size=shape)))

    one_hot = np.zeros((4, 3))
    one_hot[np.arange(4), rng.integers(0, 3, size=4)] = -0.25  # d(mean cross-entropy)/dy
    return [
        case("random 4×10", (4, 10)),
        case("batch of one (1×5)", (1, 5)),
        Case("upstream gradient of a mean cross-entropy (one entry per row)",
             (one_hot, rng.normal(size=(4, 3)))),
        case("huge logits (scale 1000)", (3, 6), scale=1000.0),
        case("3-D input 2×3×4 (last axis)", (2, 3, 4)),
        case("a single class (3×1)", (3, 1)),
    ]


def _softplus_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("random 5×4 (|x| of a few units)", (2 * rng.normal(size=(5, 4)),)),
        Case("large positive x (30 … 1000): exp overflows",
             (np.array([30.0, 50.0, 100.0, 709.0, 800.0, 1000.0]),)),
        Case("large negative x (−1000 … −30): the result is tiny, not 0",
             (np.array([-1000.0, -745.0, -700.0, -100.0, -50.0, -30.0]),)),
        Case("a sweep from −60 to 60", (np.linspace(-60.0, 60.0, 49),)),
        Case("zero and values near it", (np.array([0.0, 1e-8, -1e-8, 0.5, -0.5]),)),
    ]


register(
    Exercise(
        id="w01_softmax", function="softmax", reference=f"{REFERENCE}:softmax",
        strategy="grader.differential:rows",
        make_cases=_logit_cases, points=2, hidden=f"{HIDDEN}:softmax_cases",
        see=f"{LECTURE} §3 Why the naive softmax overflows",
        hint="these cases use logits far from 0 and rows on different scales: only the "
             "differences within a row matter, so make every exponent safe for its own row, "
             "and normalize each slice along the last axis on its own, whatever the shape."),
    Exercise(
        id="w01_logsumexp", function="logsumexp", reference=f"{REFERENCE}:logsumexp",
        make_cases=_logsumexp_cases, points=2, hidden=f"{HIDDEN}:logsumexp_cases",
        see=f"{LECTURE} §4 Log-sum-exp",
        hint="the failing cases test overflow, underflow and the reduction axis: each slice "
             "along `axis` needs its own shift (not one for the whole array), the shift must "
             "be undone exactly, and only the reduced axis may disappear from the shape."),
    Exercise(
        id="w01_log_softmax", function="log_softmax", reference=f"{REFERENCE}:log_softmax",
        strategy="grader.differential:rows",
        uses=("w01_logsumexp",),
        make_cases=_logit_cases, points=2, hidden=f"{HIDDEN}:log_softmax_cases",
        see=f"{LECTURE} §5 Why log-softmax is not log(softmax(x))",
        hint="a probability that underflows to 0 has a finite logarithm the log cannot "
             "recover: work in log space from the start (take the logarithm symbolically) "
             "instead of taking the log of probabilities."),
    Exercise(
        id="w01_cross_entropy", function="cross_entropy",
        uses=("w01_log_softmax",),
        reference=f"{REFERENCE}:cross_entropy", make_cases=_cross_entropy_cases, points=2,
        hidden=f"{HIDDEN}:cross_entropy_cases",
        see=f"{LECTURE} §5 Why log-softmax is not log(softmax(x))",
        hint="each example contributes the log-probability of its own label only (one entry "
             "per row, chosen by the label), computed stably from logits; the result is an "
             "average over the batch, not a sum."),
    Exercise(
        id="w01_log_softmax_backward", function="log_softmax_backward",
        reference=f"{REFERENCE}:log_softmax_backward",
        make_cases=_log_softmax_backward_cases, points=3, rtol=1e-7, atol=1e-9,
        see=f"{LECTURE} §7 Gradients through a reduction",
        hidden=f"{HIDDEN}:log_softmax_backward_cases",
        hint="every output of a row depends on every input of that row through the "
             "log-sum-exp term: differentiate that term first, then sum the chain rule over "
             "all outputs of the row. Check your derivation on a 1×2 example by hand and with "
             "numerical_gradient_array."),
    Exercise(
        id="w01_softplus", function="softplus", reference=f"{REFERENCE}:softplus",
        strategy="grader.differential:elementwise",
        make_cases=_softplus_cases, points=2, rtol=1e-10, atol=0.0,
        hidden=f"{HIDDEN}:softplus_cases",
        see=f"{LECTURE} §2 Floating point: precision, overflow, underflow, cancellation",
        hint="the failing cases test the two ends of the range: for large positive x one "
             "intermediate overflows, and for large negative x the answer is tiny but not 0 — "
             "adding it to 1 rounds it away. Decide on a formulation that is exact at both "
             "ends (the relative error is checked, with no absolute slack)."),
    Exercise(
        id="w01_standardize", function="standardize", reference=f"{REFERENCE}:standardize",
        make_cases=_standardize_cases, points=2, hidden=f"{HIDDEN}:standardize_cases",
        outputs=("x_train_std", "x_test_std"),
        see=f"{LECTURE} §6.1 Fit on the training set, apply to the test set",
        hint="the statistics are parameters fitted on the training set only, per feature, "
             "and applied unchanged to the test set; eps is added to the standard deviation "
             "as the docstring says; at a large offset the variance must not be computed as a "
             "difference of two large, nearly equal numbers."),
)
