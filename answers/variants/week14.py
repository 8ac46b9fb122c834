"""Week 14 alternatives (must pass) and mutants (must fail).

The module exercises and the gradient penalty are checked through the assignment's harness
(``_HARNESS``: the ``run_*`` functions and ``penalty_and_critic_grads``, built from the course
library's :func:`grader.gans.module_runner` and :func:`grader.gans.penalty_runner`, as the
notebook builds them), so every variant of those exercises carries the harness.
``HIDDEN_ONLY_MUTANTS`` pass the public check and are caught only by the hidden cases
(tests/test_week14.py proves both).
"""

from answers.variants import Variant

_TORCH = '''
import torch
import torch.nn.functional as F
'''

#: The assignment's harness cell, as the notebook has it: the course library's runners
#: (:mod:`grader.gans`), which look the classes and ``gradient_penalty`` up when the check runs.
_HARNESS = '''
from grader import gans

run_mlp_generator = gans.module_runner("mlp_generator", lambda: MLPGenerator)
run_mlp_discriminator = gans.module_runner("mlp_discriminator", lambda: MLPDiscriminator)
run_dcgan_generator = gans.module_runner("dcgan_generator", lambda: DCGANGenerator)
run_dcgan_discriminator = gans.module_runner("dcgan_discriminator", lambda: DCGANDiscriminator)
penalty_and_critic_grads = gans.penalty_runner(lambda: gradient_penalty)
'''

_NN = _TORCH + '''
from torch import nn
''' + _HARNESS

_STEP_MUTANT_HEADER = _TORCH + '''
def _losses(real_logits, fake_logits):
    return (F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean(),
            F.softplus(-fake_logits).mean())
'''

