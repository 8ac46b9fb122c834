"""Week 14 milestone: the learner's generator, graded on the images it makes (issue 15).

``w14_milestone``
    The grader draws ``N`` latent vectors ``z (N, 64)`` (standard normal, from a seed drawn
    per grading run) plus :data:`REPEATS` of them again at random places, and calls the
    learner's ``milestone_sample(checkpoint, z)`` in the sandbox; the images come back and
    everything else happens here, outside the learner's code:

    1. the images are validated: shape ``(N + REPEATS, 1, 28, 28)``, a floating dtype,
       finite, in ``[-1, 1]``; a repeated latent vector must give the same image (a sampler
       that ignores ``z`` and draws its own randomness fails here);
    2. **memorisation**: the nearest training or test image of each of the first
       :data:`NN_SAMPLES` samples (root-mean-square pixel distance in ``[-1, 1]``); if at
       least :data:`COPY_SHARE` of them lie within :data:`COPY_RMS` of a real image, the
       generator is returning stored images and scores 0 (the measured reference run and
       the real test images themselves stay far below that share: see
       ``bench/results/milestones_gan.json``);
    3. the **Fréchet distance** between Gaussians fitted to the course classifier's
       features (:func:`grader.gans.feature_net`, 32 pooled channels of the week-12 ResNet
       trained on all ten classes) of the ``N`` samples and of the ``N`` held-out test
       images; credit 1 at ≤ ``full``, falling linearly to 0 at ≥ ``zero``
       (:data:`BARS`). The message also reports how the samples spread over the
       classifier's ten classes (a mode-collapsed generator shows a spike).
``w14_milestone_probe``
    ``milestone_probe(real, steps, seed)``: :func:`grader.gans.wgan_probe` runs 20 rounds of
    the learner's ``critic_step`` and ``generator_step`` on 32 training images from a seed
    drawn per grading run; :func:`probe_credit` judges the record here (five equal parts:
    the penalty is WGAN-GP's, critic steps raise the estimate, generator steps raise the
    critic's score of their samples, the gradient norms at the interpolates lie near the
    penalty's target 1 or move towards it, all finite).

What is and is not caught. Caught: a file that is not the generator the notebook builds
(names and shapes, checked by ``grader.gans.load_generator`` in the learner's own loading
code, and the file's format and size checked here before any learner code runs); a
generator that memorised training images, or a sampler that returns stored real images
(nearest-neighbour share); a sampler that ignores ``z`` (repeated latent vectors); a
collapsed generator (its Fréchet distance is large: the covariance term); wrong penalties,
wrong loss signs and steps that do not train (the probe). Not caught: a generator trained
elsewhere (with other code) while the notebook's own training code also works — the probe
then passes and the checkpoint is judged on its images only; real images altered enough
(blurred, shifted, noised beyond :data:`COPY_RMS`) to escape the nearest-neighbour test
(such images then have to earn their Fréchet distance); a sampler code path that differs
from the training code (the grader cannot see which code produced the file).

Grading-time bound: the notebook's cells (30 s each, the sandbox's cell limit), then
``milestone_sample`` at most 120 s and the probe at most 90 s in the sandbox; here, the
features of the samples and of the test images and the nearest-neighbour search take about
half a minute of CPU (the feature classifier is trained once per grading machine and cached,
a few CPU-minutes, before the first submission).

Fast mode (``COURSE_FAST=1``: the tests and CI) uses the fast feature classifier (one epoch
on 2,000 images), 500 samples against the 500 fast test images, and :data:`FAST_BARS`, and
says so in every message.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from grader.check import Case, Exercise, register
from grader.config import fast_mode, pick

CHECKPOINT = "milestone_week14.pt"
Z_DIM = 64
#: Repeated latent vectors appended (at random places) to test determinism.
REPEATS = 64
#: Samples whose nearest real image is searched (memorisation test).
NN_SAMPLES = 1000
#: A sample within this root-mean-square pixel distance (images in [-1, 1]) of a real image
#: counts as a copy; at least COPY_SHARE copies among the NN_SAMPLES mean memorisation.
COPY_RMS, COPY_SHARE = 0.10, 0.05
#: (full marks at ≤, zero at ≥) of the Fréchet distance, full mode. The solution notebook's
#: reference run (480 CPU-s on a heavily shared machine, 4,539 generator steps) scored 10.49
#: (``bench/results/milestones_gan.json``; the same WGAN-GP recipe: 11.26 after 240 CPU-s and
#: 6.21 after 720 on a quiet machine, ``bench/results/week14.json``): full marks with 24 %
#: headroom; a collapsed generator (one image) scores 81.2, real-vs-real 0.016.
BARS = (13.0, 40.0)
#: The same in fast mode (fast feature classifier, 500 samples): tests only, never a class.
#: Measured with the fast classifier: the reference checkpoint 0.09–0.13 over three seeds,
#: the solution notebook's 3-CPU-s fast-mode generator 2.8, an untrained generator 4.9–6.2,
#: a collapsed one 5.3, real-vs-real floor 0.014 — but tanh of Gaussian noise 2.6: the fast
#: classifier (one epoch on 2,000 images) cannot tell noise from garments, and seconds of
#: training (2.8–4.1 measured) are no better than none. Fast mode tests the harness (files,
#: validation, memorisation, the probe), never image quality: its bars pass any generator
#: whose images the classifier can embed.
FAST_BARS = (7.0, 12.0)
PROBE_IMAGES, PROBE_STEPS, PROBE_LAMBDA = 32, 20, 10.0
#: Probe: the share of rounds whose critic / generator step must move its objective the
#: right way for full credit of that part; the band around the penalty's target 1 in which
#: the mean gradient norm of the last rounds passes outright (else it must have moved
#: towards 1 since the first rounds: a fresh critic starts far below 1).
PROBE_SHARE, NORM_BAND = 0.75, (0.5, 2.0)


def n_samples() -> int:
    return pick(10_000, 500)


@lru_cache(maxsize=2)
def _real_images(fast: bool) -> tuple[np.ndarray, np.ndarray]:
    """(training images, test images) in [-1, 1], float32 (N, 1, 28, 28)."""
    from grader.data import load_fashion_mnist

    data = load_fashion_mnist()
    return data.X_train * 2 - 1, data.X_test * 2 - 1


@lru_cache(maxsize=2)
def _test_features(fast: bool) -> tuple[np.ndarray, np.ndarray]:
    """The feature classifier's features and predicted classes of the held-out test images."""
    from grader.gans import feature_net

    return feature_net()(_real_images(fast)[1][:n_samples()])


