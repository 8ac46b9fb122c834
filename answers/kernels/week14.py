"""Week 14 reference kernels: GAN losses, the generators and discriminators (MLP and DCGAN),
the critic's input gradient, the WGAN-GP gradient penalty, one alternating training step,
and the Fréchet distance between two Gaussians.

The graded functions are pure. The modules are checked through ``run_*`` functions that load
given weights into them (:func:`load_weights`); the gradient penalty through
:func:`penalty_and_critic_grads`, which also returns its gradient with respect to a small
critic's weights. ``bench/bench_week14.py`` trains the three image GANs (MLP GAN, DCGAN,
WGAN-GP) for the same CPU time and scores them with a Fréchet distance on the features of
the week-12 ResNet trained on all ten Fashion-MNIST classes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm


# --------------------------------------------------------------------------------------
# Graded kernels
# --------------------------------------------------------------------------------------
def gan_losses(real_logits: torch.Tensor, fake_logits: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Discriminator loss and non-saturating generator loss, from the discriminator's logits.

    With ``D(x) = sigmoid(logit)``::

        d_loss = -mean(log D(real)) - mean(log(1 - D(fake)))
        g_loss = -mean(log D(fake))            # not mean(log(1 - D(fake))): it saturates

    computed from logits with ``log sigmoid(s) = -softplus(-s)`` and
    ``log(1 - sigmoid(s)) = -softplus(s)``, so that large logits neither overflow nor give
    ``log(0)``.

    Args:
        real_logits: ``(N,)`` logits on real examples.
        fake_logits: ``(M,)`` logits on generated examples.

    Returns:
        ``(d_loss, g_loss)``, two scalars.
    """
    d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    g_loss = F.softplus(-fake_logits).mean()
    return d_loss, g_loss


def mlp_critic(x: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor,
               b2: torch.Tensor) -> torch.Tensor:
    """A one-hidden-layer critic as a function of its weights: ``(N, ...) -> (N,)`` scores.

    ``critic(x) = tanh(x.flatten(1) @ W1 + b1) @ w2 + b2`` with ``W1 (D, H)``, ``b1 (H,)``,
    ``w2 (H,)``, ``b2 (1,)``; ``D`` is the number of values of one example.
    """
    return torch.tanh(x.flatten(1) @ W1 + b1) @ w2 + b2


def critic_input_gradient(x: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor,
                          w2: torch.Tensor, b2: torch.Tensor) -> torch.Tensor:
    """``∇_x critic(x_n)`` of :func:`mlp_critic` for every example, in closed form.

    With ``h = tanh(x W1 + b1)``: ``∂f/∂x = ((1 - h²) ⊙ w2) W1ᵀ`` (the chain rule through
    the output layer, ``tanh' = 1 - tanh²``, and the first layer).

    Args:
        x: ``(N, D)``; W1: ``(D, H)``; b1: ``(H,)``; w2: ``(H,)``; b2: ``(1,)``.

    Returns:
        ``(N, D)``: row ``n`` is the gradient of the score of example ``n``.
    """
    h = torch.tanh(x @ W1 + b1)
    return ((1 - h ** 2) * w2) @ W1.T


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, alpha: torch.Tensor, lam: float) -> torch.Tensor:
    """The WGAN-GP gradient penalty of any critic (Gulrajani et al., 2017).

    At random points between real and generated examples,
    ``x̂_n = alpha_n * real_n + (1 - alpha_n) * fake_n``, the critic's gradient with respect
    to its *input* should have norm 1 (a 1-Lipschitz critic)::

        penalty = lam * mean_n (‖∇_x critic(x̂_n)‖₂ - 1)²

    Each example's gradient is its own: ``∂ Σ_m critic(x̂_m) / ∂ x̂_n = ∇ critic(x̂_n)`` for
    a critic without batch statistics; images are flattened per example to take the norm.
    Built with ``create_graph=True``, so the penalty is differentiable with respect to the
    critic's weights (the critic's training step back-propagates through it).

    Args:
        critic: ``(N, ...) -> (N,)`` scores.
        real, fake: ``(N, ...)``, the same shape.
        alpha: ``(N,)`` mixing coefficients in [0, 1].
        lam: the penalty's weight (10 in the paper).

    Returns:
        The penalty, a scalar that carries gradient to the critic's weights.
    """
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (alpha.reshape(shape) * real + (1 - alpha.reshape(shape)) * fake).detach()
    mixed.requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    norms = grad.flatten(1).norm(dim=1)
    return lam * ((norms - 1) ** 2).mean()