ALTERNATIVES = [
    Variant("w14_gan_losses", "binary cross-entropy with logits and explicit labels",
            _TORCH + '''
def gan_losses(real_logits, fake_logits):
    bce = F.binary_cross_entropy_with_logits
    d_loss = (bce(real_logits, torch.ones_like(real_logits))
              + bce(fake_logits, torch.zeros_like(fake_logits)))
    g_loss = bce(fake_logits, torch.ones_like(fake_logits))
    return d_loss, g_loss
'''),
    Variant("w14_gan_losses", "F.logsigmoid", _TORCH + '''
def gan_losses(real_logits, fake_logits):
    d_loss = -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()
    return d_loss, -F.logsigmoid(fake_logits).mean()
'''),
    Variant("w14_gan_training_step", "hand-derived gradients, no autograd", _TORCH + '''
def gan_training_step(z, real, Wg, bg, wd, bd, lr):
    fake = z @ Wg + bg
    # discriminator: d/ds softplus(-s) = -sigmoid(-s), d/ds softplus(s) = sigmoid(s)
    d_real = -torch.sigmoid(-(real @ wd + bd)) / len(real)
    d_fake = torch.sigmoid(fake @ wd + bd) / len(fake)
    wd_new = wd - lr * (real.T @ d_real + fake.T @ d_fake)
    bd_new = bd - lr * (d_real.sum() + d_fake.sum())
    # generator, through the updated discriminator
    d_s = -torch.sigmoid(-(fake @ wd_new + bd_new)) / len(z)   # (N,)
    d_fake_x = d_s[:, None] * wd_new[None, :]                  # (N, D)
    return Wg - lr * (z.T @ d_fake_x), bg - lr * d_fake_x.sum(dim=0), wd_new, bd_new
'''),
    Variant("w14_frechet_distance", "scipy.linalg.sqrtm of the product (real part)", '''
import scipy.linalg

def frechet_distance(mu1, sigma1, mu2, sigma2):
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
                 - 2 * np.trace(covmean).real)
'''),
    Variant("w14_frechet_distance", "eigenvalues of the (non-symmetric) product", '''
def frechet_distance(mu1, sigma1, mu2, sigma2):
    eigenvalues = np.linalg.eigvals(sigma1 @ sigma2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2) - 2 * trace_sqrt)
'''),
    Variant("w14_mlp_generator", "separate layers, functional activations", _NN + '''
import torch.nn.functional as F

class MLPGenerator(nn.Module):
    def __init__(self, z_dim=64, hidden=256):
        super().__init__()
        self.fc1 = nn.Linear(z_dim, hidden)
        self.fc2 = nn.Linear(hidden, 2 * hidden)
        self.fc3 = nn.Linear(2 * hidden, 28 * 28)

    def forward(self, z):
        h = F.leaky_relu(self.fc1(z), 0.2)
        h = F.leaky_relu(self.fc2(h), 0.2)
        return torch.tanh(self.fc3(h)).reshape(len(z), 1, 28, 28)

'''),
    Variant("w14_mlp_discriminator", "separate layers, reshape and squeeze", _NN + '''

import torch.nn.functional as F

class MLPDiscriminator(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.fc1 = nn.Linear(784, 2 * hidden)
        self.fc2 = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        h = F.leaky_relu(self.fc1(x.reshape(len(x), -1)), 0.2)
        return self.out(F.leaky_relu(self.fc2(h), 0.2)).squeeze(1)

'''),
    Variant("w14_dcgan_generator", "named layers, output_padding=0 written out, functional ReLU",
            _NN + '''

import torch.nn.functional as F

class DCGANGenerator(nn.Module):
    def __init__(self, z_dim=64, channels=32):
        super().__init__()
        self.c = channels
        self.fc = nn.Linear(z_dim, 2 * channels * 7 * 7, bias=False)
        self.bn0 = nn.BatchNorm1d(2 * channels * 7 * 7)
        self.up1 = nn.ConvTranspose2d(2 * channels, channels, kernel_size=4, stride=2,
                                      padding=1, output_padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.up2 = nn.ConvTranspose2d(channels, 1, kernel_size=4, stride=2, padding=1)

    def forward(self, z):
        h = F.relu(self.bn0(self.fc(z))).reshape(-1, 2 * self.c, 7, 7)
        return torch.tanh(self.up2(F.relu(self.bn1(self.up1(h)))))

'''),
    Variant("w14_dcgan_discriminator", "optional batch norm as a module list", _NN + '''

import torch.nn.functional as F

class DCGANDiscriminator(nn.Module):
    def __init__(self, channels=32, norm=True):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1, bias=not norm)
        self.norm = nn.ModuleList([nn.BatchNorm2d(2 * channels)] if norm else [])
        self.head = nn.Linear(2 * channels * 7 * 7, 1)

    def forward(self, x):
        h = self.conv2(F.leaky_relu(self.conv1(x), 0.2))
        for layer in self.norm:
            h = layer(h)
        return self.head(F.leaky_relu(h, 0.2).flatten(1))[:, 0]

'''),
    Variant("w14_critic_input_gradient", "einsum with the derivative of tanh as 1/cosh²",
            _TORCH + '''
def critic_input_gradient(x, W1, b1, w2, b2):
    pre = x @ W1 + b1
    return torch.einsum("nh,h,dh->nd", 1 / torch.cosh(pre) ** 2, w2, W1)
'''),
    Variant("w14_gradient_penalty", "torch.lerp, grad_outputs of ones, sqrt of the sum of squares",
            _NN + '''

def gradient_penalty(critic, real, fake, alpha, lam):
    a = alpha.reshape([-1] + [1] * (real.dim() - 1))
    mixed = torch.lerp(fake, real, a).detach().requires_grad_(True)
    grad = torch.autograd.grad(critic(mixed), mixed, torch.ones(len(mixed), dtype=real.dtype),
                               create_graph=True)[0]
    norms = torch.sqrt((grad.reshape(len(grad), -1) ** 2).sum(dim=1))
    return lam * torch.mean((norms - 1) ** 2)
'''),
    Variant("w14_dcgan_generator", "padding 0, then crop one pixel per side (what padding=1 does)",
            _NN + '''

class DCGANGenerator(nn.Module):
    def __init__(self, z_dim=64, channels=32):
        super().__init__()
        self.channels = channels
        self.project = nn.Sequential(nn.Linear(z_dim, 2 * channels * 49, bias=False),
                                     nn.BatchNorm1d(2 * channels * 49), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * channels, channels, 4, 2, 1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(),
            nn.ConvTranspose2d(channels, 1, 4, 2, 0), nn.Tanh())

    def forward(self, z):
        return self.net(self.project(z).view(-1, 2 * self.channels, 7, 7))[..., 1:-1, 1:-1]

'''),
    Variant("w14_wgan_clip_step", "torch.optim.SGD, then clamp_ in place under no_grad",
            _TORCH + '''
def _critic(x, W1, b1, w2, b2):
    return torch.tanh(x @ W1 + b1) @ w2 + b2

def wgan_clip_step(real, fake, W1, b1, w2, b2, lr, clip):
    params = [p.clone().requires_grad_(True) for p in (W1, b1, w2, b2)]
    optimizer = torch.optim.SGD(params, lr=lr)
    optimizer.zero_grad()
    (-(_critic(real, *params).mean() - _critic(fake, *params).mean())).backward()
    optimizer.step()
    with torch.no_grad():
        for p in params:
            p.clamp_(-clip, clip)
    return tuple(p.detach() for p in params)
'''),
]

