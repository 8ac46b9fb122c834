"""Week 14 alternatives (must pass) and mutants (must fail)."""

from answers.variants import Variant

_TORCH = '''
import torch
import torch.nn.functional as F
'''

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
    Variant("w14_gradient_penalty", "the critic's input gradient in closed form", _TORCH + '''
def gradient_penalty(real, fake, alpha, W1, b1, w2, b2, lam):
    mixed = alpha * real + (1 - alpha) * fake
    h = torch.tanh(mixed @ W1 + b1)                   # (N, H)
    grad = ((1 - h ** 2) * w2) @ W1.T                 # d critic / d x, (N, D)
    norms = torch.sqrt((grad ** 2).sum(dim=1))
    return lam * ((norms - 1) ** 2).mean()
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
    # gradient penalty
    Variant("w14_gradient_penalty", "one norm for the whole batch's gradient", _TORCH + '''
def gradient_penalty(real, fake, alpha, W1, b1, w2, b2, lam):
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    score = torch.tanh(mixed @ W1 + b1) @ w2 + b2
    grad, = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    return lam * (grad.norm() - 1) ** 2
'''),
    Variant("w14_gradient_penalty", "squared norm: (‖g‖² − 1)²", _TORCH + '''
def gradient_penalty(real, fake, alpha, W1, b1, w2, b2, lam):
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    score = torch.tanh(mixed @ W1 + b1) @ w2 + b2
    grad, = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    return lam * (((grad ** 2).sum(dim=1) - 1) ** 2).mean()
'''),
    Variant("w14_gradient_penalty", "alpha weights the fake side", _TORCH + '''
def gradient_penalty(real, fake, alpha, W1, b1, w2, b2, lam):
    mixed = (alpha * fake + (1 - alpha) * real).requires_grad_(True)
    score = torch.tanh(mixed @ W1 + b1) @ w2 + b2
    grad, = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    return lam * ((grad.norm(dim=1) - 1) ** 2).mean()
'''),
    Variant("w14_gradient_penalty", "one-sided: only norms above 1 are penalized", _TORCH + '''
def gradient_penalty(real, fake, alpha, W1, b1, w2, b2, lam):
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    score = torch.tanh(mixed @ W1 + b1) @ w2 + b2
    grad, = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    return lam * (torch.clamp(grad.norm(dim=1) - 1, min=0) ** 2).mean()
'''),
    Variant("w14_gradient_penalty", "gradient at the real points only", _TORCH + '''
def gradient_penalty(real, fake, alpha, W1, b1, w2, b2, lam):
    x = real.clone().requires_grad_(True)
    score = torch.tanh(x @ W1 + b1) @ w2 + b2
    grad, = torch.autograd.grad(score.sum(), x, create_graph=True)
    return lam * ((grad.norm(dim=1) - 1) ** 2).mean()
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
]
