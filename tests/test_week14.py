"""Week 14: reference kernels against independent oracles (PyTorch's BCE loss and SGD,
finite differences, SciPy's sqrtm), the GAN models and Fréchet score."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

from grader.check import numerical_gradient
from answers.kernels import week14 as k


logit_vectors = arrays(np.float64, st.integers(1, 8),
                       elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False))


# Oracles ---------------------------------------------------------------------------------
@pytest.mark.w14_gan_losses
@given(logit_vectors, logit_vectors)
@settings(deadline=None)
def test_gan_losses_match_torch_bce(real, fake):
    real, fake = torch.from_numpy(real), torch.from_numpy(fake)
    bce = nn.BCEWithLogitsLoss()
    d_loss, g_loss = k.gan_losses(real, fake)
    expected_d = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
    # float64; torch's BCE-with-logits and the softplus form round differently for logits
    # around ±20 (relative differences up to ~1e-10 seen), so 1e-9 is the honest tolerance.
    torch.testing.assert_close(d_loss, expected_d, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(g_loss, bce(fake, torch.ones_like(fake)), rtol=1e-9, atol=1e-9)


@pytest.mark.w14_gradient_penalty
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_gradient_penalty_matches_finite_differences(n, d, h, seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    alpha = rng.uniform(size=n)
    W1, b1, w2, b2 = (rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=h),
                      rng.normal(size=1))

    def critic(x):  # NumPy, one example
        return float(np.tanh(x @ W1 + b1) @ w2 + b2[0])

    mixed = alpha[:, None] * real + (1 - alpha[:, None]) * fake
    norms = np.array([np.linalg.norm(numerical_gradient(critic, row)) for row in mixed])
    expected = 10.0 * np.mean((norms - 1) ** 2)
    got = k.penalty_and_critic_grads(*map(torch.from_numpy, (real, fake, alpha, W1, b1, w2, b2)),
                                     10.0)[0]
    assert got.item() == pytest.approx(expected, rel=1e-7, abs=1e-9)


@pytest.mark.w14_gradient_penalty
def test_gradient_penalty_is_differentiable_in_the_critic_weights():
    g = torch.Generator().manual_seed(0)
    rand = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    real, fake, alpha = rand(4, 3), rand(4, 3), torch.rand(4, generator=g, dtype=torch.float64)
    weights = [w.requires_grad_(True) for w in (rand(3, 5), rand(5), rand(5), rand(1))]
    penalty = lambda *ws: k.gradient_penalty(lambda x: k.mlp_critic(x, *ws), real, fake,  # noqa
                                             alpha, 10.0)
    assert torch.autograd.gradcheck(penalty, tuple(weights))
    # what the check reports: the same gradients as finite differences of the penalty
    _, *grads = k.penalty_and_critic_grads(real, fake, alpha, *weights, 10.0)
    for index, (weight, grad) in enumerate(zip(weights, grads)):
        def value(w, index=index):
            ws = [x.detach() for x in weights]
            ws[index] = torch.from_numpy(w)
            return penalty(*ws).item()
        numeric = numerical_gradient(value, weight.detach().numpy().copy())
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.w14_critic_input_gradient
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**31 - 1),
       st.floats(0.1, 10.0))
@settings(max_examples=30, deadline=None)
def test_critic_input_gradient_matches_autograd(n, d, h, seed, scale):
    g = torch.Generator().manual_seed(seed)
    rand = lambda *s: scale * torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    x, W1, b1, w2, b2 = rand(n, d).requires_grad_(True), rand(d, h), rand(h), rand(h), rand(1)
    expected, = torch.autograd.grad(k.mlp_critic(x, W1, b1, w2, b2).sum(), x)
    torch.testing.assert_close(k.critic_input_gradient(x.detach(), W1, b1, w2, b2), expected,
                               rtol=1e-10, atol=1e-12)


def _functional_generator(z, Wp, g0, b0, Wu1, g1, b1, Wu2, bu2):
    """Oracle: the DCGAN generator from torch.nn.functional ops, batch statistics."""
    F = torch.nn.functional
    h = F.relu(F.batch_norm(z @ Wp.T, None, None, g0, b0, training=True))
    h = h.view(len(z), Wu1.shape[0], 7, 7)
    h = F.relu(F.batch_norm(F.conv_transpose2d(h, Wu1, stride=2, padding=1), None, None, g1, b1,
                            training=True))
    return torch.tanh(F.conv_transpose2d(h, Wu2, bu2, stride=2, padding=1))


def _functional_discriminator(x, *w):
    F = torch.nn.functional
    if len(w) == 7:
        Wc1, bc1, Wc2, g, b, Wl, bl = w
        h = F.leaky_relu(F.conv2d(x, Wc1, bc1, stride=2, padding=1), 0.2)
        h = F.batch_norm(F.conv2d(h, Wc2, stride=2, padding=1), None, None, g, b, training=True)
    else:
        Wc1, bc1, Wc2, bc2, Wl, bl = w
        h = F.leaky_relu(F.conv2d(x, Wc1, bc1, stride=2, padding=1), 0.2)
        h = F.conv2d(h, Wc2, bc2, stride=2, padding=1)
    return (F.leaky_relu(h, 0.2).flatten(1) @ Wl.T + bl)[:, 0]


def _mlp(x, *w, slope=0.2):
    F = torch.nn.functional
    h = x.flatten(1)
    for i in range(0, len(w) - 2, 2):
        h = F.leaky_relu(h @ w[i].T + w[i + 1], slope)
    return h @ w[-2].T + w[-1]


@pytest.mark.parametrize("exercise_id", ["w14_mlp_generator", "w14_mlp_discriminator",
                                         "w14_dcgan_generator", "w14_dcgan_discriminator"])
def test_module_probes_match_functional_oracles(exercise_id):
    from grader.check import get_exercise

    exercise = get_exercise(exercise_id)
    for case in exercise.cases(4):
        args = [torch.from_numpy(np.asarray(a)) for a in case.args]
        got = exercise.reference_function()(*args)
        if exercise_id == "w14_mlp_generator":
            expected = torch.tanh(_mlp(*args)).view(-1, 1, 28, 28)
        elif exercise_id == "w14_mlp_discriminator":
            expected = _mlp(*args)[:, 0]
        elif exercise_id == "w14_dcgan_generator":
            expected = _functional_generator(*args)
        else:
            expected = _functional_discriminator(*args)
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_hidden_only_mutants_pass_public_and_fail_hidden():
    """The hidden cases add information: these mistakes pass the public check."""
    from answers.variants.week14 import HIDDEN_ONLY_MUTANTS
    from grader.check import evaluate, get_exercise

    for variant in HIDDEN_ONLY_MUTANTS:
        function = variant.load(get_exercise(variant.exercise_id).function)
        assert evaluate(variant.exercise_id, function).passed, variant.label
        for seed in (1, 2, 3, 4, 5):
            assert not evaluate(variant.exercise_id, function, hidden=True, seed=seed).passed


@pytest.mark.w14_gan_training_step
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 3), st.integers(1, 4),
       st.floats(0.0, 1.0), st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_training_step_matches_the_textbook_loop(n, m, z_dim, d, lr, seed):
    """Oracle: nn.Linear modules, BCEWithLogitsLoss with labels and torch.optim.SGD, in the
    order of the PyTorch DCGAN tutorial (D on real and detached fake, then G)."""
    rng = np.random.default_rng(seed)
    z = torch.from_numpy(rng.normal(size=(n, z_dim)))
    real = torch.from_numpy(rng.normal(size=(m, d)))
    Wg, bg = rng.normal(size=(z_dim, d)), rng.normal(size=d)
    wd, bd = rng.normal(size=d), rng.normal(size=1)
    G, D = nn.Linear(z_dim, d).double(), nn.Linear(d, 1).double()
    with torch.no_grad():
        G.weight.copy_(torch.from_numpy(Wg.T))
        G.bias.copy_(torch.from_numpy(bg))
        D.weight.copy_(torch.from_numpy(wd[None, :]))
        D.bias.copy_(torch.from_numpy(bd))
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=lr), torch.optim.SGD(D.parameters(), lr=lr)
    bce = nn.BCEWithLogitsLoss()
    fake = G(z)
    opt_d.zero_grad()
    (bce(D(real).flatten(), torch.ones(m, dtype=torch.float64))
     + bce(D(fake.detach()).flatten(), torch.zeros(n, dtype=torch.float64))).backward()
    opt_d.step()
    opt_g.zero_grad()
    bce(D(fake).flatten(), torch.ones(n, dtype=torch.float64)).backward()
    opt_g.step()
    got = k.gan_training_step(z, real, *map(torch.from_numpy, (Wg, bg, wd, bd)), lr)
    expected = (G.weight.T, G.bias, D.weight[0], D.bias)
    # BCE-with-logits and the softplus form round differently (see the losses' test); a
    # step of lr = 1 carries that ~1e-10 into the weights, amplified (5e-9 seen): 1e-8.
    for mine, theirs in zip(got, expected):
        torch.testing.assert_close(mine, theirs.detach(), rtol=1e-8, atol=1e-10)


def random_covariance(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


@pytest.mark.w14_frechet_distance
@given(st.integers(1, 8), st.integers(0, 2**31 - 1))
@settings(deadline=None)
def test_frechet_matches_the_sqrtm_formula(d, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = random_covariance(rng, d), random_covariance(rng, d)
    expected = (np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2)
                - 2 * np.trace(scipy.linalg.sqrtm(s1 @ s2)).real)
    assert k.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8, abs=1e-8)


@pytest.mark.w14_frechet_distance
def test_frechet_closed_forms():
    # 1-D: (mu1 - mu2)² + (s1 - s2)²; commuting covariances: Σ (sqrt(a_i) - sqrt(b_i))².
    assert k.frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([3.0]),
                              np.array([[1.0]])) == pytest.approx(4 + 1)
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    assert k.frechet_distance(np.zeros(3), np.diag(a), np.zeros(3), np.diag(b)) == \
        pytest.approx(np.sum((np.sqrt(a) - np.sqrt(b)) ** 2))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5))  # rank 2 in 5 dimensions: still finite and ≈ 0 against itself
    mu, sigma = k.gaussian_stats(x)
    # zero eigenvalues come out as ±1e-16, whose square roots are 1e-8: the attainable accuracy
    assert abs(k.frechet_distance(mu, sigma, mu, sigma)) < 1e-6


# The GAN models and the score -------------------------------------------------------------
@pytest.mark.parametrize("kind", k.GAN_KINDS)
def test_gan_models_shapes_and_a_tiny_run(kind):
    generator, discriminator = k.make_gan(kind)
    images = generator(torch.randn(4, k.Z_DIM))
    assert images.shape == (4, 1, 28, 28) and images.abs().max() <= 1
    assert discriminator(images).shape == (4,)
    data = torch.rand(64, 1, 28, 28) * 2 - 1
    run = k.train_gan(kind, data, k.GANConfig(cpu_seconds=0.5, batch_size=8, snapshots=3),
                      progress=False)
    assert run.generator_steps >= 1 and len(run.d_losses) == run.generator_steps
    assert len(run.snapshots) >= 2 and run.snapshots[-1][1].shape == (16, 1, 28, 28)


def test_critic_penalty_on_images_uses_each_examples_gradient():
    critic = k.ConvDiscriminator(norm=False).double()
    real = torch.randn(3, 1, 28, 28, dtype=torch.float64)
    fake = torch.randn(3, 1, 28, 28, dtype=torch.float64)
    alpha = torch.rand(3, dtype=torch.float64)
    together = k.penalty(critic, real, fake, alpha, 10.0)
    one_by_one = torch.stack([k.penalty(critic, real[i:i + 1], fake[i:i + 1], alpha[i:i + 1],
                                        10.0) for i in range(3)]).mean()
    torch.testing.assert_close(together, one_by_one)


def test_gaussian_stats_and_the_score_of_identical_sets():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))
    mu, sigma = k.gaussian_stats(features)
    np.testing.assert_allclose(sigma, np.cov(features.T))
    assert abs(k.frechet_score(features, features)) < 1e-9
    assert k.frechet_score(features, features + 1.0) == pytest.approx(4.0)


def test_classifier_features_shapes():
    model = k.feature_classifier()
    images = torch.rand(5, 1, 28, 28) * 2 - 1
    features, predicted = k.classifier_features(model, images, 0.3, 0.35)
    assert features.shape == (5, 32) and predicted.shape == (5,)


@pytest.mark.w14_wgan_clip_step
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 4),
       st.floats(0.0, 2.0), st.floats(0.01, 2.0), st.integers(0, 2**31 - 1))
@settings(max_examples=25, deadline=None)
def test_wgan_clip_step_matches_finite_differences(n, m, d, h, lr, clip, seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.normal(size=(n, d)) + 1, rng.normal(size=(m, d))
    weights = [rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=h), rng.normal(size=1)]

    def loss(index, value):  # NumPy critic loss with weight `index` replaced by `value`
        W1, b1, w2, b2 = [value if i == index else w for i, w in enumerate(weights)]
        f = lambda x: np.tanh(x @ W1 + b1) @ w2 + b2[0]  # noqa: E731
        return float(f(fake).mean() - f(real).mean())

    expected = [np.clip(w - lr * numerical_gradient(lambda v, i=i: loss(i, v), w.copy()),
                        -clip, clip) for i, w in enumerate(weights)]
    got = k.wgan_clip_step(torch.from_numpy(real), torch.from_numpy(fake),
                           *map(torch.from_numpy, weights), lr, clip)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-6, atol=1e-7)
        assert np.all(np.abs(g.numpy()) <= clip)
