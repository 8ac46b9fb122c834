"""Week 6 checks: weight decay, dropout, batch and layer normalization, maxout, early stopping.

Beyond random inputs, the cases exercise what the lecture warns about: evaluation mode
(dropout is the identity, batch norm uses the running statistics), ``p = 0``, a batch of
two (the unbiased variance doubles the biased one), a constant feature (variance 0: only
``eps`` keeps it finite), features far from zero, ties in a validation curve, and
improvements smaller than ``min_delta``.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week06"


# --------------------------------------------------------------------------------------
# L2 and dropout
# --------------------------------------------------------------------------------------
def _l2_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("weight matrix 5×4, reg 0.1", (rng.normal(size=(5, 4)), 0.1)),
        Case("conv filters 3×2×3×3, reg 1e-3", (rng.normal(size=(3, 2, 3, 3)), 1e-3)),
        Case("reg 0 (no penalty)", (rng.normal(size=(4, 3)), 0.0)),
        Case("a single weight, reg 2", (rng.normal(size=(1, 1)), 2.0)),
        Case("large weights, reg 0.5", (100 * rng.normal(size=(6, 2)), 0.5)),
    ]


def _dropout_settings(rng: np.random.Generator) -> list[tuple[str, tuple[int, ...], float, bool]]:
    return [
        ("train, p = 0.5, 4×6", (4, 6), 0.5, True),
        ("train, p = 0.2, 3-D activations 2×3×4", (2, 3, 4), 0.2, True),
        ("train, p = 0.9 (most units dropped)", (5, 8), 0.9, True),
        ("train, p = 0 (nothing dropped, no scaling)", (3, 5), 0.0, True),
        ("eval mode, p = 0.5 (identity)", (4, 6), 0.5, False),
        (f"train, random p = {rng.uniform(0.1, 0.7):.3f}", (6, 3), float(rng.uniform(0.1, 0.7)),
         True),
    ]


def _noise(rng: np.random.Generator, shape: tuple[int, ...], p: float) -> np.ndarray:
    u = rng.random(shape)
    u.flat[0] = p  # noise exactly at p: kept (u >= p), as in the contract
    return u


def _dropout_forward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, (rng.normal(size=shape), _noise(rng, shape, p), p), {"train": train})
            for name, shape, p, train in _dropout_settings(rng)]


def _dropout_backward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, (rng.normal(size=shape), _noise(rng, shape, p), p), {"train": train})
            for name, shape, p, train in _dropout_settings(rng)]


# --------------------------------------------------------------------------------------
# Normalization
# --------------------------------------------------------------------------------------
def _features(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Features with different means and scales, as real pre-activations have."""
    return rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + rng.normal(size=d)


def _affine_params(rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray]:
    return 1 + 0.5 * rng.normal(size=d), rng.normal(size=d)


def _batchnorm_forward_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x: np.ndarray, train: bool, **kwargs) -> Case:
        d = x.shape[1]
        gamma, beta = _affine_params(rng, d)
        running_mean, running_var = rng.normal(size=d), rng.uniform(0.5, 2, size=d)
        return Case(name, (x, gamma, beta, running_mean, running_var),
                    {"train": train, **kwargs})

    constant = _features(rng, 6, 3)
    constant[:, 1] = 4.0
    return [
        case("train, batch 8 × 5 features", _features(rng, 8, 5), True),
        case("train, batch of 2 (unbiased running var = 2 × biased)", _features(rng, 2, 4), True),
        case("train, momentum 0.3", _features(rng, 10, 3), True, momentum=0.3),
        case("train, a constant feature (variance 0), eps 1e-3", constant, True, eps=1e-3),
        case("train, features around 1000", 1000 + _features(rng, 7, 3), True),
        case("eval mode: running statistics, batch 6 × 4", _features(rng, 6, 4), False),
        case("eval mode, a single example", _features(rng, 1, 5), False),
    ]


def _norm_backward_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x: np.ndarray, **kwargs) -> Case:
        gamma, _ = _affine_params(rng, x.shape[1])
        return Case(name, (rng.normal(size=x.shape), x, gamma), kwargs)

    constant = _features(rng, 6, 3)
    constant[:, 1] = 4.0
    return [
        case("batch 8 × 5 features", _features(rng, 8, 5)),
        case("batch of 2", _features(rng, 2, 4)),
        case("a constant column, eps 1e-3", constant, eps=1e-3),
        case("values around 1000", 1000 + _features(rng, 7, 3)),
        case("tall batch 16 × 2", _features(rng, 16, 2)),
        case("wide 3 × 12", _features(rng, 3, 12)),
    ]


def _layernorm_forward_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x: np.ndarray, **kwargs) -> Case:
        return Case(name, (x, *_affine_params(rng, x.shape[1])), kwargs)

    constant = _features(rng, 4, 6)
    constant[2] = -3.0
    return [
        case("batch 6 × 8 features", _features(rng, 6, 8)),
        case("a single example (no batch statistics needed)", _features(rng, 1, 5)),
        case("a constant example (variance 0), eps 1e-3", constant, eps=1e-3),
        case("values around 1000", 1000 + _features(rng, 5, 4)),
        case("tall batch 12 × 3", _features(rng, 12, 3)),
    ]


# --------------------------------------------------------------------------------------
# Maxout and early stopping
# --------------------------------------------------------------------------------------
def _maxout_shapes() -> list[tuple[str, int, int, int, int]]:
    return [
        ("batch 5, 4 inputs, 3 units of 2 pieces", 5, 4, 3, 2),
        ("3 pieces per unit", 4, 3, 2, 3),
        ("1 piece per unit (a plain affine layer)", 3, 4, 3, 1),
        ("a single example", 1, 6, 4, 2),
        ("wide: 8 units of 4 pieces", 6, 5, 8, 4),
    ]


