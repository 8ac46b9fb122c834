"""Week 3 checks: distances, kNN voting, PCA and the two steps of EM for Gaussian mixtures.

Edge cases from the lecture: a test point that coincides with a training point (distance
0, where ``||a||² + ||b||² - 2a·b`` can round below zero), ties in distance and in the vote
(the tie rules are part of the contract), wide data (fewer examples than features), data
far from the origin (centring), a point far from every Gaussian (every density underflows)
and a nearly singular covariance.

What a case exists to show is placed on purpose, not left to the draw, so that a mistake's
partial credit does not depend on the seed (issue 19): kNN cases plant the rows that
decide them (:func:`knn_row`, :func:`knn_levels`, :func:`knn_index_tie`), PCA data has
exactly known principal directions (:func:`_pca_data`), whitening clouds have an exact
largest variance, and coinciding points of the public distance case are exact.
"""

from __future__ import annotations

import numpy as np

from grader.check import Case, Exercise, register

REFERENCE = "answers.kernels.week03"


# --------------------------------------------------------------------------------------
# Distances and kNN
# --------------------------------------------------------------------------------------
def _distance_cases(rng: np.random.Generator) -> list[Case]:
    # Multiples of 1/8: every square, product and sum of the coinciding points is exact, so
    # their expanded squared distance is exactly 0 under every draw and on any BLAS (a
    # negative rounding residue, which a missing clip turns into nan, is the hidden cases'
    # subject: with two drawn points it showed under some seeds only).
    train = np.round(8.0 * rng.normal(size=(9, 4))) / 8.0
    test = np.vstack([rng.normal(size=(3, 4)), train[[2, 5]]])  # two test points = train points
    return [
        Case("random: 5 test, 7 train points, 3 features",
             (rng.normal(size=(5, 3)), rng.normal(size=(7, 3)))),
        Case("a single test point", (rng.normal(size=(1, 6)), rng.normal(size=(4, 6)))),
        Case("one feature", (rng.normal(size=(4, 1)), rng.normal(size=(6, 1)))),
        Case("test points equal to training points (distance 0)", (test, train)),
        Case("more test than training points", (rng.normal(size=(8, 2)), rng.normal(size=(3, 2)))),
    ]


def balanced_labels(rng: np.random.Generator, n: int, classes) -> np.ndarray:
    """``n`` labels, the ``classes`` (a count or a list) each used ``n // len`` or one more
    times, in a random order: every class has the points a planted row needs."""
    classes = np.arange(classes) if np.isscalar(classes) else np.asarray(classes)
    return rng.permutation(classes[np.arange(n) % len(classes)])


def _take(rng: np.random.Generator, y: np.ndarray, labels, pool: dict) -> list[int]:
    """One unused training index (a random one) per label of ``labels``, in order."""
    if not pool:
        pool.update({int(c): list(rng.permutation(np.flatnonzero(y == c))) for c in np.unique(y)})
    return [int(pool[int(label)].pop()) for label in labels]


def knn_row(rng: np.random.Generator, y: np.ndarray, near, far=()) -> np.ndarray:
    """Random distances (N,) from one test point, all distinct: training points labelled
    ``near[0]``, ``near[1]``, … are the nearest, in that order, and points labelled ``far``
    the farthest; the others in between. A planted row decides what a case shows, whatever
    the draw."""
    pool: dict = {}
    near, far = _take(rng, y, near, pool), _take(rng, y, far, pool)
    dists = rng.uniform(0.3, 0.7, size=len(y))
    dists[near] = np.sort(rng.uniform(0.0, 0.3, size=len(near)))
    dists[far] = rng.uniform(0.7, 1.0, size=len(far))
    return dists


def knn_levels(rng: np.random.Generator, y: np.ndarray, levels, rest) -> np.ndarray:
    """Integer distances (N,): ``levels`` is ``[(distance, labels), …]``, a training point
    (a random one) of each label placed at that distance; every other point at a distance
    drawn from ``rest``."""
    pool: dict = {}
    dists = rng.choice(np.asarray(rest, dtype=np.float64), size=len(y))
    for distance, labels in levels:
        dists[_take(rng, y, labels, pool)] = distance
    return dists


