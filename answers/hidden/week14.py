"""Week 14 hidden cases: inputs aimed at mistakes the public cases do not catch.

* GAN losses: logits of ±10⁴ mixed with exact zeros in one batch, and very different batch
  sizes for real and fake (each expectation is its own mean);
* gradient penalty: image-shaped examples ``(N, 1, 5, 5)``, where the norm must run over all
  of an example's values and ``alpha`` must broadcast over every trailing dimension (code
  written for ``(N, D)`` rows passes the public cases and fails these).
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week14 import _critic


def gan_losses(rng: np.random.Generator) -> list[Case]:
    real = np.concatenate([1e4 * rng.normal(size=4), [0.0, 0.0]])
    fake = np.concatenate([-1e4 * np.abs(rng.normal(size=3)), [0.0]])
    return [Case("logits of ±10⁴ and exact zeros", (real, fake)),
            Case("1 real example, 40 fakes", (rng.normal(size=1), 3 * rng.normal(size=40)))]


def gradient_penalty(rng: np.random.Generator) -> list[Case]:
    def images(n: int, lam: float) -> Case:
        shape = (n, 1, 5, 5)
        return Case(f"{n} images of shape 1×5×5, lam={lam:g}",
                    (rng.normal(size=shape), rng.normal(size=shape) + 1.0,
                     rng.uniform(size=n), *_critic(rng, 25, 6), lam))

    return [images(4, 10.0), images(1, 3.0)]
