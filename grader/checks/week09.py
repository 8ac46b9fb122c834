"""Week 9 checks: vanilla RNN and LSTM layers, and the temporal output layer and loss.

Cases are small (a few examples, steps and units) and non-square on purpose (``D ≠ H``,
``N ≠ T``), so a transposed weight or a swapped axis fails loudly. Each sequence case has a
non-zero initial state (a forgotten ``h0`` shows) and the backward cases include a gradient
arriving at the *last* step only, which is zero unless the gradient flows back through time.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week09"
HIDDEN = "answers.hidden.week09"
LECTURE = "course/week09-rnn.ipynb"


def _rnn_weights(rng: np.random.Generator, d: int, h: int, gates: int = 1,
                 scale: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (scale * rng.normal(size=(d, gates * h)), scale * rng.normal(size=(h, gates * h)),
            scale * rng.normal(size=gates * h))


# Shapes (N, D, H): non-square, a batch of one, a single unit; "saturated" uses large weights.
_STEP_SHAPES = [("random 3 examples, D=4, H=5", 3, 4, 5, 0.5),
                ("a batch of one, D=2, H=3", 1, 2, 3, 0.5),
                ("a single hidden unit, D=3, H=1", 4, 3, 1, 0.5),
                ("saturated units (large weights)", 3, 4, 2, 3.0)]
# Sequence shapes (N, T, D, H).
_SEQ_SHAPES = [("random 2 examples, 5 steps, D=3, H=4", 2, 5, 3, 4),
               ("a single step (T=1)", 3, 1, 2, 3),
               ("a batch of one, 6 steps", 1, 6, 2, 2)]


def _rnn_step_cases(rng: np.random.Generator, backward: bool = False) -> list[Case]:
    cases = []
    for name, n, d, h, scale in _STEP_SHAPES:
        args = (rng.normal(size=(n, d)), rng.normal(size=(n, h)),
                *_rnn_weights(rng, d, h, scale=scale))
        cases.append(Case(name, ((rng.normal(size=(n, h)),) if backward else ()) + args))
    return cases


def _rnn_seq_cases(rng: np.random.Generator, backward: bool = False) -> list[Case]:
    cases = []
    for name, n, steps, d, h in _SEQ_SHAPES:
        args = (rng.normal(size=(n, steps, d)), rng.normal(size=(n, h)), *_rnn_weights(rng, d, h))
        cases.append(Case(name, ((rng.normal(size=(n, steps, h)),) if backward else ()) + args))
    if backward:
        dh = np.zeros((2, 6, 3))
        dh[:, -1] = rng.normal(size=(2, 3))
        cases.append(Case("gradient at the last step only (must flow back in time)",
                          (dh, rng.normal(size=(2, 6, 4)), rng.normal(size=(2, 3)),
                           *_rnn_weights(rng, 4, 3, scale=0.8))))
    return cases


def _truncated_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name, n, steps, d, h, window in [
            ("7 steps in windows of 3 (the last window is shorter)", 2, 7, 3, 4, 3),
            ("6 steps in windows of 2", 3, 6, 2, 3, 2),
            ("windows of one step", 2, 4, 3, 2, 1),
            ("a window longer than the sequence (full BPTT)", 2, 4, 3, 2, 10)]:
        cases.append(Case(name, (rng.normal(size=(n, steps, h)), rng.normal(size=(n, steps, d)),
                                 rng.normal(size=(n, h)), *_rnn_weights(rng, d, h, scale=0.7),
                                 window)))
    n, steps, d, h = 2, 3, 3, 2
    cases.append(Case("window 0: refused", (rng.normal(size=(n, steps, h)),
                                            rng.normal(size=(n, steps, d)),
                                            rng.normal(size=(n, h)), *_rnn_weights(rng, d, h), 0),
                      raises=ValueError, reason="a window must hold at least one step"))
    return cases


def _lstm_step_cases(rng: np.random.Generator, backward: bool = False) -> list[Case]:
    cases = []
    for name, n, d, h, scale in _STEP_SHAPES:
        args = (rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h)),
                *_rnn_weights(rng, d, h, gates=4, scale=scale))
        upstream = (rng.normal(size=(n, h)), rng.normal(size=(n, h))) if backward else ()
        cases.append(Case(name, upstream + args))
    if backward:
        n, d, h = 2, 3, 4
        cases.append(Case("no gradient on next_c from above (dnext_c = 0)",
                          (rng.normal(size=(n, h)), np.zeros((n, h)), rng.normal(size=(n, d)),
                           rng.normal(size=(n, h)), rng.normal(size=(n, h)),
                           *_rnn_weights(rng, d, h, gates=4))))
    return cases


def _lstm_seq_cases(rng: np.random.Generator, backward: bool = False) -> list[Case]:
    cases = []
    for name, n, steps, d, h in _SEQ_SHAPES:
        args = (rng.normal(size=(n, steps, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h)),
                *_rnn_weights(rng, d, h, gates=4))
        cases.append(Case(name, ((rng.normal(size=(n, steps, h)),) if backward else ()) + args))
    if backward:
        dh = np.zeros((2, 6, 3))
        dh[:, -1] = rng.normal(size=(2, 3))
        cases.append(Case("gradient at the last step only (must flow back in time)",
                          (dh, rng.normal(size=(2, 6, 4)), rng.normal(size=(2, 3)),
                           rng.normal(size=(2, 3)), *_rnn_weights(rng, 4, 3, gates=4,
                                                                  scale=0.8))))
    return cases


def _temporal_affine_cases(rng: np.random.Generator, backward: bool = False) -> list[Case]:
    cases = []
    for name, n, steps, d, m in [("2 examples, 5 steps, D=4, M=3", 2, 5, 4, 3),
                                 ("a single step (T=1)", 3, 1, 2, 5),
                                 ("square weights (D=M=3), N=T=3", 3, 3, 3, 3)]:
        args = (rng.normal(size=(n, steps, d)), rng.normal(size=(d, m)), rng.normal(size=m))
        cases.append(Case(name, ((rng.normal(size=(n, steps, m)),) if backward else ()) + args))
    return cases


def random_mask(rng: np.random.Generator, n: int, steps: int, keep: float) -> np.ndarray:
    """A mask (n, steps) with ``round(keep · n · steps)`` kept positions, placed at random.

    The count is fixed, not drawn, so that a case catches the same mistakes under every seed
    (the partial credit does not depend on the draw): at least one position kept and one
    dropped (dividing by every position, or masking the loss but not the gradient, always
    shows), and never exactly ``n`` kept (dividing by the batch size instead of the kept
    count always shows)."""
    total = n * steps
    count = int(np.clip(round(keep * total), 1, total - 1))
    if count == n:
        count = count + 1 if count + 1 < total else count - 1
    flat = np.zeros(total, dtype=bool)
    flat[:count] = True
    return rng.permutation(flat).reshape(n, steps)


def _temporal_loss_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, steps: int, vocab: int, keep: np.ndarray | float,
             scale: float = 1.0, least_likely: bool = False) -> Case:
        mask = keep if isinstance(keep, np.ndarray) else random_mask(rng, n, steps, keep)
        scores = scale * rng.normal(size=(n, steps, vocab))
        # least_likely: every target is the lowest score, so no position's loss or gradient
        # vanishes in float64 by chance (a target at the argmax of huge logits gives 0)
        targets = scores.argmin(axis=-1) if least_likely else \
            rng.integers(0, vocab, size=(n, steps))
        return Case(name, (scores, targets, mask))

    padded = np.ones((3, 5), dtype=bool)
    padded[1, 3:] = padded[2, 1:] = False  # sequences of lengths 5, 3 and 1
    return [
        case("every position kept, 2×4 steps, 6 classes", 2, 4, 6, np.ones((2, 4), bool)),
        case("padded sequences of lengths 5, 3, 1", 3, 5, 4, padded),
        case("random mask, 4×6 steps", 4, 6, 5, 0.5),
        case("huge logits (scale 1000), every target the least likely class", 2, 3, 4, 0.7,
             scale=1000.0, least_likely=True),
        case("nothing kept (loss and gradient 0)", 2, 2, 3, np.zeros((2, 2), bool)),
    ]


register(
    Exercise(
        id="w09_rnn_step_forward", function="rnn_step_forward",
        reference=f"{REFERENCE}:rnn_step_forward", make_cases=_rnn_step_cases, points=1,
        see=f"{LECTURE} §1 Recurrence: one set of weights, unrolled in time",
        hint="one affine map of the input and one of the previous state, added, then the "
             "nonlinearity; the non-square cases (D ≠ H) show which matrix goes with which "
             "input and on which side it multiplies."),
    Exercise(
        id="w09_rnn_step_backward", function="rnn_step_backward",
        uses=("w09_rnn_step_forward",),
        reference=f"{REFERENCE}:rnn_step_backward",
        make_cases=lambda rng: _rnn_step_cases(rng, backward=True), points=2,
        outputs=("dx", "dprev_h", "dWx", "dWh", "db"),
        see=f"{LECTURE} §2 Backpropagation through time",
        hint="go back through the nonlinearity first (its derivative is easiest in terms of its "
             "output, not its input), then through one affine map; the weights are shared by "
             "the batch, so their gradients collect from every example."),
    Exercise(
        id="w09_rnn_forward", function="rnn_forward", reference=f"{REFERENCE}:rnn_forward",
        uses=("w09_rnn_step_forward",),
        make_cases=_rnn_seq_cases, points=1,
        see=f"{LECTURE} §1 Recurrence: one set of weights, unrolled in time",
        hint="the recurrence starts from the given initial state, and position t of the "
             "output is the state after reading input t; each step feeds on the previous "
             "step's output."),
    Exercise(
        id="w09_rnn_backward", function="rnn_backward", reference=f"{REFERENCE}:rnn_backward",
        uses=("w09_rnn_forward", "w09_rnn_step_backward"),
        make_cases=lambda rng: _rnn_seq_cases(rng, backward=True), points=3,
        outputs=("dx", "dh0", "dWx", "dWh", "db"),
        see=f"{LECTURE} §2 Backpropagation through time",
        hint="a state receives gradient from two places — from above at its own step and from "
             "the next step — and both must be combined before going through that step; the "
             "shared weights collect over time. The last-step-only case shows whether your "
             "gradient travels back in time."),
    Exercise(
        id="w09_rnn_truncated_backward", function="rnn_truncated_backward",
        uses=("w09_rnn_forward", "w09_rnn_backward"),
        reference=f"{REFERENCE}:rnn_truncated_backward", make_cases=_truncated_cases, points=2,
        hidden=f"{HIDDEN}:rnn_truncated_backward",
        outputs=("dx", "dh0", "dWx", "dWh", "db"), see=f"{LECTURE} §6 Truncated BPTT",
        hint="forward, the state is carried across window boundaries; backward, nothing crosses "
             "them, and the windows' weight gradients add up. The uneven-window and "
             "longer-than-the-sequence cases test the edges of that bookkeeping."),
    Exercise(
        id="w09_lstm_step_forward", function="lstm_step_forward",
        reference=f"{REFERENCE}:lstm_step_forward", make_cases=_lstm_step_cases, points=2,
        outputs=("next_h", "next_c"),
        see=f"{LECTURE} §4 The LSTM: an additive path for the gradient",
        hint="one affine map gives all four gates; the contract fixes their order and which "
             "nonlinearity each uses (one of them is not a sigmoid); the cell update is "
             "additive and the hidden state reads the squashed cell."),
    Exercise(
        id="w09_lstm_step_backward", function="lstm_step_backward",
        reference=f"{REFERENCE}:lstm_step_backward",
        make_cases=lambda rng: _lstm_step_cases(rng, backward=True), points=3,
        outputs=("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"), hidden=f"{HIDDEN}:lstm_step",
        see=f"{LECTURE} §4 The LSTM: an additive path for the gradient",
        hint="the new cell state is used twice (it leaves the step and it makes the hidden "
             "state), so its total gradient has two parts; then the product rule at the cell "
             "update gives each gate's share. The dnext_c = 0 case isolates the path through "
             "h; the assignment's numerical check tells you which output is off."),
    Exercise(
        id="w09_lstm_forward", function="lstm_forward", reference=f"{REFERENCE}:lstm_forward",
        uses=("w09_lstm_step_forward",),
        make_cases=_lstm_seq_cases, points=2, outputs=("h", "c"),
        see=f"{LECTURE} §4 The LSTM: an additive path for the gradient",
        hint="two states travel from step to step, both starting from the values given; "
             "return the hidden and the cell states after every step."),
    Exercise(
        id="w09_lstm_backward", function="lstm_backward", reference=f"{REFERENCE}:lstm_backward",
        uses=("w09_lstm_forward", "w09_lstm_step_backward"),
        make_cases=lambda rng: _lstm_seq_cases(rng, backward=True), points=3,
        outputs=("dx", "dh0", "dc0", "dWx", "dWh", "db"),
        see=f"{LECTURE} §4 The LSTM: an additive path for the gradient",
        hint="as for the RNN, but two gradients travel back in time, one per state; nothing "
             "arrives on the last cell state from outside, and the shared weights collect over "
             "time."),
    Exercise(
        id="w09_temporal_affine_forward", function="temporal_affine_forward",
        reference=f"{REFERENCE}:temporal_affine_forward",
        make_cases=_temporal_affine_cases, points=1,
        see=f"{LECTURE} §7 A loss over padded sequences, and perplexity",
        hint="the same affine layer applied at every step of every sequence; the output keeps "
             "the batch and time axes in place (the T = 1 and square cases catch reshapes that "
             "mix them)."),
    Exercise(
        id="w09_temporal_affine_backward", function="temporal_affine_backward",
        reference=f"{REFERENCE}:temporal_affine_backward",
        make_cases=lambda rng: _temporal_affine_cases(rng, backward=True), points=2,
        outputs=("dx", "dw", "db"),
        see=f"{LECTURE} §7 A loss over padded sequences, and perplexity",
        hint="parameters shared by every step and every example collect gradient from all of "
             "them; the input's gradient keeps its (N, T, D) layout."),
    Exercise(
        id="w09_temporal_softmax_loss", function="temporal_softmax_loss",
        reference=f"{REFERENCE}:temporal_softmax_loss", make_cases=_temporal_loss_cases,
        points=2, outputs=("loss", "dscores"), hidden=f"{HIDDEN}:temporal_softmax_loss",
        see=f"{LECTURE} §7 A loss over padded sequences, and perplexity",
        hint="the average runs over the real positions only, and padded positions get no "
             "gradient; the huge-logit case tests the decision on the log-softmax (exact for "
             "confidently wrong scores, no inf, nan or clipping), the nothing-kept case the "
             "guard."),
)
