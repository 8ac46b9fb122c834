"""Autograding throughput: the course's parallel sandboxed grader vs stock nbgrader.

One run grades the same class (the demo class of Week 1 repeated to ≥ 200 submissions)
twice: with ``python -m grader autograde`` (parallel sandboxes, ``--jobs`` = CPU count) and
with stock ``nbgrader autograde`` (sequential, one kernel per notebook), both with the same
per-cell timeout. It also measures the sandbox's own per-submission overhead: starting a
worker, running one trivial cell and stopping it, and what issue 19's checks cost per
submission (:func:`bench_check_costs`; alone: ``python -m bench.bench_autograde
check_costs [--write]``). Grading time against the commit before issue 19's checks, A/B
and interleaved: :mod:`bench.ab_autograde`.
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
    rather than asserted in a test (a loaded CI machine must not fail on time). Fast mode
    (the bench's own test) runs Week 1 only: ``tests/test_demo.py`` already runs every
    week, and the two whole demos side by side were the longest part of CI."""
    weeks = [ASSIGNMENT] if fast_mode() else []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "grader", "--work", tmp, "demo", *weeks],
                             cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - start
    command = " ".join(["python -m grader demo", *weeks])
    what = "Week 1 only (fast mode)" if weeks else "all weeks"
    return [Row(f"`{command}` (release {what}, grade the simulated class)",
                seconds, "s", target="≤ 300 s on 2 cores", met=run.returncode == 0
                and seconds <= 300, seconds=seconds,
                notes=f"exit status {run.returncode}; {os.cpu_count()} CPUs; "
                      f"COURSE_FAST={os.environ.get('COURSE_FAST', '')!r}")]


class _Timers:
    """Thread-safe totals of seconds and counts, by name (the grader grades in threads)."""

    def __init__(self):
        import threading

        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, name: str, seconds: float, count: int = 1) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
            self.counts[name] = self.counts.get(name, 0) + count

    def wrap(self, name: str, function, count=lambda result: 1):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            result = function(*args, **kwargs)
            self.add(name, time.perf_counter() - start, count(result))
            return result

        return timed


#: Classes whose checks use what issue 19 added: Week 1 (input comparison, differential
#: search), Week 9 (input comparison, dependency proxies: the RNN/LSTM over a sequence).
COST_ASSIGNMENTS = ("week01-numpy", "week09-rnn")


def bench_check_costs(assignments=None) -> list[Row]:
    """Seconds per submission spent in issue 19's checks, from timers around them.

    Grades the simulated class of each assignment (2 jobs, seed 1, cell timeout 10 s) with
    timers around :func:`grader.check.input_changes` (the comparison of the arguments after
    each call, here), :meth:`grader.sandbox.DependencyServer.serve` (the grader's side of a
    proxy round trip: its answer, computed here) and the sandboxed calls that had proxies
    (the whole call, learner's code and round trips), and :func:`grader.differential.search`
    (the whole search: Hypothesis, the calls in the sandbox, the reference). Timers are wall
    clock in a process grading in 2 threads (waiting for the GIL included).
    """
    import grader.check as check
    import grader.differential as differential
    import grader.sandbox as sandbox
    from grader.demo import write_class

    timers = _Timers()
    saved = (check.input_changes, sandbox.DependencyServer.serve, sandbox.Sandbox.call,
             differential.search)
    check.input_changes = timers.wrap("inputs", check.input_changes)
    sandbox.DependencyServer.serve = timers.wrap("serve", sandbox.DependencyServer.serve)
    original_call = sandbox.Sandbox.call

    def call(self, *args, dependencies=None, **kwargs):
        if dependencies is None or not dependencies.names:
            return original_call(self, *args, dependencies=dependencies, **kwargs)
        start = time.perf_counter()
        try:
            return original_call(self, *args, dependencies=dependencies, **kwargs)
        finally:
            timers.add("proxied calls", time.perf_counter() - start)

    sandbox.Sandbox.call = call
    budgets = []

    def search(*args, **kwargs):
        kwargs["budget"] = budget = differential.Budget()
        budgets.append(budget)
        return saved[3](*args, **kwargs)

    differential.search = timers.wrap("search", search)
    rows = []
    try:
        for assignment in assignments or (COST_ASSIGNMENTS[:1] if fast_mode() else
                                          COST_ASSIGNMENTS):
            timers.seconds.clear(), timers.counts.clear(), budgets.clear()
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                release([assignment], work=work)
                count = len(write_class(assignment, work / "submitted"))
                load = os.getloadavg()[0]
                start = time.monotonic()
                results = autograde(assignment, work / "submitted", work / "autograded",
                                    ASSIGNMENTS, jobs=2, seed=1, progress=False,
                                    require_full=False, limits=Limits(cell_timeout=CELL_TIMEOUT))
                wall = time.monotonic() - start
            per = sum(r.seconds for r in results) / len(results)
            common = (f"{count} simulated submissions of {assignment} (2 jobs, seed 1); "
                      f"grading time {per:.2f} s per submission, class {wall:.0f} s; load "
                      f"average {load:.1f} at the start")
            sec, cnt = timers.seconds, timers.counts
            rows.append(Row(f"issue 19 cost per submission: input-mutation comparison, "
                            f"{assignment}", sec.get("inputs", 0.0) / count, "s",
                            notes=f"{cnt.get('inputs', 0) / count:.0f} comparisons per "
                                  f"submission ({100 * sec.get('inputs', 0.0) / count / per:.2f}"
                                  f" % of its grading time); {common}", seconds=wall))
            if cnt.get("proxied calls"):
                rows.append(Row(f"issue 19 cost per submission: dependency proxies, "
                                f"{assignment}", sec.get("serve", 0.0) / count, "s",
                                notes=f"the grader's answers: {cnt.get('serve', 0) / count:.0f} "
                                      f"round trips per submission; the "
                                      f"{cnt['proxied calls'] / count:.0f} calls with proxies "
                                      f"took {sec['proxied calls'] / count:.2f} s in all "
                                      f"({100 * sec['proxied calls'] / count / per:.1f} % of the "
                                      f"grading time); {common}", seconds=0.0))
            if cnt.get("search"):
                made = sum(b.made for b in budgets)
                rows.append(Row(f"issue 19 cost per submission: differential search, "
                                f"{assignment}", sec["search"] / count, "s",
                                notes=f"{cnt['search'] / count:.1f} searches and {made / count:.0f}"
                                      f" calls of the learner's functions per submission "
                                      f"({100 * sec['search'] / count / per:.1f} % of the grading "
                                      f"time; a search runs only when every fixed case passed); "
                                      f"{common}", seconds=0.0))
    finally:
        (check.input_changes, sandbox.DependencyServer.serve, sandbox.Sandbox.call,
         differential.search) = saved
    return rows


BENCHMARKS = [bench_sandbox_overhead, bench_throughput, bench_demo, bench_check_costs]


if __name__ == "__main__":  # one benchmark alone; --write stores its rows (others kept)
    from bench.ab_autograde import store

    names = [a for a in sys.argv[1:] if not a.startswith("--")] or ["check_costs"]
    for name in names:
        found = globals()[f"bench_{name}"]()
        for row in found:
            print(f"{row.benchmark}: {row.value:.4g} {row.unit} — {row.notes}")
        if "--write" in sys.argv:
            print("wrote", store(found, f"python -m bench.bench_autograde {name} --write"))
