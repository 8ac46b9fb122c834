"""Week 11 checks: language-model batching, perplexity, sampling, Kneser–Ney, a tied LSTM LM,
its training step with clipping, and the plateau rule of the learning-rate schedule.

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
    wrong = confident.copy()
    wrong[2, targets[2]], wrong[2, (targets[2] + 1) % 6] = -20.0, 20.0
    return [
        Case("random logits (L=3, B=2, V=5)", (rng.normal(size=(3, 2, 5)),
                                               rng.integers(0, 5, size=(3, 2)))),
        Case("2-D logits (8 tokens, V=6)", (2 * rng.normal(size=(8, 6)),
                                            rng.integers(0, 6, size=8))),
        Case("uniform scores over 7 words (perplexity 7)", (uniform,
                                                            rng.integers(0, 7, size=(4, 3)))),
        Case("confident and right (perplexity ≈ 1)", (confident, targets)),
        Case("confident and wrong on one token (its probability ≈ 4e-18)", (wrong, targets)),
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


def _predecessors_differ(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """``counts`` with one bigram removed if every word has as many distinct predecessors as
    distinct followers.

    In a small random table the two counts often coincide for every word, and then counting
    the continuation over the wrong axis passes by chance; removing one bigram ``(v, w)``
    with ``v ≠ w`` (drawn among the seen ones) leaves ``v`` one follower short, so that
    mistake fails the case under every seed (the partial credit does not depend on the
    draw)."""
    seen = counts > 0
    if np.any(seen.sum(axis=0) != seen.sum(axis=1)):
        return counts
    rows, cols = np.nonzero(seen & ~np.eye(len(counts), dtype=bool))
    if len(rows) == 0:  # only repeated words: nothing to remove that would change a count
        return counts
    pick = rng.integers(len(rows))
    counts = counts.copy()
    counts[rows[pick], cols[pick]] = 0
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
        Case("counts of a random text (V=5), d=0.75",
             (_predecessors_differ(rng, _bigram_counts(rng, 5, 30)), 0.75)),
        Case("an unseen context and a frequent word with one predecessor", (skewed, 0.75)),
        Case("discount 1", (_predecessors_differ(rng, _bigram_counts(rng, 4, 25)), 1.0)),
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


def plateau_case(name: str, valid: list[float], lr: float = 20.0, factor: float = 4.0,
                 threshold: float = 0.01, patience: int = 0) -> Case:
    """A ``w11_plateau_lr`` case: a validation history and the schedule's settings."""
    return Case(name, (np.array(valid, dtype=float), lr, factor, threshold, patience))


#: Relative changes of a validation perplexity, per kind of epoch (see :func:`noisy_history`).
_EPOCHS = {
    "gain": (-0.08, -0.03),    # at least 3 % below the best so far: improves under any rule
    "small": (-0.006, -0.001),  # below the best, but by under 1 %: not an improvement
    "worse": (0.04, 0.10),     # above the best: not an improvement
    "recover": (0.002, 0.01),  # after "worse": ≥ 2.9 % below it, still above the best
}


def noisy_history(rng: np.random.Generator, start: float, epochs: list[str]) -> list[float]:
    """A validation history with random values and its events at fixed epochs.

    The first value is ``start``; each later epoch is the best so far times ``1 + u`` with
    ``u`` drawn in the range of its kind (:data:`_EPOCHS`), rounded to 2 decimals. Which
    epochs improve under the correct rule (threshold 0.01), and which would under a
    plausible mistake, is fixed by ``epochs``, not by the draw: a "small" gain is an
    improvement only for an absolute threshold (it is far more than 0.01), a "recover"
    epoch only when compared with the previous epoch. So a mistake fails the case under
    every seed or under none, and its partial credit does not depend on the draw."""
    history, best = [start], start
    for kind in epochs:
        low, high = _EPOCHS[kind]
        history.append(round(best * (1 + rng.uniform(low, high)), 2))
        best = min(best, history[-1])
    return history


def _plateau_cases(rng: np.random.Generator) -> list[Case]:
    steady = 300 * 0.9 ** np.arange(8)
    return [
        plateau_case("steady progress of 10 % per epoch: the rate never changes", list(steady)),
        plateau_case("a plateau: gains under 1 % divide the rate by 4",
                     [250.0, 180.0, 150.0, 149.0, 148.5, 140.0, 139.9, 139.8]),
        plateau_case("a worse epoch, then a partial recovery (best so far vs previous epoch)",
                     [200.0, 150.0, 170.0, 160.0, 152.0, 140.0]),
        plateau_case("a gain of exactly the threshold counts (200 → 150 at 25 %)",
                     [200.0, 150.0, 112.5, 100.0], lr=1.0, factor=2.0, threshold=0.25),
        plateau_case("patience 2: two epochs without gain are tolerated",
                     [120.0, 119.5, 119.0, 118.9, 118.0, 117.9, 117.8, 90.0], patience=2),
        plateau_case("threshold 0: decay only when validation gets no better",
                     [130.0, 125.0, 125.0, 126.0, 124.9], threshold=0.0),
        plateau_case("perplexities near 10,000: the threshold is relative",
                     list(10_000 - 60 * np.arange(6)) + [9000.0], lr=0.5, factor=10.0),
        # a worse epoch and a partial recovery (a decay), then two gains under 1 % (a decay)
        plateau_case("a random noisy history, patience 1: a partial recovery and gains under "
                     "1 % are not improvements",
                     noisy_history(rng, round(200 + rng.uniform(0, 15), 2),
                                   ["gain", "worse", "recover", "gain", "small", "small",
                                    "gain", "gain", "gain"]),
                     patience=1),
    ]


