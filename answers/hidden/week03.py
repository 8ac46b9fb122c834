"""Week 3 hidden cases: the inputs the public cases do not stress.

* ``distances_hidden``: many coinciding test and training points (a negative rounding residue
  in the expanded formula, which a missing guard turns into ``nan``, comes up for some of
  them; enough of them that it does under every draw).
* ``knn_hidden``: ties in distance at non-zero values that straddle the k-th place, and votes
  tied between labels other than 0, and a one-class training set (every label 0: the vote
  has a single column).
* ``m_step_hidden``: data far from the origin (offset 1e6), where a one-pass covariance
  E[xxᵀ] − μμᵀ cancels catastrophically.
* ``whiten_hidden``: a variance far below eps, rank-deficient data, an offset of 1e6 (one-pass
  covariance), and pixel units (an eps rescaled by the data's variance is wrong there).
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week03 import (balanced_labels, distinct_labels, knn_index_tie, knn_levels,
                                  knn_row)


def distances_hidden(rng: np.random.Generator) -> list[Case]:
    # 80 coinciding and 40 nearly coinciding points: with 24 and 10, a draw without any
    # negative residue came up in about 1 seed of 20 (and both at once gave a missing clip
    # full marks); with these counts none did in 3,000 draws.
    train = 3.0 * rng.normal(size=(80, 6))
    test = train[rng.permutation(80)]
    return [
        Case("80 test points that coincide with training points", (test, train)),
        Case("nearly coinciding points (differences of 1e-9)",
             (train[:40] + 1e-9 * rng.normal(size=(40, 6)), train)),
    ]


def knn_hidden(rng: np.random.Generator) -> list[Case]:
    # Distances in {1, 2, 3}, k = 5, 40 training points (more than 16, where NumPy's default
    # sort stops being insertion sort, i.e. stable). Planted rows, so that each mistake fails
    # under every draw: five rows where the 5th neighbour is decided by the training index
    # among many points at distance 2 (any other tied point changes the vote), a vote tied
    # 2-2 whose first-counted label is the larger, a 6th neighbour that turns the vote to a
    # smaller label, farthest points that carry none of the nearest points' label.
    y_edge = balanced_labels(rng, 40, 4)
    hi, lo, other = distinct_labels(rng, 4, 3)
    hi, lo = max(hi, lo), min(hi, lo)
    a, b = sorted(distinct_labels(rng, 4, 2), reverse=True)
    c = distinct_labels(rng, np.setdiff1d(np.arange(4), [a]), 3)
    planted = [
        knn_levels(rng, y_edge, [(1, [hi]), (2, [hi, lo, lo, other])], rest=(3,)),
        knn_levels(rng, y_edge, [(1, [a, a, a, b, b]), (2, [b])], rest=(3,)),
        knn_levels(rng, y_edge, [(1, [a] * 5), (3, c + c[:2])], rest=(2,)),
        *[knn_index_tie(rng, y_edge, 4, 2.0, below=(1,), above=3.0) for _ in range(5)]]
    edge = np.stack(planted + [rng.integers(1, 4, size=40).astype(np.float64)
                               for _ in range(2)])
    # Labels 1 and 2 only (never 0), k = 4, 4 of each: a 2-2 vote first counting 2, a 5th
    # neighbour that breaks a 2-2 tie the other way, farthest points of the other label.
    labels_12 = balanced_labels(rng, 8, [1, 2])
    two_two = np.stack([knn_row(rng, labels_12, [2, 1, 2, 1]),
                        knn_row(rng, labels_12, [2, 2, 1, 1, 2]),
                        knn_row(rng, labels_12, [1, 1, 1, 2], far=[2, 2, 2, 1]),
                        *[rng.random(size=8) for _ in range(9)]])
    # All distances equal and non-zero: index order alone decides the neighbours. The first
    # three labels have a majority (no tied vote) that the 4th does not change, and the last
    # three (the neighbours if ties went to the larger index) do not carry it.
    flat = np.full((6, 50), 2.5)
    major, minor = distinct_labels(rng, 3, 2)
    y_flat = rng.integers(0, 3, size=50)
    y_flat[:4] = [*rng.permutation([major, major, minor]), major]
    y_flat[-3:] = rng.choice(np.setdiff1d(np.arange(3), [major]), size=3)
    return [
        Case("ties in distance at the k-th place (distances 1, 2, 3), k=5",
             (rng.permutation(edge), y_edge, 5)),
        Case("votes tied between labels 1 and 2 (no label 0), k=4",
             (rng.permutation(two_two), labels_12, 4)),
        Case("every distance equal (2.5): the smallest indices are the nearest, k=3",
             (flat, y_flat, 3)),
        Case("a one-class training set (every label 0), k=3",
             (rng.random(size=(5, 9)), np.zeros(9, dtype=np.int64), 3)),
    ]


def m_step_hidden(rng: np.random.Generator) -> list[Case]:
    def soft(n: int, k: int) -> np.ndarray:
        logits = 2.0 * rng.normal(size=(n, k))
        return logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))

    return [
        Case("data far from the origin (offset 1e6)",
             (1e6 + rng.normal(size=(30, 2)), soft(30, 3), 1e-6)),
        Case("data far from the origin (offset -3e5), 3 features",
             (-3e5 + rng.normal(size=(25, 3)), soft(25, 2), 1e-3)),
    ]


def whiten_hidden(rng: np.random.Generator) -> list[Case]:
    basis, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    # one direction with variance 1e-9, far below eps = 1e-6 (it must stay small, not blow up)
    thin = (rng.normal(size=(40, 5)) * np.array([1.0, 0.7, 0.4, 0.2, 3e-5])) @ basis.T
    # rank-deficient: column 3 duplicates column 0, column 4 is a sum of columns 1 and 2
    base = rng.normal(size=(30, 3)) @ rng.normal(size=(3, 3))
    dup = np.column_stack([base, base[:, 0], base[:, 1] + base[:, 2]])
    # pixel units: variances in the thousands, eps still in absolute units
    pixels = 128.0 + 40.0 * rng.normal(size=(50, 4)) @ rng.normal(size=(4, 4))
    return [
        Case("a direction with variance 1e-9, far below eps=1e-6", (thin, 1e-6)),
        Case("rank-deficient data (duplicated and summed features), eps=1e-3", (dup, 1e-3)),
        Case("data far from the origin (offset 1e6), eps=1e-4",
             (1e6 + rng.normal(size=(40, 3)) @ rng.normal(size=(3, 3)), 1e-4)),
        Case("pixel units (values around 128, variances ~1e3), eps=10", (pixels, 10.0)),
    ]
