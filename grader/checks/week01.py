"""Week 1 checks: the stable softmax family and standardization.

Every case generator mixes seeded random inputs with the edge cases the lecture warns
about: huge logits (overflow), very negative logits (underflow), a batch of one, rows on
very different scales, a constant feature.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week01"


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


register(
    Exercise(
        id="w01_softmax", function="softmax", reference=f"{REFERENCE}:softmax",
        make_cases=_logit_cases, points=2,
        hint="subtract the row maximum before np.exp, and reduce over the last axis "
             "with keepdims=True so the division broadcasts per row."),
    Exercise(
        id="w01_logsumexp", function="logsumexp", reference=f"{REFERENCE}:logsumexp",
        make_cases=_logsumexp_cases, points=2,
        hint="log Σ exp(x) = m + log Σ exp(x - m) with m the maximum *of each slice along "
             "axis* (not the global maximum); add m back and drop the reduced axis."),
    Exercise(
        id="w01_log_softmax", function="log_softmax", reference=f"{REFERENCE}:log_softmax",
        make_cases=_logit_cases, points=2,
        hint="np.log(softmax(x)) gives -inf when a probability underflows; use "
             "x - logsumexp(x) over the last axis instead."),
    Exercise(
        id="w01_cross_entropy", function="cross_entropy",
        reference=f"{REFERENCE}:cross_entropy", make_cases=_cross_entropy_cases, points=2,
        hint="pick log_softmax(logits)[i, y[i]] with integer indexing (np.arange(N), y), "
             "negate, and average (not sum) over the batch."),
    Exercise(
        id="w01_standardize", function="standardize", reference=f"{REFERENCE}:standardize",
        make_cases=_standardize_cases, points=2,
        hint="compute mean and std (ddof=0) on x_train only, per feature (axis 0), add eps "
             "to the std, and apply the *same* statistics to x_test; compute the variance "
             "from centred values, not E[x²] - E[x]²."),
)
