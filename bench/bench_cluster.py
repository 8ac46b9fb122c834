"""Grading on a Dask cluster vs the local pool (issue 20), on this machine's loopback.

The same Week-1 class as ``bench_autograde`` (the demo class repeated to 200 submissions) is
graded by the local pool at 1 and 2 jobs and by a real ``dask scheduler`` with 1 and 2
one-slot grading workers (``python -m grader worker``, separate processes and working
directories; their imports done before timing). Also: the engine's own overhead per task (a no-op task through the
cluster vs the thread pool), the finish time with one of two workers killed at 25 % of the
run (every grade recorded once), and a *projection* for 10,000 submissions on 32 one-slot
workers from the measured per-task costs (not a measurement).

On a 2-core machine the curve ends at 2 slots: the machine, not Dask, is the limit; the
scheduler and the workers compete with the sandboxes for the same cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import Row
from bench.bench_autograde import ASSIGNMENT, CELL_TIMEOUT, build_class
from grader.autograde import autograde
from grader.cluster import worker_identity
from grader.config import fast_mode
from grader.gradebook import export_rows
from grader.release import ASSIGNMENTS, db_url, release
from grader.sandbox import Limits

LOADED = "measured on a shared, loaded 2-core machine (an upper bound)"


class LoopbackCluster:
    """``dask scheduler`` + ``workers`` one-slot grading workers on 127.0.0.1."""

    def __init__(self, root: Path, workers: int):
        root.mkdir(parents=True, exist_ok=True)
        file = root / "scheduler.json"
        self.processes = [subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)]
        while not file.exists() or not file.read_text().strip():
            time.sleep(0.1)
        time.sleep(0.2)
        self.address = json.loads(file.read_text())["address"]
        self.workers = []
        for i in range(workers):
            home = root / f"worker{i}"
            home.mkdir()
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "grader", "--work", str(home / "work"), "worker",
                 self.address, "--slots", "1", "--no-nanny", "--name", f"w{i}",
                 "--host", "127.0.0.1"], cwd=home, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True))
        self.processes += self.workers
        from distributed import Client

        with Client(self.address, timeout=120) as client:
            client.wait_for_workers(workers, timeout=300)
            client.run(worker_identity)  # imports happen before timing

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _grade(work: Path, jobs: int = 1, scheduler: str | None = None) -> tuple[float, int]:
    start = time.monotonic()
    results = autograde(ASSIGNMENT, work / "submitted", work / "autograded", ASSIGNMENTS,
                        db_url=db_url(work), jobs=jobs, seed=1, progress=False,
                        limits=Limits(cell_timeout=CELL_TIMEOUT), scheduler=scheduler)
    return time.monotonic() - start, len(results)


def _class(root: Path, name: str) -> tuple[Path, int]:
    work = root / name
    release([ASSIGNMENT], work=work)
    return work, build_class(work, 1 if fast_mode() else 25)


_MEASURED: dict[str, float] = {}


def bench_engine_overhead() -> list[Row]:
    """Per-task cost of the engine alone: a no-op task, cluster (2 workers) vs thread pool."""
    n = 50 if fast_mode() else 500
    from distributed import Client

    with tempfile.TemporaryDirectory() as tmp:
        cluster = LoopbackCluster(Path(tmp), 2)
        try:
            with Client(cluster.address) as client:
                executor = client.get_executor(pure=False)
                list(executor.map(abs, range(20)))  # warm
                start = time.monotonic()
                assert list(executor.map(abs, range(n))) == list(range(n))
                remote = (time.monotonic() - start) / n
        finally:
            cluster.close()
    with ThreadPoolExecutor(2) as pool:
        start = time.monotonic()
        list(pool.map(abs, range(n)))
        local = (time.monotonic() - start) / n
    _MEASURED["engine_s"] = remote
    return [Row("engine overhead per task (a no-op builtin, loopback cluster of 2 workers)",
                remote * 1000, "ms", "ThreadPoolExecutor(2)", local * 1000,
                notes=f"N = {n}; {LOADED}", seconds=(remote + local) * n)]


def bench_throughput() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rates = {}
        for slots in (1, 2):
            work, count = _class(root, f"local{slots}")
            seconds, graded = _grade(work, jobs=slots)
            assert graded == count
            rates[("local", slots)] = (60 * count / seconds, seconds)
            cluster = LoopbackCluster(root / f"cluster{slots}", slots)
            try:
                work, count = _class(root, f"remote{slots}")
                seconds, graded = _grade(work, scheduler=cluster.address)
                assert graded == count
            finally:
                cluster.close()
            rates[("cluster", slots)] = (60 * count / seconds, seconds)
        for slots in (1, 2):
            local_rate, local_s = rates[("local", slots)]
            remote_rate, remote_s = rates[("cluster", slots)]
            overhead = (remote_s - local_s) / local_s
            rows.append(Row(f"cluster throughput, {count} Week-1 submissions, {slots} "
                            f"one-slot worker(s)", remote_rate, "submissions/min",
                            f"local pool, --jobs {slots}", local_rate,
                            target="≤ 10 % slower per slot" if slots == 2 else "",
                            met=(overhead <= 0.10) if slots == 2 else None,
                            notes=f"cluster {remote_s:.0f} s vs local {local_s:.0f} s: "
                                  f"overhead {100 * overhead:+.1f} %; cell timeout "
                                  f"{CELL_TIMEOUT} s; {LOADED}",
                            seconds=remote_s + local_s))
        _MEASURED["slot_s"] = rates[("cluster", 1)][1] / count  # one slot: seconds per notebook
        _MEASURED["efficiency2"] = rates[("cluster", 2)][0] / (2 * rates[("cluster", 1)][0])
    return rows


def bench_worker_killed() -> list[Row]:
    """Two workers, one SIGKILLed when 25 % of the class is recorded."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        work, count = _class(root, "killed")
        cluster = LoopbackCluster(root / "cluster", 2)
        outcome: dict = {}
        try:
            def run() -> None:
                outcome["seconds"], outcome["graded"] = _grade(work, scheduler=cluster.address)

            runner = threading.Thread(target=run, daemon=True)
            start = time.monotonic()
            runner.start()
            while len(list((work / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb"))) < count / 4:
                assert runner.is_alive(), "the run ended before 25 %"
                time.sleep(0.05)
            os.kill(cluster.workers[0].pid, signal.SIGKILL)
            killed_at = time.monotonic() - start
            runner.join()
        finally:
            cluster.close()
        rows_ = [r for r in export_rows(db_url(work)) if r["assignment"] == ASSIGNMENT]
        once = len(rows_) == count == len({r["student"] for r in rows_})
    return [Row(f"finish time, {count} submissions, 2 workers, one killed at 25 %",
                outcome["seconds"], "s", target="every grade recorded once", met=once,
                notes=f"killed after {killed_at:.0f} s; {len(rows_)} rows for {count} "
                      f"submissions; {LOADED}", seconds=outcome["seconds"])]


def bench_projection() -> list[Row]:
    """10,000 submissions on 32 one-slot workers, from the per-task costs measured above."""
    slot_s = _MEASURED["slot_s"] + _MEASURED["engine_s"]
    efficiency = min(1.0, _MEASURED["efficiency2"])
    hours = 10_000 * slot_s / (32 * efficiency) / 3600
    return [Row("PROJECTION (not measured): 10,000 Week-1 submissions on 32 one-slot workers",
                hours * 60, "min", notes=f"= 10,000 × {slot_s:.2f} s per notebook per slot "
                f"(measured, 1 worker, incl. {1000 * _MEASURED['engine_s']:.1f} ms engine) / "
                f"(32 × efficiency {efficiency:.2f}, measured at 2 workers); assumes the "
                "efficiency holds at 32 and a scheduler on its own core", seconds=0.0)]


BENCHMARKS = [bench_engine_overhead, bench_throughput, bench_worker_killed, bench_projection]