penalty = gradient_penalty  # the name the training code uses


def penalty_and_critic_grads(real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor,
                             W1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor,
                             b2: torch.Tensor, lam: float) -> tuple[torch.Tensor, ...]:
    """How ``w14_gradient_penalty`` is checked: the penalty of :func:`mlp_critic` *and* its
    gradient with respect to the critic's four weights.

    A penalty that does not carry gradient to the weights (built without
    ``create_graph=True``, or detached) cannot train the critic; its gradients are reported
    as zeros, which the reference's are not.

    Returns:
        ``(penalty, dW1, db1, dw2, db2)``.
    """
    weights = [w.detach().clone().requires_grad_(True) for w in (W1, b1, w2, b2)]
    value = gradient_penalty(lambda x: mlp_critic(x, *weights), real, fake, alpha, lam)
    if not value.requires_grad:
        return (value.detach(), *(torch.zeros_like(w) for w in weights))
    grads = torch.autograd.grad(value, weights, allow_unused=True)
    return (value.detach(), *(torch.zeros_like(w) if g is None else g
                              for w, g in zip(weights, grads)))


def wgan_clip_step(real: torch.Tensor, fake: torch.Tensor, W1: torch.Tensor, b1: torch.Tensor,
                   w2: torch.Tensor, b2: torch.Tensor, lr: float, clip: float
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One critic step of the original WGAN (Arjovsky et al., 2017), with plain SGD.

    The critic :func:`mlp_critic` maximizes ``mean f(real) - mean f(fake)``, i.e. minimizes
    ``mean f(fake) - mean f(real)``; after the SGD step every weight (biases included) is
    clipped to ``[-clip, clip]``, the original (crude) way of keeping the critic Lipschitz.

    Args:
        real, fake: ``(N, D)`` and ``(M, D)``; W1: ``(D, H)``; b1, w2: ``(H,)``; b2: ``(1,)``.
        lr: learning rate; clip: ``c > 0``.

    Returns:
        The new ``(W1, b1, w2, b2)``; the inputs are left unchanged.
    """
    weights = [w.detach().clone().requires_grad_(True) for w in (W1, b1, w2, b2)]
    loss = mlp_critic(fake, *weights).mean() - mlp_critic(real, *weights).mean()
    grads = [torch.zeros_like(w) if g is None else g
             for w, g in zip(weights, torch.autograd.grad(loss, weights, allow_unused=True))]
    return tuple((w - lr * g).clamp(-clip, clip).detach() for w, g in zip(weights, grads))


def gan_training_step(z: torch.Tensor, real: torch.Tensor, Wg: torch.Tensor, bg: torch.Tensor,
                      wd: torch.Tensor, bd: torch.Tensor, lr: float
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One alternating SGD step of a linear GAN: first the discriminator, then the generator.

    Generator ``G(z) = z @ Wg + bg``; discriminator logit ``D(x) = x @ wd + bd``.

    1. Discriminator: with ``fake = G(z)`` treated as a constant (detached), take one SGD
       step of size ``lr`` on ``d_loss`` of :func:`gan_losses` for ``(D(real), D(fake))``.
    2. Generator: with the *updated* discriminator, one SGD step on the non-saturating
       ``g_loss`` of ``D(G(z))`` (same ``z``), changing only the generator.

    Args:
        z: ``(N, Z)`` noise; real: ``(M, D)`` real examples.
        Wg: ``(Z, D)``; bg: ``(D,)``; wd: ``(D,)``; bd: ``(1,)``.
        lr: learning rate of both steps.

    Returns:
        The new ``(Wg, bg, wd, bd)``; the inputs are left unchanged.
    """
    Wg, bg, wd, bd = (t.detach().clone().requires_grad_(True) for t in (Wg, bg, wd, bd))
    fake = (z @ Wg + bg).detach()
    d_loss, _ = gan_losses(real @ wd + bd, fake @ wd + bd)
    grad_wd, grad_bd = torch.autograd.grad(d_loss, (wd, bd))
    wd, bd = (wd - lr * grad_wd).detach(), (bd - lr * grad_bd).detach()
    _, g_loss = gan_losses(real @ wd + bd, (z @ Wg + bg) @ wd + bd)
    grad_Wg, grad_bg = torch.autograd.grad(g_loss, (Wg, bg))
    return (Wg - lr * grad_Wg).detach(), (bg - lr * grad_bg).detach(), wd, bd


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray) -> float:
    """Fréchet (2-Wasserstein) distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    ``d² = ‖mu1 - mu2‖² + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^{1/2})``.

    ``sigma1 sigma2`` is not symmetric, but it has the same eigenvalues as the symmetric
    positive semi-definite ``S = sigma1^{1/2} sigma2 sigma1^{1/2}``, so
    ``tr((sigma1 sigma2)^{1/2}) = Σ sqrt(eig(S))``: no complex numbers, and singular
    (rank-deficient) covariances are fine. Tiny negative eigenvalues from rounding are
    clipped to 0.

    Args:
        mu1, mu2: ``(D,)`` means; sigma1, sigma2: ``(D, D)`` covariances.

    Returns:
        ``d²`` (a float; the "FID" convention reports the squared distance).
    """
    def sqrt_psd(matrix):
        eigenvalues, vectors = np.linalg.eigh(matrix)
        return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T

    root1 = sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    trace_sqrt = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)


