"""Week 8 checks: sliding windows and patches, (denoising) autoencoders, RBMs and CD-k,
the Gaussian–Bernoulli RBM and the KL divergence between Gaussians.

Shapes are non-square on purpose (``D ≠ H``, ``H ≠ W``, strides that do not divide the
length), so swapped axes and off-by-one window counts fail. The autoencoder and RBM cases
include saturated units (large weights), where ``log(sigmoid(z))`` and ``log(1 + exp(z))``
overflow, and the Gibbs chain gets its random numbers as arguments so that it is
deterministic. The hidden generators (:mod:`answers.hidden.week08`) push the logits into the
thousands and put uniforms exactly on the probabilities. Hints name the idea a case tests and
the usual mistake, never the formula.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week08"
HIDDEN = "answers.hidden.week08"
LECTURE = "course/week08-autoencoders.ipynb"


def _window_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("5 items, window 3, stride 1 (ABCDE → ABC, BCD, CDE)", (rng.normal(size=5), 3, 1)),
        Case("7 items, window 3, stride 2", (rng.normal(size=7), 3, 2)),
        Case("10 items, window 4, stride 3 (the tail is dropped)", (rng.normal(size=10), 4, 3)),
        Case("window as long as the sequence", (rng.normal(size=4), 4, 1)),
        Case("window 1", (rng.normal(size=3), 1, 1)),
        Case("2-D sequence (8 steps × 2 features), window 3, stride 2",
             (rng.normal(size=(8, 2)), 3, 2)),
        Case("sequence shorter than the window (no window)", (rng.normal(size=2), 3, 1)),
        Case("window 0: refused", (np.arange(5.0), 0, 1), raises=ValueError,
             reason="a window must hold at least one item"),
        Case("stride 0 on a sequence shorter than the window: refused", (np.arange(2.0), 3, 0),
             raises=ValueError, reason="the windows must move forward (stride >= 1), however "
             "long the sequence"),
    ]


def _patch_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("2 images 6×6, 3×3 patches, stride 1", (rng.random((2, 6, 6)), 3, 1)),
        Case("non-square 7×5 image, 2×2 patches, stride 2", (rng.random((1, 7, 5)), 2, 2)),
        Case("non-overlapping 4×4 patches of 8×8 images", (rng.random((3, 8, 8)), 4, 4)),
        Case("28×28 images, 12×12 patches, stride 8", (rng.random((2, 28, 28)), 12, 8)),
        Case("one patch covering the image", (rng.random((2, 3, 3)), 3, 2)),
    ]


def keep_mask(rng: np.random.Generator, n: int, d: int, keep: float) -> np.ndarray:
    """A masking-noise mask ``(n, d)`` of 0/1 that drops ``round((1 - keep) · d)`` inputs of
    every example (at least one and at most ``d - 1`` when ``0 < keep < 1``), placed at
    random.

    The count is fixed, not drawn, so that a corruption mistake (the loss compared with the
    corrupted input, the encoder fed the clean one) fails the same cases under every seed:
    a drawn mask of a single example keeps everything one time in six, and the partial
    credit then depends on the draw (``random_mask`` in :mod:`grader.checks.week09`)."""
    if keep >= 1 or keep <= 0:
        return np.full((n, d), float(keep >= 1))
    dropped = int(np.clip(round((1 - keep) * d), 1, d - 1))
    order = np.argsort(rng.random((n, d)), axis=1)
    mask = np.ones((n, d))
    np.put_along_axis(mask, order[:, :dropped], 0.0, axis=1)
    return mask


def _autoencoder_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, h: int, keep: float = 0.75, scale: float = 0.3,
             binary: bool = False) -> Case:
        x = (rng.random((n, d)) < 0.5).astype(float) if binary else rng.random((n, d))
        mask = keep_mask(rng, n, d, keep)
        if binary and keep < 1:  # a dropped input that is on in every example
            x[np.arange(n), np.argmin(mask, axis=1)] = 1.0
        W, b_h, b_v = scale * rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=d)
        if scale > 1:
            # Placed, not drawn (the same mistakes fail under every seed): the logit of pixel
            # 0 is above 40 in every example, where a sigmoid rounds to exactly 1 (a log of
            # it is -inf); hidden unit 0 of example 0 sits near 0 while the others saturate,
            # so the encoder's part of the gradient and what the encoder reads still show.
            b_h[0] = rng.normal() - (x[0] * mask[0]) @ W[:, 0]
            b_v[0] = 40.0 + rng.random() + np.abs(W[0]).sum()
        return Case(name, (x, mask, W, b_h, b_v))

    return [
        case("denoising: 25% of inputs masked, N=4, D=7, H=3", 4, 7, 3),
        case("plain autoencoder (mask of ones)", 5, 6, 4, keep=1.0),
        case("binary data", 3, 8, 2, binary=True),
        case("saturated units (large weights)", 4, 5, 3, scale=30.0),
        case("a batch of one", 1, 6, 5),
        case("everything masked", 3, 4, 2, keep=0.0),
    ]


def _free_energy_cases(rng: np.random.Generator) -> list[Case]:
    """Every binary example has at least one unit on (an all-zero example has no visible
    term, so a forgotten one would pass it), and the huge-weight case pushes hidden unit 0
    past 1000 for every example (weights of at least 1000 into it): a naive softplus
    overflows under every seed, not only when the draw happens to make a logit large."""
    def case(name: str, n: int, d: int, h: int, scale: float = 0.5, binary: bool = True,
             overflow: bool = False) -> Case:
        if binary:
            v = (rng.random((n, d)) < 0.5).astype(float)
            v[np.arange(n), rng.integers(0, d, size=n)] = 1.0
        else:
            v = rng.random((n, d))
        W = scale * rng.normal(size=(d, h))
        if overflow:
            W[:, 0] = 1000.0 + np.abs(W[:, 0])
        return Case(name, (v, W, rng.normal(size=h), rng.normal(size=d)))

    return [
        case("binary visibles, N=4, D=6, H=3", 4, 6, 3),
        case("probabilities as visibles", 3, 5, 4, binary=False),
        case("huge weights (softplus overflows if computed naively)", 3, 6, 2, scale=500.0,
             overflow=True),
        case("a single example and a single hidden unit", 1, 4, 1),
    ]


def _gibbs_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, h: int, k: int) -> Case:
        return Case(name, ((rng.random((n, d)) < 0.5).astype(float),
                           rng.normal(size=(d, h)), rng.normal(size=h), rng.normal(size=d),
                           rng.random((k, n, h)), rng.random((k, n, d))))

    return [
        case("CD-1: one step, N=4, D=6, H=3", 4, 6, 3, 1),
        case("CD-3: three steps", 3, 5, 4, 3),
        case("a batch of one, 2 steps", 1, 7, 2, 2),
        case("more hidden than visible units, 4 steps", 2, 3, 5, 4),
    ]


def _cd_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, h: int, vk: np.ndarray | None = None) -> Case:
        v0 = rng.random((n, d))
        negative = (rng.random((n, d)) < 0.5).astype(float) if vk is None else vk
        return Case(name, (v0, negative, rng.normal(size=(d, h)), rng.normal(size=h),
                           rng.normal(size=d)))

    same = rng.random((3, 4))
    return [
        case("data probabilities vs binary negative samples, N=5, D=6, H=3", 5, 6, 3),
        case("a batch of one", 1, 4, 2),
        case("more hidden than visible units", 4, 3, 6),
        Case("negative samples equal to the data (zero gradient)",
             (same, same.copy(), rng.normal(size=(4, 2)), rng.normal(size=2),
              rng.normal(size=4))),
    ]


def _grbm_free_energy_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, h: int, scale: float = 0.5, v_offset: float = 0.0,
             b_v_offset: float = 0.0) -> Case:
        return Case(name, (v_offset + rng.normal(size=(n, d)), scale * rng.normal(size=(d, h)),
                           rng.normal(size=h), b_v_offset + rng.normal(size=d)))

    return [
        case("standardized real-valued visibles, N=4, D=6, H=3", 4, 6, 3),
        case("visible biases far from the data (offset 5)", 3, 5, 4, b_v_offset=5.0),
        case("data far from zero (offset -3)", 3, 5, 2, v_offset=-3.0),
        case("huge weights (softplus overflows if computed naively)", 3, 6, 2, scale=500.0),
        case("a single example and a single hidden unit", 1, 4, 1),
    ]


def _grbm_cd1_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, h: int, scale: float = 0.5) -> Case:
        return Case(name, (rng.normal(size=(n, d)), scale * rng.normal(size=(d, h)),
                           rng.normal(size=h), rng.normal(size=d), rng.random((n, h)),
                           rng.normal(size=(n, d))))

    return [
        case("standardized data, N=5, D=6, H=3", 5, 6, 3),
        case("a batch of one", 1, 4, 2),
        case("more hidden than visible units", 4, 3, 6),
        case("strong weights (hidden units nearly deterministic)", 4, 5, 3, scale=3.0),
    ]


def _kl_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, spread: float = 1.0, centre: float = 0.0,
             same: bool = False) -> Case:
        mu_p, mu_q = rng.normal(size=(n, d)), rng.normal(size=(n, d))
        lv_p = centre + spread * rng.normal(size=(n, d))
        lv_q = centre + spread * rng.normal(size=(n, d))
        if same:
            mu_q, lv_q = mu_p.copy(), lv_p.copy()
        return Case(name, (mu_p, lv_p, mu_q, lv_q))

    mu, lv = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    return [
        case("N=4 pairs of 3-D diagonal Gaussians", 4, 3),
        case("p = q (KL is exactly 0)", 3, 4, same=True),
        Case("same variances, different means", (mu, lv, rng.normal(size=(3, 2)), lv.copy())),
        case("one pair in 1-D", 1, 1),
        case("very broad Gaussians: log-variances near 720 (each variance overflows)", 3, 2,
             spread=3.0, centre=720.0),
    ]


register(
    Exercise(
        id="w08_sliding_windows", function="sliding_windows", hidden=f"{HIDDEN}:sliding_windows",
        reference=f"{REFERENCE}:sliding_windows", make_cases=_window_cases, points=2,
        see=f"{LECTURE} §1 Windows and patches",
        hint="count the window starts that leave room for a whole window (a window that would "
             "run past the end is dropped, and a too-short sequence has none: the shape must "
             "still say how long a window is); trailing feature axes travel with each item."),
    Exercise(
        id="w08_extract_patches", function="extract_patches",
        reference=f"{REFERENCE}:extract_patches", make_cases=_patch_cases, points=2,
        see=f"{LECTURE} §1 Windows and patches",
        hint="sliding windows along both image axes: the patch grid's first index moves down "
             "the rows, the second along the columns; the non-square case catches swapped "
             "axes and the stride-that-does-not-divide case a wrong count."),
    Exercise(
        id="w08_autoencoder_loss", function="autoencoder_loss",
        reference=f"{REFERENCE}:autoencoder_loss", make_cases=_autoencoder_cases, points=2,
        see=f"{LECTURE} §3 The denoising autoencoder", hidden=f"{HIDDEN}:autoencoder",
        hint="two ideas are tested: the encoder sees the corrupted input but the loss compares "
             "with the clean one, and the loss must be exact for saturated units — a sigmoid "
             "that rounds to 0 or 1 inside a log, or a clipped probability, gives the wrong "
             "value there. Rewrite the loss in terms of the logits first."),
    Exercise(
        id="w08_autoencoder_gradients", function="autoencoder_gradients",
        reference=f"{REFERENCE}:autoencoder_gradients", make_cases=_autoencoder_cases,
        points=3, outputs=("dW", "db_h", "db_v"), see=f"{LECTURE} §2 The autoencoder",
        hidden=f"{HIDDEN}:autoencoder",
        hint="tied weights: W appears in the encoder and, transposed, in the decoder, and the "
             "chain rule collects both contributions; the encoder's input is the corrupted x. "
             "The assignment's numerical gradient check tells you which term is missing."),
    Exercise(
        id="w08_rbm_free_energy", function="rbm_free_energy",
        reference=f"{REFERENCE}:rbm_free_energy", make_cases=_free_energy_cases, points=2,
        see=f"{LECTURE} §4 The restricted Boltzmann machine",
        hint="summing e^(−E) over all hidden vectors factorizes into one two-term sum per "
             "hidden unit (the brute-force cell checks your closed form); one value per "
             "example, and finite for huge weights — the same decision as in the "
             "autoencoder loss."),
    Exercise(
        id="w08_gibbs_chain", function="gibbs_chain", reference=f"{REFERENCE}:gibbs_chain",
        make_cases=_gibbs_cases, points=2, outputs=("v_k", "p_v"), hidden=f"{HIDDEN}:gibbs",
        see=f"{LECTURE} §4 The restricted Boltzmann machine",
        hint="each step samples the hidden layer from the current visible one and then the "
             "visible layer from the *sampled* hidden units, with that step's own uniforms and "
             "the contract's comparison; return the last sample and the probabilities it was "
             "drawn from."),
    Exercise(
        id="w08_cd_gradients", function="cd_gradients", reference=f"{REFERENCE}:cd_gradients",
        make_cases=_cd_cases, points=2, outputs=("dW", "db_h", "db_v"),
        see=f"{LECTURE} §4 The restricted Boltzmann machine",
        hint="it is the gradient of the mean free energy of the data minus that of the chain "
             "ends (held fixed), to descend: check the sign with the case where the chain "
             "ends equal the data (zero gradient) and the batch-of-one case for the averaging."),
    Exercise(
        id="w08_grbm_free_energy", function="grbm_free_energy",
        reference=f"{REFERENCE}:grbm_free_energy", make_cases=_grbm_free_energy_cases,
        points=2, hidden=f"{HIDDEN}:grbm_free_energy",
        see=f"{LECTURE} §4 The restricted Boltzmann machine",
        hint="only the visible part of the energy changed: the hidden units are summed out "
             "exactly as for the binary RBM, and what is left of the visible term is not "
             "linear in v any more (the cases with offsets catch a term that was dropped or "
             "a sign). Keep it finite for huge logits, and for data and biases near 1e7 "
             "compute the visible term from the difference, not from expanded squares."),
    Exercise(
        id="w08_grbm_cd1_gradients", function="grbm_cd1_gradients",
        reference=f"{REFERENCE}:grbm_cd1_gradients", make_cases=_grbm_cd1_cases, points=3,
        outputs=("dW", "db_h", "db_v"), hidden=f"{HIDDEN}:grbm_cd1",
        see=f"{LECTURE} §4 The restricted Boltzmann machine",
        hint="two things differ from the binary RBM: the reconstruction is a real-valued "
             "sample (no squashing, no thresholding, and it is driven by the *sampled* "
             "hidden units), and the visible-bias gradient comes from the new quadratic "
             "term. The positive phase uses probabilities, the noise is given, and the "
             "result descends the free-energy difference, averaged over the batch."),
    Exercise(
        id="w08_kl_gaussians", function="kl_gaussians", reference=f"{REFERENCE}:kl_gaussians",
        make_cases=_kl_cases, points=2, hidden=f"{HIDDEN}:kl",
        see=f"{LECTURE} §7 KL divergence, both ways",
        hint="the expectation under p of a log-ratio of two Gaussian densities needs only "
             "p's mean and variance; check the direction (which distribution the expectation "
             "is under), that each dimension adds, and that p = q gives exactly 0. The broad "
             "cases test a decision: never form a variance you do not need on its own."),
)
