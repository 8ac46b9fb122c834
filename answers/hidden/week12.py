"""Week 12 hidden cases: inputs aimed at the mistakes the public cases do not pin down.

* ``residual_block_cases``: inputs of scale 1e-4 (the variance is far below eps, so where
  eps goes shows), a single 3×3 image.
* ``param_count_cases``: shrinking widths, everything frozen, many equal blocks, ResNet-18's
  widths (equal widths of 512 compared by identity, ``is``, look different: only ints up to
  256 are cached) and odd widths and class counts (sums that agree with a bitwise or on
  powers of two do not on odd numbers).
* ``lr_cases``: twelve groups (rates down to 1e-14: relative comparison), a decay above 1,
  a base rate far from 1.
* ``setup_cases``: a frozen stage *after* a trainable one (freezing is decided by the rate,
  not by position), rates spanning five orders of magnitude (a rate applied to the wrong group
  shows), a single block, and one-example batches.
* ``step_cases``: a single image (batch norm over one example per channel and 2×2 maps),
  the first stage only frozen in a deeper network, and large rates.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week12 import setup_case, step_case


def setup_cases(rng: np.random.Generator) -> list[Case]:
    return [
        setup_case(rng, "hidden: a frozen block between two trainable stages", (4, 4, 8), 3, 3,
                   [1e-3, 0.0, 1e-2, 1e-1]),
        setup_case(rng, "hidden: rates from 1e-5 to 1 over four groups", (3, 6, 6), 4, 2,
                   [1e-5, 1e-3, 1e-1, 1.0]),
        setup_case(rng, "hidden: a stem and one block, head only", (4, 4), 2, 5, [0.0, 0.0, 0.3]),
        setup_case(rng, "hidden: four images, 10 classes", (4, 8, 8), 5, 10,
                   [0.0, 2e-3, 6e-3, 2e-2], n=4),
    ]


def step_cases(rng: np.random.Generator) -> list[Case]:
    return [
        step_case(rng, "hidden: two images, stem frozen", (4, 4, 8), 3, 1, 0.05, n=2),
        step_case(rng, "hidden: a deeper network (4→4→8→8), stem only frozen", (4, 4, 8, 8), 5,
                  1, 0.02),
        step_case(rng, "hidden: everything but the head frozen, a large rate", (3, 6, 6), 3, 3,
                  1.0),
    ]


def residual_block_cases(rng: np.random.Generator) -> list[Case]:
    from grader.checks.week12 import _block_args

    tiny = list(_block_args(rng, 3, 2, 4, 4))
    tiny[0] = 1e-4 * tiny[0]     # statistics far below 1: eps is no longer negligible
    return [
        Case("hidden: inputs of scale 1e-4 (eps matters)", tuple(tiny)),
        Case("hidden: batch of one, 3×3 images", _block_args(rng, 1, 4, 3, 3)),
    ]


def param_count_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("hidden: widths that shrink (32→16→8: projections)", (np.array([32, 16, 8]), 3, 4, 1)),
        Case("hidden: everything frozen but the head, RGB", (np.array([8, 8, 16, 16, 32]), 3, 100, 5)),
        Case("hidden: one repeated width, 10 blocks", (np.full(11, 12), 1, 2, 3)),
        Case("hidden: ResNet-18 widths 64→128→256→512→512 (equal widths above 256)",
             (np.array([64, 128, 256, 512, 512]), 3, 1000, 0)),
        Case("hidden: odd widths and an odd class count", (np.array([3, 5, 7, 7]), 1, 5, 0)),
    ]


def lr_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("hidden: 12 groups, decay 0.1 (rates down to 1e-14)", (12, 1e-3, 0.1, 0)),
        Case("hidden: decay above 1 (earlier layers faster)", (4, 1e-2, 2.0, 1)),
        Case("hidden: a base rate of 30", (3, 30.0, 0.5, 0)),
    ]
