"""Week 12 checks: a residual block's forward pass, trainable-parameter budgets of a frozen
ResNet, and discriminative (layer-wise) learning rates.

The residual block is a PyTorch exercise (``framework="torch"``): the learner may use
``F.conv2d`` and ``F.batch_norm``. Its cases include a batch of one with 1×1 images (batch
norm over a single value per channel), several channels with very different scales, and
gammas and betas far from their initial values so that the order of operations shows.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week12"


def _block_args(rng: np.random.Generator, n: int, c: int, h: int, w: int,
                scale: float = 1.0) -> tuple:
    x = scale * rng.normal(size=(n, c, h, w))
    conv = lambda: rng.normal(size=(c, c, 3, 3)) / np.sqrt(9 * c)  # noqa: E731
    bn = lambda: (1 + 0.5 * rng.normal(size=c), 0.5 * rng.normal(size=c))  # noqa: E731
    (g1, b1), (g2, b2) = bn(), bn()
    return x, conv(), g1, b1, conv(), g2, b2


def _residual_block_cases(rng: np.random.Generator) -> list[Case]:
    skewed = list(_block_args(rng, 3, 4, 5, 5))
    skewed[0] = skewed[0] * np.array([1e-2, 1, 10, 100])[None, :, None, None]
    negative_shift = list(_block_args(rng, 2, 3, 4, 4))
    negative_shift[6] = -np.abs(negative_shift[6]) - 1.0  # beta2 < 0: the final ReLU matters
    return [
        Case("batch 4, 3 channels, 6×6", _block_args(rng, 4, 3, 6, 6)),
        Case("non-square 2×2 channels 5×7", _block_args(rng, 2, 2, 5, 7)),
        Case("one channel, batch 8, 4×4", _block_args(rng, 8, 1, 4, 4)),
        Case("channels on very different scales", tuple(skewed)),
        Case("negative beta2 (the last ReLU clips)", tuple(negative_shift)),
        Case("batch of 2 with 1×1 images", _block_args(rng, 2, 3, 1, 1)),
    ]


def _param_count_cases(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("this week's ResNet, nothing frozen", (np.array([16, 16, 32, 32]), 1, 5, 0)),
        Case("this week's ResNet, stem frozen", (np.array([16, 16, 32, 32]), 1, 5, 1)),
        Case("this week's ResNet, backbone frozen", (np.array([16, 16, 32, 32]), 1, 5, 4)),
        Case("RGB input, widths 8→16→16", (np.array([8, 16, 16]), 3, 10, 2)),
        Case("stem only (no residual block)", (np.array([12]), 1, 3, 0)),
    ]
    widths = np.sort(rng.choice([4, 8, 12, 16, 24, 32], size=5))
    cases.append(Case("random widths, 2 stages frozen", (widths, 2, 7, 2)))
    return cases


def _lr_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("5 groups, decay 0.3, none frozen", (5, 1e-3, 0.3, 0)),
        Case("5 groups, decay 0.5, two frozen", (5, 1e-2, 0.5, 2)),
        Case("decay 1 (plain fine-tuning)", (4, 3e-4, 1.0, 0)),
        Case("everything but the head frozen", (6, 0.1, 0.2, 5)),
        Case("a single group (the head)", (1, 0.05, 0.3, 0)),
        Case("random", (int(rng.integers(2, 9)), float(rng.uniform(1e-4, 1e-1)),
                        float(rng.uniform(0.1, 0.9)), int(rng.integers(0, 2)))),
    ]


register(
    Exercise(
        id="w12_residual_block_forward", function="residual_block_forward",
        reference=f"{REFERENCE}:residual_block_forward", make_cases=_residual_block_cases,
        points=3, framework="torch", rtol=1e-6, atol=1e-8,
        hint="conv (padding=1, no bias) → batch norm with *batch* statistics per channel "
             "(mean and biased variance over N, H, W; eps=1e-5) → ReLU → conv → batch norm; "
             "add the input x, and only then apply the last ReLU."),
    Exercise(
        id="w12_count_trainable_params", function="count_trainable_params",
        reference=f"{REFERENCE}:count_trainable_params", make_cases=_param_count_cases,
        points=2,
        hint="convs have no bias; each batch norm adds gamma and beta (its running mean and "
             "variance are buffers, not parameters); a block whose width changes has a 1×1 "
             "projection conv + batch norm; the head has a bias; stage 0 is the stem."),
    Exercise(
        id="w12_layerwise_learning_rates", function="layerwise_learning_rates",
        reference=f"{REFERENCE}:layerwise_learning_rates", make_cases=_lr_cases, points=1,
        rtol=1e-12, atol=0.0,
        hint="the head (the LAST group) gets base_lr; each group closer to the input gets "
             "decay times the next one; the first n_frozen groups get exactly 0."),
)
