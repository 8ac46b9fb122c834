"""Week 10 hidden cases: inputs aimed at the mistakes the public cases do not pin down.

* ``logcosh_cases``: the exact edges of float64's ``cosh``/``exp`` (overflow just above
  710), tiny inputs down to 1e-150 (where ``log(cosh x)`` is ``x²/2`` and any cancellation
  loses every digit), a dense sweep through the regimes a learner might switch between, and
  upstream gradients far from 1.
* ``linear_grads_cases``, ``training_step_cases``, ``lstm_cell_cases``, ``lstm_layer_cases``,
  ``lenet_cases``: degenerate sizes (1×1×1), values of order 1e6, classes absent from the
  batch, heavy momentum, a saturated cell state, 50 time steps, unnormalized images and a
  single corner pixel (padding and flatten order).
* ``fit_cases``: last batches of a single example, a batch size of N − 1, one epoch only,
  heavy momentum: the epoch-loss weighting and the loop's bookkeeping under every split.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week10 import fit_case


def logcosh_cases(rng: np.random.Generator) -> list[Case]:
    edges = np.array([709.0, 710.5, 711.0, 1500.0, -709.5, -712.0, -1e4, 355.0])
    return [
        Case("hidden: the edges of cosh's and exp's range", (edges, rng.normal(size=edges.shape))),
        Case("hidden: a sweep of tiny inputs (1e-150 … 1e-1)",
             (np.geomspace(1e-150, 1e-1, 30) * rng.choice([-1.0, 1.0], size=30),
              rng.normal(size=30))),
        Case("hidden: a dense sweep through |x| = 0.1 … 40",
             (np.linspace(-40.0, 40.0, 81) + 0.05, rng.normal(size=81))),
        Case("hidden: huge upstream gradients at large |x|",
             (np.array([-400.0, -40.0, 40.0, 400.0]), 1e6 * rng.normal(size=4))),
    ]


def fit_cases(rng: np.random.Generator) -> list[Case]:
    return [
        fit_case(rng, "hidden: 9 examples in batches of 4 (a last batch of 1)", 9, 3, 4, 3, 4,
                 3, 0.3, 0.9),
        fit_case(rng, "hidden: batch size N − 1 (batches of 10 and 1)", 11, 2, 5, 2, 10, 3,
                 0.4, 0.5),
        fit_case(rng, "hidden: a single epoch, heavy momentum", 8, 4, 6, 4, 3, 1, 0.2, 0.99),
        fit_case(rng, "hidden: 6 epochs with a large learning rate", 13, 3, 5, 3, 5, 6, 1.0,
                 0.0),
    ]


def linear_grads_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("hidden: one example, one feature, one output", (rng.normal(size=(1, 1)),
             rng.normal(size=(1, 1)), rng.normal(size=1), rng.normal(size=(1, 1)))),
        Case("hidden: values of order 1e6", (1e6 * rng.normal(size=(3, 2)), rng.normal(size=(2, 4)),
             rng.normal(size=4), 1e6 * rng.normal(size=(3, 4)))),
    ]


def training_step_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, c: int, lr: float, momentum: float, labels=None) -> Case:
        y = rng.integers(0, c, size=n) if labels is None else np.asarray(labels)
        return Case(name, (rng.normal(size=(n, d)), y, 0.5 * rng.normal(size=(d, c)),
                           0.1 * rng.normal(size=c), lr, momentum))

    return [case("hidden: classes 3 and 4 never appear in the batch", 6, 3, 5, 0.5, 0.9,
                 [0, 1, 2, 0, 1, 2]),
            case("hidden: momentum 0.99, lr 1e-3", 7, 4, 3, 1e-3, 0.99),
            case("hidden: a large batch of 64", 64, 5, 4, 0.1, 0.5)]


def lstm_cell_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("hidden: a huge cell state (tanh of c saturates)", (rng.normal(size=(2, 3)),
             rng.normal(size=(2, 2)), 100 * rng.normal(size=(2, 2)), rng.normal(size=(3, 8)),
             rng.normal(size=(2, 8)), rng.normal(size=8))),
        Case("hidden: one input feature, weights × 5", (rng.normal(size=(3, 1)),
             rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), 5 * rng.normal(size=(1, 16)),
             5 * rng.normal(size=(4, 16)), 5 * rng.normal(size=16))),
    ]


def lstm_layer_cases(rng: np.random.Generator) -> list[Case]:
    n, t, d, h = 2, 50, 3, 7
    return [Case("hidden: 50 steps, H=7", (rng.normal(size=(n, t, d)), rng.normal(size=(n, h)),
                 rng.normal(size=(n, h)), 0.4 * rng.normal(size=(d, 4 * h)),
                 0.4 * rng.normal(size=(h, 4 * h)), 0.4 * rng.normal(size=4 * h)))]


def lenet_cases(rng: np.random.Generator) -> list[Case]:
    from grader.checks.week10 import _lenet_params

    return [Case("hidden: 5 unnormalized images (pixels 0…255)",
                 (255 * rng.random(size=(5, 1, 28, 28)), *_lenet_params(rng))),
            Case("hidden: one bright pixel in a corner (padding and flatten order)",
                 (np.pad(np.ones((2, 1, 1, 1)), ((0, 0), (0, 0), (0, 27), (27, 0))),
                  *_lenet_params(rng)))]
