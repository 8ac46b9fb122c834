"""Milestones: each solution notebook run full-size as a learner would, and what it reaches.

For weeks 5 and 7, the milestone notebook in ``solutions/`` (the learner's part filled with
the reference solution) is copied into a fresh folder (no checkpoint: it trains) and
executed top to bottom with ``jupyter nbconvert --to notebook --execute``, full size (not
fast mode), one BLAS thread. Measured:

* the **test accuracy** of the checkpoint the notebook saved (``milestone_weekNN.npz``) on
  the 10,000 Fashion-MNIST test images, computed with the course's reference kernels
  (:mod:`answers.kernels`), independently of the notebook's own code, and scored with the
  grader's metric (the bar of ``grader.checks.milestones.BARS``); oracle: the reference
  run of the same model in ``bench/results/week05.json`` / ``week07.json``;
* the **wall-clock** of the whole notebook (loading data, sanity checks, training, the
  public checks) against the milestone's time budget, and its **CPU time** (the notebook's
  kernel and nbconvert, from ``getrusage``): on this machine, shared with other jobs, the
  wall-clock is an upper bound, while the CPU time (one BLAS thread, so one core) is about
  what the run takes on a quiet 2-core machine.

The checkpoint is then copied to ``answers/milestones/`` as the reference submission's file
(the demo class hands it in with the reference notebook).

Run: ``python -m bench milestones`` (``--fast`` runs the notebooks in fast mode: only the
harness is tested).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import Row
from grader.checks.milestones import BARS, checkpoint_name
from grader.config import REPO_ROOT, fast_mode
from grader.data import load_fashion_mnist
from grader.milestone import accuracy_credit, checkpoint_info, load_params

OUT = REPO_ROOT / "bench" / "out" / "milestones"
REFERENCE_CHECKPOINTS = REPO_ROOT / "answers" / "milestones"
#: (week, notebook, time budget in seconds, what is trained)
MILESTONES = [
    (5, REPO_ROOT / "solutions" / "week05-optimization" / "milestone.ipynb", 600.0,
     "fully-connected net 784-256-256-10 (Week 4 layers, Week 5 Adam + cosine)"),
    (7, REPO_ROOT / "solutions" / "week07-cnn" / "milestone.ipynb", 600.0,
     "LeNet-5 (own conv, pooling, affine, ReLU, softmax-CE, Adam)"),
]


def _load_average() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _execute(notebook: Path, folder: Path) -> tuple[float, float, str]:
    """Run ``notebook`` in ``folder`` with nbconvert; return (seconds, CPU seconds, command)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    copy = folder / notebook.name
    shutil.copy(notebook, copy)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    command = [str(Path(sys.executable).with_name("jupyter")), "nbconvert", "--to", "notebook",
               "--execute", "--inplace", "--ExecutePreprocessor.timeout=-1", copy.name]
    if fast_mode():
        # Seconds of training: a notebook's own check of its model may fail (the fast GAN
        # collapsed in one CI run and not in the next); the bench still scores what was
        # saved, and fast-mode rows are never stored. Full size, a failing cell stops it.
        command.insert(-1, "--allow-errors")
    start, cpu = time.perf_counter(), _cpu_seconds()
    subprocess.run(command, cwd=folder, env=env, check=True)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    shown = ("OPENBLAS_NUM_THREADS=1 jupyter nbconvert --to notebook --execute "
             f"{notebook.relative_to(REPO_ROOT)}")
    return seconds, cpu, shown


