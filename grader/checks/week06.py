"""Week 6 checks: weight decay, dropout, batch and layer normalization, maxout, early stopping.

Beyond random inputs, the cases exercise what the lecture warns about: evaluation mode
(dropout is the identity, batch norm uses the running statistics), ``p = 0``, a batch of
two (the unbiased variance doubles the biased one), a constant feature (variance 0: only
``eps`` keeps it finite), features far from zero, non-square feature maps, ties in a
validation curve, and improvements smaller than ``min_delta``. The hidden generators
(:mod:`answers.hidden.week06`) add what the public cases do not: offsets of 1e6, ties at
non-zero noise values, losses far from 1, curves that end before the patience runs out.
The noisy validation curve improves at fixed epochs (only its values are drawn), so a
mistake about the patience counter fails it under every seed.

Hints name the idea a failing case tests and the usual mistake, never the formula; ``see``
points at the lecture section.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week06"
HIDDEN = "answers.hidden.week06"
LECTURE = "course/week06-regularization.ipynb"


# --------------------------------------------------------------------------------------
# L2 and dropout
# --------------------------------------------------------------------------------------
def _l2_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("weight matrix 5×4, reg 0.1", (rng.normal(size=(5, 4)), 0.1)),
        Case("conv filters 3×2×3×3, reg 1e-3", (rng.normal(size=(3, 2, 3, 3)), 1e-3)),
        Case("reg 0 (no penalty)", (rng.normal(size=(4, 3)), 0.0)),
        Case("a single weight, reg 2", (rng.normal(size=(1, 1)), 2.0)),
        Case("large weights, reg 0.5", (100 * rng.normal(size=(6, 2)), 0.5)),
    ]


def _dropout_settings(rng: np.random.Generator) -> list[tuple[str, tuple[int, ...], float, bool]]:
    return [
        ("train, p = 0.5, 4×6", (4, 6), 0.5, True),
        ("train, p = 0.2, 3-D activations 2×3×4", (2, 3, 4), 0.2, True),
        ("train, p = 0.9 (most units dropped)", (5, 8), 0.9, True),
        ("train, p = 0 (nothing dropped, no scaling)", (3, 5), 0.0, True),
        ("eval mode, p = 0.5 (identity)", (4, 6), 0.5, False),
        (f"train, random p = {rng.uniform(0.1, 0.7):.3f}", (6, 3), float(rng.uniform(0.1, 0.7)),
         True),
    ]


def _noise(rng: np.random.Generator, shape: tuple[int, ...], p: float) -> np.ndarray:
    u = rng.random(shape)
    u.flat[0] = p  # noise exactly at p: kept (u >= p), as in the contract
    return u


def _dropout_forward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, (rng.normal(size=shape), _noise(rng, shape, p), p), {"train": train})
            for name, shape, p, train in _dropout_settings(rng)]


def _dropout_backward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, (rng.normal(size=shape), _noise(rng, shape, p), p), {"train": train})
            for name, shape, p, train in _dropout_settings(rng)]


# --------------------------------------------------------------------------------------
# Normalization
# --------------------------------------------------------------------------------------
def _features(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Features with different means and scales, as real pre-activations have."""
    return rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + rng.normal(size=d)


def _affine_params(rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray]:
    return 1 + 0.5 * rng.normal(size=d), rng.normal(size=d)


def _batchnorm_forward_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x: np.ndarray, train: bool, **kwargs) -> Case:
        d = x.shape[1]
        gamma, beta = _affine_params(rng, d)
        running_mean, running_var = rng.normal(size=d), rng.uniform(0.5, 2, size=d)
        return Case(name, (x, gamma, beta, running_mean, running_var),
                    {"train": train, **kwargs})

    constant = _features(rng, 6, 3)
    constant[:, 1] = 4.0
    return [
        case("train, batch 8 × 5 features", _features(rng, 8, 5), True),
        case("train, batch of 2 (unbiased running var = 2 × biased)", _features(rng, 2, 4), True),
        case("train, momentum 0.3", _features(rng, 10, 3), True, momentum=0.3),
        case("train, a constant feature (variance 0), eps 1e-3", constant, True, eps=1e-3),
        case("train, features around 1000", 1000 + _features(rng, 7, 3), True),
        case("eval mode: running statistics, batch 6 × 4", _features(rng, 6, 4), False),
        case("eval mode, a single example", _features(rng, 1, 5), False),
    ]


