"""PyTorch milestones (weeks 10 and 11): each solution notebook run full size, and what it reaches.

As :mod:`bench.bench_milestones` for weeks 5 and 7: the milestone notebook of ``solutions/``
(the learner's part filled with the reference solution) is copied into a fresh folder (no
checkpoint: it trains) and executed top to bottom, full size (not fast mode). Executed with
nbclient, as ``jupyter nbconvert --execute`` does, except that the cells' printed output is
also streamed to ``bench/out/milestones_torch/weekNN/run.log`` as it comes (one line per
epoch), so that a long run on a shared machine can be followed and, if it is stopped, its
per-epoch figures are not lost. ``OMP_WAIT_POLICY=PASSIVE`` as in ``bench/ptb_lm.py`` (idle
OpenMP threads sleep instead of spinning against the other jobs).

Measured, independently of the notebook's own code:

* week 10: the Fashion-MNIST **test accuracy** of ``milestone_week10.pt``, computed with the
  course's NumPy LeNet-5 forward (:func:`answers.kernels.week07.lenet_forward`) after
  converting the PyTorch weights to the Week 7 layout; oracle: the Week 7 milestone's row of
  ``bench/results/milestones.json``;
* week 11: the PTB **test perplexity** of ``milestone_week11.pt``, computed with the
  course's model (:class:`grader.lm.LSTMLanguageModel`, the same state-dict names) over the
  test split as one stream; oracle: the course's reference LM (``bench/results/week11.json``);
  and the **grading time**: the grader's own call (``milestone_log_probs`` on the whole test
  split) timed in the executed notebook's public check;
* the wall-clock and CPU time of the whole notebook (``getrusage`` of the children).

Each checkpoint is then copied to ``answers/milestones/`` (the demo class's submission).

Run: ``python -m bench milestones_torch`` (both weeks), or one week in the background:
``python bench/bench_milestones_torch.py run 11`` then ``python -m bench milestones_torch``
with ``MILESTONES_TORCH_REUSE=1`` to score a finished run without training again
(``MILESTONES_TORCH_WEEKS=10`` limits it to one week).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from bench import Row
from bench.bench_milestones import _cpu_seconds, _load_average
from grader.config import REPO_ROOT, fast_mode

OUT = REPO_ROOT / "bench" / "out" / "milestones_torch"
REFERENCE_CHECKPOINTS = REPO_ROOT / "answers" / "milestones"
#: week -> (notebook, checkpoint, what is trained)
NOTEBOOKS = {
    10: (REPO_ROOT / "solutions" / "week10-pytorch" / "milestone.ipynb", "milestone_week10.pt",
         "PyTorch LeNet-5 (own nn.Module, Adam + cosine, Week 7's data and budget)"),
    11: (REPO_ROOT / "solutions" / "week11-language-model" / "milestone.ipynb",
         "milestone_week11.pt",
         "PTB word LM 2×200 tied LSTM (TBPTT, clipping, plateau decay)"),
}




def execute(week: int) -> dict:
    """Run week ``week``'s solution notebook in a fresh folder; return what was measured."""
    import nbformat
    from nbclient import NotebookClient

    notebook, checkpoint, _ = NOTEBOOKS[week]
    folder = OUT / f"week{week}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    copy = folder / notebook.name
    shutil.copy(notebook, copy)
    log = (folder / "run.log").open("w", buffering=1)

    class StreamingClient(NotebookClient):
        def process_message(self, msg, cell, cell_index):
            if msg.get("msg_type") == "stream":
                log.write(msg["content"].get("text", ""))
            return super().process_message(msg, cell, cell_index)

    nb = nbformat.read(copy, as_version=4)
    load_before, start, cpu = _load_average(), time.perf_counter(), _cpu_seconds()
    log.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} start, load average {load_before}\n")
    # allow_errors: a check below its bar raises in the notebook; the run still completes
    StreamingClient(nb, timeout=None, allow_errors=True,
                    resources={"metadata": {"path": str(folder)}}).execute()
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    nbformat.write(nb, copy)
    summary = {"week": week, "seconds": seconds, "cpu_seconds": cpu,
               "load_before": load_before, "load_after": _load_average(),
               "fast": fast_mode(), "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
    log.write(f"# finished: {json.dumps(summary)}\n")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _finished_run(week: int) -> dict:
    """The run of ``week``: reused when ``MILESTONES_TORCH_REUSE=1`` and it finished, else run."""
    summary = OUT / f"week{week}" / "summary.json"
    if os.environ.get("MILESTONES_TORCH_REUSE") == "1" and summary.is_file():
        return json.loads(summary.read_text())
    return execute(week)


def _lenet_numpy(state: dict) -> dict[str, np.ndarray]:
    """A PyTorch LeNet5 state dict -> Week 7's NumPy parameters (fully connected transposed)."""
    params = {}
    for name in ("conv1", "conv2", "fc1", "fc2", "fc3"):
        weight = state[f"{name}.weight"].double().numpy()
        params[f"{name}_w"] = weight if name.startswith("conv") else weight.T.copy()
        params[f"{name}_b"] = state[f"{name}.bias"].double().numpy()
    return params


def _oracle_row(path: Path, wanted: str) -> tuple[str, float | None]:
    try:
        rows = json.loads(path.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return "", None
    for row in rows:
        if wanted in row["benchmark"]:
            return f"{path.name}: {row['benchmark']}", float(row["value"])
    return "", None


def _common(week: int, run: dict) -> str:
    _, _, what = NOTEBOOKS[week]
    return (f"{what}; `python -m bench.bench_milestones_torch run {week}` (the notebook "
            f"executed top to bottom in a fresh folder, no checkpoint: it trains); load "
            f"average {run['load_before']} before, {run['load_after']} after (1/5/15 min) on "
            "a 2-core machine shared with other jobs: the wall-clock is an upper bound")


def _week10_rows(run: dict) -> list[Row]:
    import torch

    from answers.kernels.week07 import lenet_forward
    from grader.checks.milestones_torch import W10_BARS
    from grader.data import load_fashion_mnist
    from grader.milestone import accuracy_credit

    checkpoint = OUT / "week10" / NOTEBOOKS[10][1]
    state = torch.load(checkpoint, weights_only=True)
    info = json.loads(state.pop("__meta__", "{}"))
    _, _, x_test, y_test = load_fashion_mnist()
    params = _lenet_numpy(state)
    x = (x_test - 0.2860) / 0.3530
    scores = np.concatenate([lenet_forward(params, x[i:i + 500])[0] for i in range(0, len(x), 500)])
    floor, full, stretch = W10_BARS
    credit, _ = accuracy_credit(scores, y_test, floor, full, stretch)
    accuracy = float(np.mean(scores.argmax(1) == y_test))
    oracle, value = _oracle_row(REPO_ROOT / "bench" / "results" / "milestones.json",
                                "milestone: week 07 LeNet-5, Fashion-MNIST test accuracy")
    common = _common(10, run)
    curve = ", ".join(f"{a:.4f}" for a in info.get("history", {}).get("val_acc", []))
    return [
        Row("milestone: week 10 PyTorch LeNet-5, Fashion-MNIST test accuracy of the solution "
            "notebook's checkpoint", accuracy, "accuracy", oracle=oracle, oracle_value=value,
            target=f"≥ {full:.2f} (full marks, Week 7's bar), stretch {stretch:.2f}; within "
                   "1 point of the Week 7 milestone", met=accuracy >= full and (
                       value is None or abs(accuracy - value) <= 0.01),
            seconds=run["seconds"],
            notes=(f"{common}; scored with Week 7's NumPy lenet_forward on the PyTorch weights "
                   f"(10,000 test images): {credit:.0%} of the points; {info.get('epochs')} "
                   f"epochs, validation accuracy after each: {curve}"),
            extra={"credit": credit, "train_seconds": info.get("train_seconds"),
                   "val_acc": info.get("history", {}).get("val_acc")}),
        Row("milestone: week 10 PyTorch LeNet-5, wall-clock of the whole notebook",
            run["seconds"], "s", target="≤ 600 s (Week 7's budget) on this machine",
            met=run["seconds"] <= 600, seconds=run["seconds"],
            notes=f"{common}; training alone {info.get('train_seconds')} s"),
        Row("milestone: week 10 PyTorch LeNet-5, CPU time of the whole notebook",
            run["cpu_seconds"], "s", target="≤ 600 s (one thread: about the wall-clock on a "
                                             "quiet 2-core machine)",
            met=run["cpu_seconds"] <= 600, seconds=run["seconds"], notes=common),
    ]


def _solution_namespace(week: int, folder: Path) -> dict:
    """The executed notebook's definitions, re-run here (setup, solution and grader cells)."""
    import nbformat

    nb = nbformat.read(folder / NOTEBOOKS[week][0].name, as_version=4)
    namespace: dict = {}
    here = os.getcwd()
    os.chdir(folder)
    try:
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and (meta.get("solution") or meta.get("grade_id") in (
                    "setup", "grade_functions")) and meta.get("grade_id") != "run":
                exec(cell.source, namespace)
        exec("SIZE, LAYERS, DROPOUT, BPTT = 200, 2, 0.2, 35", namespace)
    finally:
        os.chdir(here)
    return namespace


def _week11_rows(run: dict) -> list[Row]:
    import torch

    from grader.checks.milestones_torch import W11_BARS, W11_POSITIONS, score_w11_perplexity
    from grader.check import Case
    from grader.data import load_ptb
    from grader.lm import LSTMLanguageModel

    folder = OUT / "week11"
    checkpoint = folder / NOTEBOOKS[11][1]
    state = torch.load(checkpoint, weights_only=True)
    info = json.loads(state.pop("__meta__", "{}"))
    ptb = load_ptb()
    model = LSTMLanguageModel(len(ptb.vocab), 200, 200, 2, dropout=0.2).eval()
    model.load_state_dict(state)
    with torch.no_grad():  # the course's model, one stream, state carried
        ids = torch.as_tensor(ptb.test).view(-1, 1)
        total, hidden = 0.0, None
        for i in range(0, len(ids) - 1, 35):
            logits, hidden = model(ids[i:min(i + 35, len(ids) - 1)], hidden)
            targets = ids[i + 1:i + 1 + len(logits)].view(-1)
            total += torch.nn.functional.cross_entropy(
                logits.view(-1, logits.shape[-1]).double(), targets, reduction="sum").item()
    perplexity = float(np.exp(total / (len(ids) - 1)))
    # The grader's call itself, timed: the learner-side function on the whole test split.
    namespace = _solution_namespace(11, folder)
    positions = np.sort(np.random.default_rng(0).choice(2000, W11_POSITIONS, replace=False))
    start = time.perf_counter()
    outputs = namespace["milestone_log_probs"](str(checkpoint), ptb.test, positions)
    grading_seconds = time.perf_counter() - start
    credit, message = score_w11_perplexity(
        Case("test", (NOTEBOOKS[11][1], ptb.test, positions), target=(ptb.test, 0)), outputs)
    floor, full, stretch = W11_BARS
    oracle, value = _oracle_row(REPO_ROOT / "bench" / "results" / "week11.json",
                                "LSTM LM (reference), PTB test perplexity")
    history = info.get("history", {})
    curve = ", ".join(f"{v:.1f}" for v in history.get("valid_ppl", []))
    minutes = ", ".join(f"{m:.1f}" for m in history.get("minutes", []))
    common = _common(11, run)
    return [
        Row("milestone: week 11 PTB word LM, test perplexity of the solution notebook's "
            "checkpoint", perplexity, "perplexity", oracle=oracle, oracle_value=value,
            target=f"≤ {full:.0f} (full marks), stretch ≤ {stretch:.0f}", met=perplexity <= full,
            seconds=run["seconds"],
            notes=(f"{common}; recomputed with grader.lm.LSTMLanguageModel on the 82,430 test "
                   f"tokens as one stream; the grader's metric on the notebook's own "
                   f"milestone_log_probs: {message}; {info.get('epochs')} epochs, validation "
                   f"perplexity after each: {curve}; minutes elapsed after each: {minutes}"),
            extra={"credit": credit, "train_seconds": info.get("train_seconds"),
                   "history": history}),
        Row("milestone: week 11 PTB word LM, wall-clock of the whole notebook", run["seconds"],
            "s", target="≤ 30 min of training on a quiet 2-core laptop (see the CPU time)",
            met=None, seconds=run["seconds"],
            notes=f"{common}; training alone {info.get('train_seconds')} s"),
        Row("milestone: week 11 PTB word LM, CPU time of the whole notebook", run["cpu_seconds"],
            "s", target="≤ 3600 s (2 threads: ≤ 30 min on a quiet 2-core machine)",
            met=run["cpu_seconds"] <= 3600, seconds=run["seconds"], notes=common),
        Row("milestone: week 11 PTB word LM, grading call milestone_log_probs on the whole "
            "test split", grading_seconds, "s", target="≤ 240 s (the exercise's timeout)",
            met=grading_seconds <= 240, seconds=grading_seconds,
            notes=(f"{W11_POSITIONS} full distributions; measured in this process after the "
                   f"run, load average {_load_average()}")),
    ]


def milestone_runs() -> list[Row]:
    rows = []
    weeks = {int(w) for w in os.environ.get("MILESTONES_TORCH_WEEKS", "10,11").split(",")}
    for week, score in ((10, _week10_rows), (11, _week11_rows)):
        if week not in weeks:
            continue
        run = _finished_run(week)
        rows += score(run)
        if not fast_mode():
            REFERENCE_CHECKPOINTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(OUT / f"week{week}" / NOTEBOOKS[week][1],
                        REFERENCE_CHECKPOINTS / NOTEBOOKS[week][1])
    return rows


BENCHMARKS = [milestone_runs]


def grading_time(checkpoint: str) -> dict:
    """Time the grader's week-11 call as the sandbox makes it: the solution notebook's
    definitions run in fast mode (one torch thread), then ``milestone_log_probs`` on the
    whole PTB test split; the perplexity is scored with the grader's metric (full bars)."""
    import nbformat

    from grader.check import Case
    from grader.checks.milestones_torch import W11_POSITIONS, score_w11_perplexity
    from grader.data import load_ptb

    os.environ["COURSE_FAST"] = "1"
    nb = nbformat.read(NOTEBOOKS[11][0], as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in (
                "setup", "w11_milestone_code", "w11_milestone_probe_code", "grade_functions"):
            exec(cell.source, namespace)
    exec("SIZE, LAYERS, DROPOUT, BPTT = 200, 2, 0.2, 35", namespace)
    os.environ["COURSE_FAST"] = "0"
    test = load_ptb().test
    positions = np.sort(np.random.default_rng(0).choice(2000, W11_POSITIONS, replace=False))
    load_before, start, cpu = _load_average(), time.perf_counter(), time.process_time()
    outputs = namespace["milestone_log_probs"](checkpoint, test, positions)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    credit, message = score_w11_perplexity(
        Case("test", ("", test, positions), target=(test, 0)), outputs)
    return {"tokens": len(test), "seconds": seconds, "cpu_seconds": cpu, "credit": credit,
            "message": message, "load_before": load_before, "load_after": _load_average()}


if __name__ == "__main__":  # python -m bench.bench_milestones_torch run 11
    sys.path.insert(0, str(REPO_ROOT))
    if len(sys.argv) == 3 and sys.argv[1] == "run":
        print(json.dumps(execute(int(sys.argv[2]))))
    elif len(sys.argv) == 3 and sys.argv[1] == "grading-time":
        print(json.dumps(grading_time(sys.argv[2])))
    else:
        sys.exit("usage: python -m bench.bench_milestones_torch run WEEK | grading-time CHECKPOINT")
