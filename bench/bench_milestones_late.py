"""Milestones of weeks 12 and 13: each solution notebook run full-size as a learner would.

As ``bench/bench_milestones.py`` for weeks 5 and 7: the milestone notebook in ``solutions/``
(the learner's part filled with the reference solution) is copied into a fresh folder (no
checkpoint: it trains) and executed top to bottom with ``jupyter nbconvert --to notebook
--execute``, full size (not fast mode), one BLAS/OpenMP thread. Measured:

* week 12 — the **target test accuracy** (Fashion-MNIST classes 5–9, 5,000 test images) of
  the fine-tuned ``SmallResNet`` the notebook saved (``milestone_week12.npz``), evaluated
  here with the course library's model (:class:`grader.transfer.SmallResNet`), independently
  of the notebook's code, and scored with the grader's curve
  (:mod:`grader.checks.milestones_late`); oracle: the committed reference run's from-scratch
  accuracy at 10 labels per class (``bench/results/week12.json``). The source network the
  notebook fine-tunes is pre-trained by the course library and cached in the data folder
  (``week12-resnet-source-0to4-4ep.pt``, the lecture's and ``bench week12``'s file): when the
  cache exists the notebook reloads it, and the row says whether it did;
* week 13 — the **exact match** of the saved encoder–decoder (``milestone_week13.npz``) on
  1,000 fresh length-20 reversals drawn here, decoded greedily by the notebook's model
  rebuilt from the notebook's own code (the model *is* the learner's code; the metric is the
  course's :func:`grader.seq2seq.exact_match`, computed here); oracle: the reference kernels'
  attention model in ``bench/results/week13.json``;
* for both, the **wall-clock** and the **CPU time** of the whole notebook (the machine is
  shared: the wall-clock is an upper bound; with one thread, the CPU time is about the
  wall-clock on a quiet 2-core machine).

The checkpoints are copied to ``answers/milestones/`` as the reference submission's files.

Run: ``python -m bench milestones_late`` (``MILESTONES_LATE_WEEKS=13`` runs one week and keeps
the other week's rows of the previous run, each row dated; ``--fast`` tests the harness only).

``python -m bench.bench_milestones_late grading-time 12 [--fast]`` times the grader's week-12
call (its run of the notebook's ``fine_tune`` under the grader's budget, then the test images).
``python -m bench.bench_milestones_late scrambled WEEK SEEDS`` (WEEK 10, 12 or 13; SEEDS e.g.
``1,2,3``) measures what the grader's scrambled copy of the reference checkpoint
(:class:`grader.milestone.WeightsCheck`) reaches, and the seconds of each ``milestone_predict``
call, with the solution notebook's code and the full-size held-out cases: the figures the
bars of :data:`grader.milestone.WEIGHTS_CHECKS` are set from.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from bench import Row
from bench.bench_milestones import _execute, _load_average
from grader.config import REPO_ROOT, fast_mode
from grader.milestone import checkpoint_info, load_params

OUT = REPO_ROOT / "bench" / "out" / "milestones_late"
RESULTS = REPO_ROOT / "bench" / "results" / "milestones_late.json"
REFERENCE_CHECKPOINTS = REPO_ROOT / "answers" / "milestones"
NOTEBOOKS = {12: REPO_ROOT / "solutions" / "week12-transfer" / "milestone.ipynb",
             13: REPO_ROOT / "solutions" / "week13-seq2seq" / "milestone.ipynb"}
#: Time budget the notebooks state (seconds of the whole notebook on a 2-core CPU).
BUDGET = {12: 600.0, 13: 900.0}
WHAT = {12: "fine-tuned SmallResNet (own fine-tuning set-up, step and loop, 10 labels/class)",
        13: "GRU encoder + own additive-attention decoder (own loss, teacher forcing, loop)"}


def _weeks() -> list[int]:
    wanted = os.environ.get("MILESTONES_LATE_WEEKS", "12,13")
    return [int(w) for w in wanted.split(",") if w.strip()]





def _notebook_namespace(notebook: Path, folder: Path, cells: tuple[str, ...]) -> dict:
    """Execute the named cells of the executed notebook's code in this process (in ``folder``)."""
    import nbformat

    namespace: dict = {}
    here = os.getcwd()
    os.chdir(folder)
    try:
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in cells:
                exec(cell.source, namespace)
    finally:
        os.chdir(here)
    return namespace


