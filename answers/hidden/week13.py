"""Week 13 hidden cases: inputs aimed at mistakes the public cases do not catch.

* teacher forcing: a batch where every sequence is empty, one column, and a padding id
  that also occurs as a real token;
* attention: long, left-padded rows with a single valid position and scores far beyond
  ``exp``'s range;
* attention backward: one-hot weights (a saturated softmax passes no gradient) and values
  with a large common offset (which a correct gradient ignores);
* decoder step: tokens at both ends of the vocabulary;
* sequence loss: logits of ±1000 (``log(softmax)`` returns ``-inf``), a non-zero padding id,
  and padding positions whose logits are huge (they must still count for nothing); the
  padding id is a token of the vocabulary (the contract), never PyTorch's ``-100``;
* beam search: beam scores near -900, whose ``exp`` underflows to 0 (multiplying
  probabilities instead of adding log-probabilities loses every candidate), and k = B × V.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case
from grader.checks.week13 import (_attention_args, _attention_backward_args,
                                  _decoder_step_args, _log_probs, _loss_args, _tokens)


def teacher_forcing_batch(rng: np.random.Generator) -> list[Case]:
    lengths = np.array([2, 4, 0])
    tokens = _tokens(rng, 3, 4, lengths, 5, low=3, high=8)
    tokens[0, 1] = 5  # the padding id also occurs as a real token
    return [
        Case("every sequence empty", (_tokens(rng, 3, 4, np.zeros(3, int), 0),
                                      np.zeros(3, dtype=np.int64), 1, 2, 0)),
        Case("one column (T=1)", (_tokens(rng, 2, 1, np.array([1, 0]), 0), np.array([1, 0]),
                                  1, 2, 0)),
        Case("the padding id (5) is also a real token", (tokens, lengths, 1, 2, 5)),
    ]


def additive_attention(rng: np.random.Generator) -> list[Case]:
    left = list(_attention_args(rng, 3, 40, 4, 4, 3, 5, scale=1e4))
    left[6] = np.arange(40)[None, :] >= np.array([39, 20, 0])[:, None]
    return [Case("40 positions, left-padded, one valid position, scores × 10⁴", tuple(left))]


def attention_backward(rng: np.random.Generator) -> list[Case]:
    dcontext, weights, values = _attention_backward_args(rng, 3, 5, 2)
    one_hot = np.eye(5)[[0, 2, 4]]
    return [
        Case("one-hot weights (a saturated softmax)", (dcontext, one_hot, values)),
        Case("values offset by 1000", _offset(_attention_backward_args(rng, 4, 6, 3), 1000.0)),
    ]


def _offset(args: tuple, offset: float) -> tuple:
    dcontext, weights, values = args
    return dcontext, weights, values + offset


def attention_decoder_step(rng: np.random.Generator) -> list[Case]:
    args = list(_decoder_step_args(rng, 4, 3, 6, 3, 4, 2, np.array([3, 2, 1, 3])))
    args[0] = np.array([0, 5, 0, 5])
    return [Case("tokens 0 and V-1, padded sources", tuple(args))]


def sequence_loss(rng: np.random.Generator) -> list[Case]:
    huge = _loss_args(rng, 3, 5, 6, np.array([5, 3, 1]), scale=1000.0)
    logits, targets, pad = _loss_args(rng, 3, 4, 8, np.array([4, 1, 2]), pad=3)
    logits = logits.copy()
    logits[targets == pad] *= 1e4  # padding positions with absurd logits
    return [
        Case("logits of ±1000", huge),
        Case("padding id 3, huge logits at padding positions", (logits, targets, pad)),
        Case("padding id V-1 = 6", _loss_args(rng, 2, 6, 7, np.array([6, 2]), pad=6)),
    ]


def beam_search_step(rng: np.random.Generator) -> list[Case]:
    return [
        Case("long hypotheses: beam scores near -900 (exp underflows)",
             (_log_probs(rng, 3, 6), -900.0 - rng.uniform(0, 20, size=3), 3)),
        Case("keep every candidate (k = B × V), scores near -750",
             (_log_probs(rng, 2, 4), -750.0 - rng.uniform(0, 5, size=2), 8)),
    ]
