"""Week 14 milestone: the solution notebook run full size as a learner would, and its score.

``solutions/week14-gans/milestone.ipynb`` (the learner's part filled with the reference
solution) is copied into a fresh folder (no checkpoint: it trains) and executed top to
bottom with ``jupyter nbconvert --to notebook --execute`` (as ``bench/bench_milestones.py``
does for weeks 5 and 7), full size, one BLAS thread. The generator it saved
(``milestone_week14.pt``) is then scored here the way the grader scores a submission
(:mod:`grader.checks.milestones_gan`), but with the course's reference generator class
(:class:`answers.kernels.week14.ConvGenerator`, the same parameter names), independently of
the notebook's code: 10,000 samples from a fixed seed against the 10,000 test images with
the course classifier's features, the memorisation test, and the same for real training
images (the real-vs-real floor, and how many real test images the copy test would flag).

Rows ``milestone: week 14 …`` go to ``bench/results/milestones_gan.json``. The checkpoint is
copied to ``answers/milestones/`` (the demo class and the tests hand it in).

An execution takes the notebook's CPU budget (8 CPU-minutes of training) plus its checks;
on a shared machine the wall-clock is several times that. ``OUT/run.json`` records each
execution (wall-clock, CPU, command, the notebook's hash): a later run of this benchmark
whose notebook's code is unchanged scores that execution's checkpoint instead of training again,
and says so in its rows.

Run: ``python -m bench milestones_gan``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time

import numpy as np

from bench import Row
from grader.config import REPO_ROOT, fast_mode

NOTEBOOK = REPO_ROOT / "solutions" / "week14-gans" / "milestone.ipynb"
OUT = REPO_ROOT / "bench" / "out" / "milestones_gan"
REFERENCE_CHECKPOINTS = REPO_ROOT / "answers" / "milestones"
WHAT = "WGAN-GP DCGAN (own G, critic, penalty and training loop)"


def _digest() -> str:
    """A hash of the notebook's code cells (what runs; editing its text does not retrain)."""
    import nbformat

    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    code = "\n\f\n".join(c.source for c in cells if c.cell_type == "code")
    return hashlib.sha256(code.encode()).hexdigest()[:16]


