"""Capstone (week 15): the solution notebook's dropout track run full size, as a learner would.

``solutions/week15-capstone/capstone.ipynb`` (``TRACK = "dropout"``: an MLP 784-256-256-10
without and with dropout, 3 seeds each, 12 epochs) is copied into a fresh folder (no
checkpoint: it trains every run) and executed top to bottom with ``jupyter nbconvert
--execute``, full size (not fast mode), one BLAS / torch thread. Measured:

* each arm's **test error** over the 3 seeds (mean ± sample sd), re-evaluated from the
  checkpoint the notebook saved (``capstone_runs.npz``) with a plain NumPy forward pass
  (affine maps and ReLU read from the saved ``state_dict``, no torch): the oracle of the
  notebook's own figures, which are the ``REPORT`` stored in the file;
* the grader's credit for that report (``grader.checks.week15.report_credit`` on the NumPy
  re-evaluation): full marks expected;
* the **effect** ``mean(method) − mean(baseline)`` and whether the mean ± sd intervals are
  disjoint; the paper's target is the direction (dropout lowers the test error);
* the **wall-clock** and **CPU time** of the whole notebook (as in ``bench_milestones``: on
  this shared machine the wall-clock is an upper bound; the CPU time, one thread, is about
  what a quiet 2-core machine takes).

The checkpoint is then copied to ``answers/milestones/capstone_runs.npz``: the reference
submission's file, which the demo class hands in with the reference notebook.

Run: ``python -m bench capstone`` (``--fast`` only tests the harness).
"""

from __future__ import annotations

import shutil

import numpy as np

from bench import Row
from bench.bench_milestones import _execute, _load_average
from grader.checks.week15 import CHECKPOINT, better_arm, report_credit, summary
from grader.config import REPO_ROOT, fast_mode
from grader.data import load_fashion_mnist, load_ptb
from grader.milestone import checkpoint_info, load_params

NOTEBOOK = REPO_ROOT / "solutions" / "week15-capstone" / "capstone.ipynb"
OUT = REPO_ROOT / "bench" / "out" / "capstone"
REFERENCE = REPO_ROOT / "answers" / "milestones" / CHECKPOINT


def mlp_scores(state: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Class scores of a saved ReLU MLP (``net.<i>.weight`` (out, in), ``net.<i>.bias``)."""
    layers = sorted({int(key.split(".")[1]) for key in state if key.endswith(".weight")})
    h = x.reshape(len(x), -1).astype(np.float64)
    for n, index in enumerate(layers):
        h = h @ state[f"net.{index}.weight"].T.astype(np.float64) + state[f"net.{index}.bias"]
        if n < len(layers) - 1:
            h = np.maximum(h, 0)
    return h


def capstone_dropout() -> list[Row]:
    folder = OUT / "dropout"
    load_before = _load_average()
    seconds, cpu, command = _execute(NOTEBOOK, folder)
    load_after = _load_average()
    checkpoint = folder / CHECKPOINT
    info = checkpoint_info(checkpoint)
    report = info.get("report", {})
    flat = load_params(checkpoint)
    runs: dict[str, dict[str, np.ndarray]] = {}
    for key, array in flat.items():
        arm, seed, name = key.split(".", 2)
        runs.setdefault(f"{arm}.{seed}", {})[name] = array
    names = sorted(runs)
    data = load_fashion_mnist()
    tokens = load_ptb().test
    outputs = np.stack([mlp_scores(runs[name], data.X_test) for name in names])
    credit, message = report_credit(report, names, outputs, (data.y_test, tokens))
    errors: dict[str, list[float]] = {}
    for name, scores in zip(names, outputs):
        errors.setdefault(name.split(".s")[0], []).append(
            float(np.mean(scores.argmax(axis=1) != data.y_test)))
    stats = {arm: summary(values) for arm, values in errors.items()}
    difference = stats["method"][0] - stats["baseline"][0]
    better = better_arm(stats["baseline"], stats["method"])
    histories = info.get("histories", {})
    train_seconds = {run: h.get("seconds") for run, h in histories.items()}
    val_curves = {run: h.get("val_acc") for run, h in histories.items()}
    load = (f"load average {load_before} before, {load_after} after (1/5/15 min) on a machine "
            "shared with other jobs: the time is an upper bound")
    common = (f"MLP 784-256-256-10, Adam 1e-3, batch 128, 12 epochs on 55,000 images, seeds "
              f"0-2; `{command}` in a fresh folder (no checkpoint: it trains), 1 thread; {load}")
    if not fast_mode():
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(checkpoint, REFERENCE)
    rows = []
    for arm in ("baseline", "method"):
        mean, sd = stats[arm]
        rows.append(Row(
            f"capstone: dropout track, {arm} ({'no dropout' if arm == 'baseline' else 'dropout 0.2 input / 0.5 hidden'}), "
            "Fashion-MNIST test error, mean of 3 seeds",
            mean, "error", oracle="the notebook's REPORT (its own re-evaluation of the file)",
            oracle_value=(report.get("summary", {}).get(arm) or [None])[0],
            target="equal to the REPORT within 0.001", met=abs(
                mean - float((report.get("summary", {}).get(arm) or [np.nan])[0])) <= 1e-3,
            seconds=seconds,
            notes=(f"{common}; per seed " + ", ".join(f"{e:.4f}" for e in errors[arm])
                   + f"; sample sd {sd:.4f}; re-evaluated with a NumPy forward pass"),
            extra={"per_seed": errors[arm], "sd": sd}))
    rows.append(Row(
        "capstone: dropout track, effect mean(method) − mean(baseline) of the test error",
        difference, "error", oracle="Srivastava et al. 2014 (Fig. 4, MNIST): dropout lowers "
        "the test error of every architecture tried", target="negative (dropout helps)",
        met=difference < 0, seconds=seconds,
        notes=(f"{common}; better arm by the rule (mean ± sd intervals disjoint): {better!r}; "
               f"validation accuracy per epoch: {val_curves}"),
        extra={"better": better}))
    rows.append(Row(
        "capstone: dropout track, the grader's credit for the reference REPORT (w15_report)",
        credit, "fraction", target="1.0 (full marks)", met=credit == 1.0, seconds=seconds,
        notes=message.replace("\n", " ")))
    rows.append(Row(
        "capstone: dropout track, wall-clock of the whole notebook (nbconvert --execute, "
        "full size, 6 runs)", seconds, "s", target="≤ 1800 s on this machine",
        met=seconds <= 1800, seconds=seconds,
        notes=f"{common}; training per run (s): {train_seconds}"))
    rows.append(Row(
        "capstone: dropout track, CPU time of the whole notebook (kernel + nbconvert, 1 "
        "thread)", cpu, "s", target="≤ 1800 s (one core busy: about the wall-clock on a "
        "quiet 2-core machine)", met=cpu <= 1800, seconds=seconds,
        notes=f"{common}; wall-clock {seconds:.0f} s under that load"))
    return rows


BENCHMARKS = [capstone_dropout]
