"""Week 13 checks: teacher-forcing batches, additive attention with padding masks, and one
step of beam search. All are PyTorch exercises (``framework="torch"``).

Edge cases: a sequence of length 0 and padding that holds garbage (the lengths, not the
padding value, say where a sequence ends); masks with a single valid position, left padding
and huge scores (a softmax written as ``exp / sum`` overflows); the first beam-search step,
where only beam 0 is alive, and steps where every survivor comes from the same beam.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week13"


def _tokens(rng: np.random.Generator, n: int, t: int, lengths: np.ndarray, pad: int,
            low: int = 3, high: int = 13) -> np.ndarray:
    tokens = rng.integers(low, high, size=(n, t))
    tokens[np.arange(t)[None, :] >= lengths[:, None]] = pad
    return tokens


def _teacher_forcing_cases(rng: np.random.Generator) -> list[Case]:
    lengths = rng.integers(1, 7, size=5)
    garbage = rng.integers(3, 13, size=(3, 5))  # values after each length are not padding
    return [
        Case("5 sequences of lengths 1–6", (_tokens(rng, 5, 6, lengths, 0), lengths, 1, 2, 0)),
        Case("a sequence of length 0", (_tokens(rng, 3, 4, np.array([2, 0, 4]), 0),
                                        np.array([2, 0, 4]), 1, 2, 0)),
        Case("every sequence full length", (_tokens(rng, 2, 5, np.array([5, 5]), 0),
                                            np.array([5, 5]), 1, 2, 0)),
        Case("padding positions hold garbage", (garbage, np.array([3, 1, 5]), 1, 2, 0)),
        Case("other special ids (pad=12, bos=0, eos=1)",
             (_tokens(rng, 4, 3, np.array([1, 3, 2, 0]), 12, low=2, high=12),
              np.array([1, 3, 2, 0]), 0, 1, 12)),
        Case("a batch of one", (_tokens(rng, 1, 4, np.array([3]), 0), np.array([3]), 1, 2, 0)),
    ]


def _attention_args(rng: np.random.Generator, n: int, t: int, h_q: int, h_k: int, d: int,
                    a: int, lengths: np.ndarray | None = None, scale: float = 1.0,
                    shared_values: bool = False) -> tuple:
    query = rng.normal(size=(n, h_q))
    keys = rng.normal(size=(n, t, h_k))
    values = keys.copy() if shared_values else rng.normal(size=(n, t, d))
    W_q = rng.normal(size=(h_q, a)) / np.sqrt(h_q)
    W_k = rng.normal(size=(h_k, a)) / np.sqrt(h_k)
    v = scale * rng.normal(size=a)
    lengths = np.full(n, t) if lengths is None else lengths
    mask = np.arange(t)[None, :] < lengths[:, None]
    return query, keys, values, W_q, W_k, v, mask


def _attention_cases(rng: np.random.Generator) -> list[Case]:
    left_padded = list(_attention_args(rng, 3, 5, 4, 4, 2, 6))
    left_padded[6] = np.arange(5)[None, :] >= np.array([0, 2, 4])[:, None]  # padding first
    return [
        Case("no padding: N=3, T=5, H_q=4, H_k=6, D=3, A=7",
             _attention_args(rng, 3, 5, 4, 6, 3, 7)),
        Case("padded: lengths 5, 3, 1, 4", _attention_args(rng, 4, 5, 3, 3, 2, 4,
                                                           np.array([5, 3, 1, 4]))),
        Case("a single valid position per row", _attention_args(rng, 2, 4, 3, 3, 3, 5,
                                                                np.array([1, 1]))),
        Case("huge scores (v × 1000)", _attention_args(rng, 3, 6, 4, 4, 2, 5,
                                                       np.array([6, 4, 2]), scale=1000.0)),
        Case("one position (T=1)", _attention_args(rng, 2, 1, 3, 2, 4, 3)),
        Case("padding at the start (left-padded)", tuple(left_padded)),
        Case("values are the keys, batch of one", _attention_args(rng, 1, 7, 5, 5, 5, 6,
                                                                  shared_values=True)),
    ]


def _log_probs(rng: np.random.Generator, b: int, v: int, temperature: float = 1.0) -> np.ndarray:
    shifted = rng.normal(size=(b, v)) / temperature
    shifted -= shifted.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _beam_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("3 beams, vocabulary 5, keep 3",
             (_log_probs(rng, 3, 5), -rng.uniform(0, 3, size=3), 3)),
        Case("first step: only beam 0 alive (others -inf)",
             (_log_probs(rng, 3, 6), np.array([0.0, -np.inf, -np.inf]), 3)),
        Case("one beam far ahead: all survivors from it",
             (_log_probs(rng, 3, 8), np.array([-0.1, -20.0, -25.0]), 3)),
        Case("keep more than the number of beams (k=6, B=2)",
             (_log_probs(rng, 2, 5), -rng.uniform(0, 2, size=2), 6)),
        Case("keep one (greedy)", (_log_probs(rng, 4, 7), -rng.uniform(0, 2, size=4), 1)),
        Case("peaked distributions, 4 beams, vocabulary 10",
             (_log_probs(rng, 4, 10, temperature=0.2), -rng.uniform(0, 5, size=4), 4)),
    ]


register(
    Exercise(
        id="w13_teacher_forcing_batch", function="teacher_forcing_batch",
        reference=f"{REFERENCE}:teacher_forcing_batch", make_cases=_teacher_forcing_cases,
        points=2, framework="torch",
        hint="inputs start with BOS and are the targets shifted right by one; targets end "
             "with EOS at position lengths[n]; every position after that (and after the "
             "BOS+L tokens of the inputs) is pad_id. Use the lengths, not the padding values, "
             "to decide where a sequence ends; return int64 tensors of shape (N, T + 1)."),
    Exercise(
        id="w13_additive_attention", function="additive_attention",
        reference=f"{REFERENCE}:additive_attention", make_cases=_attention_cases, points=3,
        framework="torch",
        hint="score = tanh(query @ W_q [broadcast over T] + keys @ W_k) @ v, shape (N, T); "
             "set masked-out scores to -inf *before* a numerically stable softmax over T "
             "(torch.softmax), then context = Σ_t weights[:, t] * values[:, t]."),
    Exercise(
        id="w13_beam_search_step", function="beam_search_step",
        reference=f"{REFERENCE}:beam_search_step", make_cases=_beam_cases, points=3,
        framework="torch",
        hint="add each beam's score to its row of log-probabilities, flatten all B × V "
             "candidates and take the top k together (not the best of each beam); for flat "
             "index i, the parent beam is i // V and the token is i % V."),
)
