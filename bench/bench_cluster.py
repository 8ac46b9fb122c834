"""Grading on a Dask cluster vs the local pool (issue 20), on this machine's loopback.

``python -m bench cluster [--submissions N]`` (default 200; ``make bench TOPICS="cluster
--submissions N"``). One Week-1 class of N submissions (the demo class of
:func:`grader.demo.write_class`: reference, untouched, three partial, an infinite loop, a
tamperer and a kernel killer, replicated to N students) is graded by four configurations:

* the local pool at ``--jobs 1`` and ``--jobs 2`` (threads driving sandboxes);
* a loopback cluster of 1 and of 2 one-slot workers: a real ``dask scheduler`` process and
  ``python -m grader worker`` processes, each in its own working directory. Every cluster
  (and the local pool) grades a few submissions untimed first, as long-lived workers would
  have; the clusters stay up for the whole run.

The configurations are **interleaved**: the class is cut into ``ROUNDS`` chunks and each
round grades its chunk with every configuration in turn (A B C D, then D C B A, …), so a
slow spell of the shared machine hits them all alike. A configuration's time is the sum of its
chunks; each row's notes give the 1-minute load average seen at the start of its chunks.

Also: the engine's overhead per task (a no-op task's round trip through the cluster vs a
thread pool, and cluster − pool grading time per submission), the finish time of the same
class on 2 workers with one SIGKILLed at 25 % (every grade recorded exactly once), and a
**projection** for 10,000 submissions on 32 one-slot workers from the measured per-task cost
and 2-worker efficiency (a formula, not a measurement).

On a 2-core machine the curve ends at 2 slots: the scheduler, the client and the workers
share the two cores with the sandboxes (and, today, with other people's jobs).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import Row
from bench.bench_autograde import ASSIGNMENT, CELL_TIMEOUT
from grader.autograde import autograde
from grader.cluster import course_fingerprint, worker_identity
from grader.config import fast_mode
from grader.demo import write_class
from grader.gradebook import export_rows
from grader.release import ASSIGNMENTS, db_url, release
from grader.sandbox import Limits

#: ``python -m bench cluster --submissions N`` sets this (default 200; 16 in fast mode).
SUBMISSIONS_ENV = "COURSE_BENCH_SUBMISSIONS"
#: Chunks the class is cut into for interleaving the configurations.
ROUNDS = 4
CONFIGS = [("local", 1), ("cluster", 1), ("local", 2), ("cluster", 2)]
MACHINE = "shared 2-core machine (other engineers' jobs running): an upper bound"


def submissions() -> int:
    default = 16 if fast_mode() else 200
    return int(os.environ.get(SUBMISSIONS_ENV) or default)


def load() -> float:
    return os.getloadavg()[0]


def load_note(samples: list[float]) -> str:
    return (f"load average (1 min) at its chunks' starts {min(samples):.1f}–{max(samples):.1f}"
            if samples else "")


class LoopbackCluster:
    """``dask scheduler`` + ``workers`` one-slot grading workers on 127.0.0.1, each process
    in its own working directory under ``root``."""

    def __init__(self, root: Path, workers: int):
        import atexit

        atexit.register(self.close)  # never left behind, whatever fails
        self.processes: list[subprocess.Popen] = []
        root.mkdir(parents=True, exist_ok=True)
        file = root / "scheduler.json"
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True))
        deadline = time.monotonic() + 300
        while not file.exists() or not file.read_text().strip():
            if self.processes[0].poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the dask scheduler did not start")
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

        try:
            with Client(self.address, timeout=120) as client:
                client.wait_for_workers(workers, timeout=300)
                client.run(worker_identity)  # imports happen before timing: the version
                client.run(exec, "import grader.autograde")  # check and the grading code
        except BaseException:
            self.close()
            raise

    def warm(self, slots: int) -> None:
        """Grade a few submissions untimed, so that every worker has done one real job (its
        lazily imported reference kernels and check code): a class is graded by long-lived
        workers, and the local pool's process has them loaded already."""
        work = _scratch() / f"warm-{Path(self.address).name.replace(':', '-')}"
        students = build_class(work, 2 * slots)
        _grade(work, students, scheduler=self.address)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def build_class(work: Path, count: int) -> list[str]:
    """``count`` submissions in ``work/submitted``: :func:`write_class`'s students, copy by
    copy (``ada-reference-000``, ``ben-untouched-000``, …), so any prefix is a mixed class."""
    release([ASSIGNMENT], work=work)
    template, roles = _template()
    students = []
    for i in range(count):
        copy, role = divmod(i, len(roles))
        student = f"{roles[role]}-{copy:03d}"
        shutil.copytree(template / roles[role], work / "submitted" / student)
        students.append(student)
    return students


_TEMPLATES: list[Path] = []
_SCRATCH: list[Path] = []


def _scratch() -> Path:
    """A folder for this process's benchmarks, removed at exit."""
    if not _SCRATCH:
        import atexit

        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="bench-cluster-")))
        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return _SCRATCH[0]


