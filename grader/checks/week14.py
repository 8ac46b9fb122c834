"""Week 14 checks: GAN losses from logits, the WGAN-GP gradient penalty, one alternating
GAN training step, and the Fréchet distance between two Gaussians.

Edge cases: logits of ±1000 (``log(sigmoid(s))`` overflows to ``-inf``), a discriminator
that is confidently right (where the saturating generator loss has no gradient), mixing
coefficients at the ends of [0, 1] (which side is the real one), a learning rate of zero,
identical distributions (distance 0), commuting (diagonal) covariances, where several wrong
formulas happen to be right, and rank-deficient covariances (fewer samples than features).
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week14"


def _loss_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("random logits, 8 real and 6 fake", (rng.normal(size=8), rng.normal(size=6))),
        Case("huge logits (±1000)", (1000 * rng.normal(size=5), 1000 * rng.normal(size=5))),
        Case("discriminator confidently right (real +20, fake -20)",
             (20 + rng.normal(size=4), -20 + rng.normal(size=4))),
        Case("discriminator fooled (real -30, fake +30)",
             (-30 + rng.normal(size=3), 30 + rng.normal(size=7))),
        Case("batch of one each", (rng.normal(size=1), rng.normal(size=1))),
    ]


def _critic(rng: np.random.Generator, d: int, h: int, scale: float = 1.0) -> tuple:
    return (scale * rng.normal(size=(d, h)) / np.sqrt(d), 0.1 * rng.normal(size=h),
            scale * rng.normal(size=h) / np.sqrt(h), rng.normal(size=1))


def _penalty_args(rng: np.random.Generator, n: int, d: int, h: int, lam: float,
                  alpha: np.ndarray | None = None, scale: float = 1.0) -> tuple:
    alpha = rng.uniform(size=(n, 1)) if alpha is None else alpha
    return (rng.normal(size=(n, d)), rng.normal(size=(n, d)) + 1.0, alpha,
            *_critic(rng, d, h, scale), lam)


def _penalty_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("N=6, D=4, H=5, lam=10", _penalty_args(rng, 6, 4, 5, 10.0)),
        Case("alpha 1 or 0 (real points, fake points)",
             _penalty_args(rng, 4, 3, 6, 10.0, alpha=np.array([[1.0], [0.0], [1.0], [0.0]]))),
        Case("a steep critic (gradient norms ≫ 1)", _penalty_args(rng, 5, 3, 4, 1.0, scale=5.0)),
        Case("a flat critic (gradient norms < 1)", _penalty_args(rng, 5, 6, 3, 10.0, scale=0.1)),
        Case("batch of one, lam=2.5", _penalty_args(rng, 1, 5, 7, 2.5)),
    ]


def _training_step_args(rng: np.random.Generator, n: int, m: int, z: int, d: int,
                        lr: float, wd_scale: float = 1.0) -> tuple:
    return (rng.normal(size=(n, z)), rng.normal(size=(m, d)) + 2.0,
            rng.normal(size=(z, d)) / np.sqrt(z), 0.1 * rng.normal(size=d),
            wd_scale * rng.normal(size=d) / np.sqrt(d), rng.normal(size=1), lr)


def _training_step_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("N=6 noise, M=5 real, Z=3, D=4, lr=0.1", _training_step_args(rng, 6, 5, 3, 4, 0.1)),
        Case("learning rate 0 (nothing changes)", _training_step_args(rng, 4, 4, 2, 3, 0.0)),
        Case("large learning rate 2.0", _training_step_args(rng, 5, 3, 2, 2, 2.0)),
        Case("a confident discriminator (|wd| ≫ 1)",
             _training_step_args(rng, 6, 6, 3, 3, 0.05, wd_scale=8.0)),
        Case("batch of one", _training_step_args(rng, 1, 1, 2, 5, 0.3)),
    ]


def _covariance(rng: np.random.Generator, d: int, n_samples: int, scale: float = 1.0
                ) -> np.ndarray:
    x = scale * rng.normal(size=(n_samples, d)) @ rng.normal(size=(d, d))
    return np.cov(x, rowvar=False).reshape(d, d)


def _frechet_cases(rng: np.random.Generator) -> list[Case]:
    mu, sigma = rng.normal(size=5), _covariance(rng, 5, 50)
    return [
        Case("D=4, full covariances", (rng.normal(size=4), _covariance(rng, 4, 40),
                                       rng.normal(size=4), _covariance(rng, 4, 40))),
        Case("identical distributions (distance 0)", (mu, sigma, mu.copy(), sigma.copy())),
        Case("same covariance, different means", (mu, sigma, mu + 3.0, sigma.copy())),
        Case("diagonal covariances", (rng.normal(size=3), np.diag(rng.uniform(0.5, 2, 3)),
                                      rng.normal(size=3), np.diag(rng.uniform(0.5, 2, 3)))),
        Case("rank-deficient: 4 samples in 6 dimensions",
             (rng.normal(size=6), _covariance(rng, 6, 4), rng.normal(size=6),
              _covariance(rng, 6, 30))),
        Case("one dimension", (rng.normal(size=1), np.array([[2.0]]), rng.normal(size=1),
                               np.array([[0.5]]))),
        Case("D=8, features on different scales",
             (rng.normal(size=8), _covariance(rng, 8, 100, scale=10.0), rng.normal(size=8),
              _covariance(rng, 8, 100))),
    ]


register(
    Exercise(
        id="w14_gan_losses", function="gan_losses", reference=f"{REFERENCE}:gan_losses",
        make_cases=_loss_cases, points=2, framework="torch", rtol=1e-9, atol=1e-9,
        hint="write every log-sigmoid with softplus: -log σ(s) = softplus(-s) and "
             "-log(1 - σ(s)) = softplus(s) (or use F.binary_cross_entropy_with_logits); "
             "d_loss is the sum of the two means; g_loss = mean(softplus(-fake_logits)), the "
             "non-saturating loss."),
    Exercise(
        id="w14_gradient_penalty", function="gradient_penalty",
        reference=f"{REFERENCE}:gradient_penalty", make_cases=_penalty_cases, points=3,
        framework="torch",
        hint="x̂ = alpha * real + (1 - alpha) * fake; differentiate critic(x̂).sum() with "
             "respect to x̂ (torch.autograd.grad, create_graph=True); take each ROW's L2 norm "
             "(not its square, not the whole batch's norm); lam * mean((norm - 1) ** 2)."),
    Exercise(
        id="w14_gan_training_step", function="gan_training_step",
        reference=f"{REFERENCE}:gan_training_step", make_cases=_training_step_cases, points=3,
        framework="torch",
        hint="discriminator first, on G(z) detached (the generator must not move in that "
             "step); then the generator's non-saturating loss through the UPDATED "
             "discriminator, updating only Wg and bg; plain SGD: w - lr * grad."),
    Exercise(
        id="w14_frechet_distance", function="frechet_distance",
        reference=f"{REFERENCE}:frechet_distance", make_cases=_frechet_cases, points=3,
        rtol=1e-6, atol=1e-6,
        hint="‖mu1 - mu2‖² + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^{1/2}): a matrix "
             "square root of the product (scipy.linalg.sqrtm, keep .real; or the eigenvalues "
             "of sigma1^{1/2} sigma2 sigma1^{1/2}), not element-wise square roots and not "
             "sqrt(sigma1) @ sqrt(sigma2); return the squared distance."),
)
