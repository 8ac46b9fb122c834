"""Week 1 checks: the stable softmax family, its backward pass, softplus, standardization.

Every case generator mixes seeded random inputs with the edge cases the lecture warns
about: huge logits (overflow), very negative logits (underflow), a batch of one, rows on
very different scales, a constant feature.

The property a case exists for holds under every draw, so that a mistake's partial credit
does not depend on the seed (issue 19): the huge logits always overflow an unshifted exp,
always underflow a row under a shift shared by the whole array, and always have a runner-up
close to the max (see :func:`huge_logits`); the labels of the huge-logit cross-entropy case
are the least likely classes, and every class is the label of some row.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week01"
HIDDEN = "answers.hidden.week01"
LECTURE = "course/week01-numpy.ipynb"


def huge_logits(rng: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    """Logits ``(rows, classes ≥ 3)`` at scale 1000, random, where every stability mistake
    shows under every draw.

    Row 0 peaks between 1000 and 2000 (``exp`` overflows without a shift); row 1 peaks 1000
    to 2000 below row 0 (one shift for the whole array underflows the row to 0/0); any further
    row peaks anywhere in ±1000. Every row has a runner-up 0.5 to 3 below its max, so its
    normalizer is never 1 (its log never 0: a forgotten normalization always shows), and a
    lowest logit 800 to 1500 below its max, whose probability underflows to 0 (the log of a
    probability gives -inf there).
    """
    x = 1000 * rng.normal(size=(rows, classes))
    peaks = rng.uniform(-1000.0, 1000.0, size=rows)
    peaks[0] = rng.uniform(1000.0, 2000.0)
    peaks[1] = peaks[0] - rng.uniform(1000.0, 2000.0)
    x += (peaks - x.max(axis=1))[:, None]
    for row, peak in enumerate(peaks):
        runner_up, low = rng.permutation(np.flatnonzero(x[row] < peak))[:2]
        x[row, runner_up] = peak - rng.uniform(0.5, 3.0)
        x[row, low] = peak - rng.uniform(800.0, 1500.0)
    return x


def _different_scales(rng: np.random.Generator) -> np.ndarray:
    """Two rows of 5, at scales 1e3 and 1e-3; the first holds a logit between 1000 and 2000,
    so that an unshifted exp always overflows and one shift for both rows always underflows
    the second row."""
    big = 1e3 * rng.normal(size=5)
    big[rng.integers(5)] = rng.uniform(1e3, 2e3)
    return np.stack([big, 1e-3 * rng.normal(size=5)])


def _logit_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("random logits 4×10", (rng.normal(size=(4, 10)),)),
        Case("batch of one (1×5)", (rng.normal(size=(1, 5)),)),
        Case("huge logits (scale 1000)", (huge_logits(rng, 3, 6),)),
        Case("very negative logits (≈ -1000)", (-1000 + rng.normal(size=(3, 6)),)),
        Case("rows on very different scales", (_different_scales(rng),)),
        Case("a single class (3×1)", (rng.normal(size=(3, 1)),)),
        Case("3-D input 2×3×4 (last axis)", (rng.normal(size=(2, 3, 4)),)),
    ]


def _logsumexp_cases(rng: np.random.Generator) -> list[Case]:
    cases = [Case(c.name, c.args) for c in _logit_cases(rng)]
    return cases + [
        Case("reduce axis 0 of 5×3", (rng.normal(size=(5, 3)),), {"axis": 0}),
        Case("1-D vector (scalar result)", (rng.normal(size=7),), {"axis": 0}),
    ]


def _least_likely(rng: np.random.Generator,
                  logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(logits, y)``: the rows permuted, labels cycling through every class in a random
    order, each row's lowest logit swapped into its label's place. No example's loss vanishes
    (a mistake in a row's term always shows) and the labels are never all one class (an
    average over every label of every row always differs from the loss)."""
    logits = rng.permutation(logits)
    n, classes = logits.shape
    y = rng.permutation(np.arange(n) % classes)
    rows = np.arange(n)
    low = logits.argmin(axis=1)
    logits[rows, low], logits[rows, y] = logits[rows, y], logits[rows, low]
    return logits, y


def _cross_entropy_cases(rng: np.random.Generator) -> list[Case]:
    def labelled(name: str, logits: np.ndarray) -> Case:
        return Case(name, (logits, rng.integers(0, logits.shape[1], size=logits.shape[0])))

    return [
        labelled("random logits 8×5", rng.normal(size=(8, 5))),
        labelled("batch of one (1×4)", rng.normal(size=(1, 4))),
        Case("huge logits (scale 1000), every label the least likely class",
             _least_likely(rng, huge_logits(rng, 6, 3))),
        labelled("very negative logits (≈ -1000)", -1000 + rng.normal(size=(6, 3))),
        Case("labels use the last class", (rng.normal(size=(4, 3)), np.array([2, 2, 0, 2]))),
    ]


def _with_std(x: np.ndarray, std: list[float]) -> np.ndarray:
    """``x (N, D)`` shifted and scaled so that each feature has mean 0 and exactly ``std``."""
    return (x - x.mean(axis=0)) / x.std(axis=0) * std


def _standardize_cases(rng: np.random.Generator) -> list[Case]:
    shifted_test = 3.0 + 2.0 * rng.normal(size=(7, 4))
    constant = rng.normal(size=(10, 3))
    constant[:, 1] = 5.0
    # features with standard deviations exactly 1, 10, 0.04 and 3: at 0.04, eps (1e-8) changes
    # the result by 2.5e-7 relative, above the tolerance whatever the draw (with a drawn std
    # near 0.1, the 1e-7 of the tolerance, some draws failed a forgotten eps here and others
    # did not)
    train = _with_std(rng.normal(size=(20, 4)), [1, 10, 0.04, 3]) + [0, 5, -2, 1]
    # a feature whose std is exactly 1e-3, so that eps changes the result by 1e-5 relative:
    # where eps goes always shows, under every draw
    small = _with_std(rng.normal(size=(12, 3)), [1, 1e-3, 2]) + [0, 4, -1]
    return [
        Case("train 20×4, test from another distribution 7×4", (train, shifted_test)),
        Case("a constant feature (column 1)", (constant, rng.normal(size=(4, 3)))),
        Case("a feature with a small spread (std 1e-3): eps still counts",
             (small, [0, 4, -1] + rng.normal(size=(3, 3)) * [1, 1e-3, 2])),
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