# --------------------------------------------------------------------------------------
# Image models: images are (N, 1, 28, 28) in [-1, 1]
# --------------------------------------------------------------------------------------
Z_DIM = 64


class MLPGenerator(nn.Module):
    def __init__(self, z_dim: int = Z_DIM, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 2 * hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(2 * hidden, 784), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 28, 28)


class MLPDiscriminator(nn.Module):
    def __init__(self, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 2 * hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(2 * hidden, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


class ConvGenerator(nn.Module):
    """DCGAN generator: linear to ``2c × 7 × 7``, two stride-2 transposed convs to 28 × 28."""

    def __init__(self, z_dim: int = Z_DIM, channels: int = 32):
        super().__init__()
        self.channels = channels
        self.project = nn.Sequential(nn.Linear(z_dim, 2 * channels * 49, bias=False),
                                     nn.BatchNorm1d(2 * channels * 49), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * channels, channels, 4, 2, 1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(),
            nn.ConvTranspose2d(channels, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(-1, 2 * self.channels, 7, 7))


class ConvDiscriminator(nn.Module):
    """DCGAN discriminator / WGAN critic: two stride-2 convs, then a linear score.

    ``norm=False`` for the WGAN-GP critic: batch norm mixes the examples of a batch, and
    the penalty needs each score to depend on its own input only.
    """

    def __init__(self, channels: int = 32, norm: bool = True):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1, bias=not norm),
            nn.BatchNorm2d(2 * channels) if norm else nn.Identity(), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * channels * 49, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


GAN_KINDS = ("mlp-gan", "dcgan", "wgan-gp")


def make_gan(kind: str) -> tuple[nn.Module, nn.Module]:
    """``(generator, discriminator or critic)`` of one of :data:`GAN_KINDS`."""
    if kind == "mlp-gan":
        return MLPGenerator(), MLPDiscriminator()
    if kind == "dcgan":
        return ConvGenerator(), ConvDiscriminator(norm=True)
    if kind == "wgan-gp":
        return ConvGenerator(), ConvDiscriminator(norm=False)
    raise ValueError(f"unknown GAN {kind!r}; use one of {GAN_KINDS}")


def load_weights(module: nn.Module, weights: list[torch.Tensor]) -> nn.Module:
    """Copy ``weights`` into ``module.parameters()``, in the order they are registered.

    Raises ``ValueError`` naming both lists of shapes when they differ (a missing or extra
    layer, a bias where there should be none, a transposed weight).
    """
    params = list(module.parameters())
    got = [tuple(p.shape) for p in params]
    want = [tuple(w.shape) for w in weights]
    if got != want:
        raise ValueError(f"{type(module).__name__}'s parameters, in the order they are "
                         f"registered, have shapes {got}; the check's weights have shapes "
                         f"{want}")
    with torch.no_grad():
        for param, weight in zip(params, weights):
            param.copy_(weight)
    return module


def run_mlp_generator(z: torch.Tensor, *weights: torch.Tensor) -> torch.Tensor:
    """How ``w14_mlp_generator`` is checked: ``MLPGenerator`` with the given weights on ``z``."""
    model = MLPGenerator(z_dim=z.shape[1], hidden=weights[0].shape[0]).double()
    return load_weights(model, list(weights)).train()(z)


def run_mlp_discriminator(x: torch.Tensor, *weights: torch.Tensor) -> torch.Tensor:
    """How ``w14_mlp_discriminator`` is checked."""
    model = MLPDiscriminator(hidden=weights[2].shape[0]).double()
    return load_weights(model, list(weights)).train()(x)


def run_dcgan_generator(z: torch.Tensor, *weights: torch.Tensor) -> torch.Tensor:
    """How ``w14_dcgan_generator`` is checked (batch norm in training mode)."""
    model = ConvGenerator(z_dim=z.shape[1], channels=weights[3].shape[1]).double()
    return load_weights(model, list(weights)).train()(z)


def run_dcgan_discriminator(x: torch.Tensor, *weights: torch.Tensor) -> torch.Tensor:
    """How ``w14_dcgan_discriminator`` is checked: 7 weights with batch norm, 6 without."""
    model = ConvDiscriminator(channels=weights[0].shape[0], norm=len(weights) == 7).double()
    return load_weights(model, list(weights)).train()(x)


@dataclass(frozen=True)
class GANConfig:
    """Optimizer settings of each kind and the shared CPU budget.

    GAN and DCGAN: Adam 2e-4, betas (0.5, 0.999) (Radford et al., 2016). WGAN-GP: Adam with
    betas (0, 0.9) and lambda = 10 as in Gulrajani et al. (2017), but by default with the
    two time-scale update rule (Heusel et al., 2017) instead of the paper's five critic steps
    per generator step: one critic step at 3e-4 per generator step at 1e-4. Five critic
    steps make a generator step six times as expensive, which a budget of minutes cannot
    afford; ``n_critic=5, wgan_critic_lr=1e-4`` is the paper's setting.
    """

    cpu_seconds: float = 240.0
    batch_size: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    wgan_lr: float = 1e-4
    wgan_critic_lr: float = 3e-4
    wgan_betas: tuple[float, float] = (0.0, 0.9)
    n_critic: int = 1
    gp_weight: float = 10.0
    snapshots: int = 6


@dataclass
class GANRun:
    generator: nn.Module
    discriminator: nn.Module
    d_losses: list[float] = field(default_factory=list)
    g_losses: list[float] = field(default_factory=list)
    snapshots: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (step, images)
    generator_steps: int = 0
    cpu_seconds: float = 0.0


def train_gan(kind: str, images: torch.Tensor, config: GANConfig = GANConfig(), seed: int = 0,
              progress: bool = True, models: tuple[nn.Module, nn.Module] | None = None
              ) -> GANRun:
    """Train one GAN on ``images (N, 1, 28, 28)`` in [-1, 1] for ``config.cpu_seconds``.

    ``models`` is ``(generator, discriminator)`` of :func:`make_gan` (trained in place);
    by default a fresh pair, initialized from ``seed``. The budget is CPU time of this
    process (``time.process_time``), not wall-clock, so that other programs on the machine
    do not shorten it. Snapshots of a fixed batch of 16 noise vectors are taken at
    ``config.snapshots`` evenly spaced points of the budget. Training runs on one thread
    (restored afterwards): for models this small extra threads add little speed but consume
    CPU time, and the budget is meant as the time of one core.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_gan(kind, images, config, seed, progress, models)
    finally:
        torch.set_num_threads(threads)


def _train_gan(kind: str, images: torch.Tensor, config: GANConfig, seed: int, progress: bool,
               models: tuple[nn.Module, nn.Module] | None) -> GANRun:
    torch.manual_seed(seed)
    generator, discriminator = models or make_gan(kind)
    wgan = kind == "wgan-gp"
    if wgan:
        lr_g, lr_d, betas = config.wgan_lr, config.wgan_critic_lr, config.wgan_betas
    else:
        lr_g, lr_d, betas = config.lr, config.lr, config.betas
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=betas)
    fixed_z = torch.randn(16, Z_DIM)
    run = GANRun(generator, discriminator)
    rng = torch.Generator().manual_seed(seed)
    n_d_steps = config.n_critic if wgan else 1

    def snapshot() -> None:
        generator.eval()
        with torch.no_grad():
            run.snapshots.append((run.generator_steps, generator(fixed_z).numpy()))
        generator.train()

    start = time.process_time()
    next_snapshot = 0.0
    bar = tqdm(desc=f"{kind} ({config.cpu_seconds:.0f} CPU s)", total=round(config.cpu_seconds),
               unit="cpu-s", disable=not progress)
    while (used := time.process_time() - start) < config.cpu_seconds:
        if used >= next_snapshot:
            snapshot()
            next_snapshot += config.cpu_seconds / (config.snapshots - 1)
        for _ in range(n_d_steps):
            real = images[torch.randint(len(images), (config.batch_size,), generator=rng)]
            fake = generator(torch.randn(config.batch_size, Z_DIM)).detach()
            if wgan:
                alpha = torch.rand(config.batch_size, generator=rng)
                d_loss = (discriminator(fake).mean() - discriminator(real).mean()
                          + penalty(discriminator, real, fake, alpha, config.gp_weight))
            else:
                d_loss, _ = gan_losses(discriminator(real), discriminator(fake))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        fake_scores = discriminator(generator(torch.randn(config.batch_size, Z_DIM)))
        g_loss = -fake_scores.mean() if wgan else F.softplus(-fake_scores).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        run.d_losses.append(d_loss.item())
        run.g_losses.append(g_loss.item())
        run.generator_steps += 1
        bar.n = min(round(used), bar.total)
        bar.set_postfix(steps=run.generator_steps, refresh=False)
        bar.refresh()
    bar.close()
    run.cpu_seconds = time.process_time() - start
    snapshot()
    return run


@torch.no_grad()
def sample(generator: nn.Module, n: int, seed: int = 0, batch_size: int = 1000) -> torch.Tensor:
    """``n`` generated images in [-1, 1], generator in eval mode."""
    generator.eval()
    torch.manual_seed(seed)
    return torch.cat([generator(torch.randn(min(batch_size, n - i), Z_DIM))
                      for i in range(0, n, batch_size)])


# --------------------------------------------------------------------------------------
# The sample-quality score
# --------------------------------------------------------------------------------------
def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` (``ddof=1``) of ``features (N, D)``."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_score(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of features."""
    return frechet_distance(*gaussian_stats(features_a), *gaussian_stats(features_b))


#: The feature network: the week-12 ResNet, trained on all ten classes. Its features are
#: the 32 globally average-pooled channels of the last residual stage, the input of the
#: linear head (``SmallResNet.features``).
FEATURE_WIDTHS = (16, 16, 32, 32)


def feature_classifier(seed: int = 0) -> nn.Module:
    from answers.kernels.week12 import SmallResNet

    torch.manual_seed(seed)
    return SmallResNet(FEATURE_WIDTHS, n_classes=10)


def train_feature_classifier(model: nn.Module, X_train: np.ndarray, y_train: np.ndarray,
                             X_test: np.ndarray, y_test: np.ndarray, epochs: int,
                             seed: int = 0, progress: bool = True) -> dict:
    """Train on standardized pixels; return the normalization and test accuracy to store."""
    from answers.kernels.week12 import evaluate, fit_epochs

    mean, std = float(X_train.mean()), float(X_train.std())
    norm = lambda X: torch.from_numpy((X - mean) / std).float()  # noqa: E731
    losses = fit_epochs(model, norm(X_train), torch.from_numpy(y_train), epochs, seed=seed,
                        progress=progress, desc="feature classifier")
    return {"mean": mean, "std": std, "losses": losses,
            "test_accuracy": evaluate(model, norm(X_test), torch.from_numpy(y_test))}


@torch.no_grad()
def classifier_features(model: nn.Module, images: torch.Tensor, mean: float, std: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Features ``(N, 32)`` and predicted classes ``(N,)`` of images in [-1, 1]."""
    from answers.kernels.week12 import extract_features

    pixels = ((images + 1) / 2 - mean) / std  # [-1, 1] -> [0, 1] -> the classifier's scale
    features = extract_features(model, pixels.float())
    return features.numpy(), model.head(features).argmax(1).numpy()
