"""Week 5 checks: update rules, learning-rate schedules, initialization, gradient clipping.

One call of an update rule is one optimizer step from a given state, so the cases cover the
states that expose each classic mistake: the first step from zero state (Adam's bias
correction is largest), a late step (``t = 1000``: the second-moment correction still
matters), non-zero velocities (the sign and scale convention of the velocity), tiny
gradients (where ``eps`` inside or outside the square root differs), and ``momentum = 0``.
Where a random case exposes a mistake, the property is placed, not left to the draw (a
mistake's partial credit is the same under every seed): RMSProp's random states hold one
coordinate with a tiny gradient and average, the unordered steps of the step schedule a
drop and the step just before another.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week05"


# --------------------------------------------------------------------------------------
# Update rules
# --------------------------------------------------------------------------------------
def _sgd_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("vector of 6, lr 0.1", (rng.normal(size=6), rng.normal(size=6), 0.1)),
        Case("matrix 3×4, lr 0.01", (rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), 0.01)),
        Case("lr 0 leaves w unchanged", (rng.normal(size=5), rng.normal(size=5), 0.0)),
        Case("large gradient, lr 1.5", (rng.normal(size=4), 100 * rng.normal(size=4), 1.5)),
    ]


def _velocity_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, shape: tuple[int, ...], velocity_scale: float, lr: float,
             momentum: float) -> Case:
        w, dw = rng.normal(size=shape), rng.normal(size=shape)
        velocity = velocity_scale * rng.normal(size=shape)
        return Case(name, (w, dw, velocity, lr), {"momentum": momentum})

    return [
        case("first step: velocity 0", (5,), 0.0, 0.1, 0.9),
        case("mid-training velocity, matrix 3×4", (3, 4), 2.0, 0.05, 0.9),
        case("momentum 0 (plain SGD)", (6,), 1.0, 0.1, 0.0),
        case("momentum 0.99, lr 0.01", (2, 3), 5.0, 0.01, 0.99),
        case("velocity against the gradient", (4,), -3.0, 0.2, 0.5),
    ]


def _rmsprop_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, shape: tuple[int, ...], grad_scale: float, avg: np.ndarray | None,
             lr: float, small: bool = False, **hyper: float) -> Case:
        dw = grad_scale * rng.normal(size=shape)
        square_avg = np.zeros(shape) if avg is None else avg
        if small:  # one coordinate (placed at random) where eps's place always shows
            k = rng.integers(dw.size)
            dw.flat[k] = 1e-3 * rng.uniform(0.5, 1.0) * rng.choice([-1.0, 1.0])
            square_avg.flat[k] = 1e-6 * rng.uniform(0.5, 1.0)
        return Case(name, (rng.normal(size=shape), dw, square_avg, lr), hyper)

    return [
        case("first step: square_avg 0", (5,), 1.0, None, 0.01),
        case("mid-training square_avg, matrix 3×4, one coordinate with a gradient of 1e-3",
             (3, 4), 1.0, rng.random((3, 4)), 0.01, small=True),
        case("alpha 0.9, eps 1e-6, one coordinate with a gradient of 1e-3", (6,), 2.0,
             rng.random(6), 0.05, small=True, alpha=0.9, eps=1e-6),
        case("tiny gradients (1e-6): eps outside the square root matters", (4,), 1e-6, None,
             0.001),
        case("tiny square_avg (1e-14) and gradients", (2, 2), 1e-7, 1e-14 * rng.random((2, 2)),
             0.01, alpha=0.5),
    ]


def _adam_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, shape: tuple[int, ...], t: int, fresh: bool = False,
             grad_scale: float = 1.0, small: bool = False, **hyper: float) -> Case:
        dw = grad_scale * rng.normal(size=shape)
        if small:  # one coordinate (placed at random) where eps's place always shows
            dw.flat[rng.integers(dw.size)] = 1e-3 * rng.uniform(0.5, 1.0) * rng.choice([-1, 1])
        m = np.zeros(shape) if fresh else grad_scale * 0.5 * rng.normal(size=shape)
        v = np.zeros(shape) if fresh else grad_scale**2 * rng.random(shape)
        return Case(name, (rng.normal(size=shape), dw, m, v, t), hyper)

    return [
        case("first step t=1 from zero state (bias correction largest), one gradient of 1e-3",
             (5,), 1, fresh=True, small=True),
        case("t=2, matrix 3×4", (3, 4), 2, lr=0.01),
        case("t=10, custom betas", (6,), 10, lr=0.05, beta1=0.8, beta2=0.99),
        case("t=1000 (second-moment correction still ≈ 1.6)", (4,), 1000, lr=0.002),
        case("tiny gradients (1e-7): eps outside the square root", (2, 3), 5, grad_scale=1e-7,
             lr=0.01),
        case("t=1, eps 1e-3", (3,), 1, fresh=True, lr=0.1, eps=1e-3),
    ]


# --------------------------------------------------------------------------------------
# Schedules, initialization, clipping
# --------------------------------------------------------------------------------------
def _steps_around_drops(rng: np.random.Generator, shape: tuple[int, ...], end: int,
                        step_size: int) -> np.ndarray:
    """Random steps in ``[0, end)``, two of them (at random places) a drop ``k·step_size``
    and the step just before another drop: an off-by-one drop always shows."""
    steps = rng.integers(0, end, size=shape)
    drops = step_size * rng.integers(1, (end - 1) // step_size + 1, size=2)
    steps.flat[rng.permutation(steps.size)[:2]] = drops[0], drops[1] - 1
    return steps


def _step_lr_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("epochs 0..29, decay ×0.1 every 10", (np.arange(30), 0.1, 10), {"gamma": 0.1}),
        Case("decay every epoch, gamma 0.5", (np.arange(12), 1.0, 1), {"gamma": 0.5}),
        Case("unordered 2-D steps, one just before a drop and one at a drop",
             (_steps_around_drops(rng, (3, 4), 100, 7), 0.3, 7), {"gamma": 0.8}),
        Case("default gamma", (np.arange(0, 50, 3), 0.05, 15), {}),
    ]


def _exponential_lr_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("epochs 0..19, gamma 0.9", (np.arange(20), 0.1, 0.9)),
        Case("gamma 0.5", (np.arange(8), 1.0, 0.5)),
        Case("unordered 2-D steps, gamma 0.99", (rng.integers(0, 300, size=(2, 5)), 0.01, 0.99)),
        Case("gamma 1 (constant)", (np.arange(5), 0.3, 1.0)),
    ]


def _cosine_lr_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("epochs 0..50 of 50, eta_min 0", (np.arange(51), 0.1, 50), {}),
        Case("eta_min 0.01", (np.arange(0, 101, 5), 0.5, 100), {"eta_min": 0.01}),
        Case("unordered steps within t_max", (rng.integers(0, 31, size=(2, 6)), 1.0, 30),
             {"eta_min": 0.1}),
        Case("t_max 1", (np.array([0, 1]), 0.2, 1), {"eta_min": 0.05}),
    ]


def _xavier_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(f"fan_in {i}, fan_out {o}", (rng.random((i, o)),))
            for i, o in [(5, 5), (3, 8), (20, 2), (1, 10)]]


def _he_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(f"fan_in {i}, fan_out {o}", (rng.standard_normal((i, o)),))
            for i, o in [(4, 4), (8, 3), (2, 12), (50, 1)]]


def _clip_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("two gradients, global norm above max_norm", (rng.normal(size=(3, 4)),
                                                            rng.normal(size=4)),
             {"max_norm": 1.0}),
        Case("norm below max_norm: unchanged", (0.1 * rng.normal(size=(2, 3)),
                                                0.1 * rng.normal(size=3)), {"max_norm": 5.0}),
        Case("one gradient, exploding (norm ≈ 1e4)", (1e3 * rng.normal(size=(10, 10)),),
             {"max_norm": 0.5}),
        Case("three gradients of different shapes, one small one large",
             (1e-3 * rng.normal(size=5), 10 * rng.normal(size=(2, 2)),
              rng.normal(size=(1, 3, 2))), {"max_norm": 2.0}),
        Case("tiny norm ≈ 0.01, max_norm 0.001",
             (0.003 * rng.normal(size=4), 0.003 * rng.normal(size=4)), {"max_norm": 0.001}),
    ]


# --------------------------------------------------------------------------------------
# Critical points
# --------------------------------------------------------------------------------------
def hessians_with_spectra(rng: np.random.Generator, spectra: list[list[float]],
                          scale: float = 1.0) -> np.ndarray:
    """``(B, D, D)`` symmetric Hessians ``Q diag(λ) Qᵀ`` with the given eigenvalues."""
    out = []
    for values in spectra:
        q, _ = np.linalg.qr(rng.normal(size=(len(values), len(values))))
        out.append((q * (scale * np.asarray(values, dtype=np.float64))) @ q.T)
    return np.stack(out)


ZERO = 1e-12  # an eigenvalue that is zero up to rounding, relative to the largest


def _critical_point_cases(rng: np.random.Generator) -> list[Case]:
    def spectra(n: int, d: int) -> list[list[float]]:
        signs = rng.choice([-1.0, 1.0], size=(n, d))
        signs[0], signs[1] = 1.0, -1.0  # at least one minimum and one maximum
        return (signs * rng.uniform(0.1, 3.0, size=(n, d))).tolist()

    zeros = [[2.0, -1.0, ZERO], [1.5, 0.7, -ZERO], [-0.5, -2.0, ZERO], [ZERO, -ZERO, 3.0],
             [1.0, -1.0, -ZERO]]
    scaled = [[1.0, 0.5, ZERO], [-1.0, 2.0, 0.3], [2.0, 1.0, 0.5], [-ZERO, -1.0, -2.0]]
    return [
        Case("2-D: x² + y², −x² − y², x² − y²",
             (np.array([[[2.0, 0.0], [0.0, 2.0]], [[-2.0, 0.0], [0.0, -2.0]],
                        [[2.0, 0.0], [0.0, -2.0]]]), 1e-8)),
        Case("8 random Hessians in 5-D (minima, maxima, saddles)",
             (hessians_with_spectra(rng, spectra(8, 5)), 1e-8)),
        Case("3-D with one eigenvalue zero up to rounding (±1e-12 of the largest)",
             (hessians_with_spectra(rng, zeros), 1e-8)),
        Case("the same kinds for f scaled by 1e9", (hessians_with_spectra(rng, scaled, 1e9), 1e-8)),
        Case("tol=1e-3: eigenvalues 1e-4 of the largest count as zero",
             (hessians_with_spectra(rng, [[1.0, 1e-4], [1.0, -1e-4], [-1.0, -2e-4], [1.0, 0.5]]),
              1e-3)),
        Case("one variable (D=1): f'' > 0, < 0, = 0",
             (np.array([[[3.0]], [[-0.2]], [[0.0]]]), 1e-8)),
    ]


_LECTURE = "course/week05-optimization.ipynb"
_RULES = f"{_LECTURE} §2 Momentum, Nesterov, RMSProp, Adam"
_SCHEDULES = f"{_LECTURE} §4 Learning-rate schedules"
_INIT = f"{_LECTURE} §5 Initialization: keeping the signal's scale"

register(
    Exercise(
        id="w05_sgd_step", function="sgd_step", reference=f"{REFERENCE}:sgd_step",
        make_cases=_sgd_cases, points=1,
        see=f"{_LECTURE} §1 Gradient descent and the condition number",
        hint="one step moves against the gradient, scaled by the learning rate; return a new "
             "array rather than changing w in place."),
    Exercise(
        id="w05_momentum_step", function="momentum_step",
        strategy="grader.differential:momentum",
        reference=f"{REFERENCE}:momentum_step", make_cases=_velocity_cases, points=2,
        outputs=("w_new", "velocity_new"), see=_RULES,
        hint="PyTorch's convention: the velocity is a decaying SUM of raw gradients (no "
             "learning rate and no (1 - momentum) inside it), and the step uses the velocity "
             "after this step's update. A case with momentum 0 must reduce to plain SGD."),
    Exercise(
        id="w05_nesterov_step", function="nesterov_step",
        strategy="grader.differential:momentum",
        reference=f"{REFERENCE}:nesterov_step", make_cases=_velocity_cases, points=2,
        outputs=("w_new", "velocity_new"), see=_RULES,
        hint="the velocity is updated exactly as for momentum; the difference is the step "
             "direction, which combines the current gradient with the NEW velocity (the "
             "look-ahead), as the formula of the assignment says."),
    Exercise(
        id="w05_rmsprop_step", function="rmsprop_step",
        strategy="grader.differential:rmsprop",
        reference=f"{REFERENCE}:rmsprop_step", make_cases=_rmsprop_cases, points=2,
        outputs=("w_new", "square_avg_new"), see=_RULES,
        hint="the running average is an exponential moving average of the squared "
             "gradients (its two weights add up to 1), updated before it is used; where eps "
             "goes matters for tiny gradients: PyTorch adds it to the root, not under it."),
    Exercise(
        id="w05_adam_step", function="adam_step", reference=f"{REFERENCE}:adam_step",
        strategy="grader.differential:adam",
        make_cases=_adam_cases, points=3, outputs=("w_new", "m_new", "v_new"), see=_RULES,
        hidden="answers.hidden.week05:adam_hidden",
        hint="derive the correction by unrolling the average: with constant expected "
             "gradients, E[m_t] is the gradient's mean times a geometric sum that depends on "
             "t (t counts from 1). At t = 1 the corrected first moment equals the gradient. "
             "Return the UNcorrected m and v as the new state; eps is added outside the root."),
    Exercise(
        id="w05_classify_critical_point", function="classify_critical_point",
        reference=f"{REFERENCE}:classify_critical_point", make_cases=_critical_point_cases,
        points=3, hidden="answers.hidden.week05:critical_point_hidden",
        see=f"{_LECTURE} §3 Saddle points and non-convexity",
        hint="the failing case names what it stresses. The kind is a property of the "
             "quadratic form v -> vᵀHv: which part of H determines it, and what does your "
             "eigenvalue routine read of a matrix that is not exactly symmetric? 'Zero' must "
             "mean the same for f and for c·f (c > 0), for every Hessian of the batch on its "
             "own scale, with tol as given — and a direction of zero curvature beside one "
             "up and one down still leaves a way downhill."),
    Exercise(
        id="w05_step_lr", function="step_lr", reference=f"{REFERENCE}:step_lr",
        make_cases=_step_lr_cases, points=1, see=_SCHEDULES,
        hint="the rate is constant for step_size epochs and drops by the factor gamma at "
             "t = step_size, 2·step_size, …: the exponent counts completed periods (an "
             "integer), not t / step_size as a fraction."),
    Exercise(
        id="w05_exponential_lr", function="exponential_lr",
        reference=f"{REFERENCE}:exponential_lr", make_cases=_exponential_lr_cases, points=1,
        see=_SCHEDULES,
        hint="one factor gamma per epoch, starting from lr0 at t = 0 (not lr0·gamma); steps "
             "may be any integer array: compute in floating point, elementwise."),
    Exercise(
        id="w05_cosine_lr", function="cosine_lr", reference=f"{REFERENCE}:cosine_lr",
        make_cases=_cosine_lr_cases, points=1, see=_SCHEDULES,
        hint="half a cosine period from t = 0 to t = t_max, rescaled so that the rate is lr0 "
             "at t = 0 and eta_min (not 0, when given) at t = t_max."),
    Exercise(
        id="w05_xavier_uniform", function="xavier_uniform",
        reference=f"{REFERENCE}:xavier_uniform", make_cases=_xavier_cases, points=1,
        see=_INIT,
        hint="the target is a uniform distribution symmetric around 0 with the variance the "
             "lecture gives; the variance of U(-a, a) determines a. Fans come from u.shape in "
             "the course's layout (fan_in, fan_out); the map from [0, 1) must be affine."),
    Exercise(
        id="w05_he_normal", function="he_normal", reference=f"{REFERENCE}:he_normal",
        make_cases=_he_cases, points=1, see=_INIT,
        hint="scaling a standard normal by s multiplies its variance by s²; the target "
             "variance depends on the fan-in only, the layer's number of inputs (the first "
             "axis in the course's layout)."),
    Exercise(
        id="w05_clip_grad_norm", function="clip_grad_norm",
        reference=f"{REFERENCE}:clip_grad_norm", make_cases=_clip_cases, points=2,
        hidden="answers.hidden.week05:clip_hidden",
        see=f"{_LECTURE} §7 Gradient clipping",
        hint="one GLOBAL norm over all gradients together, measured before clipping and "
             "returned last; every gradient gets the same factor. Near the threshold, check "
             "what PyTorch does with its 1e-6: is the factor applied only above max_norm, or "
             "always, capped at 1?"),
)
