"""Week 3: kNN, PCA and GMM kernels against PyTorch, SciPy and scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import KNeighborsClassifier

from answers.kernels import week03 as k
from tests.conftest import exercise_param
from tests.strategies import point_sets



# Distances: torch.cdist (exact, difference-based) -----------------------------------------
@pytest.mark.parametrize("distances", [
    exercise_param("w03_distances_two_loops", k.distances_two_loops),
    exercise_param("w03_distances_one_loop", k.distances_one_loop),
    exercise_param("w03_distances_no_loops", k.distances_no_loops)])
@given(points=point_sets())
def test_distances_match_torch_cdist(distances, points):
    X_test, X_train = points
    expected = torch.cdist(torch.from_numpy(X_test), torch.from_numpy(X_train),
                           compute_mode="donot_use_mm_for_euclid_dist").numpy()
    # The no-loop expansion loses ~sqrt(eps)·|x| to cancellation where two points coincide.
    atol = 1e-6 * (1 + np.abs(X_test).max() + np.abs(X_train).max())
    np.testing.assert_allclose(distances(X_test, X_train), expected, rtol=1e-7, atol=atol)


@pytest.mark.w03_distances_no_loops
def test_no_loop_distances_never_nan_for_coinciding_points():
    X = np.random.default_rng(0).normal(size=(50, 30)) * 1e3
    assert np.all(np.isfinite(k.distances_no_loops(X, X)))


# kNN: scikit-learn's brute-force classifier ------------------------------------------------
@pytest.mark.w03_knn_predict
@pytest.mark.parametrize("k_neighbours", [1, 2, 3, 4, 5, 8, 15])
def test_knn_equals_sklearn_brute(k_neighbours):
    """Continuous data: no ties in distance; even k gives tied votes, which both send to
    the smallest label."""
    rng = np.random.default_rng(k_neighbours)
    X_train, y_train = rng.normal(size=(300, 6)), rng.integers(0, 4, size=300)
    X_test = rng.normal(size=(250, 6))
    sk = KNeighborsClassifier(k_neighbours, algorithm="brute").fit(X_train, y_train)
    ours = k.knn_predict(k.distances_no_loops(X_test, X_train), y_train, k_neighbours)
    np.testing.assert_array_equal(ours, sk.predict(X_test))
    chunked = k.knn_classify(X_train, y_train, X_test, k_neighbours, chunk_size=64)
    np.testing.assert_array_equal(chunked, ours)


@pytest.mark.w03_knn_predict
def test_knn_tie_rules():
    # Test point 0: train points 0..3 at distances 1, 1, 1, 2 with labels 2, 1, 1, 0.
    #   k=1: the tie at distance 1 goes to the smaller index (label 2).
    #   k=2: labels {2, 1}: a tied vote goes to the smaller label, 1.
    # Test point 1: every distance equal: the first k training points vote.
    dists = np.array([[1.0, 1.0, 1.0, 2.0], [3.0, 3.0, 3.0, 3.0]])
    y_train = np.array([2, 1, 1, 0])
    np.testing.assert_array_equal(k.knn_predict(dists, y_train, 1), [2, 2])
    np.testing.assert_array_equal(k.knn_predict(dists, y_train, 2), [1, 1])
    np.testing.assert_array_equal(k.knn_predict(dists, y_train, 4), [1, 1])


@given(st.integers(0, 10_000), st.integers(1, 12))
@settings(max_examples=40)
def test_k_nearest_equals_the_stable_sort(seed, k_neighbours):
    """argpartition + stable sort orders the k nearest exactly like a stable full sort,
    including ties in distance (small integers), unless a tie straddles the k-th place."""
    sq = np.random.default_rng(seed).integers(0, 6, size=(5, 20)).astype(np.float64)
    expected = np.argsort(sq, axis=1, kind="stable")[:, :k_neighbours]
    got = k.k_nearest(sq, k_neighbours)
    kth = np.sort(sq, axis=1)[:, k_neighbours - 1]
    clean = (sq == kth[:, None]).sum(axis=1) == (np.sort(sq, axis=1)[:, :k_neighbours]
                                                 == kth[:, None]).sum(axis=1)
    np.testing.assert_array_equal(got[clean], expected[clean])
    np.testing.assert_array_equal(np.take_along_axis(sq, got, 1),
                                  np.take_along_axis(sq, expected, 1))


def test_knn_cross_validate_matches_manual_folds():
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(120, 4)), rng.integers(0, 3, size=120)
    scores = k.knn_cross_validate(X, y, [1, 3, 5], n_folds=4, seed=1)
    order = np.random.default_rng(1).permutation(120)
    for f, held_out in enumerate(np.array_split(order, 4)):
        train = np.setdiff1d(order, held_out)
        for j, k_neighbours in enumerate([1, 3, 5]):
            sk = KNeighborsClassifier(k_neighbours, algorithm="brute").fit(X[train], y[train])
            assert scores[f, j] == pytest.approx(sk.score(X[held_out], y[held_out]))


# PCA: scikit-learn, up to the sign of each component -------------------------------------
@pytest.mark.w03_pca_fit
@pytest.mark.parametrize("fit", [k.pca_fit, k.pca_fit_covariance], ids=["svd", "covariance"])
@pytest.mark.parametrize("n, d, n_components", [(200, 10, 4), (50, 8, 8), (12, 30, 5)])
def test_pca_matches_sklearn_up_to_sign(fit, n, d, n_components):
    rng = np.random.default_rng(n)
    X = 5.0 + rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    mean, components, variance = fit(X, n_components)
    sk = PCA(n_components, svd_solver="full").fit(X)
    signs = np.sign(np.sum(components * sk.components_, axis=1))
    np.testing.assert_allclose(mean, sk.mean_, rtol=1e-12)
    np.testing.assert_allclose(components, signs[:, None] * sk.components_, atol=1e-9)
    np.testing.assert_allclose(variance, sk.explained_variance_, rtol=1e-9)
    Z = k.pca_transform(X, mean, components)
    np.testing.assert_allclose(Z, sk.transform(X) * signs, atol=1e-8)
    np.testing.assert_allclose(k.pca_inverse_transform(Z, mean, components),
                               sk.inverse_transform(sk.transform(X)), atol=1e-8)


@pytest.mark.w03_pca_fit
def test_pca_sign_convention_and_orthonormality():
    X = np.random.default_rng(3).normal(size=(40, 7)) * np.arange(1, 8)
    _, components, variance = k.pca_fit(X, 5)
    largest = components[np.arange(5), np.argmax(np.abs(components), axis=1)]
    assert np.all(largest > 0)
    np.testing.assert_allclose(components @ components.T, np.eye(5), atol=1e-12)
    assert np.all(np.diff(variance) <= 0)


# GMM: SciPy densities, weighted moments, scikit-learn's EM ---------------------------------
def _mixture_problem(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(size=(n // 3, 2)) + [4, 0],
                        rng.normal(size=(n // 3, 2)) @ [[1.0, 0.6], [0.0, 0.5]],
                        0.5 * rng.normal(size=(n - 2 * (n // 3), 2)) + [0, 4]])
    return X, k.gmm_init(X, 3, seed=seed)


@pytest.mark.w03_gmm_e_step
def test_e_step_matches_scipy():
    X, (weights, means, covariances) = _mixture_problem(0)
    X = np.vstack([X, [[200.0, -300.0]]])  # far from every component: densities underflow
    joint = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(X)
                      for w, m, c in zip(weights, means, covariances)], axis=1)
    log_resp, log_likelihood = k.gmm_e_step(X, weights, means, covariances)
    np.testing.assert_allclose(log_resp, joint - logsumexp(joint, axis=1, keepdims=True),
                               rtol=1e-9, atol=1e-9)
    assert log_likelihood == pytest.approx(np.mean(logsumexp(joint, axis=1)), rel=1e-12)
    assert np.all(np.isfinite(log_resp[-1]))  # no underflow to log(0)


@pytest.mark.w03_gmm_m_step
def test_m_step_matches_weighted_moments():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    logits = rng.normal(size=(50, 4))
    log_resp = logits - logsumexp(logits, axis=1, keepdims=True)
    weights, means, covariances = k.gmm_m_step(X, log_resp, reg=1e-3)
    resp = np.exp(log_resp)
    np.testing.assert_allclose(weights, resp.mean(axis=0), rtol=1e-12)
    for j in range(4):
        np.testing.assert_allclose(means[j], np.average(X, axis=0, weights=resp[:, j]),
                                   rtol=1e-10, atol=1e-12)
        expected = np.cov(X.T, aweights=resp[:, j], bias=True) + 1e-3 * np.eye(3)
        np.testing.assert_allclose(covariances[j], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.w03_gmm_e_step
@pytest.mark.w03_gmm_m_step
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_em_matches_sklearn_from_the_same_start(seed):
    X, (weights, means, covariances) = _mixture_problem(seed, n=600)
    n_iter = 25
    (w, m, c), history = k.gmm_fit(X, weights, means, covariances, reg=1e-6,
                                   max_iter=n_iter, tol=0.0)
    assert len(history) == n_iter + 1
    assert np.all(np.diff(history) >= -1e-12 * np.abs(history[:-1]))  # EM never goes down
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0: runs exactly n_iter steps
        sk = GaussianMixture(3, covariance_type="full", reg_covar=1e-6, tol=0.0,
                             max_iter=n_iter, weights_init=weights, means_init=means,
                             precisions_init=np.linalg.inv(covariances)).fit(X)
    assert history[-1] == pytest.approx(sk.score(X), rel=1e-6)
    np.testing.assert_allclose(m, sk.means_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(w, sk.weights_, rtol=1e-6)
    np.testing.assert_allclose(c, sk.covariances_, rtol=1e-6, atol=1e-8)


def test_gmm_fit_stops_once_converged():
    X, start = _mixture_problem(3)
    _, history = k.gmm_fit(X, *start, max_iter=500, tol=1e-8)
    assert len(history) < 501 and abs(history[-1] - history[-2]) < 1e-8


def test_gmm_fit_asserts_that_the_likelihood_never_decreases(monkeypatch):
    X, (weights, means, covariances) = _mixture_problem(3)
    broken = lambda X_, log_resp, reg: (weights, means + 3.0, covariances)  # noqa: E731
    monkeypatch.setattr(k, "gmm_m_step", broken)
    with pytest.raises(AssertionError, match="decreased"):
        k.gmm_fit(X, weights, means, covariances, max_iter=3)


def test_kmeans_plusplus_picks_distinct_data_points():
    X, _ = _mixture_problem(4)
    centres = k.kmeans_plusplus(X, 5, np.random.default_rng(0))
    assert len({tuple(c) for c in centres}) == 5
    assert all(any(np.array_equal(c, x) for x in X) for c in centres)


# Whitening: scikit-learn's PCA(whiten=True) and SciPy's matrix power --------------------------
@pytest.mark.w03_zca_whiten
@pytest.mark.parametrize("n, d", [(200, 3), (60, 8), (500, 1)])
def test_zca_whiten_matches_sklearn_pca_whitening_rotated_back(n, d):
    rng = np.random.default_rng(n + d)
    X = 5.0 + rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    mean, W = k.zca_whiten(X, eps=1e-12)
    sk = PCA(whiten=True, svd_solver="full").fit(X)  # PCA whitening, no regularizer
    np.testing.assert_allclose(mean, sk.mean_, rtol=1e-12)
    np.testing.assert_allclose((X - mean) @ W.T, sk.transform(X) @ sk.components_,
                               rtol=1e-6, atol=1e-8)  # ZCA = PCA whitening rotated back
    _, W_pca = k.pca_whiten_matrix(X, eps=1e-12)
    np.testing.assert_allclose(np.abs((X - mean) @ W_pca.T), np.abs(sk.transform(X)),
                               rtol=1e-6, atol=1e-8)  # PCA whitening, up to each sign
    np.testing.assert_allclose(W_pca.T @ W_pca, W @ W, rtol=1e-6)  # both square to C⁻¹


@pytest.mark.w03_zca_whiten
def test_zca_whiten_is_the_inverse_square_root_of_the_regularized_covariance():
    from scipy.linalg import fractional_matrix_power
    rng = np.random.default_rng(3)
    for X, eps in [(rng.normal(size=(40, 5)) @ rng.normal(size=(5, 5)), 1e-3),
                   (rng.normal(size=(4, 7)), 1e-2),                       # rank 3 of 7
                   (np.repeat(rng.normal(size=(30, 2)), 2, axis=1), 0.5)]:  # duplicated columns
        mean, W = k.zca_whiten(X, eps)
        expected = fractional_matrix_power(np.cov(X, rowvar=False) + eps * np.eye(X.shape[1]),
                                           -0.5)
        np.testing.assert_allclose(W, np.real(expected), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(W, W.T, atol=1e-12)
        # whitened covariance: I where the data varies, shrunk by λ / (λ + eps) elsewhere
        whitened = np.cov((X - mean) @ W.T, rowvar=False)
        values = np.linalg.eigvalsh(np.cov(X, rowvar=False)).clip(0)
        np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(whitened)),
                                   np.sort(values / (values + eps)), atol=1e-9)


@pytest.mark.w03_zca_whiten
def test_zca_of_full_rank_data_gives_identity_covariance():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(1000, 4)) @ rng.normal(size=(4, 4)) * 10.0
    mean, W = k.zca_whiten(X, eps=1e-10)
    np.testing.assert_allclose(np.cov((X - mean) @ W.T, rowvar=False), np.eye(4), atol=1e-8)