def _sample_cases(rng: np.random.Generator) -> list[Case]:
    n = n_samples()
    z = rng.standard_normal((n, Z_DIM)).astype(np.float32)
    repeated = rng.choice(n, size=REPEATS, replace=False)
    order = rng.permutation(n + REPEATS)  # the repeats hide among the others
    z_all = np.concatenate([z, z[repeated]])[order]
    position = np.argsort(order)  # where row i of z_all's source went
    originals, copies = position[repeated], position[n + np.arange(REPEATS)]
    unique = np.sort(position[:n])
    return [Case(f"your {CHECKPOINT} on {n:,} latent vectors (+{REPEATS} repeated)",
                 (CHECKPOINT, z_all), target=(unique, originals, copies))]


def _probe_cases(rng: np.random.Generator) -> list[Case]:
    train = _real_images(fast_mode())[0]
    seed = int(rng.integers(0, 1000))
    pick_ = np.sort(rng.choice(len(train), size=PROBE_IMAGES, replace=False))
    return [Case(f"{PROBE_STEPS} critic and generator steps on {PROBE_IMAGES} training images "
                 f"from seed {seed}", (train[pick_],), {"steps": PROBE_STEPS, "seed": seed})]


def nearest_real_rms(samples: np.ndarray, batch: int = 250) -> np.ndarray:
    """Root-mean-square pixel distance of each sample to its nearest training or test image."""
    import torch

    train, test = _real_images(fast_mode())
    real = torch.from_numpy(np.concatenate([train, test]).reshape(-1, 784))
    real_sq = (real ** 2).sum(1)
    flat = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32).reshape(-1, 784))
    out = []
    for i in range(0, len(flat), batch):
        x = flat[i:i + batch]
        d2 = (x ** 2).sum(1, keepdim=True) - 2 * x @ real.T + real_sq
        out.append(d2.min(1).values.clamp_min(0) / 784)
    return torch.cat(out).sqrt().numpy().astype(np.float64)