def knn_index_tie(rng: np.random.Generator, y: np.ndarray, near: int, at: float,
                  below, above: float) -> np.ndarray:
    """Integer distances (N,) where the training index alone decides the last neighbour.

    ``near`` points (a training point of label X, then Y, X, Y, …) sit at distances drawn
    from ``below``; at distance ``at`` sit one point of label X among the first three
    indices and *every* other point of label Y after it; everything else at ``above``. The
    k = near + 1 nearest are decided by the smaller index (X wins the vote); any other
    tied point makes Y win. A ranking that is not stable picks that point only by luck.
    """
    first = int(rng.integers(0, 3))
    x = y[first]
    y_label = rng.choice(np.setdiff1d(np.unique(y), [x]))
    pool: dict = {}
    pool.update({int(c): [i for i in rng.permutation(np.flatnonzero(y == c)) if i != first]
                 for c in np.unique(y)})
    near_labels = [x if i % 2 == 0 else y_label for i in range(near)]
    near_index = _take(rng, y, near_labels, pool)
    dists = np.full(len(y), float(above))
    dists[near_index] = rng.choice(np.asarray(below, dtype=np.float64), size=near)
    tied = [first] + [i for i in np.flatnonzero(y == y_label) if i > first and i not in near_index]
    dists[tied] = at
    return dists


def distinct_labels(rng: np.random.Generator, classes, count: int) -> list[int]:
    """``count`` distinct labels of ``classes`` in a random order."""
    return [int(c) for c in rng.choice(classes, size=count, replace=False)]


def _knn_cases(rng: np.random.Generator) -> list[Case]:
    """Each case plants the rows that decide what it shows (so that a mistake fails the same
    cases under every draw: its partial credit does not depend on the seed), the other rows
    random. A vote tied between labels is planted with its first-counted label the largest
    (a tie sent to the largest or to the first-counted label shows); the "k + 1" row has a
    (k + 1)-th neighbour that turns the vote to a smaller label; the "farthest" row's
    farthest points carry none of the nearest points' label."""
    def stack(name: str, planted: list[np.ndarray], m: int, y: np.ndarray, k: int,
              ties: bool = False) -> Case:
        random = [rng.integers(0, 4, size=len(y)).astype(np.float64) if ties
                  else rng.random(size=len(y)) for _ in range(m - len(planted))]
        return Case(name, (rng.permutation(np.stack(planted + random)), y, k))

    cases = []
    y = balanced_labels(rng, 10, 3)
    hi, mid, lo = sorted(distinct_labels(rng, 3, 3), reverse=True)
    a, c = distinct_labels(rng, 3, 2)
    cases.append(stack("random distances, k=3", [
        knn_row(rng, y, [hi, *distinct_labels(rng, [mid, lo], 2)]),
        knn_row(rng, y, [hi, lo, hi, lo]),
        knn_row(rng, y, [a, a, a], far=[c, c, c])], 6, y, 3))

    y = balanced_labels(rng, 8, 4)
    a, b = sorted(distinct_labels(rng, 4, 2), reverse=True)
    c, d = distinct_labels(rng, 4, 2)
    cases.append(stack("k=1 (nearest neighbour)", [
        knn_row(rng, y, [a, b]), knn_row(rng, y, [c], far=[d])], 5, y, 1))

    y = balanced_labels(rng, 9, 3)
    hi, mid, lo = sorted(distinct_labels(rng, 3, 3), reverse=True)
    a, b, c = distinct_labels(rng, 3, 3)
    cases.append(stack("k=4: tied votes go to the smallest label", [
        knn_row(rng, y, [hi, lo, hi, lo]),
        knn_row(rng, y, [hi, hi, mid, lo, lo]),
        knn_row(rng, y, [a, a, a, b], far=[b, b, c, c])], 12, y, 4))

    y = balanced_labels(rng, 6, 2)
    cases.append(stack("k=2 with two classes (many tied votes)", [
        knn_row(rng, y, [1, 0]), knn_row(rng, y, [0, 1, 1]),
        knn_row(rng, y, [0, 0], far=[1, 1])], 10, y, 2))

    y = balanced_labels(rng, 30, 4)
    hi, mid, lo = sorted(distinct_labels(rng, 4, 3), reverse=True)
    a, b = sorted(distinct_labels(rng, 4, 2), reverse=True)
    c = distinct_labels(rng, np.setdiff1d(np.arange(4), [a]), 3)
    cases.append(stack("ties in distance: the smaller training index comes first", [
        knn_levels(rng, y, [(0, [hi]), (1, [mid, lo])], rest=(2, 3)),
        knn_levels(rng, y, [(0, [a, b, a]), (1, [b])], rest=(2, 3)),
        knn_levels(rng, y, [(0, [a, a, a]), (3, c)], rest=(1, 2)),
        *[knn_index_tie(rng, y, 2, 2.0, below=(0, 1), above=3.0) for _ in range(8)]],
        12, y, 3, ties=True))

    p = distinct_labels(rng, 3, 3)
    y = rng.permutation([p[0], p[0], p[0], p[1], p[2]])  # one label has a majority
    cases.append(stack("k equals the number of training points", [], 4, y, 5))
    return cases


