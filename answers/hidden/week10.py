"""Week 10 hidden cases: inputs aimed at the mistakes the public cases do not pin down.

* ``logcosh_cases``: the exact edges of float64's ``cosh``/``exp`` (overflow just above
  710), tiny inputs down to 1e-150 (where ``log(cosh x)`` is ``x²/2`` and any cancellation
  loses every digit), a dense sweep through the regimes a learner might switch between, and
  upstream gradients far from 1.
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
