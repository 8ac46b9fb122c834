"""Week 5: update rules, schedules, initializations and clipping against PyTorch.

Oracles: ``torch.optim`` (100 steps on the same logistic-regression problem, identical
hyperparameters and gradients, parameters within 1e-12), ``torch.optim.lr_scheduler``,
``torch.nn.init`` (the same random numbers from a seeded ``torch.Generator``, plus sample
statistics) and ``torch.nn.utils.clip_grad_norm_``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from answers.kernels import week05 as k
from tests.conftest import exercise_param

STEPS = 100


# Update rules: 100 steps side by side with torch.optim ---------------------------------
def logistic_problem(seed: int = 0):
    """A logistic-regression gradient ``w -> dL/dw`` (64 examples, 5 features) and a start."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(64, 5))
    y = (X @ rng.normal(size=5) + 0.5 * rng.normal(size=64) > 0).astype(float)

    def grad(w: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-(X @ w)))
        return X.T @ (p - y) / len(y)

    return grad, 0.1 * rng.normal(size=5)


def trajectories(rule: str, optimizer, w0: np.ndarray, grad, hyper: dict, options: dict
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(STEPS, D)`` parameter trajectories of our rule and of ``torch.optim``, from zero state.

    Both receive the same gradient at every step, evaluated at PyTorch's parameters: near
    a minimum RMSProp's step ``dw / √s`` reacts to a change of ``dw`` by ``1/√s``, so on a
    free run rounding differences of 1e-16 can grow chaotically to 1e-2 within 50 steps —
    a property of the dynamics, not a difference in the formulas, which is what this tests.
    """
    p = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = optimizer([p], **options)
    w = w0
    state = {"sgd": [], "momentum": [np.zeros_like(w)], "nesterov": [np.zeros_like(w)],
             "rmsprop": [np.zeros_like(w)], "adam": [np.zeros_like(w)] * 2}[rule]
    mine, theirs = [], []
    for t in range(1, STEPS + 1):
        dw = grad(p.detach().numpy())
        if rule == "sgd":
            w = k.sgd_step(w, dw, **hyper)
        elif rule == "adam":
            w, *state = k.adam_step(w, dw, *state, t, **hyper)
        else:
            step = {"momentum": k.momentum_step, "nesterov": k.nesterov_step,
                    "rmsprop": k.rmsprop_step}[rule]
            w, *state = step(w, dw, *state, **hyper)
        p.grad = torch.from_numpy(dw)
        opt.step()
        mine.append(w)
        theirs.append(p.detach().numpy().copy())
    return np.array(mine), np.array(theirs)


OPTIMIZERS = [  # (exercise, rule, our hyperparameters, torch optimizer, its options)
    ("w05_sgd_step", "sgd", {"lr": 0.5}, torch.optim.SGD, {"lr": 0.5}),
    ("w05_momentum_step", "momentum", {"lr": 0.1, "momentum": 0.9}, torch.optim.SGD,
     {"lr": 0.1, "momentum": 0.9}),
    ("w05_momentum_step", "momentum", {"lr": 0.3, "momentum": 0.5}, torch.optim.SGD,
     {"lr": 0.3, "momentum": 0.5}),
    ("w05_nesterov_step", "nesterov", {"lr": 0.1, "momentum": 0.9}, torch.optim.SGD,
     {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("w05_nesterov_step", "nesterov", {"lr": 0.5, "momentum": 0.7}, torch.optim.SGD,
     {"lr": 0.5, "momentum": 0.7, "nesterov": True}),
    ("w05_rmsprop_step", "rmsprop", {"lr": 0.01}, torch.optim.RMSprop, {"lr": 0.01}),
    ("w05_rmsprop_step", "rmsprop", {"lr": 0.05, "alpha": 0.9, "eps": 1e-6},
     torch.optim.RMSprop, {"lr": 0.05, "alpha": 0.9, "eps": 1e-6}),
    ("w05_adam_step", "adam", {"lr": 0.01}, torch.optim.Adam, {"lr": 0.01}),
    ("w05_adam_step", "adam", {"lr": 0.1, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
     torch.optim.Adam, {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6}),
]


@pytest.mark.parametrize("case", [exercise_param(c[0], c, label=f"{c[1]}-{i}")
                                  for i, c in enumerate(OPTIMIZERS)])
@pytest.mark.parametrize("seed", [0, 1])
def test_update_rule_matches_torch_optim_over_100_steps(case, seed):
    _, rule, hyper, optimizer, options = case
    grad, w0 = logistic_problem(seed)
    mine, theirs = trajectories(rule, optimizer, w0, grad, hyper, options)
    assert np.abs(mine[-1] - w0).max() > 0.05  # the parameters really moved
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.w05_adam_step
def test_adam_first_step_has_size_lr_in_every_coordinate():
    # Bias correction at t=1 makes m̂ = dw and v̂ = dw²: the step is lr · sign(dw).
    dw = np.array([1e-3, -5.0, 200.0])
    w_new, _, _ = k.adam_step(np.zeros(3), dw, np.zeros(3), np.zeros(3), 1, lr=0.1, eps=0.0)
    np.testing.assert_allclose(w_new, -0.1 * np.sign(dw), rtol=1e-15)


# Schedules against torch.optim.lr_scheduler ---------------------------------------------
SCHEDULES = [  # (exercise, ours: steps -> lrs, torch scheduler factory)
    ("w05_step_lr", lambda t: k.step_lr(t, 0.3, 7, gamma=0.5),
     lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)),
    ("w05_step_lr", lambda t: k.step_lr(t, 0.3, 30),
     lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=30)),
    ("w05_exponential_lr", lambda t: k.exponential_lr(t, 0.3, 0.95),
     lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)),
    ("w05_cosine_lr", lambda t: k.cosine_lr(t, 0.3, 40),
     lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=40)),
    ("w05_cosine_lr", lambda t: k.cosine_lr(t, 0.3, 25, eta_min=0.01),
     lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=25, eta_min=0.01)),
]


@pytest.mark.parametrize("case", [exercise_param(c[0], c, label=str(i))
                                  for i, c in enumerate(SCHEDULES)])
def test_schedule_matches_torch_lr_scheduler(case):
    _, schedule, make_scheduler = case
    p = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=0.3)
    scheduler = make_scheduler(optimizer)
    theirs = []
    for _ in range(100):  # beyond T_max too: both cosines rise again
        theirs.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(schedule(np.arange(100)), theirs, rtol=1e-12, atol=1e-15)


# Initialization: same random numbers as torch.nn.init, and the right statistics ----------
@pytest.mark.w05_xavier_uniform
@pytest.mark.parametrize("fan_in, fan_out", [(30, 50), (784, 100), (1, 7)])
def test_xavier_uniform_matches_torch_init(fan_in, fan_out):
    # torch stores Linear weights as (fan_out, fan_in): ours is its transpose.
    u = torch.empty(fan_out, fan_in, dtype=torch.float64).uniform_(
        0, 1, generator=torch.Generator().manual_seed(3))
    expected = torch.nn.init.xavier_uniform_(torch.empty(fan_out, fan_in, dtype=torch.float64),
                                             generator=torch.Generator().manual_seed(3))
    np.testing.assert_allclose(k.xavier_uniform(u.numpy().T), expected.numpy().T,
                               rtol=1e-12, atol=1e-15)


@pytest.mark.w05_he_normal
@pytest.mark.parametrize("fan_in, fan_out", [(30, 50), (784, 100), (1, 7)])
def test_he_normal_matches_torch_init(fan_in, fan_out):
    z = torch.empty(fan_out, fan_in, dtype=torch.float64).normal_(
        generator=torch.Generator().manual_seed(3))
    expected = torch.nn.init.kaiming_normal_(
        torch.empty(fan_out, fan_in, dtype=torch.float64), nonlinearity="relu",
        generator=torch.Generator().manual_seed(3))
    np.testing.assert_allclose(k.he_normal(z.numpy().T), expected.numpy().T,
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, sampler, variance, family", [
    exercise_param("w05_xavier_uniform", "xavier", k.xavier_uniform_init,
                   lambda i, o: 2 / (i + o), "uniform"),
    exercise_param("w05_he_normal", "he", k.he_normal_init, lambda i, o: 2 / i, "norm"),
])
@pytest.mark.parametrize("fan_in, fan_out", [(400, 300), (50, 800)])
def test_init_statistics(name, sampler, variance, family, fan_in, fan_out):
    w = sampler(fan_in, fan_out, np.random.default_rng(0)).ravel()
    n, var = len(w), variance(fan_in, fan_out)
    # Mean 0 and the target variance, within 5 standard errors of the sample statistics.
    assert abs(w.mean()) < 5 * np.sqrt(var / n)
    fourth_moment = 9 / 5 * var**2 if family == "uniform" else 3 * var**2
    assert abs(w.var() - var) < 5 * np.sqrt((fourth_moment - var**2) / n)
    # The whole distribution: Kolmogorov-Smirnov against U(-a, a) or N(0, var).
    scale = np.sqrt(3 * var) if family == "uniform" else np.sqrt(var)
    dist = stats.uniform(-scale, 2 * scale) if family == "uniform" else stats.norm(0, scale)
    assert stats.kstest(w, dist.cdf).pvalue > 1e-3


def test_he_keeps_relu_activations_on_scale_through_depth():
    # The point of the factor 2: 30 ReLU layers, and the signal neither dies nor explodes.
    rng = np.random.default_rng(0)
    h = rng.normal(size=(500, 256))
    for _ in range(30):
        h = np.maximum(h @ k.he_normal_init(256, 256, rng), 0)
    assert 0.3 < np.sqrt(np.mean(h**2)) < 3


# Clipping against torch.nn.utils.clip_grad_norm_ ----------------------------------------
@pytest.mark.w05_clip_grad_norm
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=4),
       st.sampled_from([1e-3, 1.0, 100.0]), st.sampled_from([0.01, 1.0, 10.0]),
       st.integers(0, 2**16))
@settings(max_examples=50, deadline=None)
def test_clip_grad_norm_matches_torch(shapes, scale, max_norm, seed):
    rng = np.random.default_rng(seed)
    grads = [scale * rng.normal(size=s) for s in shapes]
    params = [torch.nn.Parameter(torch.zeros(s, dtype=torch.float64)) for s in shapes]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    *clipped, norm = k.clip_grad_norm(*grads, max_norm=max_norm)
    assert norm == pytest.approx(total.item(), rel=1e-12)
    for mine, p in zip(clipped, params):
        np.testing.assert_allclose(mine, p.grad.numpy(), rtol=1e-12, atol=1e-300)


@pytest.mark.w05_clip_grad_norm
@pytest.mark.parametrize("max_norm", [1e-4, 2e-3, 1.0])
@pytest.mark.parametrize("offset", [0.0, -2e-7])
def test_clip_grad_norm_matches_torch_at_the_threshold(max_norm, offset):
    """At and just below max_norm, PyTorch still scales by max_norm / (norm + 1e-6) < 1."""
    from answers.hidden.week05 import clip_hidden

    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    grads = [g * ((max_norm + offset) / total) for g in grads]
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    *clipped, _ = k.clip_grad_norm(*grads, max_norm=max_norm)
    for mine, p, g in zip(clipped, params, grads):
        np.testing.assert_allclose(mine, p.grad.numpy(), rtol=1e-12, atol=1e-300)
        assert not np.allclose(mine, g, rtol=1e-7, atol=1e-9)  # scaled, if only slightly
    for case in clip_hidden(rng):  # the hidden cases agree with PyTorch too
        params = [torch.nn.Parameter(torch.zeros(a.shape, dtype=torch.float64)) for a in case.args]
        for p, a in zip(params, case.args):
            p.grad = torch.from_numpy(a.copy())
        torch.nn.utils.clip_grad_norm_(params, case.kwargs["max_norm"])
        *clipped, _ = k.clip_grad_norm(*case.args, **case.kwargs)
        for mine, p in zip(clipped, params):
            np.testing.assert_allclose(mine, p.grad.numpy(), rtol=1e-12, atol=1e-300)


# Deep MLPs: the experiment's gradients against torch.autograd ----------------------------
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_mlp_gradients_match_torch(activation):
    rng = np.random.default_rng(0)
    sizes = [6, 8, 8, 5, 3]
    weights = [rng.normal(size=(a, b)) / np.sqrt(a) for a, b in zip(sizes, sizes[1:])]
    biases = [0.1 * rng.normal(size=b) for b in sizes[1:]]
    x, y = rng.normal(size=(7, 6)), rng.integers(0, 3, size=7)
    loss, dws, dbs = k.mlp_gradients(x, y, weights, biases, activation)
    tw = [torch.tensor(w, requires_grad=True) for w in weights]
    tb = [torch.tensor(b, requires_grad=True) for b in biases]
    h = torch.from_numpy(x)
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
    for layer, (w, b) in enumerate(zip(tw, tb)):
        h = h @ w + b
        if layer < len(tw) - 1:
            h = act(h)
    loss_t = torch.nn.functional.cross_entropy(h, torch.from_numpy(y))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    for mine, theirs in zip(dws + dbs, tw + tb):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_sigmoid_gradients_vanish_with_depth_and_relu_ones_do_not():
    # The lecture's claim, in one assertion each: with standard initializations, the first
    # layer of a 10-layer sigmoid net gets orders of magnitude less gradient than the last;
    # a He-initialized ReLU net keeps them within a factor of 10.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 64)), rng.integers(0, 10, size=256)
    sizes = [64] * 10 + [10]
    ratios = {}
    for activation, init in [("sigmoid", k.xavier_uniform_init), ("relu", k.he_normal_init)]:
        weights = [init(a, b, rng) for a, b in zip(sizes, sizes[1:])]
        biases = [np.zeros(b) for b in sizes[1:]]
        _, dws, _ = k.mlp_gradients(x, y, weights, biases, activation)
        ratios[activation] = np.linalg.norm(dws[0]) / np.linalg.norm(dws[-1])
    assert ratios["sigmoid"] < 1e-3
    assert 0.1 < ratios["relu"] < 10


# Critical points: torch.autograd.functional.hessian and SciPy's eigh ----------------------------
def _torch_hessian(f, point):
    return torch.autograd.functional.hessian(f, torch.tensor(point, dtype=torch.float64)).numpy()


CRITICAL_POINTS = [  # (f, critical point, kind by the second-derivative test)
    (lambda p: p[0] ** 2 - p[1] ** 2, [0.0, 0.0], k.SADDLE),
    (lambda p: p[0] ** 3 - 3 * p[0] * p[1] ** 2, [0.0, 0.0], k.INCONCLUSIVE),  # monkey saddle
    (lambda p: p[0] ** 2 + p[1] ** 4, [0.0, 0.0], k.INCONCLUSIVE),  # a minimum, of 4th order
    (lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, [1.0, 1.0], k.MINIMUM),
    (lambda p: -(p ** 2).sum() - p[0] * p[1], [0.0, 0.0, 0.0], k.MAXIMUM),
    (lambda p: p[0] ** 2 - p[1] ** 2 + p[2] ** 4, [0.0, 0.0, 0.0], k.SADDLE),  # flat 3rd axis
    (lambda p: torch.sin(p[0]) * torch.sin(p[1]), [0.0, 0.0], k.SADDLE),
    (lambda p: torch.sin(p[0]) * torch.sin(p[1]), [np.pi / 2, np.pi / 2], k.MAXIMUM),
    (lambda p: 1e7 * (p[0] ** 2 + 3 * p[1] ** 2), [0.0, 0.0], k.MINIMUM),
]


@pytest.mark.w05_classify_critical_point
def test_classify_critical_points_of_known_functions_by_torch_hessians():
    hessians = np.stack([_torch_hessian(f, point) for f, point, _ in CRITICAL_POINTS[:4]])
    expected = [kind for _, _, kind in CRITICAL_POINTS[:4]]
    np.testing.assert_array_equal(k.classify_critical_point(hessians), expected)
    for f, point, kind in CRITICAL_POINTS[4:]:  # other dimensions: one at a time
        grad = torch.autograd.functional.jacobian(f, torch.tensor(point, dtype=torch.float64))
        assert torch.allclose(grad, torch.zeros_like(grad), atol=1e-12)  # it is critical
        assert k.classify_critical_point(_torch_hessian(f, point)[None])[0] == kind


@pytest.mark.w05_classify_critical_point
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 6), scale=st.sampled_from([1e-6, 1.0, 1e6]))
@settings(max_examples=60, deadline=None)
def test_classify_matches_scipy_eigenvalue_signs(seed, d, scale):
    from scipy.linalg import eigh
    rng = np.random.default_rng(seed)
    A = scale * rng.normal(size=(8, d, d))
    expected = []
    for H in A:
        values = eigh((H + H.T) / 2, eigvals_only=True)
        pos, neg = np.any(values > 1e-8 * np.abs(values).max()), np.any(values < -1e-8 * np.abs(values).max())
        zero = np.any(np.abs(values) <= 1e-8 * np.abs(values).max())
        expected.append(k.SADDLE if pos and neg else k.INCONCLUSIVE if zero
                        else k.MINIMUM if pos else k.MAXIMUM)
    np.testing.assert_array_equal(k.classify_critical_point(A), expected)
    # the kind is invariant under f -> c·f (c > 0) and flips min <-> max under f -> -f
    np.testing.assert_array_equal(k.classify_critical_point(1e5 * A), expected)
    flipped = {k.MINIMUM: k.MAXIMUM, k.MAXIMUM: k.MINIMUM}
    np.testing.assert_array_equal(k.classify_critical_point(-A),
                                  [flipped.get(kind, kind) for kind in expected])


@pytest.mark.w05_classify_critical_point
def test_classify_uses_the_symmetric_part_of_a_finite_difference_hessian():
    f = lambda p: p[0] ** 2 - p[1] ** 2 + p[0] * p[1] ** 2  # noqa: E731  saddle at 0
    h = 1e-4
    grad = lambda p: np.array([2 * p[0] + p[1] ** 2, -2 * p[1] + 2 * p[0] * p[1]])  # noqa: E731
    H = np.stack([(grad(np.eye(2)[i] * h) - grad(-np.eye(2)[i] * h)) / (2 * h) for i in range(2)])
    exact = _torch_hessian(lambda p: f(p), [0.0, 0.0])
    np.testing.assert_allclose(H, exact, atol=1e-6)
    assert k.classify_critical_point(H[None])[0] == k.SADDLE
    # an antisymmetric error leaves the quadratic form, hence the kind, unchanged
    skew = np.array([[0.0, 5.0], [-5.0, 0.0]])
    assert k.classify_critical_point(np.eye(2)[None] + skew)[0] == k.MINIMUM
