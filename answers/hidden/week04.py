"""Week 4 hidden cases: the inputs the public cases do not stress.

* ``graph_hidden``: a deeper chain (1,500 nodes) with a shortcut from its first node to the
  root, and a graph where every edge is doubled (repeated edges add up).
* ``two_layer_hidden``: weights large enough that the scores reach hundreds, so a composite
  that computes the softmax without its shift overflows (its own loss layer may be stable).
"""

from __future__ import annotations

import numpy as np

from grader.check import Case


def graph_hidden(rng: np.random.Generator) -> list[Case]:
    n = 1500
    chain = [(i, i + 1) for i in range(n - 1)] + [(0, n - 1)]
    relabel = rng.permutation(n)
    edges = relabel[np.array(chain, dtype=np.int64)]
    grads = rng.uniform(0.95, 1.05, size=len(chain)) * rng.choice([-1, 1], len(chain))
    small = np.array([(0, 2), (1, 2), (2, 3), (0, 3)], dtype=np.int64)
    doubled = np.concatenate([small, small])
    return [
        Case("a chain of 1,500 nodes plus a shortcut from its first node to the root",
             (n, edges, grads, int(relabel[n - 1]))),
        Case("every edge appears twice (both copies count)",
             (4, doubled, rng.uniform(0.5, 2.0, size=len(doubled)), 3)),
    ]


def two_layer_hidden(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, hidden: int, classes: int, scale: float) -> Case:
        x = rng.normal(size=(n, d))
        w1 = scale * rng.normal(size=(d, hidden)) / np.sqrt(d)
        w2 = scale * rng.normal(size=(hidden, classes)) / np.sqrt(hidden)
        return Case(name, (x, rng.integers(0, classes, size=n), w1, rng.normal(size=hidden),
                           w2, rng.normal(size=classes)))

    return [
        case("large weights: scores in the hundreds to thousands", 6, 5, 8, 4, scale=40.0),
        case("large weights, 2 classes", 5, 3, 6, 2, scale=60.0),
    ]
