"""Week 11 checks: language-model batching, perplexity, sampling, Kneser–Ney, a tied LSTM LM.

Batching cases use token ids equal to their position (``0, 1, 2, …``) mixed with random
streams: with positions as ids a wrong layout is obvious in the failure message's shapes, and
random ids catch code that only works on sorted input. Lengths that do not divide evenly, a
last BPTT window shorter than the others and a batch of one are always among the cases.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week11"


def _batchify_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("24 tokens into 4 columns (divides evenly)", (np.arange(24), 4)),
        Case("27 random tokens into 4 columns (3 left over, dropped)",
             (rng.integers(0, 50, size=27), 4)),
        Case("10 tokens into 3 columns", (np.arange(10) * 7 % 11, 3)),
        Case("a single column (batch size 1)", (rng.integers(0, 9, size=8), 1)),
        Case("as many columns as tokens (one row)", (np.arange(5), 5)),
    ]


def _get_batch_cases(rng: np.random.Generator) -> list[Case]:
    source = np.arange(30).reshape(3, 10).T          # (10, 3): columns are contiguous text
    random = rng.integers(0, 100, size=(9, 2))
    return [
        Case("first window (i=0, bptt=4) of a 10×3 source", (source, 0, 4)),
        Case("a window in the middle (i=4, bptt=3)", (source, 4, 3)),
        Case("the last window is shorter (i=8, bptt=4: 1 row left)", (source, 8, 4)),
        Case("window of one step (bptt=1), random ids", (random, 3, 1)),
        Case("window longer than the source (i=0, bptt=35)", (random, 0, 35)),
    ]


def _perplexity_cases(rng: np.random.Generator) -> list[Case]:
    uniform = np.zeros((4, 3, 7))
    confident = -20.0 * np.ones((5, 6))
    targets = rng.integers(0, 6, size=5)
    confident[np.arange(5), targets] = 20.0
    return [
        Case("random logits (L=3, B=2, V=5)", (rng.normal(size=(3, 2, 5)),
                                               rng.integers(0, 5, size=(3, 2)))),
        Case("2-D logits (8 tokens, V=6)", (2 * rng.normal(size=(8, 6)),
                                            rng.integers(0, 6, size=8))),
        Case("uniform scores over 7 words (perplexity 7)", (uniform,
                                                            rng.integers(0, 7, size=(4, 3)))),
        Case("confident and right (perplexity ≈ 1)", (confident, targets)),
        Case("huge logits (all near 1000)", (1000 + rng.normal(size=(2, 2, 4)),
                                             rng.integers(0, 4, size=(2, 2)))),
        Case("a single token", (rng.normal(size=(1, 1, 3)), np.array([[2]]))),
    ]


def _sampling_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("one distribution, temperature 1", (rng.normal(size=6), 1.0)),
        Case("a batch of 3, temperature 0.5 (sharper)", (rng.normal(size=(3, 5)), 0.5)),
        Case("temperature 2 (flatter)", (2 * rng.normal(size=(2, 4)), 2.0)),
        Case("temperature 0.01 (almost arg-max; overflows without the max trick)",
             (10 * rng.normal(size=(2, 6)), 0.01)),
        Case("huge logits (all near 1000)", (1000 + rng.normal(size=5), 1.0)),
    ]


def _bigram_counts(rng: np.random.Generator, vocab: int, length: int) -> np.ndarray:
    text = rng.integers(0, vocab, size=length)
    counts = np.zeros((vocab, vocab))
    np.add.at(counts, (text[:-1], text[1:]), 1)
    return counts


def _kneser_ney_cases(rng: np.random.Generator) -> list[Case]:
    skewed = _bigram_counts(rng, 6, 40)
    skewed[2] = 0                      # word 2 never starts a bigram: an unseen context
    skewed[:, 4] = 0
    skewed[5, 4] = 9                   # word 4 is frequent but follows only word 5
    one_follower = np.zeros((4, 4))
    one_follower[0, 1] = 3
    one_follower[1, 2] = 1
    one_follower[2, 0] = 2
    return [
        Case("counts of a random text (V=5), d=0.75", (_bigram_counts(rng, 5, 30), 0.75)),
        Case("an unseen context and a frequent word with one predecessor", (skewed, 0.75)),
        Case("discount 1", (_bigram_counts(rng, 4, 25), 1.0)),
        Case("contexts with a single follower (V=4), d=0.5", (one_follower, 0.5)),
    ]


def _tied_lm_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, steps: int, batch: int, vocab: int, hidden: int) -> Case:
        return Case(name, (rng.integers(0, vocab, size=(steps, batch)),
                           0.5 * rng.normal(size=(vocab, hidden)),
                           0.5 * rng.normal(size=(hidden, 4 * hidden)),
                           0.5 * rng.normal(size=(hidden, 4 * hidden)),
                           0.5 * rng.normal(size=4 * hidden), rng.normal(size=vocab)))

    return [
        case("4 steps, batch 2, V=7, H=3", 4, 2, 7, 3),
        case("a single step (L=1), batch 3", 1, 3, 6, 2),
        case("a batch of one, 5 steps", 5, 1, 5, 4),
        case("6 steps, batch 3, V=9, H=2", 6, 3, 9, 2),
    ]


def _sgd_step_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name, steps, batch, vocab, hidden, lr, max_norm in [
            ("4 steps, batch 2, clipping active (max_norm 0.1)", 4, 2, 7, 3, 1.0, 0.1),
            ("no clipping needed (max_norm 100)", 3, 2, 6, 2, 0.5, 100.0),
            ("a batch of one, lr 20, max_norm 0.25", 5, 1, 5, 4, 20.0, 0.25),
            ("a single step (L=1), batch 3", 1, 3, 8, 3, 2.0, 0.5)]:
        ids = rng.integers(0, vocab, size=(steps + 1, batch))
        cases.append(Case(name, (ids[:-1], ids[1:], 0.5 * rng.normal(size=(vocab, hidden)),
                                 0.5 * rng.normal(size=(hidden, 4 * hidden)),
                                 0.5 * rng.normal(size=(hidden, 4 * hidden)),
                                 0.5 * rng.normal(size=4 * hidden), rng.normal(size=vocab),
                                 lr, max_norm)))
    return cases


register(
    Exercise(
        id="w11_batchify", function="batchify", reference=f"{REFERENCE}:batchify",
        make_cases=_batchify_cases, points=2,
        hint="drop the last len(ids) % batch_size tokens, reshape to (batch_size, rows) so that "
             "each *row* of that array is a contiguous stretch of text, then transpose: the "
             "result is (rows, batch_size) and column j reads text in order."),
    Exercise(
        id="w11_get_batch", function="get_batch", reference=f"{REFERENCE}:get_batch",
        make_cases=_get_batch_cases, points=2,
        hint="length L = min(bptt, len(source) - 1 - i): the last input row must still have a "
             "next row to predict. inputs = source[i:i+L], targets = source[i+1:i+1+L] (time "
             "stays the first axis)."),
    Exercise(
        id="w11_perplexity", function="perplexity", reference=f"{REFERENCE}:perplexity",
        make_cases=_perplexity_cases, points=2,
        hint="flatten to (tokens, V), take a stable log-softmax (subtract the row max), pick "
             "each target's log-probability, average the negative log-likelihood over all "
             "tokens, and only then exponentiate."),
    Exercise(
        id="w11_sample_probs", function="sample_next_word_probs",
        reference=f"{REFERENCE}:sample_next_word_probs", make_cases=_sampling_cases, points=1,
        hint="divide the logits by the temperature *before* the softmax, subtract the max "
             "over the last axis, and normalise over the last axis."),
    Exercise(
        id="w11_kneser_ney", function="kneser_ney_bigram_probs",
        reference=f"{REFERENCE}:kneser_ney_bigram_probs", make_cases=_kneser_ney_cases,
        points=3,
        hint="P_cont(w) counts the *distinct* words before w (columns of counts > 0), divided "
             "by the number of distinct bigrams; λ(v) = d · (distinct followers of v) / c(v); "
             "clip c(v, w) - d at 0; a context with c(v) = 0 gets P_cont. Each row sums to 1."),
    Exercise(
        id="w11_tied_lm", function="tied_lstm_lm_logits",
        reference=f"{REFERENCE}:tied_lstm_lm_logits", make_cases=_tied_lm_cases, points=3,
        framework="torch", rtol=1e-6, atol=1e-8,
        hint="look the words up (embedding[ids], (L, B, H)), run the LSTM cell step by step "
             "from zero h and c, carrying *both* to the next step (gates i, f, g, o), and score "
             "with the transposed embedding: h @ embedding.T + decoder_bias."),
    Exercise(
        id="w11_sgd_step", function="tied_lm_sgd_step",
        reference=f"{REFERENCE}:tied_lm_sgd_step", make_cases=_sgd_step_cases, points=3,
        framework="torch", rtol=1e-5, atol=1e-8,
        hint="clone the weights as leaf tensors with requires_grad, use the *same* embedding "
             "tensor for the look-up and the decoder, take the mean cross-entropy over all "
             "L×B targets, backward, then clip the norm of *all* gradients together "
             "(torch.nn.utils.clip_grad_norm_(params, max_norm)) before p - lr * p.grad."),
)
