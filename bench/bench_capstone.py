"""Capstone (week 15): the solution notebook's tracks run full size, as a learner would.

``solutions/week15-capstone/capstone.ipynb`` is copied into a fresh folder (no checkpoint: it
trains every run), its ``TRACK`` set, and executed top to bottom with ``jupyter nbconvert
--execute``, full size (not fast mode), one BLAS / torch thread. Two tracks are measured:

* ``dropout`` (the notebook as released): an MLP 784-256-256-10 without and with dropout, 3
  seeds each, 12 epochs;
* ``batchnorm`` (``TRACK = "batchnorm"`` in the copy): Ioffe & Szegedy's MNIST experiment
  (Fig. 1a: 3 fully-connected hidden layers of 100 sigmoid units, batch 60, plain SGD) at
  Fashion-MNIST scale, 3,000 steps, without and with batch norm, at the paper-like learning
  rate 0.05 and at 10× (0.5), 3 seeds each (12 runs).

``python -m bench capstone --track batchnorm`` (or ``COURSE_BENCH_TRACKS=batchnorm``) runs
only the named tracks and keeps the stored rows of the others (their notes say so). Measured
per track:

* each arm's **test error** over the 3 seeds (mean ± sample sd), re-evaluated from the
  checkpoint the notebook saved (``capstone_runs.npz``) with a plain NumPy forward pass
  (affine maps, batch norm with its running statistics, ReLU or sigmoid, read from the saved
  ``state_dict``, no torch): the oracle of the notebook's own figures, which are the
  ``REPORT`` stored in the file;
* the grader's credit for that report (``grader.checks.week15.report_credit`` on the NumPy
  re-evaluation): full marks expected;
* the **effect** ``mean(method) − mean(baseline)`` and whether the mean ± sd intervals are
  disjoint; the paper's target is the direction (dropout, batch norm lower the test error);
  for batch norm also the effect at 10× the learning rate and the steps until the validation
  accuracy first reaches 0.80 (the paper: the same accuracy in fewer steps);
* the **wall-clock** and **CPU time** of the whole notebook (as in ``bench_milestones``: on
  this shared machine the wall-clock is an upper bound; the CPU time, one thread, is about
  what a quiet 2-core machine takes).

The dropout track's checkpoint is then copied to ``answers/milestones/capstone_runs.npz``: the
reference submission's file, which the demo class hands in with the reference notebook.

Run: ``python -m bench capstone [--track dropout|batchnorm]`` (``--fast`` only tests the
harness).
"""

from __future__ import annotations

import json
import os
import shutil

import nbformat
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
STORED = REPO_ROOT / "bench" / "results" / "capstone.json"
#: The tracks this bench measures (the PTB track is estimated, not run: see the README).
TRACKS = ("dropout", "batchnorm")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + exp(-x)), without overflow


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def mlp_scores(state: dict[str, np.ndarray], x: np.ndarray, activation=_relu,
               eps: float = 1e-5) -> np.ndarray:
    """Class scores (N, 10) of a saved MLP, the notebook's ``MLP``: ``net.<i>.weight``
    (out, in) and ``net.<i>.bias`` of each affine map, then — when the saved state has
    ``net.<i+1>.running_mean`` — batch norm in eval mode (running statistics, ``eps`` as
    ``nn.BatchNorm1d``), then ``activation``, except after the last map."""
    linear = sorted(int(key.split(".")[1]) for key, value in state.items()
                    if key.endswith(".weight") and np.ndim(value) == 2)
    h = x.reshape(len(x), -1).astype(np.float64)
    for n, index in enumerate(linear):
        h = h @ state[f"net.{index}.weight"].T.astype(np.float64)
        if f"net.{index}.bias" in state:
            h = h + state[f"net.{index}.bias"]
        if n == len(linear) - 1:
            break
        bn = f"net.{index + 1}"
        if f"{bn}.running_mean" in state:
            h = ((h - state[f"{bn}.running_mean"]) / np.sqrt(state[f"{bn}.running_var"] + eps)
                 * state[f"{bn}.weight"] + state[f"{bn}.bias"])
        h = activation(h)
    return h


