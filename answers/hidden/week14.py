"""Week 14 hidden cases: inputs aimed at mistakes the public cases do not catch.

* GAN losses: logits of ±10⁴ mixed with exact zeros in one batch, and very different batch
  sizes for real and fake (each expectation is its own mean);
* gradient penalty: image-shaped examples ``(N, 1, 5, 5)``, where the norm must run over all
  of an example's values and ``alpha`` must broadcast over every trailing dimension (code
  written for ``(N, D)`` rows passes the public cases and fails these).
"""

from __future__ import annotations

from collections.abc import Callable

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


def critic_input_gradient(rng: np.random.Generator) -> list[Case]:
    W1, b1, w2, b2 = _critic(rng, 3, 4)
    x = 300 * rng.normal(size=(4, 3))  # tanh saturated: the gradient is (almost) exactly 0
    x[0] = 0.0
    return [Case("inputs far out (tanh saturated) and one at the origin", (x, W1, b1, w2, b2)),
            Case("wide hidden layer (H=64), D=2", (rng.normal(size=(3, 2)), *_critic(rng, 2, 64)))]


def _modules(module: str) -> Callable[[np.random.Generator], list[Case]]:
    from grader.checks import week14 as checks

    def cases(rng: np.random.Generator) -> list[Case]:
        if module == "mlp_generator":
            return [Case("N=2, z_dim=9, hidden=7", checks._mlp_generator_args(rng, 2, 9, 7))]
        if module == "mlp_discriminator":
            return [Case("N=7, hidden=9", checks._mlp_discriminator_args(rng, 7, 9))]
        if module == "dcgan_generator":
            return [Case("N=2 (batch statistics of two), z_dim=4, channels=4",
                         checks._dcgan_generator_args(rng, 2, 4, 4))]
        return [Case("with batch norm, N=2, channels=3",
                     checks._dcgan_discriminator_args(rng, 2, 3, True)),
                Case("critic (norm=False), N=5, channels=1",
                     checks._dcgan_discriminator_args(rng, 5, 1, False))]

    return cases


mlp_generator = _modules("mlp_generator")
mlp_discriminator = _modules("mlp_discriminator")
dcgan_generator = _modules("dcgan_generator")
dcgan_discriminator = _modules("dcgan_discriminator")


def gan_training_step(rng: np.random.Generator) -> list[Case]:
    from grader.checks.week14 import _training_step_args

    far = list(_training_step_args(rng, 5, 4, 2, 3, 0.1, wd_scale=30.0))
    far[1] = far[1] + 40.0  # real data far away: logits in the hundreds
    return [Case("real data far away and a confident discriminator (logits ≫ 30)", tuple(far))]


def wgan_clip_step(rng: np.random.Generator) -> list[Case]:
    from grader.checks.week14 import _clip_step_args

    return [Case("one fake example, lr 3, clip 0.2", _clip_step_args(rng, 4, 1, 3, 3, 3.0, 0.2))]


def frechet_distance(rng: np.random.Generator) -> list[Case]:
    from grader.checks.week14 import _covariance

    return [Case("features on a scale of 100", (100 * rng.normal(size=4),
                                                _covariance(rng, 4, 60, scale=100.0),
                                                100 * rng.normal(size=4),
                                                _covariance(rng, 4, 60, scale=100.0))),
            Case("two rank-2 covariances in 5 dimensions",
                 (rng.normal(size=5), _covariance(rng, 5, 3), rng.normal(size=5),
                  _covariance(rng, 5, 3)))]
