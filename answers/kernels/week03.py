"""Week 3 reference kernels: k-nearest neighbours, PCA and Gaussian mixtures (EM).

Conventions the checks rely on:

* distances are Euclidean (not squared): ``dists[i, j] = ||X_test[i] - X_train[j]||``;
* kNN ties: among training points at the same distance the one with the smaller index
  comes first, and a tied vote goes to the smallest label;
* a principal component's sign is chosen so that its entry of largest absolute value is
  positive;
* a Gaussian mixture is ``(weights (K,), means (K, D), covariances (K, D, D))``.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from answers.kernels.week01 import logsumexp

LOG_2PI = np.log(2.0 * np.pi)


# --------------------------------------------------------------------------------------
# Distances
# --------------------------------------------------------------------------------------
def distances_two_loops(X_test: np.ndarray, X_train: np.ndarray) -> np.ndarray:
    """Euclidean distances with a Python loop over every (test, train) pair.

    Args:
        X_test: ``(M, D)``.
        X_train: ``(N, D)``.

    Returns:
        ``(M, N)`` with ``dists[i, j] = ||X_test[i] - X_train[j]||``.
    """
    dists = np.zeros((X_test.shape[0], X_train.shape[0]))
    for i in range(X_test.shape[0]):
        for j in range(X_train.shape[0]):
            diff = X_test[i] - X_train[j]
            dists[i, j] = np.sqrt(np.sum(diff * diff))
    return dists


def distances_one_loop(X_test: np.ndarray, X_train: np.ndarray) -> np.ndarray:
    """Euclidean distances, one loop over test points; each row is broadcast against ``X_train``."""
    dists = np.zeros((X_test.shape[0], X_train.shape[0]))
    for i in range(X_test.shape[0]):
        diff = X_train - X_test[i]  # (N, D)
        dists[i] = np.sqrt(np.sum(diff * diff, axis=1))
    return dists


def squared_distances(X_test: np.ndarray, X_train: np.ndarray) -> np.ndarray:
    """``||a - b||² = ||a||² + ||b||² - 2 a·b`` for every pair: one matrix product, no loop.

    Rounding can make an entry slightly negative when two points (nearly) coincide: it is
    clipped to 0. Shapes as in :func:`distances_two_loops`.
    """
    test_sq = np.sum(X_test * X_test, axis=1)[:, None]  # (M, 1)
    train_sq = np.sum(X_train * X_train, axis=1)[None, :]  # (1, N)
    return np.maximum(test_sq + train_sq - 2.0 * (X_test @ X_train.T), 0.0)


def distances_no_loops(X_test: np.ndarray, X_train: np.ndarray) -> np.ndarray:
    """Euclidean distances without loops (see :func:`squared_distances`)."""
    return np.sqrt(squared_distances(X_test, X_train))


# --------------------------------------------------------------------------------------
# k-nearest neighbours
# --------------------------------------------------------------------------------------
def majority_vote(neighbour_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Most frequent label of each row of ``(M, k)`` labels; a tie goes to the smallest label."""
    counts = np.zeros((neighbour_labels.shape[0], n_classes), dtype=np.int64)
    np.add.at(counts, (np.arange(neighbour_labels.shape[0])[:, None], neighbour_labels), 1)
    return np.argmax(counts, axis=1)  # argmax returns the first (smallest) of tied labels


def knn_predict(dists: np.ndarray, y_train: np.ndarray, k: int) -> np.ndarray:
    """Predict each test point's label by a majority vote of its ``k`` nearest neighbours.

    Args:
        dists: ``(M, N)`` distances from each test point to each training point.
        y_train: ``(N,)`` integer labels in ``[0, C)``.
        k: number of neighbours (``1 <= k <= N``).

    Returns:
        ``(M,)`` int64 labels. Ties between training points at the same distance are broken
        by the smaller training index (a *stable* sort); a tied vote goes to the smallest label.
    """
    nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
    return majority_vote(y_train[nearest], int(y_train.max()) + 1)


def k_nearest(sq_dists: np.ndarray, k: int) -> np.ndarray:
    """Indices ``(M, k)`` of the ``k`` smallest entries of each row, in :func:`knn_predict`'s order.

    ``np.argpartition`` finds the ``k`` smallest in linear time instead of sorting all ``N``;
    those ``k`` are then ordered by (distance, index). Equal to the stable sort except when
    several points tie exactly at the ``k``-th distance.
    """
    candidates = np.argpartition(sq_dists, k - 1, axis=1)[:, :k]
    candidates.sort(axis=1)  # by index, so the stable sort below breaks ties by index
    order = np.argsort(np.take_along_axis(sq_dists, candidates, axis=1), axis=1, kind="stable")
    return np.take_along_axis(candidates, order, axis=1)