def selected_tracks() -> list[str]:
    """``COURSE_BENCH_TRACKS`` (comma-separated; ``--track``), default every measured track."""
    chosen = [t for t in os.environ.get("COURSE_BENCH_TRACKS", "").replace(",", " ").split() if t]
    unknown = sorted(set(chosen) - set(TRACKS))
    if unknown:
        raise SystemExit(f"unknown capstone track(s) {unknown}: measured are {', '.join(TRACKS)}")
    return chosen or list(TRACKS)


def _run_track(track: str) -> dict:
    """Execute the notebook with ``TRACK = track`` in ``bench/out/capstone/<track>``; re-evaluate
    its checkpoint with NumPy; return everything the rows need."""
    folder = OUT / track
    source = NOTEBOOK
    if track != "dropout":  # the released notebook's TRACK is "dropout": set it in a copy
        nb = nbformat.read(NOTEBOOK, as_version=4)
        (cell,) = [c for c in nb.cells if c.source.startswith('TRACK = "dropout"')]
        cell.source = cell.source.replace('TRACK = "dropout"', f'TRACK = "{track}"', 1)
        source = OUT / f"{track}-source" / NOTEBOOK.name
        source.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, source)
    load_before = _load_average()
    seconds, cpu, command = _execute(source, folder)
    load_after = _load_average()
    command = command.replace(str(source.relative_to(REPO_ROOT)), str(NOTEBOOK.relative_to(
        REPO_ROOT))) + ("" if track == "dropout" else f' (a copy with TRACK = "{track}")')
    checkpoint = folder / CHECKPOINT
    info = checkpoint_info(checkpoint)
    report = info.get("report", {})
    runs: dict[str, dict[str, np.ndarray]] = {}
    for key, array in load_params(checkpoint).items():
        arm, seed, name = key.split(".", 2)
        runs.setdefault(f"{arm}.{seed}", {})[name] = array
    names = sorted(runs)
    data = load_fashion_mnist(limit=10_000)  # all test images, as the notebook (fast mode too)
    activation = _sigmoid if track == "batchnorm" else _relu
    outputs = np.stack([mlp_scores(runs[name], data.X_test, activation) for name in names])
    credit, message = report_credit(report, names, outputs, (data.y_test, load_ptb().test))
    errors: dict[str, list[float]] = {}
    for name, scores in zip(names, outputs):
        errors.setdefault(name.split(".s")[0], []).append(
            float(np.mean(scores.argmax(axis=1) != data.y_test)))
    load = (f"load average {load_before} before, {load_after} after (1/5/15 min) on a machine "
            "shared with other jobs: the time is an upper bound")
    return {"seconds": seconds, "cpu": cpu, "command": command, "checkpoint": checkpoint,
            "report": report, "credit": credit, "message": message, "errors": errors,
            "stats": {arm: summary(values) for arm, values in errors.items()},
            "histories": info.get("histories", {}), "load": load}


def _report_rows(track: str, r: dict, arm_labels: dict[str, str], common: str) -> list[Row]:
    """Per arm: the NumPy re-evaluation against the notebook's REPORT."""
    rows = []
    reported = r["report"].get("summary", {})
    for arm, label in arm_labels.items():
        mean, sd = r["stats"][arm]
        stated = (reported.get(arm) or [None])[0]
        rows.append(Row(
            f"capstone: {track} track, {arm} ({label}), Fashion-MNIST test error, mean of 3 seeds",
            mean, "error", oracle="the notebook's REPORT (its own re-evaluation of the file)",
            oracle_value=stated, target="equal to the REPORT within 0.001",
            met=stated is not None and abs(mean - float(stated)) <= 1e-3, seconds=r["seconds"],
            notes=(f"{common}; per seed " + ", ".join(f"{e:.4f}" for e in r["errors"][arm])
                   + f"; sample sd {sd:.4f}; re-evaluated with a NumPy forward pass"),
            extra={"per_seed": r["errors"][arm], "sd": sd}))
    return rows