def _norm_backward_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x: np.ndarray, **kwargs) -> Case:
        gamma, _ = _affine_params(rng, x.shape[1])
        return Case(name, (rng.normal(size=x.shape), x, gamma), kwargs)

    constant = _features(rng, 6, 3)
    constant[:, 1] = 4.0
    return [
        case("batch 8 × 5 features", _features(rng, 8, 5)),
        case("batch of 2", _features(rng, 2, 4)),
        case("a constant column, eps 1e-3", constant, eps=1e-3),
        case("values around 1000", 1000 + _features(rng, 7, 3)),
        case("tall batch 16 × 2", _features(rng, 16, 2)),
        case("wide 3 × 12", _features(rng, 3, 12)),
    ]


def _layernorm_forward_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x: np.ndarray, **kwargs) -> Case:
        return Case(name, (x, *_affine_params(rng, x.shape[1])), kwargs)

    constant = _features(rng, 4, 6)
    constant[2] = -3.0
    return [
        case("batch 6 × 8 features", _features(rng, 6, 8)),
        case("a single example (no batch statistics needed)", _features(rng, 1, 5)),
        case("a constant example (variance 0), eps 1e-3", constant, eps=1e-3),
        case("values around 1000", 1000 + _features(rng, 5, 4)),
        case("tall batch 12 × 3", _features(rng, 12, 3)),
    ]


def _feature_maps(rng: np.random.Generator, shape: tuple[int, int, int, int]) -> np.ndarray:
    """Feature maps whose channels have different means and scales."""
    c = shape[1]
    return (rng.normal(size=shape) * rng.uniform(0.5, 3, size=(1, c, 1, 1))
            + rng.normal(size=(1, c, 1, 1)))


def _spatial_batchnorm_forward_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x: np.ndarray, train: bool, **kwargs) -> Case:
        c = x.shape[1]
        gamma, beta = _affine_params(rng, c)
        running_mean, running_var = rng.normal(size=c), rng.uniform(0.5, 2, size=c)
        return Case(name, (x, gamma, beta, running_mean, running_var),
                    {"train": train, **kwargs})

    constant = _feature_maps(rng, (3, 3, 4, 4))
    constant[:, 2] = -2.0
    return [
        case("train, batch 4 × 3 channels × 5 × 5", _feature_maps(rng, (4, 3, 5, 5)), True),
        case("train, non-square maps 2 × 3 × 4 × 6", _feature_maps(rng, (2, 3, 4, 6)), True),
        case("train, momentum 0.3, 5 channels", _feature_maps(rng, (3, 5, 3, 3)), True,
             momentum=0.3),
        case("train, a constant channel (variance 0), eps 1e-3", constant, True, eps=1e-3),
        case("eval mode: running statistics, 2 × 4 × 3 × 5", _feature_maps(rng, (2, 4, 3, 5)),
             False),
    ]


def _spatial_batchnorm_backward_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, x: np.ndarray, **kwargs) -> Case:
        gamma, _ = _affine_params(rng, x.shape[1])
        return Case(name, (rng.normal(size=x.shape), x, gamma), kwargs)

    constant = _feature_maps(rng, (3, 2, 3, 3))
    constant[:, 0] = 4.0
    return [
        case("batch 4 × 3 channels × 5 × 5", _feature_maps(rng, (4, 3, 5, 5))),
        case("non-square maps 2 × 3 × 4 × 6", _feature_maps(rng, (2, 3, 4, 6))),
        case("a constant channel, eps 1e-3", constant, eps=1e-3),
        case("a single channel, batch 5 × 1 × 2 × 3", _feature_maps(rng, (5, 1, 2, 3))),
    ]


# --------------------------------------------------------------------------------------
# Maxout and early stopping
# --------------------------------------------------------------------------------------
def _maxout_shapes() -> list[tuple[str, int, int, int, int]]:
    return [
        ("batch 5, 4 inputs, 3 units of 2 pieces", 5, 4, 3, 2),
        ("3 pieces per unit", 4, 3, 2, 3),
        ("1 piece per unit (a plain affine layer)", 3, 4, 3, 1),
        ("a single example", 1, 6, 4, 2),
        ("wide: 8 units of 4 pieces", 6, 5, 8, 4),
    ]


def _maxout_forward_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(name, (rng.normal(size=(n, d)), rng.normal(size=(d, h, k)),
                        rng.normal(size=(h, k))))
            for name, n, d, h, k in _maxout_shapes()]


def _bias_decides(rng: np.random.Generator, x: np.ndarray, w: np.ndarray,
                  b: np.ndarray) -> np.ndarray:
    """``b`` with unit 0's biases set so that, for example 0, the bias changes which piece
    wins: a winner chosen without the bias always shows, under every draw (with drawn
    biases it did in some draws only). Needs 2 pieces or more."""
    pre = np.einsum("nd,dhk->nhk", x[:1], w)[0, 0]  # example 0, unit 0, every piece
    first = int(pre.argmax())
    other = int(rng.choice([piece for piece in range(len(pre)) if piece != first]))
    b = b.copy()
    b[0, first] = 0.0
    b[0, other] = pre[first] - pre[other] + rng.uniform(0.5, 1.5)
    return b


