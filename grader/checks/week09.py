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


def _temporal_loss_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, steps: int, vocab: int, keep: np.ndarray | float,
             scale: float = 1.0) -> Case:
        mask = keep if isinstance(keep, np.ndarray) else rng.random((n, steps)) < keep
        return Case(name, (scale * rng.normal(size=(n, steps, vocab)),
                           rng.integers(0, vocab, size=(n, steps)), mask))

    padded = np.ones((3, 5), dtype=bool)
    padded[1, 3:] = padded[2, 1:] = False  # sequences of lengths 5, 3 and 1
    return [
        case("every position kept, 2×4 steps, 6 classes", 2, 4, 6, np.ones((2, 4), bool)),
        case("padded sequences of lengths 5, 3, 1", 3, 5, 4, padded),
        case("random mask, 4×6 steps", 4, 6, 5, 0.5),
        case("huge logits (scale 1000)", 2, 3, 4, 0.7, scale=1000.0),
        case("nothing kept (loss and gradient 0)", 2, 2, 3, np.zeros((2, 2), bool)),
    ]


register(
    Exercise(
        id="w09_rnn_step_forward", function="rnn_step_forward",
        reference=f"{REFERENCE}:rnn_step_forward", make_cases=_rnn_step_cases, points=1,
        hint="next_h = tanh(x @ Wx + prev_h @ Wh + b): Wx is (D, H) and Wh is (H, H), both "
             "multiplied from the right."),
    Exercise(
        id="w09_rnn_step_backward", function="rnn_step_backward",
        reference=f"{REFERENCE}:rnn_step_backward",
        make_cases=lambda rng: _rnn_step_cases(rng, backward=True), points=2,
        hint="first da = dnext_h * (1 - next_h**2) with next_h = tanh(a) (not a itself); then "
             "every gradient is a product with da: dx = da @ Wx.T, dWh = prev_h.T @ da, "
             "db = da summed over the batch."),
    Exercise(
        id="w09_rnn_forward", function="rnn_forward", reference=f"{REFERENCE}:rnn_forward",
        make_cases=_rnn_seq_cases, points=1,
        hint="start from h0 (not zeros), and store in h[:, t] the state *after* reading "
             "x[:, t]; each step uses the previous step's state."),
    Exercise(
        id="w09_rnn_backward", function="rnn_backward", reference=f"{REFERENCE}:rnn_backward",
        make_cases=lambda rng: _rnn_seq_cases(rng, backward=True), points=3,
        hint="walk t from T-1 down to 0; the gradient on h[:, t] is dh[:, t] PLUS the gradient "
             "coming back from step t+1 (dprev_h of that step), added *before* the tanh "
             "derivative; the weights' gradients are summed over all steps, and dWh at step 0 "
             "uses h0."),
    Exercise(
        id="w09_rnn_truncated_backward", function="rnn_truncated_backward",
        reference=f"{REFERENCE}:rnn_truncated_backward", make_cases=_truncated_cases, points=2,
        hint="cut the steps into consecutive windows [0, k), [k, 2k), ...; run each window from "
             "the previous window's final state (carried forward, not reset to h0 or zeros), "
             "backpropagate within the window only, and *sum* the weight gradients; dh0 comes "
             "from the first window."),
    Exercise(
        id="w09_lstm_step_forward", function="lstm_step_forward",
        reference=f"{REFERENCE}:lstm_step_forward", make_cases=_lstm_step_cases, points=2,
        hint="a = x @ Wx + prev_h @ Wh + b splits into 4 blocks of H in the order i, f, g, o "
             "(PyTorch's order: g, the candidate, is third and uses tanh; the others sigmoid); "
             "next_c = f*prev_c + i*g and next_h = o*tanh(next_c)."),
    Exercise(
        id="w09_lstm_step_backward", function="lstm_step_backward",
        reference=f"{REFERENCE}:lstm_step_backward",
        make_cases=lambda rng: _lstm_step_cases(rng, backward=True), points=3,
        hint="the cell's total gradient is dnext_c + dnext_h*o*(1 - tanh(next_c)**2); from it "
             "di = dc*g, df = dc*prev_c, dg = dc*i, dprev_c = dc*f, while do = dnext_h*"
             "tanh(next_c); multiply each by its nonlinearity's derivative and stack in the "
             "order i, f, g, o."),
    Exercise(
        id="w09_lstm_forward", function="lstm_forward", reference=f"{REFERENCE}:lstm_forward",
        make_cases=_lstm_seq_cases, points=2,
        hint="return (h, c), both (N, T, H): the states after each step, starting from h0 and "
             "c0 (not zeros), gates in the order i, f, g, o."),
    Exercise(
        id="w09_lstm_backward", function="lstm_backward", reference=f"{REFERENCE}:lstm_backward",
        make_cases=lambda rng: _lstm_seq_cases(rng, backward=True), points=3,
        hint="going back in time carry TWO gradients from step t+1: on h (added to dh[:, t]) "
             "and on c (the next step's dprev_c, passed in as its dnext_c); nothing arrives on "
             "the last cell state; the weights' gradients sum over steps."),
    Exercise(
        id="w09_temporal_affine_forward", function="temporal_affine_forward",
        reference=f"{REFERENCE}:temporal_affine_forward",
        make_cases=_temporal_affine_cases, points=1,
        hint="x @ w + b works directly on (N, T, D) (or reshape to (N*T, D) and back to "
             "(N, T, M) without transposing)."),
    Exercise(
        id="w09_temporal_affine_backward", function="temporal_affine_backward",
        reference=f"{REFERENCE}:temporal_affine_backward",
        make_cases=lambda rng: _temporal_affine_cases(rng, backward=True), points=2,
        hint="the same w and b are used at every step, so dw and db are *sums* over both the "
             "batch and the time axis: reshape x to (N*T, D) and dout to (N*T, M)."),
    Exercise(
        id="w09_temporal_softmax_loss", function="temporal_softmax_loss",
        reference=f"{REFERENCE}:temporal_softmax_loss", make_cases=_temporal_loss_cases,
        points=2,
        hint="average the per-position cross-entropy over the KEPT positions only (divide by "
             "mask.sum(), or 1 if it is 0), use a stable log-softmax, and zero the gradient "
             "where the mask is False."),
)