def _maxout_forward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, (rng.normal(size=(n, d)), rng.normal(size=(d, h, k)),
                        rng.normal(size=(h, k))))
            for name, n, d, h, k in _maxout_shapes()]


def _maxout_backward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, (rng.normal(size=(n, h)), rng.normal(size=(n, d)),
                        rng.normal(size=(d, h, k)), rng.normal(size=(h, k))))
            for name, n, d, h, k in _maxout_shapes()]


def _early_stopping_cases(rng: np.random.Generator) -> list[Case]:
    u_shape = 2.0 - np.linspace(0, 1.5, 12) + 0.02 * np.arange(12) ** 2  # falls, then rises
    noisy = np.exp(-np.arange(30) / 8) + 0.05 * rng.random(30)
    return [
        Case("falls then rises, patience 3", (u_shape, 3)),
        Case("same curve, patience 1", (u_shape, 1)),
        Case("still improving at the end (never stops)", (np.linspace(3, 1, 10), 2)),
        Case("flat after the first epoch: a tie is no improvement",
             (np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]), 2)),
        Case("tiny improvements below min_delta = 0.01",
             (np.array([1.0, 0.995, 0.99, 0.986, 0.97, 0.969, 0.968, 0.967]), 3),
             {"min_delta": 0.01}),
        Case("noisy decreasing curve, patience 4", (noisy, 4)),
        Case("a single epoch", (np.array([0.7]), 5)),
    ]


register(
    Exercise(
        id="w06_l2_penalty", function="l2_penalty", reference=f"{REFERENCE}:l2_penalty",
        make_cases=_l2_cases, points=1,
        hint="loss = reg/2 · Σ w² (note the 1/2) and dw = reg · w: return both, the loss as "
             "a float."),
    Exercise(
        id="w06_dropout_forward", function="dropout_forward",
        reference=f"{REFERENCE}:dropout_forward", make_cases=_dropout_forward_cases, points=2,
        hint="train: keep where u >= p and divide the kept values by (1 - p) — inverted "
             "dropout scales at training time; eval (train=False): return x unchanged."),
    Exercise(
        id="w06_dropout_backward", function="dropout_backward",
        reference=f"{REFERENCE}:dropout_backward", make_cases=_dropout_backward_cases,
        points=1,
        hint="the same mask (u >= p) and the same 1 / (1 - p) scale as the forward pass, "
             "applied to dout; in eval mode dout passes unchanged."),
    Exercise(
        id="w06_batchnorm_forward", function="batchnorm_forward",
        reference=f"{REFERENCE}:batchnorm_forward", make_cases=_batchnorm_forward_cases,
        points=3,
        hint="train: normalize with the batch mean and the *biased* variance (ddof=0) inside "
             "sqrt(var + eps); update running = (1 - momentum)·running + momentum·batch with "
             "the *unbiased* variance (ddof=1) for running_var. eval: normalize with the "
             "running statistics and return them unchanged."),
    Exercise(
        id="w06_batchnorm_backward", function="batchnorm_backward",
        reference=f"{REFERENCE}:batchnorm_backward", make_cases=_norm_backward_cases,
        points=3,
        hint="the batch mean and variance depend on every x, so dx is not just dout·γ/σ: "
             "with dx̂ = dout·γ, dx = (dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)) / σ, means over "
             "the batch axis; dγ = Σ dout·x̂, dβ = Σ dout."),
    Exercise(
        id="w06_layernorm_forward", function="layernorm_forward",
        reference=f"{REFERENCE}:layernorm_forward", make_cases=_layernorm_forward_cases,
        points=2,
        hint="statistics per example, over the features (axis -1, keepdims=True), biased "
             "variance inside sqrt(var + eps); then γ · x̂ + β per feature."),
    Exercise(
        id="w06_layernorm_backward", function="layernorm_backward",
        reference=f"{REFERENCE}:layernorm_backward", make_cases=_norm_backward_cases,
        points=2,
        hint="batch norm's formula with the means taken over the features of each example "
             "(axis 1) and dx̂ = dout·γ; dγ and dβ still sum over the batch (axis 0)."),
    Exercise(
        id="w06_maxout_forward", function="maxout_forward",
        reference=f"{REFERENCE}:maxout_forward", make_cases=_maxout_forward_cases, points=2,
        hint="pieces z[n, h, j] = Σ_d x[n, d] w[d, h, j] + b[h, j] (np.einsum('nd,dhk->nhk') "
             "or a reshape of x @ w.reshape(D, -1)), then the maximum over the last axis j."),
    Exercise(
        id="w06_maxout_backward", function="maxout_backward",
        reference=f"{REFERENCE}:maxout_backward", make_cases=_maxout_backward_cases,
        points=2,
        hint="recompute the pieces, find each unit's winning piece (argmax over the last "
             "axis), put dout there and 0 in the other pieces; then it is an affine layer's "
             "backward: dx = Σ dz·w, dw = Σ_n x ⊗ dz, db = Σ_n dz."),
    Exercise(
        id="w06_early_stopping", function="early_stopping",
        reference=f"{REFERENCE}:early_stopping", make_cases=_early_stopping_cases, points=2,
        hint="an epoch improves only if loss < best - min_delta (a tie does not); count "
             "epochs since the last improvement, reset the count on an improvement, and stop "
             "at the epoch where the count reaches patience. Return (best_epoch, stop_epoch), "
             "0-based; if it never stops, stop_epoch is the last epoch."),
)
