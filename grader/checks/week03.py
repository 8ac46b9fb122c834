"""Week 3 checks: distances, kNN voting, PCA and the two steps of EM for Gaussian mixtures.

Edge cases from the lecture: a test point that coincides with a training point (distance
0, where ``||a||² + ||b||² - 2a·b`` can round below zero), ties in distance and in the vote
(the tie rules are part of the contract), wide data (fewer examples than features), data
far from the origin (centring), a point far from every Gaussian (every density underflows)
and a nearly singular covariance.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week03"


# --------------------------------------------------------------------------------------
# Distances and kNN
# --------------------------------------------------------------------------------------
def _distance_cases(rng: np.random.Generator) -> list[Case]:
    train = rng.normal(size=(9, 4))
    test = np.vstack([rng.normal(size=(3, 4)), train[[2, 5]]])  # two test points = train points
    return [
        Case("random: 5 test, 7 train points, 3 features",
             (rng.normal(size=(5, 3)), rng.normal(size=(7, 3)))),
        Case("a single test point", (rng.normal(size=(1, 6)), rng.normal(size=(4, 6)))),
        Case("one feature", (rng.normal(size=(4, 1)), rng.normal(size=(6, 1)))),
        Case("test points equal to training points (distance 0)", (test, train)),
        Case("more test than training points", (rng.normal(size=(8, 2)), rng.normal(size=(3, 2)))),
    ]


def _knn_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, m: int, n: int, k: int, n_classes: int, ties: bool = False) -> Case:
        dists = (rng.integers(0, 4, size=(m, n)).astype(np.float64) if ties
                 else rng.random(size=(m, n)))
        return Case(name, (dists, rng.integers(0, n_classes, size=n), k))

    return [
        case("random distances, k=3", 6, 10, 3, 3),
        case("k=1 (nearest neighbour)", 5, 8, 1, 4),
        case("k=4: tied votes go to the smallest label", 12, 9, 4, 3),
        case("k=2 with two classes (many tied votes)", 10, 6, 2, 2),
        case("ties in distance: the smaller training index comes first", 8, 30, 3, 4, ties=True),
        case("k equals the number of training points", 4, 5, 5, 3),
    ]


# --------------------------------------------------------------------------------------
# PCA
# --------------------------------------------------------------------------------------
def _scaled(rng: np.random.Generator, n: int, d: int, offset: float = 0.0) -> np.ndarray:
    """Correlated data whose principal variances are well separated (components unique)."""
    basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return offset + (rng.normal(size=(n, d)) * 1.6 ** -np.arange(d)) @ basis.T


def _pca_fit_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("40 examples, 6 features, 3 components", (_scaled(rng, 40, 6), 3)),
        Case("one component", (_scaled(rng, 30, 4), 1)),
        Case("all components", (_scaled(rng, 25, 5), 5)),
        Case("wide data: 6 examples, 10 features", (_scaled(rng, 6, 10), 4)),
        Case("data far from the origin (offset 100)", (_scaled(rng, 30, 5, offset=100.0), 2)),
    ]


def _pca_transform_cases(rng: np.random.Generator) -> list[Case]:
    def case(name: str, n: int, d: int, k: int, shift: float = 0.0) -> Case:
        components, _ = np.linalg.qr(rng.normal(size=(d, k)))
        return Case(name, (rng.normal(size=(n, d)) + shift, rng.normal(size=d), components.T))

    return [
        case("10 points, 5 features, 2 components", 10, 5, 2),
        case("a single point", 1, 4, 3),
        case("a test set whose mean is not the fitted mean", 8, 3, 2, shift=5.0),
        case("one component", 6, 7, 1),
    ]



def _whiten_cases(rng: np.random.Generator) -> list[Case]:
    wide = _scaled(rng, 5, 8)
    return [
        Case("a correlated 2-D cloud, eps=1e-5", (_scaled(rng, 60, 2), 1e-5)),
        Case("6 features, a large regularizer (eps=0.1, above several variances)",
             (_scaled(rng, 50, 6), 0.1)),
        Case("data far from the origin (offset 100), eps=1e-4",
             (_scaled(rng, 40, 4, offset=100.0), 1e-4)),
        Case("wide data: 5 examples, 8 features (4 directions with no variance), eps=1e-2",
             (wide, 1e-2)),
        Case("few examples (N=4), 3 features, eps=1e-3", (_scaled(rng, 4, 3), 1e-3)),
        Case("one feature, eps=1e-5", (_scaled(rng, 20, 1), 1e-5)),
    ]


# --------------------------------------------------------------------------------------
# Gaussian mixtures
# --------------------------------------------------------------------------------------
def _spd(rng: np.random.Generator, d: int, smallest: float = 0.2) -> np.ndarray:
    basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (basis * rng.uniform(smallest, 2.0, size=d)) @ basis.T


def _mixture(rng: np.random.Generator, k: int, d: int) -> tuple[np.ndarray, ...]:
    weights = rng.dirichlet(np.full(k, 3.0))
    means = 3.0 * rng.normal(size=(k, d))
    covariances = np.stack([_spd(rng, d) for _ in range(k)])
    return weights, means, covariances


def _e_step_cases(rng: np.random.Generator) -> list[Case]:
    w, mu, cov = _mixture(rng, 3, 2)
    far = np.vstack([rng.normal(size=(4, 2)), [[300.0, -400.0]]])
    thin = cov.copy()
    thin[1] = _spd(rng, 2, smallest=1e-6)
    return [
        Case("20 points, 3 components in 2-D", (3.0 * rng.normal(size=(20, 2)), w, mu, cov)),
        Case("one feature", (rng.normal(size=(8, 1)), *_mixture(rng, 2, 1))),
        Case("one component (every responsibility is 1)",
             (rng.normal(size=(6, 3)), *_mixture(rng, 1, 3))),
        Case("4 components in 5-D", (3.0 * rng.normal(size=(15, 5)), *_mixture(rng, 4, 5))),
        Case("a point far from every component (densities underflow)", (far, w, mu, cov)),
        Case("a nearly singular covariance", (rng.normal(size=(10, 2)), w, mu, thin)),
    ]


def _m_step_cases(rng: np.random.Generator) -> list[Case]:
    def soft(n: int, k: int, scale: float = 2.0) -> np.ndarray:
        logits = scale * rng.normal(size=(n, k))
        return logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))

    hard = np.full((12, 3), -np.inf)
    hard[np.arange(12), np.arange(12) % 3] = 0.0
    return [
        Case("30 points, 3 components in 2-D", (rng.normal(size=(30, 2)), soft(30, 3), 1e-6)),
        Case("hard assignments (log-responsibilities 0 or -inf)",
             (rng.normal(size=(12, 3)), hard, 1e-6)),
        Case("a larger regularizer (reg=0.1)", (rng.normal(size=(20, 2)), soft(20, 2), 0.1)),
        Case("no regularizer (reg=0)", (rng.normal(size=(25, 3)), soft(25, 2), 0.0)),
        Case("one feature, 4 components", (rng.normal(size=(40, 1)), soft(40, 4, 1.0), 1e-6)),
        Case("data far from the origin (offset 50)",
             (50.0 + rng.normal(size=(20, 2)), soft(20, 3), 1e-6)),
    ]


_LECTURE = "course/week03-knn-pca-gmm.ipynb"
_DISTANCE_SEE = f"{_LECTURE} §2 Distance matrices: two loops, one loop, no loops"
_DISTANCE_HINT = ("dists[i, j] is the Euclidean distance (with the square root) between test "
                  "point i and training point j, so the result has one row per test point and "
                  "one column per training point.")

register(
    Exercise(
        id="w03_distances_two_loops", function="distances_two_loops",
        reference=f"{REFERENCE}:distances_two_loops", make_cases=_distance_cases, points=1,
        see=_DISTANCE_SEE, hint=_DISTANCE_HINT, atol=1e-6),
    Exercise(
        id="w03_distances_one_loop", function="distances_one_loop",
        reference=f"{REFERENCE}:distances_one_loop", make_cases=_distance_cases, points=1,
        see=_DISTANCE_SEE,
        hint=_DISTANCE_HINT + " With one loop, each test point is compared with all training "
             "points at once by broadcasting; reduce over the feature axis only.",
        atol=1e-6),
    Exercise(
        id="w03_distances_no_loops", function="distances_no_loops",
        reference=f"{REFERENCE}:distances_no_loops", make_cases=_distance_cases, points=2,
        hidden="answers.hidden.week03:distances_hidden", see=_DISTANCE_SEE,
        hint=_DISTANCE_HINT + " The expansion of the squared distance has three terms: two "
             "norms that broadcast as a column and a row, and one matrix product (check its "
             "sign and factor). nan means a negative number reached the square root: for "
             "coinciding points cancellation leaves residues of either sign.",
        atol=1e-6),
    Exercise(
        id="w03_knn_predict", function="knn_predict", reference=f"{REFERENCE}:knn_predict",
        make_cases=_knn_cases, points=2, hidden="answers.hidden.week03:knn_hidden",
        see=f"{_LECTURE} §3 Voting, ties, and a check against scikit-learn",
        hint="the failing case names the tie it tests. Equal distances must keep training "
             "index order (does your ranking promise that for equal keys?), and a tied vote "
             "must go to the smallest label (which of several equal maxima does your choice "
             "return?). Count votes for every class, including labels absent from a row."),
    Exercise(
        id="w03_pca_fit", function="pca_fit", reference=f"{REFERENCE}:pca_fit",
        make_cases=_pca_fit_cases, points=3, rtol=1e-6, atol=1e-9,
        outputs=("mean", "components", "explained_variance"),
        see=f"{_LECTURE} §6 PCA: explained variance, eigen-images, reconstruction",
        hint="the directions come from the centred data, largest variance first; the variance "
             "along a direction is the unbiased one (as scikit-learn reports); each direction "
             "is defined only up to its sign, and the contract fixes it by the entry of "
             "largest absolute value."),
    Exercise(
        id="w03_pca_transform", function="pca_transform",
        reference=f"{REFERENCE}:pca_transform", make_cases=_pca_transform_cases, points=1,
        see=f"{_LECTURE} §6 PCA: explained variance, eigen-images, reconstruction",
        hint="coordinates are measured from the *fitted* mean, the one passed in, not the "
             "mean of the data given now (a test set has its own); one coordinate per "
             "component."),
    Exercise(
        id="w03_zca_whiten", function="zca_whiten", reference=f"{REFERENCE}:zca_whiten",
        make_cases=_whiten_cases, points=3, rtol=1e-6, atol=1e-8,
        hidden="answers.hidden.week03:whiten_hidden", outputs=("mean", "W"),
        see=f"{_LECTURE} §7 Whitening: PCA and ZCA",
        hint="the failing case names what it stresses. Whitening undoes the covariance of "
             "the centred data (the unbiased one, as in pca_fit); W must be symmetric positive "
             "definite (ZCA rotates back into the original coordinates) and must not depend "
             "on which eigenvector basis a solver returns. eps is in the units of a variance "
             "and is not rescaled by the data: check your whitened variances against the "
             "contract along directions far above, near and far below eps, including "
             "directions the data does not span at all (fewer examples than features)."),
    Exercise(
        id="w03_gmm_e_step", function="gmm_e_step", reference=f"{REFERENCE}:gmm_e_step",
        make_cases=_e_step_cases, points=3, rtol=1e-6, atol=1e-8,
        outputs=("log_resp", "mean_log_likelihood"),
        see=f"{_LECTURE} §8 Gaussian mixtures and EM in log space",
        hint="stay in log space from the start: a far-away point has every density equal to 0 "
             "in float64. Each row is normalized with a max-shifted log-sum-exp over the "
             "components (weights included); the log-likelihood is the mean over points of "
             "that normalizer. Factor the covariance rather than inverting it or taking det."),
    Exercise(
        id="w03_gmm_m_step", function="gmm_m_step", reference=f"{REFERENCE}:gmm_m_step",
        make_cases=_m_step_cases, points=3, rtol=1e-7, atol=1e-10,
        hidden="answers.hidden.week03:m_step_hidden",
        outputs=("weights", "means", "covariances"),
        see=f"{_LECTURE} §8 Gaussian mixtures and EM in log space",
        hint="maximize Q one parameter group at a time: the weights under their sum-to-one "
             "constraint, then each mean, then each covariance around the *new* mean — every "
             "component sees all points, weighted by its responsibilities, normalized by its "
             "own total responsibility. Far from the origin, form covariances from centred "
             "data; the ridge goes on the diagonal only."),
)