def class_coverage(classes: np.ndarray) -> tuple[int, float]:
    """Classes holding ≥ 2% of the samples, and the entropy (nats) of the class histogram."""
    share = np.bincount(classes, minlength=10) / len(classes)
    return int(np.sum(share >= 0.02)), float(-np.sum(share[share > 0] * np.log(share[share > 0])))


def distance_credit(distance: float, full: float, zero: float) -> float:
    """1 at a distance ≤ ``full``, falling linearly to 0 at ≥ ``zero`` (nan/inf: 0)."""
    if not np.isfinite(distance):
        return 0.0
    return float(np.clip((zero - distance) / (zero - full), 0.0, 1.0))


def _validate(images, expected: int) -> str | None:
    if not isinstance(images, np.ndarray) or not np.issubdtype(images.dtype, np.floating):
        kind = images.dtype if isinstance(images, np.ndarray) else type(images).__name__
        return (f"expected a floating-point tensor of images, got {kind}: return the "
                "generator's output (N, 1, 28, 28)")
    if images.shape != (expected, 1, 28, 28):
        return (f"expected images of shape ({expected}, 1, 28, 28), one per latent vector, "
                f"got {tuple(images.shape)}")
    bad = ~np.isfinite(images).reshape(expected, -1).all(axis=1)
    if bad.any():
        return f"{int(bad.sum())} of {expected:,} images hold nan/inf (a diverged generator?)"
    low, high = float(images.min()), float(images.max())
    if low < -1.001 or high > 1.001:
        return (f"pixel values range over [{low:.3g}, {high:.3g}]; the generator's images "
                "must lie in [-1, 1] (the training images' range: end with tanh)")
    return None


def score_w14_frechet(case: Case, outputs: tuple[np.ndarray, ...]) -> tuple[float, str]:
    from grader.gans import feature_net, frechet_score

    unique, originals, copies = case.target
    images = outputs[0] if len(outputs) == 1 else None
    suffix = " [fast mode: test bars and a fast feature classifier, not the course's]" \
        if fast_mode() else ""
    problem = _validate(images, len(case.args[1])) if images is not None else \
        f"expected one tensor of images, got {len(outputs)} values"
    if problem:
        return 0.0, problem + suffix
    drift = float(np.abs(images[originals] - images[copies]).max())
    if drift > 1e-3:
        return 0.0, (f"the same latent vector gave different images (largest pixel difference "
                     f"{drift:.3g} over {REPEATS} repeated vectors): an image must be a "
                     "function of z alone — generator in eval mode, no noise of its own" + suffix)
    samples = images[unique]
    rms = nearest_real_rms(samples[:NN_SAMPLES])
    copied = float(np.mean(rms < COPY_RMS))
    if copied >= COPY_SHARE:
        return 0.0, (f"{copied:.0%} of {len(rms):,} samples are within a root-mean-square pixel "
                     f"distance of {COPY_RMS} of a Fashion-MNIST image (at most "
                     f"{COPY_SHARE:.0%} allowed): the generator returns stored real images "
                     "instead of generating them" + suffix)
    fake_features, fake_classes = feature_net()(samples)
    test_features, _ = _test_features(fast_mode())
    distance = frechet_score(fake_features, test_features)
    full, zero = FAST_BARS if fast_mode() else BARS
    credit = distance_credit(distance, full, zero)
    covered, entropy = class_coverage(fake_classes)
    return credit, (
        f"Fréchet distance {distance:.2f} between your {len(samples):,} samples and "
        f"{len(test_features):,} test images (course classifier features): {credit:.0%} of "
        f"the points (full marks at ≤ {full:g}, falling linearly to 0 at ≥ {zero:g}); "
        f"samples' predicted classes: {covered} of 10 classes hold ≥ 2% (entropy "
        f"{entropy:.2f} nats, uniform 2.30); nearest real image: median RMS distance "
        f"{float(np.median(rms)):.3f}" + suffix)