register(
    Exercise(
        id="w11_batchify", function="batchify", reference=f"{REFERENCE}:batchify",
        make_cases=_batchify_cases, points=2, hidden="answers.hidden.week11:batchify_cases",
        see="course/week11-language-model.ipynb §3 Batches and BPTT windows",
        hint="this case tests the layout: each *column* must be one contiguous stretch of the "
             "text, so reading down a column reads the text in order, and the tokens that do "
             "not fill a whole row are dropped from the end. Print your result for ids 0…9 "
             "and 3 columns and compare with the assignment's example."),
    Exercise(
        id="w11_get_batch", function="get_batch", reference=f"{REFERENCE}:get_batch",
        make_cases=_get_batch_cases, points=2, outputs=("inputs", "targets"),
        hidden="answers.hidden.week11:get_batch_cases",
        see="course/week11-language-model.ipynb §3 Batches and BPTT windows",
        hint="the targets are the inputs one step later in time (time is axis 0). The failing "
             "case is usually the last window: every input row must still have a next row "
             "to predict, so the window can be shorter than bptt."),
    Exercise(
        id="w11_perplexity", function="perplexity", reference=f"{REFERENCE}:perplexity",
        make_cases=_perplexity_cases, points=2,
        hint="perplexity is the exponential of an *average*: average the negative "
             "log-likelihood over every token first, then exponentiate once. Large or "
             "confident scores need the log-softmax computed the stable way of Week 1, not "
             "the log of a softmax.",
        hidden="answers.hidden.week11:perplexity_cases",
        see="course/week11-language-model.ipynb §2 Perplexity"),
    Exercise(
        id="w11_sample_probs", function="sample_next_word_probs",
        reference=f"{REFERENCE}:sample_next_word_probs", make_cases=_sampling_cases, points=1,
        hidden="answers.hidden.week11:sample_probs_cases",
        see="course/week11-language-model.ipynb §7 Sampling text",
        hint="the temperature rescales the scores, not the probabilities; at low temperature "
             "the rescaled scores are huge, so the softmax must be the overflow-safe one, over "
             "the last axis only (a batch holds one distribution per row)."),
    Exercise(
        id="w11_kneser_ney", function="kneser_ney_bigram_probs",
        reference=f"{REFERENCE}:kneser_ney_bigram_probs", make_cases=_kneser_ney_cases,
        points=3, hidden="answers.hidden.week11:kneser_ney_cases",
        see="course/week11-language-model.ipynb §4 Baseline 1: counting with Kneser–Ney smoothing",
        hint="check each row sums to 1: the weight of the continuation distribution must be "
             "exactly the mass the discount removed from that context's seen bigrams. The "
             "continuation probability counts *distinct* predecessors, not occurrences; a "
             "context never seen has no counts to discount."),
    Exercise(
        id="w11_tied_lm", function="tied_lstm_lm_logits",
        reference=f"{REFERENCE}:tied_lstm_lm_logits", make_cases=_tied_lm_cases, points=3,
        framework="torch", rtol=1e-6, atol=1e-8, hidden="answers.hidden.week11:tied_lm_cases",
        see="course/week11-language-model.ipynb §6 The LSTM language model",
        hint="tying means one matrix plays two roles: the input look-up and the output "
             "scoring (a word's score is the similarity of the hidden state with its "
             "embedding). The state starts at zero and both h and c flow from one time step "
             "to the next; time is the first axis."),
    Exercise(
        id="w11_sgd_step", function="tied_lm_sgd_step",
        uses=("w11_tied_lm",),
        reference=f"{REFERENCE}:tied_lm_sgd_step", make_cases=_sgd_step_cases, points=3,
        framework="torch", rtol=1e-5, atol=1e-8, hidden="answers.hidden.week11:sgd_step_cases",
        outputs=("loss", "embedding", "Wx", "Wh", "b", "decoder_bias"),
        see="course/week11-language-model.ipynb §6 The LSTM language model",
        hint="clipping rescales the *global* norm — all gradients together, one factor for "
             "all — and only when it exceeds max_norm; clipping each tensor separately changes "
             "the direction. The tied embedding must receive the gradients of both its uses; "
             "the loss is the mean over all L×B targets, reported before the update."),
    Exercise(
        id="w11_plateau_lr", function="plateau_schedule",
        reference=f"{REFERENCE}:plateau_schedule", make_cases=_plateau_cases, points=3,
        rtol=1e-12, atol=0.0, hidden="answers.hidden.week11:plateau_cases",
        see="course/week11-language-model.ipynb §6.1 The training recipe",
        hint="this case tests what an epoch is compared with and how: the best validation "
             "perplexity of all *earlier* epochs (not the previous epoch, not including the "
             "current one), a *relative* gain, what happens exactly at the threshold, and "
             "when the count of epochs without gain starts again. Trace the case by hand, "
             "epoch by epoch, writing down best, count and rate."),
)