MUTANTS = [
    # losses
    Variant("w14_gan_losses", "log(sigmoid(s)) directly (−inf for large logits)", _TORCH + '''
def gan_losses(real_logits, fake_logits):
    d_real, d_fake = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)
    d_loss = -torch.log(d_real).mean() - torch.log(1 - d_fake).mean()
    return d_loss, -torch.log(d_fake).mean()
'''),
    Variant("w14_gan_losses", "saturating generator loss mean(log(1 - D(G(z))))", _TORCH + '''
def gan_losses(real_logits, fake_logits):
    d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    return d_loss, -F.softplus(fake_logits).mean()
'''),
    Variant("w14_gan_losses", "labels swapped in the discriminator loss", _TORCH + '''
def gan_losses(real_logits, fake_logits):
    d_loss = F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()
    return d_loss, F.softplus(-fake_logits).mean()
'''),
    Variant("w14_gan_losses", "averages over real and fake together", _TORCH + '''
def gan_losses(real_logits, fake_logits):
    d_loss = torch.cat([F.softplus(-real_logits), F.softplus(fake_logits)]).mean()
    return d_loss, F.softplus(-fake_logits).mean()
'''),
    # training step
    Variant("w14_gan_training_step", "the generator step uses the old discriminator",
            _STEP_MUTANT_HEADER + '''
def gan_training_step(z, real, Wg, bg, wd, bd, lr):
    Wg, bg, wd, bd = (t.clone().requires_grad_(True) for t in (Wg, bg, wd, bd))
    fake = z @ Wg + bg
    d_loss, g_loss = _losses(real @ wd + bd, fake.detach() @ wd + bd)
    gwd, gbd = torch.autograd.grad(d_loss, (wd, bd))
    _, g_loss = _losses(real @ wd + bd, fake @ wd + bd)
    gWg, gbg = torch.autograd.grad(g_loss, (Wg, bg))
    return (Wg - lr * gWg).detach(), (bg - lr * gbg).detach(), \\
        (wd - lr * gwd).detach(), (bd - lr * gbd).detach()
'''),
    Variant("w14_gan_training_step", "fake not detached: the discriminator loss also moves "
            "the generator", _STEP_MUTANT_HEADER + '''
def gan_training_step(z, real, Wg, bg, wd, bd, lr):
    Wg, bg, wd, bd = (t.clone().requires_grad_(True) for t in (Wg, bg, wd, bd))
    d_loss, _ = _losses(real @ wd + bd, (z @ Wg + bg) @ wd + bd)
    gwd, gbd, dWg, dbg = torch.autograd.grad(d_loss, (wd, bd, Wg, bg))
    wd2, bd2 = (wd - lr * gwd).detach(), (bd - lr * gbd).detach()
    _, g_loss = _losses(real @ wd2 + bd2, (z @ Wg + bg) @ wd2 + bd2)
    gWg, gbg = torch.autograd.grad(g_loss, (Wg, bg))
    return (Wg - lr * (gWg + dWg)).detach(), (bg - lr * (gbg + dbg)).detach(), wd2, bd2
'''),
    Variant("w14_gan_training_step", "saturating generator loss", _STEP_MUTANT_HEADER + '''
def gan_training_step(z, real, Wg, bg, wd, bd, lr):
    Wg, bg, wd, bd = (t.clone().requires_grad_(True) for t in (Wg, bg, wd, bd))
    d_loss, _ = _losses(real @ wd + bd, (z @ Wg + bg).detach() @ wd + bd)
    gwd, gbd = torch.autograd.grad(d_loss, (wd, bd))
    wd2, bd2 = (wd - lr * gwd).detach(), (bd - lr * gbd).detach()
    g_loss = -F.softplus((z @ Wg + bg) @ wd2 + bd2).mean()   # mean(log(1 - D(G(z))))
    gWg, gbg = torch.autograd.grad(g_loss, (Wg, bg))
    return (Wg - lr * gWg).detach(), (bg - lr * gbg).detach(), wd2, bd2
'''),
    Variant("w14_gan_training_step", "the generator's loss also updates the discriminator",
            _STEP_MUTANT_HEADER + '''
def gan_training_step(z, real, Wg, bg, wd, bd, lr):
    Wg, bg, wd, bd = (t.clone().requires_grad_(True) for t in (Wg, bg, wd, bd))
    d_loss, _ = _losses(real @ wd + bd, (z @ Wg + bg).detach() @ wd + bd)
    gwd, gbd = torch.autograd.grad(d_loss, (wd, bd))
    wd2 = (wd - lr * gwd).detach().requires_grad_(True)
    bd2 = (bd - lr * gbd).detach().requires_grad_(True)
    _, g_loss = _losses(real @ wd2 + bd2, (z @ Wg + bg) @ wd2 + bd2)
    gWg, gbg, gwd2, gbd2 = torch.autograd.grad(g_loss, (Wg, bg, wd2, bd2))
    return (Wg - lr * gWg).detach(), (bg - lr * gbg).detach(), \\
        (wd2 - lr * gwd2).detach(), (bd2 - lr * gbd2).detach()
'''),
    # Fréchet distance
    Variant("w14_frechet_distance", "element-wise square root of sigma1 * sigma2", '''
def frechet_distance(mu1, sigma1, mu2, sigma2):
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
                 - 2 * np.trace(np.sqrt(np.abs(sigma1 * sigma2))))
'''),
    Variant("w14_frechet_distance", "sqrt(sigma1) @ sqrt(sigma2) instead of sqrt(sigma1 sigma2)",
            '''
import scipy.linalg

def frechet_distance(mu1, sigma1, mu2, sigma2):
    root = scipy.linalg.sqrtm(sigma1).real @ scipy.linalg.sqrtm(sigma2).real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root))
'''),
    Variant("w14_frechet_distance", "forgets the factor 2 on the cross term", '''
import scipy.linalg

def frechet_distance(mu1, sigma1, mu2, sigma2):
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
                 - np.trace(scipy.linalg.sqrtm(sigma1 @ sigma2)).real)
'''),
    Variant("w14_frechet_distance", "returns the distance, not its square", '''
import scipy.linalg

def frechet_distance(mu1, sigma1, mu2, sigma2):
    diff = mu1 - mu2
    d2 = (diff @ diff + np.trace(sigma1) + np.trace(sigma2)
          - 2 * np.trace(scipy.linalg.sqrtm(sigma1 @ sigma2)).real)
    return float(np.sqrt(max(d2, 0.0)))
'''),
    # modules
    Variant("w14_mlp_generator", "ReLU instead of LeakyReLU(0.2)", _NN + '''
class MLPGenerator(nn.Module):
    def __init__(self, z_dim=64, hidden=256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2 * hidden), nn.ReLU(),
                                 nn.Linear(2 * hidden, 784), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)

'''),
    Variant("w14_mlp_generator", "LeakyReLU with PyTorch's default slope 0.01", _NN + '''
class MLPGenerator(nn.Module):
    def __init__(self, z_dim=64, hidden=256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(),
                                 nn.Linear(hidden, 2 * hidden), nn.LeakyReLU(),
                                 nn.Linear(2 * hidden, 784), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)

'''),
    Variant("w14_mlp_generator", "sigmoid output (pixels in [0, 1], not [-1, 1])", _NN + '''
class MLPGenerator(nn.Module):
    def __init__(self, z_dim=64, hidden=256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 2 * hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(2 * hidden, 784), nn.Sigmoid())

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)

'''),
    Variant("w14_mlp_generator", "no output activation", _NN + '''
class MLPGenerator(nn.Module):
    def __init__(self, z_dim=64, hidden=256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 2 * hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(2 * hidden, 784))

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)

'''),
    Variant("w14_mlp_generator", "images without the channel dimension (N, 28, 28)", _NN + '''
class MLPGenerator(nn.Module):
    def __init__(self, z_dim=64, hidden=256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 2 * hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(2 * hidden, 784), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 28, 28)

'''),
    Variant("w14_mlp_discriminator", "sigmoid at the end (probabilities, not logits)", _NN + '''

class MLPDiscriminator(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 2 * hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(2 * hidden, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 1), nn.Sigmoid())

    def forward(self, x):
        return self.net(x).flatten()

'''),
    Variant("w14_mlp_discriminator", "returns (N, 1) scores, not a flat vector", _NN + '''

class MLPDiscriminator(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 2 * hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(2 * hidden, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)

'''),
    Variant("w14_mlp_discriminator", "ReLU instead of LeakyReLU(0.2)", _NN + '''

class MLPDiscriminator(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 2 * hidden), nn.ReLU(),
                                 nn.Linear(2 * hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x).flatten()

'''),
    Variant("w14_dcgan_generator", "a bias in the projection before batch norm", _NN + '''

class DCGANGenerator(nn.Module):
    def __init__(self, z_dim=64, channels=32):
        super().__init__()
        self.channels = channels
        self.project = nn.Sequential(nn.Linear(z_dim, 2 * channels * 49),
                                     nn.BatchNorm1d(2 * channels * 49), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * channels, channels, 4, 2, 1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(),
            nn.ConvTranspose2d(channels, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(self.project(z).view(-1, 2 * self.channels, 7, 7))

'''),
    Variant("w14_dcgan_generator", "batch norm after the ReLU", _NN + '''

class DCGANGenerator(nn.Module):
    def __init__(self, z_dim=64, channels=32):
        super().__init__()
        self.channels = channels
        self.project = nn.Sequential(nn.Linear(z_dim, 2 * channels * 49, bias=False),
                                     nn.BatchNorm1d(2 * channels * 49), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * channels, channels, 4, 2, 1, bias=False),
            nn.ReLU(), nn.BatchNorm2d(channels),
            nn.ConvTranspose2d(channels, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(self.project(z).view(-1, 2 * self.channels, 7, 7))

'''),
    Variant("w14_dcgan_generator", "projection reshaped as rows × columns × channels", _NN + '''

class DCGANGenerator(nn.Module):
    def __init__(self, z_dim=64, channels=32):
        super().__init__()
        self.channels = channels
        self.project = nn.Sequential(nn.Linear(z_dim, 2 * channels * 49, bias=False),
                                     nn.BatchNorm1d(2 * channels * 49), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * channels, channels, 4, 2, 1, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(),
            nn.ConvTranspose2d(channels, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(self.project(z).view(-1, 7, 7, 2 * self.channels).permute(0, 3, 1, 2))

'''),
    Variant("w14_dcgan_discriminator", "batch norm even when norm=False", _NN + '''

class DCGANDiscriminator(nn.Module):
    def __init__(self, channels=32, norm=True):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1, bias=not norm),
            nn.BatchNorm2d(2 * channels), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * channels * 49, 1))

    def forward(self, x):
        return self.net(x).flatten()

'''),
    Variant("w14_dcgan_discriminator", "ReLU instead of LeakyReLU(0.2)", _NN + '''

class DCGANDiscriminator(nn.Module):
    def __init__(self, channels=32, norm=True):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1, bias=not norm),
            nn.BatchNorm2d(2 * channels) if norm else nn.Identity(), nn.ReLU(),
            nn.Flatten(), nn.Linear(2 * channels * 49, 1))

    def forward(self, x):
        return self.net(x).flatten()

'''),
    Variant("w14_dcgan_discriminator", "sigmoid on the score", _NN + '''

class DCGANDiscriminator(nn.Module):
    def __init__(self, channels=32, norm=True):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1, bias=not norm),
            nn.BatchNorm2d(2 * channels) if norm else nn.Identity(), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * channels * 49, 1))

    def forward(self, x):
        return torch.sigmoid(self.net(x).flatten())

'''),
    Variant("w14_dcgan_generator", "padding 0 in the first transposed convolution (wrong size)",
            _NN + '''

class DCGANGenerator(nn.Module):
    def __init__(self, z_dim=64, channels=32):
        super().__init__()
        self.channels = channels
        self.project = nn.Sequential(nn.Linear(z_dim, 2 * channels * 49, bias=False),
                                     nn.BatchNorm1d(2 * channels * 49), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * channels, channels, 4, 2, 0, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(),
            nn.ConvTranspose2d(channels, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(self.project(z).view(-1, 2 * self.channels, 7, 7))

'''),
    # critic input gradient
    Variant("w14_critic_input_gradient", "forgets the derivative of tanh", _TORCH + '''
def critic_input_gradient(x, W1, b1, w2, b2):
    return w2.expand(len(x), -1) @ W1.T
'''),
    Variant("w14_critic_input_gradient", "derivative of tanh taken as 1 - tanh (not squared)",
            _TORCH + '''
def critic_input_gradient(x, W1, b1, w2, b2):
    h = torch.tanh(x @ W1 + b1)
    return ((1 - h) * w2) @ W1.T
'''),
    Variant("w14_critic_input_gradient", "sums over the batch (one gradient for all examples)",
            _TORCH + '''
def critic_input_gradient(x, W1, b1, w2, b2):
    h = torch.tanh(x @ W1 + b1)
    g = ((1 - h ** 2) * w2).sum(dim=0, keepdim=True) @ W1.T
    return g.expand(len(x), -1)
'''),
    # WGAN weight clipping
    Variant("w14_wgan_clip_step", "clips before the step (the returned weights leave the box)",
            _TORCH + '''
def _critic(x, W1, b1, w2, b2):
    return torch.tanh(x @ W1 + b1) @ w2 + b2

def wgan_clip_step(real, fake, W1, b1, w2, b2, lr, clip):
    params = [p.clamp(-clip, clip).requires_grad_(True) for p in (W1, b1, w2, b2)]
    loss = _critic(fake, *params).mean() - _critic(real, *params).mean()
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return tuple((p - lr * (0 if g is None else g)).detach() for p, g in zip(params, grads))
'''),
    Variant("w14_wgan_clip_step", "the loss with the wrong sign (the critic prefers fakes)",
            _TORCH + '''
def _critic(x, W1, b1, w2, b2):
    return torch.tanh(x @ W1 + b1) @ w2 + b2

def wgan_clip_step(real, fake, W1, b1, w2, b2, lr, clip):
    params = [p.clone().requires_grad_(True) for p in (W1, b1, w2, b2)]
    loss = _critic(real, *params).mean() - _critic(fake, *params).mean()
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return tuple((p - lr * (0 if g is None else g)).clamp(-clip, clip).detach()
                 for p, g in zip(params, grads))
'''),
    Variant("w14_wgan_clip_step", "clips the weight matrices and vectors but not the biases",
            _TORCH + '''
def _critic(x, W1, b1, w2, b2):
    return torch.tanh(x @ W1 + b1) @ w2 + b2

def wgan_clip_step(real, fake, W1, b1, w2, b2, lr, clip):
    params = [p.clone().requires_grad_(True) for p in (W1, b1, w2, b2)]
    loss = _critic(fake, *params).mean() - _critic(real, *params).mean()
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    new = [(p - lr * (0 if g is None else g)).detach() for p, g in zip(params, grads)]
    return new[0].clamp(-clip, clip), new[1], new[2].clamp(-clip, clip), new[3]
'''),
    Variant("w14_wgan_clip_step", "clamps to [0, c] instead of [-c, c]", _TORCH + '''
def _critic(x, W1, b1, w2, b2):
    return torch.tanh(x @ W1 + b1) @ w2 + b2

def wgan_clip_step(real, fake, W1, b1, w2, b2, lr, clip):
    params = [p.clone().requires_grad_(True) for p in (W1, b1, w2, b2)]
    loss = _critic(fake, *params).mean() - _critic(real, *params).mean()
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return tuple((p - lr * (0 if g is None else g)).clamp(0, clip).detach()
                 for p, g in zip(params, grads))
'''),
    # gradient penalty
    Variant("w14_gradient_penalty", "no create_graph (the penalty cannot train the critic)",
            _NN + '''

def gradient_penalty(critic, real, fake, alpha, lam):
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (alpha.view(shape) * real + (1 - alpha.view(shape)) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed)
    return lam * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
'''),
    Variant("w14_gradient_penalty", "the input gradient detached before the norm", _NN + '''

def gradient_penalty(critic, real, fake, alpha, lam):
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (alpha.view(shape) * real + (1 - alpha.view(shape)) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return lam * ((grad.detach().flatten(1).norm(dim=1) - 1) ** 2).mean()
'''),
    Variant("w14_gradient_penalty", "one norm for the whole batch's gradient", _NN + '''

def gradient_penalty(critic, real, fake, alpha, lam):
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (alpha.view(shape) * real + (1 - alpha.view(shape)) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return lam * (grad.norm() - 1) ** 2
'''),
    Variant("w14_gradient_penalty", "squared norm: (‖g‖² − 1)²", _NN + '''

def gradient_penalty(critic, real, fake, alpha, lam):
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (alpha.view(shape) * real + (1 - alpha.view(shape)) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return lam * (((grad.flatten(1) ** 2).sum(dim=1) - 1) ** 2).mean()
'''),
    Variant("w14_gradient_penalty", "alpha weights the fake side", _NN + '''

def gradient_penalty(critic, real, fake, alpha, lam):
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (alpha.view(shape) * fake + (1 - alpha.view(shape)) * real).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return lam * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
'''),
    Variant("w14_gradient_penalty", "one-sided: only norms above 1 are penalized", _NN + '''

def gradient_penalty(critic, real, fake, alpha, lam):
    shape = (-1,) + (1,) * (real.dim() - 1)
    mixed = (alpha.view(shape) * real + (1 - alpha.view(shape)) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return lam * (torch.clamp(grad.flatten(1).norm(dim=1) - 1, min=0) ** 2).mean()
'''),
    Variant("w14_gradient_penalty", "gradient at the real points only", _NN + '''

def gradient_penalty(critic, real, fake, alpha, lam):
    x = real.clone().requires_grad_(True)
    grad, = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return lam * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
'''),
]

HIDDEN_ONLY_MUTANTS = [
    Variant("w14_gradient_penalty", "written for (N, D) rows: alpha[:, None] and the norm "
            "over dim 1 (hidden cases only: image-shaped examples)", _NN + '''

def gradient_penalty(critic, real, fake, alpha, lam):
    mixed = (alpha[:, None] * real + (1 - alpha[:, None]) * fake).detach().requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return lam * ((grad.norm(dim=1) - 1) ** 2).mean()
'''),
]