def _maxout_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name, n, d, h, k in _maxout_shapes():
        dout, x = rng.normal(size=(n, h)), rng.normal(size=(n, d))
        w, b = rng.normal(size=(d, h, k)), rng.normal(size=(h, k))
        cases.append(Case(name, (dout, x, w, _bias_decides(rng, x, w, b) if k > 1 else b)))
    return cases


def _noisy_curve(rng: np.random.Generator, pattern: str, start: float = 1.0) -> np.ndarray:
    """A validation curve that improves exactly at the epochs marked ``+`` in ``pattern``.

    A ``+`` epoch is below the best so far by a random 3–20 %; a ``-`` epoch is above it by
    a random 0.5–10 % (noise, never a tie). The values are drawn, the epochs at which the
    curve improves, plateaus and runs out of patience are not: a mistake about the counter
    fails this curve under every seed (a curve of ``start + noise`` stopped, or not, at
    epochs that depended on the draw).
    """
    best, losses = start, []
    for mark in pattern:
        if mark == "+":
            best *= rng.uniform(0.8, 0.97)
            losses.append(best)
        else:
            losses.append(best * rng.uniform(1.005, 1.1))
    return np.array(losses)


def _early_stopping_cases(rng: np.random.Generator) -> list[Case]:
    u_shape = 2.0 - np.linspace(0, 1.5, 12) + 0.02 * np.arange(12) ** 2  # falls, then rises
    # pauses of 1, 2 and 3 epochs (7 in all: a counter that is never reset runs out), then 4
    # (patience 4 runs out while the curve goes on: waiting one epoch more shows, and the
    # best epoch is not the last one trained); the curve improves again afterwards
    noisy = _noisy_curve(rng, "+-++--+---+----+--", start=1.0 + rng.random())
    return [
        Case("falls then rises, patience 3", (u_shape, 3)),
        Case("same curve, patience 1", (u_shape, 1)),
        Case("still improving at the end (never stops)", (np.linspace(3, 1, 10), 2)),
        Case("flat after the first epoch: a tie is no improvement",
             (np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]), 2)),
        Case("tiny improvements below min_delta = 0.01",
             (np.array([1.0, 0.995, 0.99, 0.986, 0.97, 0.969, 0.968, 0.967]), 3),
             {"min_delta": 0.01}),
        Case("noisy decreasing curve with pauses of 1 to 4 epochs, patience 4", (noisy, 4)),
        Case("a single epoch", (np.array([0.7]), 5)),
    ]