def knn_neighbours(X_train: np.ndarray, X_test: np.ndarray, k: int,
                   chunk_size: int = 500, progress: bool = False) -> np.ndarray:
    """Indices ``(M, k)`` of each test point's ``k`` nearest training points, nearest first.

    Works on ``chunk_size`` test points at a time, so memory stays near
    ``chunk_size × N`` floats instead of ``M × N`` (10,000 × 60,000 float64 is 4.8 GB).
    """
    train_sq = np.sum(X_train * X_train, axis=1)
    out = np.empty((X_test.shape[0], k), dtype=np.int64)
    starts = range(0, X_test.shape[0], chunk_size)
    for start in tqdm(starts, disable=not progress, desc="kNN", unit="chunk"):
        chunk = X_test[start:start + chunk_size]
        # ||a||² is the same for every train point: it does not change the ranking of a row.
        sq = train_sq[None, :] - 2.0 * (chunk @ X_train.T)
        out[start:start + chunk_size] = k_nearest(sq, k)
    return out


def knn_classify(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, k: int,
                 chunk_size: int = 500, progress: bool = False) -> np.ndarray:
    """kNN predictions ``(M,)`` for a large test set, in bounded memory (see :func:`knn_neighbours`)."""
    nearest = knn_neighbours(X_train, X_test, k, chunk_size, progress)
    return majority_vote(y_train[nearest], int(y_train.max()) + 1)


def knn_cross_validate(X: np.ndarray, y: np.ndarray, ks: list[int], n_folds: int = 5,
                       seed: int = 0, chunk_size: int = 500,
                       progress: bool = False) -> np.ndarray:
    """Accuracy of kNN for each ``k`` in ``ks`` on each of ``n_folds`` folds: ``(n_folds, len(ks))``.

    The neighbours of each held-out point are found once for the largest ``k``; every
    smaller ``k`` votes with a prefix of them.
    """
    order = np.random.default_rng(seed).permutation(len(X))
    folds = np.array_split(order, n_folds)
    scores = np.zeros((n_folds, len(ks)))
    n_classes = int(y.max()) + 1
    for f, held_out in enumerate(tqdm(folds, disable=not progress, desc="folds")):
        train = np.setdiff1d(order, held_out)
        nearest = knn_neighbours(X[train], X[held_out], max(ks), chunk_size)
        labels = y[train][nearest]
        for j, k in enumerate(ks):
            scores[f, j] = np.mean(majority_vote(labels[:, :k], n_classes) == y[held_out])
    return scores


# --------------------------------------------------------------------------------------
# PCA
# --------------------------------------------------------------------------------------
def _largest_entry_positive(components: np.ndarray) -> np.ndarray:
    """Flip each row so that its entry of largest absolute value is positive."""
    largest = components[np.arange(len(components)), np.argmax(np.abs(components), axis=1)]
    return components * np.sign(largest)[:, None]


