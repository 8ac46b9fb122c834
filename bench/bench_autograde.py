"""Autograding throughput: the course's parallel sandboxed grader vs stock nbgrader.

One run grades the same class (the demo class of Week 1 repeated to ≥ 200 submissions)
twice: with ``python -m grader autograde`` (parallel sandboxes, ``--jobs`` = CPU count) and
with stock ``nbgrader autograde`` (sequential, one kernel per notebook), both with the same
per-cell timeout. It also measures the sandbox's own per-submission overhead: starting a
worker, running one trivial cell and stopping it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Row
from grader.autograde import autograde
from grader.config import REPO_ROOT, fast_mode
from grader.demo import class_notebooks
from grader.release import ASSIGNMENTS, db_url, release
from grader.sandbox import Limits, Sandbox

ASSIGNMENT, NOTEBOOK = "week01-numpy", "numerics.ipynb"
CELL_TIMEOUT = 10


def build_class(work: Path, copies: int) -> int:
    """``copies`` × the demo class in nbgrader's submitted/ layout; returns the count."""
    import nbformat

    count = 0
    for copy in range(copies):
        for student, nb in class_notebooks(ASSIGNMENT, NOTEBOOK).items():
            folder = work / "submitted" / f"{student}-{copy:03d}" / ASSIGNMENT
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / NOTEBOOK)
            count += 1
    return count


def bench_throughput() -> list[Row]:
    copies = 2 if fast_mode() else 25  # 8 students per copy: 200 submissions
    jobs = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ours, stock = Path(tmp) / "ours", Path(tmp) / "stock"
        for work in (ours, stock):
            release([ASSIGNMENT], work=work)
        count = build_class(ours, copies)
        shutil.copytree(ours / "submitted", stock / "submitted")

        start = time.monotonic()
        results = autograde(ASSIGNMENT, ours / "submitted", ours / "autograded", ASSIGNMENTS,
                            db_url=db_url(ours), jobs=jobs, seed=1, progress=False,
                            limits=Limits(cell_timeout=CELL_TIMEOUT))
        ours_s = time.monotonic() - start
        assert len(results) == count

        env = {**os.environ, "COURSE_WORK_DIR": str(stock), "COURSE_FAST": "1"}
        start = time.monotonic()
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force",
                        f"--ExecutePreprocessor.timeout={CELL_TIMEOUT}",
                        "--Execute.timeout=" + str(CELL_TIMEOUT), "--log-level=ERROR"],
                       cwd=REPO_ROOT, env=env, check=False, capture_output=True)
        stock_s = time.monotonic() - start
        graded = len(list((stock / "autograded").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}")))

    ours_rate, stock_rate = 60 * count / ours_s, 60 * graded / stock_s
    rows.append(Row(f"autograde throughput, {count} Week-1 submissions, {jobs} jobs",
                    ours_rate, "submissions/min", "stock `nbgrader autograde` (sequential)",
                    stock_rate, notes=f"ours {ours_s:.0f} s, nbgrader {stock_s:.0f} s "
                    f"({graded} notebooks autograded); cell timeout {CELL_TIMEOUT} s on both; "
                    "the class includes infinite loops, a kernel killer and a tamperer",
                    seconds=ours_s + stock_s))
    speedup = ours_rate / stock_rate
    rows.append(Row("autograde speed-up vs stock nbgrader", speedup, "×",
                    "stock `nbgrader autograde`", 1.0, target="≥ 1.7× on 2 cores",
                    met=speedup >= 1.7))
    return rows


def bench_sandbox_overhead() -> list[Row]:
    samples = []
    for _ in range(3 if fast_mode() else 10):
        start = time.monotonic()
        with Sandbox(Limits()) as sandbox:
            assert sandbox.run_cell("x = 1").ok
        samples.append(time.monotonic() - start)
    with Sandbox(Limits()) as sandbox:
        isolation = sandbox.isolation
    return [Row("sandbox overhead per submission (start, one cell, stop)",
                statistics.median(samples), "s", notes=f"median of {len(samples)}; "
                f"isolation level: {isolation}", seconds=sum(samples))]


def bench_demo() -> list[Row]:
    """``python -m grader demo`` on a fresh work folder: the README's main job, timed here
    rather than asserted in a test (a loaded CI machine must not fail on time)."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "grader", "--work", tmp, "demo"],
                             cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - start
    return [Row("`python -m grader demo` (release all weeks, grade the simulated class)",
                seconds, "s", target="≤ 300 s on 2 cores", met=run.returncode == 0
                and seconds <= 300, seconds=seconds,
                notes=f"exit status {run.returncode}; {os.cpu_count()} CPUs; "
                      f"COURSE_FAST={os.environ.get('COURSE_FAST', '')!r}")]


BENCHMARKS = [bench_sandbox_overhead, bench_throughput, bench_demo]
