"""Week 8 hidden cases: the mistakes the public cases of ``grader.checks.week08`` let through.

* Autoencoder loss and gradients with saturated units far beyond the public ones (logits in
  the thousands): a softplus computed as ``log1p(exp(z))`` is fine up to ``z ≈ 709`` and
  overflows beyond, and binary targets make the saturated units confidently wrong (every
  dropped pixel, on purpose).
* A Gibbs chain whose probabilities are exactly 0.5 (zero weights and biases) and whose
  uniforms equal 0.5 on half the units: only the contract's strict ``u < p`` gives the
  expected samples; and one from all-zero data with non-zero weights, where the tied hidden
  sample changes the visible probabilities (with zero weights it cannot).
* Sliding windows over a multi-feature sequence shorter than the window (the empty result
  keeps the trailing shape) and over integer token ids with a stride larger than 1.
* Gaussian–Bernoulli RBM free energies with data and visible biases near 1e7 (expanding
  ``½‖v - b_v‖²`` into ``½‖v‖² - v·b_v + ½‖b_v‖²`` cancels catastrophically) and with raw
  pixel values 0–255 (logits in the thousands); CD-1 from data at 0 with zero hidden biases,
  where every hidden probability is exactly 0.5 and half of the uniforms equal it.
* KL divergences of Gaussians with log-variances near -750 (each variance underflows to 0,
  so a ratio of variances is 0/0, and means 1e-163 apart square to 0) and near 750.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case


def sliding_windows(rng: np.random.Generator) -> list[Case]:
    return [
        Case("2 steps × 3 features, window 4 (no window: shape (0, 4, 3))",
             (rng.normal(size=(2, 3)), 4, 1)),
        Case("50 integer token ids, window 8, stride 5", (rng.integers(0, 1000, size=50), 8, 5)),
        Case("negative stride: refused", (rng.normal(size=(6, 2)), 2, -1), raises=ValueError,
             reason="the windows must move forward (stride >= 1)"),
        Case("negative window on a short sequence: refused", (rng.normal(size=3), -2, 1),
             raises=ValueError, reason="a window must hold at least one item"),
        Case("stride 0 on a long sequence: refused", (rng.integers(0, 9, size=7), 2, 0),
             raises=ValueError, reason="the windows must move forward (stride >= 1)"),
    ]


def autoencoder(rng: np.random.Generator) -> list[Case]:
    """Binary data, weights of scale 500, visible biases that put every logit in the
    thousands on a side fixed by its pixel (even pixels positive, odd negative).

    What each case exposes is placed, not drawn, so that a mistake fails it under every seed
    (its partial credit does not depend on the draw): every example drops a fixed number of
    pixels, one of them odd and on (its target is the least likely value, so the loss
    compared with the corrupted input, or averaged over pixels, is off by thousands); every
    dropped pixel is confidently wrong, the encoder cannot see it; the first example has a
    kept pixel on, and its hidden unit 0 sits near 0 instead of saturating, so the encoder's
    part of the gradient, the sigmoid's derivative and an encoder fed the clean input all
    show."""
    cases = []
    for name, n, d, h in [("saturated units, logits in the thousands, binary data", 4, 6, 3),
                          ("saturated units, a batch of one", 1, 5, 4)]:
        x = (rng.random((n, d)) < 0.5).astype(float)
        odd, even = np.arange(1, d, 2), np.arange(0, d, 2)
        mask = np.ones((n, d))
        for row in range(n):
            mask[row, rng.choice(odd)] = 0.0                  # one odd pixel dropped ...
            mask[row, rng.choice(even)] = 0.0                 # ... and one even one
        signs = np.where(np.arange(d) % 2 == 0, 1.0, -1.0)  # the side of each logit
        x = np.where(mask == 0, (signs < 0).astype(float), x)  # dropped: the least likely
        x[0, np.argmax(mask[0] * rng.random(d))] = 1.0        # a kept pixel on, example 0
        W = 500.0 * rng.normal(size=(d, h))
        b_h = rng.normal(size=h)
        b_h[0] = rng.normal() - (x[0] * mask[0]) @ W[:, 0]     # unit 0 of example 0 near 0
        # |h Wᵀ| <= Σ_k |W_jk| for h in [0, 1]: the bias decides each logit's side
        b_v = signs * (2000.0 + rng.random(d) + np.abs(W).sum(axis=1))
        cases.append(Case(name, (x, mask, W, b_h, b_v)))
    return cases


def gibbs(rng: np.random.Generator) -> list[Case]:
    """Every probability exactly 0.5, half of the uniforms exactly 0.5."""
    n, d, h, k = 3, 5, 4, 2
    u_h, u_v = rng.random((k, n, h)), rng.random((k, n, d))
    u_h[rng.random(u_h.shape) < 0.5] = 0.5
    u_v[rng.random(u_v.shape) < 0.5] = 0.5
    v0 = (rng.random((n, d)) < 0.5).astype(float)
    # Data at 0 and zero hidden biases with non-zero weights: the first hidden probabilities
    # are exactly 0.5 and the hidden sample they give decides the visible probabilities.
    u_h0 = rng.random((1, n, h))
    u_h0[rng.random(u_h0.shape) < 0.5] = 0.5
    return [Case("probabilities exactly 0.5 and uniforms equal to them (u < p is strict)",
                 (v0, np.zeros((d, h)), np.zeros(h), np.zeros(d), u_h, u_v)),
            Case("CD-1 from all-zero data: hidden probabilities exactly 0.5, half the "
                 "uniforms equal to them, non-zero weights",
                 (np.zeros((n, d)), rng.normal(size=(d, h)), np.zeros(h), rng.normal(size=d),
                  u_h0, rng.random((1, n, d))))]


def grbm_free_energy(rng: np.random.Generator) -> list[Case]:
    """Offsets of 1e7 (tiny weights keep the logits ordinary), raw 0–255 pixel values."""
    d, h = 5, 3
    b_v = 1e7 + rng.normal(size=d)
    return [
        Case("data and visible biases near 1e7 (cancellation in expanded squares)",
             (b_v + rng.normal(size=(3, d)), 1e-8 * rng.normal(size=(d, h)), rng.normal(size=h),
              b_v)),
        Case("unstandardized pixels 0-255: logits in the thousands",
             (rng.integers(0, 256, size=(4, d)).astype(float), rng.normal(size=(d, h)),
              rng.normal(size=h), 128.0 + rng.normal(size=d))),
    ]


def grbm_cd1(rng: np.random.Generator) -> list[Case]:
    """Data at 0, zero hidden biases: p(h | v0) = 0.5 exactly; half the uniforms are 0.5."""
    n, d, h = 4, 5, 3
    u_h = rng.random((n, h))
    u_h[rng.random(u_h.shape) < 0.5] = 0.5
    return [Case("hidden probabilities exactly 0.5, uniforms equal to them (u < p is strict)",
                 (np.zeros((n, d)), rng.normal(size=(d, h)), np.zeros(h), rng.normal(size=d),
                  u_h, rng.normal(size=(n, d))))]


def kl(rng: np.random.Generator) -> list[Case]:
    """Log-variances near ±750: the variances alone are 0 or inf, their ratios ordinary."""
    n, d = 3, 2
    mu = rng.normal(size=(n, d))
    lv_p, lv_q = -750 + rng.normal(size=(n, d)), -750 + rng.normal(size=(n, d))
    return [
        Case("log-variances near -750, means a few standard deviations apart (each variance "
             "and each squared difference underflows to 0)",
             (mu, lv_p, mu + np.exp(0.5 * lv_q) * rng.normal(size=(n, d)), lv_q)),
        Case("log-variances near 750 (each variance overflows)",
             (mu, 750 + rng.normal(size=(n, d)), rng.normal(size=(n, d)),
              750 + rng.normal(size=(n, d)))),
    ]
