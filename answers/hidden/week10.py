"""Week 10 hidden cases: inputs aimed at the mistakes the public cases do not pin down.

* ``softplus_cases``: the exact edges of float64's ``exp`` (overflow just above 709.78,
  subnormals below −708), long runs of very negative inputs where ``log`` instead of
  ``log1p`` loses every digit, and upstream gradients far from 1.
* ``fit_cases``: last batches of a single example, a batch size of N − 1, one epoch only,
  heavy momentum: the epoch-loss weighting and the loop's bookkeeping under every split.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week10 import fit_case


def softplus_cases(rng: np.random.Generator) -> list[Case]:
    edges = np.array([709.0, 709.7, 709.9, 712.0, -708.0, -740.0, -745.0, -750.0])
    return [
        Case("hidden: the edges of exp's range", (edges, rng.normal(size=edges.shape))),
        Case("hidden: a long run of very negative inputs (-700 … -20)",
             (np.linspace(-700.0, -20.0, 35), rng.normal(size=35))),
        Case("hidden: huge upstream gradients at large |x|",
             (np.array([-400.0, -40.0, 40.0, 400.0]), 1e6 * rng.normal(size=4))),
        Case("hidden: mixed scales in a (4, 5) batch",
             (rng.choice([-1.0, 1.0], size=(4, 5)) * 10.0 ** rng.uniform(-3, 2.9, size=(4, 5)),
              rng.normal(size=(4, 5)))),
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
