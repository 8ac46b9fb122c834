"""Week 9 hidden cases: inputs the public cases of ``grader.checks.week09`` do not draw.

* The masked loss with scores around 1e6 whose spread is in the thousands (a shift by anything
  but the maximum of the position overflows or underflows), with a single kept position in a
  long padded batch, and a vocabulary of one (the loss and its gradient are exactly 0).
* An LSTM step with saturated gates (pre-activations in the tens): the gate derivatives vanish
  and only the direct paths remain.
* Truncated BPTT with a negative window, which the contract refuses: ``range(0, T, 0)``
  refuses a window of 0 by itself, so only a negative one shows a missing check.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week09 import _rnn_weights, random_mask


def temporal_softmax_loss(rng: np.random.Generator) -> list[Case]:
    scores = 1e6 + 3000.0 * rng.normal(size=(2, 4, 5))
    targets = scores.argmin(axis=-1)  # confidently wrong everywhere: no loss or gradient 0
    single = np.zeros((3, 6), dtype=bool)
    single[1, 2] = True
    single_scores = 500.0 * rng.normal(size=(3, 6, 4))
    single_targets = rng.integers(0, 4, size=(3, 6))
    single_targets[1, 2] = single_scores[1, 2].argmin()  # its loss must not vanish by chance
    return [
        Case("scores around 1e6 with a spread in the thousands (confidently wrong)",
             (scores, targets, random_mask(rng, 2, 4, 0.8))),
        Case("a single kept position in a padded 3×6 batch, scale 500, its target the least "
             "likely class", (single_scores, single_targets, single)),
        Case("a vocabulary of one symbol (loss 0)",
             (rng.normal(size=(2, 3, 1)), np.zeros((2, 3), dtype=int), np.ones((2, 3), bool))),
    ]


def lstm_step(rng: np.random.Generator) -> list[Case]:
    n, d, h = 3, 4, 2
    args = (rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h)),
            *_rnn_weights(rng, d, h, gates=4, scale=15.0))
    return [Case("saturated gates (pre-activations in the tens)",
                 (rng.normal(size=(n, h)), rng.normal(size=(n, h))) + args)]


def rnn_truncated_backward(rng: np.random.Generator) -> list[Case]:
    n, steps, d, h = 2, 4, 3, 2
    return [Case("window -2: refused", (rng.normal(size=(n, steps, h)),
                                         rng.normal(size=(n, steps, d)), rng.normal(size=(n, h)),
                                         *_rnn_weights(rng, d, h), -2),
                 raises=ValueError, reason="a window must hold at least one step")]