# --------------------------------------------------------------------------------------
# PCA
# --------------------------------------------------------------------------------------
def _scaled(rng: np.random.Generator, n: int, d: int, offset: float = 0.0) -> np.ndarray:
    """Correlated data whose principal variances are well separated (components unique)."""
    basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return offset + (rng.normal(size=(n, d)) * 1.6 ** -np.arange(d)) @ basis.T


def _first_component(rng: np.random.Generator, d: int, same_sign: bool) -> np.ndarray:
    """A random orthonormal basis ``(d, d)`` whose first column has its entry of largest
    magnitude elsewhere than in row 0 (by a margin of 0.01), a first entry of magnitude at
    least 0.1, and a first entry of the same sign as the largest or of the opposite one."""
    while True:
        basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
        v = np.abs(basis[:, 0])
        top = np.sort(v)[::-1]
        if v.argmax() != 0 and v[0] >= 0.1 and top[0] - top[1] >= 0.01:
            break
    largest = basis[v.argmax(), 0]
    if (np.sign(basis[0, 0]) == np.sign(largest)) != same_sign:
        basis[0] = -basis[0]  # a reflection of feature 0: still orthonormal
    return basis


def _pca_data(rng: np.random.Generator, n: int, d: int, offset: float = 0.0,
              first_sign_agrees: bool = False) -> np.ndarray:
    """Data ``(n, d)``: a random mean plus ``offset``, and centred data exactly ``U S Vᵀ``
    (``U`` random orthonormal columns orthogonal to the mean, standard deviations 1.6^-i),
    so the principal directions are exactly the columns of :func:`_first_component`'s basis.

    The first component's first entry agrees in sign with its largest entry only when
    ``first_sign_agrees``: whether a sign fixed by the first entry shows is decided here, not
    by sampling noise (with drawn data the directions move by ~1/√n)."""
    r = min(n - 1, d)
    basis = _first_component(rng, d, first_sign_agrees)
    g = rng.normal(size=(n, r))
    u, _ = np.linalg.qr(g - g.mean(axis=0))
    s = np.sqrt(n - 1) * 1.6 ** -np.arange(r)
    return offset + rng.normal(size=d) + (u * s) @ basis[:, :r].T


def _pca_fit_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("40 examples, 6 features, 3 components", (_pca_data(rng, 40, 6), 3)),
        Case("one component", (_pca_data(rng, 30, 4, first_sign_agrees=True), 1)),
        Case("all components", (_pca_data(rng, 25, 5), 5)),
        Case("wide data: 6 examples, 10 features", (_pca_data(rng, 6, 10), 4)),
        Case("data far from the origin (offset 100)", (_pca_data(rng, 30, 5, offset=100.0), 2)),
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



def _top_variance(X: np.ndarray, top: float) -> np.ndarray:
    """``X`` scaled about its mean so that its largest principal variance (unbiased) is
    exactly ``top``."""
    mean = X.mean(axis=0)
    largest = np.linalg.eigvalsh(np.atleast_2d(np.cov(X, rowvar=False))).max()
    return mean + (X - mean) * np.sqrt(top / largest)


def _whiten_cases(rng: np.random.Generator) -> list[Case]:
    """Every cloud's largest variance is exactly 0.25 (0.04 where eps = 1e-5), not a drawn
    value near 1: an eps rescaled by the largest variance (wrong: eps is in absolute units)
    changes the result by far more than the tolerance under every draw. (Not 0.25 where eps
    is tiny: sqrt(0.25 + eps) ≈ sqrt(0.25) + eps, so eps added outside the root would pass.)"""
    def cloud(n: int, d: int, offset: float = 0.0, top: float = 0.25) -> np.ndarray:
        return _top_variance(_scaled(rng, n, d, offset=offset), top)

    wide = cloud(5, 8)
    return [
        Case("a correlated 2-D cloud, eps=1e-5", (cloud(60, 2, top=0.04), 1e-5)),
        Case("6 features, a large regularizer (eps=0.1, above several variances)",
             (cloud(50, 6), 0.1)),
        Case("data far from the origin (offset 100), eps=1e-4",
             (cloud(40, 4, offset=100.0), 1e-4)),
        Case("wide data: 5 examples, 8 features (4 directions with no variance), eps=1e-2",
             (wide, 1e-2)),
        Case("few examples (N=4), 3 features, eps=1e-3", (cloud(4, 3), 1e-3)),
        Case("one feature, eps=1e-5", (cloud(20, 1, top=0.04), 1e-5)),
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
