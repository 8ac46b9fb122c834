"""Week 8 hidden cases: the mistakes the public cases of ``grader.checks.week08`` let through.

* Autoencoder loss and gradients with saturated units far beyond the public ones (logits in
  the thousands): a softplus computed as ``log1p(exp(z))`` is fine up to ``z ≈ 709`` and
  overflows beyond, and binary targets make the saturated units confidently wrong.
* A Gibbs chain whose probabilities are exactly 0.5 (zero weights and biases) and whose
  uniforms equal 0.5 on half the units: only the contract's strict ``u < p`` gives the
  expected samples.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case


def autoencoder(rng: np.random.Generator) -> list[Case]:
    """Binary data, weights of scale 500: |z| in the thousands, often on the wrong side."""
    cases = []
    for name, n, d, h in [("saturated units, logits in the thousands, binary data", 4, 6, 3),
                          ("saturated units, a batch of one", 1, 5, 4)]:
        x = (rng.random((n, d)) < 0.5).astype(float)
        mask = (rng.random((n, d)) < 0.75).astype(float)
        signs = np.where(np.arange(d) % 2 == 0, 1.0, -1.0)  # logits far on both sides
        cases.append(Case(name, (x, mask, 500.0 * rng.normal(size=(d, h)),
                                 rng.normal(size=h), signs * (2000.0 + rng.random(d)))))
    return cases


def gibbs(rng: np.random.Generator) -> list[Case]:
    """Every probability exactly 0.5, half of the uniforms exactly 0.5."""
    n, d, h, k = 3, 5, 4, 2
    u_h, u_v = rng.random((k, n, h)), rng.random((k, n, d))
    u_h[rng.random(u_h.shape) < 0.5] = 0.5
    u_v[rng.random(u_v.shape) < 0.5] = 0.5
    v0 = (rng.random((n, d)) < 0.5).astype(float)
    return [Case("probabilities exactly 0.5 and uniforms equal to them (u < p is strict)",
                 (v0, np.zeros((d, h)), np.zeros(h), np.zeros(d), u_h, u_v))]