def probe_credit(record: np.ndarray, norms: np.ndarray, steps: int,
                 lam: float = PROBE_LAMBDA) -> tuple[float, str]:
    """Judge :func:`grader.gans.wgan_probe`'s record → (credit, message), five equal parts."""
    record = np.asarray(record, dtype=np.float64)
    norms = np.asarray(norms, dtype=np.float64)
    if record.shape != (steps, 8) or norms.ndim != 2 or len(norms) != steps:
        return 0.0, (f"expected the probe's record ({steps}, 8) and gradient norms ({steps}, "
                     f"N), got {record.shape} and {norms.shape}")
    if not (np.isfinite(record).all() and np.isfinite(norms).all()):
        return 0.0, "a loss, estimate or penalty became nan/inf during the probe (diverged)"
    loss, estimate, penalty, before, after, _, fake_before, fake_after = record.T
    expected_gp = lam * np.mean((norms - 1) ** 2, axis=1)
    close = lambda a, b: np.abs(a - b) <= 1e-3 * np.abs(b) + 1e-4  # noqa: E731
    gp_ok = close(penalty, expected_gp) & close(loss, expected_gp - before) \
        & close(estimate, before)
    critic_up = float(np.mean(after > before))
    generator_up = float(np.mean(fake_after > fake_before))
    first_norm, mean_norm = float(norms[:5].mean()), float(norms[-5:].mean())
    towards = abs(mean_norm - 1) < abs(first_norm - 1)
    parts = {
        "penalty": float(np.mean(gp_ok)),
        "critic": min(critic_up / PROBE_SHARE, 1.0),
        "generator": min(generator_up / PROBE_SHARE, 1.0),
        "norms": float(NORM_BAND[0] <= mean_norm <= NORM_BAND[1] or towards),
        "finite": 1.0,
    }
    lines = [
        f"penalty and loss: {int(gp_ok.sum())}/{steps} rounds match λ·mean(‖∇f(x̂)‖ − 1)² "
        f"from the course's gradient norms and loss = penalty − estimate (first round: your "
        f"penalty {penalty[0]:.4g}, expected {expected_gp[0]:.4g}; your loss {loss[0]:.4g}, "
        f"expected {expected_gp[0] - before[0]:.4g})",
        f"critic steps raised the critic's estimate on their batch in {critic_up:.0%} of the "
        f"rounds (full marks at ≥ {PROBE_SHARE:.0%})",
        f"generator steps raised the critic's score of their samples in {generator_up:.0%} of "
        f"the rounds (full marks at ≥ {PROBE_SHARE:.0%})",
        f"mean gradient norm at the interpolates {first_norm:.3g} over the first 5 rounds, "
        f"{mean_norm:.3g} over the last 5 (the penalty's target is 1: it must lie within "
        f"{NORM_BAND[0]}–{NORM_BAND[1]} or have moved towards 1"
        f"{'' if towards or NORM_BAND[0] <= mean_norm <= NORM_BAND[1] else ' — it moved away'})",
    ]
    return float(np.mean(list(parts.values()))), "; ".join(lines)


def score_w14_probe(case: Case, outputs: tuple[np.ndarray, ...]) -> tuple[float, str]:
    if len(outputs) != 2:
        return 0.0, (f"expected (record, gradient norms) from the probe, got {len(outputs)} "
                     "value(s)")
    return probe_credit(outputs[0], outputs[1], case.kwargs["steps"])


register(
    Exercise(
        id="w14_milestone", function="milestone_sample", reference="",
        make_cases=_sample_cases, points=8, timeout=120.0, framework="torch",
        score="grader.checks.milestones_gan:score_w14_frechet",
        files=(CHECKPOINT,), outputs=("images",),
        hint=("look at your samples first: garments, of every kind, with sharp edges; if they "
              "are blurry or all alike, train longer or check the critic's estimate and the "
              "penalty during training; the file must come from the generator the notebook "
              "builds"),
        see="course/week14-gans.ipynb §5 Scoring samples: a Fréchet distance on classifier "
            "features"),
    Exercise(
        id="w14_milestone_probe", function="milestone_probe", reference="",
        make_cases=_probe_cases, points=4, timeout=90.0, framework="torch",
        score="grader.checks.milestones_gan:score_w14_probe",
        outputs=("record", "gradient norms"),
        hint=("which quantity does the critic minimize, and which does the generator? each "
              "step must move its own objective the right way; the penalty is measured at the "
              "interpolates your critic step receives"),
        see="course/week14-gans.ipynb §3 Three GANs for Fashion-MNIST"),
)