def execute() -> dict:
    """Execute the solution notebook full size in ``OUT`` (or reuse an unchanged run)."""
    from bench.bench_milestones import _execute, _load_average

    record = OUT / "run.json"
    if record.is_file():
        run = json.loads(record.read_text())
        if run.get("digest") == _digest() and run.get("fast") == fast_mode() \
                and (OUT / "milestone_week14.pt").is_file():
            return {**run, "reused": True}
    load_before = _load_average()
    seconds, cpu, command = _execute(NOTEBOOK, OUT)
    run = {"digest": _digest(), "fast": fast_mode(), "seconds": seconds, "cpu": cpu,
           "command": command, "load_before": load_before, "load_after": _load_average(),
           "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    record.write_text(json.dumps(run, indent=2))
    return {**run, "reused": False}


def _reference_generator(path) -> "torch.nn.Module":  # noqa: F821
    from answers.kernels.week14 import ConvGenerator
    from grader.gans import load_generator

    generator = ConvGenerator()
    info = load_generator(path, generator)
    generator.eval()
    generator.info = info
    return generator


def milestone_gan() -> list[Row]:
    import torch

    from grader.checks import milestones_gan as m
    from grader.gans import feature_net, frechet_score

    run = execute()
    checkpoint = OUT / m.CHECKPOINT
    generator = _reference_generator(checkpoint)
    info = generator.info
    n = m.n_samples()
    torch.manual_seed(1)
    with torch.no_grad():
        z = torch.randn(n, m.Z_DIM)
        samples = torch.cat([generator(z[i:i + 1000]) for i in range(0, n, 1000)]).numpy()
    net = feature_net()
    train, test = m._real_images(fast_mode())
    test_features, _ = net(test[:n])
    fake_features, fake_classes = net(samples)
    distance = frechet_score(fake_features, test_features)
    floor = frechet_score(net(train[:n])[0], test_features)
    full, zero = m.FAST_BARS if fast_mode() else m.BARS
    credit = m.distance_credit(distance, full, zero)
    covered, entropy = m.class_coverage(fake_classes)
    collapsed = frechet_score(net(np.repeat(samples[:1], n, axis=0))[0]
                              + 1e-6 * np.random.default_rng(0).normal(size=(n, 32)),
                              test_features)
    rms = m.nearest_real_rms(samples[:m.NN_SAMPLES])
    # Real test images against the training images only: how often does the copy test fire
    # on genuinely new images of the same distribution?
    train_only = torch.from_numpy(train.reshape(len(train), -1))
    probe = torch.from_numpy(test[:m.NN_SAMPLES].reshape(-1, 784))
    d2 = ((probe ** 2).sum(1, keepdim=True) - 2 * probe @ train_only.T
          + (train_only ** 2).sum(1)).min(1).values.clamp_min(0) / 784
    real_rms = d2.sqrt().numpy()
    if not fast_mode():
        REFERENCE_CHECKPOINTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(checkpoint, REFERENCE_CHECKPOINTS / checkpoint.name)
    reused = " (reusing the recorded execution of this unchanged notebook)" \
        if run["reused"] else ""
    if run.get("interrupted"):
        reused += f" — that execution was {run['interrupted']}"
    common = (f"{WHAT}; `{run['command']}` in a fresh folder (no checkpoint: it trains){reused}, "
              f"{info.get('generator_steps', '?'):,} generator steps in "
              f"{info.get('cpu_seconds', 0):.0f} CPU-s of training (1 thread), 60,000 training "
              f"images; load average {run['load_before']} before, {run['load_after']} after "
              "(1/5/15 min) on a machine shared with other jobs")
    rows = [
        Row("milestone: week 14 WGAN-GP DCGAN, Fréchet distance of the solution notebook's "
            "generator to the test images", distance, "Fréchet distance",
            oracle="bench week14: wgan-gp (reference kernels), 240 / 720 CPU-s: 11.26 / 6.21",
            oracle_value=None, target=f"≤ {full:g} (full marks; 0 at ≥ {zero:g})",
            met=bool(distance <= full), seconds=run["seconds"],
            notes=(f"{common}; {n:,} samples (seed 1) vs {n:,} test images, course classifier "
                   f"features; {credit:.0%} of the points; samples' predicted classes: "
                   f"{covered} classes ≥ 2%, entropy {entropy:.2f} nats"),
            extra={"credit": credit, "class_histogram": np.bincount(fake_classes,
                                                                      minlength=10).tolist(),
                   "estimates_last": info.get("estimates", [])[-20:]}),
        Row("milestone: week 14 real-vs-real floor (train vs test, same features)", floor,
            "Fréchet distance", notes=f"{n:,} images each"),
        Row("milestone: week 14 a collapsed generator (the reference generator's first sample "
            f"repeated {n:,} times)", collapsed, "Fréchet distance",
            target=f"≥ {zero:g} (0 points)", met=bool(collapsed >= zero),
            notes="features jittered by 1e-6 so that the covariance is not exactly singular; "
                  f"{m.distance_credit(collapsed, full, zero):.0%} of the points"),
        Row("milestone: week 14 memorisation test on the reference generator: share of "
            f"{len(rms):,} samples within RMS {m.COPY_RMS} of a real image", float(np.mean(
                rms < m.COPY_RMS)), "share", target=f"< {m.COPY_SHARE} (not flagged)",
            met=bool(np.mean(rms < m.COPY_RMS) < m.COPY_SHARE),
            notes=(f"nearest training or test image, RMS pixel distance in [-1, 1]: median "
                   f"{np.median(rms):.3f}, 1st percentile {np.percentile(rms, 1):.3f}, "
                   f"minimum {rms.min():.3f}"),
            extra={"percentiles": np.percentile(rms, [0, 1, 5, 25, 50]).tolist()}),
        Row("milestone: week 14 memorisation test on real test images (vs training images): "
            f"share of {len(real_rms):,} within RMS {m.COPY_RMS}", float(np.mean(
                real_rms < m.COPY_RMS)), "share", target=f"< {m.COPY_SHARE} (not flagged)",
            met=bool(np.mean(real_rms < m.COPY_RMS) < m.COPY_SHARE),
            notes=(f"new images of the same distribution: median {np.median(real_rms):.3f}, "
                   f"1st percentile {np.percentile(real_rms, 1):.3f}, minimum "
                   f"{real_rms.min():.3f}"),
            extra={"percentiles": np.percentile(real_rms, [0, 1, 5, 25, 50]).tolist()}),
        Row("milestone: week 14 WGAN-GP DCGAN, wall-clock of the whole notebook (nbconvert "
            "--execute, full size)", run["seconds"], "s", seconds=run["seconds"],
            notes=f"{common}; training alone {info.get('train_seconds')} s wall-clock"),
        Row("milestone: week 14 WGAN-GP DCGAN, CPU time of the whole notebook (kernel + "
            "nbconvert, 1 BLAS thread)", run["cpu"], "s",
            target="≤ 900 s (one core busy: about the wall-clock on a quiet 2-core machine)",
            met=bool(run["cpu"] <= 900), seconds=run["seconds"],
            notes=f"{common}; wall-clock {run['seconds']:.0f} s under that load"),
    ]
    return rows


BENCHMARKS = [milestone_gan]
