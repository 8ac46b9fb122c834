"""Week 8 checks: sliding windows and patches, (denoising) autoencoders, RBMs and CD-k.

Shapes are non-square on purpose (``D ≠ H``, ``H ≠ W``, strides that do not divide the
length), so swapped axes and off-by-one window counts fail. The autoencoder and RBM cases
include saturated units (large weights), where ``log(sigmoid(z))`` and ``log(1 + exp(z))``
overflow, and the Gibbs chain gets its random numbers as arguments so that it is
deterministic.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week08"


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
    ]


def _patch_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("2 images 6×6, 3×3 patches, stride 1", (rng.random((2, 6, 6)), 3, 1)),
        Case("non-square 7×5 image, 2×2 patches, stride 2", (rng.random((1, 7, 5)), 2, 2)),
        Case("non-overlapping 4×4 patches of 8×8 images", (rng.random((3, 8, 8)), 4, 4)),
        Case("28×28 images, 12×12 patches, stride 8", (rng.random((2, 28, 28)), 12, 8)),
        Case("one patch covering the image", (rng.random((2, 3, 3)), 3, 2)),
    ]


def _autoencoder_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, h: int, keep: float = 0.75, scale: float = 0.3,
             binary: bool = False) -> Case:
        x = (rng.random((n, d)) < 0.5).astype(float) if binary else rng.random((n, d))
        mask = (rng.random((n, d)) < keep).astype(float)
        return Case(name, (x, mask, scale * rng.normal(size=(d, h)), rng.normal(size=h),
                           rng.normal(size=d)))

    return [
        case("denoising: 25% of inputs masked, N=4, D=7, H=3", 4, 7, 3),
        case("plain autoencoder (mask of ones)", 5, 6, 4, keep=1.0),
        case("binary data", 3, 8, 2, binary=True),
        case("saturated units (large weights)", 4, 5, 3, scale=30.0),
        case("a batch of one", 1, 6, 5),
        case("everything masked", 3, 4, 2, keep=0.0),
    ]


def _free_energy_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, h: int, scale: float = 0.5,
             binary: bool = True) -> Case:
        v = (rng.random((n, d)) < 0.5).astype(float) if binary else rng.random((n, d))
        return Case(name, (v, scale * rng.normal(size=(d, h)), rng.normal(size=h),
                           rng.normal(size=d)))

    return [
        case("binary visibles, N=4, D=6, H=3", 4, 6, 3),
        case("probabilities as visibles", 3, 5, 4, binary=False),
        case("huge weights (softplus overflows if computed naively)", 3, 6, 2, scale=500.0),
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


register(
    Exercise(
        id="w08_sliding_windows", function="sliding_windows",
        reference=f"{REFERENCE}:sliding_windows", make_cases=_window_cases, points=2,
        hint="there are (L - window) // stride + 1 windows (none if L < window: return shape "
             "(0, window, ...)); window i is x[i*stride : i*stride + window], stacked along a "
             "new axis 1 so that a (L, F) input gives (n, window, F)."),
    Exercise(
        id="w08_extract_patches", function="extract_patches",
        reference=f"{REFERENCE}:extract_patches", make_cases=_patch_cases, points=2,
        hint="n_h = (H - size) // stride + 1 rows and n_w = (W - size) // stride + 1 columns "
             "of patches; patches[n, i, j] = images[n, i*stride:i*stride+size, "
             "j*stride:j*stride+size] (i is the row, j the column)."),
    Exercise(
        id="w08_autoencoder_loss", function="autoencoder_loss",
        reference=f"{REFERENCE}:autoencoder_loss", make_cases=_autoencoder_cases, points=2,
        hint="encode the CORRUPTED input x * keep_mask but compare the reconstruction with the "
             "CLEAN x; compute the cross-entropy from the logits z as softplus(z) - x*z with "
             "np.logaddexp(0, z), sum over pixels and average over examples."),
    Exercise(
        id="w08_autoencoder_gradients", function="autoencoder_gradients",
        reference=f"{REFERENCE}:autoencoder_gradients", make_cases=_autoencoder_cases,
        points=3,
        hint="dz = (sigmoid(z) - x) / N at the output; W is used twice (encoder and, "
             "transposed, decoder), so dW = x̃ᵀ da + dzᵀ h with da = (dz @ W) * h * (1 - h) "
             "and x̃ the corrupted input."),
    Exercise(
        id="w08_rbm_free_energy", function="rbm_free_energy",
        reference=f"{REFERENCE}:rbm_free_energy", make_cases=_free_energy_cases, points=2,
        hint="F(v) = -v @ b_v - sum over hidden units of softplus(v @ W + b_h), one value per "
             "example (shape (N,)); use np.logaddexp(0, a) for softplus, log(1 + exp(a)) "
             "overflows."),
    Exercise(
        id="w08_gibbs_chain", function="gibbs_chain", reference=f"{REFERENCE}:gibbs_chain",
        make_cases=_gibbs_cases, points=2,
        hint="for each step t: h = (u_h[t] < sigmoid(v @ W + b_h)) as 0/1 floats, then "
             "p_v = sigmoid(h @ W.T + b_v) from the SAMPLED h, and v = (u_v[t] < p_v); "
             "return the last (v, p_v)."),
    Exercise(
        id="w08_cd_gradients", function="cd_gradients", reference=f"{REFERENCE}:cd_gradients",
        make_cases=_cd_cases, points=2,
        hint="a gradient to descend: dW = -(v0ᵀ p(h|v0) - vkᵀ p(h|vk)) / N with "
             "p(h|v) = sigmoid(v @ W + b_h); db_h and db_v are the same differences of "
             "batch means (of p(h|·) and of v), also negated."),
)
