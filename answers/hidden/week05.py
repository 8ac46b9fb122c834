"""Week 5 hidden cases: the inputs the public cases do not stress.

* ``clip_hidden``: global norms at ``max_norm`` (where PyTorch's factor
  ``max_norm / (norm + 1e-6)``, capped at 1, still scales by slightly less than 1), with
  ``max_norm`` as small as 1e-4; and gradients that are all zero. "At" is ``max_norm`` less
  one part in 1e12: far below the 1e-6 but above the rounding of any summation order, so
  the computed norm never lands just above ``max_norm`` (where scaling only above it would
  agree with PyTorch, depending on the draw).
* ``critical_point_hidden``: estimated (not exactly symmetric) Hessians whose zero direction
  is zero only in the symmetric part; one batch mixing scales 1e-6 and 1e6 (each Hessian's
  "zero" is relative to its own eigenvalues); a zero Hessian (the monkey saddle at 0); and
  f scaled by 1e-9; an eigenvalue exactly at the threshold ``tol·max|λ|`` (a zero: ``≤``).
* ``adam_hidden``: betas far from their defaults and below 1/2 (short memories), where the
  averages' weights ``1 - β`` are no longer the small numbers that the defaults make them.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case


#: A norm "at" max_norm: below it by a relative 1e-12, more than the rounding of any sum of
#: squares of a few numbers (about 1e-16 each), far less than PyTorch's 1e-6.
AT_MAX_NORM = 1.0 - 1e-12


def _with_norm(rng: np.random.Generator, shapes: list[tuple[int, ...]], norm: float) -> tuple:
    grads = [rng.normal(size=shape) for shape in shapes]
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    return tuple(g * (norm / total) for g in grads)


def clip_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case("norm at max_norm = 1e-4, to 1e-12 (the 1e-6 still scales)",
             _with_norm(rng, [(3, 2), (4,)], 1e-4 * AT_MAX_NORM), {"max_norm": 1e-4}),
        Case("norm at max_norm = 2e-3, to 1e-12, one gradient",
             _with_norm(rng, [(5,)], 2e-3 * AT_MAX_NORM), {"max_norm": 2e-3}),
        Case("norm just below max_norm = 1e-3 (within the 1e-6)",
             _with_norm(rng, [(2, 2)], 1e-3 - 2e-7), {"max_norm": 1e-3}),
        Case("all gradients zero", (np.zeros((2, 3)), np.zeros(4)), {"max_norm": 1.0}),
    ]


def critical_point_hidden(rng: np.random.Generator) -> list[Case]:
    from grader.checks.week05 import ZERO, hessians_with_spectra

    symmetric = hessians_with_spectra(rng, [[1.0, 2.0, ZERO], [-1.0, 0.5, ZERO],
                                            [-3.0, -1.0, -ZERO], [1.0, 1.0, 1.0]])
    skew = rng.normal(size=symmetric.shape)
    estimated = symmetric + 1e-6 * (skew - np.swapaxes(skew, 1, 2))  # finite-difference error
    mixed = np.concatenate([hessians_with_spectra(rng, [[1.0, 0.5, ZERO], [-1.0, -2.0, -0.5]],
                                                  1e-6),
                            hessians_with_spectra(rng, [[1.0, -1.0, 0.2], [2.0, 1.0, 0.5]], 1e6)])
    return [
        Case("estimated Hessians, asymmetric by about 1e-6 (zero only in the symmetric part)",
             (estimated, 1e-8)),
        Case("one batch with scales 1e-6 and 1e6", (mixed, 1e-8)),
        Case("a zero Hessian (the monkey saddle x³ − 3xy² at 0) beside x² − y²",
             (np.array([[[0.0, 0.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, -2.0]]]), 1e-8)),
        Case("f scaled by 1e-9: clear eigenvalues of about 1e-9",
             (hessians_with_spectra(rng, [[1.0, 2.0], [-1.0, 3.0], [-2.0, -1.0], [ZERO, 1.0]],
                                    1e-9), 1e-8)),
        # diagonal, powers of two: the eigenvalues and tol·max|λ| are exact, so |λ| equals
        # the threshold exactly, and "|λ| ≤ tol·max|λ|" (the contract) makes it a zero
        Case("tol=0.25: an eigenvalue exactly at tol·max|λ| counts as zero",
             (np.array([[[4.0, 0.0], [0.0, 1.0]], [[4.0, 0.0], [0.0, -1.0]],
                        [[-4.0, 0.0], [0.0, -1.0]]]), 0.25)),
    ]


def adam_hidden(rng: np.random.Generator) -> list[Case]:
    def case(name: str, shape: tuple[int, ...], t: int, **hyper: float) -> Case:
        return Case(name, (rng.normal(size=shape), rng.normal(size=shape),
                           0.5 * rng.normal(size=shape), rng.random(shape), t), hyper)

    return [
        case("betas 0.3 and 0.45 (short memories), t=3", (4, 3), 3, lr=0.01, beta1=0.3,
             beta2=0.45),
        case("beta1 = 0 (no momentum), beta2 = 0.2, t=7", (5,), 7, lr=0.1, beta1=0.0,
             beta2=0.2),
    ]