register(
    Exercise(
        id="w06_l2_penalty", function="l2_penalty", reference=f"{REFERENCE}:l2_penalty",
        make_cases=_l2_cases, points=1, outputs=("loss", "dw"),
        see=f"{LECTURE} §2 L2 weight decay",
        hint="the penalty is half the regularization strength times the squared size of the "
             "weights; check the factor ½ against the gradient you return (differentiate "
             "your own loss), and return the loss as a Python float."),
    Exercise(
        id="w06_dropout_forward", function="dropout_forward",
        strategy="grader.differential:dropout",
        reference=f"{REFERENCE}:dropout_forward", make_cases=_dropout_forward_cases, points=2,
        see=f"{LECTURE} §3 Dropout", hidden=f"{HIDDEN}:dropout",
        hint="inverted dropout keeps every unit's expected value unchanged during training, "
             "so evaluation needs no change at all; read the contract for which noise values "
             "keep a unit (a value exactly equal to p is one of the cases)."),
    Exercise(
        id="w06_dropout_backward", function="dropout_backward",
        strategy="grader.differential:dropout",
        reference=f"{REFERENCE}:dropout_backward", make_cases=_dropout_backward_cases,
        points=1, see=f"{LECTURE} §3 Dropout", hidden=f"{HIDDEN}:dropout",
        hint="with the mask fixed, dropout is a linear map of x: its gradient is that same "
             "map applied to dout, in training and in evaluation mode."),
    Exercise(
        id="w06_batchnorm_forward", function="batchnorm_forward",
        strategy="grader.differential:batchnorm",
        reference=f"{REFERENCE}:batchnorm_forward", make_cases=_batchnorm_forward_cases,
        points=3, outputs=("out", "running_mean", "running_var"),
        see=f"{LECTURE} §6 Batch normalization", hidden=f"{HIDDEN}:batchnorm_forward",
        hint="two conventions are tested: which variance normalizes the batch and which one "
             "updates the running average (the batch of 2 separates them), and that "
             "evaluation mode uses only the running statistics; for features far from 0, "
             "compute the variance in a way that does not cancel (Week 1)."),
    Exercise(
        id="w06_batchnorm_backward", function="batchnorm_backward",
        strategy="grader.differential:norm_backward",
        reference=f"{REFERENCE}:batchnorm_backward", make_cases=_norm_backward_cases,
        points=3, outputs=("dx", "dgamma", "dbeta"),
        see=f"{LECTURE} §6 Batch normalization", hidden=f"{HIDDEN}:norm_backward",
        hint="the batch mean and variance are functions of every input, so each x reaches the "
             "loss along three paths (directly, through the mean, through the variance); a dx "
             "that only follows the direct path is the usual mistake. Your gradient check "
             "(assignment) tells you which path is missing."),
    Exercise(
        id="w06_spatial_batchnorm_forward", function="spatial_batchnorm_forward",
        strategy="grader.differential:spatial_batchnorm",
        uses=("w06_batchnorm_forward",),
        reference=f"{REFERENCE}:spatial_batchnorm_forward",
        make_cases=_spatial_batchnorm_forward_cases, points=2,
        outputs=("out", "running_mean", "running_var"),
        see=f"{LECTURE} §6 Batch normalization", hidden=f"{HIDDEN}:spatial_batchnorm_forward",
        hint="a channel's filter is the same at every position, so one channel is one feature: "
             "decide which axes its statistics pool over and how many values the unbiased "
             "running variance counts; the non-square case catches reshapes that mix "
             "channels with positions."),
    Exercise(
        id="w06_spatial_batchnorm_backward", function="spatial_batchnorm_backward",
        strategy="grader.differential:spatial_norm_backward",
        uses=("w06_batchnorm_backward",),
        reference=f"{REFERENCE}:spatial_batchnorm_backward",
        make_cases=_spatial_batchnorm_backward_cases, points=3,
        outputs=("dx", "dgamma", "dbeta"),
        see=f"{LECTURE} §6 Batch normalization",
        hidden=f"{HIDDEN}:spatial_batchnorm_backward",
        hint="the same three paths as batch norm, with the statistics pooled over the batch and "
             "every position of a channel; dgamma and dbeta collect from all of those "
             "positions too."),
    Exercise(
        id="w06_layernorm_forward", function="layernorm_forward",
        strategy="grader.differential:layernorm",
        reference=f"{REFERENCE}:layernorm_forward", make_cases=_layernorm_forward_cases,
        points=2, see=f"{LECTURE} §7 Layer normalization and maxout",
        hidden=f"{HIDDEN}:layernorm_forward",
        hint="layer norm takes its statistics over the features of each example, not over "
             "the batch, while γ and β still belong to the features; the single-example and "
             "constant-example cases test exactly that."),
    Exercise(
        id="w06_layernorm_backward", function="layernorm_backward",
        strategy="grader.differential:layernorm_backward",
        reference=f"{REFERENCE}:layernorm_backward", make_cases=_norm_backward_cases,
        points=2, outputs=("dx", "dgamma", "dbeta"),
        see=f"{LECTURE} §7 Layer normalization and maxout", hidden=f"{HIDDEN}:norm_backward",
        hint="the derivation of batch norm's backward pass, with the statistics taken along the "
             "other axis; only dx changes its axis — the parameters are still shared by all "
             "examples of the batch."),
    Exercise(
        id="w06_maxout_forward", function="maxout_forward",
        reference=f"{REFERENCE}:maxout_forward", make_cases=_maxout_forward_cases, points=2,
        see=f"{LECTURE} §7 Layer normalization and maxout",
        hint="every unit has its own k affine pieces and keeps the largest one per example; "
             "check which axis of w holds the pieces (the 1-piece case is a plain affine "
             "layer)."),
    Exercise(
        id="w06_maxout_backward", function="maxout_backward",
        reference=f"{REFERENCE}:maxout_backward", make_cases=_maxout_backward_cases,
        points=2, outputs=("dx", "dw", "db"),
        see=f"{LECTURE} §7 Layer normalization and maxout",
        hint="a maximum passes the gradient only to the argument that won; after that it is the "
             "backward pass of an affine layer (Week 4), piece by piece."),
    Exercise(
        id="w06_early_stopping", function="early_stopping",
        reference=f"{REFERENCE}:early_stopping", make_cases=_early_stopping_cases, points=2,
        outputs=("best_epoch", "stop_epoch"),
        see=f"{LECTURE} §4 Early stopping", hidden=f"{HIDDEN}:early_stopping",
        hint="three decisions are tested: whether a tie counts as an improvement, whether "
             "min_delta is an absolute amount of loss, and what stop_epoch is when patience "
             "never runs out; epochs count from 0."),
)
