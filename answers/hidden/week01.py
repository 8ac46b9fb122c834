"""Week 1 hidden cases: inputs aimed at mistakes the public cases do not catch.

* integer logits (the lecture's own example ``[1000, 1001, 1002]`` is an integer list): an
  output buffer made with ``np.empty_like(x)`` silently truncates probabilities to 0;
* size-1 axes in the middle of a 3-D input: ``squeeze()`` without an axis drops them all;
* 1-D input (a single vector): code written for 2-D batches (``[:, None]``) breaks;
* a feature with a tiny but non-zero spread (std 1e-5): ``eps`` added to the variance
  instead of the standard deviation changes the result by orders of magnitude;
* confidently wrong predictions (logit gaps of 1e4): clipped probabilities cap the loss;
* softplus at the boundaries of ``exp`` (±709, ±745) and at tiny magnitudes.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week01 import huge_logits


def softmax_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("integer logits [[1000, 1001, 1002], [1, 2, 3]]",
             (np.array([[1000, 1001, 1002], [1, 2, 3]]),)),
        Case("a single vector (1-D, 6 classes)", (rng.normal(size=6),)),
        Case("near-ties at scale 1e4 (differences of 1e-3)",
             (1e4 + 1e-3 * rng.normal(size=(3, 5)),)),
        Case("3-D input with a size-1 middle axis (2×1×5)", (3 * rng.normal(size=(2, 1, 5)),)),
    ]


def logsumexp_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("3-D input with a size-1 middle axis (2×1×4), last axis",
             (100 * rng.normal(size=(2, 1, 4)),)),
        Case("3-D input 3×1×4, reduce axis 2", (rng.normal(size=(3, 1, 4)),), {"axis": 2}),
        Case("integer input [[1000, 1001, 1002]]", (np.array([[1000, 1001, 1002]]),)),
        Case("reduce axis 1 of 2×5×3 at scale 1000", (1000 * rng.normal(size=(2, 5, 3)),),
             {"axis": 1}),
    ]


def log_softmax_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("a single vector (1-D) with a gap of 800", (np.array([0.0, -800.0, -3.0]),)),
        Case("integer logits [[1000, 1001, 1002]]", (np.array([[1000, 1001, 1002]]),)),
        Case("3-D input with a size-1 middle axis (2×1×5)",
             (huge_logits(rng, 2, 5)[:, None, :],)),
    ]


def _integer_logits(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Integer logits ``(6, 3)``, three distinct values of −3 … 3 per row, each label on its
    row's lowest logit: a wrong label index always changes the loss (with ties, or sums of
    integers that happen to match, an off-by-one index passed some draws)."""
    logits = np.stack([rng.choice(7, size=3, replace=False) - 3 for _ in range(6)])
    return logits, logits.argmin(axis=1)


def cross_entropy_cases(rng: np.random.Generator) -> list[Case]:
    logits = rng.normal(size=(5, 4))
    y = rng.integers(0, 4, size=5)
    wrong = logits.copy()
    wrong[np.arange(5), y] -= 1e4  # the true class is 1e4 below the others
    return [
        Case("confidently wrong: true class 1e4 below the rest", (wrong, y)),
        Case("one class only (loss 0)", (rng.normal(size=(3, 1)), np.zeros(3, dtype=int))),
        Case("integer logits", _integer_logits(rng)),
    ]


def standardize_cases(rng: np.random.Generator) -> list[Case]:
    tiny = rng.normal(size=(30, 3)) * [1.0, 1e-5, 1e3] + [0.0, 7.0, -5.0]
    constant_offset = 1e6 + rng.normal(size=(20, 2))
    constant_offset[:, 0] = 1e6
    return [
        Case("a feature with a tiny spread (std 1e-5)", (tiny, rng.normal(size=(4, 3)))),
        Case("a constant feature at offset 1e6", (constant_offset, 1e6 + rng.normal(size=(3, 2)))),
        Case("one feature (D = 1), a test batch of one",
             (rng.normal(size=(12, 1)), rng.normal(size=(1, 1)))),
    ]


def log_softmax_backward_cases(rng: np.random.Generator) -> list[Case]:
    x = 1000 * rng.normal(size=(4, 6))
    return [
        Case("huge logits (scale 1000), dense upstream gradient", (rng.normal(size=(4, 6)), x)),
        Case("upstream gradient constant along each row", (np.repeat(rng.normal(size=(3, 1)), 5,
                                                                     axis=1),
                                                           rng.normal(size=(3, 5)))),
        Case("a single vector (1-D)", (rng.normal(size=7), rng.normal(size=7))),
    ]


def softplus_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("around the limits of exp (±709, ±745, ±746)",
             (np.array([-746.0, -745.0, -709.0, 709.0, 710.0, 746.0]),)),
        Case("tiny magnitudes (|x| ≤ 1e-12)", (np.array([-1e-12, -1e-300, 0.0, 1e-300, 1e-12]),)),
        Case("integer input", (np.arange(-40, 41, 8),)),
        Case("huge magnitudes (±1e300)", (np.array([-1e300, -1e10, 1e10, 1e300]),)),
    ]