def _time_rows(track: str, r: dict, runs: int, common: str, limit: float) -> list[Row]:
    train_seconds = {run: h.get("seconds") for run, h in r["histories"].items()}
    return [
        Row(f"capstone: {track} track, the grader's credit for the reference REPORT (w15_report)",
            r["credit"], "fraction", target="1.0 (full marks)", met=r["credit"] == 1.0,
            seconds=r["seconds"], notes=r["message"].replace("\n", " ")),
        Row(f"capstone: {track} track, wall-clock of the whole notebook (nbconvert --execute, "
            f"full size, {runs} runs)", r["seconds"], "s", target=f"≤ {limit:.0f} s on this "
            "machine", met=r["seconds"] <= limit, seconds=r["seconds"],
            notes=f"{common}; training per run (s): {train_seconds}"),
        Row(f"capstone: {track} track, CPU time of the whole notebook (kernel + nbconvert, 1 "
            "thread)", r["cpu"], "s", target=f"≤ {limit:.0f} s (one core busy: about the "
            "wall-clock on a quiet 2-core machine)", met=r["cpu"] <= limit, seconds=r["seconds"],
            notes=f"{common}; wall-clock {r['seconds']:.0f} s under that load"),
    ]


def stored_rows(track: str) -> list[Row]:
    """The rows of ``track`` from the stored result, kept when this run does not measure it."""
    if not STORED.exists():
        return []
    data = json.loads(STORED.read_text())
    prefix = f"capstone: {track} track,"
    rows = []
    for row in data["rows"]:
        if not row["benchmark"].startswith(prefix):
            continue
        fields = {k: v for k, v in row.items() if k in Row.__dataclass_fields__}
        kept = f"(kept from `{row.get('command', data['command'])}`"
        if not fields["notes"].startswith("(kept from"):
            fields["notes"] = (f"{kept} of {data['date']}, not rerun by this command) "
                               + fields["notes"])
        fields["command"] = row.get("command", data["command"])
        rows.append(Row(**fields))
    return rows


def capstone_dropout() -> list[Row]:
    if "dropout" not in selected_tracks():
        return stored_rows("dropout")
    r = _run_track("dropout")
    stats = r["stats"]
    difference = stats["method"][0] - stats["baseline"][0]
    better = better_arm(stats["baseline"], stats["method"])
    val_curves = {run: h.get("val_acc") for run, h in r["histories"].items()}
    common = (f"MLP 784-256-256-10, Adam 1e-3, batch 128, 12 epochs on 55,000 images, seeds "
              f"0-2; `{r['command']}` in a fresh folder (no checkpoint: it trains), 1 thread; "
              f"{r['load']}")
    if not fast_mode():
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(r["checkpoint"], REFERENCE)
    rows = _report_rows("dropout", r, {"baseline": "no dropout",
                                       "method": "dropout 0.2 input / 0.5 hidden"}, common)
    rows.append(Row(
        "capstone: dropout track, effect mean(method) − mean(baseline) of the test error",
        difference, "error", oracle="Srivastava et al. 2014 (Fig. 4, MNIST): dropout lowers "
        "the test error of every architecture tried", target="negative (dropout helps)",
        met=difference < 0, seconds=r["seconds"],
        notes=(f"{common}; better arm by the rule (mean ± sd intervals disjoint): {better!r}; "
               f"validation accuracy per epoch: {val_curves}"),
        extra={"better": better}))
    return rows + _time_rows("dropout", r, 6, common, 1800)


def _steps_to_target(histories: dict, arm: str, steps: int) -> tuple[list, float]:
    """Per seed the first evaluated step with validation accuracy ≥ the target (None: never
    within the budget), and their mean counting "never" as the budget (a lower bound)."""
    runs = sorted(run for run in histories if run.split(".s")[0] == arm)
    per_seed = [histories[run].get("steps_to_target") for run in runs]
    return per_seed, float(np.mean([steps if s is None else s for s in per_seed]))