def _score_week12(checkpoint: Path) -> tuple[float, float]:
    import torch

    from grader.checks.milestones_late import W12_FLOOR, W12_FULL, _target_split
    from grader.milestone import credit_curve, load_module
    from grader.transfer import SOURCE_CLASSES, SmallResNet

    from grader.data import load_fashion_mnist

    x_train, y_train, _, _ = load_fashion_mnist()
    source = x_train[np.isin(y_train, SOURCE_CLASSES)]
    mean, std = float(source.mean()), float(source.std())
    x, y = _target_split(False, None)
    model = load_module(SmallResNet(n_classes=5), checkpoint).eval()
    with torch.no_grad():
        scores = torch.cat([model(torch.from_numpy((x[i:i + 1000] - mean) / std).float())
                            for i in range(0, len(x), 1000)])
    accuracy = float((scores.argmax(1).numpy() == y).mean())
    return accuracy, credit_curve(accuracy, W12_FLOOR, W12_FULL)


def _score_week13(notebook: Path, folder: Path) -> tuple[float, float]:
    from grader.checks.milestones_late import W13_FLOOR, W13_FULL, _reversals, exact_match_rate
    from grader.milestone import credit_curve

    namespace = _notebook_namespace(notebook, folder, ("setup", "w13_milestone_code",
                                                       "grade_functions"))
    import torch

    source, lengths, target = _reversals(1000, 20, seed=20261207)
    tokens = namespace["milestone_predict"](str(folder / "milestone_week13.npz"),
                                            torch.from_numpy(source), torch.from_numpy(lengths))
    rate = exact_match_rate(tokens.numpy(), target, lengths)
    return rate, credit_curve(rate, W13_FLOOR, W13_FULL)


