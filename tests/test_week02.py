"""Week 2: linear-classifier kernels against PyTorch, numerical gradients and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

from grader.check import gradient_check
from answers.kernels import week02 as k
from tests.conftest import exercise_param
from tests.strategies import binary_problem, linear_problem



def torch_grads(loss_of, *arrays):
    """Value of ``loss_of(*tensors)`` and its gradient with respect to each float array."""
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    loss = loss_of(*tensors)
    loss.backward()
    return loss.item(), [t.grad.numpy() for t in tensors]


def assert_same_loss_and_grads(got, expected, rtol=1e-10, atol=1e-10):
    loss, grads = expected
    assert got[0] == pytest.approx(loss, rel=rtol, abs=atol)
    for mine, theirs in zip(got[1:], grads):
        np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=atol)


# Oracles: torch.autograd on the same loss ----------------------------------------------
@pytest.mark.w02_logistic_loss
@given(binary_problem())
def test_logistic_loss_matches_torch(problem):
    w, b, X, y = problem
    expected = torch_grads(
        lambda w_, b_: F.binary_cross_entropy_with_logits(
            torch.from_numpy(X) @ w_ + b_, torch.from_numpy(y).double()), w, np.array(b))
    assert_same_loss_and_grads(k.logistic_loss(w, b, X, y), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("loss_fn", [
    exercise_param("w02_softmax_loss_naive", k.softmax_loss_naive),
    exercise_param("w02_softmax_loss_vectorized", k.softmax_loss_vectorized)])
@given(problem=linear_problem())
def test_softmax_loss_matches_torch(loss_fn, problem):
    W, b, X, y = problem
    expected = torch_grads(
        lambda W_, b_: F.cross_entropy(torch.from_numpy(X) @ W_ + b_, torch.from_numpy(y)), W, b)
    assert_same_loss_and_grads(loss_fn(W, b, X, y), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("loss_fn", [
    pytest.param(k.svm_loss_naive, id="naive"),
    exercise_param("w02_svm_loss_vectorized", k.svm_loss_vectorized)])
@given(problem=linear_problem())
def test_svm_loss_matches_torch_multi_margin_loss(loss_fn, problem):
    W, b, X, y = problem
    n_classes = W.shape[1]
    # torch averages the hinge over the C classes as well as the N examples; we sum over classes.
    expected = torch_grads(
        lambda W_, b_: n_classes * F.multi_margin_loss(
            torch.from_numpy(X) @ W_ + b_, torch.from_numpy(y)), W, b)
    assert_same_loss_and_grads(loss_fn(W, b, X, y), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.w02_l1_l2_penalty
@given(st.integers(1, 6), st.integers(1, 4), st.floats(0, 2), st.floats(0, 2), st.integers(0, 99))
def test_l1_l2_penalty_matches_torch(d, c, l1, l2, seed):
    W = np.random.default_rng(seed).normal(size=(d, c))
    W[0, 0] = 0.0  # torch's |·| has gradient 0 at 0, the subgradient the course uses
    expected = torch_grads(lambda W_: l1 * W_.abs().sum() + 0.5 * l2 * (W_ ** 2).sum(), W)
    assert_same_loss_and_grads(k.l1_l2_penalty(W, l1, l2), expected)


# Numerical gradients -------------------------------------------------------------------
@pytest.mark.parametrize("loss_fn", [
    exercise_param("w02_softmax_loss_naive", k.softmax_loss_naive),
    exercise_param("w02_softmax_loss_vectorized", k.softmax_loss_vectorized),
    pytest.param(k.svm_loss_naive, id="svm-naive"),
    exercise_param("w02_svm_loss_vectorized", k.svm_loss_vectorized)])
def test_multiclass_gradients_match_central_differences(loss_fn):
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(5, 4)), rng.normal(size=4)
    X, y = rng.normal(size=(9, 5)), rng.integers(0, 4, size=9)
    _, dW, db = loss_fn(W, b, X, y)
    gradient_check(lambda W_: loss_fn(W_, b, X, y)[0], W, dW)
    gradient_check(lambda b_: loss_fn(W, b_, X, y)[0], b, db)


@pytest.mark.w02_logistic_loss
def test_logistic_gradient_matches_central_differences():
    rng = np.random.default_rng(1)
    w, X, y = rng.normal(size=6), rng.normal(size=(11, 6)), rng.integers(0, 2, size=11)
    _, dw, db = k.logistic_loss(w, 0.4, X, y)
    gradient_check(lambda w_: k.logistic_loss(w_, 0.4, X, y)[0], w, dw)
    gradient_check(lambda b_: k.logistic_loss(w, float(b_), X, y)[0], np.array(0.4), np.array(db))


@pytest.mark.w02_logistic_loss
def test_logistic_loss_is_finite_for_huge_scores():
    X = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    loss, dw, db = k.logistic_loss(np.array([1e4]), 0.0, X, np.array([0, 1, 1, 0]))
    assert np.isfinite(loss) and loss == pytest.approx(0.5e4)  # two examples wrong by 1e4
    assert np.all(np.isfinite(dw)) and np.isfinite(db)


# The same objective as scikit-learn: identical minimizers -------------------------------
def _minimize(objective, W0, b0):
    """Minimize ``objective(W, b) -> (value, dW, db)`` with L-BFGS (a test-only optimizer)."""
    shape = np.shape(W0)

    def fun(theta):
        value, dW, db = objective(theta[:W0.size].reshape(shape), theta[W0.size:])
        return value, np.concatenate([np.ravel(dW), np.ravel(db)])

    theta0 = np.concatenate([np.ravel(W0), np.ravel(b0)])
    result = minimize(fun, theta0, jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000})
    return result.x[:W0.size].reshape(shape), result.x[W0.size:]


def _blobs(rng, n, d, n_classes):
    centres = 2.0 * rng.normal(size=(n_classes, d))
    y = rng.integers(0, n_classes, size=n)
    return centres[y] + rng.normal(size=(n, d)), y


@pytest.mark.w02_logistic_loss
def test_logistic_regression_equals_sklearn_on_the_same_objective():
    rng = np.random.default_rng(2)
    X, y = _blobs(rng, 200, 4, 2)
    l2 = 0.05
    objective = k.regularized(lambda w, b, X_, y_: k.logistic_loss(w, float(b[0]), X_, y_), l2=l2)
    w, b = _minimize(lambda w_, b_: objective(w_, b_, X, y), np.zeros(4), np.zeros(1))
    # sklearn minimizes C·Σ loss_i + ½||w||², i.e. mean loss + ½ l2 ||w||² with C = 1 / (l2 N).
    sk = LogisticRegression(C=1 / (l2 * len(X)), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(w, sk.coef_[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(b, sk.intercept_, rtol=1e-5, atol=1e-7)
    assert k.accuracy(w, b[0], X, y) == pytest.approx(sk.score(X, y))


@pytest.mark.w02_softmax_loss_vectorized
def test_softmax_regression_equals_multinomial_sklearn_on_the_same_objective():
    rng = np.random.default_rng(3)
    X, y = _blobs(rng, 300, 5, 4)
    l2 = 0.02
    objective = k.regularized(k.softmax_loss_vectorized, l2=l2)
    W, b = _minimize(lambda W_, b_: objective(W_, b_, X, y), np.zeros((5, 4)), np.zeros(4))
    sk = LogisticRegression(C=1 / (l2 * len(X)), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(W, sk.coef_.T, rtol=1e-5, atol=1e-6)
    # Adding a constant to every bias changes no probability: compare centred biases.
    np.testing.assert_allclose(b - b.mean(), sk.intercept_ - sk.intercept_.mean(), atol=1e-5)
    assert k.accuracy(W, b, X, y) == pytest.approx(sk.score(X, y))


@pytest.mark.w02_softmax_loss_vectorized
def test_sgd_softmax_reaches_sklearn_accuracy():
    rng = np.random.default_rng(4)
    X, y = _blobs(rng, 600, 6, 5)
    X_test, y_test = X[400:], y[400:]
    X, y = X[:400], y[:400]
    l2 = 1e-3
    W, b, history = k.sgd(k.regularized(k.softmax_loss_vectorized, l2=l2), np.zeros((6, 5)),
                          np.zeros(5), X, y, lr=0.5, epochs=30, batch_size=32, lr_decay=0.9,
                          progress=False)
    sk = LogisticRegression(C=1 / (l2 * len(X)), max_iter=1000).fit(X, y)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert abs(k.accuracy(W, b, X_test, y_test) - sk.score(X_test, y_test)) <= 0.02


def test_sgd_does_not_modify_its_inputs_and_is_reproducible():
    rng = np.random.default_rng(5)
    X, y = _blobs(rng, 100, 3, 3)
    W0, b0 = np.zeros((3, 3)), np.zeros(3)
    run = lambda: k.sgd(k.svm_loss_vectorized, W0, b0, X, y, lr=0.1, epochs=2,  # noqa: E731
                        batch_size=16, seed=7, X_val=X, y_val=y, progress=False)
    (W1, b1, h1), (W2, b2, h2) = run(), run()
    assert not W0.any() and not b0.any()
    np.testing.assert_array_equal(W1, W2)
    assert h1 == h2 and len(h1["val_acc"]) == 2


def test_l1_gives_sparser_weights_than_l2():
    """The lecture's claim, on a problem where only 2 of 20 features matter."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(400, 20))
    y = (X[:, 0] - X[:, 1] > 0).astype(np.int64)
    binary = lambda w, b, X_, y_: k.logistic_loss(w, float(b), X_, y_)  # noqa: E731
    fit = lambda l1, l2: k.sgd(k.regularized(binary, l1=l1, l2=l2), np.zeros(20), 0.0,  # noqa: E731
                               X, y, lr=0.2, epochs=40, batch_size=400, progress=False)[0]
    w_l1, w_l2 = fit(0.02, 0.0), fit(0.0, 0.02)
    assert np.sum(np.abs(w_l1[2:])) < 0.5 * np.sum(np.abs(w_l2[2:]))


@pytest.mark.parametrize("scores, expected", [([[0.0, 2.0], [3.0, -1.0]], [1, 0]),
                                              ([0.5, -0.5, 0.0], [1, 0, 0])])
def test_predict_multiclass_and_binary(scores, expected):
    scores = np.array(scores)
    W = np.eye(scores.shape[1]) if scores.ndim == 2 else np.ones(1)
    X = scores if scores.ndim == 2 else scores[:, None]
    np.testing.assert_array_equal(k.predict(W, 0.0 * W[0], X), expected)


def test_sigmoid_is_stable():
    s = np.array([-1e4, -30.0, 0.0, 30.0, 1e4])
    np.testing.assert_allclose(k.sigmoid(s), torch.sigmoid(torch.from_numpy(s)).numpy(),
                               rtol=1e-15, atol=0)