def capstone_batchnorm() -> list[Row]:
    if "batchnorm" not in selected_tracks():
        return stored_rows("batchnorm")
    r = _run_track("batchnorm")
    stats, histories = r["stats"], r["histories"]
    steps = max((max(h.get("step") or [0]) for h in histories.values()), default=0)
    lrs = {arm: next((h.get("lr") for run, h in histories.items()
                      if run.split(".s")[0] == arm), None) for arm in stats}
    common = (f"MLP 784-100-100-100-10 with sigmoid units (batch norm before each sigmoid in "
              f"the method arms), plain SGD, batch 60, {steps} steps on 55,000 images, seeds "
              f"0-2, learning rates {lrs}; `{r['command']}` in a fresh folder (no checkpoint: "
              f"it trains), 1 thread; {r['load']}")
    rows = _report_rows("batchnorm", r, {
        "baseline": f"no batch norm, lr {lrs.get('baseline')}",
        "method": f"batch norm, lr {lrs.get('method')}",
        "baseline_high_lr": f"no batch norm, lr {lrs.get('baseline_high_lr')}",
        "method_high_lr": f"batch norm, lr {lrs.get('method_high_lr')}"}, common)
    curves = {run: h.get("val_acc") for run, h in histories.items()}
    for suffix, label, claim in (
            ("", "at lr 0.05", "Ioffe & Szegedy 2015 (Fig. 1a, MNIST, 3 × 100 sigmoid units, "
             "batch 60): the batch-normalized net has the higher test accuracy throughout"),
            ("_high_lr", "at 10× the learning rate (0.5)", "Ioffe & Szegedy 2015 (§3.3, "
             "§4.2.1): batch norm allows much higher learning rates")):
        base, meth = stats[f"baseline{suffix}"], stats[f"method{suffix}"]
        difference = meth[0] - base[0]
        better = better_arm(base, meth)
        rows.append(Row(
            f"capstone: batchnorm track, effect {label}: mean(method) − mean(baseline) of the "
            "test error", difference, "error", oracle=claim,
            target="negative, intervals disjoint (batch norm helps beyond the seed spread)",
            met=difference < 0 and better == "method", seconds=r["seconds"],
            notes=f"{common}; better arm by the rule (mean ± sd intervals disjoint): {better!r}",
            extra={"better": better}))
    for suffix, label in (("", "at lr 0.05"), ("_high_lr", "at lr 0.5")):
        base_seeds, base_mean = _steps_to_target(histories, f"baseline{suffix}", steps)
        meth_seeds, meth_mean = _steps_to_target(histories, f"method{suffix}", steps)
        ratio = base_mean / meth_mean if meth_mean else float("nan")
        rows.append(Row(
            f"capstone: batchnorm track, steps to 0.80 validation accuracy {label}: "
            "baseline ÷ method (mean of 3 seeds)", ratio, "×",
            oracle="Ioffe & Szegedy 2015 (§4.2.2, Inception): the same accuracy in 14× fewer "
            "steps with batch norm", target="> 1 (batch norm gets there in fewer steps)",
            met=bool(ratio > 1), seconds=r["seconds"],
            notes=(f"{common}; steps per seed (validation every 100 steps; None: not reached "
                   f"in {steps}, counted as {steps}, so the ratio is a lower bound): baseline "
                   f"{base_seeds}, method {meth_seeds}; validation accuracy curves: {curves}"),
            extra={"baseline_steps": base_seeds, "method_steps": meth_seeds}))
    return rows + _time_rows("batchnorm", r, 12, common, 1800)


BENCHMARKS = [capstone_dropout, capstone_batchnorm]