def _template() -> tuple[Path, list[str]]:
    """:func:`write_class` once per process (in a temporary folder removed at exit)."""
    if not _TEMPLATES:
        folder = _scratch() / "class"
        write_class(ASSIGNMENT, folder)
        _TEMPLATES.append(folder)
    folder = _TEMPLATES[0]
    return folder, sorted(p.name for p in folder.iterdir())


def _grade(work: Path, students: list[str], jobs: int = 1,
           scheduler: str | None = None) -> float:
    start = time.monotonic()
    results = autograde(ASSIGNMENT, work / "submitted", work / "autograded", ASSIGNMENTS,
                        db_url=db_url(work), students=students, jobs=jobs, seed=1,
                        progress=False, limits=Limits(cell_timeout=CELL_TIMEOUT),
                        scheduler=scheduler)
    seconds = time.monotonic() - start
    assert len(results) == len(students), (len(results), len(students))
    return seconds


def recorded_once(work: Path, students: list[str]) -> tuple[bool, int]:
    """Whether the gradebook holds exactly one submission per student (and no other)."""
    rows = [r for r in export_rows(db_url(work)) if r["assignment"] == ASSIGNMENT]
    names = [r["student"] for r in rows]
    return sorted(names) == sorted(students), len(rows)


#: Figures the later benchmarks of this module build on (filled by bench_throughput).
_MEASURED: dict = {}


