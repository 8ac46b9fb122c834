"""Week 11 hidden cases: inputs aimed at the mistakes the public cases do not pin down.

* ``perplexity_cases``: confidently *wrong* predictions (a target whose probability
  underflows to 0 in a naive softmax: clipping or ``log(softmax)`` gives a wrong or infinite
  perplexity), a large vocabulary with one hot spot, and integer-valued logits.
* ``batchify_cases``, ``get_batch_cases``: the lecture's sizes (20 columns, windows of 35
  on a long source, the last and the shortest window, a short last window at an offset whose
  bits are not those of the source's length), int32 ids, a stream too short for one row.
* ``kneser_ney_cases``: a sparse 30×30 table, a word that never follows anything, a
  vocabulary of one word, a single bigram seen 100 times with a small discount.
* ``tied_lm_cases``: longer windows and a larger vocabulary, saturated gates, a window of one
  repeated word (the look-up must still use the embedding of that word at every step).
* ``sample_probs_cases``: near-tied logits at a temperature of 1e-3 (the answer is not an
  arg-max: a shortcut that returns one-hot vectors at low temperature fails), exact ties,
  logits near −1000.
* ``sgd_step_cases``: a clipping threshold so small that every step is clipped, large weights
  and rates, a larger vocabulary.
* ``plateau_cases``: a long noisy history (random values, its events at fixed epochs: an
  improvement between non-improving epochs that must reset the count) with patience 0 and
  3, ties at exactly the threshold after a decay, a factor of 10, thresholds of 0 and 0.5
  on perplexities far from 1, and a threshold of 1.5 that no epoch can meet (the first
  epoch, compared with an infinite best, does not improve either: it counts towards the
  patience).
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week11 import noisy_history, plateau_case


def perplexity_cases(rng: np.random.Generator) -> list[Case]:
    wrong = np.zeros((8, 6))
    targets = np.arange(8) % 6
    wrong[np.arange(8), targets] = 5.0          # mostly right and confident ...
    wrong[[1, 5], targets[[1, 5]]] = 0.0
    wrong[[1, 5], (targets[[1, 5]] + 1) % 6] = 40.0  # ... and twice confidently wrong (p ≈ 4e-18)
    big_vocab = rng.normal(size=(3, 1000))
    big_vocab[:, 17] += 30.0
    return [
        Case("hidden: two confidently wrong predictions (target probability ≈ 4e-18)",
             (wrong, targets)),
        Case("hidden: V=1000 with one dominant word", (big_vocab, rng.integers(0, 1000, 3))),
        Case("hidden: integer logits (an int dtype)",
             (rng.integers(-5, 6, size=(2, 3, 4)), rng.integers(0, 4, size=(2, 3)))),
    ]


def plateau_cases(rng: np.random.Generator) -> list[Case]:
    # Events at fixed epochs (values drawn): with patience 3, four epochs without gain
    # (2-5, one a gain under 1 %), then two (7-8), an improvement (9) that must reset the
    # count, and two more (10-11); with patience 0, every one of them decays.
    noisy = noisy_history(rng, round(300 + rng.uniform(0, 20), 2),
                          ["gain", "worse", "recover", "small", "worse", "gain", "small",
                           "small", "gain", "worse", "small", "gain", "gain", "worse",
                           "recover"])
    return [
        plateau_case("hidden: a long noisy history, patience 0", noisy),
        plateau_case("hidden: the same history, patience 3", noisy, patience=3),
        plateau_case("hidden: ties at exactly the threshold after a decay",
                     [400.0, 200.0, 200.0, 100.0, 100.0, 50.0], lr=8.0, factor=2.0,
                     threshold=0.5),
        plateau_case("hidden: threshold 0 and equal perplexities",
                     [90.0, 90.0, 89.0, 89.0, 89.0, 95.0], threshold=0.0, patience=1),
        plateau_case("hidden: factor 10 on perplexities near 1",
                     [1.30, 1.29, 1.2, 1.19, 1.1881, 1.18], lr=1.0, factor=10.0),
        plateau_case("hidden: a single epoch", [500.0]),
        plateau_case("hidden: threshold 1.5, no epoch can improve (the first one counts too), "
                     "patience 1", [300.0, 250.0, 200.0, 150.0, 120.0, 100.0], threshold=1.5,
                     patience=1),
    ]


def batchify_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("hidden: a long stream into 20 columns (the lecture's batch size)",
             (rng.integers(0, 10_000, size=1_013), 20)),
        Case("hidden: int32 ids keep their integer type", (np.arange(23, dtype=np.int32), 4)),
        Case("hidden: fewer tokens than columns leave no row", (np.arange(3), 5)),
    ]


def get_batch_cases(rng: np.random.Generator) -> list[Case]:
    source = rng.integers(0, 10_000, size=(80, 3))
    return [
        Case("hidden: the window of 35 at row 35 of an 80-row source", (source, 35, 35)),
        Case("hidden: the last window (row 70, bptt 35: 9 rows left)", (source, 70, 35)),
        Case("hidden: the window starting on the last row but one", (source, 78, 35)),
        Case("hidden: a short last window at row 60 (19 rows left)", (source, 60, 35)),
    ]


def tied_lm_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, steps: int, batch: int, vocab: int, hidden: int, scale: float) -> Case:
        return Case(name, (rng.integers(0, vocab, size=(steps, batch)),
                           scale * rng.normal(size=(vocab, hidden)),
                           scale * rng.normal(size=(hidden, 4 * hidden)),
                           scale * rng.normal(size=(hidden, 4 * hidden)),
                           scale * rng.normal(size=4 * hidden), rng.normal(size=vocab)))

    same = case("hidden: every word the same (one id repeated)", 5, 2, 7, 3, 0.5)
    same = Case(same.name, (np.full((5, 2), 3), *same.args[1:]))
    return [case("hidden: 12 steps, batch 4, V=40, H=6", 12, 4, 40, 6, 0.5),
            case("hidden: saturated gates (weights × 3)", 6, 2, 9, 3, 1.5),
            same]


def sample_probs_cases(rng: np.random.Generator) -> list[Case]:
    tied = np.array([[5.0, 5.0 + 1e-3, 2.0, 5.0 - 2e-3], [0.0, 0.0, 0.0, -1.0]])
    return [
        Case("hidden: near-tied logits at temperature 1e-3 (not an arg-max)", (tied, 1e-3)),
        Case("hidden: exact ties at temperature 0.01 (split evenly)", (tied[1], 0.01)),
        Case("hidden: logits near -1000 at temperature 0.5", (-1000 + rng.normal(size=(2, 5)), 0.5)),
    ]


def sgd_step_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, steps: int, batch: int, vocab: int, hidden: int, lr: float,
             max_norm: float, scale: float = 0.5) -> Case:
        ids = rng.integers(0, vocab, size=(steps + 1, batch))
        return Case(name, (ids[:-1], ids[1:], scale * rng.normal(size=(vocab, hidden)),
                           scale * rng.normal(size=(hidden, 4 * hidden)),
                           scale * rng.normal(size=(hidden, 4 * hidden)),
                           scale * rng.normal(size=4 * hidden), rng.normal(size=vocab), lr,
                           max_norm))

    return [case("hidden: a tiny max_norm (1e-3): every step is clipped", 4, 2, 7, 3, 5.0, 1e-3),
            case("hidden: large weights, large gradients, max_norm 0.25", 6, 3, 9, 3, 20.0,
                 0.25, scale=2.0),
            case("hidden: V=30, H=5, 8 steps", 8, 2, 30, 5, 1.0, 1.0)]


def kneser_ney_cases(rng: np.random.Generator) -> list[Case]:
    sparse = np.where(rng.random((30, 30)) < 0.08, rng.integers(1, 20, size=(30, 30)), 0)
    sparse[0, 0] = 3                                # at least one bigram
    never_after = rng.integers(0, 4, size=(5, 5)).astype(float)
    never_after[:, 3] = 0                           # word 3 never follows anything
    never_after[0, 1] = 2
    return [
        Case("hidden: a sparse 30×30 table, d=0.75", (sparse.astype(float), 0.75)),
        Case("hidden: a word that never follows anything (continuation 0)", (never_after, 0.6)),
        Case("hidden: a vocabulary of one word", (np.array([[4.0]]), 0.75)),
        Case("hidden: one bigram seen 100 times, d=0.1", (np.pad([[100.0]], ((0, 2), (1, 1))), 0.1)),
    ]
