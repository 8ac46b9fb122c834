"""Week 13 checks: teacher-forcing batches, additive attention with padding masks, its
backward pass, one attention-decoder step, the teacher-forced sequence loss and one step of
beam search. All are PyTorch exercises (``framework="torch"``).

Edge cases: a sequence of length 0 and padding that holds garbage (the lengths, not the
padding value, say where a sequence ends); masks with a single valid position, left padding
and huge scores (a softmax written as ``exp / sum`` overflows); a single position, where
the scores' gradient is exactly 0; sequences of very different lengths (the loss averages
over real tokens, not sequences); the first beam-search step, where only beam 0 is alive,
and steps where every survivor comes from the same beam. The hidden generators
(``answers.hidden.week13``) add huge logits, other padding ids and beam scores far below
exp's range.
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


def _attention_backward_args(rng: np.random.Generator, n: int, t: int, d: int,
                             lengths: np.ndarray | None = None, scale: float = 1.0) -> tuple:
    lengths = np.full(n, t) if lengths is None else lengths
    scores = scale * rng.normal(size=(n, t))
    scores[np.arange(t)[None, :] >= lengths[:, None]] = -np.inf
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return rng.normal(size=(n, d)), weights, rng.normal(size=(n, t, d))


def _attention_backward_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("no padding: N=3, T=5, D=4", _attention_backward_args(rng, 3, 5, 4)),
        Case("padded: lengths 6, 2, 4, 1", _attention_backward_args(rng, 4, 6, 3,
                                                                    np.array([6, 2, 4, 1]))),
        Case("one position (T=1): the weights cannot move", _attention_backward_args(rng, 2, 1, 3)),
        Case("peaked weights (scores × 10)", _attention_backward_args(rng, 3, 4, 2, scale=10.0)),
        Case("a batch of one, D=1", _attention_backward_args(rng, 1, 7, 1)),
    ]


def _decoder_step_args(rng: np.random.Generator, n: int, t: int, vocab: int, e: int, h: int,
                       a: int, lengths: np.ndarray | None = None) -> tuple:
    lengths = np.full(n, t) if lengths is None else lengths
    mask = np.arange(t)[None, :] < lengths[:, None]
    scale = 1 / np.sqrt(h)
    return (rng.integers(0, vocab, size=n), rng.normal(size=(n, h)),
            rng.normal(size=(n, t, h)), mask, rng.normal(size=(vocab, e)),
            scale * rng.normal(size=(h, a)), scale * rng.normal(size=(h, a)),
            rng.normal(size=a) / np.sqrt(a), scale * rng.normal(size=(3 * h, e + h)),
            scale * rng.normal(size=(3 * h, h)), 0.1 * rng.normal(size=3 * h),
            0.1 * rng.normal(size=3 * h), scale * rng.normal(size=(2 * h, vocab)),
            0.1 * rng.normal(size=vocab))


def _decoder_step_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("N=3, T=5, V=7, E=4, H=6, A=5", _decoder_step_args(rng, 3, 5, 7, 4, 6, 5)),
        Case("padded sources: lengths 4, 1, 3", _decoder_step_args(rng, 3, 4, 6, 3, 5, 4,
                                                                   np.array([4, 1, 3]))),
        Case("one source position (T=1)", _decoder_step_args(rng, 2, 1, 5, 2, 3, 3)),
        Case("a batch of one, E ≠ H ≠ A", _decoder_step_args(rng, 1, 6, 9, 2, 7, 3)),
    ]


def _loss_args(rng: np.random.Generator, n: int, t: int, vocab: int, lengths: np.ndarray,
               pad: int = 0, scale: float = 1.0) -> tuple:
    targets = rng.integers(0, vocab, size=(n, t))
    targets[targets == pad] = (pad + 1) % vocab  # real tokens are never the padding id
    targets[np.arange(t)[None, :] >= lengths[:, None]] = pad
    return scale * rng.normal(size=(n, t, vocab)), targets, pad


def _sequence_loss_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("N=4, T=6, V=5, lengths 6, 3, 5, 2", _loss_args(rng, 4, 6, 5, np.array([6, 3, 5, 2]))),
        Case("no padding at all", _loss_args(rng, 3, 4, 6, np.array([4, 4, 4]))),
        Case("lengths 8 and 1: tokens count, not sequences",
             _loss_args(rng, 2, 8, 4, np.array([8, 1]))),
        Case("an empty sequence in the batch", _loss_args(rng, 3, 5, 7, np.array([5, 0, 2]))),
        Case("confident logits (× 8)", _loss_args(rng, 3, 5, 6, np.array([5, 4, 3]),
                                                  scale=8.0)),
    ]


register(
    Exercise(
        id="w13_teacher_forcing_batch", function="teacher_forcing_batch",
        reference=f"{REFERENCE}:teacher_forcing_batch", make_cases=_teacher_forcing_cases,
        points=2, framework="torch", outputs=("inputs", "targets"),
        hidden="answers.hidden.week13:teacher_forcing_batch",
        see="course/week13-seq2seq.ipynb §2 Encoder, decoder and teacher forcing",
        hint="teacher forcing: at step t the decoder reads the true token of step t - 1 and "
             "must predict the token of step t, so the two tensors are the same sequence "
             "seen one step apart, each closed by its own special token. A sequence ends "
             "where its length says: values after it are not guaranteed to be padding (the "
             "'garbage' case), and a length of 0 still has a start and an end."),
    Exercise(
        id="w13_additive_attention", function="additive_attention",
        reference=f"{REFERENCE}:additive_attention", make_cases=_attention_cases, points=3,
        framework="torch", outputs=("context", "weights"),
        hidden="answers.hidden.week13:additive_attention",
        see="course/week13-seq2seq.ipynb §3 Additive attention",
        hint="padding must receive exactly zero weight AND the remaining weights must still "
             "sum to 1, so the mask has to act before normalization, not after; the "
             "'huge scores' case overflows any softmax that exponentiates raw scores. The "
             "score is a one-hidden-layer network of query and key (check the "
             "non-linearity), and the context mixes the values, not the keys."),
    Exercise(
        id="w13_attention_backward", function="attention_backward",
        reference=f"{REFERENCE}:attention_backward", make_cases=_attention_backward_cases,
        points=3, framework="torch", outputs=("dscores", "dvalues"),
        hidden="answers.hidden.week13:attention_backward",
        see="course/week13-seq2seq.ipynb §3 Additive attention",
        hint="chain rule in two stages: first the gradient with respect to each weight "
             "(how the context moves when one weight moves), then through the softmax, where "
             "every weight depends on every score of its row through the shared normalizer "
             "— so a score's gradient is not its weight's gradient times its weight alone. "
             "With one position the weight is always 1: nothing can flow to the score."),
    Exercise(
        id="w13_attention_decoder_step", function="attention_decoder_step",
        uses=("w13_additive_attention",),
        reference=f"{REFERENCE}:attention_decoder_step", make_cases=_decoder_step_cases,
        points=3, framework="torch", outputs=("logits", "new_state", "weights"),
        hidden="answers.hidden.week13:attention_decoder_step",
        see="course/week13-seq2seq.ipynb §3 Additive attention",
        hint="follow the order of Bahdanau's decoder: which state asks the question (the "
             "one before or after this step's cell?), what the cell reads and in which "
             "order its input is concatenated, and what the output layer reads. Compare "
             "the weights output first: if they differ, the query is wrong; if only the "
             "logits differ, look at the output layer's input."),
    Exercise(
        id="w13_sequence_loss", function="sequence_loss",
        reference=f"{REFERENCE}:sequence_loss", make_cases=_sequence_loss_cases, points=2,
        framework="torch",
        hidden="answers.hidden.week13:sequence_loss",
        see="course/week13-seq2seq.ipynb §4 Training both models on the same budget",
        hint="decide what one unit of the average is: every real target token counts once, "
             "so a long sequence weighs more than a short one, and padding positions count "
             "for nothing whatever their logits say (and whatever the padding id is). "
             "Take log-probabilities in one stable step: confident logits turn a "
             "probability into exactly 0."),
    Exercise(
        id="w13_beam_search_step", function="beam_search_step",
        reference=f"{REFERENCE}:beam_search_step", make_cases=_beam_cases, points=3,
        framework="torch", outputs=("scores", "parents", "tokens"),
        hidden="answers.hidden.week13:beam_search_step",
        see="course/week13-seq2seq.ipynb §5 Greedy decoding and beam search",
        hint="a hypothesis' score is the log-probability of the whole sequence, so the "
             "extensions of all beams compete together (a beam may supply several survivors "
             "or none), and scores stay in log space: the probability of a long sequence is "
             "far below the smallest float. Recover a candidate's beam and token from its "
             "position in the flattened candidate list."),
)