def ptb_epoch_cost(arms: tuple[str, ...] = ("method",), steps: int = 150,
                   eval_fraction: float = 0.05) -> dict:
    """The PTB track's cost, extrapolated from measured steps (not run by ``python -m bench``:
    the track, 6 runs × 6 epochs, does not fit a bench run, and on the shared machine not even
    one epoch fits a session). Executes the notebook's own setup and model cells, then times
    ``train_run("ptb", arm, 0)`` with one epoch cut to its first ``steps`` steps (the training
    stream truncated) and its validation pass on the first ``eval_fraction`` of the validation
    tokens, and ``run_outputs`` on that share of the test tokens; CPU seconds of this process,
    on one thread. Returns the measurements and the full-size extrapolation: steps per epoch ×
    CPU-s per step, and the evaluations scaled by ``1 / eval_fraction``.
    """
    import resource
    import time

    import torch

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    torch.set_num_threads(1)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
    ns: dict = {}
    for name in ("setup", "w15_report_code"):
        exec(compile(cells[name], f"<capstone {name}>", "exec"), ns)
    full = ns["ptb"]
    c = ns["CONFIG"]["ptb"]
    c["epochs"] = 1
    per_column = len(full.train) // c["batch_size"]
    steps_per_epoch = len(range(0, per_column - 1, c["bptt"]))
    n_valid, n_test = (max(2, int(len(full.valid) * eval_fraction)),
                       max(2, int(len(full.test) * eval_fraction)))
    cut = (steps * c["bptt"] + 1) * c["batch_size"]  # the stream of `steps` training steps
    ns["ptb"] = full._replace(train=full.train[:cut], valid=full.valid[:n_valid])
    out = {"load_average": _load_average(), "config": dict(c), "steps": steps,
           "steps_per_epoch": steps_per_epoch, "valid_tokens": [n_valid, len(full.valid)],
           "test_tokens": [n_test, len(full.test)]}
    for arm in arms:
        start, start_cpu = time.perf_counter(), cpu()
        model, history = ns["train_run"]("ptb", arm, 0)  # `steps` steps, then a validation pass
        train = (time.perf_counter() - start, cpu() - start_cpu)
        start, start_cpu = time.perf_counter(), cpu()
        valid_nll = ns["run_outputs"](model, "ptb", None, full.valid[:n_valid])
        valid = (time.perf_counter() - start, cpu() - start_cpu)
        start, start_cpu = time.perf_counter(), cpu()
        ns["run_outputs"](model, "ptb", None, full.test[:n_test])
        test = (time.perf_counter() - start, cpu() - start_cpu)
        step_cpu = (train[1] - valid[1]) / steps  # train_run's time less its validation pass
        epoch_cpu = steps_per_epoch * step_cpu + valid[1] * len(full.valid) / n_valid
        test_cpu = test[1] * len(full.test) / n_test
        out[arm] = {"train_wall_s": train[0], "train_cpu_s": train[1], "valid_cpu_s": valid[1],
                    "test_cpu_s": test[1], "cpu_s_per_step": step_cpu,
                    "epoch_cpu_s_extrapolated": epoch_cpu,
                    "test_eval_cpu_s_extrapolated": test_cpu,
                    "valid_ppl_after_steps": float(np.exp(valid_nll.mean()))}
        print(arm, out[arm], flush=True)
    epochs = 6  # the notebook's full-size CONFIG["ptb"]["epochs"]
    per_run = {arm: epochs * out[arm]["epoch_cpu_s_extrapolated"]
               + 2 * out[arm]["test_eval_cpu_s_extrapolated"] for arm in arms}
    out["per_run_cpu_s_extrapolated"] = per_run  # training + §5's and the grader's test pass
    out["track_cpu_s_extrapolated"] = 3 * sum(per_run.values()) * 2 / len(arms)
    out["load_average_after"] = _load_average()
    return out


if __name__ == "__main__":  # python -m bench.bench_capstone [arm ...]: the PTB estimate
    import sys

    print(json.dumps(ptb_epoch_cost(tuple(sys.argv[1:]) or ("method",)), indent=1))