def bench_throughput() -> list[Row]:
    """Local pool (1, 2 jobs) vs loopback cluster (1, 2 workers), interleaved by chunks."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        count = submissions()
        works, students = {}, []
        for kind, slots in CONFIGS:
            works[kind, slots] = root / f"{kind}{slots}"
            students = build_class(works[kind, slots], count)
        course_fingerprint()  # the version checks compare with the code as it is now
        clusters = {}
        try:
            for slots in (1, 2):
                clusters[slots] = LoopbackCluster(root / f"dask{slots}", slots)
            # The worker-killed run's cluster starts now too: its workers then run the same
            # grading code as the instructor's process even if the checkout changes meanwhile.
            _MEASURED["killed_cluster"] = LoopbackCluster(_scratch() / "dask-killed", 2)
            for cluster in (*clusters.values(), _MEASURED["killed_cluster"]):
                cluster.warm(len(cluster.workers))
            warm = _scratch() / "warm-local"
            _grade(warm, build_class(warm, 2), jobs=2)  # the same for the local pool
            seconds = dict.fromkeys(CONFIGS, 0.0)
            chunks: dict = {config: [] for config in CONFIGS}  # each chunk's seconds
            loads: dict = {config: [] for config in CONFIGS}
            size = -(-count // ROUNDS)
            for r in range(ROUNDS):
                chunk = students[r * size:(r + 1) * size]
                order = CONFIGS if r % 2 == 0 else CONFIGS[::-1]
                for kind, slots in order:
                    if not chunk:
                        continue
                    loads[kind, slots].append(load())
                    chunks[kind, slots].append(_grade(
                        works[kind, slots], chunk, jobs=slots,
                        scheduler=clusters[slots].address if kind == "cluster" else None))
                    seconds[kind, slots] += chunks[kind, slots][-1]
                    print(f"  round {r + 1}/{ROUNDS} {kind} {slots}: {len(chunk)} graded, "
                          f"{seconds[kind, slots]:.0f} s so far", flush=True)
            # The no-op round trip on the 2-worker cluster, while it is up.
            noop_ms, noop_map_ms, noop_loads = _noop(clusters[2].address)
        finally:
            for cluster in clusters.values():
                cluster.close()
        same = {config: recorded_once(works[config], students)[0] for config in CONFIGS}
        gradebooks = {config: [(r["student"], r["score"]) for r in export_rows(db_url(works[
            config])) if r["assignment"] == ASSIGNMENT] for config in CONFIGS}
    identical = all(book == gradebooks["local", 1] for book in gradebooks.values())
    rows = []
    for slots in (1, 2):
        local_s, remote_s = seconds["local", slots], seconds["cluster", slots]
        overhead = (remote_s - local_s) / local_s
        rows.append(Row(
            f"cluster throughput, {count} Week-1 submissions, {slots} one-slot worker(s)",
            60 * count / remote_s, "submissions/min", f"local pool, --jobs {slots}",
            60 * count / local_s, target="≤ 10 % slower than the pool per slot",
            met=overhead <= 0.10,
            notes=f"cluster {remote_s:.0f} s vs local {local_s:.0f} s: {100 * overhead:+.1f} %; "
                  f"interleaved in {ROUNDS} chunks; cell timeout {CELL_TIMEOUT} s; every "
                  f"submission recorded once: {same['cluster', slots] and same['local', slots]}"
                  f"; gradebooks of all four configurations identical: {identical}; cluster "
                  f"{load_note(loads['cluster', slots])}, local {load_note(loads['local', slots])}"
                  f"; {MACHINE}", seconds=remote_s + local_s,
            extra={"chunk_seconds": {"cluster": chunks["cluster", slots],
                                     "local": chunks["local", slots]}}))
    for slots in (1, 2):
        extra = (seconds["cluster", slots] - seconds["local", slots]) / count
        rows.append(Row(
            f"engine overhead per graded submission, {slots} slot(s): (cluster − pool) / N",
            extra * 1000, "ms", notes=f"= ({seconds['cluster', slots]:.1f} s − "
            f"{seconds['local', slots]:.1f} s) / {count}: wall-clock the cluster adds per "
            f"submission (negative: the cluster was faster); "
            f"{MACHINE}", seconds=0.0))
    rows.append(Row("engine overhead per task: a no-op task's round trip (submit → result, one "
                    "at a time), loopback cluster of 2 workers", noop_ms, "ms",
                    "ThreadPoolExecutor(2), same no-op", noop_map_ms[1],
                    notes=f"pipelined (executor.map of many no-ops): cluster "
                          f"{noop_map_ms[0]:.2f} ms per task; {load_note(noop_loads)}; "
                          f"{MACHINE}", seconds=0.0))
    _MEASURED.update(count=count, seconds=seconds, noop_ms=noop_ms, students=students)
    return rows


def _noop(address: str) -> tuple[float, tuple[float, float], list[float]]:
    """Round trip of one no-op task at a time, and per-task cost of many pipelined ones."""
    from distributed import Client

    n = 50 if fast_mode() else 300
    loads = [load()]
    with Client(address) as client:
        executor = client.get_executor(pure=False)
        list(executor.map(abs, range(20)))  # warm
        start = time.monotonic()
        for i in range(n):
            assert executor.submit(abs, -i).result() == i
        round_trip = (time.monotonic() - start) / n
        start = time.monotonic()
        assert list(executor.map(abs, range(n))) == list(range(n))
        pipelined = (time.monotonic() - start) / n
    with ThreadPoolExecutor(2) as pool:
        start = time.monotonic()
        list(pool.map(abs, range(n)))
        local = (time.monotonic() - start) / n
    loads.append(load())
    return round_trip * 1000, (pipelined * 1000, local * 1000), loads


def bench_worker_killed() -> list[Row]:
    """The same class on 2 workers, one SIGKILLed once 25 % of it is recorded."""
    count = _MEASURED.get("count") or submissions()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        work = root / "killed"
        students = build_class(work, count)
        cluster = _MEASURED.pop("killed_cluster", None) or LoopbackCluster(root / "dask", 2)
        outcome: dict = {}
        loads = [load()]
        try:
            def run() -> None:
                try:
                    outcome["seconds"] = _grade(work, students, scheduler=cluster.address)
                except BaseException as error:  # reported below
                    outcome["error"] = error

            runner = threading.Thread(target=run, daemon=True)
            start = time.monotonic()
            runner.start()
            while len(list((work / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb"))) < count / 4:
                assert runner.is_alive(), f"the run ended before 25 %: {outcome}"
                time.sleep(0.05)
            os.kill(cluster.workers[0].pid, signal.SIGKILL)
            killed_at = time.monotonic() - start
            loads.append(load())
            runner.join()
            loads.append(load())
        finally:
            cluster.close()
        if "error" in outcome:
            raise outcome["error"]
        once, recorded = recorded_once(work, students)
        graded = len(list((work / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")))
    undisturbed = _MEASURED.get("seconds", {}).get(("cluster", 2))
    assert once, f"{recorded} gradebook rows for {count} submissions"
    return [Row(f"finish time, {count} submissions, 2 workers, one SIGKILLed at 25 %",
                outcome["seconds"], "s",
                "the same class on 2 workers, none killed (interleaved run above)"
                if undisturbed else "", undisturbed,
                target="every grade recorded exactly once", met=once,
                notes=f"killed after {killed_at:.0f} s; {recorded} gradebook rows and "
                      f"{graded} autograded notebooks for {count} submissions; the survivor "
                      f"grades the rest alone; {load_note(loads)}; {MACHINE}",
                seconds=outcome["seconds"])]


def bench_projection() -> list[Row]:
    """10,000 submissions on 32 one-slot workers, from the per-task costs measured above."""
    if "seconds" not in _MEASURED:
        return []
    count, seconds = _MEASURED["count"], _MEASURED["seconds"]
    task_s = seconds["cluster", 1] / count  # one slot, engine included
    efficiency = min(1.0, seconds["cluster", 1] / (2 * seconds["cluster", 2]))
    minutes = 10_000 * task_s / (32 * efficiency) / 60
    return [Row("PROJECTION (not a measurement): 10,000 Week-1 submissions on 32 one-slot "
                "workers", minutes, "min",
                notes=f"T = 10,000 × t / (32 × E) = 10,000 × {task_s:.2f} s / (32 × "
                      f"{efficiency:.2f}); t = seconds per submission on one cluster slot, "
                      f"engine included ({seconds['cluster', 1]:.0f} s / {count}, measured); "
                      f"E = 2-worker efficiency t1 / (2 t2) (measured, capped at 1); assumes E "
                      "holds at 32 workers, the scheduler and the instructor's process on cores "
                      "of their own, and the same class mix (1 in 8 hits the "
                      f"{CELL_TIMEOUT} s cell timeout)", seconds=0.0)]


BENCHMARKS = [bench_throughput, bench_worker_killed, bench_projection]