def _oracle(week: int) -> tuple[str, float | None]:
    path = REPO_ROOT / "bench" / "results" / f"week{week:02d}.json"
    wanted = {12: "scratch, 10 labels/class",
              13: "exact match, with attention, length 20 (greedy)"}[week]
    try:
        rows = json.loads(path.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return "", None
    for row in rows:
        if row["benchmark"] == wanted:
            return f"bench week{week:02d}: {row['benchmark']}", float(row["value"])
    return "", None


def _run(week: int) -> list[Row]:
    from grader.checks.milestones_late import W12_FULL, W13_FULL

    notebook = NOTEBOOKS[week]
    folder = OUT / f"week{week:02d}"
    source_cached = None
    if week == 12:
        from grader.data import data_dir

        source_cached = (data_dir() / "checkpoints" / "week12-resnet-source-0to4-4ep.pt").exists()
    load_before = _load_average()
    seconds, cpu, command = _execute(notebook, folder)
    load_after = _load_average()
    checkpoint = folder / f"milestone_week{week:02d}.npz"
    load_params(checkpoint)  # refuses a pickle-bearing or unreadable file
    info = checkpoint_info(checkpoint)
    if week == 12:
        value, credit = _score_week12(checkpoint)
        full, metric = W12_FULL, "target test accuracy (classes 5–9, 5,000 images)"
    else:
        value, credit = _score_week13(folder / notebook.name, folder)  # the copy that ran
        full, metric = W13_FULL, "exact match on 1,000 fresh length-20 sequences (greedy)"
    oracle, oracle_value = _oracle(week)
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    load = (f"load average {load_before} before, {load_after} after (1/5/15 min) on a machine "
            "shared with other jobs: the time is an upper bound")
    source_how = "reloaded from the cache" if source_cached else "pre-trained in the notebook"
    extra_run = f"source network {source_how}; " if week == 12 else ""
    common = (f"{WHAT[week]}; `{command}` in a fresh folder (no checkpoint: it trains), "
              f"{extra_run}1 thread; {load}")
    history = {k: v for k, v in info.get("history", {}).items() if k != "loss"}
    losses = info.get("history", {}).get("loss") or [float("nan")]
    progress = (f"validation exact match every 100 steps {history.get('val_exact')}"
                if week == 13 else
                f"training loss {losses[0]:.3f} at the first step, {np.mean(losses[-10:]):.3f} "
                f"over the last 10 (rates {info.get('rates')})")
    if not fast_mode():
        REFERENCE_CHECKPOINTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(checkpoint, REFERENCE_CHECKPOINTS / checkpoint.name)
    extra = {"credit": credit, "train_seconds": info.get("train_seconds"), "history": history,
             "load_before": load_before, "load_after": load_after, "date": date,
             "source_cached": source_cached}
    short = WHAT[week].split(" (")[0]
    return [
        Row(f"milestone: week {week:02d} {short}, {metric} of the solution notebook's checkpoint",
            value, "accuracy", oracle=oracle, oracle_value=oracle_value,
            target=f"≥ {full:.4g} (full marks)", met=value >= full, seconds=seconds,
            notes=f"{common}; {credit:.0%} of the points; {progress}",
            extra=extra),
        Row(f"milestone: week {week:02d} {short}, wall-clock of the whole notebook "
            "(nbconvert --execute, full size)", seconds, "s",
            target=f"≤ {BUDGET[week]:.0f} s on this machine", met=seconds <= BUDGET[week],
            seconds=seconds,
            notes=f"{common}; training alone {info.get('train_seconds')} s (train_or_load's "
                  "measurement)", extra={"date": date}),
        Row(f"milestone: week {week:02d} {short}, CPU time of the whole notebook (kernel + "
            "nbconvert, 1 thread)", cpu, "s",
            target=f"≤ {BUDGET[week]:.0f} s (one core busy: about the wall-clock on a quiet "
                   "2-core machine)", met=cpu <= BUDGET[week], seconds=seconds,
            notes=f"{common}; wall-clock {seconds:.0f} s under that load", extra={"date": date}),
    ]


def _previous_rows(week: int) -> list[Row]:
    """The rows of ``week`` from the stored results (a run that did not rerun that week)."""
    try:
        rows = json.loads(RESULTS.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return []
    fields = set(Row.__dataclass_fields__)
    return [Row(**{k: v for k, v in row.items() if k in fields}) for row in rows
            if row["benchmark"].startswith(f"milestone: week {week:02d} ")]


def milestone_runs() -> list[Row]:
    ran = {week: _run(week) for week in (13, 12) if week in _weeks()}
    # Read the stored rows only now: another run of one week may have finished meanwhile.
    return [row for week in (13, 12) for row in ran.get(week) or _previous_rows(week)]


BENCHMARKS = [milestone_runs]


@contextlib.contextmanager
def solution_definitions(notebook, folder: Path):
    """Inside ``folder`` (the working directory, removed afterwards): the namespace of the
    milestone notebook's code cells as the sandbox runs them (graded cells, ``run`` and
    ``sanity`` left out: nothing trains)."""
    here, namespace = os.getcwd(), {}
    os.chdir(folder)
    try:
        for cell in notebook.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and not meta.get("grade") \
                    and meta.get("grade_id") not in ("run", "sanity"):
                exec(cell.source, namespace)
        yield namespace
    finally:
        os.chdir(here)
        shutil.rmtree(folder, ignore_errors=True)


def scrambled(week: int, seeds: list[int]) -> list[dict]:
    """Figures of the reference checkpoint and of scrambled copies (one per seed), full size."""
    import tempfile
    import time

    import nbformat

    from answers.milestones import reference_checkpoint
    from grader.check import get_exercise, in_framework
    from grader.demo import fill, solution_sources
    from grader.milestone import WEIGHTS_CHECKS, scramble_checkpoint, scrambled_name
    from grader.release import ASSIGNMENTS

    import torch

    os.environ["COURSE_FAST"] = "0"
    torch.set_num_threads(1)  # as in the sandbox
    assignment = {10: "week10-pytorch", 12: "week12-transfer", 13: "week13-seq2seq"}[week]
    exercise = get_exercise(f"w{week}_milestone")
    check = WEIGHTS_CHECKS[exercise.id]
    folder = Path(tempfile.mkdtemp(prefix="scrambled-"))
    name = check.checkpoint
    shutil.copy(reference_checkpoint(name), folder / name)
    notebook = fill(nbformat.read(ASSIGNMENTS / assignment / "milestone.ipynb", as_version=4),
                    solution_sources(assignment, "milestone.ipynb"))
    rows = []
    with solution_definitions(notebook, folder) as namespace:
        predict = in_framework(namespace[exercise.function], exercise.framework)
        figure = __import__("grader.check", fromlist=["_import_attribute"])._import_attribute(
            check.figure)
        for seed in seeds:
            (folder / scrambled_name(name)).write_bytes(scramble_checkpoint(
                (folder / name).read_bytes(), Path(name).suffix, seed))
            case = exercise.cases(seed, hidden=True)[0]
            for path in ((name, scrambled_name(name)) if seed == seeds[0] else
                         (scrambled_name(name),)):
                start = time.perf_counter()
                outputs = predict(path, *case.args[1:])
                seconds = time.perf_counter() - start
                value = figure(case, outputs if isinstance(outputs, tuple) else (outputs,))
                rows.append({"week": week, "seed": seed, "file": path, check.what: value,
                             "inputs": len(case.target), "seconds": round(seconds, 2)})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def grading_time(week: int, fast: bool, seed: int = 5) -> dict:
    """Time the grader's ``w{week}_milestone`` call as the sandbox makes it (the solution
    notebook's definitions, one torch thread; week 12: the grader's fine-tuning run), and
    score it with the grader's metric."""
    import tempfile
    import time

    import nbformat
    import torch

    from grader.check import get_exercise, in_framework
    from grader.demo import fill, solution_sources

    os.environ["COURSE_FAST"] = "1" if fast else "0"
    torch.set_num_threads(1)
    assignment = {12: "week12-transfer", 13: "week13-seq2seq"}[week]
    notebook = fill(nbformat.read(NOTEBOOKS[week], as_version=4),
                    solution_sources(assignment, "milestone.ipynb"))
    exercise = get_exercise(f"w{week}_milestone")
    folder = Path(tempfile.mkdtemp(prefix="grading-time-"))
    if week == 13:
        from answers.milestones import reference_checkpoint

        shutil.copy(reference_checkpoint("milestone_week13.npz"), folder)
    with solution_definitions(notebook, folder) as namespace:
        case = exercise.cases(seed, hidden=True)[0]
        predict = in_framework(namespace[exercise.function], exercise.framework)
        load_before = _load_average()
        start = time.perf_counter()
        outputs = predict(*case.args, **case.kwargs)
        seconds = time.perf_counter() - start
        metric = __import__("grader.check", fromlist=["_import_attribute"])._import_attribute(
            exercise.score)
        credit, message = metric(case, outputs if isinstance(outputs, tuple) else (outputs,))
    return {"week": week, "fast": fast, "seconds": round(seconds, 1), "credit": credit,
            "message": message, "load_before": load_before, "load_after": _load_average(),
            "timeout": exercise.timeout}


if __name__ == "__main__":  # python -m bench.bench_milestones_late scrambled 13 1,2
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "scrambled":
        scrambled(int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")])
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "grading-time":
        print(json.dumps(grading_time(int(sys.argv[2]), fast=sys.argv[3:] == ["--fast"])))
    else:
        sys.exit("usage: python -m bench.bench_milestones_late scrambled WEEK SEEDS | "
                 "grading-time WEEK [--fast]")