def _scores_week05(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    from answers.kernels.week04 import affine_forward, relu_forward

    h = ((x.reshape(len(x), -1) - 0.2860) / 0.3530).astype(np.float32)
    depth = len(params) // 2
    for i in range(1, depth + 1):
        h = affine_forward(h, params[f"W{i}"], params[f"b{i}"])[0]
        if i < depth:
            h = relu_forward(h)[0]
    return h


def _scores_week07(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    from answers.kernels.week07 import lenet_forward

    x = ((x - 0.2860) / 0.3530).astype(np.float32)
    return np.concatenate([lenet_forward(params, x[i:i + 500])[0]
                           for i in range(0, len(x), 500)])


def _oracle(week: int) -> tuple[str, float | None]:
    """The reference run of the same kind of model, from the week's stored benchmark."""
    path = REPO_ROOT / "bench" / "results" / f"week{week:02d}.json"
    wanted = {5: "MLP 784-256-256-10, Adam + cosine: test accuracy",
              7: "LeNet-5 in NumPy, Fashion-MNIST test accuracy"}[week]
    try:
        rows = json.loads(path.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return "", None
    for row in rows:
        if wanted in row["benchmark"]:
            return f"bench week{week:02d}: {row['benchmark']}", float(row["value"])
    return "", None


def milestone_runs() -> list[Row]:
    rows = []
    _, _, x_test, y_test = load_fashion_mnist()
    for week, notebook, budget, what in MILESTONES:
        folder = OUT / f"week{week:02d}"
        load_before = _load_average()
        seconds, cpu, command = _execute(notebook, folder)
        load_after = _load_average()
        checkpoint = folder / checkpoint_name(week)
        params = load_params(checkpoint)
        info = checkpoint_info(checkpoint)
        scores = (_scores_week05 if week == 5 else _scores_week07)(params, x_test)
        floor, full, stretch = BARS[week]
        credit, _ = accuracy_credit(scores, y_test, floor, full, stretch)
        accuracy = float(np.mean(scores.argmax(axis=1) == y_test))
        oracle, oracle_value = _oracle(week)
        epochs = info.get("epochs")
        history = info.get("history", {})
        curve = ", ".join(f"{a:.4f}" for a in history.get("val_acc", []))
        load = (f"load average {load_before} before, {load_after} after (1/5/15 min) on a "
                "machine shared with other jobs: the time is an upper bound")
        common = (f"{what}; `{command}` in a fresh folder (no checkpoint: it trains), "
                  f"{epochs} epochs, 55,000 training images, 1 BLAS thread; {load}")
        if not fast_mode():
            REFERENCE_CHECKPOINTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(checkpoint, REFERENCE_CHECKPOINTS / checkpoint.name)
        rows.append(Row(
            f"milestone: week {week:02d} {what.split(' (')[0]}, Fashion-MNIST test accuracy "
            "of the solution notebook's checkpoint",
            accuracy, "accuracy", oracle=oracle, oracle_value=oracle_value,
            target=f"≥ {full:.2f} (full marks)" + (f", stretch {stretch:.2f}" if stretch else ""),
            met=accuracy >= full, seconds=seconds,
            notes=(f"{common}; scored with the reference kernels on the 10,000 test images: "
                   f"{credit:.0%} of the points; validation accuracy after each epoch: "
                   f"{curve}"),
            extra={"credit": credit, "train_seconds": info.get("train_seconds"),
                   "val_acc": history.get("val_acc"), "load_before": load_before,
                   "load_after": load_after}))
        rows.append(Row(
            f"milestone: week {week:02d} {what.split(' (')[0]}, wall-clock of the whole "
            "notebook (nbconvert --execute, full size)",
            seconds, "s", target=f"≤ {budget:.0f} s on this machine", met=seconds <= budget,
            seconds=seconds,
            notes=(f"{common}; training alone {info.get('train_seconds')} s "
                   "(train_or_load's measurement)")))
        rows.append(Row(
            f"milestone: week {week:02d} {what.split(' (')[0]}, CPU time of the whole "
            "notebook (kernel + nbconvert, 1 BLAS thread)",
            cpu, "s", target=f"≤ {budget:.0f} s (one core busy: about the wall-clock on a "
                             "quiet 2-core machine)", met=cpu <= budget, seconds=seconds,
            notes=f"{common}; wall-clock {seconds:.0f} s under that load"))
    return rows


BENCHMARKS = [milestone_runs]
