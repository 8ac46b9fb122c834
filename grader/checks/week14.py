"""Week 14 checks: GAN losses from logits, the generator and discriminator modules (MLP and
DCGAN), the critic's input gradient, the WGAN-GP gradient penalty (its value *and* its
gradient with respect to the critic's weights), one alternating GAN training step, and the
Fréchet distance between two Gaussians.

Modules are checked through the ``run_*`` functions of the assignment, which load the case's
weights into the learner's module in the order its parameters are registered and run it in
training mode. Edge cases: logits of ±1000 (``log(sigmoid(s))`` overflows to ``-inf``), a
discriminator that is confidently right (where the saturating generator loss has no
gradient), mixing coefficients at the ends of [0, 1] (which side is the real one), a
learning rate of zero, identical distributions (distance 0), commuting (diagonal)
covariances, where several wrong formulas happen to be right, and rank-deficient covariances
(fewer samples than features). Hidden cases (``answers.hidden.week14``) add image-shaped
examples to the penalty and larger logits.
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
    alpha = rng.uniform(size=n) if alpha is None else alpha
    return (rng.normal(size=(n, d)), rng.normal(size=(n, d)) + 1.0, alpha,
            *_critic(rng, d, h, scale), lam)


def _penalty_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("N=6, D=4, H=5, lam=10", _penalty_args(rng, 6, 4, 5, 10.0)),
        Case("alpha 1 or 0 (real points, fake points)",
             _penalty_args(rng, 4, 3, 6, 10.0, alpha=np.array([1.0, 0.0, 1.0, 0.0]))),
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


def _well_conditioned(rng: np.random.Generator, d: int) -> np.ndarray:
    """A random full ``(d, d)`` covariance whose eigenvalues lie in [0.5, 2].

    For the identical-distributions case: the rounding error of ``d²`` stays near 1e-14
    under every draw, so a function returning the distance ``d`` instead of ``d²`` agrees
    with the reference there (both are 0) under every seed, instead of passing or failing
    with the conditioning of a drawn covariance (a square root turns 1e-10 into 1e-5)."""
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (rotation * rng.uniform(0.5, 2.0, size=d)) @ rotation.T


def _frechet_cases(rng: np.random.Generator) -> list[Case]:
    mu, sigma = rng.normal(size=5), _well_conditioned(rng, 5)
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


def _critic_gradient_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, h: int, scale: float = 1.0) -> Case:
        return Case(name, (2 * rng.normal(size=(n, d)), *_critic(rng, d, h, scale)))

    return [case("N=5, D=3, H=4", 5, 3, 4), case("one input feature (D=1)", 4, 1, 6),
            case("a saturated critic (tanh near ±1)", 3, 4, 5, scale=6.0),
            case("a batch of one, H=1", 1, 5, 1)]


def _linear(rng: np.random.Generator, n_in: int, n_out: int, bias: bool = True) -> list:
    weights = [rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)]
    return weights + [0.1 * rng.normal(size=n_out)] if bias else weights


def _norm(rng: np.random.Generator, n: int) -> list:
    return [1 + 0.1 * rng.normal(size=n), 0.1 * rng.normal(size=n)]


def _conv(rng: np.random.Generator, c_in: int, c_out: int, transposed: bool = False,
          bias: bool = True) -> list:
    shape = (c_in, c_out, 4, 4) if transposed else (c_out, c_in, 4, 4)
    weights = [rng.normal(size=shape) / np.sqrt(16 * c_in)]
    return weights + [0.1 * rng.normal(size=c_out)] if bias else weights


def _images(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.tanh(rng.normal(size=(n, 1, 28, 28)))


def _mlp_generator_args(rng: np.random.Generator, n: int, z: int, h: int) -> tuple:
    return (rng.normal(size=(n, z)), *_linear(rng, z, h), *_linear(rng, h, 2 * h),
            *_linear(rng, 2 * h, 784))


def _mlp_generator_cases(rng: np.random.Generator) -> list[Case]:
    return [Case("N=4, z_dim=6, hidden=5", _mlp_generator_args(rng, 4, 6, 5)),
            Case("a batch of one, z_dim=2, hidden=3", _mlp_generator_args(rng, 1, 2, 3)),
            Case("large noise (× 30): does the output stay in [-1, 1]?",
                 tuple([30 * a if i == 0 else a
                        for i, a in enumerate(_mlp_generator_args(rng, 3, 4, 4))]))]


def _mlp_discriminator_args(rng: np.random.Generator, n: int, h: int) -> tuple:
    return (_images(rng, n), *_linear(rng, 784, 2 * h), *_linear(rng, 2 * h, h),
            *_linear(rng, h, 1))


def _mlp_discriminator_cases(rng: np.random.Generator) -> list[Case]:
    return [Case("N=5 images, hidden=4", _mlp_discriminator_args(rng, 5, 4)),
            Case("a batch of one, hidden=2", _mlp_discriminator_args(rng, 1, 2)),
            Case("N=3, hidden=6", _mlp_discriminator_args(rng, 3, 6))]


def _dcgan_generator_args(rng: np.random.Generator, n: int, z: int, c: int) -> tuple:
    return (rng.normal(size=(n, z)), *_linear(rng, z, 2 * c * 49, bias=False),
            *_norm(rng, 2 * c * 49), *_conv(rng, 2 * c, c, transposed=True, bias=False),
            *_norm(rng, c), *_conv(rng, c, 1, transposed=True))


def _dcgan_generator_cases(rng: np.random.Generator) -> list[Case]:
    return [Case("N=4, z_dim=5, channels=2", _dcgan_generator_args(rng, 4, 5, 2)),
            Case("N=2, z_dim=3, channels=3", _dcgan_generator_args(rng, 2, 3, 3)),
            Case("N=6, z_dim=8, channels=1", _dcgan_generator_args(rng, 6, 8, 1))]


def _dcgan_discriminator_args(rng: np.random.Generator, n: int, c: int, norm: bool) -> tuple:
    return (_images(rng, n), *_conv(rng, 1, c), *_conv(rng, c, 2 * c, bias=not norm),
            *(_norm(rng, 2 * c) if norm else []), *_linear(rng, 2 * c * 49, 1))


def _dcgan_discriminator_cases(rng: np.random.Generator) -> list[Case]:
    return [Case("with batch norm (norm=True): N=4, channels=2",
                 _dcgan_discriminator_args(rng, 4, 2, True)),
            Case("a WGAN critic (norm=False): N=3, channels=3",
                 _dcgan_discriminator_args(rng, 3, 3, False)),
            Case("a critic on one image (norm=False), channels=2",
                 _dcgan_discriminator_args(rng, 1, 2, False)),
            Case("with batch norm: N=2, channels=1", _dcgan_discriminator_args(rng, 2, 1, True))]


def _clip_step_args(rng: np.random.Generator, n: int, m: int, d: int, h: int, lr: float,
                    clip: float, scale: float = 1.0) -> tuple:
    return (rng.normal(size=(n, d)) + 1.0, rng.normal(size=(m, d)), *_critic(rng, d, h, scale),
            lr, clip)


def _clip_step_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("N=6 real, M=5 fake, D=3, H=4, lr=0.05, clip=0.5",
             _clip_step_args(rng, 6, 5, 3, 4, 0.05, 0.5)),
        Case("the paper's clip=0.01 with weights of order 1",
             _clip_step_args(rng, 4, 4, 2, 3, 0.01, 0.01)),
        Case("a large clip (nothing is clipped): the SGD step alone",
             _clip_step_args(rng, 5, 3, 4, 2, 0.1, 100.0)),
        Case("small weights, large step: the step itself leaves the box",
             _clip_step_args(rng, 3, 6, 3, 5, 5.0, 0.1, scale=0.01)),
    ]


SEE = "course/week14-gans.ipynb"

register(
    Exercise(
        id="w14_gan_losses", function="gan_losses", reference=f"{REFERENCE}:gan_losses",
        make_cases=_loss_cases, points=2, framework="torch", rtol=1e-9, atol=1e-9,
        outputs=("d_loss", "g_loss"), hidden="answers.hidden.week14:gan_losses",
        see=f"{SEE} §1 The game and its losses",
        hint="two decisions: which generator loss (the one whose gradient does not vanish "
             "when the discriminator confidently rejects the fakes), and how to compute a "
             "log of a sigmoid for logits of ±1000, where the sigmoid itself rounds to "
             "exactly 0 or 1. Rewrite the log-probabilities in terms of the logit before "
             "you compute anything; each expectation is its own mean."),
    Exercise(
        id="w14_mlp_generator", function="run_mlp_generator",
        reference=f"{REFERENCE}:run_mlp_generator",
        hidden="answers.hidden.week14:mlp_generator", make_cases=_mlp_generator_cases,
        points=2, framework="torch", see=f"{SEE} §3 Three GANs for Fashion-MNIST",
        hint="compare your layers with the specification one by one: the widths, the "
             "activation between layers and its slope, the activation that puts pixels in "
             "the images' range, and the output's shape (a batch of one-channel images). A "
             "'parameters … have shapes' message means a layer is missing, extra, or "
             "registered out of order."),
    Exercise(
        id="w14_mlp_discriminator", function="run_mlp_discriminator",
        reference=f"{REFERENCE}:run_mlp_discriminator",
        hidden="answers.hidden.week14:mlp_discriminator", make_cases=_mlp_discriminator_cases,
        points=2, framework="torch", see=f"{SEE} §3 Three GANs for Fashion-MNIST",
        hint="the discriminator returns one raw score (a logit) per image, as a flat vector: "
             "the losses take care of the sigmoid. Check the flattening of the images, the "
             "activation's slope and the shape of what you return."),
    Exercise(
        id="w14_dcgan_generator", function="run_dcgan_generator",
        reference=f"{REFERENCE}:run_dcgan_generator",
        hidden="answers.hidden.week14:dcgan_generator", make_cases=_dcgan_generator_cases,
        points=3, framework="torch", see=f"{SEE} §3 Three GANs for Fashion-MNIST",
        hint="work out the spatial size after each layer: the transposed convolutions must "
             "exactly double 7 → 14 → 28 with 4×4 kernels (use the output-size formula of "
             "a transposed convolution). Batch norm normalizes before the non-linearity, "
             "and a layer followed by batch norm needs no bias (the shapes message tells "
             "you if one is there). Reshape the projection into channels × rows × columns."),
    Exercise(
        id="w14_dcgan_discriminator", function="run_dcgan_discriminator",
        reference=f"{REFERENCE}:run_dcgan_discriminator",
        hidden="answers.hidden.week14:dcgan_discriminator", make_cases=_dcgan_discriminator_cases,
        points=2, framework="torch", see=f"{SEE} §3 Three GANs for Fashion-MNIST",
        hint="each strided convolution must exactly halve 28 → 14 → 7; with norm=False (the "
             "WGAN critic) there is no batch norm at all and the second convolution keeps "
             "its bias, with norm=True it has none. One raw score per image, flat."),
    Exercise(
        id="w14_critic_input_gradient", function="critic_input_gradient",
        reference=f"{REFERENCE}:critic_input_gradient",
        hidden="answers.hidden.week14:critic_input_gradient", make_cases=_critic_gradient_cases,
        points=2, framework="torch", see=f"{SEE} §3 Three GANs for Fashion-MNIST",
        hint="chain rule from the score back to the input, one layer at a time: through the "
             "output weights, through tanh (its derivative can be written with tanh's own "
             "output), then through the first layer — mind which dimension each weight "
             "matrix maps. The saturated case shows whether the tanh factor is there."),
    Exercise(
        id="w14_gradient_penalty", function="penalty_and_critic_grads",
        reference=f"{REFERENCE}:penalty_and_critic_grads", make_cases=_penalty_cases,
        points=3, framework="torch", outputs=("penalty", "dW1", "db1", "dw2", "db2"),
        hidden="answers.hidden.week14:gradient_penalty",
        see=f"{SEE} §3 Three GANs for Fashion-MNIST",
        hint="the penalty constrains the gradient with respect to the critic's INPUT, at "
             "points between real and fake (which side does alpha weight?), one norm per "
             "example (not squared, not one for the whole batch, and over all of an "
             "example's values whatever its shape). It must also be differentiable with "
             "respect to the critic's weights — if only the penalty's value is right, the "
             "graph of the input gradient was not kept."),
    Exercise(
        id="w14_wgan_clip_step", function="wgan_clip_step",
        reference=f"{REFERENCE}:wgan_clip_step",
        hidden="answers.hidden.week14:wgan_clip_step", make_cases=_clip_step_cases, points=2,
        framework="torch", outputs=("W1", "b1", "w2", "b2"),
        see=f"{SEE} §3 Three GANs for Fashion-MNIST",
        hint="which way does the critic move — towards higher scores on real or on fake "
             "examples? — and when does the constraint act: the weights the function "
             "returns must all lie in the box, biases included, which only holds if the "
             "clipping comes last. The 'large clip' case checks the SGD step alone."),
    Exercise(
        id="w14_gan_training_step", function="gan_training_step",
        uses=("w14_gan_losses",),
        reference=f"{REFERENCE}:gan_training_step",
        hidden="answers.hidden.week14:gan_training_step", make_cases=_training_step_cases, points=3,
        framework="torch", outputs=("Wg", "bg", "wd", "bd"),
        see=f"{SEE} §4 Training for the same CPU budget; samples over training",
        hint="the order and the isolation of the two updates: the discriminator's step must "
             "not move the generator (what do its fakes depend on?), the generator's step "
             "sees the discriminator as it is AFTER its update and changes only the "
             "generator, with the loss that does not saturate. Learning rate 0 must return "
             "the inputs unchanged."),
    Exercise(
        id="w14_frechet_distance", function="frechet_distance",
        reference=f"{REFERENCE}:frechet_distance",
        hidden="answers.hidden.week14:frechet_distance", make_cases=_frechet_cases, points=3,
        rtol=1e-6, atol=1e-6,
        see=f"{SEE} §5 Scoring samples: a Fréchet distance on classifier features",
        hint="the cross term needs a matrix square root of a product of covariances — not "
             "an element-wise root, and not a product of two separate roots (the diagonal "
             "case passes both; full covariances do not). The product is not symmetric, "
             "rounding can leave tiny imaginary parts or negative eigenvalues, and the "
             "convention reports the squared distance."),
)