def pca_fit(X: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal components of ``X`` from the SVD of the centred data.

    With ``X - mean = U S Vᵀ``, the rows of ``Vᵀ`` are the principal directions, ordered by
    decreasing variance ``S² / (N - 1)``. A direction's sign is arbitrary: each is flipped
    so that its entry of largest absolute value is positive.

    Args:
        X: ``(N, D)`` data (standardize it first if features have different units).
        n_components: ``K <= min(N, D)``.

    Returns:
        ``(mean (D,), components (K, D), explained_variance (K,))``; components are
        orthonormal rows.
    """
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    explained_variance = s[:n_components] ** 2 / (X.shape[0] - 1)
    return mean, _largest_entry_positive(vt[:n_components]), explained_variance


def pca_fit_covariance(X: np.ndarray,
                       n_components: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`pca_fit` through the eigenvectors of the ``(D, D)`` covariance matrix.

    ``Xcᵀ Xc / (N - 1) = V (S² / (N - 1)) Vᵀ``: the same components and variances. When
    ``N ≫ D`` forming ``Xcᵀ Xc`` (one matrix product) and diagonalizing a ``D × D`` matrix
    is several times faster than the SVD of the ``N × D`` data, but it squares the condition
    number: variances below ``eps · s₁²`` are lost, which the largest components never are.
    Same contract and sign convention as :func:`pca_fit`.
    """
    mean = X.mean(axis=0)
    centred = X - mean
    variances, vectors = np.linalg.eigh(centred.T @ centred / (X.shape[0] - 1))
    order = np.argsort(variances)[::-1][:n_components]  # eigh sorts ascending
    return mean, _largest_entry_positive(vectors[:, order].T), variances[order]


def pca_transform(X: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Coordinates ``(N, K)`` of ``X (N, D)`` along the components: ``(X - mean) Vᵀ``."""
    return (X - mean) @ components.T


def pca_inverse_transform(Z: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Reconstruction ``(N, D)`` from coordinates ``Z (N, K)``: ``Z V + mean``."""
    return Z @ components + mean



def zca_whiten(X: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """ZCA (Mahalanobis) whitening of ``X``, regularized by ``eps``: ``W = (C + eps·I)^(-1/2)``.

    ``C = Xcᵀ Xc / (N - 1)`` is the covariance of the centred data (the unbiased one, as in
    :func:`pca_fit`), with eigendecomposition ``C = V diag(λ) Vᵀ``. Then
    ``W = V diag((λ + eps)^(-1/2)) Vᵀ``: the whitened data ``(X - mean) Wᵀ`` has variance
    ``λ_k / (λ_k + eps)`` along eigen-direction ``k`` — about 1 where ``λ_k ≫ eps``, about 0
    (untouched, not amplified) where ``λ_k ≪ eps``. ``W`` is symmetric positive definite:
    unlike PCA whitening (``diag((λ + eps)^(-1/2)) Vᵀ``) it rotates back into pixel space, and
    it is unique even where eigenvalues repeat or vanish (no sign or basis convention needed).

    Directions the data does not span (``N ≤ D``, or duplicated features) have ``λ = 0`` and
    gain ``eps^(-1/2)``; ``eigh`` may return them as tiny negative numbers, which are clipped
    to 0 first.

    Args:
        X: ``(N, D)`` data, ``N ≥ 2``.
        eps: regularizer, ``> 0``, in the units of a variance.

    Returns:
        ``(mean (D,), W (D, D))``; whiten new data with ``(X_new - mean) @ W.T``.
    """
    mean = X.mean(axis=0)
    centred = X - mean
    variances, vectors = np.linalg.eigh(centred.T @ centred / (X.shape[0] - 1))
    gains = 1.0 / np.sqrt(np.clip(variances, 0.0, None) + eps)
    return mean, (vectors * gains) @ vectors.T


def pca_whiten_matrix(X: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """PCA whitening ``W = diag((λ + eps)^(-1/2)) Vᵀ``, rows largest variance first.

    Same contract as :func:`zca_whiten` except that ``W`` is the rotation to principal
    coordinates followed by the rescaling (row signs as in :func:`pca_fit`). ``W_zca = Vᵀ
    W_pca`` — ZCA is PCA whitening rotated back.
    """
    mean = X.mean(axis=0)
    centred = X - mean
    variances, vectors = np.linalg.eigh(centred.T @ centred / (X.shape[0] - 1))
    order = np.argsort(variances)[::-1]
    rows = _largest_entry_positive(vectors[:, order].T)
    return mean, rows / np.sqrt(np.clip(variances[order], 0.0, None) + eps)[:, None]


# --------------------------------------------------------------------------------------
# Gaussian mixtures, fitted by EM in log space
# --------------------------------------------------------------------------------------
def gaussian_log_pdf(X: np.ndarray, mean: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """``log N(x | mean, covariance)`` for each row of ``X (N, D)``: ``(N,)``.

    With the Cholesky factor ``Σ = L Lᵀ``, ``z = L⁻¹(x - μ)`` gives the Mahalanobis term
    ``zᵀz`` and ``log det Σ = 2 Σ log L_ii``, without ever forming ``Σ⁻¹``. ``L⁻¹`` is
    triangular and well conditioned when ``L`` is; computing it once turns the ``N``
    triangular solves into one matrix product.
    """
    L = np.linalg.cholesky(covariance)
    z = (X - mean) @ np.linalg.inv(L).T  # row i is L⁻¹(x_i - μ)
    log_det = 2.0 * np.sum(np.log(np.diag(L)))
    return -0.5 * (X.shape[1] * LOG_2PI + log_det + np.sum(z * z, axis=1))


def gmm_e_step(X: np.ndarray, weights: np.ndarray, means: np.ndarray,
               covariances: np.ndarray) -> tuple[np.ndarray, float]:
    """E-step: log-responsibilities and the mean log-likelihood, all in log space.

    ``log r_ik = log π_k + log N(x_i | μ_k, Σ_k) - log Σ_j π_j N(x_i | μ_j, Σ_j)``; the
    normalizer is a log-sum-exp over components, so a point far from every component (all
    densities underflow to 0) still gets finite log-responsibilities.

    Args:
        X: ``(N, D)``.
        weights: ``(K,)`` mixing proportions (positive, summing to one).
        means: ``(K, D)``.
        covariances: ``(K, D, D)`` symmetric positive definite.

    Returns:
        ``(log_resp (N, K), mean_log_likelihood)``: ``logsumexp(log_resp) = 0`` per row;
        the float is ``(1/N) Σ_i log p(x_i)``.
    """
    weighted = np.stack([np.log(w) + gaussian_log_pdf(X, mu, cov)
                         for w, mu, cov in zip(weights, means, covariances)], axis=1)
    log_norm = logsumexp(weighted, axis=1)
    return weighted - log_norm[:, None], float(np.mean(log_norm))


def gmm_m_step(X: np.ndarray, log_resp: np.ndarray,
               reg: float = 1e-6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M-step: the weights, means and full covariances that maximize the expected log-likelihood.

    With ``r = exp(log_resp)`` and ``N_k = Σ_i r_ik``: ``π_k = N_k / N``,
    ``μ_k = Σ_i r_ik x_i / N_k``, ``Σ_k = Σ_i r_ik (x_i - μ_k)(x_i - μ_k)ᵀ / N_k + reg·I``.
    The ridge ``reg·I`` keeps each covariance invertible even when a component collapses
    onto a few points. ``N_k`` gets ``10·eps`` added (as in scikit-learn) so an empty
    component gives zeros instead of 0/0.

    Args:
        X: ``(N, D)``.
        log_resp: ``(N, K)`` log-responsibilities from :func:`gmm_e_step`.
        reg: added to the diagonal of each covariance.

    Returns:
        ``(weights (K,), means (K, D), covariances (K, D, D))``.
    """
    resp = np.exp(log_resp)
    nk = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps
    means = (resp.T @ X) / nk[:, None]
    covariances = np.empty((len(nk), X.shape[1], X.shape[1]))
    for k in range(len(nk)):
        centred = X - means[k]
        covariances[k] = (resp[:, k, None] * centred).T @ centred / nk[k]
        covariances[k].flat[::X.shape[1] + 1] += reg  # += reg on the diagonal
    return nk / X.shape[0], means, covariances


def kmeans_plusplus(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding: ``k`` centres ``(k, D)`` chosen among the rows of ``X``.

    The first centre is uniform; each next one is drawn with probability proportional to
    its squared distance from the nearest centre chosen so far, which spreads the centres
    over the clusters.
    """
    centres = [X[rng.integers(len(X))]]
    closest = squared_distances(X, centres[0][None, :])[:, 0]
    for _ in range(1, k):
        centres.append(X[rng.choice(len(X), p=closest / closest.sum())])
        closest = np.minimum(closest, squared_distances(X, centres[-1][None, :])[:, 0])
    return np.array(centres)


def gmm_init(X: np.ndarray, k: int, reg: float = 1e-6,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial mixture: k-means++ centres, each point assigned to its nearest, one M-step."""
    centres = kmeans_plusplus(X, k, np.random.default_rng(seed))
    nearest = np.argmin(squared_distances(X, centres), axis=1)
    log_resp = np.full((len(X), k), -np.inf)
    log_resp[np.arange(len(X)), nearest] = 0.0
    return gmm_m_step(X, log_resp, reg)


def gmm_fit(X: np.ndarray, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray,
            *, reg: float = 1e-6, max_iter: int = 100, tol: float = 1e-6,
            progress: bool = False) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], list[float]]:
    """EM from the given parameters: at most ``max_iter`` rounds of E-step then M-step.

    Stops early once an M-step changes the mean log-likelihood by less than ``tol``. EM
    never decreases the likelihood; that is asserted after every M-step (up to rounding),
    so a bug in either step shows up at once.

    Returns:
        ``((weights, means, covariances), history)``: the fitted parameters and the mean
        log-likelihood after 0, 1, 2, ... M-steps; ``history[-1]`` is that of the returned
        parameters.
    """
    params = (weights, means, covariances)
    history: list[float] = []
    bar = tqdm(total=max_iter, disable=not progress, desc="EM", unit="iter")
    while True:
        log_resp, log_likelihood = gmm_e_step(X, *params)
        if history:
            slack = 1e-9 * abs(history[-1])  # rounding noise once EM has converged
            assert log_likelihood >= history[-1] - slack, \
                f"EM decreased the log-likelihood: {history[-1]!r} -> {log_likelihood!r}"
        history.append(log_likelihood)
        converged = len(history) > 1 and abs(history[-1] - history[-2]) < tol  # as sklearn
        if converged or len(history) > max_iter:
            break
        params = gmm_m_step(X, log_resp, reg)
        bar.update(1)
        bar.set_postfix(loglik=f"{log_likelihood:.5f}")
    bar.close()
    return params, history
