"""Week 1: reference kernels against independent oracles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import StandardScaler

from answers.kernels import week01 as k
from tests.strategies import logits, logits_and_labels, train_test



# Oracles: PyTorch and scikit-learn, never the kernels themselves -------------------------
@pytest.mark.w01_softmax
@given(logits())
def test_softmax_matches_torch(x):
    expected = torch.softmax(torch.from_numpy(x), dim=-1).numpy()
    np.testing.assert_allclose(k.softmax(x), expected, rtol=1e-12, atol=1e-300)


@pytest.mark.w01_log_softmax
@given(logits())
def test_log_softmax_matches_torch(x):
    expected = torch.log_softmax(torch.from_numpy(x), dim=-1).numpy()
    np.testing.assert_allclose(k.log_softmax(x), expected, rtol=1e-12, atol=1e-9)


@pytest.mark.w01_logsumexp
@given(logits(), st.integers(-1, 2))
def test_logsumexp_matches_torch(x, axis):
    axis = axis % x.ndim
    expected = torch.logsumexp(torch.from_numpy(x), dim=axis).numpy()
    np.testing.assert_allclose(k.logsumexp(x, axis=axis), expected, rtol=1e-12, atol=1e-9)


@pytest.mark.w01_cross_entropy
@given(logits_and_labels())
def test_cross_entropy_matches_torch(data):
    x, y = data
    expected = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(y))
    assert k.cross_entropy(x, y) == pytest.approx(expected.item(), rel=1e-10, abs=1e-10)


@pytest.mark.w01_standardize
@given(train_test())
@settings(max_examples=50)
def test_standardize_matches_sklearn(data):
    x_train, x_test = data
    scaler = StandardScaler().fit(x_train)
    with np.errstate(all="ignore"):  # eps=0 divides constant features by zero: excluded below
        got_train, got_test = k.standardize(x_train, x_test, eps=0.0)
    constant = scaler.scale_ == 1.0  # sklearn leaves zero-variance features unscaled
    keep = ~constant & (x_train.std(axis=0) > 1e-6 * (1 + np.abs(x_train).max(axis=0)))
    np.testing.assert_allclose(got_train[:, keep], scaler.transform(x_train)[:, keep],
                               rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(got_test[:, keep], scaler.transform(x_test)[:, keep],
                               rtol=1e-7, atol=1e-6)


@pytest.mark.w01_log_softmax_backward
@given(logits())
@settings(max_examples=50, deadline=None)  # the first autograd call warms torch up
def test_log_softmax_backward_matches_torch_autograd(x):
    dout = np.random.default_rng(x.size).normal(size=x.shape)
    xt = torch.from_numpy(x).requires_grad_(True)
    torch.log_softmax(xt, dim=-1).backward(torch.from_numpy(dout))
    np.testing.assert_allclose(k.log_softmax_backward(dout, x), xt.grad.numpy(),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.w01_log_softmax_backward
def test_log_softmax_backward_matches_numerical_gradient():
    from grader.check import numerical_gradient_array, rel_error

    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    numeric = numerical_gradient_array(k.log_softmax, x, dout)
    assert rel_error(k.log_softmax_backward(dout, x), numeric) < 1e-7


@pytest.mark.w01_softplus
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=20))
def test_softplus_matches_torch(values):
    x = np.array(values)
    # torch's softplus returns x itself above `threshold`; 40 is far past where that is exact
    expected = torch.nn.functional.softplus(torch.from_numpy(x), threshold=40).numpy()
    np.testing.assert_allclose(k.softplus(x), expected, rtol=1e-12, atol=0)


@pytest.mark.w01_softplus
def test_softplus_keeps_tiny_values_relative_to_mpmath():
    mpmath = pytest.importorskip("mpmath")
    for x in (-745.0, -700.0, -50.0, -1e-12, 0.0, 1e-12, 30.0, 709.0, 1000.0):
        exact = float(mpmath.log1p(mpmath.exp(mpmath.mpf(x))))
        assert k.softplus(np.array([x]))[0] == pytest.approx(exact, rel=1e-14, abs=0)


def test_lecture_pca_variance_convention_matches_sklearn_up_to_n_over_n_minus_1():
    """Lecture §6.2 (review, factual errors 13): s²/n is the population variance; scikit-learn
    (and Week 3) use s²/(n−1); the directions and the shares of variance agree."""
    from sklearn.decomposition import PCA

    x = np.random.default_rng(0).normal(size=(40, 3)) @ np.diag([3.0, 1.0, 0.2])
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    n = x.shape[0]
    pca = PCA().fit(x)
    np.testing.assert_allclose(s**2 / n * n / (n - 1), pca.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose((s**2 / n) / (s**2 / n).sum(), pca.explained_variance_ratio_,
                               rtol=1e-10)
    np.testing.assert_allclose(np.abs(vt[0]), np.abs(pca.components_[0]), rtol=1e-8)
