"""Week 6 hidden cases: the mistakes the public cases of ``grader.checks.week06`` let through.

* Normalization at an offset of 1e6 (the public cases stop at 1e3, where ``E[x²] - E[x]²``
  still passes): only a variance computed from centred values survives.
* Dropout noise equal to ``p`` in many places, with non-zero activations, and ``p = 0`` with
  noise exactly 0: only the contract's ``u >= p`` keeps those units.
* Spatial batch norm of a single example (the unbiased running variance counts every
  position, not the examples) and of one channel.
* Early stopping on losses far from 1 (an absolute ``min_delta`` is not a relative one),
  on tied losses at non-zero values, on curves that end before the patience runs out, and
  with a patience of 300 (a count compared with ``is`` agrees with ``==`` only for the small
  ints CPython caches, up to 256).
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week06 import _affine_params, _feature_maps, _features


def dropout(rng: np.random.Generator) -> list[Case]:
    """Noise exactly at ``p`` on a third of the units; ``p = 0`` with noise values of 0."""
    cases = []
    for p in (0.25, 0.5):
        x = rng.normal(size=(6, 5)) + 2.0
        u = rng.random(x.shape)
        u[rng.random(x.shape) < 1 / 3] = p
        cases.append(Case(f"noise equal to p = {p} on a third of the units", (x, u, p),
                          {"train": True}))
    u = rng.random((4, 4))
    u[::2] = 0.0
    cases.append(Case("p = 0 and noise exactly 0 (every unit kept)",
                      (rng.normal(size=(4, 4)), u, 0.0), {"train": True}))
    return cases


def _offset(rng: np.random.Generator, n: int, d: int, offset: float = 1e6) -> np.ndarray:
    return offset + _features(rng, n, d)


def batchnorm_forward(rng: np.random.Generator) -> list[Case]:
    """Features around 1e6 (train and a momentum of 1); a batch of 3 around -1e6."""
    def case(name: str, x: np.ndarray, **kwargs) -> Case:
        d = x.shape[1]
        gamma, beta = _affine_params(rng, d)
        return Case(name, (x, gamma, beta, rng.normal(size=d), rng.uniform(0.5, 2, size=d)),
                    {"train": True, **kwargs})

    return [
        case("train, features around 1e6", _offset(rng, 9, 4)),
        case("train, features around -1e6, batch of 3, momentum 1",
             _offset(rng, 3, 5, -1e6), momentum=1.0),
    ]


def norm_backward(rng: np.random.Generator) -> list[Case]:
    """Batch- and layer-norm gradients at an offset of 1e6."""
    def case(name: str, x: np.ndarray) -> Case:
        gamma, _ = _affine_params(rng, x.shape[1])
        return Case(name, (rng.normal(size=x.shape), x, gamma))

    return [case("values around 1e6", _offset(rng, 8, 6)),
            case("values around -1e6, batch of 3", _offset(rng, 3, 5, -1e6))]


def layernorm_forward(rng: np.random.Generator) -> list[Case]:
    """Examples around 1e6."""
    x = _offset(rng, 5, 7)
    return [Case("values around 1e6", (x, *_affine_params(rng, 7)))]


def _spatial_forward_case(rng: np.random.Generator, name: str, x: np.ndarray,
                          **kwargs) -> Case:
    c = x.shape[1]
    gamma, beta = _affine_params(rng, c)
    return Case(name, (x, gamma, beta, rng.normal(size=c), rng.uniform(0.5, 2, size=c)),
                {"train": True, **kwargs})


def spatial_batchnorm_forward(rng: np.random.Generator) -> list[Case]:
    """A single example (N = 1, many positions), one channel, an offset of 1e6."""
    return [
        _spatial_forward_case(rng, "train, a single example 1 × 3 × 4 × 5",
                              _feature_maps(rng, (1, 3, 4, 5))),
        _spatial_forward_case(rng, "train, one channel, 6 × 1 × 2 × 2",
                              _feature_maps(rng, (6, 1, 2, 2))),
        _spatial_forward_case(rng, "train, channels around 1e6, 3 × 2 × 3 × 4",
                              1e6 + _feature_maps(rng, (3, 2, 3, 4))),
    ]


def spatial_batchnorm_backward(rng: np.random.Generator) -> list[Case]:
    """A single example, and channels around 1e6."""
    def case(name: str, x: np.ndarray) -> Case:
        gamma, _ = _affine_params(rng, x.shape[1])
        return Case(name, (rng.normal(size=x.shape), x, gamma))

    return [case("a single example 1 × 3 × 4 × 5", _feature_maps(rng, (1, 3, 4, 5))),
            case("channels around 1e6, 2 × 3 × 3 × 2", 1e6 + _feature_maps(rng, (2, 3, 3, 2)))]


def early_stopping(rng: np.random.Generator) -> list[Case]:
    """Losses far from 1, ties at non-zero values, a curve that ends while still waiting."""
    scale = 1000.0 * (1.2 + 0.8 * rng.random())
    far = scale * np.array([1.0, 0.9995, 0.999, 0.995, 0.994, 0.9939, 0.9938, 0.9937])
    tied = np.round(1.5 + rng.random(), 3) * np.array([1.2, 1.0, 1.0, 1.1, 1.0, 1.0, 1.3])
    ends_waiting = np.array([2.0, 1.5, 1.2, 1.25, 1.3]) + rng.random() * 0.01
    return [
        Case(f"losses around {scale:.0f}, min_delta = 0.5 (an absolute amount)",
             (far, 2), {"min_delta": 0.5}),
        Case("losses tied at a non-zero value after the best epoch, patience 3", (tied, 3)),
        Case("worse for the last 2 epochs, patience 3 (never stops early)", (ends_waiting, 3)),
        Case("patience 300 on a 420-epoch curve that stops improving at epoch 60",
             (np.concatenate([np.linspace(3.0, 1.0, 61), 1.0 + 0.5 * rng.random(359)]), 300)),
        Case("losses around 1e-3, min_delta = 1e-4", (1e-3 * np.array(
            [5.0, 4.0, 3.95, 3.0, 2.99, 2.98, 2.97]), 2), {"min_delta": 1e-4}),
    ]
